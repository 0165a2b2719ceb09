"""Shape ops: reshape, permute, expand, indexing, cat, pad, gather.

Every gradient here moves values back to where they came from: reshape back, permute by
the inverse permutation, sum over expanded dims, scatter-add indexed values.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..autograd.function import Primitive
from ..dtypes import promote_types
from ..errors import IndexOutOfRangeError, ShapeError
from .elementwise import _as_tensor

__all__ = ["reshape", "view", "flatten", "permute", "transpose", "squeeze", "unsqueeze",
           "expand", "broadcast_to", "index", "cat", "concat", "stack", "split", "chunk",
           "pad", "gather", "narrow", "movedim", "unbind", "select", "take_along_dim"]


def _shape_arg(shape: tuple, op: str | None = None) -> tuple[int, ...]:
    """Accept both ``f(2, 3)`` and ``f((2, 3))`` (and ``f(())`` for 0-d); ``f()`` is a
    TypeError for the ``op`` named, as in PyTorch."""
    if op is not None and not shape:
        raise TypeError(f"{op}() missing 1 required positional argument (a shape or dims; "
                        f"() for a 0-d tensor)")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"expected ints (or one tuple of ints) for a shape or dims, got "
                            f"{shape!r}")
    return tuple(int(n) for n in shape)


def _int_arg(value: Any, name: str, op: str) -> int:
    """An int argument: a Python or NumPy integer, or a 0-d integer tensor; a bool or a
    float is a TypeError, as in PyTorch (a bool would silently count as 0 or 1)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    if getattr(value, "ndim", None) == 0 and getattr(value, "dtype", None) is not None and \
            np.dtype(value.dtype).kind in "iu":
        return int(value.item())
    raise TypeError(f"{op}(): argument '{name}' must be int, not {type(value).__name__}")


def _dim(dim: Any, ndim: int, op: str) -> int:  # dim: what _int_arg accepts
    dim = _int_arg(dim, "dim", op)
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dims")
    return dim % max(ndim, 1)


def _two_dims(first: Any, second: Any, ndim: int, op: str) -> tuple[int, int]:
    """Both dims' types checked before either's range, as PyTorch's argument parser does."""
    first, second = _int_arg(first, "dim", op), _int_arg(second, "dim", op)
    return _dim(first, ndim, op), _dim(second, ndim, op)


class Reshape(Primitive):
    torch_grad_fn = "ViewBackward0"

    """y = x with a new shape (same elements in row-major order);  dx = dy reshaped back"""

    saves_inputs = False
    returns_view = True

    def forward(self, x, shape: tuple[int, ...]):
        self.shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: shape {tuple(shape)} is invalid for a tensor of "
                             f"shape {tuple(x.shape)} ({x.size} elements)") from None

    def backward(self, xp, dy):
        return dy.reshape(self.shape)

    def view_step(self, out_shape: tuple) -> tuple:
        """This view as a step of a ``ViewPut`` chain."""
        return (Reshape, out_shape)


class Permute(Primitive):
    """y = x with dims reordered by ``dims``;  dx = dy permuted by the inverse order"""

    saves_inputs = False
    returns_view = True

    def forward(self, x, dims: tuple[int, ...]):
        self.dims = dims
        return np.transpose(x, dims)

    def backward(self, xp, dy):
        return xp.permute(dy, tuple(np.argsort(self.dims)))

    def view_step(self, out_shape: tuple) -> tuple:
        return (Permute, self.dims)


class Expand(Primitive):
    """y = x broadcast to ``shape`` (a read-only view);  dx = dy summed back to x's shape"""

    saves_inputs = False
    returns_view = True

    def forward(self, x, shape: tuple[int, ...]):
        self.shape = x.shape
        try:
            return np.broadcast_to(x, shape)
        except ValueError:
            raise ShapeError(f"expand: cannot expand shape {tuple(x.shape)} to {tuple(shape)}") \
                from None

    def backward(self, xp, dy):
        return xp.sum_to(dy, self.shape)

    def view_step(self, out_shape: tuple) -> tuple:
        return (Expand, out_shape)


def _is_basic_index(index: Any) -> bool:
    """True for ints, slices, None and Ellipsis only: NumPy returns a view, no repeats."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis
               for p in parts)


class Index(Primitive):
    """y = x[index];  dx = zeros like x with dy added at index (repeated indices add up)"""

    name = "getitem"
    saves_inputs = False
    returns_view = True

    @property
    def grad_fn_name(self) -> str:
        """PyTorch records the last step of a basic index (a slice, an int, a None) and
        IndexBackward0 for an advanced one."""
        parts = self.index if isinstance(self.index, tuple) else (self.index,)
        steps = [p for p in parts if p is not Ellipsis]
        if not _is_basic_index(self.index):
            return "IndexBackward0"
        if not steps:
            return "AliasBackward0"
        last = steps[-1]
        if last is None:
            return "UnsqueezeBackward0"
        return "SliceBackward0" if isinstance(last, slice) else "SelectBackward0"

    def forward(self, x, index: Any):
        self.shape, self.index = x.shape, index
        try:
            if _is_basic_index(index):  # a view, 0-d included (x[0] of a vector)
                return x[_with_ellipsis(index)]
            _check_masks(x.shape, index)
            return np.asarray(x[index])
        except IndexError as error:
            raise IndexError(f"getitem: {error} (tensor shape {tuple(x.shape)})") from None

    def backward(self, xp, dy):
        return xp.apply(IndexAdd, dy, self.shape, self.index)

    def view_step(self, out_shape: tuple) -> tuple:
        return (Index, self.index)


def _check_masks(shape: tuple, index: Any) -> None:
    """Raise unless each boolean mask in ``index`` has the shape of the dims it selects from
    (NumPy lets an empty mask through against a dim of any size)."""
    parts = index if isinstance(index, tuple) else (index,)
    masks = [p for p in parts if isinstance(p, np.ndarray) and p.dtype == np.bool_ and p.ndim]
    if not masks:
        return
    consumed = sum(p.ndim if isinstance(p, np.ndarray) and p.dtype == np.bool_ else
                   0 if p is None or p is Ellipsis or isinstance(p, (bool, np.bool_)) else 1
                   for p in parts)
    dim = 0
    for part in parts:
        if part is Ellipsis:
            dim += max(len(shape) - consumed, 0)
        elif isinstance(part, np.ndarray) and part.dtype == np.bool_:
            covered = shape[dim:dim + part.ndim]
            if part.ndim and part.shape != covered:
                raise IndexError(f"getitem: the shape of the mask {list(part.shape)} does "
                                 f"not match the shape of the indexed tensor {list(shape)} "
                                 f"at dim {dim}")
            dim += part.ndim
        elif part is not None and not isinstance(part, (bool, np.bool_)):
            dim += 1


class IndexAdd(Primitive):
    """y = zeros(shape) with x added at index;  dx = dy[index]"""

    name = "index_add"
    saves_inputs = False

    def forward(self, x, shape: tuple[int, ...], index: Any):
        self.index = index
        return _index_add(x, shape, index)

    def backward(self, xp, dy):
        return xp.apply(Index, dy, self.index)


def _index_add(x: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    """zeros(shape) with ``x`` added at ``index`` (repeated indices add up)."""
    if _adds_rows(x, shape, index):
        return _index_add_rows(x, shape, index[0])
    out = np.zeros(shape, dtype=x.dtype)
    if _is_basic_index(index):
        out[index] = x
    else:
        np.add.at(out, index, x)
    return out


def _adds_rows(x: np.ndarray, shape: tuple[int, ...], index: Any) -> bool:
    """Whether ``index`` picks whole rows (dim 0) with one integer array, as an embedding's
    gradient does, of a floating ``x``: then :func:`_index_add_rows` serves it."""
    if type(index) is not tuple or len(index) != 1:
        return False
    rows = index[0]
    return isinstance(rows, np.ndarray) and rows.dtype.kind in "iu" and rows.size > 0 and \
        x.dtype.kind == "f" and len(shape) >= 1 and x.shape == rows.shape + tuple(shape[1:])


def _index_add_rows(x: np.ndarray, shape: tuple[int, ...], rows: np.ndarray) -> np.ndarray:
    """Fast path of ``np.add.at(zeros(shape), (rows,), x)``: the rows of x sorted by their
    destination (a stable sort, so each destination adds its rows in their original order)
    and summed per destination with ``np.add.reduceat``. np.add.at goes element by element
    and costs several times more.

    Every array has a shape fixed by the shapes of the inputs, never by their values (how
    many destinations occur), as a compiled step requires: segment d of the sorted rows
    starts at ``searchsorted(destinations, d)``; a zero row after the last one keeps each
    start a valid index; destinations that receive no row (whose reduceat would be one
    stray row) are set to 0.
    """
    flat = rows.reshape(-1)
    flat = np.where(flat < 0, flat + shape[0], flat)  # indices were checked by the forward
    order = np.argsort(flat, kind="stable")
    destinations = flat[order]
    values = x.reshape(flat.size, -1)
    padded = np.zeros((flat.size + 1, values.shape[1]), dtype=x.dtype)
    np.take(values, order, axis=0, out=padded[:-1])
    starts = np.searchsorted(destinations, np.arange(shape[0] + 1))
    sums = np.add.reduceat(padded, starts[:-1], axis=0)
    received = (starts[1:] > starts[:-1])[:, None]
    return np.where(received, sums, np.zeros((), dtype=x.dtype)).reshape(shape)


class Cat(Primitive):
    """y = inputs joined along dim;  d(input_i) = the slice of dy that input_i filled"""

    saves_inputs = False

    def forward(self, *arrays, dim: int):
        self.dim = dim
        self.bounds = np.cumsum([0] + [a.shape[dim] for a in arrays])
        try:
            return np.concatenate(arrays, axis=dim)
        except ValueError:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ShapeError(f"cat: shapes {shapes} differ outside dim {dim}") from None

    def backward(self, xp, dy):
        lead = (slice(None),) * self.dim
        return tuple(xp.apply(Index, dy, lead + (slice(int(lo), int(hi)),))
                     for lo, hi in zip(self.bounds[:-1], self.bounds[1:]))


class Pad(Primitive):
    """y = x surrounded by a constant;  dx = the centre of dy"""

    saves_inputs = False

    def forward(self, x, widths: tuple[tuple[int, int], ...], value: float):
        self.centre = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    def backward(self, xp, dy):
        return xp.apply(Index, dy, self.centre)


def _along(index: np.ndarray, dim: int) -> tuple:
    """The NumPy index that picks ``index`` along ``dim`` and position i elsewhere, so that
    ``index`` may be smaller than the input in the other dims (PyTorch's gather)."""
    grid: list[np.ndarray] = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


class Gather(Primitive):
    """y[..., i, ...] = x[..., index[..., i, ...], ...] along dim;  dx = dy scatter-added"""

    saves_inputs = False

    def forward(self, x, dim: int, index: np.ndarray):
        self.shape, self.dim, self.index = x.shape, dim, index
        try:
            return x[_along(index, dim)]
        except IndexError as error:
            raise IndexError(f"gather: {error} (input shape {tuple(x.shape)}, index shape "
                             f"{tuple(index.shape)}, dim {dim})") from None

    def backward(self, xp, dy):
        return xp.apply(ScatterAdd, dy, self.shape, self.dim, self.index)


def _scatter_add(x: np.ndarray, shape: tuple[int, ...], dim: int,
                 index: np.ndarray) -> np.ndarray:
    """zeros(shape) with ``x`` added at ``index`` along ``dim`` (repeats add up)."""
    out = np.zeros(shape, dtype=x.dtype)
    np.add.at(out, _along(index, dim), x)
    return out


class ScatterAdd(Primitive):
    """y = zeros(shape) with x added at index along dim;  dx = dy gathered at index"""

    name = "scatter_add"
    saves_inputs = False

    def forward(self, x, shape: tuple[int, ...], dim: int, index: np.ndarray):
        self.dim, self.index = dim, index
        return _scatter_add(x, shape, dim, self.index)

    def backward(self, xp, dy):
        return xp.apply(Gather, dy, self.dim, self.index)


class ViewPut(Primitive):
    """y = base with its view ``chain`` replaced by ``value`` (broadcast);
    dbase = dy with that view zeroed,  dvalue = that view of dy.

    ``chain`` lists the view ops that lead from ``base`` to the view, as
    ``(primitive, *arguments)``: ``x[index]`` is ``(Index, index)``. This is what
    ``base[index] = value`` and an in-place change through a view record (PyTorch's
    CopySlices).
    """

    name = "view_put"
    saves_inputs = False

    def forward(self, base, value, chain: tuple):
        self.chain = chain
        out = base.copy()
        put_view(out, chain, value)
        return out

    def backward(self, xp, dy):
        need_base, need_value = self.needs_input_grad[:2]
        zero = np.zeros((), dtype=dy.dtype)
        dbase = xp.apply(ViewPut, dy, zero, self.chain) if need_base else None
        return dbase, (take_view(xp, dy, self.chain) if need_value else None)


def take_view(xp: Any, x: Any, chain: tuple) -> Any:
    """The view ``chain`` of ``x`` (an array or a Tensor, as ``xp`` says)."""
    for primitive, *arguments in chain:
        x = xp.apply(primitive, x, *arguments)
    return x


def put_view(array: np.ndarray, chain: tuple, value: Any) -> None:
    """Write ``value`` into the view ``chain`` of ``array``, in place. A step that copies
    (advanced indexing, a reshape that cannot view) is written back after the rest."""
    if not chain:
        array[...] = value
        return
    (primitive, *arguments), rest = chain[0], chain[1:]
    if primitive is Index and not rest:
        array[arguments[0]] = value
        return
    part = primitive.__new__(primitive).forward(array, *arguments)
    put_view(part, rest, value)
    if part.base is None or not np.shares_memory(part, array):
        if primitive is Index:
            array[arguments[0]] = part
        else:  # a reshape that copied: put the values back in the base's layout
            array[...] = part.reshape(array.shape)


# -- public functions ---------------------------------------------------------------------

def reshape(input: Any, *shape: Any):  # noqa: A002
    """Same elements, new shape; one dim may be -1 (inferred)."""
    x = _as_tensor(input)
    shape = _shape_arg(shape, "reshape")
    return x if shape == x.shape else Reshape.apply(x, shape)


view = reshape


def flatten(input: Any, start_dim: int = 0, end_dim: int = -1):  # noqa: A002
    """Merge dims start_dim..end_dim into one."""
    x = _as_tensor(input)
    start, end = _two_dims(start_dim, end_dim, x.ndim, "flatten")
    if x.ndim == 0:
        return reshape(x, (1,))
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
    return reshape(x, shape)


def permute(input: Any, *dims: Any):  # noqa: A002
    x = _as_tensor(input)
    dims = tuple(_dim(d, x.ndim, "permute") for d in _shape_arg(dims, "permute"))
    if sorted(dims) != list(range(x.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of {x.ndim} dims")
    return Permute.apply(x, dims)


def transpose(input: Any, dim0: int, dim1: int):  # noqa: A002
    """Swap two dims."""
    x = _as_tensor(input)
    order = list(range(x.ndim))
    a, b = _two_dims(dim0, dim1, x.ndim, "transpose")
    if x.ndim < 2 or a == b:
        return x
    order[a], order[b] = order[b], order[a]
    return Permute.apply(x, tuple(order))


def movedim(input: Any, source: int, destination: int):  # noqa: A002
    x = _as_tensor(input)
    source, destination = _two_dims(source, destination, x.ndim, "movedim")
    order = list(range(x.ndim))
    if order:  # a 0-d tensor has one place to move its dim 0 (or -1) to
        order.insert(destination, order.pop(source))
    return Permute.apply(x, tuple(order))


def squeeze(input: Any, dim: Any = None):  # noqa: A002
    """Remove dims of size 1 (only ``dim`` if given; a dim of other size is left alone)."""
    x = _as_tensor(input)
    if dim is None:
        dims = {i for i, n in enumerate(x.shape) if n == 1}
    else:
        dims = {_dim(d, x.ndim, "squeeze") for d in
                ((dim,) if isinstance(dim, (int, np.integer)) else dim)}
        dims = {d for d in dims if x.ndim and x.shape[d] == 1}
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if i not in dims))


def unsqueeze(input: Any, dim: int):  # noqa: A002
    """Insert a dim of size 1 at ``dim`` (negative counts from the end of the result)."""
    x = _as_tensor(input)
    position = _dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:position] + (1,) + x.shape[position:])


def expand(input: Any, *sizes: Any):  # noqa: A002
    """Broadcast to ``sizes`` without copying; -1 keeps a dim's size."""
    x = _as_tensor(input)
    sizes = _shape_arg(sizes, "expand")
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: cannot expand shape {tuple(x.shape)} to {sizes}")
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n
                  for i, n in enumerate(sizes))
    return x if shape == x.shape else Expand.apply(x, shape)


def broadcast_to(input: Any, shape: Sequence[int]):  # noqa: A002
    return expand(input, tuple(shape))


def _with_ellipsis(index: Any) -> tuple:
    """A basic index with a trailing Ellipsis, so that NumPy returns a view even where it
    would return a scalar (indexing every dim with an int)."""
    parts = index if isinstance(index, tuple) else (index,)
    return parts if any(p is Ellipsis for p in parts) else parts + (Ellipsis,)


def _normalize_index(index: Any) -> Any:
    """Tensors inside an index become arrays (a 0-d integer one an int, as in PyTorch);
    lists become integer or boolean arrays; slices must step forward."""
    from ..tensor import Tensor
    if isinstance(index, tuple):
        return tuple(_normalize_index(part) for part in index)
    if isinstance(index, Tensor):
        index = index.data
    if isinstance(index, list):
        index = np.asarray(index)
    if isinstance(index, np.ndarray):
        if index.dtype.kind not in "biu":
            raise IndexError(f"tensors used as indices must be integer or boolean, got "
                             f"{index.dtype}")
        if index.ndim == 0 and index.dtype.kind in "iu":
            return int(index)
    if isinstance(index, slice) and index.step is not None and index.step <= 0:
        raise ValueError(f"step must be greater than zero (got slice step {index.step}; "
                         f"use .flip(dims) to reverse)")
    return index


def same_region(value: Any, array: np.ndarray, index: Any) -> bool:
    """True when ``value`` is a tensor whose array is exactly ``array[index]``: the
    write-back of ``x[k] += v``, whose change was already made through the view x[k]."""
    from ..tensor import Tensor
    if not isinstance(value, Tensor) or not _is_basic_index(index):
        return False
    region, values = array[_with_ellipsis(index)], value.data
    return values.shape == region.shape and values.strides == region.strides and \
        values.__array_interface__["data"][0] == region.__array_interface__["data"][0]


def index(input: Any, key: Any):  # noqa: A002
    """``input[key]``: ints, slices, None, Ellipsis, integer arrays (repeats allowed) and
    boolean masks, as in NumPy and PyTorch."""
    return Index.apply(_as_tensor(input), _normalize_index(key))


def narrow(input: Any, dim: int, start: int, length: int):  # noqa: A002
    """``length`` elements of dim ``dim`` from ``start`` (negative: counted from the end),
    as PyTorch: the range must lie inside the dim (it is never clipped)."""
    x = _as_tensor(input)
    dim = _int_arg(dim, "dim", "narrow")  # argument types first, as PyTorch's parser
    start, length = _int_arg(start, "start", "narrow"), _int_arg(length, "length", "narrow")
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, x.ndim, "narrow")
    size = x.shape[d]
    if not -size <= start <= size:
        raise IndexOutOfRangeError(f"narrow(): start {start} is out of range for dim {d} of "
                                   f"size {size} (expected to be in range of [{-size}, {size}])")
    start = start + size if start < 0 else start
    if length < 0:
        raise RuntimeError(f"narrow(): length must be non-negative, got {length}")
    if start + length > size:
        raise RuntimeError(f"narrow(): start ({start}) + length ({length}) exceeds dimension "
                           f"size ({size}) of dim {d}")
    return Index.apply(x, (slice(None),) * d + (slice(start, start + length),))


def select(input: Any, dim: int, index: int):  # noqa: A002
    """``input[..., index, ...]`` with ``index`` along ``dim`` (that dim removed); a negative
    index counts from the end, one outside the dim raises."""
    x = _as_tensor(input)
    dim, i = _int_arg(dim, "dim", "select"), _int_arg(index, "index", "select")
    if x.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = _dim(dim, x.ndim, "select")
    size = x.shape[d]
    if not -size <= i < size:
        raise IndexOutOfRangeError(f"select(): index {i} out of range for tensor of size "
                                   f"{list(x.shape)} at dimension {d}")
    return Index.apply(x, (slice(None),) * d + (i % size,))


def cat(tensors: Sequence[Any], dim: int = 0):
    """Join tensors along an existing dim."""
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    # PyTorch's legacy rule: 1-D empty tensors are skipped, whatever the others' shapes
    kept = [t for t in tensors if t.shape != (0,)] or tensors[:1]
    if len(kept) < len(tensors):
        dtype = _common_dtype(tensors)[0].dtype
        tensors = [t if t.dtype == dtype else t.to(dtype) for t in kept]
    ndim = max(t.ndim for t in tensors)
    dim = _dim(dim, ndim, "cat")
    ndim = tensors[0].ndim
    if any(t.ndim != ndim for t in tensors):
        raise ShapeError("cat: tensors must have the same number of dims, got shapes "
                         + ", ".join(str(tuple(t.shape)) for t in tensors))
    if ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    tensors = _common_dtype(tensors)
    return Cat.apply(*tensors, dim=_dim(dim, ndim, "cat"))


concat = cat


def _common_dtype(tensors: list) -> list:
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = promote_types(dtype, t.dtype)
    return [t if t.dtype == dtype else t.to(dtype) for t in tensors]


def stack(tensors: Sequence[Any], dim: int = 0):
    """Join tensors of one shape along a new dim."""
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    _dim(dim, tensors[0].ndim + 1, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError("stack: tensors must all have one shape, got "
                         + ", ".join(str(tuple(t.shape)) for t in tensors))
    position = _dim(dim, tensors[0].ndim + 1, "stack")
    return cat([unsqueeze(t, position) for t in tensors], dim=position)


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Split into chunks of a given size (the last may be smaller) or of given sizes.

    The size is a Python int; anything else is read as a sequence of sizes, as in PyTorch
    (where a NumPy integer is a TypeError)."""
    x = _as_tensor(tensor)
    sections = isinstance(split_size_or_sections, (list, tuple))
    if sections:
        sizes = [_int_arg(s, "split_sizes", "split") for s in split_size_or_sections]
    elif isinstance(split_size_or_sections, int) and not isinstance(split_size_or_sections,
                                                                     bool):
        size = split_size_or_sections
    else:
        raise TypeError(f"split(): argument 'split_size' must be an int or a sequence of "
                        f"ints, not {type(split_size_or_sections).__name__}")
    dim = _int_arg(dim, "dim", "split")
    if x.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = _dim(dim, x.ndim, "split")
    length = x.shape[d]
    if sections:
        if any(s < 0 for s in sizes):
            raise ValueError(f"split: split_sizes must be non-negative, got {sizes}")
        if sum(sizes) != length:
            raise ValueError(f"split: sizes {sizes} do not add up to dim {d}'s size {length}")
    else:
        if size < 0 or size == 0 and length:
            raise ValueError(f"split: split_size must be positive (or 0 for a dim of size 0), "
                             f"got {size} for dim {d} of size {length}")
        sizes = [min(size, length - start) for start in range(0, length, size or 1)] or [0]
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(narrow(x, d, int(s), n) for s, n in zip(starts, sizes))


def chunk(input: Any, chunks: int, dim: int = 0) -> tuple:  # noqa: A002
    """Split into ``chunks`` pieces of size ceil(n / chunks) (fewer if n is small); a dim of
    size 0 gives ``chunks`` empty pieces, as in PyTorch."""
    x = _as_tensor(input)
    chunks, dim = _int_arg(chunks, "chunks", "chunk"), _int_arg(dim, "dim", "chunk")
    if x.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    length = x.shape[_dim(dim, x.ndim, "chunk")]
    if length == 0:
        return split(x, [0] * chunks, dim)
    return split(x, -(-length // chunks), dim)


def unbind(input: Any, dim: int = 0) -> tuple:  # noqa: A002
    x = _as_tensor(input)
    dim = _int_arg(dim, "dim", "unbind")
    if x.ndim == 0:
        raise IndexError("unbind: dimension specified as 0 but tensor has no dimensions")
    d = _dim(dim, x.ndim, "unbind")
    return tuple(Index.apply(x, (slice(None),) * d + (i,)) for i in range(x.shape[d]))


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0):  # noqa: A002
    """Pad the last dims, as ``torch.nn.functional.pad``: ``pad`` lists (before, after)
    widths starting from the LAST dim; negative widths are not supported.

    ``mode``: 'constant' (``value``), or, for the last 1-3 dims of a (C, ...) or
    (N, C, ...) input, 'reflect' (mirrored, the edge not repeated: widths below the
    dim's size), 'replicate' (the edge repeated) or 'circular' (wrapped around once at
    most: widths up to the dim's size).
    """
    x = _as_tensor(input)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: expected an even number of widths for at most {x.ndim} dims, "
                         f"got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative widths are not supported, got {pad}")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return Pad.apply(x, tuple(widths), value)
    _check_copy_padding(mode, tuple(x.shape), len(pad), widths)
    for dim, (before, after) in enumerate(widths):
        if before or after:
            source = _pad_sources(mode, x.shape[dim], before, after)
            x = Index.apply(x, (slice(None),) * dim + (source,))
    return x


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _check_copy_padding(mode: str, shape: tuple, count: int, widths: list) -> None:
    """PyTorch's limits for the modes that copy the input into the padding."""
    dims = count // 2
    if dims > 3 or len(shape) not in (dims + 1, dims + 2):
        raise NotImplementedError(
            f"pad: mode {mode!r} pads the last 1, 2 or 3 dims of a (C, ...) or (N, C, ...) "
            f"input; {count} widths do not fit an input of shape {shape}")
    for dim, (before, after) in enumerate(widths):
        size, widest = shape[dim], max(before, after)
        if mode == "reflect" and widest >= size and widest:
            raise ValueError(f"pad: reflect padding must be smaller than the dim it pads, "
                             f"got {(before, after)} for dim {dim} of size {size} "
                             f"(input shape {shape})")
        if mode == "circular" and widest > size:
            raise ValueError(f"pad: circular padding may wrap around once at most, got "
                             f"{(before, after)} for dim {dim} of size {size} (input shape "
                             f"{shape})")
        if mode == "replicate" and widest and not size:
            raise ValueError(f"pad: cannot replicate the edge of dim {dim} of size 0 "
                             f"(input shape {shape})")


def _pad_sources(mode: str, size: int, before: int, after: int) -> np.ndarray:
    """For each position p = -before .. size + after - 1 of a padded dim, the input position
    it copies: reflect mirrors about the edge (-p, 2(size - 1) - p), replicate repeats the
    edge (clip), circular wraps around (p mod size)."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    return np.where(positions < 0, -positions,
                    np.where(positions >= size, 2 * (size - 1) - positions, positions))


def gather(input: Any, dim: int, index: Any):  # noqa: A002
    """out[i][j] = input[index[i][j]][j] for dim 0 (and likewise for other dims).

    PyTorch's checks, in its order: ``dim`` in range; an empty index gives an empty result
    of its shape; else the index has the input's number of dims (a 0-d tensor counting as
    1-d) and sizes no larger outside ``dim``, and its values lie in the dim."""
    x = _as_tensor(input)
    index = np.asarray(index.data if hasattr(index, "data") else index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather: index must be an integer tensor, got {index.dtype}")
    d = _dim(dim, x.ndim, "gather")
    if index.size == 0:
        return x.reshape(-1)[:0].reshape(index.shape)
    if max(index.ndim, 1) != max(x.ndim, 1):
        raise ShapeError(f"gather: index has {index.ndim} dims but input has {x.ndim}")
    for i, (n, m) in enumerate(zip(index.shape, x.shape)):
        if i != d and n > m:
            raise ShapeError(f"gather: index of shape {tuple(index.shape)} is larger than "
                             f"the input {tuple(x.shape)} at dim {i} (only dim {d} may be)")
    size = x.shape[d] if x.ndim else 1
    if index.min() < 0 or index.max() >= size:  # NumPy would wrap -1
        bad = int(index.min()) if index.min() < 0 else int(index.max())
        raise IndexOutOfRangeError(f"gather(): index {bad} is out of bounds for dimension {d} "
                                   f"with size {size}")
    if x.ndim == 0 or index.ndim == 0:  # a 0-d tensor counts as one element in a 1-d one
        return Gather.apply(x.reshape(-1), 0, index.reshape(-1)).reshape(index.shape)
    return Gather.apply(x, d, index)


def take_along_dim(input: Any, indices: Any, dim: int | None = None):  # noqa: A002
    """Values of ``input`` at ``indices`` along ``dim``, the other dims broadcast between the
    two (NumPy's take_along_axis); without ``dim``, of the flattened input at the flattened
    indices. Indices are int64; a negative one counts from the end, one outside the dim
    raises (PyTorch wraps those around on the ``dim`` path)."""
    x = _as_tensor(input)
    index = np.asarray(indices.data if hasattr(indices, "data") else indices)
    if index.dtype != np.int64:
        raise TypeError(f"take_along_dim(): dtype of indices should be int64, got "
                        f"{index.dtype}")
    if dim is None:
        x, index, d = x.reshape(-1), index.reshape(-1), 0
    else:
        if x.ndim == 0:
            raise IndexError("take_along_dim(): dimension specified as 0 but tensor has no "
                             "dimensions")
        d = _dim(dim, x.ndim, "take_along_dim")
        if index.ndim != x.ndim:
            raise ShapeError(f"take_along_dim(): input and indices should have the same number "
                             f"of dimensions, got {x.ndim} and {index.ndim}")
        try:
            shape = np.broadcast_shapes(x.shape[:d] + (1,) + x.shape[d + 1:],
                                        index.shape[:d] + (1,) + index.shape[d + 1:])
        except ValueError:
            raise ShapeError(f"take_along_dim(): shapes {tuple(x.shape)} and "
                             f"{tuple(index.shape)} do not broadcast outside dim {d}") from None
        x = expand(x, shape[:d] + (x.shape[d],) + shape[d + 1:])
        index = np.broadcast_to(index, shape[:d] + (index.shape[d],) + shape[d + 1:])
    size = x.shape[d]
    if index.size and (index.min() < -size or index.max() >= size):
        bad = int(index.min()) if index.min() < -size else int(index.max())
        raise IndexOutOfRangeError(f"take_along_dim(): index {bad} is out of bounds for "
                                   f"dimension {d} with size {size}")
    return gather(x, d, np.where(index < 0, index + size, index))
