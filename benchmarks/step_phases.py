"""Where workload (a)'s time goes: forward, zero_grad, backward and optimizer step of the
seed recipe's training step (MLP 784-64-64-64-10, MSE, WAdam, batch 64), timed phase by
phase over ``--steps`` steps, then the functions that spend most of it (cProfile).

    python -m benchmarks.step_phases [--steps 500]
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import abdou_torch as at

from .workloads import SEED_SIZES, _batches, _ours_mlp, _weights

PHASES = ("forward", "zero_grad", "backward", "step")


def timed_steps(model, optimizer, xs, ys) -> dict[str, float]:
    """Seconds spent in each phase over the batches ``xs``, ``ys``."""
    spent = dict.fromkeys(PHASES, 0.0)
    for x, y in zip(xs, ys):
        started = time.perf_counter()
        loss = ((model(at.Tensor(x)) - at.Tensor(y)) ** 2).sum()
        forward_done = time.perf_counter()
        optimizer.zero_grad()
        zeroed = time.perf_counter()
        loss.backward()
        backward_done = time.perf_counter()
        optimizer.step()
        finished = time.perf_counter()
        spent["forward"] += forward_done - started
        spent["zero_grad"] += zeroed - forward_done
        spent["backward"] += backward_done - zeroed
        spent["step"] += finished - backward_done
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()
    xs, ys = _batches(SEED_SIZES, 64, args.steps)
    model = _ours_mlp(SEED_SIZES, _weights(SEED_SIZES))
    optimizer = at.WAdam(model.parameters(), lr=4e-4, weight_decay=1e-4)
    timed_steps(model, optimizer, xs, ys)  # warm-up
    spent = timed_steps(model, optimizer, xs, ys)
    total = sum(spent.values())
    print(f"{total / args.steps * 1e6:.0f} us a step: "
          + ", ".join(f"{name} {seconds / total:.0%}" for name, seconds in spent.items()))
    profile = cProfile.Profile()
    profile.runcall(timed_steps, model, optimizer, xs, ys)
    pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
