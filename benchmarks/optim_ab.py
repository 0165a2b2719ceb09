"""The optimizers of this checkout against those of another one, in one process (the same
tensors, autograd and layers for both), interleaved, best of 9, in thread CPU time, which a
loaded machine disturbs far less than wall-clock time.

    git archive main abdou_torch/optim | tar -x -C /tmp/base
    python benchmarks/optim_ab.py /tmp/base/abdou_torch/optim

Rows: ``step()`` alone with fixed gradients (MLP 784-64-64-64-10, 8 tensors; 32 layers of
128, 64 tensors; 784-1024-1024-10, 6 large tensors), and a whole training step at batch 64.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time

import numpy as np

from abdou_torch import MLP, Tensor
from abdou_torch import optim as current

SEED = [784, 64, 64, 64, 10]
DEEP = [128] * 33
BLAS = [784, 1024, 1024, 10]


def load_baseline(path: str):
    """The other checkout's ``optim`` package, as ``abdou_torch._optim_baseline`` (its
    relative imports resolve to this checkout's tensors)."""
    spec = importlib.util.spec_from_file_location(
        "abdou_torch._optim_baseline", os.path.join(path, "__init__.py"),
        submodule_search_locations=[path])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def optimizer_step(optim, name: str, sizes: list[int], options: dict):
    model = MLP(sizes[0], sizes[1:])
    rng = np.random.default_rng(0)
    for param in model.parameters():
        param.grad = Tensor((rng.standard_normal(param.shape) * 1e-2).astype(np.float32))
    return getattr(optim, name)(model.parameters(), **options).step


def training_step(optim, sizes: list[int], batch: int = 64):
    model = MLP(sizes[0], sizes[1:])
    rng = np.random.default_rng(0)
    x = rng.random((batch, sizes[0]), dtype=np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], batch)]
    optimizer = optim.WAdam(model.parameters(), lr=4e-4, weight_decay=1e-4)

    def step() -> None:
        loss = ((model(Tensor(x)) - Tensor(y)) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def best_cpu(function, calls: int) -> float:
    started = time.thread_time()
    for _ in range(calls):
        function()
    return (time.thread_time() - started) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", help="path of the other checkout's abdou_torch/optim")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    baseline = load_baseline(args.baseline)
    cases = [(f"step {name} (8 tensors)",
              lambda o, n=name, k=options: optimizer_step(o, n, SEED, k), 200)
             for name, options in (("WAdam", dict(lr=4e-4, weight_decay=1e-4)),
                                   ("Adam", dict(lr=1e-3)),
                                   ("SGD", dict(lr=1e-2, momentum=0.9)),
                                   ("RMSprop", dict(lr=1e-3)))]
    cases += [("step WAdam (64 tensors)",
               lambda o: optimizer_step(o, "WAdam", DEEP, dict(lr=1e-3)), 50),
              ("step WAdam (6 large tensors)",
               lambda o: optimizer_step(o, "WAdam", BLAS, dict(lr=1e-3)), 4),
              ("training step, batch 64", lambda o: training_step(o, SEED), 50)]
    print(f"{'':30s} {'baseline':>11s} {'this':>11s} {'this/baseline':>14s}")
    for label, make, calls in cases:
        old, new = make(baseline), make(current)
        old(), new()
        best_old = best_new = float("inf")
        for _ in range(args.rounds):
            best_old = min(best_old, best_cpu(old, calls))
            best_new = min(best_new, best_cpu(new, calls))
        print(f"{label:30s} {best_old * 1e6:9.1f}us {best_new * 1e6:9.1f}us "
              f"{best_new / best_old:14.3f}")


if __name__ == "__main__":
    main()
