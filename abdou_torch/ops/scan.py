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

#: PyTorch's CPU scans run float32 in double and float16 in float, rounding each output:
#: a running sum of [3e38, 3e38, -3e38] in float32 is [3e38, inf, 3e38], not [.., inf, inf]
_ACCUMULATE = {np.dtype(np.float32): np.float64, np.dtype(np.float16): np.float32}


def _running(ufunc: np.ufunc, x: np.ndarray, dim: int) -> np.ndarray:
    """ufunc.accumulate along ``dim`` in PyTorch's accumulation dtype, as x's dtype."""
    wide = _ACCUMULATE.get(x.dtype)
    if wide is None:
        return ufunc.accumulate(x, axis=dim)
    with np.errstate(over="ignore"):
        return ufunc.accumulate(x, axis=dim, dtype=wide).astype(x.dtype)


class Cumsum(Primitive):
    """y_i = 0 + sum_{j <= i} x_j along dim (sum_{j >= i} with ``reverse``);
    dx = dy summed the other way

    The sum starts from +0, as PyTorch's does, so a run of -0.0 at the start gives +0.0
    (NumPy starts from x_0 and keeps -0.0): fixed only when the first slice holds a zero.
    """

    saves_inputs = False

    def forward(self, x: np.ndarray, dim: int, reverse: bool = False) -> np.ndarray:
        self.dim, self.reverse = dim, reverse
        if reverse:
            y = np.ascontiguousarray(np.flip(_running(np.add, np.flip(x, dim), dim), dim))
        else:
            y = _running(np.add, x, dim)
        first = -1 if reverse else 0
        if x.dtype.kind == "f" and x.shape[dim] and (np.take(x, first, axis=dim) == 0).any():
            y += 0.0  # -0.0 + 0.0 = +0.0; every other value unchanged
        return y

    def backward(self, xp, dy):
        return xp.apply(Cumsum, dy, self.dim, not self.reverse)


class Cumprod(Primitive):
    """y_i = prod_{j <= i} x_j along dim;
    dx_i = sum_{j >= i} dy_j prod_{k <= j, k != i} x_k

    Without zeros in x that is (reverse cumsum of dy * y) / x. With zeros the division is
    not defined, so the sum is built with the recurrence s_i = dy_i + x_{i+1} s_{i+1} and
    dx_i = (prod_{k < i} x_k) s_i, exact and still differentiable (create_graph).

    Fast path (training walk, zeros present): PyTorch's O(n) masked form of the same sum,
    which leaves out every term with a zero factor instead of multiplying it by 0, so an
    infinite dy past a zero gives 0, not NaN, as in PyTorch.
    """

    saves_output = True

    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        return _running(np.multiply, x, dim)

    def backward(self, xp, dy):
        x = xp.value(self.inputs[0])
        if x.shape[self.dim] <= 1:  # y = x
            return dy
        if np.all(self.inputs[0].data != 0):
            y = xp.value(self.output)
            return xp.apply(Cumsum, dy * y, self.dim, True) / x
        if xp.arrays:
            return self._first_order_with_zeros(dy)
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

    def _first_order_with_zeros(self, dy: np.ndarray) -> np.ndarray:
        """The formula on arrays, by zero count: with z1, z2 the first two zeros,
        dx_k = (sum_{k <= j < z1} dy_j y_j) / x_k for k < z1,
        dx_z1 = y_{z1-1} sum_{z1 <= j < z2} dy_j prod_{z1 < l <= j} x_l, and dx_k = 0 after."""
        x, y, dim = self.inputs[0].data, self.output.data, self.dim
        is_zero = x == 0
        zeros_so_far = np.cumsum(is_zero, axis=dim)
        before_first = zeros_so_far == 0
        from_first = zeros_so_far == 1  # [z1, z2)
        first_zero = from_first & is_zero
        with np.errstate(all="ignore"):
            weighted = np.where(before_first, dy * y, 0)
            reversed_sums = np.flip(np.cumsum(np.flip(weighted, dim), axis=dim), dim)
            dx = np.where(before_first, reversed_sums / np.where(before_first, x, 1), 0)
            runs = np.cumprod(np.where(from_first & ~is_zero, x, 1), axis=dim)
            at_first = np.sum(runs * np.where(from_first, dy, 0), axis=dim, keepdims=True)
            ones = np.ones_like(np.take(y, [0], axis=dim))
            y_before = np.concatenate([ones, np.take(y, range(x.shape[dim] - 1), axis=dim)],
                                      axis=dim)
            return np.where(first_zero, y_before * at_first, dx).astype(dy.dtype, copy=False)


def _scan(primitive: type[Primitive], name: str, input: Any,  # noqa: A002
          dim: int, dtype: Any) -> Tensor:
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
