"""The two matrix factorisations the multivariate normal needs, as primitives: the
Cholesky factor of a symmetric positive-definite matrix and the solution of a triangular
system. Both work on batches of matrices (leading dims broadcast).

They live here, beside their only user, until ``torch.linalg`` has them. Each gradient is
written once against ``xp`` with the other primitive as a function, so second derivatives
work too.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..tensor import Tensor

__all__ = ["cholesky", "solve_triangular"]


def _triangle(n: int, dtype: Any, upper: bool) -> np.ndarray:
    """A 0/1 n x n mask of the lower (or upper) triangle, diagonal included."""
    ones = np.ones((n, n), dtype=dtype)
    return np.triu(ones) if upper else np.tril(ones)


def _mT(x: Any, xp: Any) -> Any:  # noqa: N802 - PyTorch's name for the matrix transpose
    return xp.swapaxes(x, -1, -2)


class Cholesky(Primitive):
    """L = cholesky(A), A = L L^T with L lower triangular.

    dA = L^-T Phi(L^T dL) L^-1, with Phi(M) the symmetric matrix built from tril(M) with
    its diagonal halved: (tril(M) + tril(M, -1)^T) / 2 (PyTorch's cholesky_backward).
    """

    def forward(self, a):
        try:
            return np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise ValueError(f"cholesky: the input of shape {a.shape} is not "
                             f"positive-definite") from None

    def backward(self, xp, dy):
        lower = xp.apply(Cholesky, xp.value(self.inputs[0]))
        lower_mask = _triangle(dy.shape[-1], dy.dtype, upper=False)
        strict = lower_mask - np.eye(lower_mask.shape[-1], dtype=lower_mask.dtype)
        m = xp.matmul(_mT(lower, xp), dy) * lower_mask
        phi = 0.5 * (m + _mT(m * strict, xp))
        left = xp.apply(SolveTriangular, _mT(lower, xp), phi, upper=True)  # L^-T Phi
        # (L^-T Phi) L^-1 = (L^-T (L^-T Phi)^T)^T
        return _mT(xp.apply(SolveTriangular, _mT(lower, xp), _mT(left, xp), upper=True), xp)


class SolveTriangular(Primitive):
    """X = A^-1 B for triangular A (only its lower, or upper, triangle is read).

    dB = A^-T dX;  dA = -dB X^T, kept to A's triangle.
    """

    def forward(self, a, b, upper: bool):
        self.upper = upper
        triangle = np.triu(a) if upper else np.tril(a)
        if a.shape[-1] != a.shape[-2] or b.shape[-2] != a.shape[-1]:
            raise ValueError(f"solve_triangular: A of shape {a.shape} must be square and "
                             f"match B of shape {b.shape}")
        return np.linalg.solve(triangle, b)

    def backward(self, xp, dy):
        a = xp.value(self.inputs[0])
        x = xp.apply(SolveTriangular, a, xp.value(self.inputs[1]), upper=self.upper)
        db = xp.apply(SolveTriangular, _mT(a, xp), dy, upper=not self.upper)
        da = -xp.matmul(db, _mT(x, xp)) * _triangle(a.shape[-1], dy.dtype, self.upper)
        return da, db


def cholesky(a: Tensor) -> Tensor:
    """The lower Cholesky factor of each symmetric positive-definite matrix in ``a``."""
    return Cholesky.apply(a)


def solve_triangular(a: Tensor, b: Tensor, *, upper: bool) -> Tensor:
    """X with A X = B, A triangular (``upper`` says which triangle), batches broadcast."""
    return SolveTriangular.apply(a, b, upper=upper)
