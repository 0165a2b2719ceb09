"""Adagrad, with learning-rate decay and L2 weight decay (PyTorch's update)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor
from ._flat import Segment
from .optimizer import Optimizer, check_fused, check_tensor_hyperparameter, scalar

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (PyTorch's ``Adagrad``).

    For each parameter θ of a group, with gradient g, learning rate γ, lr_decay η,
    weight_decay λ, eps ε and initial_accumulator_value τ (the start of s), at step t:

        1. t ← t + 1
        2. g ← −g                                  (if maximize)
        3. g ← g + λ θ                             (if λ ≠ 0)
        4. γ̃ ← γ / (1 + (t − 1) η)
        5. s ← s + g²                              (sum)
        6. θ ← θ − γ̃ g / (√s + ε)

    As in PyTorch, the state (``step`` = 0, ``sum`` = τ) is created for every parameter when
    the optimizer is built, and a parameter added later starts its sum from the
    constructor's τ. ``foreach=False`` runs ``_reference_step`` (one parameter at a time);
    otherwise ``_flat_step`` runs each line once over all the parameters of a group.
    ``fused`` is accepted and runs the flat step.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_tensor_hyperparameter("lr", lr)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param]["step"] = Tensor._wrap(np.array(0.0, np.float32), False)
                self.state[param]["sum"] = Tensor._wrap(
                    np.full(param.shape, initial_accumulator_value, param.dtype), False)

    def _validate(self, group: dict[str, Any]) -> None:
        if not 0.0 <= scalar(group["lr"]):
            raise ValueError(f"Invalid learning rate: {scalar(group['lr'])}")
        if not 0.0 <= group["lr_decay"]:
            raise ValueError(f"Invalid lr_decay value: {group['lr_decay']}")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if not 0.0 <= group["initial_accumulator_value"]:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{group['initial_accumulator_value']}")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']}")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("sum",)

    def _initial_value(self, name: str, group: dict[str, Any]) -> float:
        return self.defaults["initial_accumulator_value"] if name == "sum" else 0.0

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        lr, lr_decay, eps = scalar(group["lr"]), group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        f = theta.dtype.type
        s = state["sum"]
        state["step"] += 1                                                    # 1
        t = float(state["step"])
        if group["maximize"]:
            g = -g                                                            # 2
        if weight_decay != 0:
            g = g + theta * f(weight_decay)                                   # 3
        lr_t = lr / (1 + (t - 1) * lr_decay)                                  # 4
        s[...] = s + g * g                                                    # 5
        theta[...] = theta + g * f(-lr_t) / (np.sqrt(s) + f(eps))             # 6

    def _flat_step(self, group: dict[str, Any], seg: Segment) -> None:
        """All parameters of the segment at once, in place."""
        lr, lr_decay, eps = scalar(group["lr"]), group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        f = seg.grad.dtype.type
        g, tmp = seg.grad, seg.scratch
        s = seg.state["sum"]
        t = seg.count_step()                                                  # 1
        if group["maximize"]:
            np.negative(g, out=g)                                             # 2
        if weight_decay != 0:
            seg.theta_times(f(weight_decay), out=tmp)                         # 3
            np.add(g, tmp, out=g)
        lr_t = lr / (1 + (t - 1) * lr_decay)                                  # 4
        np.multiply(g, g, out=tmp)                                            # 5
        np.add(s, tmp, out=s)
        np.sqrt(s, out=tmp)                                                   # 6
        np.add(tmp, f(eps), out=tmp)
        np.multiply(g, f(-lr_t), out=g)
        np.divide(g, tmp, out=g)
        seg.add_to_theta(g)
