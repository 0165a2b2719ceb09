"""Timing: in-process workloads interleaved A B A B, and whole-process measurements."""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

from .compiled import make_compiled_tiny_ops, make_compiled_training_steps, make_matmul_floor
from .workloads import (BLAS_SIZES, SEED_SIZES, make_model_init, make_random_draws,
                        make_tiny_ops, make_training_steps)

LIBRARIES = ("abdou_torch", "pytorch")


@dataclass
class Row:
    """One workload's samples for both libraries; ``unit`` says what a sample measures."""

    name: str
    unit: str
    samples: dict[str, list[float]]
    goal: float | None = None

    def median(self, library: str) -> float:
        return statistics.median(self.samples[library])

    @property
    def ratio(self) -> float:
        return self.median("abdou_torch") / self.median("pytorch")


def _interleave(callables: dict[str, Callable[[], None]], repeats: int) -> dict[str, list]:
    """Time each callable ``repeats`` times, alternating libraries; one warm-up each."""
    samples: dict[str, list[float]] = {name: [] for name in callables}
    for function in callables.values():
        function()
    for _ in range(repeats):
        for name, function in callables.items():
            started = time.perf_counter()
            function()
            samples[name].append(time.perf_counter() - started)
    return samples


def run_interleaved(repeats: int, threads: int, quick: bool, only: set | None) -> list[Row]:
    import torch
    torch.set_num_threads(threads)
    seed_steps = 100 if quick else 938
    workloads = {
        "a_seed_step": ("s / epoch (938 steps, batch 64)",
                        lambda: make_training_steps(SEED_SIZES, 64, seed_steps),
                        938 / seed_steps, 0.6),
        # issue 14: the same epoch with abdou_torch's step compiled, and its floor: the
        # matrix products of the step alone (in NumPy, preallocated), against PyTorch's step
        "a_seed_step_compiled": ("s / epoch (938 steps, batch 64), ours compiled",
                                 lambda: make_compiled_training_steps(SEED_SIZES, 64,
                                                                      seed_steps),
                                 938 / seed_steps, 0.4),
        "a_matmul_floor": ("s / epoch: ours = the step's matrix products alone",
                           lambda: make_matmul_floor(SEED_SIZES, 64, seed_steps),
                           938 / seed_steps, None),
        "b_blas_step": ("s / 10 steps (784-1024-1024-10, batch 1024)",
                        lambda: make_training_steps(BLAS_SIZES, 1024, 10), 1.0, 1.1),
        "c_tiny_ops": ("ms / op-chain fwd+bwd (4x4)", lambda: make_tiny_ops(200),
                       1000 / 200, 1.0),
        "c_tiny_ops_compiled": ("ms / op-chain fwd+bwd (4x4), ours compiled",
                                lambda: make_compiled_tiny_ops(200), 1000 / 200, 0.5),
        "h_randn": ("ms / randn(2^20) float32, same numbers", lambda: make_random_draws("randn"),
                    1000.0, None),
        "h_rand": ("ms / rand(2^20) float32, same numbers", lambda: make_random_draws("rand"),
                   1000.0, None),
        "i_model_init": ("ms / build CNN + MLP(784, [64, 64, 64, 10])", make_model_init,
                         1000.0, None),
    }
    rows = []
    for name, (unit, make, scale, goal) in workloads.items():
        if only and name not in only:
            continue
        samples = _interleave(make(), repeats)
        rows.append(Row(name, unit, {k: [v * scale for v in s] for k, s in samples.items()},
                        goal))
        print(f"  {name}: done", file=sys.stderr)
    return rows


def _in_fresh_process(kind: str, library: str) -> dict:
    output = subprocess.run([sys.executable, "-m", "benchmarks.processes", kind, library],
                            capture_output=True, text=True, check=True, env=os.environ.copy(),
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return json.loads(output.stdout.strip().splitlines()[-1])


def run_processes(repeats: int, only: set | None) -> list[Row]:
    rows = []
    plans = {"d_import": ("import", "seconds", "s (whole `import`)", repeats, 0.25),
             "e_peak_memory": ("memory", "peak_rss_mib", "MiB peak RSS over one epoch of (a)",
                               1, 1.0),
             "e_memory_growth": ("memory", "epoch_growth_mib", "MiB RSS growth during the epoch",
                                 1, None),
             "f_mnist_epoch": ("epoch", "seconds", "s (default MNIST epoch, data loading incl.)",
                               max(repeats // 2, 1), None),
             # each library alone in its process: interleaved in one process, each one's
             # threads still spin and its data fills the caches when the other starts
             # (measured: PyTorch's next two steps 57 and 49 ms against a steady 29 ms)
             "g_cnn_step": ("cnn", "ms", "ms / CNN training step (batch 64, median of 30)",
                            repeats, 1.5),
             # benchmarks/seq_models.py: the models and their sizes
             "h_lstm_step": ("lstm", "ms", "ms / char-LSTM LM training step (2 x 256, "
                             "batch 32 x 64, median of 15)", repeats, 1.0),
             "i_gpt_step": ("gpt", "ms", "ms / small GPT training step (4 x 128, 4 heads, "
                            "batch 12 x 64, median of 15)", repeats, 1.0),
             # issue 14: abdou_torch's step compiled (PyTorch's the same as above)
             "e_peak_memory_compiled": ("memory_compiled", "peak_rss_mib",
                                        "MiB peak RSS over one epoch of (a), ours compiled",
                                        1, 1.0),
             # both columns abdou_torch: compiled (left) and eager (right), tracemalloc
             "e_traced_peak_compiled_vs_eager": ("traced", "peak_mib",
                                                 "MiB tracemalloc peak over one epoch of (a): "
                                                 "ours compiled / ours eager", 1, 1.0,
                                                 ("compiled", "eager")),
             "e_traced_peak_replays_vs_eager": ("traced", "peak_mib",
                                                "MiB tracemalloc peak over an epoch of (a) "
                                                "after the capture's: ours compiled / ours "
                                                "eager", 1, 1.0, ("replays", "eager_again")),
             "g_cnn_step_compiled": ("cnn_compiled", "ms", "ms / CNN training step (batch 64, "
                                     "median of 30), ours compiled", repeats, 1.0),
             "h_lstm_step_compiled": ("lstm_compiled", "ms", "ms / char-LSTM LM training step, "
                                      "ours compiled", repeats, 1.0),
             "i_gpt_step_compiled": ("gpt_compiled", "ms", "ms / small GPT training step, ours "
                                     "compiled", repeats, 0.8)}
    cache: dict = {}
    for name, (kind, field, unit, count, goal, *columns) in plans.items():
        if only and name not in only:
            continue
        arguments = dict(zip(LIBRARIES, columns[0] if columns else LIBRARIES))
        samples = {library: [] for library in LIBRARIES}
        for _ in range(count):
            for library in LIBRARIES:
                key = (kind, arguments[library], len(samples[library]))
                if key not in cache:
                    cache[key] = _in_fresh_process(kind, arguments[library])
                samples[library].append(cache[key][field])
        rows.append(Row(name, unit, samples, goal))
        print(f"  {name}: done", file=sys.stderr)
    return rows
