"""Adadelta (PyTorch's update)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ._flat import Segment
from .optimizer import Optimizer, check_tensor_hyperparameter, scalar

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (PyTorch's ``Adadelta``).

    For each parameter θ of a group, with gradient g, learning rate γ, decay ρ (rho), eps ε
    and weight_decay λ, at step t:

        1. t ← t + 1
        2. g ← −g                                  (if maximize)
        3. g ← g + λ θ                             (if λ ≠ 0)
        4. v ← ρ v + (1 − ρ) g²                    (square_avg)
        5. Δ ← (√(u + ε) / √(v + ε)) g
        6. u ← ρ u + (1 − ρ) Δ²                    (acc_delta)
        7. θ ← θ − γ Δ

    ``foreach=False`` runs ``_reference_step`` (one parameter at a time); otherwise
    ``_flat_step`` runs each line once over all the parameters of a group.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0, foreach: bool | None = None,
                 *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_tensor_hyperparameter("lr", lr)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        if not 0.0 <= scalar(group["lr"]):
            raise ValueError(f"Invalid learning rate: {scalar(group['lr'])}")
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("square_avg", "acc_delta")

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        lr, rho, eps = scalar(group["lr"]), group["rho"], group["eps"]
        weight_decay = group["weight_decay"]
        f = theta.dtype.type
        v, u = state["square_avg"], state["acc_delta"]
        state["step"] += 1                                                    # 1
        if group["maximize"]:
            g = -g                                                            # 2
        if weight_decay != 0:
            g = g + theta * f(weight_decay)                                   # 3
        v[...] = v * f(rho) + g * f(1 - rho) * g                              # 4
        delta = np.sqrt(u + f(eps)) / np.sqrt(v + f(eps)) * g                 # 5
        u[...] = u * f(rho) + delta * f(1 - rho) * delta                      # 6
        theta[...] = theta + delta * f(-lr)                                   # 7

    def _flat_step(self, group: dict[str, Any], seg: Segment) -> None:
        """All parameters of the segment at once, in place (Δ needs one array of its own)."""
        lr, rho, eps = scalar(group["lr"]), group["rho"], group["eps"]
        weight_decay = group["weight_decay"]
        f = seg.grad.dtype.type
        g, tmp = seg.grad, seg.scratch
        v, u = seg.state["square_avg"], seg.state["acc_delta"]
        seg.count_step()                                                      # 1
        if group["maximize"]:
            np.negative(g, out=g)                                             # 2
        if weight_decay != 0:
            seg.theta_times(f(weight_decay), out=tmp)                         # 3
            np.add(g, tmp, out=g)
        np.multiply(g, f(1 - rho), out=tmp)                                   # 4
        np.multiply(tmp, g, out=tmp)
        np.multiply(v, f(rho), out=v)
        np.add(v, tmp, out=v)
        np.add(v, f(eps), out=tmp)                                            # 5
        np.sqrt(tmp, out=tmp)
        delta = np.add(u, f(eps))
        np.sqrt(delta, out=delta)
        np.divide(delta, tmp, out=delta)
        np.multiply(delta, g, out=delta)
        np.multiply(delta, f(1 - rho), out=tmp)                               # 6
        np.multiply(tmp, delta, out=tmp)
        np.multiply(u, f(rho), out=u)
        np.add(u, tmp, out=u)
        np.multiply(delta, f(-lr), out=g)                                     # 7
        seg.add_to_theta(g)
