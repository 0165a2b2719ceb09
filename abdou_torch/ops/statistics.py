"""Order statistics, running extremes and summaries: median, nanmedian, mode, kthvalue,
quantile, nanquantile, cummax, cummin, logcumsumexp, diff, cov, corrcoef, std_mean,
var_mean, aminmax, cdist, dist, renorm.

Values chosen by position (median, kthvalue, mode, cummax ...) are a ``Gather`` of the
positions found on the array, so the gradient goes back to the element picked, and the
element picked among equal values is PyTorch's (its CPU kernels' orders, replayed below).
``logcumsumexp`` is a primitive (a stable running log-add-exp); the rest is composed of
existing ops.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..tensor import Tensor
from .elementwise import _as_tensor, _values, where
from .movement import Flip
from .reduce import MinMaxResult, amax, amin, mean, std, var
from .shape import Gather, _dim, cat, gather, narrow

__all__ = ["median", "nanmedian", "mode", "kthvalue", "quantile", "nanquantile", "cummax",
           "cummin", "logcumsumexp", "diff", "cov", "corrcoef", "std_mean", "var_mean",
           "aminmax", "cdist", "dist", "renorm"]


def _indices(array: Any) -> Tensor:
    return Tensor._wrap(np.asarray(array, dtype=np.int64), False)


def _picked(op: str, x: Tensor, dim: int, keepdim: bool, pick) -> MinMaxResult:
    """(values, indices) of the element ``pick(row)`` chooses in each row along ``dim``."""
    if x.ndim == 0:
        return MinMaxResult((x.clone(), _indices(0)))
    if x.shape[dim] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {dim} to have non-zero size.")
    rows = np.moveaxis(x.data, dim, -1)
    found = np.array([pick(row) for row in rows.reshape(-1, rows.shape[-1])],
                     dtype=np.int64).reshape(rows.shape[:-1])
    index = np.expand_dims(found, dim)
    values = gather(x, dim, index)
    if not keepdim:
        return MinMaxResult((values.squeeze(dim), _indices(found)))
    return MinMaxResult((values, _indices(index)))


def _stable_rank(row: np.ndarray, rank: int) -> int:
    """The index of the element at ``rank`` in the order by (value, index), NaN last: PyTorch's
    median comparator (``ip[i] < ip[j] || (ip[i] == ip[j] && i < j)``)."""
    return int(np.argsort(row, kind="stable")[rank])


def _median_index(row: np.ndarray, ignore_nan: bool) -> int:
    nans = np.isnan(row) if row.dtype.kind == "f" else np.zeros(row.shape, bool)
    if not ignore_nan and nans.any():
        return int(np.argmax(nans))  # the first NaN
    count = row.size - int(nans.sum())
    return _stable_rank(row, max(count - 1, 0) // 2)


class EvenlyDistributed(Primitive):
    """y = x[i] for any i where x equals the selected value v (a whole-tensor median);
    dx = dy / k at each of the k elements equal to v (NaN: the NaN elements), 0 elsewhere"""

    torch_grad_fn = "MedianBackward0"

    def forward(self, x: np.ndarray, value: np.ndarray) -> np.ndarray:
        self.mask = np.isnan(x) if np.isnan(value) else x == value
        return np.array(value, dtype=x.dtype)

    def backward(self, xp, dy):
        mask = self.mask
        return xp.where(mask, dy / max(int(mask.sum()), 1), np.zeros((), dy.dtype)), None


def _median(op: str, input: Any, dim: Any, keepdim: bool, ignore_nan: bool):  # noqa: A002
    x = _as_tensor(input)
    if x.dtype.kind == "b":
        raise RuntimeError(f"\"{op}_cpu\" not implemented for 'Bool'")
    if dim is None:
        if x.data.size == 0:
            raise RuntimeError(f"{op}() operation does not have an identity for empty input "
                               f"tensor")
        flat = x.data.reshape(-1)
        return EvenlyDistributed.apply(x, flat[_median_index(flat, ignore_nan)])
    dim = _dim(dim, x.ndim, op)
    if x.ndim and x.shape[dim] == 0:
        raise IndexError(f"{op}() cannot compute median for a dimension of size 0 because "
                         f"the operation does not have an identity")
    return _picked(op, x, dim, keepdim, lambda row: _median_index(row, ignore_nan))


def median(input: Any, dim: Any = None, keepdim: bool = False):  # noqa: A002
    """The lower median (the element at rank (n - 1) // 2; NaN if any). Without ``dim`` a
    0-d tensor whose gradient is shared among the elements equal to it; with ``dim``
    ``(values, indices)``, the index of the median among equal values being PyTorch's."""
    return _median("median", input, dim, keepdim, ignore_nan=False)


def nanmedian(input: Any, dim: Any = None, keepdim: bool = False):  # noqa: A002
    """median of the non-NaN elements (NaN where all are)."""
    return _median("nanmedian", input, dim, keepdim, ignore_nan=True)


def _mode_index(row: np.ndarray) -> int:
    """PyTorch's mode: the smallest of the most frequent values, at its last position."""
    order = np.argsort(row, kind="stable")
    ordered = row[order]
    starts = np.flatnonzero(np.concatenate([[True], ordered[1:] != ordered[:-1]]))
    lengths = np.diff(np.append(starts, row.size))
    run = int(np.argmax(lengths))  # the first (smallest) of the longest runs
    return int(order[starts[run] + lengths[run] - 1])


def mode(input: Any, dim: int = -1, keepdim: bool = False) -> MinMaxResult:  # noqa: A002
    """(values, indices): the most frequent value along ``dim`` (the smallest on a tie) and
    the index of its last occurrence."""
    x = _as_tensor(input)
    return _picked("mode", x, _dim(dim, x.ndim, "mode"), keepdim, _mode_index)


def _greater_or_nan(a: Any, b: Any) -> bool:
    return (a != a and b == b) or a > b


def _quick_select(row: np.ndarray, k: int) -> int:
    """The index PyTorch's CPU kthvalue returns: its quickselect (median-of-three pivot,
    Sedgewick's partition) replayed on (value, index) pairs, NaN counting as largest."""
    values, index = row.tolist(), list(range(row.size))

    def swap(i: int, j: int) -> None:
        values[i], values[j] = values[j], values[i]
        index[i], index[j] = index[j], index[i]

    low, high = 0, row.size - 1
    while True:
        if high <= low:
            return index[k]
        if high == low + 1:
            if _greater_or_nan(values[low], values[high]):
                swap(low, high)
            return index[k]
        middle = (low + high) >> 1
        swap(middle, low + 1)
        if _greater_or_nan(values[low + 1], values[high]):
            swap(low + 1, high)
        if _greater_or_nan(values[low], values[high]):
            swap(low, high)
        if _greater_or_nan(values[low + 1], values[low]):
            swap(low + 1, low)
        i, j, pivot = low + 1, high, values[low]
        while True:
            i += 1
            while _greater_or_nan(pivot, values[i]):
                i += 1
            j -= 1
            while _greater_or_nan(values[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(low, j)
        if j <= k:
            low = i
        if j >= k:
            high = j - 1


def kthvalue(input: Any, k: int, dim: int = -1, keepdim: bool = False) -> MinMaxResult:  # noqa: A002
    """(values, indices): the k-th smallest element along ``dim`` (k from 1)."""
    x = _as_tensor(input)
    dim = _dim(dim, x.ndim, "kthvalue")
    if x.data.size == 0:
        raise IndexError("kthvalue(): cannot perform reduction function kthvalue on tensor "
                         "with no elements because the operation does not have an identity")
    size = x.shape[dim] if x.ndim else 1
    if not 1 <= int(k) <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim} "
                           f"(k = {k}, size {size})")
    return _picked("kthvalue", x, dim, keepdim, lambda row: _quick_select(row, int(k) - 1))


# -- quantiles ------------------------------------------------------------------------------
_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(op: str, input: Any, q: Any, dim: Any, keepdim: bool,  # noqa: A002
              interpolation: str, ignore_nan: bool) -> Tensor:
    from .sorting import sort
    x = _as_tensor(input)
    if x.data.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if x.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{op}() interpolation must be one of {', '.join(_INTERPOLATIONS)}. "
                         f"Got {interpolation!r}")
    q_values = _values(q).astype(np.float64) if isinstance(q, Tensor) else np.asarray(
        q, dtype=np.float64)
    if isinstance(q, Tensor) and q.dtype != x.dtype:
        raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
    if q_values.ndim > 1:
        raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
    if np.any((q_values < 0) | (q_values > 1)) or np.any(np.isnan(q_values)):
        raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    if dim is None:
        rows, axis = x.reshape(-1), 0
    else:
        axis = _dim(dim, x.ndim, op)
        rows = x.reshape(1) if x.ndim == 0 else x
    ordered = sort(rows.movedim(axis, -1), -1).values  # (..., n), NaN last
    n = ordered.shape[-1]
    nans = np.isnan(ordered.data)
    q_flat = q_values.reshape(-1).astype(x.data.dtype)
    if ignore_nan:
        counts = (~nans).sum(-1, keepdims=True)
        ranks = np.maximum(q_flat * (counts - 1).astype(x.data.dtype), 0)
    else:
        ranks = np.where(nans.any(-1, keepdims=True), n - 1,
                         q_flat * np.asarray(n - 1, x.data.dtype))
    ranks = np.broadcast_to(ranks, ordered.shape[:-1] + (q_flat.size,))
    if interpolation == "lower":
        ranks = np.floor(ranks)
    elif interpolation == "higher":
        ranks = np.ceil(ranks)
    elif interpolation == "nearest":
        ranks = np.round(ranks)
    below, above = np.floor(ranks).astype(np.int64), np.ceil(ranks).astype(np.int64)
    low, high = gather(ordered, -1, below), gather(ordered, -1, above)
    weights = (ranks - below).astype(x.data.dtype)
    if interpolation == "midpoint":
        weights = np.where(above > below, 0.5, 0).astype(x.data.dtype)
    # PyTorch's lerp: start + w (end - start) for w < 1/2, else end - (end - start)(1 - w)
    result = where(weights < 0.5, low + weights * (high - low), high - (high - low) * (
        1 - weights))  # (..., q)
    result = result.movedim(-1, 0)  # (q, ...)
    if keepdim:
        shape = (1,) * x.ndim if dim is None else tuple(
            1 if i == axis else size for i, size in enumerate(x.shape))
        result = result.reshape((q_flat.size,) + shape)
    return result.reshape(result.shape[1:]) if q_values.ndim == 0 else result


def quantile(input: Any, q: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
             interpolation: str = "linear") -> Tensor:
    """The q-th quantiles along ``dim`` (of all elements without it): the sorted values at
    rank q (n - 1), interpolated; NaN where a slice holds NaN. A 1-D q adds a leading dim."""
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input: Any, q: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
                interpolation: str = "linear") -> Tensor:
    """quantile of the non-NaN values."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)


# -- running extremes and sums --------------------------------------------------------------
def _running_extreme(op: str, input: Any, dim: int, larger: bool) -> MinMaxResult:  # noqa: A002
    """PyTorch's cummax/cummin: the running extreme and the index of its last occurrence;
    a NaN, once met, stays (at the index of the latest NaN)."""
    x = _as_tensor(input)
    if x.ndim == 0:
        _dim(dim, 0, op)
        return MinMaxResult((x.clone(), _indices(0)))
    axis = _dim(dim, x.ndim, op)
    data = np.moveaxis(x.data, axis, 0)
    index = np.zeros(data.shape, dtype=np.int64)
    if data.shape[0]:
        best, where_best = data[0].copy(), np.zeros(data.shape[1:], dtype=np.int64)
        floating = data.dtype.kind == "f"
        for i in range(data.shape[0]):
            value = data[i]
            better = value >= best if larger else value <= best
            if floating:
                better = np.isnan(value) | (~np.isnan(best) & better)
            best = np.where(better, value, best)
            where_best = np.where(better, i, where_best)
            index[i] = where_best
    index = np.moveaxis(index, 0, axis)
    return MinMaxResult((Gather.apply(x, axis, index), _indices(index)))


def cummax(input: Any, dim: int) -> MinMaxResult:  # noqa: A002
    """(values, indices): the running maximum along ``dim``."""
    return _running_extreme("cummax", input, dim, True)


def cummin(input: Any, dim: int) -> MinMaxResult:  # noqa: A002
    """(values, indices): the running minimum along ``dim``."""
    return _running_extreme("cummin", input, dim, False)


class LogCumSumExp(Primitive):
    """y_i = log(exp(x_0) + ... + exp(x_i)) along dim;
    dx_j = sum_{i >= j} dy_i exp(x_j - y_i), computed (as PyTorch) as the difference of
    exp(x + reversed logcumsumexp(log(dy+) - y)) and the same for dy-, so it stays finite"""

    saves_output = True

    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        if x.shape[dim] == 0:
            return x.copy()
        return np.logaddexp.accumulate(x, axis=dim).astype(x.dtype, copy=False)

    def backward(self, xp, dy):
        x, y = xp.value(self.inputs[0]), xp.value(self.output)
        lowest = np.asarray(np.finfo(_values(dy).dtype).min, dtype=_values(dy).dtype)
        g = _values(dy)
        magnitude = xp.where(g < 0, -dy, dy)
        with np.errstate(divide="ignore"):
            log_magnitude = xp.log(magnitude)
        parts = []
        for chosen in (g > 0, g < 0):
            logs = xp.where(chosen, log_magnitude, lowest) - y
            reversed_sum = xp.apply(Flip, xp.apply(
                LogCumSumExp, xp.apply(Flip, logs, (self.dim,)), self.dim), (self.dim,))
            parts.append(xp.exp(reversed_sum + x))
        return parts[0] - parts[1]


def logcumsumexp(input: Any, dim: int) -> Tensor:  # noqa: A002
    """y_i = log(sum_{k <= i} exp(x_k)) along ``dim``, without overflow."""
    x = _as_tensor(input)
    if x.dtype.kind != "f":
        x = x.float()
    if x.ndim == 0:
        _dim(dim, 0, "logcumsumexp")
        return x.clone()
    return LogCumSumExp.apply(x, _dim(dim, x.ndim, "logcumsumexp"))


def diff(input: Any, n: int = 1, dim: int = -1, prepend: Any = None,  # noqa: A002
         append: Any = None) -> Tensor:
    """The n-th forward difference along ``dim``: y_i = x_{i+1} - x_i, n times (logical xor
    for bools), after joining ``prepend`` and ``append``."""
    x = _as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    axis = _dim(dim, x.ndim, "diff")
    if int(n) < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    parts = [_as_tensor(p) for p in (prepend, x, append) if p is not None]
    parts = [p.expand(*[x.shape[d] if d != axis else 1 for d in range(x.ndim)])
             if p.ndim == 0 else p for p in parts]
    if len(parts) > 1:
        x = cat(parts, axis)
    for _ in range(int(n)):
        size = x.shape[axis]
        if size == 0:
            break
        later, earlier = narrow(x, axis, 1, size - 1), narrow(x, axis, 0, size - 1)
        x = Tensor._wrap(later.data ^ earlier.data, False) if x.dtype.kind == "b" else \
            later - earlier
    return x


# -- covariance -----------------------------------------------------------------------------
def cov(input: Any, *, correction: int = 1, fweights: Any = None,  # noqa: A002
        aweights: Any = None) -> Tensor:
    """The covariance matrix of the variables in the rows of ``input`` (observations in the
    columns): C = (X - mean) w (X - mean)^T / (sum(w) - correction) with w the product of
    the frequency and analytic weights (PyTorch's formula for the weighted correction)."""
    x = _as_tensor(input)
    if x.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got "
                           f"an input with {x.ndim} dimensions")
    if x.dtype.kind != "f":
        x = x.float()
    x = x.reshape(1, -1) if x.ndim < 2 else x
    observations = x.shape[1]
    weights = None
    for given, name in ((fweights, "fweights"), (aweights, "aweights")):
        if given is None:
            continue
        w = _as_tensor(given)
        if w.ndim > 1 or w.numel() != observations:
            raise RuntimeError(f"cov(): expected {name} to have one dimension and "
                               f"{observations} elements, got shape {tuple(w.shape)}")
        if name == "fweights" and w.dtype.kind not in "iu":
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        if name == "aweights" and w.dtype.kind != "f":
            raise RuntimeError("cov(): expected aweights to have floating point dtype")
        if np.any(w.data < 0):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        weights = w if weights is None else weights * w
    if weights is None:
        total = observations
        centred = x - x.mean(1, keepdim=True)
        scale = total - correction
        product = centred @ centred.mT
    else:
        weights = weights.to(x.dtype)
        total = weights.sum()
        centred = x - (x * weights).sum(1, keepdim=True) / total
        if correction == 0:
            scale = total
        elif aweights is None:
            scale = total - correction
        else:
            scale = total - correction * (weights * _as_tensor(aweights)).sum() / total
        product = (centred * weights) @ centred.mT
    scale = scale.clamp(min=0) if isinstance(scale, Tensor) else max(scale, 0)
    result = product / scale
    return result.reshape(()) if _as_tensor(input).ndim < 2 else result


def corrcoef(input: Any) -> Tensor:  # noqa: A002
    """Pearson correlation coefficients of the rows: C_ij / sqrt(C_ii C_jj), clipped to
    [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    deviation = c.diagonal().sqrt()
    c = c / deviation.reshape(-1, 1) / deviation.reshape(1, -1)
    return c.clamp(-1, 1)


def std_mean(input: Any, dim: Any = None, *, correction: float = 1,  # noqa: A002
             keepdim: bool = False, unbiased: Any = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over ``dim``."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return (std(input, dim, correction=correction, keepdim=keepdim),
            mean(input, dim, keepdim=keepdim))


def var_mean(input: Any, dim: Any = None, *, correction: float = 1,  # noqa: A002
             keepdim: bool = False, unbiased: Any = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over ``dim``."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    return (var(input, dim, correction=correction, keepdim=keepdim),
            mean(input, dim, keepdim=keepdim))


class AminmaxResult(tuple):
    """``(min, max)`` with names, like ``torch.return_types.aminmax``."""

    @property
    def min(self):  # noqa: A003
        return self[0]

    @property
    def max(self):  # noqa: A003
        return self[1]


def aminmax(input: Any, *, dim: Any = None, keepdim: bool = False) -> AminmaxResult:  # noqa: A002
    """(amin, amax) over ``dim`` (all dims without it)."""
    x = _as_tensor(input)
    if dim is None:
        if x.data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        dims: Any = tuple(range(x.ndim))
    else:
        dims = _dim(dim, x.ndim, "aminmax")
        if x.ndim and x.shape[dims] == 0:
            raise IndexError(f"aminmax(): Expected reduction dim {dims} to have non-zero "
                             f"size.")
    if dim is None and keepdim:
        return AminmaxResult((amin(x, dims, True), amax(x, dims, True)))
    return AminmaxResult((amin(x, dims, keepdim), amax(x, dims, keepdim)))


# -- distances ------------------------------------------------------------------------------
def cdist(x1: Any, x2: Any, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Pairwise p-norm distances: y[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p, the
    batch dims broadcast. The gradient at a zero distance is 0, as PyTorch's."""
    from .norm import vector_norm
    a, b = _as_tensor(x1), _as_tensor(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {a.ndim}D")
    if a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{a.shape[-1]} X2: {b.shape[-1]}")
    if a.dtype.kind != "f" or b.dtype.kind != "f":
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {a.dtype}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    difference = a.unsqueeze(-2) - b.unsqueeze(-3)
    return vector_norm(difference, p, dim=-1)


def dist(input: Any, other: Any, p: float = 2) -> Tensor:  # noqa: A002
    """The p-norm of input - other (broadcast)."""
    from .norm import vector_norm
    return vector_norm(_as_tensor(input) - other, p)


def renorm(input: Any, p: float, dim: int, maxnorm: float) -> Tensor:  # noqa: A002
    """Each slice along ``dim`` whose p-norm exceeds ``maxnorm`` scaled down to it:
    y = x * (maxnorm / (norm + 1e-7) where norm > maxnorm, else 1)."""
    from .norm import vector_norm
    x = _as_tensor(input)
    if x.dtype.kind != "f":
        raise RuntimeError(f"renorm: expected a floating point tensor, got {x.dtype}")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p = {p}")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    axis = _dim(dim, x.ndim, "renorm")
    others = tuple(d for d in range(x.ndim) if d != axis)
    norm = vector_norm(x, p, dim=others, keepdim=True)
    factor = where(norm.data > maxnorm, maxnorm / (norm + 1e-7), np.ones((), x.data.dtype))
    return x * factor

