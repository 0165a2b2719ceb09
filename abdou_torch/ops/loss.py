"""Loss primitives: the few losses fused into one op for numerical stability.

Every other loss of ``nn.functional`` is a composite of primitives.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Primitive
from .elementwise import Clamp

__all__ = ["BinaryCrossEntropy"]


class BinaryCrossEntropy(Primitive):
    """y = -(t max(log x, -100) + (1 - t) max(log(1 - x), -100))   (elementwise)

    dx = dy (x - t) / max(x (1 - x), 1e-12),   dt = dy (log(1 - x) - log(x))

    Fused for numerical stability: as a composite, log(0) = -inf at a saturated
    probability would turn the clamp's zero gradient into 0 * inf = nan; the closed form
    stays finite there, as PyTorch's does.
    """

    name = "binary_cross_entropy"

    def forward(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100)
            log_1mx = np.maximum(np.log1p(-x), -100)
        return -(t * log_x + (1 - t) * log_1mx)

    def backward(self, xp, dy):
        x, t = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        need_x, need_t = self.needs_input_grad
        dx = dy * (x - t) / xp.apply(Clamp, x * (1 - x), 1e-12, None) if need_x else None
        dt = dy * (xp.log(1 - x) - xp.log(x)) if need_t else None
        return dx, dt
