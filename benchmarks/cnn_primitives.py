"""Where abdou_torch's CNN training step spends its time: every primitive's forward and
backward timed in place, over a run of steps of ``cnn_step.build``'s model alone.

    python -m benchmarks.cnn_primitives [--steps 30] [--threads 2] [--top 25] [--cpu-time]

Each row is one primitive's method on inputs of one shape, in milliseconds per step. A
convolution's backward calls ConvTranspose2d and Conv2dWeight, and max pooling's backward
calls _MaxPoolScatter: their rows are inside their caller's (marked "in backward").
``--cpu-time`` times with ``time.process_time`` (the process's CPU time): with
``--threads 1`` on a loaded machine, a steadier measure of the work than the wall clock.
"""
from __future__ import annotations

import argparse
import collections
import statistics
import time

NESTED = {("ConvTranspose2d", "forward"), ("Conv2dWeight", "forward"),
          ("_MaxPoolScatter", "forward")}
METHODS = ("forward", "backward", "_backward_fused")


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _timed(cls, name: str, totals: dict, clock):
    method = cls.__dict__[name]

    def run(self, *args, **kwargs):
        shape = next((a.shape for a in args if hasattr(a, "shape")), None)
        started = clock()
        try:
            return method(self, *args, **kwargs)
        finally:
            totals[(cls.__name__, name, shape)] += clock() - started
    return run


def profile(steps: int, clock=time.perf_counter) -> tuple[float, dict]:
    """(median step seconds, {(primitive, method, input shape): seconds over all steps})."""
    from abdou_torch.autograd.function import Function

    from .cnn_step import build
    ours_step, _ = build(64)
    for _ in range(3):
        ours_step()
    totals: dict = collections.defaultdict(float)
    for cls in set(_subclasses(Function)):
        for name in METHODS:
            if name in cls.__dict__:
                setattr(cls, name, _timed(cls, name, totals, clock))
    times = []
    for _ in range(steps):
        started = clock()
        ours_step()
        times.append(clock() - started)
    return statistics.median(times), totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--cpu-time", action="store_true")
    args = parser.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    import torch
    from threadpoolctl import threadpool_limits
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads, user_api="blas"):
        step, totals = profile(args.steps, clock)
    print(f"CNN step, batch 64, {args.threads} threads: median {1e3 * step:.1f} ms "
          f"({'CPU' if args.cpu_time else 'wall'} time; timing every primitive adds a little)")
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:args.top]
    for (primitive, method, shape), seconds in ranked:
        inside = "  (in backward)" if (primitive, method) in NESTED else ""
        print(f"  {primitive:18} {method:16} {str(shape):20} "
              f"{1e3 * seconds / args.steps:6.2f} ms{inside}")
    top_level = sum(s for (p, m, _), s in totals.items() if (p, m) not in NESTED)
    print(f"  all primitives, outermost calls only: {1e3 * top_level / args.steps:.1f} ms")


if __name__ == "__main__":
    main()
