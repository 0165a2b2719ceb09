"""The benchmark report: environment, a markdown table, and recording into RESULTS.md."""
from __future__ import annotations

import datetime
import io
import os
import platform
from contextlib import redirect_stdout


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas() -> str:
    import numpy as np
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        try:
            config = np.show_config(mode="dicts")
        except TypeError:
            config = None
    if isinstance(config, dict):
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    return "unknown"


def _blas_kernels() -> str:
    """The kernel family OpenBLAS runs (threadpoolctl), and OPENBLAS_CORETYPE if set: some
    machines set it to an older family (AVX2 "Haswell" on an AVX-512 CPU), which halves
    large float32 products while PyTorch's oneDNN is unaffected."""
    import numpy  # noqa: F401 - loads the BLAS that threadpoolctl inspects
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    kernels = sorted({str(pool.get("architecture")) for pool in threadpool_info()
                      if pool.get("internal_api") == "openblas"}) or ["not OpenBLAS"]
    forced = os.environ.get("OPENBLAS_CORETYPE")
    return ", ".join(kernels) + (f" (OPENBLAS_CORETYPE={forced})" if forced else "")


def environment(threads: int) -> str:
    import numpy as np
    import torch
    import abdou_torch
    return "\n".join([
        f"- machine: {platform.machine()}, {_cpu_model()}, {os.cpu_count()} cores",
        f"- Python {platform.python_version()}, NumPy {np.__version__} ({_blas()}), "
        f"PyTorch {torch.__version__}, abdou_torch {abdou_torch.__version__}",
        f"- OpenBLAS kernels: {_blas_kernels()}",
        f"- threads: {threads} (OMP/OPENBLAS_NUM_THREADS and torch.set_num_threads)",
    ])


def markdown_table(rows) -> str:
    lines = ["| workload | unit | abdou_torch median (min-max) | PyTorch median (min-max) "
             "| ratio ours/PyTorch | goal |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        cells = []
        for library in ("abdou_torch", "pytorch"):
            values = row.samples[library]
            cells.append(f"{row.median(library):.4g} ({min(values):.4g}-{max(values):.4g})")
        goal = f"<= {row.goal}" if row.goal is not None else "-"
        lines.append(f"| {row.name} | {row.unit} | {cells[0]} | {cells[1]} | "
                     f"**{row.ratio:.2f}** | {goal} |")
    return "\n".join(lines)


def record(path: str, env: str, table: str, command: str) -> None:
    """Prepend a dated section to ``path`` (newest first)."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    section = f"## {stamp}\n\nCommand: `{command}`\n\n{env}\n\n{table}\n\n"
    header = "# Benchmark results\n\nNewest first. Ratios are ours / PyTorch eager, measured " \
             "in the same run.\n\n"
    previous = ""
    if os.path.exists(path):
        with open(path) as handle:
            previous = handle.read()
        if previous.startswith(header):
            previous = previous[len(header):]
    with open(path, "w") as handle:
        handle.write(header + section + previous)
