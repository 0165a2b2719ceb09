"""RAdam: Adam with the variance of the adaptive step rectified (PyTorch's update)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ._flat import Segment
from .adam import check_betas_eps_decay
from .optimizer import Optimizer, check_tensor_hyperparameter, scalar

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (PyTorch's ``RAdam``).

    For each parameter θ of a group, with gradient g, learning rate γ, betas (β1, β2),
    eps ε and weight_decay λ, at step t::

        1. t ← t + 1
        2. g ← −g                                  (if maximize)
        3. θ ← θ (1 − γ λ) if decoupled,           (if λ ≠ 0)
           else g ← g + λ θ
        4. m ← m + (1 − β1) (g − m)                (exp_avg)
        5. v ← β2 v + (1 − β2) g²                  (exp_avg_sq)
        6. m̂ ← m / (1 − β1^t)
        7. ρ∞ ← 2 / (1 − β2) − 1,  ρ ← ρ∞ − 2 t β2^t / (1 − β2^t)
        8. if ρ > 5:  r ← √((ρ − 4)(ρ − 2) ρ∞ / ((ρ∞ − 4)(ρ∞ − 2) ρ))
                      θ ← θ − γ m̂ (1 / (√v + ε)) √(1 − β2^t) r
           else:      θ ← θ − γ m̂

    ``foreach=False`` runs ``_reference_step`` (one parameter at a time); otherwise
    ``_flat_step`` runs each line once over all the parameters of a group.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        check_tensor_hyperparameter("lr", lr)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        check_betas_eps_decay(group)

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    @staticmethod
    def _rectification(t: float, beta2: float) -> float | None:
        """r of line 8, or None while ρ ≤ 5 (the variance is not yet tractable)."""
        rho_inf = 2 / (1 - beta2) - 1                                         # 7
        rho = rho_inf - 2 * t * (beta2 ** t) / (1 - beta2 ** t)
        if rho <= 5.0:
            return None
        return ((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) ** 0.5

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        lr, eps, weight_decay = scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        f = theta.dtype.type
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1                                                    # 1
        t = float(state["step"])
        if group["maximize"]:
            g = -g                                                            # 2
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                theta[...] = theta * f(1 - lr * weight_decay)                 # 3
            else:
                g = g + theta * f(weight_decay)
        m[...] = m + (g - m) * f(1 - beta1)                                   # 4
        v[...] = v * f(beta2) + g * f(1 - beta2) * g                          # 5
        m_hat = m / f(1 - beta1 ** t)                                         # 6
        r = self._rectification(t, beta2)                                     # 7
        if r is not None:                                                     # 8
            adaptive = 1 / (np.sqrt(v) + f(eps)) * f((1 - beta2 ** t) ** 0.5)
            theta[...] = theta + m_hat * f(lr) * adaptive * f(-r)
        else:
            theta[...] = theta + m_hat * f(-lr)

    def _flat_step(self, group: dict[str, Any], seg: Segment) -> None:
        """All parameters of the segment at once, in place."""
        lr, eps, weight_decay = scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        f = seg.grad.dtype.type
        g, tmp = seg.grad, seg.scratch
        m, v = seg.state["exp_avg"], seg.state["exp_avg_sq"]
        t = seg.count_step()                                                  # 1
        if group["maximize"]:
            np.negative(g, out=g)                                             # 2
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                seg.scale_theta(f(1 - lr * weight_decay))                     # 3
            else:
                seg.theta_times(f(weight_decay), out=tmp)
                np.add(g, tmp, out=g)
        np.subtract(g, m, out=tmp)                                            # 4
        np.multiply(tmp, f(1 - beta1), out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(g, f(1 - beta2), out=tmp)                                 # 5
        np.multiply(tmp, g, out=tmp)
        np.multiply(v, f(beta2), out=v)
        np.add(v, tmp, out=v)
        np.divide(m, f(1 - beta1 ** t), out=g)                                # 6: g ← m̂
        r = self._rectification(t, beta2)                                     # 7
        if r is not None:                                                     # 8
            np.sqrt(v, out=tmp)
            np.add(tmp, f(eps), out=tmp)
            np.reciprocal(tmp, out=tmp)
            np.multiply(tmp, f((1 - beta2 ** t) ** 0.5), out=tmp)
            np.multiply(g, f(lr), out=g)
            np.multiply(g, tmp, out=g)
            np.multiply(g, f(-r), out=g)
        else:
            np.multiply(g, f(-lr), out=g)
        seg.add_to_theta(g)
