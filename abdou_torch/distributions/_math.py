"""Small formulas several distributions share."""
from __future__ import annotations

from typing import Any

from ..ops import special as _ops
from ..tensor import Tensor

__all__ = ["xlogy", "clamp_by_zero"]


def xlogy(x: Any, z: Any) -> Tensor:
    """x log z, defined as 0 where x = 0: the library's ``xlogy`` (ops/special.py)."""
    return _ops.xlogy(x, z)


def clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) with gradient 1/2 at x = 0: (clamp(x, min=0) + x - clamp(x, max=0)) / 2."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2
