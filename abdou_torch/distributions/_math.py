"""Small formulas several distributions share."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..ops.elementwise import _operands
from ..tensor import Tensor

__all__ = ["xlogy", "clamp_by_zero"]


class Xlogy(Primitive):
    """y = x log(z), 0 where x = 0 (unless z is nan), as torch.xlogy;
    dx = dy log(z) (0 where x = 0 and z <= 0);  dz = dy x / z  (PyTorch's formulas)."""

    def forward(self, x, z):
        with np.errstate(divide="ignore", invalid="ignore"):
            out = x * np.log(z)
        return np.where((x == 0) & ~np.isnan(z), np.zeros((), dtype=out.dtype), out)

    def backward(self, xp, dy):
        x_array, z_array = self.inputs[0].data, self.inputs[1].data
        x, z = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        zero_log = (x_array == 0) & (z_array <= 0)
        safe_z = xp.where(zero_log, np.ones((), dtype=z_array.dtype), z)
        dx = xp.where(zero_log, np.zeros((), dtype=z_array.dtype), dy * xp.log(safe_z))
        return dx, dy * x / z


def xlogy(x: Any, z: Any) -> Tensor:
    """x log z, defined as 0 where x = 0 (see :class:`Xlogy`)."""
    x, z = _operands(x, z)
    return Xlogy.apply(x if isinstance(x, Tensor) else Tensor(x),
                       z if isinstance(z, Tensor) else Tensor(z))


def clamp_by_zero(x: Tensor) -> Tensor:
    """max(x, 0) with gradient 1/2 at x = 0: (clamp(x, min=0) + x - clamp(x, max=0)) / 2."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2
