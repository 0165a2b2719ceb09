"""One CNN training step (forward, cross-entropy, backward, AdamW step), abdou_torch vs
PyTorch eager on the CPU: the same architecture (``abdou_torch.models.CNN``), the same
weights copied by name, the same batches; timed interleaved (A B A B ...), each timed step
after two untimed ones of the same library (``settle_steps``), medians.

    python benchmarks/cnn_step.py [--batch 64] [--repeats 30] [--threads 2] [--cpu-time]
                                  [--profile]

``--cpu-time`` times the process's CPU time (``time.process_time``) instead of the wall
clock: with ``--threads 1`` on a machine that other processes load, it measures the work
each library does rather than the share of the cores it got.

``--profile`` prints where abdou_torch's step spends its time (cProfile, by total time).
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

import numpy as np


def torch_cnn(channels=(32, 32, 64), hidden=128, dropout=0.3, num_classes=10):
    import torch.nn as tnn

    class CNN(tnn.Module):
        def __init__(self):
            super().__init__()
            c1, c2, c3 = channels
            self.features = tnn.Sequential(
                tnn.Conv2d(1, c1, 3, padding=1, bias=False), tnn.BatchNorm2d(c1), tnn.ReLU(),
                tnn.Conv2d(c1, c2, 3, bias=False), tnn.BatchNorm2d(c2), tnn.ReLU(),
                tnn.MaxPool2d(2),
                tnn.Conv2d(c2, c3, 3, bias=False), tnn.BatchNorm2d(c3), tnn.ReLU(),
                tnn.MaxPool2d(2))
            self.classifier = tnn.Sequential(
                tnn.Flatten(), tnn.Linear(c3 * 25, hidden), tnn.ReLU(), tnn.Dropout(dropout),
                tnn.Linear(hidden, num_classes))

        def forward(self, x):
            return self.classifier(self.features(x))

    return CNN()


def cross_entropy(logits, targets):
    """Mean negative log-likelihood of ``targets`` under softmax(logits)."""
    try:
        from abdou_torch.nn import functional as F
        return F.cross_entropy(logits, targets)
    except (ImportError, AttributeError):
        import abdou_torch as at
        log_probs = logits - at.logsumexp(logits, 1, keepdim=True)
        rows = np.arange(logits.shape[0])
        return -log_probs[rows, targets.data].mean()


def build(batch: int, seed: int = 0, compiled: bool = False):
    """(ours_step, theirs_step); ``compiled``: ours through ``abdou_torch.compile``."""
    import torch

    import abdou_torch as at
    from abdou_torch.models import CNN

    at.manual_seed(seed)
    ours = CNN()
    theirs = torch_cnn()
    with torch.no_grad():
        for name, value in ours.state_dict().items():
            theirs.state_dict()[name].copy_(torch.from_numpy(np.array(value.data)))
    # dropout draws differ between the libraries; the work per step does not
    rng = np.random.default_rng(seed)
    images = rng.standard_normal((4, batch, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, (4, batch)).astype(np.int64)
    ours_opt = at.AdamW(ours.parameters(), lr=1e-3, weight_decay=1e-2)
    theirs_opt = torch.optim.AdamW(theirs.parameters(), lr=1e-3, weight_decay=1e-2,
                                   foreach=False)
    counter = {"ours": 0, "theirs": 0}

    def ours_update(x, y):
        ours_opt.zero_grad()
        loss = cross_entropy(ours(x), y)
        loss.backward()
        ours_opt.step()
        return loss

    update = at.compile(ours_update) if compiled else ours_update

    def ours_step():
        i = counter["ours"] = (counter["ours"] + 1) % len(images)
        return float(update(at.Tensor(images[i]), at.Tensor(labels[i])).item())

    x_t, y_t = torch.from_numpy(images), torch.from_numpy(labels)

    def theirs_step():
        i = counter["theirs"] = (counter["theirs"] + 1) % len(images)
        theirs_opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(theirs(x_t[i]), y_t[i])
        loss.backward()
        theirs_opt.step()
        return float(loss.item())

    return ours_step, theirs_step


def settle_steps(step, count: int = 2):
    """``step`` run ``count`` times, untimed, before a library's timed steps.

    Right after the other library's steps, both libraries' first steps are slower
    (measured, medians: PyTorch 57 and 49 ms, then 29 ms; ours 56 ms, then 44 ms). The
    other library's threads still spin for a while after its last parallel call
    (OpenBLAS's for up to 2^28 cycles by default, OpenMP's for a shorter time), and
    caches hold its data. A training run has none of that, so it is not timed.
    """
    def run():
        for _ in range(count):
            step()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu-time", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter

    import torch
    torch.set_num_threads(args.threads)
    ours_step, theirs_step = build(args.batch)
    for _ in range(3):  # warm up both (allocator, BLAS threads, lazy imports)
        ours_step(), theirs_step()
    ours_times, theirs_times = [], []
    for _ in range(args.repeats):
        for step, times in ((ours_step, ours_times), (theirs_step, theirs_times)):
            settle_steps(step)()
            start = clock()
            step()
            times.append(clock() - start)
    ours_ms = 1e3 * statistics.median(ours_times)
    theirs_ms = 1e3 * statistics.median(theirs_times)
    print(f"CNN training step, batch {args.batch}, {args.threads} threads, "
          f"median of {args.repeats} ({'CPU' if args.cpu_time else 'wall'} time):")
    print(f"  abdou_torch {ours_ms:8.2f} ms")
    print(f"  pytorch     {theirs_ms:8.2f} ms")
    print(f"  ratio       {ours_ms / theirs_ms:8.2f}x")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            ours_step()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
