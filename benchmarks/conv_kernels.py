"""The convolution kernels of the CNN benchmark, im2col only and the direct methods (wide
or im2col, no Winograd) against the kernels chosen now (Winograd where
``winograd_applies``, else the wide method where ``_wide_applies``, else im2col), in one
process: forward (``_conv_matmul``), weight gradient (``Conv2dWeight.forward`` given what
the forward prepared, as in training), input gradient (``ConvTranspose2d.forward``) and,
where the layer's both gradients go Winograd's way, the two together as training makes
them (``winograd_backward``), for the three layers of ``abdou_torch.models.CNN``.
Minimum over repeats, milliseconds.

    python benchmarks/conv_kernels.py [--batch 64] [--repeats 15] [--threads 1] [--cpu-time]

The other columns are timed by raising the methods' channel thresholds out of reach, so
all columns run the same code otherwise. ``--cpu-time`` times the process's CPU time
(steadier than the wall clock on a loaded machine, with one thread).
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from abdou_torch.ops import conv, conv_wide, winograd

# (input shape without the batch, weight shape, padding) of the CNN's three convolutions
LAYERS = [((1, 28, 28), (32, 1, 3, 3), 1),
          ((32, 28, 28), (32, 32, 3, 3), 0),
          ((32, 13, 13), (64, 32, 3, 3), 0)]


def fastest(call, repeats: int, clock=time.perf_counter) -> float:
    """Milliseconds of the fastest of ``repeats`` calls (the least disturbed one)."""
    times = []
    for _ in range(repeats):
        start = clock()
        call()
        times.append(clock() - start)
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
        if prepared is None and conv._winograd_both(x, dy, weight, window):
            calls["both grads"] = lambda: winograd.winograd_backward(x, dy, weight, window)
    return calls


METHODS = ("im2col", "direct", "chosen")


def _thresholds(method: str) -> tuple[int, int]:
    """(wide method's, Winograd's) channel thresholds for a column."""
    out_of_reach = 1 << 30
    wide = out_of_reach if method == "im2col" else conv_wide._WIDE_MIN_CHANNELS
    return wide, winograd._WINOGRAD_MIN_CHANNELS if method == "chosen" else out_of_reach


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cpu-time", action="store_true")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    clock = time.process_time if args.cpu_time else time.perf_counter
    thresholds = {method: _thresholds(method) for method in METHODS}
    saved = conv_wide._WIDE_MIN_CHANNELS, winograd._WINOGRAD_MIN_CHANNELS
    totals = dict.fromkeys(METHODS, 0.0)
    print(f"batch {args.batch}, {args.threads} BLAS thread(s), min of {args.repeats} (ms, "
          f"{'CPU' if args.cpu_time else 'wall'} time)")
    print(f"{'layer':<28}{'kernel':<13}" + "".join(f"{m:>8}" for m in METHODS)
          + f"{'im2col/chosen':>15}{'direct/chosen':>15}")
    with threadpool_limits(args.threads):
        for shape, weight_shape, padding in LAYERS:
            name = f"{shape[0]}->{weight_shape[0]} {shape[1]}x{shape[2]} pad {padding}"
            times = {}
            for method in METHODS:
                conv_wide._WIDE_MIN_CHANNELS, winograd._WINOGRAD_MIN_CHANNELS = \
                    thresholds[method]
                for kernel, call in layer_kernels(args.batch, shape, weight_shape,
                                                  padding).items():
                    times[kernel, method] = fastest(call, args.repeats, clock)
            conv_wide._WIDE_MIN_CHANNELS, winograd._WINOGRAD_MIN_CHANNELS = saved
            if ("both grads", "chosen") in times:  # training runs the two together
                for method in ("im2col", "direct"):
                    times["both grads", method] = (times["weight grad", method]
                                                   + times["input grad", method])
                del times["weight grad", "chosen"], times["input grad", "chosen"]
            for kernel in ("forward", "weight grad", "input grad", "both grads"):
                if (kernel, "chosen") in times:
                    row = [times[kernel, method] for method in METHODS]
                    for method, value in zip(METHODS, row):
                        totals[method] += value
                    print(f"{name:<28}{kernel:<13}" + "".join(f"{t:8.2f}" for t in row)
                          + f"{row[0] / row[2]:15.2f}{row[1] / row[2]:15.2f}")
    row = [totals[method] for method in METHODS]
    print(f"{'all (as training runs them)':<41}" + "".join(f"{t:8.2f}" for t in row)
          + f"{row[0] / row[2]:15.2f}{row[1] / row[2]:15.2f}")


if __name__ == "__main__":
    main()
