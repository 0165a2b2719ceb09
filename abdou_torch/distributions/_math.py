"""Small formulas several distributions share, composed of differentiable ops."""
from __future__ import annotations

from typing import Any

from ..ops.elementwise import where
from ..tensor import Tensor

__all__ = ["xlogy", "clamp_by_zero"]


def xlogy(x: Any, y: Any) -> Tensor:
    """x log y, defined as 0 where x = 0 (also for y = 0), as torch.xlogy.

    y is replaced by 1 where x = 0 before the log, so that neither the value nor the
    gradients there are nan (d/dy = x / y = 0, d/dx = 0 there, as PyTorch's)."""
    x_is_zero = x == 0
    safe_y = where(x_is_zero, 1.0, y)
    return x * safe_y.log()


def clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) with gradient 1/2 at x = 0: (clamp(x, min=0) + x - clamp(x, max=0)) / 2."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2
