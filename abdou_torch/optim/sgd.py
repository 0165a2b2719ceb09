"""SGD with momentum, dampening, Nesterov momentum and L2 weight decay (PyTorch's update)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from ._flat import Segment
from .optimizer import Optimizer, check_fused, check_tensor_hyperparameter, scalar

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's ``SGD``).

    For each parameter θ of a group, with gradient g, learning rate γ, momentum μ,
    dampening τ and weight_decay λ:

        1. g ← −g                                  (if maximize)
        2. g ← g + λ θ                             (if λ ≠ 0)
        3. b ← g on the first step, else           (momentum_buffer, if μ ≠ 0)
           b ← μ b + (1 − τ) g
        4. g ← g + μ b if nesterov, else g ← b     (if μ ≠ 0)
        5. θ ← θ − γ g

    ``foreach=False`` runs ``_reference_step`` (one parameter at a time); otherwise
    ``_flat_step`` runs each line once over all the parameters of a group. ``fused`` is
    accepted and runs the flat step.

    >>> import abdou_torch as torch
    >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> optimizer = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> optimizer.zero_grad()
    >>> (w ** 2).sum().backward()             # g = 2w
    >>> optimizer.step()                      # w - 0.1 * 2w
    >>> w
    tensor([ 0.8000, -1.6000], requires_grad=True)
    """

    _scalar_names = ()  # PyTorch's SGD keeps no step count

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False, foreach: bool | None = None,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        check_tensor_hyperparameter("lr", lr)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    def _validate(self, group: dict[str, Any]) -> None:
        if scalar(group["lr"]) < 0.0:
            raise ValueError(f"Invalid learning rate: {scalar(group['lr'])}")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if scalar(group["weight_decay"]) < 0.0:
            raise ValueError(f"Invalid weight_decay value: {scalar(group['weight_decay'])}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        lr, weight_decay = scalar(group["lr"]), scalar(group["weight_decay"])
        momentum, dampening = group["momentum"], group["dampening"]
        f = theta.dtype.type
        if group["maximize"]:
            g = -g                                                            # 1
        if weight_decay != 0:
            g = g + theta * f(weight_decay)                                   # 2
        if momentum != 0:
            b = state["momentum_buffer"]
            if fresh:
                b[...] = g                                                    # 3
            else:
                b[...] = b * f(momentum) + g * f(1 - dampening)
            g = g + b * f(momentum) if group["nesterov"] else b               # 4
        theta[...] = theta + g * f(-lr)                                       # 5

    def _flat_step(self, group: dict[str, Any], seg: Segment) -> None:
        """All parameters of the segment at once, in place."""
        lr, weight_decay = scalar(group["lr"]), scalar(group["weight_decay"])
        momentum, dampening = group["momentum"], group["dampening"]
        f = seg.grad.dtype.type
        g, tmp = seg.grad, seg.scratch
        if group["maximize"]:
            np.negative(g, out=g)                                             # 1
        if weight_decay != 0:
            seg.theta_times(f(weight_decay), out=tmp)                         # 2
            np.add(g, tmp, out=g)
        if momentum != 0:
            b = seg.state["momentum_buffer"]
            if seg.fresh:
                np.copyto(b, g)                                               # 3
            else:
                np.multiply(b, f(momentum), out=b)
                if dampening != 0:  # (1 − 0) g is g: one pass fewer
                    np.multiply(g, f(1 - dampening), out=tmp)
                    np.add(b, tmp, out=b)
                else:
                    np.add(b, g, out=b)
            if group["nesterov"]:
                np.multiply(b, f(momentum), out=tmp)                          # 4
                np.add(g, tmp, out=g)
            else:
                g = b
        np.multiply(g, f(-lr), out=tmp)                                       # 5
        seg.add_to_theta(tmp)
