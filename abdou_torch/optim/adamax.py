"""Adamax: Adam with the infinity norm in place of the second moment (PyTorch's update)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ._flat import Segment
from .adam import check_betas_eps_decay
from .optimizer import Optimizer, check_tensor_hyperparameter, scalar

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (PyTorch's ``Adamax``).

    For each parameter θ of a group, with gradient g, learning rate γ, betas (β1, β2),
    eps ε and weight_decay λ, at step t:

        1. t ← t + 1
        2. g ← −g                                  (if maximize)
        3. g ← g + λ θ                             (if λ ≠ 0)
        4. m ← m + (1 − β1) (g − m)                (exp_avg)
        5. u ← max(β2 u, |g| + ε)                  (exp_inf)
        6. θ ← θ − (γ / (1 − β1^t)) m / u

    ``foreach=False`` runs ``_reference_step`` (one parameter at a time); otherwise
    ``_flat_step`` runs each line once over all the parameters of a group.
    """

    def __init__(self, params: Iterable[Any], lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        check_tensor_hyperparameter("lr", lr)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        check_betas_eps_decay(group)

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("exp_avg", "exp_inf")

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        lr, eps, weight_decay = scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        f = theta.dtype.type
        m, u = state["exp_avg"], state["exp_inf"]
        state["step"] += 1                                                    # 1
        t = float(state["step"])
        if group["maximize"]:
            g = -g                                                            # 2
        if weight_decay != 0:
            g = g + theta * f(weight_decay)                                   # 3
        m[...] = m + (g - m) * f(1 - beta1)                                   # 4
        u[...] = np.maximum(u * f(beta2), np.abs(g) + f(eps))                 # 5
        theta[...] = theta + m * f(-lr / (1 - beta1 ** t)) / u                # 6

    def _flat_step(self, group: dict[str, Any], seg: Segment) -> None:
        """All parameters of the segment at once, in place."""
        lr, eps, weight_decay = scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        f = seg.grad.dtype.type
        g, tmp = seg.grad, seg.scratch
        m, u = seg.state["exp_avg"], seg.state["exp_inf"]
        t = seg.count_step()                                                  # 1
        if group["maximize"]:
            np.negative(g, out=g)                                             # 2
        if weight_decay != 0:
            seg.theta_times(f(weight_decay), out=tmp)                         # 3
            np.add(g, tmp, out=g)
        np.subtract(g, m, out=tmp)                                            # 4
        np.multiply(tmp, f(1 - beta1), out=tmp)
        np.add(m, tmp, out=m)
        np.abs(g, out=tmp)                                                    # 5
        np.add(tmp, f(eps), out=tmp)
        np.multiply(u, f(beta2), out=u)
        np.maximum(u, tmp, out=u)
        np.multiply(m, f(-lr / (1 - beta1 ** t)), out=g)                      # 6
        np.divide(g, u, out=g)
        seg.add_to_theta(g)
