"""DataLoader workers: threads (abdou_torch) against processes (PyTorch), in one run.

    python -m benchmarks.loader_workers [--repeats 5] [--workers 2]

For three kinds of ``__getitem__`` it times one epoch (2048 samples, batch 64; from
``iter(loader)`` to the last batch, so starting the workers counts) and the time to the
first batch, for abdou_torch with 0 and N worker threads and PyTorch with 0 and N worker
processes (fork; started each epoch, and persistent), alternating the loaders within each
repeat. The dataset is the same object for both libraries and returns NumPy data, which
each collates.

* ``arrays``: the usual image pipeline: pad, random crop, flip, normalise a 28 x 28 image
  (small NumPy calls, which hold the GIL most of the time);
* ``python``: pure-Python work on each sample (a list comprehension over 400 numbers);
* ``io``: waiting 0.5 ms per sample, as reading a file does (the GIL is released).

Prints a markdown table of medians; the question it answers is whether worker threads
lose to worker processes where it matters.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

SAMPLES, BATCH = 2048, 64


class Workload:
    """A map-style dataset of ``SAMPLES`` items; ``kind`` picks what ``__getitem__`` does."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        rng = np.random.default_rng(0)
        self.images = rng.integers(0, 256, (SAMPLES, 28, 28), dtype=np.uint8)
        self.labels = rng.integers(0, 10, SAMPLES)

    def __len__(self) -> int:
        return SAMPLES

    def __getitem__(self, index: int):
        label = int(self.labels[index])
        if self.kind == "arrays":
            padded = np.pad(self.images[index], 2)
            top, left = (index * 7) % 5, (index * 3) % 5
            crop = padded[top:top + 28, left:left + 28]
            if index % 2:
                crop = crop[:, ::-1]
            image = (crop.astype(np.float32) / 255 - 0.1307) / 0.3081
            return image[None], label
        if self.kind == "python":
            row = self.images[index, 0].tolist() * 14  # 392 numbers
            features = [((value * 31 + position) % 255) / 255.0
                        for position, value in enumerate(row)]
            return np.asarray(features, dtype=np.float32), label
        time.sleep(0.0005)
        return self.images[index], label


def _abdou_loader(dataset: Workload, workers: int):
    from abdou_torch.data import DataLoader
    return DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers)


def _torch_loader(dataset: Workload, workers: int, persistent: bool = False):
    import torch
    return torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True,
                                       num_workers=workers, persistent_workers=persistent,
                                       multiprocessing_context="fork" if workers else None)


def _epoch(loader) -> tuple[float, float]:
    """(seconds to the first batch, seconds for the whole epoch)."""
    started = time.perf_counter()
    first = None
    count = 0
    for _ in loader:
        if first is None:
            first = time.perf_counter() - started
        count += 1
    assert count == SAMPLES // BATCH
    return first, time.perf_counter() - started


def measure(kind: str, workers: int, repeats: int) -> dict[str, tuple[float, float]]:
    dataset = Workload(kind)
    loaders = {"abdou_torch, 0 workers": _abdou_loader(dataset, 0),
               f"abdou_torch, {workers} threads": _abdou_loader(dataset, workers),
               "PyTorch, 0 workers": _torch_loader(dataset, 0),
               f"PyTorch, {workers} processes": _torch_loader(dataset, workers),
               f"PyTorch, {workers} persistent processes": _torch_loader(dataset, workers,
                                                                          persistent=True)}
    for loader in loaders.values():  # warm up imports and caches
        _epoch(loader)
    times: dict[str, list] = {name: [] for name in loaders}
    for _ in range(repeats):
        for name, loader in loaders.items():
            times[name].append(_epoch(loader))
    return {name: (statistics.median(t[0] for t in runs), statistics.median(t[1] for t in runs))
            for name, runs in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; medians of "
          f"{args.repeats} epochs of {SAMPLES} samples, batch {BATCH}\n")
    print("| `__getitem__` | loader | first batch (ms) | epoch (ms) |")
    print("|---|---|---:|---:|")
    for kind in ("arrays", "python", "io"):
        for name, (first, epoch) in measure(kind, args.workers, args.repeats).items():
            print(f"| {kind} | {name} | {1000 * first:.1f} | {1000 * epoch:.0f} |")


if __name__ == "__main__":
    main()
