"""Counting: histc, histogram, bincount (no gradients).

Bins are PyTorch's: ``bins`` equal-width bins between the edges ``linspace(min, max,
bins + 1)`` computed in the input's dtype; a value belongs to the bin whose left edge it
reaches, the last bin includes its right edge, and values outside [min, max] (and NaN)
are not counted.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor
from .elementwise import _as_tensor
from .reduce import MinMaxResult

__all__ = ["histc", "histogram", "bincount"]


class HistogramResult(MinMaxResult):
    """``(hist, bin_edges)`` with names, like ``torch.return_types.histogram``."""

    @property
    def hist(self) -> Tensor:
        return self[0]

    @property
    def bin_edges(self) -> Tensor:
        return self[1]


def _float_input(op: str, input: Any) -> np.ndarray:  # noqa: A002
    x = _as_tensor(input)
    if x.dtype.kind != "f":
        raise NotImplementedError(f"{op}: not implemented for {x.dtype} input; convert it "
                                  f"with .float() first")
    return x.data


def _count(values: np.ndarray, edges: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """How many of ``values`` (or how much of their ``weights``) fall in each bin."""
    values = values.reshape(-1)
    inside = (values >= edges[0]) & (values <= edges[-1])  # False for NaN
    bins = np.searchsorted(edges, values[inside], side="right") - 1
    bins = np.minimum(bins, len(edges) - 2)  # the right edge belongs to the last bin
    picked = None if weights is None else weights.reshape(-1)[inside]
    return np.bincount(bins, weights=picked, minlength=len(edges) - 1)


def _edges(op: str, low: float, high: float, bins: int, dtype: np.dtype) -> np.ndarray:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise RuntimeError(f"{op}: bins must be > 0, but got {bins}")
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"{op}: range of [{low}, {high}] is not finite")
    if low > high:
        raise RuntimeError(f"{op}: max must be larger than min, got min {low} and max {high}")
    if low == high:  # one value: PyTorch widens the range by 1 on each side
        low, high = low - 1, high + 1
    return np.linspace(low, high, int(bins) + 1, dtype=dtype)


def histc(input: Any, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts in ``bins`` equal bins between ``min`` and ``max`` (both 0: the data's
    minimum and maximum), as a tensor of the input's float dtype."""
    data = _float_input("histc", input)
    low, high = float(min), float(max)
    if low == high == 0 and data.size:
        low, high = float(data.min()), float(data.max())
    if low > high:
        raise RuntimeError(f"histc: max must be larger than min, got min {low} and max {high}")
    edges = _edges("histc", low, high, bins, data.dtype)
    return Tensor._wrap(_count(data, edges, None).astype(data.dtype), False)


def histogram(input: Any, bins: Any = 100, *, range: Sequence[float] | None = None,  # noqa: A002
              weight: Any = None, density: bool = False) -> HistogramResult:
    """(hist, bin_edges): counts (or summed ``weight``) in ``bins`` equal bins over
    ``range`` (default: the data's min and max), or in the bins between the given edges
    (a 1-D tensor ``bins``); ``density`` divides by the total and the bin widths."""
    data = _float_input("histogram", input)
    if isinstance(bins, Tensor):
        edges = bins.data.astype(data.dtype)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) < 0):
            raise RuntimeError(f"histogram: bins must be a 1-d tensor of at least 2 "
                               f"increasing edges, got {edges.tolist()}")
    else:
        if range is None:
            low, high = (float(data.min()), float(data.max())) if data.size else (0.0, 0.0)
        else:
            low, high = (float(v) for v in range)
        edges = _edges("histogram", low, high, bins, data.dtype)
    weights = None
    if weight is not None:
        weights = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
        if weights.shape != data.shape:
            raise RuntimeError(f"histogram: weight of shape {weights.shape} must have the "
                               f"input's shape {data.shape}")
    hist = _count(data, edges, weights).astype(data.dtype)
    if density:
        total = hist.sum()
        hist = (hist / (total * np.diff(edges))).astype(data.dtype)
    return HistogramResult((Tensor._wrap(hist, False), Tensor._wrap(edges, False)))


def bincount(input: Any, weights: Any = None, minlength: int = 0) -> Tensor:  # noqa: A002
    """How often each value 0, 1, ..., max occurs in a 1-D non-negative integer tensor
    (int64), or the sum of ``weights`` per value (float; float64 for integer weights)."""
    x = _as_tensor(input)
    if x.dtype.kind not in "iub" or x.dtype == np.bool_:
        raise NotImplementedError(f"bincount: not implemented for {x.dtype} input; it counts "
                                  f"integer values")
    values = x.data
    if values.ndim != 1 or (values.size and values.min() < 0):
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs (got "
                           f"shape {values.shape}"
                           + (f", minimum {values.min()})" if values.size else ")"))
    if minlength < 0:
        raise RuntimeError(f"bincount: minlength should be >= 0, got {minlength}")
    if weights is None:
        return Tensor._wrap(np.bincount(values, minlength=minlength).astype(np.int64), False)
    w = np.asarray(weights.data if isinstance(weights, Tensor) else weights)
    if w.ndim != 1 or w.shape != values.shape:
        raise RuntimeError(f"bincount: weights should be 1-d and have the same length as "
                           f"input (got weights of shape {w.shape} for input of shape "
                           f"{values.shape})")
    dtype = w.dtype if w.dtype.kind == "f" else np.float64
    return Tensor._wrap(np.bincount(values, weights=w, minlength=minlength).astype(dtype), False)
