"""Optimizer step and whole training step, abdou_torch vs PyTorch eager, measured in one run.

    python benchmarks/optim_step.py [--steps 1000] [--threads 2]

1. ``optimizer.step()`` alone on the parameters of MLP(784, [64, 64, 64, 10]) with fixed
   random gradients: each optimizer vs its PyTorch twin; then WAdam on a deep narrow
   MLP (32 layers of 128, 64 parameter tensors), where the per-parameter lines (the ones
   that write θ, once per tensor) weigh most.
2. A whole training step at batch 64 (forward, MSE loss, backward, WAdam step).
3. WAdam's step once exp_avg_sq is full of subnormal values (zero gradients after a few
   steps), to show the flush keeps the step at its normal cost.

Each timing is the best of 7 runs, ours and PyTorch's interleaved (less noise from other
processes); ratios are ours / PyTorch (below 1: faster).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from abdou_torch import MLP, Tensor
from abdou_torch import optim

SIZES = (784, [64, 64, 64, 10])
DEEP = (128, [128] * 32)


def best_per_call(fn, calls: int, repeats: int = 5) -> float:
    """Seconds per call: the best of ``repeats`` runs of ``calls`` calls."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def compare(ours, theirs, calls: int, repeats: int = 7) -> tuple[float, float]:
    """Best seconds per call of each, their runs interleaved so that both see the same
    machine load (other processes share these CPUs)."""
    best_ours = best_theirs = float("inf")
    for _ in range(repeats):
        best_ours = min(best_ours, best_per_call(ours, calls, 1))
        best_theirs = min(best_theirs, best_per_call(theirs, calls, 1))
    return best_ours, best_theirs


def models(sizes=SIZES):
    ours = MLP(*sizes)
    sizes = [sizes[0]] + sizes[1]
    layers = []
    for a, b in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    theirs = torch.nn.Sequential(*layers[:-1])
    return ours, theirs


def bench_steps(calls: int) -> list[tuple[str, float, float]]:
    rows = []
    cases = [("WAdam/AdamW", optim.WAdam, torch.optim.AdamW, dict(lr=4e-4, weight_decay=1e-4)),
             ("Adam", optim.Adam, torch.optim.Adam, dict(lr=1e-3)),
             ("SGD momentum", optim.SGD, torch.optim.SGD, dict(lr=1e-2, momentum=0.9)),
             ("RMSprop", optim.RMSprop, torch.optim.RMSprop, dict(lr=1e-3)),
             ("Adagrad", optim.Adagrad, torch.optim.Adagrad, dict(lr=1e-2)),
             ("Adamax", optim.Adamax, torch.optim.Adamax, dict(lr=2e-3)),
             ("NAdam", optim.NAdam, torch.optim.NAdam, dict(lr=2e-3)),
             ("RAdam", optim.RAdam, torch.optim.RAdam, dict(lr=1e-3)),
             ("WAdam, 64 tensors", optim.WAdam, torch.optim.AdamW, dict(lr=1e-3), DEEP)]
    for name, ours_cls, theirs_cls, kwargs, *sizes in cases:
        ours, theirs = models(*sizes)
        rng = np.random.default_rng(0)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            grad = (rng.standard_normal(p.shape) * 1e-2).astype(np.float32)
            p.grad = Tensor(grad)
            q.grad = torch.from_numpy(grad.copy())
        ours_opt = ours_cls(ours.parameters(), **kwargs)
        theirs_opt = theirs_cls(theirs.parameters(), **kwargs)
        rows.append((f"step: {name}", *compare(ours_opt.step, theirs_opt.step, calls)))
    return rows


def bench_training(calls: int, batch: int = 64) -> tuple[str, float, float]:
    ours, theirs = models()
    rng = np.random.default_rng(0)
    x = rng.random((batch, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, batch)]
    ours_opt = optim.WAdam(ours.parameters(), lr=4e-4, weight_decay=1e-4)
    theirs_opt = torch.optim.AdamW(theirs.parameters(), lr=4e-4, weight_decay=1e-4)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def ours_step():
        loss = ((ours(Tensor(x)) - Tensor(y, requires_grad=False)) ** 2).sum()
        ours_opt.zero_grad()
        loss.backward()
        ours_opt.step()

    def theirs_step():
        loss = ((theirs(tx) - ty) ** 2).sum()
        theirs_opt.zero_grad()
        loss.backward()
        theirs_opt.step()

    return ("train step (batch 64)", *compare(ours_step, theirs_step, calls))


def bench_subnormal(calls: int) -> tuple[str, float, float]:
    """WAdam steps with zero gradients after exp_avg_sq was filled with values that decay
    through the subnormal range (ours flushes them; PyTorch keeps them)."""
    ours, theirs = models()
    tiny = np.finfo(np.float32).tiny
    ours_opt = optim.WAdam(ours.parameters(), lr=4e-4, weight_decay=1e-4)
    theirs_opt = torch.optim.AdamW(theirs.parameters(), lr=4e-4, weight_decay=1e-4)
    rng = np.random.default_rng(0)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        grad = (rng.standard_normal(p.shape) * 1e-19).astype(np.float32)  # (1-β2)g² < tiny
        p.grad, q.grad = Tensor(grad), torch.from_numpy(grad.copy())
    ours_opt.step()
    theirs_opt.step()
    def subnormals(optimizer):
        return sum(int(((v > 0) & (v < tiny)).sum())
                   for v in (np.asarray(s["exp_avg_sq"].data) for s in optimizer.state.values()))

    print(f"  (PyTorch's exp_avg_sq holds {subnormals(theirs_opt)} subnormal values; ours "
          f"holds {subnormals(ours_opt)})")
    return ("step with subnormal grads", *compare(ours_opt.step, theirs_opt.step, calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, numpy {np.__version__}, torch threads {args.threads}, "
          f"{args.steps} calls per timing (best of 7, interleaved)")
    rows = bench_steps(args.steps) + [bench_training(max(args.steps // 5, 50)),
                                      bench_subnormal(args.steps)]
    print(f"{'':28s} {'abdou_torch':>12s} {'PyTorch':>12s} {'ratio':>7s}")
    for name, ours, theirs in rows:
        print(f"{name:28s} {ours * 1e6:10.1f}us {theirs * 1e6:10.1f}us {ours / theirs:7.2f}")


if __name__ == "__main__":
    main()
