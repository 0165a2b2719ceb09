"""Adam (L2 weight decay, optional AMSGrad) and WAdam (decoupled weight decay: PyTorch's
AdamW), following PyTorch's single-tensor update step for step."""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["Adam", "WAdam", "AdamW"]


def _check_adam_hyperparameters(group: dict[str, Any]) -> None:
    lr, eps, (beta1, beta2) = group["lr"], group["eps"], group["betas"]
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= beta1 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {beta1}")
    if not 0.0 <= beta2 < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {beta2}")
    if not 0.0 <= group["weight_decay"]:
        raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")


class Adam(Optimizer):
    """Adam with L2 weight decay added to the gradient.

    For each parameter θ with gradient g, at step t:

        1. g ← g + λ θ                          (if weight_decay λ > 0)
        2. m ← β1 m + (1 − β1) g                (exp_avg)
        3. v ← β2 v + (1 − β2) g²               (exp_avg_sq)
        4. v_max ← max(v_max, v), use v_max as v (if amsgrad)
        5. θ ← θ − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
    """

    decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        _check_adam_hyperparameters(group)

    def _state_for(self, param: Tensor, amsgrad: bool) -> dict[str, Any]:
        state = self.state.get(param)
        if state is None:
            zeros = np.zeros_like(param.data)
            state = {"step": Tensor._wrap(np.asarray(0.0, dtype=np.float32), False),
                     "exp_avg": Tensor._wrap(zeros, False),
                     "exp_avg_sq": Tensor._wrap(zeros.copy(), False)}
            if amsgrad:
                state["max_exp_avg_sq"] = Tensor._wrap(zeros.copy(), False)
            self.state[param] = state
        return state

    @no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    self._update(param, group)
        return loss

    def _update(self, param: Tensor, group: dict[str, Any]) -> None:
        """One step for one parameter, numbered as in the class docstring."""
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        dtype = param.dtype.type
        theta = param.data
        g = -param.grad.data if group["maximize"] else param.grad.data
        state = self._state_for(param, group["amsgrad"])
        m, v = state["exp_avg"].data, state["exp_avg_sq"].data
        state["step"].data += 1
        t = float(state["step"].data)
        if weight_decay != 0:
            if self.decoupled:
                theta *= dtype(1 - lr * weight_decay)                   # WAdam 2
            else:
                g = g + dtype(weight_decay) * theta                     # Adam 1
        m += dtype(1 - beta1) * (g - m)                                 # m ← β1 m + (1 − β1) g
        v *= dtype(beta2)
        v += dtype(1 - beta2) * g * g                                   # v ← β2 v + (1 − β2) g²
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"].data
            np.maximum(v_max, v, out=v_max)
            v = v_max
        step_size = lr / (1 - beta1 ** t)
        denom = np.sqrt(v) / dtype(math.sqrt(1 - beta2 ** t)) + dtype(eps)
        theta -= dtype(step_size) * (m / denom)


class WAdam(Adam):
    """Adam with decoupled weight decay (PyTorch's AdamW, with its defaults).

    For each parameter θ with gradient g, at step t:

        1. t ← t + 1
        2. θ ← θ − lr λ θ                        (decoupled weight decay λ)
        3. m ← β1 m + (1 − β1) g                 (exp_avg)
        4. v ← β2 v + (1 − β2) g²                (exp_avg_sq)
        5. v_max ← max(v_max, v), use v_max as v (if amsgrad)
        6. θ ← θ − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
    """

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


AdamW = WAdam
