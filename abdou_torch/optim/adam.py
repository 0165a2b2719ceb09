"""Adam (L2 weight decay, optional AMSGrad) and WAdam (decoupled weight decay: PyTorch's
AdamW), with PyTorch's update, run over all parameters of a group at once."""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np

from ._flat import FLUSH_EVERY, flush_subnormals
from .optimizer import Optimizer

__all__ = ["Adam", "WAdam", "AdamW"]


def _check_adam_hyperparameters(group: dict[str, Any]) -> None:
    lr, eps, betas = group["lr"], group["eps"], group["betas"]
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= group["weight_decay"]:
        raise ValueError(f"Invalid weight_decay value: {group['weight_decay']}")


class Adam(Optimizer):
    """Adam, with L2 weight decay added to the gradient (PyTorch's ``Adam``).

    For the parameters θ of a group, with gradients g, learning rate γ, betas (β1, β2),
    eps ε and weight_decay λ, at step t:

        1. t ← t + 1
        2. g ← −g                                 (if maximize)
        3. g ← g + λ θ                            (if λ ≠ 0)
        4. m ← m + (1 − β1) (g − m)               (exp_avg)
        5. v ← β2 v + (1 − β2) g²                 (exp_avg_sq)
        6. m, v ← 0 where |m|, v < tiny           (every 16th step: flush subnormals)
        7. v̂ ← max(v̂, v) if amsgrad, else v̂ = v  (max_exp_avg_sq)
        8. d ← √v̂ + ε √(1 − β2^t)
        9. θ ← θ − (γ √(1 − β2^t) / (1 − β1^t)) m / d

    Lines 8-9 are PyTorch's d = √v̂ / √(1 − β2^t) + ε and θ ← θ − γ/(1 − β1^t) · m / d with
    √(1 − β2^t) moved into the step size (as in the Adam paper): one pass fewer, the same
    values up to rounding.

    Speed: every line runs once over all the parameters of a group, in place, on flat
    arrays that the parameters and their state are views of (PyTorch's foreach idea), in
    the parameters' dtype (float32 stays float32). Line 6 sets state values below the
    smallest normal float (1.2e-38 in float32) to zero, as ``torch.set_flush_denormal``
    does: such subnormal values appear as the averages decay where gradients are zero, and
    make arithmetic several times slower (see ``_flat.py``); the update they feed changes
    by far less than one rounding error. Once every 16 steps is enough to keep them rare
    and costs a sixteenth of flushing every step.
    """

    decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group: dict[str, Any]) -> None:
        _check_adam_hyperparameters(group)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient, numbered as in the class
        docstring; returns the closure's loss if a closure is given."""
        loss = self._evaluate(closure)
        for index, group in enumerate(self.param_groups):
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            amsgrad = group["amsgrad"]
            names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad \
                else ("exp_avg", "exp_avg_sq")
            for seg in self._segments(index, group, names, count_steps=True):
                f = seg.param.dtype.type          # scalars in the parameters' dtype
                theta, g, tmp = seg.param, seg.grad, seg.scratch
                m, v = seg.state["exp_avg"], seg.state["exp_avg_sq"]
                t = seg.count_step()                                          # 1
                if group["maximize"]:
                    np.negative(g, out=g)                                     # 2
                if weight_decay != 0:
                    if self.decoupled:
                        np.multiply(theta, f(1 - lr * weight_decay), out=theta)  # 3 (WAdam)
                    else:
                        np.multiply(theta, f(weight_decay), out=tmp)          # 3
                        np.add(g, tmp, out=g)
                np.subtract(g, m, out=tmp)                                    # 4
                np.multiply(tmp, f(1 - beta1), out=tmp)
                np.add(m, tmp, out=m)
                np.multiply(g, f(1 - beta2), out=tmp)                         # 5
                np.multiply(tmp, g, out=tmp)
                np.multiply(v, f(beta2), out=v)
                np.add(v, tmp, out=v)
                if t % FLUSH_EVERY == 0:                                      # 6
                    flush_subnormals(m, tmp, seg.mask)
                    flush_subnormals(v, tmp, seg.mask, nonnegative=True)
                v_hat = v
                if amsgrad:
                    v_hat = seg.state["max_exp_avg_sq"]                       # 7
                    np.maximum(v_hat, v, out=v_hat)
                root_bias2 = math.sqrt(1 - beta2 ** t)
                np.sqrt(v_hat, out=tmp)                                       # 8
                np.add(tmp, f(eps * root_bias2), out=tmp)
                np.multiply(m, f(-lr * root_bias2 / (1 - beta1 ** t)), out=g)  # 9
                np.divide(g, tmp, out=g)
                np.add(theta, g, out=theta)
        return loss


class WAdam(Adam):
    """Adam with decoupled weight decay: PyTorch's ``AdamW``, with its defaults
    (lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2).

    For the parameters θ of a group, with gradients g, learning rate γ, betas (β1, β2),
    eps ε and weight_decay λ, at step t:

        1. t ← t + 1
        2. g ← −g                                 (if maximize)
        3. θ ← θ (1 − γ λ)                        (decoupled weight decay)
        4. m ← m + (1 − β1) (g − m)               (exp_avg)
        5. v ← β2 v + (1 − β2) g²                 (exp_avg_sq)
        6. m, v ← 0 where |m|, v < tiny           (every 16th step: flush subnormals)
        7. v̂ ← max(v̂, v) if amsgrad, else v̂ = v  (max_exp_avg_sq)
        8. d ← √v̂ + ε √(1 − β2^t)
        9. θ ← θ − (γ √(1 − β2^t) / (1 − β1^t)) m / d

    ``step()`` is Adam's, with line 3 decoupled; speed and line 6 as described there.
    """

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


AdamW = WAdam
