"""``HalfCauchy(scale)``: |X| for X ~ Cauchy(0, scale), as PyTorch builds it."""
from __future__ import annotations

import math
from typing import Any

from ..factories import full
from ..tensor import Tensor
from .cauchy import Cauchy
from .folded import FoldedAtZero

__all__ = ["HalfCauchy"]


class HalfCauchy(FoldedAtZero):
    """log p(x) = cauchy.log_prob(x) + log 2 for x >= 0 (-inf below)."""

    base = Cauchy

    def expand(self, batch_shape: Any, _instance: Any = None) -> HalfCauchy:
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def mean(self) -> Tensor:
        return full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance
