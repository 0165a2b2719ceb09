"""Dropout layers beyond ``Dropout`` and ``Dropout2d``: Dropout1d (whole channels of 1-d
signals), AlphaDropout and FeatureAlphaDropout (for SELU networks); identity in eval mode."""
from __future__ import annotations

from ..ops import dropout as dropout_ops
from ..tensor import Tensor
from .module import Module

__all__ = ["Dropout1d", "AlphaDropout", "FeatureAlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p``."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout_ops.dropout1d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Alpha dropout per element: keeps the mean and variance of SELU activations."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout_ops.alpha_dropout(input, self.p, self.training)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return dropout_ops.feature_alpha_dropout(input, self.p, self.training)
