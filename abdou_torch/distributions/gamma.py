"""``Gamma(concentration, rate)``: density rate^a x^(a-1) exp(-rate x) / Gamma(a), x > 0."""
from __future__ import annotations

import numbers
from typing import Any

from ..size import Size
from ..tensor import Tensor
from . import constraints
from ._gamma_sampling import StandardGamma
from ._math import xlogy
from ._special import digamma, gammainc, lgamma
from .distribution import EMPTY_SIZE
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Gamma"]


class Gamma(ExponentialFamily):
    """log p = a log rate + (a - 1) log x - rate x - lgamma(a);  rsample: x = G / rate with
    G ~ Gamma(a, 1) and the implicit-reparameterisation gradient dG/da (see
    _gamma_sampling.py; the draws are the library's own, not PyTorch's numbers)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, concentration: Any, rate: Any,
                 validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        if isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number):
            batch_shape = Size()
        else:
            batch_shape = self.concentration.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Gamma:
        return self._expanded(Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate.pow(2)

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        return StandardGamma.apply(self.concentration.expand(shape)) / self.rate.expand(shape)

    def log_prob(self, value: Any) -> Tensor:
        if not isinstance(value, Tensor):
            value = Tensor(value).to(self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def cdf(self, value: Any) -> Tensor:
        """P(X <= x) = P(a, rate x), the regularised lower incomplete gamma (no gradient
        in the concentration, as in PyTorch)."""
        if self._validate_args:
            self._validate_sample(value)
        return gammainc(self.concentration, self.rate * value)

    def entropy(self) -> Tensor:
        """H = a - log rate + lgamma(a) + (1 - a) psi(a)."""
        a = self.concentration
        return a - self.rate.log() + lgamma(a) + (1.0 - a) * digamma(a)

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        """F(x, y) = lgamma(x + 1) + (x + 1) log(-1 / y)."""
        x, y = natural_params
        return lgamma(x + 1) + (x + 1) * (-y.reciprocal()).log()
