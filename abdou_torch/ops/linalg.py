"""Matrix products: ``matmul`` with PyTorch's 1-D and batched broadcasting rules, and the
fused affine map ``linear`` that every Linear layer calls."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..errors import ShapeError
from .elementwise import _as_tensor, _operands

__all__ = ["matmul", "mm", "bmm", "linear", "dot", "outer"]


class MatMul(Primitive):
    """y = A @ B with A = a or a^T, B = b or b^T (batched, broadcasting leading dims);
    dA = dy @ B^T, dB = A^T @ dy.

    The transposed forms (``transpose_a``/``transpose_b``, used by the gradient formulas)
    read a transposed view instead of recording a transpose op. A 1-D ``a`` acts as a row
    vector and a 1-D ``b`` as a column vector, and the added dim is removed from the result,
    so the gradients are written for those cases separately.
    """

    def forward(self, a, b, transpose_a: bool = False, transpose_b: bool = False):
        self.transposed = (transpose_a, transpose_b)
        if transpose_a:
            a = a.swapaxes(-1, -2)
        if transpose_b:
            b = b.swapaxes(-1, -2)
        try:
            return np.matmul(a, b)
        except ValueError:  # diagnosed only on failure: the checks cost as much as the op
            raise _matmul_error(a, b) from None

    def backward(self, dy):
        a, b = self.inputs[:2]
        need_a, need_b = self.needs_input_grad[:2]
        if a.ndim == 1 or b.ndim == 1:
            return self._vector_backward(dy, a, b, need_a, need_b)
        ta, tb = self.transposed
        apply = MatMul.apply
        da = db = None
        if need_a:  # dA = dy B^T; for a = A^T, da = B dy^T
            da = apply(b, dy, tb, True) if ta else apply(dy, b, False, not tb)
        if need_b:  # dB = A^T dy; for b = B^T, db = dy^T A
            db = apply(dy, a, True, ta) if tb else apply(a, dy, not ta, False)
        return da, db

    def backward_arrays(self, dy):
        a, b = self.inputs[0].data, self.inputs[1].data
        if a.ndim == 1 or b.ndim == 1:
            return super().backward_arrays(dy)
        ta, tb = self.transposed
        da = db = None
        if self.needs_input_grad[0]:
            da = np.matmul(_t(b, tb), _t(dy, True)) if ta else np.matmul(dy, _t(b, not tb))
        if self.needs_input_grad[1]:
            db = np.matmul(_t(dy, True), _t(a, ta)) if tb else np.matmul(_t(a, not ta), dy)
        return da, db

    @staticmethod
    def _vector_backward(dy, a, b, need_a, need_b):
        if a.ndim == 1 and b.ndim == 1:
            return (dy * b if need_a else None), (dy * a if need_b else None)
        if a.ndim == 1:
            da = (b @ dy.unsqueeze(-1)).squeeze(-1) if need_a else None
            db = a.unsqueeze(-1) * dy.unsqueeze(-2) if need_b else None
            return da, db
        da = dy.unsqueeze(-1) * b if need_a else None
        db = MatMul.apply(a, dy.unsqueeze(-1), True, False).squeeze(-1) if need_b else None
        return da, db


def _matmul_error(a: np.ndarray, b: np.ndarray) -> ShapeError:
    """Why ``a @ b`` is not defined, in the user's terms."""
    if a.ndim == 0 or b.ndim == 0:
        return ShapeError(f"matmul: both arguments need at least 1 dim, got shapes "
                          f"{a.shape} and {b.shape}")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        return ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                          f"({inner_a} != {inner_b})")
    return ShapeError(f"matmul: batch dims of {a.shape} and {b.shape} cannot be broadcast "
                      f"together")


class Linear(Primitive):
    """y = x W^T + b  (x: (..., in), W: (out, in), b: (out,))

    dx = dy W,  dW = sum over leading dims of dy^T x,  db = sum over leading dims of dy.
    One node instead of matmul + transpose + add: fewer temporaries on the hot path.
    """

    def forward(self, x, weight, bias):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ShapeError(f"linear: input of shape {x.shape} does not fit a weight of "
                             f"shape {weight.shape} (expected (..., {weight.shape[-1]}) "
                             f"input for weight (out_features, in_features))")
        out = x @ weight.T
        if bias is not None:
            if bias.shape != (weight.shape[0],):
                raise ShapeError(f"linear: bias of shape {bias.shape} does not match weight "
                                 f"of shape {weight.shape}")
            out += bias
        return out

    def backward(self, dy):
        x, weight, bias = self.inputs
        need_x, need_w, need_b = self.needs_input_grad
        dx = dy @ weight if need_x else None
        dw = db = None
        if need_w or need_b:
            dy2 = dy.reshape(-1, dy.shape[-1])
            if need_w:
                dw = MatMul.apply(dy2, x.reshape(-1, x.shape[-1]), True, False)
            if need_b:
                db = dy2.sum(0)
        return dx, dw, db

    def backward_arrays(self, dy):
        x, weight = self.inputs[0].data, self.inputs[1].data
        need_x, need_w, need_b = self.needs_input_grad
        dx = np.matmul(dy, weight) if need_x else None
        dy2 = dy.reshape(-1, dy.shape[-1])
        dw = np.matmul(dy2.T, x.reshape(-1, x.shape[-1])) if need_w else None
        db = dy2.sum(0) if need_b else None
        return dx, dw, db


def _t(array: np.ndarray, transpose: bool) -> np.ndarray:
    """``array`` with its last two dims swapped (a view) when ``transpose`` is set."""
    return array.swapaxes(-1, -2) if transpose else array


def matmul(input: Any, other: Any):  # noqa: A002
    """Matrix product with PyTorch's rules for 1-D and batched operands."""
    a, b = _operands(input, other)
    return MatMul.apply(a, b)


def mm(input: Any, mat2: Any):  # noqa: A002
    """Product of two 2-D matrices."""
    a, b = _as_tensor(input), _as_tensor(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm: expected 2-D matrices, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def bmm(input: Any, mat2: Any):  # noqa: A002
    """Batched product of two 3-D tensors with equal batch sizes."""
    a, b = _as_tensor(input), _as_tensor(mat2)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ShapeError(f"bmm: expected 3-D tensors with one batch size, got shapes "
                         f"{a.shape} and {b.shape}")
    return matmul(a, b)


def dot(input: Any, other: Any):  # noqa: A002
    a, b = _as_tensor(input), _as_tensor(other)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"dot: expected 1-D tensors, got shapes {a.shape} and {b.shape}")
    return matmul(a, b)


def outer(input: Any, vec2: Any):  # noqa: A002
    a, b = _as_tensor(input), _as_tensor(vec2)
    return a.unsqueeze(-1) * b.unsqueeze(0)


def linear(input: Any, weight: Any, bias: Any = None):  # noqa: A002
    """y = input @ weight^T + bias, with weight in PyTorch's (out_features, in_features)."""
    x, w = _as_tensor(input), _as_tensor(weight)
    if x.dtype != w.dtype:
        x = x.to(w.dtype)
    if bias is not None:
        bias = _as_tensor(bias)
    return Linear.apply(x, w, bias)
