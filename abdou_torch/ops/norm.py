"""Norms: vector norms, matrix norms, and ``torch.norm``'s older interface.

- ``vector_norm(x, ord)`` = (sum |x|^ord)^(1/ord) over ``dim``; ord inf is max |x|, -inf
  min |x|, 0 the number of nonzero elements. One primitive, ``VectorNorm``, because the
  composite sqrt(sum(x^2)) has gradient 0 * inf = nan where the norm is 0, where PyTorch
  gives 0 (a subgradient).
- ``matrix_norm(A, ord)`` over two dims: 'fro' is the vector 2-norm of the matrix, 'nuc'
  the sum of the singular values, 2 / -2 the largest / smallest singular value, 1 / -1 the
  largest / smallest column sum of |A|, inf / -inf the largest / smallest row sum. The
  singular values come from one primitive, ``SingularValues``.
- ``norm`` (``torch.linalg.norm``) picks a vector or matrix norm from ``ord`` and ``dim``;
  ``torch_norm`` is ``torch.norm``/``Tensor.norm``, which reads p='fro' as the 2-norm of
  everything it reduces.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..tensor import Tensor
from .elementwise import _as_tensor, _sign
from .reduce import Sum, _kept_shape, amax, amin, normalize_dims
from .shape import permute

__all__ = ["vector_norm", "matrix_norm", "norm", "svdvals", "torch_norm"]

_INF = math.inf


class VectorNorm(Primitive):
    """y = (sum |x|^p)^(1/p) over dims (p = inf: max |x|; -inf: min |x|; 0: count of x != 0);

    dx = sign(x) dy                                          for p = 1,
    dx = x dy / y                                            for p = 2,
    dx = sign(x) |x|^(p-1) dy / y^(p-1)                      for other p,
    dx = sign(x) dy [|x| = y] / (number of such x)           for p = +-inf,
    dx = 0                                                   for p = 0,

    with dy / y^(p-1) taken as 0 where y = 0, and |x|^(p-1) as 0 where x = 0 for p < 1
    (PyTorch's subgradients), and sign(NaN) = 0 (PyTorch's sgn).
    """

    name = "vector_norm"
    saves_output = True

    def forward(self, x: np.ndarray, ord: float, dims: tuple,  # noqa: A002
                keepdim: bool) -> np.ndarray:
        self.ord, self.dims, self.keepdim = ord, dims, keepdim
        magnitude = np.abs(x)
        if ord == _INF:
            y = np.max(magnitude, axis=dims, keepdims=keepdim)
        elif ord == -_INF:
            y = np.min(magnitude, axis=dims, keepdims=keepdim)
        elif ord == 0:
            y = np.sum(magnitude != 0, axis=dims, keepdims=keepdim).astype(x.dtype)
        elif ord == 1:
            y = np.sum(magnitude, axis=dims, keepdims=keepdim)
        elif ord == 2:
            y = np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))
        else:
            with np.errstate(divide="ignore"):  # 0 ** negative is inf, as in PyTorch
                y = np.sum(magnitude ** ord, axis=dims, keepdims=keepdim) ** (1 / ord)
        return np.asarray(y, dtype=x.dtype)

    def backward(self, xp, dy):
        x = xp.value(self.inputs[0])
        p, x_data = self.ord, self.inputs[0].data
        if not self.keepdim:
            dy = dy.reshape(_kept_shape(x_data.shape, self.dims))
        if p == 0:  # a count: zero gradient (PyTorch's too, even for an infinite dy)
            return xp.where(np.zeros(x_data.shape, dtype=bool), dy, np.zeros((), dy.dtype))
        sign = _sign(x_data)  # 0 for NaN, as PyTorch's sgn: a NaN gets no gradient
        if p == 1:
            return dy * sign
        y = xp.value(self.output)
        if not self.keepdim:
            y = y.reshape(_kept_shape(x_data.shape, self.dims))
        y_data = _values(y)
        zero = np.zeros((), dtype=dy.dtype)
        if p in (_INF, -_INF):
            hits = (np.abs(x_data) == y_data) | np.isnan(x_data)
            share = hits / np.sum(hits, axis=self.dims, keepdims=True)
            return dy * (sign * share).astype(dy.dtype)
        safe_y = xp.where(y_data == 0, zero + 1, y)
        if p == 2:
            return x * xp.where(y_data == 0, zero, dy / safe_y)
        magnitude = x * sign  # |x|, written so that it stays differentiable
        if p < 1:
            safe = xp.where(x_data == 0, zero + 1, magnitude)
            scaled = xp.where(x_data == 0, zero, sign * safe ** (p - 1))
            return scaled * dy * y ** (1 - p)
        scaled = sign * magnitude ** (p - 1) if p < 2 else x * magnitude ** (p - 2)
        return scaled * xp.where(y_data == 0, zero, dy / safe_y ** (p - 1))


def _values(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else value


class SingularValues(Primitive):
    """y = the singular values of x (descending; batched over leading dims);
    dx = U diag(dy) V^T, from x = U diag(y) V^T

    The gradient's own derivative needs the derivatives of U and V, which are not
    written here: a backward with create_graph through it raises.
    """

    name = "svdvals"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.u, y, self.vh = np.linalg.svd(x, full_matrices=False)
        return y

    def backward(self, xp, dy):
        if not xp.arrays:
            raise NotImplementedError("svdvals (nuclear and spectral norms): second "
                                      "derivatives are not implemented; backward with "
                                      "create_graph=True cannot go through it")
        return (self.u * dy[..., None, :]) @ self.vh


def _float_input(op: str, input: Any, dtype: Any) -> Tensor:  # noqa: A002
    x = _as_tensor(input)
    if dtype is not None:
        x = x.to(dtype)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point tensor as input. Got {x.dtype}")
    return x


def vector_norm(x: Any, ord: float = 2, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """(sum |x|^ord)^(1/ord) over ``dim`` (all dims when None); ord inf: max |x|, -inf:
    min |x|, 0: the number of nonzero elements."""
    x = _float_input("linalg.vector_norm", x, dtype)
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg.vector_norm: argument 'ord' must be a number, not "
                        f"{type(ord).__name__}")
    dims = normalize_dims(dim, x.ndim, "linalg.vector_norm")
    if (ord < 0 or ord == _INF) and any(x.shape[d] == 0 for d in dims):
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty "
                           f"tensor because the operation does not have an identity")
    if x.dtype == np.float16 and ord not in (0, _INF, -_INF):
        # PyTorch sums float16 powers in float32: |x|^2 overflows float16 above 256
        return VectorNorm.apply(x.to(np.float32), float(ord), dims, bool(keepdim)).to(x.dtype)
    return VectorNorm.apply(x, float(ord), dims, bool(keepdim))


def svdvals(A: Any) -> Tensor:  # noqa: N803 - PyTorch's argument name
    """The singular values of the matrices in the last two dims of ``A``, descending."""
    a = _float_input("linalg.svdvals", A, None)
    if a.ndim < 2:
        raise RuntimeError(f"linalg.svdvals: The input tensor A must have at least 2 "
                           f"dimensions, got shape {tuple(a.shape)}")
    return SingularValues.apply(a)


_MATRIX_ORDS = ("fro", "nuc", _INF, -_INF, 1, -1, 2, -2)


def _matrix_dims(a: Tensor, dim: Any) -> tuple[int, int]:
    if isinstance(dim, (int, np.integer)) or len(dim) != 2:
        shown = dim if isinstance(dim, (int, np.integer)) else " ".join(map(str, dim))
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {shown}")
    first, second = (normalize_dims(int(d), a.ndim, "linalg.matrix_norm")[0] for d in dim)
    if first == second:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got "
                           f"({dim[0]}, {dim[1]})")
    return first, second


def matrix_norm(A: Any, ord: Any = "fro", dim: Any = (-2, -1),  # noqa: A002,N803
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """A matrix norm over the two dims ``dim``: 'fro', 'nuc', 2, -2, 1, -1, inf, -inf."""
    a = _float_input("linalg.matrix_norm", A, dtype)
    if a.ndim < 2:
        raise RuntimeError(f"linalg.matrix_norm: The input tensor A must have at least 2 "
                           f"dimensions, got shape {tuple(a.shape)}")
    rows, cols = _matrix_dims(a, dim)
    if ord not in _MATRIX_ORDS or isinstance(ord, bool):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if ord == "fro":
        return VectorNorm.apply(a, 2.0, tuple(sorted((rows, cols))), bool(keepdim))
    if ord in ("nuc", 2, -2):
        return _spectral(a, ord, rows, cols, bool(keepdim))
    # 1 / -1: extreme column sum (sum over rows); inf / -inf: extreme row sum
    summed, across = (rows, cols) if ord in (1, -1) else (cols, rows)
    extreme = amax if ord in (1, _INF) else amin
    sums = Sum.apply(abs(a), (summed,), True)
    result = extreme(sums, across, keepdim=True)
    return result if keepdim else result.reshape(
        tuple(n for i, n in enumerate(a.shape) if i not in (rows, cols)))


def _spectral(a: Tensor, ord: Any, rows: int, cols: int, keepdim: bool) -> Tensor:  # noqa: A002
    """'nuc' (sum), 2 (largest) or -2 (smallest) of the singular values."""
    batch = [d for d in range(a.ndim) if d not in (rows, cols)]
    values = SingularValues.apply(permute(a, tuple(batch) + (rows, cols)))
    if ord == "nuc":
        result = Sum.apply(values, (values.ndim - 1,), False)
    else:
        result = (amax if ord == 2 else amin)(values, -1)
    if keepdim:
        shape = list(result.shape)
        for d in sorted((rows, cols)):
            shape.insert(d, 1)
        result = result.reshape(tuple(shape))
    return result


def norm(A: Any, ord: Any = None, dim: Any = None, keepdim: bool = False, *,  # noqa: A002,N803
         dtype: Any = None) -> Tensor:
    """``torch.linalg.norm``: a vector norm over one dim, a matrix norm over two. Without
    ``dim``, ``ord`` None is the 2-norm of all elements, and another ``ord`` asks for a
    vector (1-D input) or matrix (2-D input) norm."""
    a = _float_input("linalg.norm", A, dtype)
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 "
                               f"or 2. Got {list(dims)}")
    elif ord is None:
        return vector_norm(a, 2, None, keepdim)
    else:
        if a.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input "
                               f"must be 1D or 2D. Got {a.ndim}D.")
        dims = tuple(range(a.ndim))
    if len(dims) == 2:
        return matrix_norm(a, "fro" if ord is None else ord, dims, keepdim)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord {ord!r} is a matrix norm; give two dims")
    return vector_norm(a, 2 if ord is None else ord, dims, keepdim)


def torch_norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False,  # noqa: A002
               out: Any = None, dtype: Any = None) -> Tensor:
    """``torch.norm`` / ``Tensor.norm``: p='fro' (or None) is the 2-norm over ``dim`` (all
    dims when None), a number p the vector p-norm, 'nuc' the nuclear norm of a matrix."""
    if out is not None:
        raise TypeError("norm: out= is not supported in abdou_torch; use the returned tensor")
    dims = [dim] if isinstance(dim, (int, np.integer)) else (None if dim is None else
                                                              list(dim))
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            return vector_norm(input, 2, dims, keepdim, dtype=dtype)
        x = _as_tensor(input)
        return matrix_norm(x, p, list(range(x.ndim)) if dims is None else dims, keepdim,
                           dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dims, keepdim, dtype=dtype)
