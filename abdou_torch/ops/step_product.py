"""The recurrent product of a sequence kernel's forward: ``out = x @ weight`` at every time
step, with one weight (k, n) and a small x (m rows: the batch), T calls per layer.

A single call packs both operands into the BLAS's blocked layout every time, the whole
weight included. Some BLAS kernels (OpenBLAS's AVX-512 ones) skip the packing for products
under about 10^6 multiply-adds ("small-matrix kernels"); splitting the weight into column
blocks of that size lets a step run on them (``out[:, block] = x @ weight[:, block]``, the
same sums, each output column computed from the same row and column as before). On other
kernels the blocks only add calls. So the split is chosen once per shape and dtype by timing
the candidates on this machine (as cuDNN's benchmark mode does): the whole weight, or
blocks of a width under that size, stored row-major or column-major. The candidates give the
same values up to the rounding of the BLAS (measured in benchmarks/RESULTS.md).
"""
from __future__ import annotations

import time

import numpy as np

from ..compiler import untraced

__all__ = ["StepProduct"]

# (rows, k, n, dtype) -> (width, order): the fastest candidate measured for that shape
_plans: dict[tuple, tuple[int, str]] = {}

# the size (multiply-adds) under which OpenBLAS's small-matrix kernels take a product
_SMALL_PRODUCT = 1_000_000
# the narrowest block tried (narrower ones cost more in calls than they save)
_NARROWEST = 16
# how much faster than the whole weight (candidate 0) a split must be to be chosen
_CLEAR_WIN = 0.85


class StepProduct:
    """``out = x @ weight`` for many small x and one weight (k, n), x of at most ``rows`` rows.

    The weight is copied once, into the layout of the plan for its shape: whole and
    row-major (width n), or column blocks of ``width`` columns, stacked (nb, k, width) when
    they divide n, so that one batched ``np.matmul`` call runs them all (a Python loop over
    the blocks costs a fifth of the gain in calls).
    """

    def __init__(self, weight: np.ndarray, rows: int,
                 layout: tuple[int, str] | None = None) -> None:
        k, n = weight.shape
        width, order = layout or plan(rows, k, n, weight.dtype)
        self.width = width
        self.columns = [slice(start, min(start + width, n)) for start in range(0, n, width)]
        self.stacked = None
        if len(self.columns) > 1 and n % width == 0:  # (nb, k, width), one copy of the weight
            row_stride, column_stride = weight.strides
            blocks = np.lib.stride_tricks.as_strided(  # block j = weight[:, j w:(j + 1) w]
                weight, (len(self.columns), k, width),
                (width * column_stride, row_stride, column_stride), writeable=False)
            if order == "F":
                self.stacked = np.ascontiguousarray(blocks.transpose(0, 2, 1)).transpose(0, 2, 1)
            else:
                self.stacked = np.ascontiguousarray(blocks)
            self.blocks = list(self.stacked)
        else:
            self.blocks = [np.array(weight[:, columns], order="F" if order == "F" else "C")
                           for columns in self.columns]

    def __call__(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """out = x @ weight, written into ``out`` (x.shape[0], n)."""
        if len(self.blocks) == 1:
            return np.matmul(x, self.blocks[0], out=out)
        if self.stacked is not None and out.flags.c_contiguous:
            # out[:, j w:(j + 1) w] = x @ block j, as the j-th matrix of a (nb, rows, w) view
            blocks_view = out.reshape(out.shape[0], len(self.blocks), self.width)
            np.matmul(x, self.stacked, out=blocks_view.transpose(1, 0, 2))
            return out
        for columns, block in zip(self.columns, self.blocks):
            np.matmul(x, block, out=out[:, columns])
        return out


def plan(rows: int, k: int, n: int, dtype) -> tuple[int, str]:
    """The block width and memory order ('C' or 'F') of the fastest candidate for products
    (rows, k) @ (k, n) in ``dtype``, timed on first use and kept for the process."""
    key = (rows, k, n, np.dtype(dtype).str)
    if key not in _plans:
        with untraced():  # the timing is no part of a step being compiled
            _plans[key] = _fastest(rows, k, n, np.dtype(dtype))
    return _plans[key]


def _candidates(rows: int, k: int, n: int) -> list[tuple[int, str]]:
    width = n
    while width > 1 and rows * k * width > _SMALL_PRODUCT:
        width //= 2
    if width >= n or width < _NARROWEST:  # already small, or too many blocks: no split
        return [(n, "C")]
    return [(n, "C"), (width, "C"), (width, "F")]


def _fastest(rows: int, k: int, n: int, dtype: np.dtype) -> tuple[int, str]:
    candidates = _candidates(rows, k, n)
    if len(candidates) == 1:
        return candidates[0]
    generator = np.random.default_rng(0)
    # a new x at every call, as in a sequence (one x, cached, favours other candidates)
    xs = generator.standard_normal((16, rows, k)).astype(dtype)
    weight = generator.standard_normal((k, n)).astype(dtype)
    out = np.empty((rows, n), dtype)
    products = [StepProduct(weight, rows, candidate) for candidate in candidates]
    best = [float("inf")] * len(candidates)
    for _ in range(3):  # interleaved, best of 3 rounds: other processes slow all alike
        for index, product in enumerate(products):
            started = time.perf_counter()
            for x in xs:
                product(x, out)
            best[index] = min(best[index], time.perf_counter() - started)
    fastest = best.index(min(best))
    # a split must win clearly: between near-equal candidates the timing would pick one
    # or the other from run to run, and their sums round differently
    return candidates[fastest] if best[fastest] < _CLEAR_WIN * best[0] else candidates[0]

