"""``Uniform(low, high)``: the uniform distribution on [low, high)."""
from __future__ import annotations

import numbers
from typing import Any

from ..random_sampling import rand
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import EMPTY_SIZE, Distribution
from .utils import broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """p(x) = 1 / (high - low) on [low, high);  rsample: x = low + u (high - low), u ~
    U(0, 1) (``torch.rand``, so a seed gives PyTorch's numbers)."""

    has_rsample = True

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        return {"low": constraints.less_than(self.high),
                "high": constraints.greater_than(self.low)}

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        if isinstance(low, numbers.Number) and isinstance(high, numbers.Number):
            batch_shape = Size()
        else:
            batch_shape = self.low.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Uniform:
        return self._expanded(Uniform, batch_shape, _instance, ("low", "high"))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        """Every point is a mode: nan."""
        return float("nan") * self.high

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = self._extended_shape(sample_shape)
        u = rand(tuple(shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        """log p = log(1[low <= x < high]) - log(high - low) (-inf outside)."""
        if self._validate_args:
            self._validate_sample(value)
        lower = self.low.le(value).to(self.low.dtype)
        upper = self.high.gt(value).to(self.low.dtype)
        return (lower * upper).log() - (self.high - self.low).log()

    def cdf(self, value: Any) -> Tensor:
        """(x - low) / (high - low), clamped to [0, 1]."""
        if self._validate_args:
            self._validate_sample(value)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value: Any) -> Tensor:
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        """H = log(high - low)."""
        return (self.high - self.low).log()
