"""RMSprop, plain or centered, with momentum and L2 weight decay (PyTorch's update)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ._flat import Segment
from .optimizer import Optimizer, check_tensor_hyperparameter, scalar

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (PyTorch's ``RMSprop``).

    For each parameter θ of a group, with gradient g, learning rate γ, smoothing constant
    α, eps ε, momentum μ and weight_decay λ, at step t:

        1. t ← t + 1
        2. g ← −g                                  (if maximize)
        3. g ← g + λ θ                             (if λ ≠ 0)
        4. v ← α v + (1 − α) g²                    (square_avg)
        5. ḡ ← ḡ + (1 − α) (g − ḡ)                 (grad_avg, if centered)
        6. d ← √(v − ḡ²) + ε if centered, else d ← √v + ε
        7. b ← μ b + g / d                         (momentum_buffer, if μ > 0)
        8. θ ← θ − γ b if μ > 0, else θ ← θ − γ g / d

    ``foreach=False`` runs ``_reference_step`` (one parameter at a time); otherwise
    ``_flat_step`` runs each line once over all the parameters of a group.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_tensor_hyperparameter("lr", lr)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        if not 0.0 <= scalar(group["lr"]):
            raise ValueError(f"Invalid learning rate: {scalar(group['lr'])}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["momentum"]:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["alpha"]:
            raise ValueError(f"Invalid alpha value: {group['alpha']}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ()) \
            + (("grad_avg",) if group["centered"] else ())

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        lr, alpha, eps = scalar(group["lr"]), group["alpha"], group["eps"]
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        f = theta.dtype.type
        v = state["square_avg"]
        state["step"] += 1                                                    # 1
        if group["maximize"]:
            g = -g                                                            # 2
        if weight_decay != 0:
            g = g + theta * f(weight_decay)                                   # 3
        v[...] = v * f(alpha) + g * f(1 - alpha) * g                          # 4
        if group["centered"]:
            g_avg = state["grad_avg"]
            g_avg[...] = g_avg + (g - g_avg) * f(1 - alpha)                   # 5
            d = np.sqrt(v - g_avg * g_avg) + f(eps)                           # 6
        else:
            d = np.sqrt(v) + f(eps)
        if momentum > 0:
            b = state["momentum_buffer"]
            b[...] = b * f(momentum) + g / d                                  # 7
            theta[...] = theta + b * f(-lr)                                   # 8
        else:
            theta[...] = theta + g * f(-lr) / d

    def _flat_step(self, group: dict[str, Any], seg: Segment) -> None:
        """All parameters of the segment at once, in place."""
        lr, alpha, eps = scalar(group["lr"]), group["alpha"], group["eps"]
        momentum, weight_decay = group["momentum"], group["weight_decay"]
        f = seg.grad.dtype.type
        g, tmp = seg.grad, seg.scratch
        v = seg.state["square_avg"]
        seg.count_step()                                                      # 1
        if group["maximize"]:
            np.negative(g, out=g)                                             # 2
        if weight_decay != 0:
            seg.theta_times(f(weight_decay), out=tmp)                         # 3
            np.add(g, tmp, out=g)
        np.multiply(g, f(1 - alpha), out=tmp)                                 # 4
        np.multiply(tmp, g, out=tmp)
        np.multiply(v, f(alpha), out=v)
        np.add(v, tmp, out=v)
        if group["centered"]:
            g_avg = seg.state["grad_avg"]
            np.subtract(g, g_avg, out=tmp)                                    # 5
            np.multiply(tmp, f(1 - alpha), out=tmp)
            np.add(g_avg, tmp, out=g_avg)
            np.multiply(g_avg, g_avg, out=tmp)                                # 6
            np.subtract(v, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)
        np.add(tmp, f(eps), out=tmp)
        if momentum > 0:
            b = seg.state["momentum_buffer"]
            np.divide(g, tmp, out=g)                                          # 7
            np.multiply(b, f(momentum), out=b)
            np.add(b, g, out=b)
            np.multiply(b, f(-lr), out=tmp)                                   # 8
            seg.add_to_theta(tmp)
        else:
            np.multiply(g, f(-lr), out=g)                                     # 8
            np.divide(g, tmp, out=g)
            seg.add_to_theta(g)
