"""Matrix products: ``matmul`` with PyTorch's 1-D and batched broadcasting rules, and the
fused affine map ``linear`` that every Linear layer calls."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..errors import ShapeError
from ..tensor import Tensor
from .elementwise import Where, _as_tensor, _operands, _values

__all__ = ["matmul", "mm", "bmm", "linear", "dot", "outer", "addmm", "addmv", "baddbmm", "addbmm"]


class MatMul(Primitive):
    """y = A @ B with A = a or a^T, B = b or b^T (batched, broadcasting leading dims);
    dA = dy @ B^T, dB = A^T @ dy.

    The transposed forms (``transpose_a``/``transpose_b``, used by the gradient formulas)
    read a transposed view instead of recording a transpose op. A 1-D ``a`` acts as a row
    vector and a 1-D ``b`` as a column vector, and the added dim is removed from the result,
    so the gradients are written for those cases separately.
    """

    reads_inputs = staticmethod(lambda needs: (needs[1], needs[0]))

    @property
    def grad_fn_name(self) -> str:
        """PyTorch's node for the product it dispatches to (mm, mv, dot, or a batched one)."""
        ndims = (np.ndim(self.inputs[0]), np.ndim(self.inputs[1]))
        return {(2, 2): "MmBackward0", (2, 1): "MvBackward0", (1, 1): "DotBackward0"}.get(
            ndims, "UnsafeViewBackward0")

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

    def backward(self, xp, dy):
        a, b = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        need_a, need_b = self.needs_input_grad[:2]
        if a.ndim == 1 or b.ndim == 1:
            return self._vector_backward(xp, dy, a, b, need_a, need_b)
        ta, tb = self.transposed
        da = db = None
        if need_a:  # dA = dy B^T; for a = A^T, da = B dy^T
            da = xp.apply(MatMul, b, dy, tb, True) if ta else xp.apply(MatMul, dy, b, False,
                                                                       not tb)
        if need_b:  # dB = A^T dy; for b = B^T, db = dy^T A
            db = xp.apply(MatMul, dy, a, True, ta) if tb else xp.apply(MatMul, a, dy, not ta,
                                                                       False)
        return da, db

    @staticmethod
    def _vector_backward(xp, dy, a, b, need_a, need_b):
        """A 1-D operand is a row (a) or column (b) vector whose added dim was removed."""
        if a.ndim == 1 and b.ndim == 1:
            return (dy * b if need_a else None), (dy * a if need_b else None)
        if a.ndim == 1:
            da = xp.matmul(b, dy.reshape(dy.shape + (1,))).reshape(b.shape[:-1]) \
                if need_a else None
            db = a.reshape(a.shape + (1,)) * dy.reshape(dy.shape[:-1] + (1, dy.shape[-1])) \
                if need_b else None
            return da, db
        da = dy.reshape(dy.shape + (1,)) * b if need_a else None
        db = xp.apply(MatMul, a, dy.reshape(dy.shape + (1,)), True, False).reshape(
            dy.shape[:-1] + (a.shape[-1],)) if need_b else None
        return da, db


def _matmul_error(a: np.ndarray, b: np.ndarray) -> ShapeError:
    """Why ``a @ b`` is not defined, in the user's terms."""
    if a.ndim == 0 or b.ndim == 0:
        return ShapeError(f"matmul: both arguments need at least 1 dim, got shapes "
                          f"{tuple(a.shape)} and {tuple(b.shape)}")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        return ShapeError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not align "
                          f"({inner_a} != {inner_b})")
    return ShapeError(f"matmul: batch dims of {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                      f"broadcast together")


def _rows_product(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """x (..., k) @ m (k, n) as one 2-D product over all of x's rows: NumPy's matmul on a
    batched x calls the BLAS once per leading index, with smaller, slower products
    (benchmarks/RESULTS.md, "Linear on 3-D inputs")."""
    if x.ndim <= 2:
        return x @ m
    rows = math.prod(x.shape[:-1])
    return (x.reshape(rows, x.shape[-1]) @ m).reshape(x.shape[:-1] + (m.shape[-1],))


class Linear(Primitive):
    """y = x W^T + b  (x: (..., in), W: (out, in), b: (out,))

    dx = dy W,  dW = sum over leading dims of dy^T x,  db = sum over leading dims of dy.
    One node instead of matmul + transpose + add: fewer temporaries on the hot path.
    """

    reads_inputs = staticmethod(lambda needs: (needs[1], needs[0], False))

    @property
    def grad_fn_name(self) -> str:
        """PyTorch's linear on a 2-D input is addmm (mm without a bias); else a view of it."""
        if np.ndim(self.inputs[0]) != 2:
            return "ViewBackward0"
        return "MmBackward0" if self.inputs[2] is None else "AddmmBackward0"

    def forward(self, x, weight, bias):
        if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[1]:
            raise ShapeError(f"linear: input of shape {tuple(x.shape)} does not fit a weight of "
                             f"shape {tuple(weight.shape)} (expected a 2-D weight (out_features, "
                             f"in_features) and an input (..., in_features))")
        out = _rows_product(x, weight.T)
        if bias is not None:
            if bias.shape != (weight.shape[0],):
                raise ShapeError(f"linear: bias of shape {tuple(bias.shape)} does not match weight "
                                 f"of shape {tuple(weight.shape)}")
            out += bias
        return out

    def backward(self, xp, dy):
        x, weight = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        need_x, need_w, need_b = self.needs_input_grad
        dx = None
        if need_x:
            dx = _rows_product(dy, weight) if xp.arrays else xp.matmul(dy, weight)
        dw = db = None
        if need_w or need_b:
            rows = math.prod(dy.shape[:-1])  # not -1: NumPy cannot infer it for size 0
            dy2 = dy.reshape(rows, dy.shape[-1])
            if need_w:
                dw = xp.apply(MatMul, dy2, x.reshape(rows, x.shape[-1]), True, False)
            if need_b:
                db = xp.sum(dy2, (0,))
        return dx, dw, db


def matmul(input: Any, other: Any):  # noqa: A002
    """Matrix product with PyTorch's rules for 1-D and batched operands. Two tensors must
    have one dtype, as in PyTorch: a float64 batch into float32 weights is an error, not a
    silent float64 computation."""
    _check_same_dtype("matmul", input, other)
    a, b = _operands(input, other)
    _refuse_bool("matmul", a)
    return MatMul.apply(a, b)


def _refuse_bool(op: str, x: Any) -> None:
    """PyTorch has no boolean matrix products (NumPy would compute a logical one)."""
    if _values(x).dtype == np.bool_:
        raise NotImplementedError(f"{op}: not implemented for 'Bool' tensors (convert them "
                                  f"with .float() or .long())")


def _check_same_dtype(op: str, a: Any, b: Any, names: tuple = ("input", "other")) -> None:
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: expected both operands to have the same dtype, but got "
                           f"{names[0]} {a.dtype} and {names[1]} {b.dtype}; convert one "
                           f"(.to(dtype), .float(), .double())")


def mm(input: Any, mat2: Any):  # noqa: A002
    """Product of two 2-D matrices."""
    a, b = _as_tensor(input), _as_tensor(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm: expected 2-D matrices, got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    return matmul(a, b)


def bmm(input: Any, mat2: Any):  # noqa: A002
    """Batched product of two 3-D tensors with equal batch sizes."""
    a, b = _as_tensor(input), _as_tensor(mat2)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ShapeError(f"bmm: expected 3-D tensors with one batch size, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    return matmul(a, b)


def dot(input: Any, other: Any):  # noqa: A002
    a, b = _as_tensor(input), _as_tensor(other)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"dot: expected 1-D tensors, got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    return matmul(a, b)


def outer(input: Any, vec2: Any):  # noqa: A002
    """y[i, j] = input[i] * vec2[j], for two 1-D tensors."""
    a, b = _as_tensor(input), _as_tensor(vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"outer: expected 1-D arguments, got shapes {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    return a.unsqueeze(-1) * b.unsqueeze(0)


def linear(input: Any, weight: Any, bias: Any = None):  # noqa: A002
    """y = input @ weight^T + bias, with weight in PyTorch's (out_features, in_features)."""
    _check_same_dtype("linear", input, weight, ("input", "weight"))
    x, w = _as_tensor(input), _as_tensor(weight)
    if x._data.dtype != w._data.dtype:  # an array or a list: read in the weight's dtype
        x = x.to(w.dtype)
    if bias is not None:
        bias = _as_tensor(bias)
    _refuse_bool("linear", x)
    if w._data.ndim == 1 or bias is not None and bias._data.shape != w._data.shape[:1]:
        return _linear_by_broadcasting(x, w, bias)
    return Linear.apply(x, w, bias)


def _linear_by_broadcasting(x: Any, weight: Any, bias: Any):
    """PyTorch's other linears: a 1-D weight (y = x @ w) or a bias that broadcasts to the
    output ((), (1,), (N, out)), as matmul plus add."""
    if x.ndim == 0 or weight.ndim not in (1, 2):
        raise ShapeError(f"linear: expected an input of at least 1 dim and a 1-D or 2-D "
                         f"weight, got shapes {tuple(x.shape)} and {tuple(weight.shape)}")
    out = matmul(x, weight if weight.ndim == 1 else weight.mT)
    if bias is None:
        return out
    try:  # the bias is added into the output: it may not widen it
        fits = np.broadcast_shapes(tuple(bias.shape), tuple(out.shape)) == tuple(out.shape)
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"linear: bias of shape {tuple(bias.shape)} does not broadcast to the "
                         f"output's {tuple(out.shape)} (input {tuple(x.shape)}, weight "
                         f"{tuple(weight.shape)})")
    return out + bias


def _scaled_sum(op: str, input: Any, product: Any, beta: float, alpha: float):  # noqa: A002
    """beta * input + alpha * product (input broadcast to the product's shape); with beta 0
    the input is not read at all, so NaN or inf in it do not propagate (PyTorch's rule)."""
    x = _as_tensor(input)
    try:
        np.broadcast_to(np.empty(x.shape, dtype=bool), product.shape)
    except ValueError:
        raise ShapeError(f"{op}: input of shape {tuple(x.shape)} cannot be broadcast to the "
                         f"product's shape {tuple(product.shape)}") from None
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # input gets a zero gradient, and its values are never read
        return Where.apply(np.zeros((), dtype=bool), x, product)
    return (x if beta == 1 else x * beta) + product


def _same_dtype(op: str, *tensors: Any) -> None:
    for t in tensors[1:]:
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"{op}: expected all tensors to have one dtype, got "
                               f"{', '.join(str(u.dtype) for u in tensors)}")


def addmm(input: Any, mat1: Any, mat2: Any, *, beta: float = 1,  # noqa: A002
          alpha: float = 1):
    """beta * input + alpha * (mat1 @ mat2), for 2-D mat1 and mat2."""
    x, a, b = _as_tensor(input), _as_tensor(mat1), _as_tensor(mat2)
    for name, m in (("mat1", a), ("mat2", b)):
        if m.ndim != 2:
            raise ShapeError(f"addmm: {name} must be a matrix, got shape {tuple(m.shape)}")
    _same_dtype("addmm", x, a, b)
    return _scaled_sum("addmm", x, MatMul.apply(a, b), beta, alpha)


def addmv(input: Any, mat: Any, vec: Any, *, beta: float = 1, alpha: float = 1):  # noqa: A002
    """beta * input + alpha * (mat @ vec), for a 2-D mat and a 1-D vec."""
    x, a, v = _as_tensor(input), _as_tensor(mat), _as_tensor(vec)
    if a.ndim != 2 or v.ndim != 1:
        raise ShapeError(f"addmv: expected a matrix and a vector, got shapes "
                         f"{tuple(a.shape)} and {tuple(v.shape)}")
    _same_dtype("addmv", x, a, v)
    return _scaled_sum("addmv", x, MatMul.apply(a, v), beta, alpha)


def _batches(op: str, batch1: Any, batch2: Any) -> tuple:
    a, b = _as_tensor(batch1), _as_tensor(batch2)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError(f"{op}: expected 3-D batches (b, n, m) and (b, m, p), got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    return a, b


def baddbmm(input: Any, batch1: Any, batch2: Any, *, beta: float = 1,  # noqa: A002
            alpha: float = 1):
    """beta * input + alpha * (batch1 @ batch2), batch by batch."""
    x = _as_tensor(input)
    a, b = _batches("baddbmm", batch1, batch2)
    _same_dtype("baddbmm", x, a, b)
    return _scaled_sum("baddbmm", x, MatMul.apply(a, b), beta, alpha)


def addbmm(input: Any, batch1: Any, batch2: Any, *, beta: float = 1,  # noqa: A002
           alpha: float = 1):
    """beta * input + alpha * sum over the batch of batch1[i] @ batch2[i]."""
    from .reduce import sum as _sum
    x = _as_tensor(input)
    a, b = _batches("addbmm", batch1, batch2)
    _same_dtype("addbmm", x, a, b)
    return _scaled_sum("addbmm", x, _sum(MatMul.apply(a, b), 0), beta, alpha)
