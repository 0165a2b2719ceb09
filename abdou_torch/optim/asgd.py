"""ASGD: averaged stochastic gradient descent (PyTorch's update)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..fma import fma32, fma64
from ._flat import Segment
from .optimizer import Optimizer, check_tensor_hyperparameter, scalar

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD (PyTorch's ``ASGD``; Polyak and Juditsky, 1992).

    For each parameter θ of a group, with gradient g, learning rate γ, decay term λ (lambd),
    power α, averaging start t0 and weight_decay w, at step t (η and μ are per-parameter
    float32 scalars, starting at η = γ and μ = 1):

        1. t ← t + 1
        2. g ← −g                                  (if maximize)
        3. g ← g + w θ                             (if w ≠ 0)
        4. θ ← (1 − λ η) θ
        5. θ ← θ − η g
        6. ax ← ax + μ (θ − ax)  if μ ≠ 1, else ax ← θ    (the running average of θ)
        7. η ← γ / (1 + λ γ t)^α                   (eta)
        8. μ ← 1 / max(1, t − t0)                  (mu)

    ``foreach=False`` runs ``_reference_step`` (one parameter at a time); otherwise
    ``_flat_step`` runs each line once over all the parameters of a group. Lines 3 and 5
    round once (a fused multiply-add), as PyTorch's ``add(x, alpha=...)`` does.
    """

    _scalar_names = ("step", "eta", "mu")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_tensor_hyperparameter("lr", lr)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        if not 0.0 <= scalar(group["lr"]):
            raise ValueError(f"Invalid learning rate: {scalar(group['lr'])}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("ax",)

    def _initial_value(self, name: str, group: dict[str, Any]) -> float:
        return {"eta": float(scalar(group["lr"])), "mu": 1.0}.get(name, 0.0)

    @staticmethod
    def _next_eta_mu(group: dict[str, Any], t: float) -> tuple[np.float32, np.float32]:
        lr, lambd = scalar(group["lr"]), group["lambd"]
        eta = np.float32(lr / ((1 + lambd * lr * t) ** group["alpha"]))      # 7
        mu = np.float32(1 / max(1, t - group["t0"]))                         # 8
        return eta, mu

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        f = theta.dtype.type
        ax = state["ax"]
        state["step"] += 1                                                    # 1
        t = float(state["step"])
        if group["maximize"]:
            g = -g                                                            # 2
        if group["weight_decay"] != 0:
            g = _fma(theta, f(group["weight_decay"]), g)                      # 3
        eta = float(state["eta"])
        theta[...] = theta * f(1 - group["lambd"] * eta)                      # 4
        theta[...] = _fma(g, f(-eta), theta)                                  # 5
        mu = float(state["mu"])
        if mu != 1:
            ax[...] = ax + (theta - ax) * f(mu)                               # 6
        else:
            ax[...] = theta
        state["eta"][...], state["mu"][...] = self._next_eta_mu(group, t)     # 7, 8

    def _flat_step(self, group: dict[str, Any], seg: Segment) -> None:
        """All parameters of the segment at once, in place."""
        f = seg.grad.dtype.type
        g, tmp = seg.grad, seg.scratch
        ax = seg.state["ax"]
        t = seg.count_step()                                                  # 1
        if group["maximize"]:
            np.negative(g, out=g)                                             # 2
        if group["weight_decay"] != 0:
            seg.theta_times(f(1), out=tmp)                                    # 3
            g[...] = _fma(tmp, f(group["weight_decay"]), g)
        eta = seg.scalar("eta")
        seg.scale_theta(f(1 - group["lambd"] * eta))                          # 4
        seg.theta_times(f(1), out=tmp)                                        # 5
        tmp[...] = _fma(g, f(-eta), tmp)
        seg.set_theta(tmp)
        mu = seg.scalar("mu")
        seg.theta_times(f(1), out=tmp)                                        # 6
        if mu != 1:
            np.subtract(tmp, ax, out=tmp)
            np.multiply(tmp, f(mu), out=tmp)
            np.add(ax, tmp, out=ax)
        else:
            np.copyto(ax, tmp)
        eta_next, mu_next = self._next_eta_mu(group, t)                       # 7, 8
        seg.scalars["eta"][...] = eta_next
        seg.scalars["mu"][...] = mu_next



def _fma(a: np.ndarray, b: Any, c: np.ndarray) -> np.ndarray:
    """a · b + c rounded once (float32 or float64)."""
    return fma32(a, b, c) if a.dtype == np.float32 else fma64(a, b, c)
