"""Adam (L2 or decoupled weight decay, optional AMSGrad) and WAdam (PyTorch's AdamW: Adam with
decoupled weight decay), with PyTorch's update."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ._flat import Segment
from .optimizer import Optimizer, check_fused, check_tensor_hyperparameter, scalar

__all__ = ["Adam", "WAdam", "AdamW"]


def check_betas_eps_decay(group: dict[str, Any]) -> None:
    """PyTorch's checks (and messages) for lr, eps, betas and weight_decay, shared by the
    Adam family."""
    lr, eps, betas = scalar(group["lr"]), group["eps"], tuple(map(scalar, group["betas"]))
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


def _adam_betas(betas: Any, lr: Any, eps: float, weight_decay: float,
                foreach: bool | None, capturable: bool) -> tuple:
    """PyTorch's constructor checks, in its order (tensor lr, ranges, then tensor betas);
    returns betas as numbers."""
    from ..tensor import Tensor
    if isinstance(lr, Tensor) and foreach and not capturable:
        raise ValueError("lr as a Tensor is not supported for capturable=False and "
                         "foreach=True")
    check_tensor_hyperparameter("lr", lr)
    betas = tuple(betas)
    check_betas_eps_decay(dict(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay))
    if len(betas) == 2 and not (all(isinstance(b, float) for b in betas)
                                or all(isinstance(b, Tensor) for b in betas)):
        raise ValueError("betas must be either both floats or both Tensors")
    for index, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if foreach and not capturable:
                raise ValueError(f"betas[{index}] as a Tensor is not supported for "
                                 f"capturable=False and foreach=True")
            check_tensor_hyperparameter(f"betas[{index}]", beta)
    return tuple(scalar(b) for b in betas)


class Adam(Optimizer):
    """Adam (PyTorch's ``Adam``): L2 weight decay added to the gradient, or decoupled
    (``decoupled_weight_decay=True``, which is AdamW).

    For each parameter θ of a group, with gradient g, learning rate γ, betas (β1, β2),
    eps ε and weight_decay λ, at step t:

        1. t ← t + 1
        2. g ← −g                                 (if maximize)
        3. θ ← θ (1 − γ λ) if decoupled,          (if λ ≠ 0)
           else g ← g + λ θ
        4. m ← m + (1 − β1) (g − m)               (exp_avg)
        5. v ← β2 v + (1 − β2) g²                 (exp_avg_sq)
        6. v̂ ← max(v̂, v) if amsgrad, else v̂ = v  (max_exp_avg_sq)
        7. d ← √v̂ + ε √(1 − β2^t)
        8. θ ← θ − (γ √(1 − β2^t) / (1 − β1^t)) m / d

    Lines 7-8 are PyTorch's d = √v̂ / √(1 − β2^t) + ε and θ ← θ − γ/(1 − β1^t) · m / d with
    √(1 − β2^t) moved into the step size (as in the Adam paper): one pass fewer, the same
    values up to rounding.

    ``foreach=False`` runs ``_reference_step`` (one parameter at a time); otherwise
    ``_flat_step`` runs each line once over all the parameters of a group, in place, in the
    parameters' dtype. ``fused`` is accepted and runs the flat step. There the decoupled
    decay of line 3 is applied with line 8, one parameter after the other (nothing between
    reads θ, so the result is the same): θ is read and written while it is in cache.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        betas = _adam_betas(betas, lr, eps, weight_decay, foreach, capturable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)

    def _validate(self, group: dict[str, Any]) -> None:
        check_betas_eps_decay(group)

    def _check_step_options(self, group: dict[str, Any]) -> None:
        """As PyTorch's Adam: the fused CPU step takes ``capturable``, and the foreach step
        refuses ``differentiable`` with an AssertionError before anything else."""
        if group["differentiable"] and group["foreach"]:
            raise AssertionError("_foreach ops don't support autograd")
        if group["fused"]:
            group = dict(group, capturable=False)
        super()._check_step_options(group)

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        if group["amsgrad"]:
            return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
        return ("exp_avg", "exp_avg_sq")

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        """One parameter, line by line."""
        lr, eps, weight_decay = scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        f = theta.dtype.type
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1                                                    # 1
        t = float(state["step"])
        if group["maximize"]:
            g = -g                                                            # 2
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                theta[...] = theta * f(1 - lr * weight_decay)                 # 3
            else:
                g = g + theta * f(weight_decay)
        m[...] = m + (g - m) * f(1 - beta1)                                   # 4
        v[...] = v * f(beta2) + g * f(1 - beta2) * g                          # 5
        v_hat = v
        if group["amsgrad"]:
            v_hat = state["max_exp_avg_sq"]                                   # 6
            v_hat[...] = np.maximum(v_hat, v)
        root_bias2 = math.sqrt(1 - beta2 ** t)
        d = np.sqrt(v_hat) + f(eps * root_bias2)                              # 7
        theta[...] = theta + m * f(-lr * root_bias2 / (1 - beta1 ** t)) / d   # 8

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
        decay = None
        if weight_decay != 0:
            if group["decoupled_weight_decay"]:
                decay = f(1 - lr * weight_decay)                              # 3 (with 8)
            else:
                seg.theta_times(f(weight_decay), out=tmp)
                np.add(g, tmp, out=g)
        np.subtract(g, m, out=tmp)                                            # 4
        np.multiply(tmp, f(1 - beta1), out=tmp)
        np.add(m, tmp, out=m)
        np.multiply(g, f(1 - beta2), out=tmp)                                 # 5
        np.multiply(tmp, g, out=tmp)
        np.multiply(v, f(beta2), out=v)
        np.add(v, tmp, out=v)
        v_hat = v
        if group["amsgrad"]:
            v_hat = seg.state["max_exp_avg_sq"]                               # 6
            np.maximum(v_hat, v, out=v_hat)
        root_bias2 = math.sqrt(1 - beta2 ** t)
        np.sqrt(v_hat, out=tmp)                                               # 7
        np.add(tmp, f(eps * root_bias2), out=tmp)
        np.multiply(m, f(-lr * root_bias2 / (1 - beta1 ** t)), out=g)         # 8
        np.divide(g, tmp, out=g)
        seg.add_to_theta(g, scale=decay)


class WAdam(Adam):
    """Adam with decoupled weight decay: PyTorch's ``AdamW``, with its defaults
    (lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2).

    For each parameter θ of a group, with gradient g, learning rate γ, betas (β1, β2),
    eps ε and weight_decay λ, at step t:

        1. t ← t + 1
        2. g ← −g                                 (if maximize)
        3. θ ← θ (1 − γ λ)                        (decoupled weight decay)
        4. m ← m + (1 − β1) (g − m)               (exp_avg)
        5. v ← β2 v + (1 − β2) g²                 (exp_avg_sq)
        6. v̂ ← max(v̂, v) if amsgrad, else v̂ = v  (max_exp_avg_sq)
        7. d ← √v̂ + ε √(1 − β2^t)
        8. θ ← θ − (γ √(1 − β2^t) / (1 − β1^t)) m / d

    The steps are Adam's, with ``decoupled_weight_decay=True``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None,
                 capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


AdamW = WAdam
