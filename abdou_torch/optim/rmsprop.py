"""RMSprop, plain or centered, with momentum and L2 weight decay (PyTorch's update), run
over all parameters of a group at once."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ._flat import flush_subnormals
from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (PyTorch's ``RMSprop``).

    For the parameters θ of a group, with gradients g, learning rate γ, smoothing constant
    α, eps ε, momentum μ and weight_decay λ, at step t:

        1. t ← t + 1
        2. g ← −g                                  (if maximize)
        3. g ← g + λ θ                             (if λ ≠ 0)
        4. v ← α v + (1 − α) g²                    (square_avg)
        5. ḡ ← ḡ + (1 − α) (g − ḡ)                 (grad_avg, if centered)
        6. v, ḡ ← 0 where v, |ḡ| < tiny            (flush subnormals, as in Adam)
        7. d ← √(v − ḡ²) + ε if centered, else d ← √v + ε
        8. b ← μ b + g / d, then b ← 0 where |b| < tiny   (momentum_buffer, if μ > 0)
        9. θ ← θ − γ b if μ > 0, else θ ← θ − γ g / d

    Every line runs once over all the parameters of a group, in place, on flat arrays that
    the parameters and their state are views of.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["alpha"]:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient, numbered as in the class
        docstring; returns the closure's loss if a closure is given."""
        loss = self._evaluate(closure)
        for index, group in enumerate(self.param_groups):
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            momentum, weight_decay, centered = group["momentum"], group["weight_decay"], \
                group["centered"]
            names = ("square_avg",) + (("momentum_buffer",) if momentum > 0 else ()) \
                + (("grad_avg",) if centered else ())
            for seg in self._segments(index, group, names, count_steps=True):
                f = seg.param.dtype.type          # scalars in the parameters' dtype
                theta, g, tmp = seg.param, seg.grad, seg.scratch
                v = seg.state["square_avg"]
                seg.count_step()                                              # 1
                if group["maximize"]:
                    np.negative(g, out=g)                                     # 2
                if weight_decay != 0:
                    np.multiply(theta, f(weight_decay), out=tmp)              # 3
                    np.add(g, tmp, out=g)
                np.multiply(g, f(1 - alpha), out=tmp)                         # 4
                np.multiply(tmp, g, out=tmp)
                np.multiply(v, f(alpha), out=v)
                np.add(v, tmp, out=v)
                if centered:
                    g_avg = seg.state["grad_avg"]
                    np.subtract(g, g_avg, out=tmp)                            # 5
                    np.multiply(tmp, f(1 - alpha), out=tmp)
                    np.add(g_avg, tmp, out=g_avg)
                    flush_subnormals(g_avg, tmp, seg.mask)                    # 6
                flush_subnormals(v, tmp, seg.mask, nonnegative=True)
                if centered:
                    np.multiply(g_avg, g_avg, out=tmp)                        # 7
                    np.subtract(v, tmp, out=tmp)
                    np.sqrt(tmp, out=tmp)
                else:
                    np.sqrt(v, out=tmp)
                np.add(tmp, f(eps), out=tmp)
                if momentum > 0:
                    b = seg.state["momentum_buffer"]
                    np.divide(g, tmp, out=g)                                  # 8
                    np.multiply(b, f(momentum), out=b)
                    np.add(b, g, out=b)
                    flush_subnormals(b, tmp, seg.mask)
                    np.multiply(b, f(-lr), out=tmp)                           # 9
                    np.add(theta, tmp, out=theta)
                else:
                    np.multiply(g, f(-lr), out=g)                             # 9
                    np.divide(g, tmp, out=g)
                    np.add(theta, g, out=theta)
        return loss
