"""``MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)``: the
Gaussian N(loc, Sigma) on vectors, parametrised by Sigma, its inverse, or its lower
Cholesky factor L (Sigma = L L^T). Everything is computed from L."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..factories import eye
from ..ops.movement import flip
from ..size import Size
from ..tensor import Tensor
from . import constraints
from ._linalg import cholesky, solve_triangular
from .distribution import EMPTY_SIZE, Distribution
from .normal import standard_normal
from .utils import lazy_property

__all__ = ["MultivariateNormal"]


def batch_mv(matrix: Tensor, vector: Tensor) -> Tensor:
    """Matrix-vector products over broadcast batch dims: (..., n, n) x (..., n)."""
    return matrix.matmul(vector.unsqueeze(-1)).squeeze(-1)


def batch_mahalanobis(scale_tril: Tensor, x: Tensor) -> Tensor:
    """x^T (L L^T)^-1 x = |L^-1 x|^2 over broadcast batch dims."""
    solved = solve_triangular(scale_tril, x.unsqueeze(-1), upper=False).squeeze(-1)
    return solved.pow(2).sum(-1)


def precision_to_scale_tril(precision: Tensor) -> Tensor:
    """L with L L^T = P^-1: with J the reversal permutation, J P J = Lf Lf^T (Cholesky),
    so P^-1 = (J Lf^-T J) (J Lf^-T J)^T and J Lf^-T J is lower triangular."""
    lower_flipped = cholesky(flip(precision, (-2, -1)))
    inverse_scale = flip(lower_flipped, (-2, -1)).mT  # L^-1, lower triangular
    identity = eye(precision.shape[-1], dtype=precision.dtype)
    return solve_triangular(inverse_scale, identity, upper=False)


def _batch_shape(matrix: Tensor, loc: Tensor, name: str) -> tuple[int, ...]:
    if matrix.dim() < 2:
        label = "scale_tril matrix" if name == "scale_tril" else name  # PyTorch's wording
        raise ValueError(f"{label} must be at least two-dimensional, with optional "
                         f"leading batch dimensions")
    try:
        return tuple(np.broadcast_shapes(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
    except ValueError:
        raise ValueError(f"MultivariateNormal: {name} of shape {tuple(matrix.shape)} and loc "
                         f"of shape {tuple(loc.shape)} have batch shapes that do not "
                         f"broadcast") from None


class MultivariateNormal(Distribution):
    """log p = -(n log(2 pi) + |L^-1 (x - loc)|^2) / 2 - sum log diag(L);
    rsample: x = loc + L eps, eps ~ N(0, I) (``normal_``, so a seed gives PyTorch's
    numbers); entropy = n (1 + log 2 pi) / 2 + sum log diag(L)."""

    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Tensor, covariance_matrix: Tensor | None = None,
                 precision_matrix: Tensor | None = None, scale_tril: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or "
                             "scale_tril may be specified.")
        if scale_tril is not None:
            batch_shape = _batch_shape(scale_tril, loc, "scale_tril")
            self.scale_tril = scale_tril.expand(batch_shape + (-1, -1))
        elif covariance_matrix is not None:
            batch_shape = _batch_shape(covariance_matrix, loc, "covariance_matrix")
            self.covariance_matrix = covariance_matrix.expand(batch_shape + (-1, -1))
        else:
            assert precision_matrix is not None
            batch_shape = _batch_shape(precision_matrix, loc, "precision_matrix")
            self.precision_matrix = precision_matrix.expand(batch_shape + (-1, -1))
        self.loc = loc.expand(batch_shape + (-1,))
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            assert precision_matrix is not None
            self._unbroadcasted_scale_tril = precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape: Any, _instance: Any = None) -> MultivariateNormal:
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = batch_shape + self.event_shape
        cov_shape = batch_shape + self.event_shape + self.event_shape
        new.loc = self.loc.expand(loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, self.__dict__[name].expand(cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple[int, ...]:
        return tuple(self._batch_shape) + tuple(self._event_shape) * 2

    @lazy_property
    def scale_tril(self) -> Tensor:
        return self._unbroadcasted_scale_tril.expand(self._matrix_shape())

    @lazy_property
    def covariance_matrix(self) -> Tensor:
        lower = self._unbroadcasted_scale_tril
        return lower.matmul(lower.mT).expand(self._matrix_shape())

    @lazy_property
    def precision_matrix(self) -> Tensor:
        """(L L^T)^-1 = L^-T L^-1."""
        lower = self._unbroadcasted_scale_tril
        identity = eye(lower.shape[-1], dtype=lower.dtype)
        inverse = solve_triangular(lower, identity, upper=False)
        return inverse.mT.matmul(inverse).expand(self._matrix_shape())

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """diag(Sigma) = the row sums of L^2."""
        return self._unbroadcasted_scale_tril.pow(2).sum(-1).expand(
            tuple(self._batch_shape) + tuple(self._event_shape))

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = standard_normal(shape, self.loc)
        return self.loc + batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        mahalanobis = batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + mahalanobis) \
            - self._half_log_det()

    def entropy(self) -> Tensor:
        entropy = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) \
            + self._half_log_det()
        if len(self._batch_shape) == 0:
            return entropy
        return entropy.expand(tuple(self._batch_shape))
