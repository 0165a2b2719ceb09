"""NAdam: Adam with Nesterov momentum and a momentum schedule (PyTorch's update)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ._flat import Segment
from .adam import check_betas_eps_decay
from .optimizer import Optimizer, check_tensor_hyperparameter, scalar

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (PyTorch's ``NAdam``).

    For each parameter θ of a group, with gradient g, learning rate γ, betas (β1, β2),
    eps ε, weight_decay λ and momentum_decay ψ, at step t::

        1. t ← t + 1
        2. g ← −g                                  (if maximize)
        3. θ ← θ (1 − γ λ) if decoupled,           (if λ ≠ 0)
           else g ← g + λ θ
        4. μ ← β1 (1 − ½ · 0.96^(t ψ)),  μ' ← β1 (1 − ½ · 0.96^((t + 1) ψ))
        5. Π ← Π μ                                 (mu_product, a float32 scalar)
        6. m ← m + (1 − β1) (g − m)                (exp_avg)
        7. v ← β2 v + (1 − β2) g²                  (exp_avg_sq)
        8. d ← √(v / (1 − β2^t)) + ε
        9. θ ← θ − (γ (1 − μ) / (1 − Π)) g / d
       10. θ ← θ − (γ μ' / (1 − Π μ')) m / d

    ``foreach=False`` runs ``_reference_step`` (one parameter at a time); otherwise
    ``_flat_step`` runs each line once over all the parameters of a group.
    """

    _scalar_names = ("step", "mu_product")

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        check_tensor_hyperparameter("lr", lr)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        check_betas_eps_decay(group)
        if not 0.0 <= group["momentum_decay"]:
            raise ValueError(f"Invalid momentum_decay value: {group['momentum_decay']}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq")

    def _initial_value(self, name: str, group: dict[str, Any]) -> float:
        return 1.0 if name == "mu_product" else 0.0

    @staticmethod
    def _momentum(t: float, beta1: float, momentum_decay: float) -> tuple[float, float]:
        """μ and μ' of line 4."""
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        return mu, mu_next

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        lr, eps, weight_decay = scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        f = theta.dtype.type
        m, v, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
        state["step"] += 1                                                    # 1
        t = float(state["step"])
        if group["maximize"]:
            g = -g                                                            # 2
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                theta[...] = theta * f(1 - lr * weight_decay)                 # 3
            else:
                g = g + theta * f(weight_decay)
        mu, mu_next = self._momentum(t, beta1, group["momentum_decay"])       # 4
        mu_product *= np.float32(mu)                                          # 5
        pi = float(mu_product)
        m[...] = m + (g - m) * f(1 - beta1)                                   # 6
        v[...] = v * f(beta2) + g * f(1 - beta2) * g                          # 7
        d = np.sqrt(v / f(1 - beta2 ** t)) + f(eps)                           # 8
        theta[...] = theta + g * f(-lr * (1 - mu) / (1 - pi)) / d             # 9
        theta[...] = theta + m * f(-lr * mu_next / (1 - pi * mu_next)) / d    # 10

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
        mu, mu_next = self._momentum(t, beta1, group["momentum_decay"])       # 4
        mu_product = seg.scalars["mu_product"]
        np.multiply(mu_product, np.float32(mu), out=mu_product)               # 5
        pi = seg.scalar("mu_product")
        np.subtract(g, m, out=tmp)                                            # 6
        np.multiply(tmp, f(1 - beta1), out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(g, f(1 - beta2), out=tmp)                                 # 7
        np.multiply(tmp, g, out=tmp)
        np.multiply(v, f(beta2), out=v)
        np.add(v, tmp, out=v)
        np.divide(v, f(1 - beta2 ** t), out=tmp)                              # 8
        np.sqrt(tmp, out=tmp)
        np.add(tmp, f(eps), out=tmp)
        np.multiply(g, f(-lr * (1 - mu) / (1 - pi)), out=g)                   # 9
        np.divide(g, tmp, out=g)
        seg.add_to_theta(g)
        np.multiply(m, f(-lr * mu_next / (1 - pi * mu_next)), out=g)          # 10
        np.divide(g, tmp, out=g)
        seg.add_to_theta(g)
