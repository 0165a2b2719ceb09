"""The convolution kernels of the CNN benchmark, im2col only against the kernels chosen
now (the wide method where ``_wide_applies``, im2col elsewhere), in one process: forward
(``_conv_matmul``), weight gradient (``Conv2dWeight.forward`` given what the forward
prepared, as in training) and input gradient (``ConvTranspose2d.forward``), for the three
layers of ``abdou_torch.models.CNN``. Minimum over repeats, milliseconds.

    python benchmarks/conv_kernels.py [--batch 64] [--repeats 15] [--threads 1]

The im2col-only column is timed by raising the wide method's channel threshold out of
reach, so both columns run the same code otherwise.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from abdou_torch.ops import conv, conv_wide

# (input shape without the batch, weight shape, padding) of the CNN's three convolutions
LAYERS = [((1, 28, 28), (32, 1, 3, 3), 1),
          ((32, 28, 28), (32, 32, 3, 3), 0),
          ((32, 13, 13), (64, 32, 3, 3), 0)]


def fastest(call, repeats: int) -> float:
    """Milliseconds of the fastest of ``repeats`` calls (the least disturbed one)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def layer_kernels(batch: int, shape, weight_shape, padding: int):
    """name -> a call of one kernel, for one layer."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    weight = rng.standard_normal(weight_shape).astype(np.float32)
    window = conv._Window(weight_shape[2:], (1, 1), ((padding, padding),) * 2, (1, 1), 1)
    y, prepared = conv._conv_matmul(x, weight, window)
    dy = rng.standard_normal(y.shape).astype(np.float32)

    def weight_grad():
        conv.Conv2dWeight().forward(x, dy, window, prepared=prepared)

    calls = {"forward": lambda: conv._conv_matmul(x, weight, window),
             "weight grad": weight_grad}
    if shape[0] > 1:  # the first layer's input needs no gradient
        calls["input grad"] = lambda: conv.ConvTranspose2d().forward(dy, weight, window,
                                                                     shape[1:])
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    wide_threshold = conv_wide._WIDE_MIN_CHANNELS
    totals = {"im2col": 0.0, "chosen": 0.0}
    print(f"batch {args.batch}, {args.threads} BLAS thread(s), min of {args.repeats} (ms)")
    print(f"{'layer':<28}{'kernel':<13}{'im2col':>8}{'chosen':>8}{'ratio':>8}")
    with threadpool_limits(args.threads):
        for shape, weight_shape, padding in LAYERS:
            name = f"{shape[0]}->{weight_shape[0]} {shape[1]}x{shape[2]} pad {padding}"
            times = {}
            for method, threshold in (("im2col", 1 << 30), ("chosen", wide_threshold)):
                conv_wide._WIDE_MIN_CHANNELS = threshold
                for kernel, call in layer_kernels(args.batch, shape, weight_shape,
                                                  padding).items():
                    times[kernel, method] = fastest(call, args.repeats)
                    totals[method] += times[kernel, method]
            conv_wide._WIDE_MIN_CHANNELS = wide_threshold
            for kernel in ("forward", "weight grad", "input grad"):
                if (kernel, "chosen") in times:
                    old, new = times[kernel, "im2col"], times[kernel, "chosen"]
                    print(f"{name:<28}{kernel:<13}{old:8.2f}{new:8.2f}{old / new:8.2f}")
    print(f"{'all':<41}{totals['im2col']:8.2f}{totals['chosen']:8.2f}"
          f"{totals['im2col'] / totals['chosen']:8.2f}")


if __name__ == "__main__":
    main()
