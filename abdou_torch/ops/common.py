"""More of ``torch.*`` that tutorials use: rounding, ``repeat``/``tile``, diagonals,
stacking helpers, masks and counts.

Piecewise-constant functions (``floor``, ``ceil``, ``round``, ``trunc``, ``sign``) are one
primitive, ``Step``: y = f(x), dx = 0, so that their results take part in a graph as in
PyTorch (``grad_fn=<FloorBackward0>``). Everything else differentiable here is composed of
existing ops (expand, reshape, gather, cat, arithmetic), so its gradient is theirs.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..errors import ShapeError
from ..tensor import Tensor
from .elementwise import _as_tensor, _operands, _values, where
from .shape import cat, expand, gather, reshape

__all__ = ["floor", "ceil", "round", "trunc", "frac", "sign", "reciprocal", "rsqrt", "lerp",
           "fmod", "remainder", "repeat", "tile", "repeat_interleave", "swapaxes", "diagonal",
           "diag", "trace", "hstack", "vstack", "column_stack", "meshgrid", "nonzero", "unique",
           "count_nonzero", "isinf", "nan_to_num", "logical_and", "logical_or", "logical_xor",
           "is_tensor", "numel", "softmax", "log_softmax", "dropout"]


class Step(Primitive):
    """y = f(x) for a piecewise-constant f (floor, ceil, round, trunc, sign);  dx = 0"""

    saves_inputs = False

    @property
    def grad_fn_name(self) -> str:
        return f"{self.function.capitalize()}Backward0"

    def forward(self, x, function: str):
        self.function = function
        if function == "round":
            return np.round(x)  # half to even, as PyTorch
        return getattr(np, function)(x)

    def backward(self, xp, dy):
        return dy * 0


def _step(function: str, input: Any) -> Tensor:  # noqa: A002
    x = _as_tensor(input)
    if x.dtype.kind in "iub":
        if x.dtype.kind == "b" and function != "sign":
            raise TypeError(f"{function}: not implemented for bool tensors")
        return x.clone() if function != "sign" else Step.apply(x, function)
    return Step.apply(x, function)


def floor(input: Any) -> Tensor:  # noqa: A002
    """The largest integer at most x (integer tensors come back unchanged); zero gradient."""
    return _step("floor", input)


def ceil(input: Any) -> Tensor:  # noqa: A002
    """The smallest integer at least x; zero gradient."""
    return _step("ceil", input)


def round(input: Any, *, decimals: int = 0) -> Tensor:  # noqa: A001,A002
    """x rounded half to even (to ``decimals`` places: round(x 10^d) / 10^d); zero gradient."""
    if decimals:
        scale = 10.0 ** decimals
        return _step("round", _as_tensor(input) * scale) / scale
    return _step("round", input)


def trunc(input: Any) -> Tensor:  # noqa: A002
    """x rounded toward zero; zero gradient."""
    return _step("trunc", input)


def sign(input: Any) -> Tensor:  # noqa: A002
    """-1, 0 or 1 (0 for NaN, as PyTorch); zero gradient."""
    return _step("sign", where(_isnan(input), 0.0, input) if _is_float(input) else input)


def frac(input: Any) -> Tensor:  # noqa: A002
    """y = x - trunc(x);  dx = dy"""
    x = _as_tensor(input)
    return x - trunc(x)


def reciprocal(input: Any) -> Tensor:  # noqa: A002
    """y = 1 / x (integers give floats)."""
    x = _as_tensor(input)
    return 1.0 / (x if _is_float(x) else x.float())


def rsqrt(input: Any) -> Tensor:  # noqa: A002
    """y = 1 / sqrt(x)."""
    x = _as_tensor(input)
    return (x if _is_float(x) else x.float()) ** -0.5


def lerp(input: Any, end: Any, weight: Any) -> Tensor:  # noqa: A002
    """y = start + weight (end - start)."""
    start = _as_tensor(input)
    return start + weight * (end - start)


def fmod(input: Any, other: Any) -> Tensor:  # noqa: A002
    """C's remainder: a - trunc(a / b) b, the sign of a;  da = dy, db = -trunc(a / b) dy"""
    a, b = _operands(input, other)
    if _values(a).dtype.kind in "iu":
        return Tensor._wrap(np.fmod(_values(a), _values(b)), False)
    return a - trunc(a / b).detach() * b


def remainder(input: Any, other: Any) -> Tensor:  # noqa: A002
    """Python's modulo: a - floor(a / b) b, the sign of b;  da = dy, db = -floor(a / b) dy"""
    a, b = _operands(input, other)
    if _values(a).dtype.kind in "iu":
        return Tensor._wrap(np.remainder(_values(a), _values(b)), False)
    return a - floor(a / b).detach() * b


# -- repeating, diagonals, stacking ---------------------------------------------------------
def repeat(input: Any, *sizes: Any) -> Tensor:  # noqa: A002
    """``Tensor.repeat``: the whole tensor tiled ``sizes[i]`` times along dim i (sizes may add
    leading dims). Written as reshape to (1, n0, 1, n1, ...), expand, reshape."""
    x = _as_tensor(input)
    reps = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
        else tuple(sizes)
    if len(reps) < x.ndim:
        raise RuntimeError(f"repeat: number of repeat dims ({len(reps)}) can not be smaller "
                           f"than number of dimensions of tensor ({x.ndim})")
    if any(int(r) < 0 for r in reps):
        raise RuntimeError(f"repeat: trying to create tensor with negative dimension: {reps}")
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    paired = [n for size in shape for n in (1, size)]
    grown = [n for r, size in zip(reps, shape) for n in (int(r), size)]
    out = expand(reshape(x, tuple(paired)), tuple(grown))
    return reshape(out, tuple(int(r) * size for r, size in zip(reps, shape)))


def tile(input: Any, dims: Sequence[int]) -> Tensor:  # noqa: A002
    """``torch.tile``: repeat, with ``dims`` padded by leading ones to the tensor's rank."""
    x = _as_tensor(input)
    dims = tuple(dims)
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def repeat_interleave(input: Any, repeats: Any, dim: int | None = None) -> Tensor:  # noqa: A002
    """Each element repeated ``repeats`` times along ``dim`` (the flattened tensor without
    ``dim``); ``repeats`` an int or one count per element, as a gather of repeated indices."""
    x = _as_tensor(input)
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    dim = dim % max(x.ndim, 1)
    counts = np.asarray(_values(repeats) if isinstance(repeats, Tensor) else repeats)
    if counts.ndim == 0:
        counts = np.full(x.shape[dim], int(counts))
    if counts.shape != (x.shape[dim],) or (counts < 0).any():
        raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                           f"along dim {dim} ({x.shape[dim]}) and be non-negative, got "
                           f"{counts.tolist()}")
    picks = np.repeat(np.arange(x.shape[dim]), counts)
    index = np.expand_dims(picks, tuple(d for d in range(x.ndim) if d != dim))
    shape = tuple(len(picks) if d == dim else n for d, n in enumerate(x.shape))
    return gather(x, dim, np.broadcast_to(index, shape).copy())


def swapaxes(input: Any, axis0: int, axis1: int) -> Tensor:  # noqa: A002
    """``torch.swapaxes``: transpose two dims."""
    return _as_tensor(input).transpose(axis0, axis1)


def diagonal(input: Any, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """The elements x[..., i, i + offset] (dims dim1, dim2 moved last and gathered), as the
    last dim: an indexed read, so the gradient scatters back onto the diagonal."""
    x = _as_tensor(input)
    if x.ndim < 2:
        raise IndexError(f"diagonal: dimension out of range (a tensor of {x.ndim} dims has "
                         f"no dims {dim1} and {dim2})")
    dim1, dim2 = dim1 % x.ndim, dim2 % x.ndim
    if dim1 == dim2:
        raise RuntimeError(f"diagonal: dimensions cannot be identical {dim1}, {dim2}")
    moved = x.permute(*[d for d in range(x.ndim) if d not in (dim1, dim2)], dim1, dim2)
    rows, cols = moved.shape[-2:]
    start_row, start_col = max(-offset, 0), max(offset, 0)
    length = max(min(rows - start_row, cols - start_col), 0)
    i = np.arange(length)
    return moved[(Ellipsis, i + start_row, i + start_col)]


def diag(input: Any, diagonal: int = 0) -> Tensor:  # noqa: A002
    """A 1-D input becomes the ``diagonal`` of a square matrix; a 2-D input gives its
    diagonal."""
    x = _as_tensor(input)
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    if x.ndim != 1:
        raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got {x.ndim} dims")
    n, size = x.shape[0], x.shape[0] + abs(diagonal)
    # every position of the square reads element 0 of [0, x...] (a zero) or its x
    padded = cat([Tensor._wrap(np.zeros(1, dtype=x.dtype), False), x], 0)
    rows, cols = np.arange(n) + max(-diagonal, 0), np.arange(n) + max(diagonal, 0)
    pick = np.zeros((size, size), dtype=np.int64)
    pick[rows, cols] = np.arange(1, n + 1)
    return padded[pick]


def trace(input: Any) -> Tensor:  # noqa: A002
    """The sum of the main diagonal of a 2-D tensor."""
    x = _as_tensor(input)
    if x.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, got {x.ndim} dims")
    return diagonal(x).sum()


def hstack(tensors: Sequence[Any]) -> Tensor:
    """Concatenate along dim 1 (dim 0 for 1-D tensors)."""
    parts = [_as_tensor(t) for t in tensors]
    parts = [reshape(t, (1,)) if t.ndim == 0 else t for t in parts]
    return cat(parts, 0 if parts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """Concatenate along dim 0, 0-d and 1-D tensors read as rows."""
    parts = [_as_tensor(t) for t in tensors]
    return cat([reshape(t, (1, -1)) if t.ndim < 2 else t for t in parts], 0)


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """Concatenate along dim 1, 0-d and 1-D tensors read as columns."""
    parts = [_as_tensor(t) for t in tensors]
    return cat([reshape(t, (-1, 1)) if t.ndim < 2 else t for t in parts], 1)


def meshgrid(*tensors: Any, indexing: str = "ij") -> tuple[Tensor, ...]:
    """Coordinate grids of 1-D tensors (``indexing`` 'ij', PyTorch's default, or 'xy')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    parts = [_as_tensor(t) for t in tensors]
    if any(t.ndim > 1 for t in parts):
        raise RuntimeError("meshgrid: expects all tensors to be 0-D or 1-D")
    parts = [reshape(t, (-1,)) for t in parts]
    swap = indexing == "xy" and len(parts) >= 2
    if swap:
        parts[0], parts[1] = parts[1], parts[0]
    shape = tuple(t.shape[0] for t in parts)
    grids = [expand(reshape(t, tuple(-1 if d == i else 1 for d in range(len(parts)))), shape)
             for i, t in enumerate(parts)]
    if swap:  # the 'ij' grids of (y, x, ...) are the 'xy' grids of (x, y, ...), swapped back
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


# -- masks, counts and tests (no gradient) -------------------------------------------------
def nonzero(input: Any, *, as_tuple: bool = False) -> Any:  # noqa: A002
    """Indices of the non-zero elements: an (n, ndim) int64 tensor, or one per dim."""
    values = _values(_as_tensor(input))
    found = np.nonzero(values) if values.ndim else np.nonzero(values.reshape(1))
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(np.int64), False) for i in found)
    stacked = np.stack(found, axis=1) if values.ndim else np.zeros((len(found[0]), 0))
    return Tensor._wrap(stacked.astype(np.int64), False)


def unique(input: Any, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct values, sorted (with the inverse indices and counts when asked)."""
    values = _values(_as_tensor(input))
    if dim is not None:
        raise NotImplementedError("unique(dim=...) is not available in abdou_torch")
    found, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    results = [Tensor._wrap(found, False)]
    if return_inverse:
        results.append(Tensor._wrap(inverse.reshape(values.shape).astype(np.int64), False))
    if return_counts:
        results.append(Tensor._wrap(counts.astype(np.int64), False))
    return results[0] if len(results) == 1 else tuple(results)


def count_nonzero(input: Any, dim: Any = None) -> Tensor:  # noqa: A002
    """The number of non-zero elements (over ``dim``), int64."""
    values = _values(_as_tensor(input))
    return Tensor._wrap(np.asarray(np.count_nonzero(values, axis=dim), dtype=np.int64), False)


def _isnan(input: Any) -> np.ndarray:
    return np.isnan(_values(_as_tensor(input)))


def _is_float(input: Any) -> bool:
    return _values(_as_tensor(input)).dtype.kind == "f"


def isinf(input: Any) -> Tensor:  # noqa: A002
    return Tensor._wrap(np.isinf(_values(_as_tensor(input))), False)


def nan_to_num(input: Any, nan: float = 0.0, posinf: float | None = None,  # noqa: A002
               neginf: float | None = None) -> Tensor:
    """NaN to ``nan``, infinities to ``posinf``/``neginf`` (the dtype's extremes by default);
    dx = dy where x was finite, else 0."""
    x = _as_tensor(input)
    values = _values(x)
    if values.dtype.kind != "f":
        return x.clone()
    info = np.finfo(values.dtype)
    big = info.max if posinf is None else posinf
    small = info.min if neginf is None else neginf
    replaced = np.where(np.isnan(values), nan, np.where(values > 0, big, small))
    return where(np.isfinite(values), x, replaced.astype(values.dtype))


def _logical(name: str, compute):
    def function(input: Any, other: Any) -> Tensor:  # noqa: A002
        a, b = _values(_as_tensor(input)), _values(_as_tensor(other))
        try:
            return Tensor._wrap(compute(a.astype(bool), b.astype(bool)), False)
        except ValueError:
            raise ShapeError(f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot "
                             f"be broadcast together") from None
    function.__name__ = function.__qualname__ = name
    return function


logical_and = _logical("logical_and", np.logical_and)
logical_or = _logical("logical_or", np.logical_or)
logical_xor = _logical("logical_xor", np.logical_xor)


def is_tensor(obj: Any) -> bool:
    """True for abdou_torch tensors (and Parameters)."""
    return isinstance(obj, Tensor)


def numel(input: Any) -> int:  # noqa: A002
    """The number of elements."""
    return int(np.size(_values(_as_tensor(input))))


# -- torch.softmax and friends: nn.functional's, with torch's positional order -------------
def softmax(input: Any, dim: int, dtype: Any = None) -> Tensor:  # noqa: A002
    """``torch.softmax(input, dim, dtype=None)``: ``nn.functional.softmax``."""
    from ..nn import functional
    return functional.softmax(input, dim, dtype=dtype)


def log_softmax(input: Any, dim: int, dtype: Any = None) -> Tensor:  # noqa: A002
    """``torch.log_softmax(input, dim, dtype=None)``: ``nn.functional.log_softmax``."""
    from ..nn import functional
    return functional.log_softmax(input, dim, dtype=dtype)


def dropout(input: Any, p: float, train: bool) -> Tensor:  # noqa: A002
    """``torch.dropout(input, p, train)``: ``nn.functional.dropout``."""
    from ..nn import functional
    return functional.dropout(input, p, train)
