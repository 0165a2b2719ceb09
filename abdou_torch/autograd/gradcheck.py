"""Numerical gradient checks: analytic gradients against float64 central differences.

For a function f of tensors x_1..x_k and a random weighting w of its output, the check
compares the analytic d(sum(w * f))/dx_i with the central difference
(sum(w * f(x + eps e_j)) - sum(w * f(x - eps e_j))) / (2 eps) for every element j.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .engine import grad as autograd_grad
from .grad_mode import enable_grad, no_grad

__all__ = ["gradcheck", "gradgradcheck", "numerical_gradients"]


def _as_tuple(value) -> tuple:
    """Inputs and outputs as a tuple: a list counts as a sequence, as in PyTorch."""
    if isinstance(value, list):
        return tuple(value)
    return value if isinstance(value, tuple) else (value,)


def _weighted_sum(func: Callable, inputs: Sequence, weights: Sequence) -> float:
    with no_grad():
        outputs = _as_tuple(func(*inputs))
    return float(sum(np.sum(np.asarray(o.data, dtype=np.float64) * w)
                     for o, w in zip(outputs, weights)))


def numerical_gradients(func: Callable, inputs: Sequence, weights: Sequence,
                        eps: float) -> list:
    """Central-difference gradients of sum(w * func(*inputs)) for inputs requiring grad."""
    gradients = []
    for tensor in inputs:
        if not getattr(tensor, "requires_grad", False):
            gradients.append(None)
            continue
        values = tensor.data  # perturbed in place, restored after each element
        estimate = np.zeros(values.shape, dtype=np.float64)
        for index in np.ndindex(values.shape):
            original = values[index]
            values[index] = original + eps
            upper = _weighted_sum(func, inputs, weights)
            values[index] = original - eps
            lower = _weighted_sum(func, inputs, weights)
            values[index] = original
            estimate[index] = (upper - lower) / (2 * eps)
        gradients.append(estimate)
    return gradients


def gradcheck(func: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0) -> bool:
    """Check ``func``'s analytic gradients at ``inputs`` (float64 tensors) numerically.

    Returns True when every gradient matches; otherwise raises (or returns False) with the
    input, the largest difference and where it is.

    >>> import abdou_torch as torch
    >>> from abdou_torch.autograd import gradcheck
    >>> x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    >>> gradcheck(torch.tanh, (x,))
    True
    """
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    differentiable = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for tensor in differentiable:
        if tensor.dtype != np.float64:
            raise TypeError(f"gradcheck needs float64 inputs for precision, got {tensor.dtype}")
    outputs = _as_tuple(func(*inputs))
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(o.shape) for o in outputs]
    differentiable_outputs = [o for o in outputs if o.requires_grad]
    loss = sum((o * Tensor(w)).sum() for o, w in zip(outputs, weights) if o.requires_grad)
    if not differentiable_outputs:
        analytic = [None] * len(differentiable)
    else:
        analytic = autograd_grad(loss, differentiable, allow_unused=True)
    numeric = [g for g in numerical_gradients(func, inputs, weights, eps) if g is not None]
    for position, (exact, estimate) in enumerate(zip(analytic, numeric)):
        exact = np.zeros_like(estimate) if exact is None else np.asarray(exact.data)
        if not np.allclose(exact, estimate, atol=atol, rtol=rtol):
            where = np.unravel_index(np.argmax(np.abs(exact - estimate)), estimate.shape)
            message = (f"gradcheck: gradient for input {position} differs from the numerical "
                       f"estimate: at index {tuple(int(i) for i in where)} analytic "
                       f"{float(exact[where])!r} vs numerical {float(estimate[where])!r}")
            if raise_exception:
                raise AssertionError(message)
            return False
    return True


def gradgradcheck(func: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, seed: int = 0) -> bool:
    """Check second derivatives: gradcheck of the (create_graph) first gradient."""
    from ..tensor import Tensor

    inputs = _as_tuple(inputs)
    differentiable = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    outputs = _as_tuple(func(*inputs))
    rng = np.random.default_rng(seed + 1)
    weights = [Tensor(rng.standard_normal(o.shape)) for o in outputs]

    def first_gradient(*xs):
        with enable_grad():  # the numerical pass calls this under no_grad
            outs = _as_tuple(func(*xs))
            loss = sum((o * w).sum() for o, w in zip(outs, weights))
            chosen = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            grads = autograd_grad(loss, chosen, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else x * 0 for g, x in zip(grads, chosen))

    del differentiable
    return gradcheck(first_gradient, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)
