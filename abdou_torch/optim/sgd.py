"""SGD with momentum, dampening, Nesterov momentum and L2 weight decay (PyTorch's update),
run over all parameters of a group at once."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ._flat import flush_subnormals
from .optimizer import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's ``SGD``).

    For the parameters θ of a group, with gradients g, learning rate γ, momentum μ,
    dampening τ and weight_decay λ:

        1. g ← −g                                  (if maximize)
        2. g ← g + λ θ                             (if λ ≠ 0)
        3. b ← g on the first step, else           (momentum_buffer, if μ ≠ 0)
           b ← μ b + (1 − τ) g
        4. b ← 0 where |b| < tiny                  (flush subnormals, as in Adam)
        5. g ← g + μ b if nesterov, else g ← b     (if μ ≠ 0)
        6. θ ← θ − γ g

    Every line runs once over all the parameters of a group, in place, on flat arrays that
    the parameters and their state are views of.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        if group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']}")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']}")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient, numbered as in the class
        docstring; returns the closure's loss if a closure is given."""
        loss = self._evaluate(closure)
        for index, group in enumerate(self.param_groups):
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay = group["weight_decay"]
            names = ("momentum_buffer",) if momentum != 0 else ()
            for seg in self._segments(index, group, names, count_steps=False):
                f = seg.param.dtype.type          # scalars in the parameters' dtype
                theta, g, tmp = seg.param, seg.grad, seg.scratch
                if group["maximize"]:
                    np.negative(g, out=g)                                     # 1
                if weight_decay != 0:
                    np.multiply(theta, f(weight_decay), out=tmp)              # 2
                    np.add(g, tmp, out=g)
                if momentum != 0:
                    b = seg.state["momentum_buffer"]
                    if seg.fresh:
                        np.copyto(b, g)                                       # 3
                    else:
                        np.multiply(b, f(momentum), out=b)
                        if dampening != 0:
                            np.multiply(g, f(1 - dampening), out=tmp)
                            np.add(b, tmp, out=b)
                        else:
                            np.add(b, g, out=b)
                    flush_subnormals(b, tmp, seg.mask)                        # 4
                    if group["nesterov"]:
                        np.multiply(b, f(momentum), out=tmp)                  # 5
                        np.add(g, tmp, out=g)
                    else:
                        g = b
                np.multiply(g, f(-lr), out=tmp)                               # 6
                np.add(theta, tmp, out=theta)
        return loss
