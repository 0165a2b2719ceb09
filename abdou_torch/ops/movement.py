"""Ops that move values by position or keep them by position: flip, roll, tril, triu.

- ``flip`` is a primitive, its own inverse: dx = dy flipped back. (As an advanced index
  it would scatter its gradient element by element; a reversed copy costs one pass.)
- ``roll`` is a composite: the two pieces of each rolled dim joined in the other order.
- ``tril``/``triu`` are a ``where`` with a triangular mask: the gradient reaches the
  positions kept and no other.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..tensor import Tensor
from .elementwise import Where, _as_tensor
from .shape import _dim, cat, narrow

__all__ = ["flip", "fliplr", "flipud", "roll", "tril", "triu"]


class Flip(Primitive):
    """y = x reversed along dims (a copy);  dx = dy reversed along the same dims"""

    saves_inputs = False

    def forward(self, x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        self.dims = dims
        return np.flip(x, dims).copy()

    def backward(self, xp, dy):
        return xp.apply(Flip, dy, self.dims)


def _dims_list(dims: Any, ndim: int, op: str) -> tuple[int, ...]:
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    normalized = tuple(_dim(int(d), ndim, op) for d in dims)
    for d in normalized:
        if normalized.count(d) > 1:
            raise RuntimeError(f"{op}: dim {d} appears multiple times in the list of dims "
                               f"{list(dims)}")
    return normalized


def flip(input: Any, dims: Any) -> Tensor:  # noqa: A002
    """``input`` with the order of its elements reversed along each of ``dims``."""
    x = _as_tensor(input)
    dims = _dims_list(dims, x.ndim, "flip")
    if x.ndim == 0 or not dims:
        return x.clone()
    return Flip.apply(x, dims)


def fliplr(input: Any) -> Tensor:  # noqa: A002
    """Flip left-right: reverse dim 1 (input of at least 2 dims)."""
    x = _as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"fliplr: input must be >= 2-d, got shape {tuple(x.shape)}")
    return Flip.apply(x, (1,))


def flipud(input: Any) -> Tensor:  # noqa: A002
    """Flip up-down: reverse dim 0 (input of at least 1 dim)."""
    x = _as_tensor(input)
    if x.ndim < 1:
        raise RuntimeError("flipud: input must be >= 1-d, got a 0-d tensor")
    return Flip.apply(x, (0,))


def _roll_dim(x: Tensor, shift: int, dim: int) -> Tensor:
    """y[i] = x[(i - shift) mod n] along ``dim``: the last ``shift`` elements move first."""
    size = x.shape[dim]
    shift = shift % size if size else 0
    if shift == 0:
        return x
    return cat([narrow(x, dim, size - shift, shift), narrow(x, dim, 0, size - shift)], dim)


def roll(input: Any, shifts: Any, dims: Any = None) -> Tensor:  # noqa: A002
    """Shift elements along ``dims`` by ``shifts``, wrapping around the end; with
    ``dims=None`` the flattened tensor is rolled and the shape restored."""
    x = _as_tensor(input)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: with dims=None, shifts must be one int, got {shifts}")
        flat = x.reshape(-1)
        rolled = _roll_dim(flat, int(shifts[0]), 0)
        return x.clone() if rolled is flat else rolled.reshape(x.shape)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if x.ndim == 0 and dims:  # PyTorch's dim check, which a 0-d tensor always fails
        raise IndexError(f"roll: dimension specified as {dims[0]} but tensor has no "
                         f"dimensions")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align; shifts: {len(shifts)}, "
                           f"dims: {len(dims)}")
    result = x
    for shift, dim in zip(shifts, dims):
        result = _roll_dim(result, int(shift), _dim(int(dim), x.ndim, "roll"))
    return result.clone() if result is x else result


def _triangle(op: str, input: Any, diagonal: int, lower: bool) -> Tensor:  # noqa: A002
    x = _as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                           f"{tuple(x.shape)}")
    rows, cols = x.shape[-2:]
    keep = np.tri(rows, cols, diagonal, dtype=bool) if lower else \
        ~np.tri(rows, cols, diagonal - 1, dtype=bool)
    return Where.apply(keep, x, np.zeros((), dtype=x.dtype))


def tril(input: Any, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The lower triangle of the last two dims: y[i, j] = x[i, j] if j - i <= diagonal
    else 0."""
    return _triangle("tril", input, int(diagonal), True)


def triu(input: Any, diagonal: int = 0) -> Tensor:  # noqa: A002
    """The upper triangle of the last two dims: y[i, j] = x[i, j] if j - i >= diagonal
    else 0."""
    return _triangle("triu", input, int(diagonal), False)

