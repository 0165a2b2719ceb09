"""Scans: running sums and products along one dim (cumsum, cumprod).

The gradient of a running sum is a running sum taken the other way: each x_i feeds every
y_j with j >= i, so dx_i = sum_{j >= i} dy_j. ``Cumsum`` therefore has a ``reverse`` option
and its backward is itself with the direction flipped (closed under differentiation).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..tensor import Tensor
from .elementwise import _as_tensor
from .shape import Cat, Index, _dim

__all__ = ["cumsum", "cumprod"]


class Cumsum(Primitive):
    """y_i = sum_{j <= i} x_j along dim (sum_{j >= i} with ``reverse``);
    dx = dy summed the other way"""

    saves_inputs = False

    def forward(self, x: np.ndarray, dim: int, reverse: bool = False) -> np.ndarray:
        self.dim, self.reverse = dim, reverse
        if reverse:
            return np.ascontiguousarray(np.flip(np.cumsum(np.flip(x, dim), axis=dim), dim))
        return np.cumsum(x, axis=dim)

    def backward(self, xp, dy):
        return xp.apply(Cumsum, dy, self.dim, not self.reverse)


class Cumprod(Primitive):
    """y_i = prod_{j <= i} x_j along dim;
    dx_i = sum_{j >= i} dy_j prod_{k <= j, k != i} x_k

    Without zeros in x that is (reverse cumsum of dy * y) / x. With zeros the division is
    not defined, so the sum is built with the recurrence s_i = dy_i + x_{i+1} s_{i+1} and
    dx_i = (prod_{k < i} x_k) s_i, exact and still differentiable (create_graph).
    """

    saves_output = True

    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        return np.cumprod(x, axis=dim)

    def backward(self, xp, dy):
        x = xp.value(self.inputs[0])
        if np.all(self.inputs[0].data != 0):
            y = xp.value(self.output)
            return xp.apply(Cumsum, dy * y, self.dim, True) / x
        return self._backward_with_zeros(xp, dy, x)

    def _backward_with_zeros(self, xp, dy, x):
        dim, size = self.dim, x.shape[self.dim]

        def part(t, start, stop):
            return xp.apply(Index, t, (slice(None),) * dim + (slice(start, stop),))

        sums = [part(dy, size - 1, size)]
        for i in range(size - 2, -1, -1):
            sums.append(part(dy, i, i + 1) + part(x, i + 1, i + 2) * sums[-1])
        suffix = xp.apply(Cat, *reversed(sums), dim=dim)
        ones = np.ones(x.shape[:dim] + (1,) + x.shape[dim + 1:], dtype=dy.dtype)
        before = part(xp.apply(Cumprod, x, dim), 0, size - 1)
        prefix = xp.apply(Cat, ones, before, dim=dim)
        return prefix * suffix


def _scan(primitive: type, name: str, input: Any, dim: int, dtype: Any) -> Tensor:  # noqa: A002
    x = _as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    elif x.dtype.kind in "bui":  # PyTorch: integer and bool scans give int64
        x = x.to(np.int64)
    if x.ndim == 0:
        _dim(dim, 0, name)
        return primitive.apply(x.reshape(1), 0).reshape(())
    return primitive.apply(x, _dim(dim, x.ndim, name))


def cumsum(input: Any, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running sum along ``dim``: y_i = x_0 + ... + x_i (integers and bools give int64)."""
    return _scan(Cumsum, "cumsum", input, dim, dtype)


def cumprod(input: Any, dim: int, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Running product along ``dim``: y_i = x_0 * ... * x_i (integers and bools give int64)."""
    return _scan(Cumprod, "cumprod", input, dim, dtype)
