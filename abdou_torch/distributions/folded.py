"""What ``HalfNormal`` and ``HalfCauchy`` share: |X| for X drawn from a distribution
symmetric about 0 with a ``scale`` (PyTorch builds both as that base through
``AbsTransform``)."""
from __future__ import annotations

import math
from typing import Any

from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform

__all__ = ["FoldedAtZero"]


class FoldedAtZero(TransformedDistribution):
    """|X|, X ~ ``base(0, scale)``: log p(x) = base.log_prob(x) + log 2 for x >= 0 (-inf
    below), cdf(x) = 2 base.cdf(x) - 1, icdf(p) = base.icdf((p + 1) / 2), entropy =
    base.entropy() - log 2. Subclasses name ``base`` and give the mean and variance."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    base: Any  # the symmetric distribution's class

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        base_dist = self.base(0, scale, validate_args=False)
        super().__init__(base_dist, AbsTransform(), validate_args=validate_args)

    @property
    def scale(self) -> Tensor:
        return self.base_dist.scale  # type: ignore[attr-defined]

    @property
    def mode(self) -> Tensor:
        return self.scale * 0

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return where(value >= 0, log_prob, -math.inf)

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob: Any) -> Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> Tensor:
        return self.base_dist.entropy() - math.log(2)
