"""``nn.utils``: gradient clipping and flattening parameters into one vector; padded and
packed sequences in ``nn.utils.rnn``."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
           "vector_to_parameters"]


def _tensors(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _vector_norm(array: np.ndarray, norm_type: float) -> np.ndarray:
    if norm_type == math.inf:
        return np.max(np.abs(array)) if array.size else np.zeros((), array.dtype)
    if norm_type == -math.inf:
        return np.min(np.abs(array)) if array.size else np.full((), np.inf, array.dtype)
    if norm_type == 0:
        return np.asarray(np.count_nonzero(array), dtype=array.dtype)
    if norm_type == 2:
        return np.sqrt(np.sum(array * array))
    return np.sum(np.abs(array) ** norm_type) ** (1.0 / norm_type)


def get_total_norm(tensors: Tensor | Iterable[Tensor], norm_type: float = 2.0,
                   error_if_nonfinite: bool = False) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` together (the norm of their norms)."""
    norm_type = float(norm_type)
    arrays = [t.data for t in _tensors(tensors)]
    if not arrays:
        return Tensor(0.0)
    norms = np.stack([np.asarray(_vector_norm(a, norm_type)) for a in arrays])
    total = np.asarray(_vector_norm(norms, norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           f"`parameters` is non-finite, so it cannot be clipped. To disable "
                           f"this error and scale the gradients by the non-finite norm "
                           f"anyway, set `error_if_nonfinite=False`")
    return Tensor._wrap(total, False)


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale the gradients in place so that their total ``norm_type``-norm is at most
    ``max_norm``; returns the total norm before clipping (a 0-d Tensor).

    As in PyTorch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1, multiplies
    every gradient (so nothing changes when the norm is already small). Parameters without a
    gradient are skipped.
    """
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    if not grads:
        return total_norm
    # min(max_norm / (total + 1e-6), 1) in float64, as arrays (no Python branch on the
    # value, so that abdou_torch.compile can replay it)
    clip_coef = np.minimum(float(max_norm) / (total_norm.data.astype(np.float64) + 1e-6), 1.0)
    with no_grad(), np.errstate(invalid="ignore"):  # an inf gradient times 0 is nan, as in torch
        for grad in grads:
            grad.data *= clip_coef.astype(grad.dtype)
            grad._version += 1
    return total_norm


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _tensors(parameters):
            if p.grad is not None:
                np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)
                p.grad._version += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (differentiable)."""
    from ...ops.shape import cat
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters' values."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got {type(vec).__name__}")
    parameters = list(parameters)
    total = sum(p.numel() for p in parameters)
    if vec.ndim != 1 or vec.numel() != total:
        raise ValueError(f"vector_to_parameters: vec of shape {tuple(vec.shape)} does not hold "
                         f"the parameters' {total} values")
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.data[...] = vec.data[offset:offset + n].reshape(p.shape).astype(p.dtype)
            p._version += 1
            offset += n


from . import rnn  # noqa: E402,F401 - nn.utils.rnn, as in PyTorch
from .weight_norm import remove_weight_norm, weight_norm  # noqa: E402,F401
