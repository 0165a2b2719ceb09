"""Rprop: resilient backpropagation, a per-element step size driven by gradient signs
(PyTorch's update)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ._flat import Segment
from .optimizer import Optimizer, check_tensor_hyperparameter, scalar

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop (PyTorch's ``Rprop``; Riedmiller and Braun, 1993).

    For each parameter θ of a group, with gradient g, learning rate γ (the first step size),
    etas (η−, η+) and step_sizes (Δmin, Δmax), at step t (Δ starts at γ, prev at 0):

        1. t ← t + 1
        2. g ← −g                                  (if maximize)
        3. s ← sign(g · prev)
        4. Δ ← clamp(Δ · (η+ if s > 0, η− if s < 0, 1 if s = 0), Δmin, Δmax)   (step_size)
        5. g ← 0 where s < 0                       (a sign change: no move this step)
        6. θ ← θ − sign(g) Δ
        7. prev ← g

    ``foreach=False`` runs ``_reference_step`` (one parameter at a time); otherwise
    ``_flat_step`` runs each line once over all the parameters of a group.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2,
                 etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_tensor_hyperparameter("lr", lr)
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes),
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        if not 0.0 <= scalar(group["lr"]):
            raise ValueError(f"Invalid learning rate: {scalar(group['lr'])}")
        etaminus, etaplus = group["etas"]
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"Invalid eta values: {etaminus}, {etaplus}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("prev", "step_size")

    def _initial_value(self, name: str, group: dict[str, Any]) -> float:
        return float(scalar(group["lr"])) if name == "step_size" else 0.0

    @staticmethod
    def _factors(group: dict[str, Any], s: np.ndarray, f: type) -> np.ndarray:
        etaminus, etaplus = group["etas"]
        return np.where(s > 0, f(etaplus), np.where(s < 0, f(etaminus), f(1)))

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        f = theta.dtype.type
        low, high = group["step_sizes"]
        prev, step_size = state["prev"], state["step_size"]
        state["step"] += 1                                                    # 1
        if group["maximize"]:
            g = -g                                                            # 2
        s = np.sign(g * prev)                                                 # 3
        step_size[...] = np.clip(step_size * self._factors(group, s, f),      # 4
                                 f(low), f(high))
        g = np.where(s < 0, f(0), g)                                          # 5
        theta[...] = theta - np.sign(g) * step_size                           # 6
        prev[...] = g                                                         # 7

    def _flat_step(self, group: dict[str, Any], seg: Segment) -> None:
        """All parameters of the segment at once, in place."""
        f = seg.grad.dtype.type
        low, high = group["step_sizes"]
        g, tmp = seg.grad, seg.scratch
        prev, step_size = seg.state["prev"], seg.state["step_size"]
        seg.count_step()                                                      # 1
        if group["maximize"]:
            np.negative(g, out=g)                                             # 2
        np.multiply(g, prev, out=tmp)                                         # 3
        np.sign(tmp, out=tmp)
        changed = tmp < 0
        np.multiply(step_size, self._factors(group, tmp, f), out=step_size)   # 4
        np.clip(step_size, f(low), f(high), out=step_size)
        g[changed] = 0                                                        # 5
        np.sign(g, out=tmp)                                                   # 6
        np.multiply(tmp, step_size, out=tmp)
        np.negative(tmp, out=tmp)
        seg.add_to_theta(tmp)
        np.copyto(prev, g)                                                    # 7
