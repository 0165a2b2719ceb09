"""Reductions: sum, mean, var/std, max/min, argmax/argmin, logsumexp.

``dim`` may be an int, a tuple of ints or None (all dims); ``keepdim`` keeps reduced dims
with size 1. NumPy's spellings ``axis``/``keepdims`` are accepted too.
"""
from __future__ import annotations

import builtins
import math
import warnings
from typing import Any, Sequence

import numpy as np

from ..autograd.function import Primitive
from ..errors import IndexOutOfRangeError, ShapeError
from .elementwise import _as_tensor, exp, log, sqrt, where

_any = builtins.any  # this module defines its own any (the reduction)

__all__ = ["sum", "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin",
           "logsumexp", "sum_to", "prod", "all", "any"]


def normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes (all axes for None, and for an empty
    tuple, as PyTorch's sum/mean/var read ``dim=()``)."""
    if dim is None or isinstance(dim, (tuple, list)) and not dim:
        return tuple(range(ndim))
    if isinstance(dim, (bool, np.bool_)):
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    if isinstance(dim, (int, np.integer)):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
    else:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    normalized = []
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor of {ndim} dims")
        normalized.append(int(d) % builtins.max(ndim, 1))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: dim {dim!r} repeats a dimension")
    return tuple(sorted(normalized)) if ndim else ()


def _resolve(dim: Any, keepdim: bool, axis: Any, keepdims: Any) -> tuple[Any, bool]:
    """Accept NumPy's axis/keepdims as aliases for dim/keepdim."""
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)


def _kept_shape(shape: Sequence[int], dims: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Primitive):
    """y = sum of x over dims;  dx = dy broadcast back over the summed dims"""

    saves_inputs = False

    @property
    def grad_fn_name(self) -> str:
        """SumBackward0 for a sum over everything, SumBackward1 over chosen dims."""
        everything = len(self.dims) == len(self.shape) and not self.keepdim
        return "SumBackward0" if everything else "SumBackward1"

    def forward(self, x, dims: tuple[int, ...], keepdim: bool):
        self.dims, self.keepdim, self.shape = dims, keepdim, x.shape
        return np.asarray(x.sum(axis=dims, keepdims=keepdim))

    def backward(self, xp, dy):
        # a full reduction's 0-d gradient broadcasts as is; otherwise put the dims back
        if not self.keepdim and len(self.dims) != len(self.shape):
            dy = dy.reshape(_kept_shape(self.shape, self.dims))
        return xp.expand(dy, self.shape)


class SumTo(Primitive):
    """y = x summed down to ``shape`` (undoing broadcasting);  dx = dy expanded to x's shape"""

    name = "sum_to"
    saves_inputs = False

    def forward(self, x, shape: tuple[int, ...]):
        self.shape = x.shape
        return sum_to_shape(x, shape)

    def backward(self, xp, dy):
        return xp.expand(dy, self.shape)


def expand_array(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` broadcast to ``shape``. One value filling a small array is written out: that
    costs less than building a broadcast view (NumPy's argument checks dominate there)."""
    if x.size == 1 and math.prod(shape) <= 4096:
        out = np.empty(shape, dtype=x.dtype)
        out[...] = x
        return out
    return np.broadcast_to(x, shape)


def sum_to_shape(x: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``x`` summed over the dims that broadcasting ``shape`` to ``x.shape`` added or
    stretched."""
    lead = x.ndim - len(shape)
    if lead < 0 or _any(s not in (1, n) for s, n in zip(shape, x.shape[lead:])):
        raise ShapeError(f"sum_to: cannot reduce shape {tuple(x.shape)} to {tuple(shape)}")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and x.shape[lead + i] != 1)
    return np.add.reduce(x, axis=axes).reshape(shape) if axes else x.reshape(shape)


class Amax(Primitive):
    """y = max of x over dims;  dx = dy * [x == y] / (number of maxima), as torch.amax (NaN
    where y is NaN, since no x equals it).

    ``evenly``: the whole-tensor ``max()``/``min()`` instead, whose gradient PyTorch
    distributes evenly over the elements equal to y, NaN counting as equal to NaN, and
    selects rather than multiplies (an infinite dy gives 0, not NaN, elsewhere).
    """

    def forward(self, x, dims: tuple[int, ...], keepdim: bool, largest: bool,
                evenly: bool = False):
        if x.size == 0 and (not x.ndim or _any(x.shape[d] == 0 for d in dims)):
            raise ShapeError(f"{'amax' if largest else 'amin'}: cannot reduce an empty dim")
        self.dims, self.keepdim, self.largest, self.evenly = dims, keepdim, largest, evenly
        reduce = np.max if largest else np.min
        return np.asarray(reduce(x, axis=dims, keepdims=keepdim))

    def backward(self, xp, dy):
        x = self.inputs[0].data
        reduce = np.max if self.largest else np.min
        y = reduce(x, axis=self.dims, keepdims=True)
        hits = x == y
        if self.evenly:
            hits |= np.isnan(x) & np.isnan(y)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = (hits / np.sum(hits, axis=self.dims, keepdims=True)).astype(dy.dtype)
        if not self.keepdim:
            dy = dy.reshape(_kept_shape(x.shape, self.dims))
        if self.evenly:
            return xp.where(hits, dy * share, np.zeros((), dtype=dy.dtype))
        return dy * share


class Amin(Amax):
    """y = min of x over dims (Amax with ``largest=False``)"""


class Prod(Primitive):
    """y = product of x over dims;  dx = dy * y / x (computed without dividing by zero)

    Without zeros in x the formula is written with Tensor ops, so that it is differentiable
    in turn (create_graph); with zeros, the product of the other elements is exact but
    constant for a second derivative.
    """

    def forward(self, x, dims: tuple[int, ...], keepdim: bool):
        self.dims, self.keepdim = dims, keepdim
        return np.asarray(np.prod(x, axis=dims, keepdims=keepdim))

    def backward(self, xp, dy):
        x = self.inputs[0]
        if not self.keepdim:
            dy = dy.reshape(_kept_shape(x.shape, self.dims))
        if np.all(x.data != 0):
            x = xp.value(x)
            return dy * (xp.apply(Prod, x, self.dims, True) / x)
        # product of all the other elements, exact even where x has zeros
        moved = np.moveaxis(x.data, self.dims, range(-len(self.dims), 0))
        flat = moved.reshape(moved.shape[:moved.ndim - len(self.dims)] + (-1,))
        left = np.cumprod(np.concatenate([np.ones_like(flat[..., :1]), flat[..., :-1]], -1), -1)
        right = np.flip(np.cumprod(np.concatenate(
            [np.ones_like(flat[..., :1]), np.flip(flat, -1)[..., :-1]], -1), -1), -1)
        others = np.moveaxis((left * right).reshape(moved.shape),
                             range(-len(self.dims), 0), self.dims)
        return dy * others


def sum(input: Any, dim: Any = None, keepdim: bool = False, dtype: Any = None, *,  # noqa: A001
        axis: Any = None, keepdims: Any = None):
    """Sum over ``dim`` (all dims when None)."""
    x = _as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    elif x.data.dtype.kind in "bui":
        x = x.to(np.int64)
    if axis is not None or keepdims is not None:
        dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    dims = tuple(range(x.data.ndim)) if dim is None else normalize_dims(dim, x.ndim, "sum")
    return Sum.apply(x, dims, bool(keepdim))


def sum_to(input: Any, shape: Sequence[int]):
    """Sum ``input`` down to ``shape``, the inverse of broadcasting it to its own shape."""
    return SumTo.apply(_as_tensor(input), tuple(shape))


def _count(shape: Sequence[int], dims: tuple[int, ...]) -> int:
    return int(np.prod([shape[d] for d in dims])) if dims else 1


def mean(input: Any, dim: Any = None, keepdim: bool = False, dtype: Any = None, *,
         axis: Any = None, keepdims: Any = None):
    """Arithmetic mean over ``dim``: sum / count (a composite)."""
    x = _as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise TypeError(f"mean: expected a floating tensor, got {x.dtype}; pass dtype=")
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    dims = normalize_dims(dim, x.ndim, "mean")
    count = _count(x.shape, dims)
    return Sum.apply(x, dims, keepdim) * (1.0 / count if count else float("nan"))


def var(input: Any, dim: Any = None, *, correction: float = 1, keepdim: bool = False,
        unbiased: bool | None = None, axis: Any = None, keepdims: Any = None):
    """Variance: sum((x - mean)^2) / (N - correction); PyTorch's default correction is 1."""
    x = _as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"var: expected a floating tensor, got {x.dtype}; convert it with "
                        f".float() first")
    if unbiased is not None:
        correction = 1 if unbiased else 0
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    dims = normalize_dims(dim, x.ndim, "var")
    variance = _variance("var", x, dims, correction, keepdim, whole=dim is None)
    if _squares_overflowed(variance, x, dims, correction):
        variance = _variance("var", x.to(np.float64), dims, correction, keepdim).to(x.dtype)
    return variance


def _squares_overflowed(variance: Any, x: Any, dims: tuple, correction: float) -> bool:
    """Whether a float32 or float16 variance of finite values overflowed in its squares
    (|x - mean| above 1.8e19 in float32): PyTorch accumulates those in double (float), so
    its variance, and above all its std, can be finite where ours was not. Checked only
    after a non-finite result, so the common case pays one isfinite."""
    return x.dtype != np.float64 and _count(x.shape, dims) - correction > 0 and \
        not np.isfinite(variance.data).all() and np.isfinite(x.data).all()


def _variance(op: str, x: Any, dims: tuple, correction: float, keepdim: bool,
              whole: bool = False):
    """sum((x - mean)^2) / (N - correction); with no degree of freedom left (N <=
    correction) inf, or NaN for a zero sum, with PyTorch's warning and its gradient
    (``DegenerateVariance``; ``whole``: no dim was given)."""
    freedom = _count(x.shape, dims) - correction
    if freedom <= 0:
        warnings.warn(f"{op}(): degrees of freedom is <= 0. Correction should be strictly "
                      f"less than the reduction factor (input numel divided by output "
                      f"numel).", stacklevel=3)
        return DegenerateVariance.apply(x, dims, freedom, keepdim, whole or x.ndim == 0)
    centered = x - mean(x, dims, keepdim=True)
    squares = Sum.apply(centered * centered, dims, keepdim)
    return squares * (1.0 / freedom)


class DegenerateVariance(Primitive):
    """The variance when the correction leaves no degree of freedom (f = N - correction
    <= 0): y = sum((x - mean)^2) / 0, inf (NaN where the sum is 0); PyTorch's gradient:

    dx = 2 dy (x - mean) / f                over given dims (f = 0: inf, f < 0: finite),
    dx = dy * (NaN where x = mean, else inf) over all dims (no dim given).
    """

    name = "var"
    torch_grad_fn = "VarBackward0"

    def forward(self, x: np.ndarray, dims: tuple, freedom: float, keepdim: bool,
                whole: bool) -> np.ndarray:
        self.dims, self.freedom, self.keepdim, self.whole = dims, freedom, keepdim, whole
        centered = x - np.mean(x, axis=dims, keepdims=True)
        squares = np.sum(centered * centered, axis=dims, keepdims=keepdim)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(squares / np.zeros((), dtype=x.dtype))

    def backward(self, xp, dy):
        x = xp.value(self.inputs[0])
        x_data = self.inputs[0].data
        if not self.keepdim:
            dy = dy.reshape(_kept_shape(x_data.shape, self.dims))
        with np.errstate(invalid="ignore"):  # 0 * inf: NaN is the answer here
            if self.whole:
                at_mean = x_data == np.mean(x_data)
                return dy * np.where(at_mean, np.nan, np.inf).astype(x_data.dtype)
            count = _count(x_data.shape, self.dims)
            centered = x - xp.sum(x, self.dims, keepdim=True) / count
            scale = 2.0 / self.freedom if self.freedom else np.inf
            return dy * centered * np.asarray(scale, dtype=x_data.dtype)


def std(input: Any, dim: Any = None, *, correction: float = 1, keepdim: bool = False,
        unbiased: bool | None = None, axis: Any = None, keepdims: Any = None):
    """Standard deviation: sqrt(var); its gradient is 0 where it is 0 (PyTorch's
    subgradient, where dy / (2 sqrt(var)) would be inf, and 0 * inf NaN further back)."""
    x = _as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"std: expected a floating tensor, got {x.dtype}; convert it with "
                        f".float() first")
    if unbiased is not None:
        correction = 1 if unbiased else 0
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    dims = normalize_dims(dim, x.ndim, "std")
    variance = _variance("std", x, dims, correction, keepdim, whole=dim is None)
    if _squares_overflowed(variance, x, dims, correction):  # the root may fit the dtype
        variance = _variance("std", x.to(np.float64), dims, correction, keepdim)
        return _root(variance).to(x.dtype)
    return _root(variance)


def _root(variance: Any):
    """sqrt(variance) with the gradient 0 where it is 0."""
    zero = variance.data == 0
    if not zero.any():
        return sqrt(variance)
    root = sqrt(where(zero, np.ones((), dtype=variance.dtype), variance))
    return where(zero, np.zeros((), dtype=variance.dtype), root)


def amax(input: Any, dim: Any = (), keepdim: bool = False, *, axis: Any = None,  # noqa: A002
         keepdims: Any = None):
    """Maximum over ``dim`` (all dims for () or None); ties share the gradient evenly."""
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    x = _as_tensor(input)
    return Amax.apply(x, _extreme_dims("amax", x, dim), keepdim, True)


def amin(input: Any, dim: Any = (), keepdim: bool = False, *, axis: Any = None,  # noqa: A002
         keepdims: Any = None):
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    x = _as_tensor(input)
    return Amin.apply(x, _extreme_dims("amin", x, dim), keepdim, False)


def _extreme_dims(op: str, x: Any, dim: Any) -> tuple[int, ...]:
    """The dims of an amax/amin, which must not be empty (PyTorch's two errors)."""
    every = dim is None or isinstance(dim, (tuple, list)) and not dim
    dims = normalize_dims(None if every else dim, x.ndim, op)
    if x.data.size == 0:
        if every:
            raise ShapeError(f"{op}(): cannot reduce the empty tensor of shape "
                             f"{tuple(x.shape)} over all dims: specify the reduction dim")
        empty = [d for d in dims if x.shape[d] == 0]
        if empty:
            raise IndexOutOfRangeError(f"{op}(): cannot reduce over dim {empty[0]}, which is "
                                       f"empty (input shape {tuple(x.shape)})")
    return dims


def _arg_reduce(name: str, compute, input: Any, dim: Any, keepdim: bool):
    """The index of the extreme along ``dim`` (of the flattened tensor for None: shape
    (1, ..., 1) with keepdim), the first NaN if any; an empty tensor only reduces along a
    dim that is not empty."""
    from ..tensor import Tensor
    x = _as_tensor(input)
    if dim is None:
        if x.data.size == 0:
            raise IndexOutOfRangeError(f"{name}(): cannot reduce the empty tensor of shape "
                                       f"{tuple(x.shape)} over all dims: specify the "
                                       f"reduction dim")
        index = np.asarray(compute(x.data), dtype=np.int64)
        return Tensor._wrap(index.reshape((1,) * x.ndim if keepdim else ()), False)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be an int, got {dim!r}")
    (axis,) = normalize_dims(dim, x.ndim, name) or (0,)
    if x.ndim and x.shape[axis] == 0:
        raise IndexOutOfRangeError(f"{name}(): cannot reduce over dim {axis}, which is empty "
                                   f"(input shape {tuple(x.shape)})")
    indices = compute(x.data, axis=axis, keepdims=keepdim) if x.ndim else np.asarray(0)
    return Tensor._wrap(np.asarray(indices, dtype=np.int64), False)


def _no_bool(name: str, input: Any) -> None:
    if getattr(input, "dtype", None) == np.bool_:
        raise RuntimeError(f"{name}(): does not support bool input")


def argmax(input: Any, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
           axis: Any = None, keepdims: Any = None):
    """Index of the largest value (of the flattened tensor when dim is None)."""
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    _no_bool("argmax", input)
    return _arg_reduce("argmax", np.argmax, input, dim, keepdim)


def argmin(input: Any, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
           axis: Any = None, keepdims: Any = None):
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    _no_bool("argmin", input)
    return _arg_reduce("argmin", np.argmin, input, dim, keepdim)


class MinMaxResult(tuple):
    """``(values, indices)`` with names, like PyTorch's ``torch.return_types.max``."""

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]


def _extreme(name: str, input: Any, dim: Any, keepdim: bool, largest: bool):
    from .shape import gather
    from ..tensor import Tensor
    x = _as_tensor(input)
    if dim is None:
        if x.data.size == 0:
            raise ShapeError(f"{name}(): cannot reduce the empty tensor of shape "
                             f"{tuple(x.shape)} over all dims: specify the reduction dim")
        return Amax.apply(x, tuple(range(x.ndim)), False, largest, True)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be an int, got {dim!r}")
    dim = int(dim)  # an np.integer too
    if x.ndim == 0:  # a 0-d tensor is its own extreme, at index 0
        normalize_dims(dim, 0, name)
        values = amax(x) if largest else amin(x)
        return MinMaxResult((values, Tensor._wrap(np.zeros((), dtype=np.int64), False)))
    # bools have max/min with indices in PyTorch, though no argmax/argmin: ranked as uint8
    ranked = x.to(np.uint8) if x.dtype == np.bool_ else x
    indices = _arg_reduce(name, np.argmax if largest else np.argmin, ranked, dim, True)
    values = gather(x, dim, indices)
    if not keepdim:
        values, indices = values.squeeze(dim), indices.squeeze(dim)
    return MinMaxResult((values, indices))


def max(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A001,A002
        axis: Any = None, keepdims: Any = None):
    """Whole-tensor maximum, or ``(values, indices)`` along ``dim``.

    With ``dim`` the gradient goes to the selected index; without it, it is shared evenly
    among tied maxima (PyTorch's semantics). ``max(a, b)`` of two tensors is ``maximum``.
    """
    from .elementwise import maximum
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    if hasattr(dim, "shape"):  # a Tensor or an array: max(a, b) is maximum
        return maximum(input, dim)
    return _extreme("max", input, dim, keepdim, True)


def min(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A001,A002
        axis: Any = None, keepdims: Any = None):
    """Whole-tensor minimum, or ``(values, indices)`` along ``dim``."""
    from .elementwise import minimum
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    if hasattr(dim, "shape"):  # a Tensor or an array: min(a, b) is minimum
        return minimum(input, dim)
    return _extreme("min", input, dim, keepdim, False)


def logsumexp(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
              axis: Any = None, keepdims: Any = None):
    """log(sum(exp(x))) over ``dim``, computed as m + log(sum(exp(x - m))) with m the
    (detached) maximum, so it stays finite for large inputs."""
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    x = _as_tensor(input)
    if x.dtype.kind != "f":  # PyTorch: integers and bools in the default float dtype
        from ..dtypes import get_default_dtype
        x = x.to(get_default_dtype())
    dims = normalize_dims(dim, x.ndim, "logsumexp")
    shift = np.max(x.data, axis=dims, keepdims=True) if x.data.size else np.zeros(())
    shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype)
    total = log(Sum.apply(exp(x - shift), dims, True)) + shift
    return total if keepdim else total.reshape(
        tuple(n for i, n in enumerate(x.shape) if i not in dims))


def prod(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
         axis: Any = None, keepdims: Any = None):
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    x = _as_tensor(input)
    if x.dtype.kind in "bui":  # PyTorch: integer and bool products are int64
        x = x.to(np.int64)
    return Prod.apply(x, normalize_dims(dim, x.ndim, "prod"), keepdim)


def _logical_reduce(name: str, compute, input: Any, dim: Any, keepdim: bool):  # noqa: A002
    """all/any: bool results (uint8 for uint8 input, as PyTorch), no gradient. ``dim=()``
    reduces nothing (PyTorch's reading for these two, unlike sum's)."""
    from ..tensor import Tensor
    x = _as_tensor(input)
    if isinstance(dim, (tuple, list)) and not dim:
        result = x.data.astype(bool)
    else:
        dims = normalize_dims(dim, x.ndim, name)
        result = np.asarray(compute(x.data, axis=dims, keepdims=bool(keepdim) and x.ndim > 0))
    if x.dtype == np.uint8:
        result = result.astype(np.uint8)
    return Tensor._wrap(np.asarray(result), False)


def all(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A001,A002
        axis: Any = None, keepdims: Any = None):
    """True where every element along ``dim`` (all dims when None) is nonzero."""
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    return _logical_reduce("all", np.all, input, dim, keepdim)


def any(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A001,A002
        axis: Any = None, keepdims: Any = None):
    """True where some element along ``dim`` (all dims when None) is nonzero."""
    dim, keepdim = _resolve(dim, keepdim, axis, keepdims)
    return _logical_reduce("any", np.any, input, dim, keepdim)
