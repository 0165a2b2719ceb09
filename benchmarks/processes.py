"""Whole-process measurements, each run in a fresh interpreter:

    python -m benchmarks.processes import LIB      wall time of ``import LIB``
    python -m benchmarks.processes memory LIB      peak RSS over one epoch of the seed step
    python -m benchmarks.processes epoch LIB       one epoch of the default MNIST run,
                                                   data loading included
    python -m benchmarks.processes cnn LIB         median ms of a CNN training step
    python -m benchmarks.processes lstm LIB        median ms of an LSTM language-model step
    python -m benchmarks.processes gpt LIB         median ms of a small GPT's training step
    python -m benchmarks.processes KIND_compiled LIB   the same, abdou_torch's step compiled
                                                   (memory, cnn, lstm, gpt)
    python -m benchmarks.processes traced MODE     tracemalloc peak over one seed epoch of
                                                   abdou_torch, MODE 'compiled' or 'eager';
                                                   'replays' or 'eager_again': a second epoch

LIB is ``abdou_torch`` or ``pytorch``. Each prints one JSON object.
"""
from __future__ import annotations

import json
import resource
import sys
import time


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def _peak_rss_mib() -> float:
    """The process's RSS high-water mark (VmHWM) since start or the last reset."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak_rss() -> None:
    """Start a new high-water mark at the current RSS (Linux: clear_refs value 5)."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def measure_import(library: str) -> dict:
    started = time.perf_counter()
    __import__("abdou_torch" if library == "abdou_torch" else "torch")
    return {"seconds": time.perf_counter() - started}


def _seed_epoch(library: str, compiled: bool):
    """One epoch (938 steps, batch 64) of the seed MLP, ready to run."""
    from .workloads import SEED_SIZES, make_training_steps
    if compiled and library == "abdou_torch":
        from .compiled import make_compiled_training_steps
        return make_compiled_training_steps(SEED_SIZES, batch=64, steps=938,
                                            libraries=(library,))[library]
    return make_training_steps(SEED_SIZES, batch=64, steps=938, libraries=(library,))[library]


def measure_traced_memory(mode: str) -> dict:
    """tracemalloc's peak of Python and NumPy allocations while abdou_torch trains one seed
    epoch, ``mode`` 'compiled' or 'eager' (the capture is the first step, inside it), or
    'replays' / 'eager_again': the epoch after a first one (compiled: replays only)."""
    import tracemalloc
    steps = _seed_epoch("abdou_torch", mode in ("compiled", "replays"))
    if mode in ("replays", "eager_again"):
        steps()
    tracemalloc.start()
    steps()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"peak_mib": peak / 2**20}


def measure_memory(library: str, compiled: bool = False) -> dict:
    """Peak RSS while training one epoch (938 steps, batch 64) of the seed MLP."""
    steps = _seed_epoch(library, compiled)
    before = _rss_mib()
    _reset_peak_rss()  # the setup's transient peaks are not the epoch's
    steps()
    return {"rss_before_mib": before, "peak_rss_mib": _peak_rss_mib(),
            "epoch_growth_mib": _peak_rss_mib() - before}


def _mnist_arrays():
    """The default run's inputs: normalised float32 (N, 784) images and int64 labels."""
    from abdou_torch.data import MNIST
    from abdou_torch.training.recipes import recipe_for
    recipe = recipe_for("mnist", "mlp")
    train, test = MNIST(train=True), MNIST(train=False)
    return (recipe, recipe.prepare_images(train.data), train.targets,
            recipe.prepare_images(test.data), test.targets)


def measure_epoch(library: str) -> dict:
    started = time.perf_counter()
    recipe, x, y, x_test, y_test = _mnist_arrays()
    run = _epoch_ours if library == "abdou_torch" else _epoch_torch
    accuracy = run(recipe, x, y, x_test, y_test)
    return {"seconds": time.perf_counter() - started, "test_accuracy": accuracy}


def _epoch_ours(recipe, x, y, x_test, y_test) -> float:
    import numpy as np
    import abdou_torch as at
    from abdou_torch.data import DataLoader, TensorDataset
    from abdou_torch.nn import functional as F
    from abdou_torch.optim.lr_scheduler import OneCycleLR
    at.manual_seed(0)
    model = at.MLP(784, [64, 64, 64, 10])
    loader = DataLoader(TensorDataset(x, y), batch_size=recipe.batch_size, shuffle=True,
                        generator=at.Generator(0))
    optimizer = at.WAdam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    scheduler = OneCycleLR(optimizer, max_lr=recipe.lr, total_steps=len(loader))
    for inputs, labels in loader:
        loss = F.cross_entropy(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    with at.no_grad():
        return float(np.mean(model(at.Tensor(x_test)).numpy().argmax(1) == y_test))


def _epoch_torch(recipe, x, y, x_test, y_test) -> float:
    import torch
    from torch.utils.data import DataLoader, TensorDataset
    torch.manual_seed(0)
    sizes = [784, 64, 64, 64, 10]
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
                        batch_size=recipe.batch_size, shuffle=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr,
                                  weight_decay=recipe.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=recipe.lr,
                                                    total_steps=len(loader))
    for inputs, labels in loader:
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    with torch.no_grad():
        return float((model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean())


def measure_cnn_step(library: str, warmup: int = 5, steps: int = 30,
                     compiled: bool = False) -> dict:
    """Median milliseconds of one CNN training step (``cnn_step.build``, batch 64), with
    only this library training in the process, as in a real run."""
    import statistics
    from .cnn_step import build
    ours_step, theirs_step = build(64, compiled=compiled)
    step = ours_step if library == "abdou_torch" else theirs_step
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return {"ms": 1e3 * statistics.median(times)}


def measure_sequence_step(kind: str, library: str, warmup: int = 3, steps: int = 15,
                          compiled: bool = False) -> dict:
    """Median milliseconds of one training step of ``seq_models``' LSTM language model or
    small GPT, with only this library in the process."""
    import statistics
    from .seq_models import build, time_steps
    ours_step, theirs_step = build(kind, compiled=compiled)
    step = ours_step if library == "abdou_torch" else theirs_step
    return {"ms": 1e3 * statistics.median(time_steps(step, warmup, steps))}


MEASUREMENTS = {"import": measure_import, "memory": measure_memory, "epoch": measure_epoch,
                "cnn": measure_cnn_step,
                "lstm": lambda library: measure_sequence_step("lstm", library),
                "gpt": lambda library: measure_sequence_step("gpt", library),
                "memory_compiled": lambda library: measure_memory(library, compiled=True),
                "cnn_compiled": lambda library: measure_cnn_step(library, compiled=True),
                "lstm_compiled": lambda library: measure_sequence_step("lstm", library,
                                                                       compiled=True),
                "gpt_compiled": lambda library: measure_sequence_step("gpt", library,
                                                                      compiled=True),
                "traced": measure_traced_memory}

if __name__ == "__main__":
    kind, library = sys.argv[1], sys.argv[2]
    if library == "pytorch" and kind not in ("import", "traced"):
        import os
        import torch
        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    print(json.dumps(MEASUREMENTS[kind](library)))
