"""``HalfNormal(scale)``: |X| for X ~ Normal(0, scale), as PyTorch builds it (a Normal
through AbsTransform)."""
from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from .folded import FoldedAtZero
from .normal import Normal

__all__ = ["HalfNormal"]


class HalfNormal(FoldedAtZero):
    """log p(x) = normal.log_prob(x) + log 2 for x >= 0 (-inf below)."""

    base = Normal

    def expand(self, batch_shape: Any, _instance: Any = None) -> HalfNormal:
        new = self._get_checked_instance(HalfNormal, _instance)
        return super().expand(batch_shape, _instance=new)  # type: ignore[return-value]

    @property
    def mean(self) -> Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)
