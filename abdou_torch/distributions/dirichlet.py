"""``Dirichlet(concentration)``: distributions over the simplex, density
prod_i x_i^(a_i - 1) / B(a)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..ops.elementwise import where
from ..size import Size
from ..tensor import Tensor
from . import constraints
from ._gamma_sampling import StandardGamma
from ._math import xlogy
from ._special import digamma, lgamma
from .distribution import EMPTY_SIZE, Distribution
from .exp_family import ExponentialFamily

__all__ = ["Dirichlet"]


class Dirichlet(ExponentialFamily):
    """log p = sum_i (a_i - 1) log x_i + lgamma(sum a) - sum_i lgamma(a_i);  rsample:
    x = G / sum G with G_i ~ Gamma(a_i, 1) drawn with a pathwise gradient."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if not isinstance(concentration, Tensor) or concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Dirichlet:
        new = self._get_checked_instance(Dirichlet, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape + self.event_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        gammas = StandardGamma.apply(self.concentration.expand(shape))
        return gammas / gammas.sum(-1, keepdim=True)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        a = self.concentration
        return (xlogy(a - 1.0, value).sum(-1) + lgamma(a.sum(-1)) - lgamma(a).sum(-1))

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self) -> Tensor:
        """(a - 1)+ normalised; where every a_i < 1, the vertex of the largest a_i."""
        shifted = (self.concentration - 1).clamp(min=0.0)
        total = shifted.sum(-1, keepdim=True)
        mode = shifted / where(total == 0, 1.0, total)  # rows of zeros take the vertex
        all_below_one = (self.concentration.data < 1).all(-1, keepdims=True)
        vertex = np.arange(mode.shape[-1]) == mode.data.argmax(-1)[..., None]
        return where(all_below_one, Tensor(vertex.astype(mode.data.dtype)), mode)

    @property
    def variance(self) -> Tensor:
        total = self.concentration.sum(-1, keepdim=True)
        return self.concentration * (total - self.concentration) \
            / (total.pow(2) * (total + 1))

    def entropy(self) -> Tensor:
        """H = sum lgamma(a_i) - lgamma(a0) - (k - a0) psi(a0) - sum (a_i - 1) psi(a_i)."""
        a = self.concentration
        k = a.size(-1)
        a0 = a.sum(-1)
        return (lgamma(a).sum(-1) - lgamma(a0) - (k - a0) * digamma(a0)
                - ((a - 1.0) * digamma(a)).sum(-1))

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        return (self.concentration,)

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        """F(x) = sum lgamma(x_i) - lgamma(sum x_i)."""
        x = natural_params[0]
        return lgamma(x).sum(-1) - lgamma(x.sum(-1))
