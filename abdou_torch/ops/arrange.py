"""Building, rearranging and combining tensors: products (kron, tensordot, mv, addr,
chain_matmul), block and diagonal builders, index helpers (index_copy, index_fill, take,
put, index_put, masked_scatter, scatter_reduce), splitting and stacking, rotations,
sliding windows (``Tensor.unfold``) and small conveniences (logspace, asarray ...).

Everything differentiable here is composed of existing primitives (reshape, expand,
indexing, where, matmul, cat), so its gradient is theirs. ``scatter_reduce``'s amax/amin
and prod need their own gradient (PyTorch's: shared evenly among the elements equal to the
result; the product of the others), so they are primitives.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..dtypes import as_dtype, get_default_dtype, result_dtype
from ..size import Size
from ..tensor import Tensor
from .elementwise import _as_tensor, _values, where
from .indexing import AddAt
from .shape import _dim, cat, narrow, stack

__all__ = ["kron", "tensordot", "mv", "addr", "chain_matmul", "multi_dot", "block_diag",
           "cartesian_prod", "combinations", "triu_indices", "tril_indices", "diag_embed",
           "diagflat", "broadcast_tensors", "broadcast_shapes", "index_copy", "index_fill",
           "take", "put", "index_put", "masked_scatter", "scatter_reduce", "rot90",
           "atleast_1d", "atleast_2d", "atleast_3d", "dstack", "row_stack", "tensor_split",
           "unflatten", "unfold", "logspace", "asarray", "clone", "is_floating_point", "t",
           "moveaxis", "empty_strided", "is_complex", "conj", "real", "imag"]


# -- products -----------------------------------------------------------------------------------
def kron(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The Kronecker product: y[i0 n0 + j0, ...] = a[i0, ...] b[j0, ...] (ranks padded with
    leading ones), as (a expanded) * (b expanded), interleaved and merged."""
    a, b = _as_tensor(input), _as_tensor(other)
    ndim = max(a.ndim, b.ndim)
    a_shape = (1,) * (ndim - a.ndim) + tuple(a.shape)
    b_shape = (1,) * (ndim - b.ndim) + tuple(b.shape)
    a = a.reshape(tuple(n for size in a_shape for n in (size, 1)))
    b = b.reshape(tuple(n for size in b_shape for n in (1, size)))
    return (a * b).reshape(tuple(m * n for m, n in zip(a_shape, b_shape)))


def tensordot(a: Any, b: Any, dims: Any = 2, out: Any = None) -> Tensor:
    """Sum over the last ``dims`` dims of a and the first of b (or the listed pairs):
    permute, reshape to matrices, one matmul."""
    x, y = _as_tensor(a), _as_tensor(b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(x.ndim, y.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got "
                               f"dims={dims}")
        dims_a, dims_b = list(range(x.ndim - dims, x.ndim)), list(range(int(dims)))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    dims_a = [_dim(d, x.ndim, "tensordot") for d in dims_a]
    dims_b = [_dim(d, y.ndim, "tensordot") for d in dims_b]
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    for da, db in zip(dims_a, dims_b):
        if x.shape[da] != y.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{x.shape[da]} in dim {da} and second has size "
                               f"{y.shape[db]} in dim {db}")
    free_a = [d for d in range(x.ndim) if d not in dims_a]
    free_b = [d for d in range(y.ndim) if d not in dims_b]
    size = math.prod(x.shape[d] for d in dims_a)
    left = x.permute(*free_a, *dims_a).reshape(math.prod(x.shape[d] for d in free_a), size)
    right = y.permute(*dims_b, *free_b).reshape(size, math.prod(y.shape[d] for d in free_b))
    return (left @ right).reshape(tuple(x.shape[d] for d in free_a) +
                                  tuple(y.shape[d] for d in free_b))


def mv(input: Any, vec: Any) -> Tensor:  # noqa: A002
    """The matrix-vector product (a 2-D and a 1-D tensor)."""
    m, v = _as_tensor(input), _as_tensor(vec)
    if m.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {m.ndim}, {v.ndim}")
    if m.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({m.shape[0]}x{m.shape[1]}), vec "
                           f"({v.shape[0]})")
    if m.dtype != v.dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {m.dtype} "
                           f"!= {v.dtype}")
    return m @ v


def addr(input: Any, vec1: Any, vec2: Any, *, beta: float = 1,  # noqa: A002
         alpha: float = 1) -> Tensor:
    """y = beta input + alpha outer(vec1, vec2) (beta = 0 ignores input, NaN included)."""
    a, b = _as_tensor(vec1), _as_tensor(vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {a.ndim}-D")
    product = a.reshape(-1, 1) * b.reshape(1, -1)
    if alpha != 1:
        product = product * alpha
    x = _as_tensor(input)
    if beta == 0:
        return product + x * 0 if x.dtype.kind != "f" else \
            product + where(np.zeros(x.shape, bool), x, np.zeros((), x.data.dtype))
    return product + (x * beta if beta != 1 else x)


def multi_dot(tensors: Sequence[Any]) -> Tensor:
    """The product of a chain of matrices (the first and last may be vectors)."""
    parts = [_as_tensor(t) for t in tensors]
    if len(parts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(parts)}")
    result = parts[0]
    for part in parts[1:]:
        result = result @ part
    return result


def chain_matmul(*matrices: Any) -> Tensor:
    """The product of 2-D matrices, left to right."""
    parts = [_as_tensor(m) for m in matrices]
    if not parts:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for part in parts:
        if part.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {part.ndim}, expected 2 instead.")
    return parts[0].clone() if len(parts) == 1 else multi_dot(parts)


# -- block and diagonal builders ----------------------------------------------------------------
def _common_dtype(parts: Sequence[Tensor]) -> Any:
    dtype = parts[0].data.dtype
    for part in parts[1:]:
        dtype = result_dtype(np.empty((1,), dtype), np.empty((1,), part.data.dtype))
    return dtype


def block_diag(*tensors: Any) -> Tensor:
    """The tensors (0-d, 1-D as rows, 2-D) along the diagonal of one matrix, zeros
    elsewhere."""
    parts = [_as_tensor(t) for t in tensors]
    for i, part in enumerate(parts):
        if part.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {part.ndim} dimensions")
    if not parts:
        return Tensor._wrap(np.zeros((1, 0), get_default_dtype()), False)
    dtype = _common_dtype(parts)
    parts = [p.reshape(1, 1) if p.ndim == 0 else p.reshape(1, -1) if p.ndim == 1 else p
             for p in parts]
    parts = [p if p.data.dtype == dtype else p.to(dtype) for p in parts]
    width = sum(p.shape[1] for p in parts)
    rows, left = [], 0
    for p in parts:
        before = Tensor._wrap(np.zeros((p.shape[0], left), dtype), False)
        after = Tensor._wrap(np.zeros((p.shape[0], width - left - p.shape[1]), dtype), False)
        rows.append(cat([before, p, after], 1))
        left += p.shape[1]
    return cat(rows, 0)


def cartesian_prod(*tensors: Any) -> Tensor:
    """Every combination of one element of each 1-D tensor, one per row (itertools.product
    order); one tensor comes back as is."""
    from .common import meshgrid
    parts = [_as_tensor(t) for t in tensors]
    for part in parts:
        if part.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(part.shape)}")
    if len(parts) == 1:
        return parts[0]
    grids = meshgrid(*parts, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


def combinations(input: Any, r: int = 2, with_replacement: bool = False) -> Tensor:  # noqa: A002
    """The length-r combinations of a 1-D tensor's elements, one per row (itertools'
    order); a gather of the chosen positions."""
    x = _as_tensor(input)
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._wrap(np.zeros((0,), x.data.dtype), False)
    choose = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    picks = np.array(list(choose(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    if picks.shape[0] == 0:
        return Tensor._wrap(np.zeros((0, r), x.data.dtype), False)
    return x[picks]


def _triangle_indices(upper: bool, row: int, col: int, offset: int, dtype: Any) -> Tensor:
    kind = np.int64 if dtype is None else as_dtype(dtype)
    if row < 0 or col < 0:
        raise RuntimeError(f"row must be non-negative, got {row}" if row < 0 else
                           f"col must be non-negative, got {col}")
    found = np.triu_indices(row, offset, col) if upper else np.tril_indices(row, offset, col)
    return Tensor._wrap(np.stack(found).astype(kind).reshape(2, -1), False)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, layout: Any = None) -> Tensor:
    """The (2, N) coordinates of the upper triangle of a row x col matrix, row by row."""
    return _triangle_indices(True, int(row), int(col), int(offset), dtype)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None, layout: Any = None) -> Tensor:
    """The (2, N) coordinates of the lower triangle of a row x col matrix, row by row."""
    return _triangle_indices(False, int(row), int(col), int(offset), dtype)


def diag_embed(input: Any, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """Matrices with the last dim of ``input`` on their ``offset`` diagonal, in dims
    (dim1, dim2) of the result: each element read from [0, x...] (a zero or an x)."""
    x = _as_tensor(input)
    ndim = x.ndim + 1
    d1, d2 = _dim(dim1, ndim, "diag_embed"), _dim(dim2, ndim, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = x.shape[-1] if x.ndim else 1
    x = x.reshape(1) if x.ndim == 0 else x
    size = n + abs(offset)
    zeros = Tensor._wrap(np.zeros(tuple(x.shape[:-1]) + (1,), x.data.dtype), False)
    padded = cat([zeros, x], -1)
    pick = np.zeros((size, size), dtype=np.int64)
    i = np.arange(n)
    pick[i + max(-offset, 0), i + max(offset, 0)] = i + 1
    out = padded[(Ellipsis, pick)]  # (..., size, size)
    rest = [d for d in range(ndim) if d not in (d1, d2)]
    order = [0] * ndim
    for position, d in enumerate(rest):
        order[d] = position
    order[d1], order[d2] = ndim - 2, ndim - 1
    return out.permute(*order)


def diagflat(input: Any, offset: int = 0) -> Tensor:  # noqa: A002
    """The flattened input on the ``offset`` diagonal of a square matrix."""
    from .common import diag
    return diag(_as_tensor(input).reshape(-1), offset)


def broadcast_shapes(*shapes: Any) -> Size:
    """The shape that the given shapes broadcast to."""
    normalized = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    try:
        return Size(np.broadcast_shapes(*normalized))
    except ValueError:
        raise RuntimeError(f"Shape mismatch: objects cannot be broadcast to a single shape "
                           f"({normalized})") from None


def broadcast_tensors(*tensors: Any) -> tuple[Tensor, ...]:
    """The tensors expanded to their common shape."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    parts = [_as_tensor(t) for t in tensors]
    shape = broadcast_shapes(*[p.shape for p in parts])
    return tuple(p.expand(*shape) for p in parts)


# -- index helpers ------------------------------------------------------------------------------
def _dim_mask(x: Tensor, dim: int, positions: np.ndarray) -> np.ndarray:
    """A bool array of x's shape, True on the listed positions along ``dim``."""
    mask = np.zeros(x.shape[dim] if x.ndim else 1, dtype=bool)
    mask[positions] = True
    shape = [1] * max(x.ndim, 1)
    shape[dim] = mask.size
    return np.broadcast_to(mask.reshape(shape), tuple(x.shape) or (1,)).reshape(x.shape)


def _index_vector(op: str, index: Any, size: int) -> np.ndarray:
    positions = np.asarray(_values(_as_tensor(index)))
    if positions.dtype.kind not in "iu":
        raise IndexError(f"{op}(): Expected dtype int64 for index")
    if positions.ndim > 1:
        raise IndexError(f"{op}(): Index is supposed to be a vector")
    positions = positions.reshape(-1).astype(np.int64)
    if positions.size and (positions.max() >= size or positions.min() < -size):
        raise IndexError(f"{op}(): index out of range in self (size {size})")
    return positions % max(size, 1)


def index_fill(input: Any, dim: int, index: Any, value: Any) -> Tensor:  # noqa: A002
    """``input`` with the slices at ``index`` along ``dim`` set to ``value`` (a number or
    a 0-d tensor, which then receives the gradient of those places)."""
    x = _as_tensor(input)
    axis = _dim(dim, x.ndim, "index_fill")
    positions = _index_vector("index_fill", index, x.shape[axis] if x.ndim else 1)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        value = value.to(x.dtype) if value.dtype != x.dtype else value
    else:
        value = np.asarray(value, dtype=x.data.dtype)
    return where(_dim_mask(x, axis, positions), value, x)


def index_copy(input: Any, dim: int, index: Any, source: Any) -> Tensor:  # noqa: A002
    """``input`` with slice ``index[i]`` along ``dim`` replaced by slice i of ``source``."""
    x, src = _as_tensor(input), _as_tensor(source)
    axis = _dim(dim, x.ndim, "index_copy")
    positions = _index_vector("index_copy", index, x.shape[axis] if x.ndim else 1)
    expected = list(x.shape)
    if expected:
        expected[axis] = positions.size
    if list(src.shape) != expected and not (x.ndim == 0 and src.numel() == positions.size):
        raise RuntimeError(f"index_copy_(): Source/destination tensor must have same slice "
                           f"shapes. Destination slice shape: {tuple(x.shape)} at dimension "
                           f"{axis} and source slice shape: {tuple(src.shape)}")
    if src.dtype != x.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {x.dtype} and (source) {src.dtype}")
    where_index = tuple(positions if d == axis else slice(None) for d in range(x.ndim))
    zeros = Tensor._wrap(np.zeros(x.shape, x.data.dtype), False)
    placed = AddAt.apply(zeros, src.reshape(x.shape if x.ndim == 0 else src.shape),
                         where_index)
    return where(_dim_mask(x, axis, positions), placed, x)


def take(input: Any, index: Any) -> Tensor:  # noqa: A002
    """The elements of the flattened input at ``index`` (the result has index's shape)."""
    x = _as_tensor(input)
    positions = np.asarray(_values(_as_tensor(index)))
    if positions.dtype.kind not in "iu":
        raise RuntimeError("take(): Expected a long tensor for index")
    size = x.numel()
    if positions.size and (positions.max() >= size or positions.min() < -size):
        raise IndexError(f"take(): index out of range for a tensor of {size} elements")
    return x.reshape(-1)[positions.astype(np.int64)]


def put(input: Any, index: Any, source: Any, accumulate: bool = False) -> Tensor:  # noqa: A002
    """``input`` with its flattened elements at ``index`` set to (or, with ``accumulate``,
    increased by) ``source``'s."""
    x, src = _as_tensor(input), _as_tensor(source)
    positions = np.asarray(_values(_as_tensor(index))).reshape(-1).astype(np.int64)
    if positions.size != src.numel():
        raise RuntimeError(f"put_(): Expected source and index to have the same number of "
                           f"elements, but got source.numel() = {src.numel()}, "
                           f"index.numel() = {positions.size}")
    size = x.numel()
    if positions.size and (positions.max() >= size or positions.min() < -size):
        raise IndexError(f"put_(): index out of range for a tensor of {size} elements")
    flat = x.reshape(-1)
    positions = positions % max(size, 1)
    return index_put(flat, (positions,), src.reshape(-1), accumulate).reshape(x.shape)


def index_put(input: Any, indices: Any, values: Any, accumulate: bool = False) -> Tensor:  # noqa: A002
    """``input`` with ``input[indices] = values`` (``accumulate``: ``+=``, repeated indices
    adding up)."""
    x = _as_tensor(input)
    key = tuple(_values(i) if isinstance(i, Tensor) else i for i in indices)
    v = _as_tensor(values)
    if v.dtype != x.dtype:
        v = v.to(x.dtype)
    if accumulate:
        target_shape = np.empty(x.shape, dtype=bool)[key].shape
        return AddAt.apply(x, v.expand(*target_shape), key)
    out = x.clone()
    out[key] = v
    return out


def masked_scatter(input: Any, mask: Any, source: Any) -> Tensor:  # noqa: A002
    """``input`` with the places where ``mask`` is true filled, in order, from ``source``'s
    leading elements."""
    x, src = _as_tensor(input), _as_tensor(source)
    flags = np.asarray(_values(_as_tensor(mask)))
    if flags.dtype != np.bool_:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {flags.dtype}")
    flags = np.broadcast_to(flags, x.shape)
    count = int(flags.sum())
    if count > src.numel():
        raise RuntimeError("masked_scatter: expected source to have at least as many "
                           "elements as ones in mask")
    order = np.clip(np.cumsum(flags.reshape(-1)) - 1, 0, None).reshape(x.shape)
    picked = src.reshape(-1)[order] if src.numel() else x
    return where(flags, picked.to(x.dtype) if picked.dtype != x.dtype else picked, x)


class ScatterExtreme(Primitive):
    """y = x with src's elements reduced into it at index along dim by max (or min);
    dx = dy / c where x equals y, dsrc = dy[index] / c[index] where src equals y[index],
    c the number of contributors equal to the result (PyTorch's shared gradient)"""

    torch_grad_fn = "ScatterReduceBackward0"

    def forward(self, x, src, dim: int, index: np.ndarray, largest: bool,
                include_self: bool):
        where_ = _along(index, dim)
        out = x.copy()
        if not include_self:
            touched = np.zeros(x.shape, bool)
            touched[where_] = True
            lowest = -np.inf if largest else np.inf
            if x.dtype.kind in "iu":
                info = np.iinfo(x.dtype)
                lowest = info.min if largest else info.max
            out[touched] = lowest
        (np.maximum if largest else np.minimum).at(out, where_, src)
        self.where, self.include_self = where_, include_self
        equal_self = x == out  # counted even when excluded, as PyTorch's formula does
        self.src_mask = src == out[where_]
        counts = equal_self.astype(np.int64)
        np.add.at(counts, where_, self.src_mask.astype(np.int64))
        self.self_mask = equal_self if include_self else equal_self & ~touched
        self.counts = np.maximum(counts, 1)
        return out

    def backward(self, xp, dy):
        shared = dy / self.counts.astype(_values(dy).dtype)
        zero = np.zeros((), _values(dy).dtype)
        dx = xp.where(self.self_mask, shared, zero)
        from .shape import Index
        dsrc = xp.where(self.src_mask, xp.apply(Index, shared, self.where), zero)
        return dx, dsrc


def _along(index: np.ndarray, dim: int) -> tuple:
    """The NumPy index that reads ``x[..., index[...], ...]`` along ``dim``."""
    grids: list[Any] = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(input: Any, dim: int, index: Any, src: Any, reduce: str, *,  # noqa: A002
                   include_self: bool = True) -> Tensor:
    """``input`` with each ``src[i][j]...`` reduced into ``input[..., index[i][j], ...]``
    along ``dim`` by sum, prod, mean, amax or amin (``include_self``: the original value
    takes part)."""
    x, source = _as_tensor(input), _as_tensor(src)
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, "
                           f"got {reduce}")
    axis = _dim(dim, x.ndim, "scatter_reduce")
    positions = np.asarray(_values(_as_tensor(index)))
    if positions.dtype != np.int64:
        raise RuntimeError("scatter_reduce(): Expected dtype int64 for index")
    if source.dtype != x.dtype:
        raise RuntimeError(f"scatter_reduce(): Expected self.dtype to be equal to src.dtype "
                           f"({x.dtype} and {source.dtype})")
    if positions.ndim != x.ndim or positions.ndim != source.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self "
                           "tensor")
    source = source[tuple(slice(0, n) for n in positions.shape)] if positions.ndim else source
    size = x.shape[axis] if x.ndim else 1
    if positions.size and (positions.max() >= size or positions.min() < -size):
        raise RuntimeError(f"index {int(positions.max())} is out of bounds for dimension "
                           f"{axis} with size {size}")
    positions = positions % max(size, 1)
    where_ = _along(positions, axis)
    touched = np.zeros(x.shape, bool)
    touched[where_] = True
    if reduce in ("amax", "amin"):
        return ScatterExtreme.apply(x, source, axis, positions, reduce == "amax", include_self)
    base = x if include_self else where(touched, np.zeros((), x.data.dtype), x)
    if reduce == "prod":
        return _scatter_prod(x, source, where_, touched, include_self)
    total = AddAt.apply(base, source, where_)
    if reduce == "sum":
        return total
    counts = np.zeros(x.shape, np.int64)
    np.add.at(counts, where_, 1)
    counts = counts + (1 if include_self else 0)
    counts = np.where(touched, np.maximum(counts, 1), 1)
    if x.dtype.kind in "iu":
        return Tensor._wrap((total.data // counts).astype(x.data.dtype), False)
    return total / counts.astype(x.data.dtype)


def _scatter_prod(x: Tensor, source: Tensor, where_: tuple, touched: np.ndarray,
                  include_self: bool) -> Tensor:
    """The product reduction as exp-free composite: each output is x (or 1) times the
    product of its contributors, gathered per contributor as a product over the others."""
    out = np.where(touched & (not include_self), np.ones((), x.data.dtype), x.data).copy()
    np.multiply.at(out, where_, source.data)
    if not (x.requires_grad or source.requires_grad):
        return Tensor._wrap(out, False)
    return ScatterProd.apply(x, source, where_, touched, include_self, out)


class ScatterProd(Primitive):
    """y = x (or 1) times the product of the src elements scattered to each place;
    dx = dy * (product of the others), dsrc = dy[index] * (product of the others): the
    product of the others is y / value where value != 0, else recomputed without it"""

    torch_grad_fn = "ScatterReduceBackward0"

    def forward(self, x, src, where_: tuple, touched: np.ndarray, include_self: bool,
                out: np.ndarray):
        self.where, self.touched, self.include_self = where_, touched, include_self
        self.out = out
        return out

    def _others(self, x: np.ndarray, src: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(for each x, for each src) the product of the other factors of its place, from
        prefix and suffix products of each place's factors (exact with zeros)."""
        x_others = np.ones(x.size, dtype=x.dtype)
        src_others = np.zeros(src.size, dtype=src.dtype)
        places = np.ravel_multi_index(tuple(a.reshape(-1) for a in np.broadcast_arrays(
            *self.where)), x.shape) if x.ndim else np.zeros(src.size, np.int64)
        flat_x, flat_src = x.reshape(-1), src.reshape(-1)
        order = np.argsort(places, kind="stable")
        boundaries = np.flatnonzero(np.diff(places[order])) + 1
        for group in np.split(order, boundaries) if order.size else []:
            place = int(places[group[0]])
            factors = ([flat_x[place]] if self.include_self else []) + list(flat_src[group])
            prefix = np.cumprod([1] + factors[:-1])
            suffix = np.cumprod(([1] + factors[::-1][:-1]))[::-1]
            others = prefix * suffix
            if self.include_self:
                x_others[place], others = others[0], others[1:]
            else:
                x_others[place] = 0
            src_others[group] = others
        return x_others.reshape(x.shape), src_others.reshape(src.shape)

    def backward(self, xp, dy):
        from .shape import Index
        x_others, src_others = self._others(self.inputs[0].data, self.inputs[1].data)
        return dy * x_others, xp.apply(Index, dy, self.where) * src_others


# -- rotations, stacking, splitting, windows ----------------------------------------------------
def rot90(input: Any, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """Rotate by 90 degrees k times in the plane of ``dims`` (from the first toward the
    second): flips and a transpose."""
    from .movement import flip
    x = _as_tensor(input)
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if x.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {x.ndim}")
    d0, d1 = _dim(dims[0], x.ndim, "rot90"), _dim(dims[1], x.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    k = int(k) % 4
    if k == 1:
        return flip(x, [d1]).transpose(d0, d1)
    if k == 2:
        return flip(x, [d0, d1])
    if k == 3:
        return flip(x, [d0]).transpose(d0, d1)
    return x.clone()


def atleast_1d(*tensors: Any) -> Any:
    parts = _atleast_parts(tensors)
    out = tuple(p.reshape(1) if p.ndim == 0 else p for p in parts)
    return out[0] if len(out) == 1 else out


def atleast_2d(*tensors: Any) -> Any:
    parts = _atleast_parts(tensors)
    out = tuple(p.reshape(1, -1) if p.ndim < 2 else p for p in parts)
    return out[0] if len(out) == 1 else out


def atleast_3d(*tensors: Any) -> Any:
    parts = _atleast_parts(tensors)
    out = tuple(p.reshape(1, 1, 1) if p.ndim == 0 else p.reshape(1, -1, 1) if p.ndim == 1
                else p.unsqueeze(-1) if p.ndim == 2 else p for p in parts)
    return out[0] if len(out) == 1 else out


def _atleast_parts(tensors: tuple) -> list:
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return [_as_tensor(t) for t in tensors]


def dstack(tensors: Sequence[Any]) -> Tensor:
    """Concatenate along dim 2, after making every tensor at least 3-D."""
    parts = [atleast_3d(t) for t in tensors]
    return cat(parts, 2)


def row_stack(tensors: Sequence[Any]) -> Tensor:
    """``vstack``."""
    from .common import vstack
    return vstack(tensors)


def tensor_split(input: Any, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:  # noqa: A002
    """Views along ``dim``: ``sections`` parts (the first size % sections one longer), or
    the pieces between the given indices."""
    x = _as_tensor(input)
    if x.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a "
                           "tensor with 0 dims")
    axis = _dim(dim, x.ndim, "tensor_split")
    size = x.shape[axis]
    spec = indices_or_sections
    if isinstance(spec, Tensor):
        if spec.dtype.kind not in "iu" or spec.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a "
                               "zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {spec.ndim} dims")
        spec = int(spec.item()) if spec.ndim == 0 else [int(i) for i in spec.tolist()]
    if isinstance(spec, (int, np.integer)):
        sections = int(spec)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        bounds = [0]
        for i in range(sections):
            bounds.append(bounds[-1] + small + (1 if i < extra else 0))
    else:
        bounds = [0] + [min(max(int(i) if int(i) >= 0 else int(i) + size, 0), size)
                        for i in spec] + [size]
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        start = min(start, size)
        pieces.append(narrow(x, axis, start, max(stop - start, 0)))
    return tuple(pieces)


def unflatten(input: Any, dim: int, sizes: Sequence[int]) -> Tensor:  # noqa: A002
    """Dim ``dim`` split into ``sizes`` (one may be -1)."""
    x = _as_tensor(input)
    axis = _dim(dim, x.ndim, "unflatten")
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[axis]) or \
            (-1 in sizes and (known == 0 or x.shape[axis] % known)):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({x.shape[axis]}) in the input tensor")
    return x.reshape(tuple(x.shape[:axis]) + sizes + tuple(x.shape[axis + 1:]))


def unfold(input: Any, dimension: int, size: int, step: int) -> Tensor:  # noqa: A002
    """``Tensor.unfold``: the windows of ``size`` elements every ``step`` along
    ``dimension``, that dim becoming the window count and a last dim of ``size`` added."""
    x = _as_tensor(input)
    if x.ndim == 0:
        if size > 1:
            raise RuntimeError(f"maximum size for tensor at dimension 0 is 1 but size is "
                               f"{size}")
        return x.reshape(1)
    axis = _dim(dimension, x.ndim, "unfold")
    length = x.shape[axis]
    if size > length:
        raise RuntimeError(f"maximum size for tensor at dimension {axis} is {length} but size "
                           f"is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    starts = np.arange(0, length - size + 1, step)
    windows = starts[:, None] + np.arange(size)[None, :]
    moved = x.movedim(axis, -1)
    out = moved[(Ellipsis, windows)]  # (..., count, size)
    return out.movedim(-2, axis)


# -- conveniences -------------------------------------------------------------------------------
def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False, layout: Any = None,
             out: Any = None) -> Tensor:
    """base ** linspace(start, end, steps)."""
    kind = get_default_dtype() if dtype is None else as_dtype(dtype)
    exponents = np.linspace(float(start), float(end), int(steps))
    values = np.power(float(base), exponents)
    if np.dtype(kind).kind in "iu":
        values = np.trunc(values)
    tensor = Tensor._wrap(values.astype(kind), False)
    return tensor.requires_grad_(True) if requires_grad else tensor


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: Any = None,
            requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor, sharing memory when it already is one of the dtype asked (and
    ``copy`` is not True)."""
    from ..factories import as_tensor, tensor
    if isinstance(obj, Tensor):
        result = obj
        if dtype is not None and result.dtype != as_dtype(dtype):
            result = result.to(dtype)
        elif copy:
            result = result.clone()
    elif copy or not isinstance(obj, np.ndarray):
        result = tensor(obj, dtype=dtype)
    else:
        result = as_tensor(obj, dtype=dtype)  # shares the array's memory
    return result.requires_grad_(True) if requires_grad and not result.requires_grad else \
        result


def clone(input: Any, *, memory_format: Any = None) -> Tensor:  # noqa: A002
    return _as_tensor(input).clone()


def is_floating_point(input: Any) -> bool:  # noqa: A002
    return _as_tensor(input).is_floating_point()


def is_complex(input: Any) -> bool:  # noqa: A002
    return _as_tensor(input).data.dtype.kind == "c"


def conj(input: Any) -> Tensor:  # noqa: A002
    """The complex conjugate: a real tensor itself."""
    x = _as_tensor(input)
    return x if x.data.dtype.kind != "c" else Tensor._wrap(np.conj(x.data), False)


def real(input: Any) -> Tensor:  # noqa: A002
    """The real part: a real tensor itself."""
    x = _as_tensor(input)
    return x if x.data.dtype.kind != "c" else Tensor._wrap(x.data.real.copy(), False)


def imag(input: Any) -> Tensor:  # noqa: A002
    x = _as_tensor(input)
    if x.data.dtype.kind != "c":
        raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
    return Tensor._wrap(x.data.imag.copy(), False)


def t(input: Any) -> Tensor:  # noqa: A002
    return _as_tensor(input).t()


def moveaxis(input: Any, source: Any, destination: Any) -> Tensor:  # noqa: A002
    return _as_tensor(input).movedim(source, destination)


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: Any = None,
                  layout: Any = None, device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor of ``size`` (NumPy chooses the strides; ``stride`` is
    checked for length only)."""
    from ..factories import empty
    if len(tuple(size)) != len(tuple(stride)):
        raise RuntimeError(f"mismatch in length of strides and shape ({len(tuple(size))} and "
                           f"{len(tuple(stride))})")
    return empty(tuple(size), dtype=dtype, requires_grad=requires_grad)

