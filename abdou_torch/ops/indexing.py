"""Indexed reads and writes along one dim: index_select, index_add, scatter, scatter_add,
masked_fill, masked_select.

All are composites of the indexing primitives in ``ops/shape.py`` (whose gradients move
values back where they came from) and of two primitives here::

    Scatter: y = x with y[index along dim] = src,   dx = dy with the written places zeroed,
                                                    dsrc = dy gathered at index
    AddAt:   y = x with src added at index,         dx = dy,  dsrc = dy at index

Indices are checked before anything runs, as PyTorch checks them: integer dtypes only, and
every index inside its dim (a negative index raises here, where NumPy would count from the
end).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..autograd.grad_mode import GradMode
from ..errors import IndexOutOfRangeError, ShapeError
from ..tensor import Tensor
from .elementwise import Where, _as_tensor, add, mul
from .shape import Gather, Index, Pad, _along, _dim, expand

__all__ = ["index_select", "index_add", "scatter", "scatter_add", "masked_fill",
           "masked_select", "check_index_range", "index_array"]


def index_array(index: Any, op: str) -> np.ndarray:
    """The values of an index tensor, which must be int32 or int64 (PyTorch's rule)."""
    values = np.asarray(index.data if isinstance(index, Tensor) else index)
    if values.dtype not in (np.int32, np.int64):
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index, got {values.dtype}")
    return values


def check_index_range(op: str, index: np.ndarray, size: int, dim: int) -> None:
    """Raise if an index lies outside [0, size)."""
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = int(index.min()) if index.min() < 0 else int(index.max())
        raise IndexOutOfRangeError(f"{op}(): index {bad} is out of bounds for dimension {dim} "
                                   f"with size {size}")


def _vector_index(op: str, index: Any, size: int, dim: int) -> np.ndarray:
    """An index_select / index_add index: a vector (or one value) of int32/int64 in range."""
    values = index_array(index, op)
    if values.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector, got shape "
                         f"{values.shape}")
    values = values.reshape(-1).astype(np.int64, copy=False)
    check_index_range(op, values, size, dim)
    return values


def _along_dim(dim: int, index: np.ndarray) -> tuple:
    return (slice(None),) * dim + (index,)


def index_select(input: Any, dim: int, index: Any) -> Tensor:  # noqa: A002
    """y = input with dim ``dim`` replaced by input's entries at ``index`` (repeats
    allowed): y[..., i, ...] = input[..., index[i], ...]."""
    x = _as_tensor(input)
    if x.ndim == 0:
        _dim(dim, 0, "index_select")
        values = _vector_index("index_select", index, 1, 0)
        if values.size != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got "
                               f"{values.size} value(s)")
        return x.clone()
    d = _dim(dim, x.ndim, "index_select")
    return Index.apply(x, _along_dim(d, _vector_index("index_select", index, x.shape[d], d)))


def index_add(input: Any, dim: int, index: Any, source: Any, *,  # noqa: A002
              alpha: float = 1) -> Tensor:
    """y = input with alpha * source[..., i, ...] added at input[..., index[i], ...]
    (repeated indices add up)."""
    x, src = _as_tensor(input), _as_tensor(source)
    d = _dim(dim, x.ndim, "index_add") if x.ndim else 0
    size = x.shape[d] if x.ndim else 1
    values = _vector_index("index_add", index, size, d)
    if src.dtype != x.dtype:
        raise RuntimeError(f"index_add_(): self ({x.dtype}) and source ({src.dtype}) must "
                           f"have the same scalar type")
    source_count = src.shape[d] if src.ndim else 1
    if values.size != source_count:
        raise RuntimeError(f"index_add_(): Number of indices ({values.size}) should be equal "
                           f"to source.size(dim): ({source_count}), for dim: {d}")
    if x.ndim and (src.ndim != x.ndim or any(a != b for i, (a, b) in
                                            enumerate(zip(x.shape, src.shape)) if i != d)):
        raise RuntimeError(f"index_add(): source tensor shape must match self tensor shape, "
                           f"excluding the specified dimension. Got self.shape = "
                           f"{list(x.shape)} source.shape = {list(src.shape)}")
    if alpha != 1:
        src = mul(src, alpha)
    if x.ndim == 0:
        return add(x, src.reshape(()))
    return AddAt.apply(x, src, _along_dim(d, values))


class AddAt(Primitive):
    """y = x with src added at ``where`` (a NumPy index; repeated places add up);
    dx = dy,  dsrc = dy[where]

    The places not written keep x's values, -0.0 included (x + zeros would make them +0.0)
    """

    saves_inputs = False

    def forward(self, x: np.ndarray, src: np.ndarray, where: tuple) -> np.ndarray:
        self.where = where
        out = x.copy()
        np.add.at(out, where, src)
        return out

    def backward(self, xp, dy):
        return dy, xp.apply(Index, dy, self.where)


class Scatter(Primitive):
    """y = x with y[index along dim] = src (src cut to index's shape, or one value);
    dx = dy with the written places zeroed,  dsrc = dy gathered at index (zeros where src
    was cut)"""

    saves_inputs = False

    def forward(self, x: np.ndarray, src: np.ndarray, dim: int,
                index: np.ndarray) -> np.ndarray:
        self.dim, self.index, self.src_shape = dim, index, src.shape
        out = x.copy()
        if src.ndim:
            src = src[tuple(slice(0, n) for n in index.shape)]
        out[_along(index, dim)] = src
        return out

    def backward(self, xp, dy):
        need_x, need_src = self.needs_input_grad[:2]
        dx = xp.apply(Scatter, dy, np.zeros((), dtype=dy.dtype), self.dim, self.index) \
            if need_x else None
        dsrc = None
        if need_src:
            dsrc = xp.apply(Gather, dy, self.dim, self.index)
            if tuple(dsrc.shape) != self.src_shape:
                widths = tuple((0, n - m) for n, m in zip(self.src_shape, dsrc.shape))
                dsrc = xp.apply(Pad, dsrc, widths, 0.0)
        return dx, dsrc


def _scatter_index(op: str, x: Tensor, dim: int, index: Any, src: Tensor | None) -> tuple:
    """Check a scatter's index against input (and src) as PyTorch does; return the dim
    and the index array."""
    values = index_array(index, op)
    if x.ndim == 0 and values.ndim == 0:
        _dim(dim, 0, op)
        check_index_range(op, values, 1, 0)
        return 0, values.reshape(()).astype(np.int64)
    d = _dim(dim, x.ndim, op)
    if values.ndim == 0 and x.ndim == 1:  # PyTorch counts a 0-d index as one dim here
        values = values.reshape(1)
    if values.ndim != x.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"self tensor (index shape {values.shape}, self shape "
                           f"{tuple(x.shape)})")
    if src is not None and max(src.ndim, 1) != values.ndim:
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"src tensor (index shape {values.shape}, src shape "
                           f"{tuple(src.shape)})")
    too_big = any(n > m for i, (n, m) in enumerate(zip(values.shape, x.shape)) if i != d)
    if src is not None:
        too_big = too_big or any(n > m for n, m in zip(values.shape, src.shape))
    if too_big:
        raise RuntimeError(f"{op}(): Expected index {list(values.shape)} to be no larger than "
                           f"self {list(x.shape)} apart from dimension {d}"
                           + ("" if src is None else
                              f" and to be no larger size than src {list(src.shape)}"))
    check_index_range(op, values, x.shape[d], d)
    return d, values.astype(np.int64, copy=False)


def _value_array(value: Any, dtype: np.dtype) -> np.ndarray:
    """A Python number as a 0-d array of ``dtype`` (cast as PyTorch casts: 2.5 -> 2); one
    outside an integer dtype's range, or a finite one beyond float16's, raises as there."""
    number = np.asarray(value)
    dtype = np.dtype(dtype)
    if number.dtype.kind in "iuf" and dtype.kind in "iuf" and \
            (np.isfinite(number) or dtype.kind in "iu"):
        info = np.iinfo(dtype) if dtype.kind in "iu" else np.finfo(dtype)
        if not info.min <= number <= info.max:  # NaN fails this too
            raise RuntimeError(f"value {value} cannot be converted to type {dtype} without "
                               f"overflow")
    return number.astype(dtype)


def scatter(input: Any, dim: int, index: Any, src: Any = None, value: Any = None,  # noqa: A002
            *, reduce: str | None = None) -> Tensor:
    """y = input with y[index[i][j]][j] = src[i][j] for dim 0 (likewise for other dims);
    ``src`` may be a tensor (at least index's size) or one number (``value``). With
    ``reduce='add'`` or ``'multiply'`` the values are added to or multiply y instead.
    Where an index repeats, which write wins is unspecified (as in PyTorch)."""
    x = _as_tensor(input)
    if src is None and value is None:
        raise TypeError("scatter(): expected src (a tensor) or value (a number)")
    source = src if src is not None else value
    src_tensor = source if isinstance(source, Tensor) else None
    if src_tensor is not None and src_tensor.dtype != x.dtype:
        raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype, got "
                           f"{x.dtype} and {src_tensor.dtype}")
    d, values = _scatter_index("scatter", x, dim, index, src_tensor)
    written = src_tensor if src_tensor is not None else _value_array(source, x.dtype)
    if x.ndim == 0:  # one element: index 0 (checked) writes it
        return scatter(x.reshape(1), 0, values.reshape(1), written.reshape(1),
                       reduce=reduce).reshape(())
    if reduce is None:
        return Scatter.apply(x, written, d, values)
    if reduce == "add":
        if src_tensor is None:
            written = Tensor._wrap(np.broadcast_to(written, values.shape).copy(), False)
        return scatter_add(x, d, values, written)
    if reduce == "multiply":
        return _scatter_multiply(x, d, values, written)
    raise RuntimeError(f"scatter(): reduce argument must be either add or multiply, got "
                       f"{reduce!r}")


def _scatter_multiply(x: Tensor, dim: int, index: np.ndarray, src: Any) -> Tensor:
    if GradMode.enabled and (x.requires_grad or getattr(src, "requires_grad", False)):
        raise RuntimeError("scatter(reduce='multiply') has no gradient (PyTorch's neither); "
                           "use it under no_grad(), or write the product with scatter_add "
                           "of logarithms")
    out = x.data.copy()
    values = src.data if isinstance(src, Tensor) else src
    if values.ndim:
        values = values[tuple(slice(0, n) for n in index.shape)]
    np.multiply.at(out, _along(index, dim), values)
    return Tensor._wrap(out, False)


def scatter_add(input: Any, dim: int, index: Any, src: Any) -> Tensor:  # noqa: A002
    """y = input with src[i][j] added at y[index[i][j]][j] for dim 0 (likewise for other
    dims); repeated indices add up."""
    x = _as_tensor(input)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not "
                        f"{type(src).__name__}")
    if src.dtype != x.dtype:
        raise RuntimeError(f"scatter_add(): Expected self.dtype to be equal to src.dtype, got "
                           f"{x.dtype} and {src.dtype}")
    d, values = _scatter_index("scatter_add", x, dim, index, src)
    if x.ndim == 0:
        return add(x, src.reshape(()))
    if tuple(src.shape) != values.shape:
        src = Index.apply(src, tuple(slice(0, n) for n in values.shape))
    return AddAt.apply(x, src, _along(values, d))


def masked_fill(input: Any, mask: Any, value: Any) -> Tensor:  # noqa: A002
    """y = value where mask else input (mask broadcasts; value a number or a 0-d tensor,
    which receives the gradient of the places it fills)."""
    x = _as_tensor(input)
    condition = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if condition.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with "
                           f"dtype {condition.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        fill: Tensor | np.ndarray = value if value.dtype == x.dtype else value.to(x.dtype)
    else:
        fill = _value_array(value, x.dtype)
    return Where.apply(condition, fill, x)


def masked_select(input: Any, mask: Any) -> Tensor:  # noqa: A002
    """The elements of ``input`` where ``mask`` (broadcast together) is true, as a vector."""
    x = _as_tensor(input)
    condition = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if condition.dtype != np.bool_:
        raise RuntimeError(f"masked_select: expected a boolean mask, got {condition.dtype}")
    try:
        shape = np.broadcast_shapes(x.shape, condition.shape)
    except ValueError:
        raise ShapeError(f"masked_select: input of shape {tuple(x.shape)} and mask of shape "
                         f"{condition.shape} cannot be broadcast together") from None
    if tuple(x.shape) != shape:
        x = expand(x, shape)
    return Index.apply(x, np.broadcast_to(condition, shape))
