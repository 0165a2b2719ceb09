"""Softmax and log-softmax along one dim, each one fused primitive.

As composites they would make five passes over the input forward (max, subtract, exp,
sum, divide) and as many nodes backward; attention and every classifier's loss run them,
so each is one node whose gradient is stated in closed form:

- softmax:      y = exp(x - m) / sum(exp(x - m)),   dx = y * (dy - sum(dy * y))
- log-softmax:  y = (x - m) - log(sum(exp(x - m))), dx = dy - exp(y) * sum(dy)

with the sums along ``dim`` and m the maximum along ``dim`` (subtracting it changes
neither the value nor the gradient of the exact function, and keeps exp finite). As in
PyTorch, a row whose maximum is not finite gives NaN throughout: +inf - inf and
-inf - (-inf) are NaN (logsumexp, by contrast, treats such rows specially).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Primitive

__all__ = ["Softmax", "LogSoftmax"]


def _shifted(x: np.ndarray, dim: int) -> np.ndarray:
    """x - max(x) along ``dim``."""
    if x.size == 0:
        return x.copy()
    with np.errstate(invalid="ignore"):  # inf - inf: the NaN PyTorch gives too
        return np.subtract(x, np.max(x, axis=dim, keepdims=True), dtype=x.dtype)


class Softmax(Primitive):
    """y = exp(x - m) / sum(exp(x - m)) along dim;  dx = y * (dy - sum(dy * y) along dim)"""

    saves_inputs = False
    saves_output = True

    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        e = np.exp(_shifted(x, dim))
        e /= np.sum(e, axis=dim, keepdims=True)
        return e

    def backward(self, xp, dy):
        y = xp.value(self.output)
        if xp.arrays and dy.dtype == np.float16:  # PyTorch computes half in float
            y, wide = y.astype(np.float32), dy.astype(np.float32)
            return (y * (wide - np.sum(wide * y, self.dim, keepdims=True))).astype(dy.dtype)
        return y * (dy - xp.sum(dy * y, (self.dim,), True))


class LogSoftmax(Primitive):
    """y = (x - m) - log(sum(exp(x - m))) along dim;  dx = dy - exp(y) * sum(dy) along dim"""

    name = "log_softmax"
    saves_inputs = False
    saves_output = True

    def forward(self, x: np.ndarray, dim: int) -> np.ndarray:
        self.dim = dim
        z = _shifted(x, dim)
        z -= np.log(np.sum(np.exp(z), axis=dim, keepdims=True))
        return z

    def backward(self, xp, dy):
        y = xp.value(self.output)
        if xp.arrays and dy.dtype == np.float16:  # PyTorch computes half in float
            y, wide = y.astype(np.float32), dy.astype(np.float32)
            return (wide - np.exp(y) * np.sum(wide, self.dim, keepdims=True)).astype(dy.dtype)
        return dy - xp.exp(y) * xp.sum(dy, (self.dim,), True)
