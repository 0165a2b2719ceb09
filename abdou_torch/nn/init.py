"""Initialisers (``nn.init``): fill a tensor in place, under no_grad, from the default
generator unless one is passed.

They compute their bounds and scales with PyTorch's formulas, in PyTorch's order of
floating-point operations, and draw with PyTorch's samplers
(:mod:`abdou_torch.random_sampling`), so after the same ``manual_seed`` they give the same
weights bit for bit (``orthogonal_`` draws the same normals; its QR factorisation is
NumPy's, equal to PyTorch's up to rounding).

Fan-in and fan-out follow PyTorch: for a weight of shape (out, in, *kernel),
fan_in = in * prod(kernel) and fan_out = out * prod(kernel).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from .. import random_sampling
from ..autograd.grad_mode import no_grad
from ..random import Generator
from ..tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "eye_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "trunc_normal_", "orthogonal_"]


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    tensor.data[...] = values.astype(tensor.dtype, copy=False)
    tensor._version += 1
    return tensor


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale for an activation: relu sqrt(2), tanh 5/3, leaky_relu
    sqrt(2 / (1 + slope^2)), selu 3/4, linear/sigmoid/conv 1."""
    linear = {"linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
              "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"}
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim < 2:
        raise ValueError(f"fan in and fan out need a tensor of 2 or more dims, got shape "
                         f"{tuple(tensor.shape)}")
    receptive = int(np.prod(tensor.shape[2:])) if tensor.ndim > 2 else 1
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0,
             generator: Generator | None = None) -> Tensor:
    """Fill with U(a, b)."""
    with no_grad():
        return random_sampling.uniform_(tensor, a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0,
            generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2)."""
    with no_grad():
        return random_sampling.normal_(tensor, mean, std, generator=generator)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2) restricted to [a, b], by PyTorch's two methods: when the
    window holds more than 30% of the mass, draw normals and redraw (a whole new tensor
    each round) where they fall outside; otherwise draw uniform candidates on [a, b] and
    accept each where log(u) <= log_pdf - log_peak, u uniform."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    mass = _normal_cdf((b - mean) / std) - _normal_cdf((a - mean) / std)
    with no_grad():
        if mass > 0.3:
            return _trunc_normal_by_redrawing(tensor, mean, std, a, b, generator)
        return _trunc_normal_by_rejection(tensor, mean, std, a, b, generator)


def _normal_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def _trunc_normal_by_redrawing(tensor: Tensor, mean: float, std: float, a: float, b: float,
                               generator: Generator | None) -> Tensor:
    low, high = tensor.dtype.type(a), tensor.dtype.type(b)  # the bounds in the tensor's dtype
    values = random_sampling.normal_(tensor, mean, std, generator=generator).data
    outside = (values < low) | (values > high)
    if not outside.any():
        return tensor
    while outside.any():
        redrawn = random_sampling.normal_(Tensor(np.empty(values.shape, values.dtype)), mean,
                                          std, generator=generator).data
        values = np.where(outside, redrawn, values)
        outside = (values < low) | (values > high)
    return _fill(tensor, values)


def _trunc_normal_by_rejection(tensor: Tensor, mean: float, std: float, a: float, b: float,
                               generator: Generator | None) -> Tensor:
    mode = max(a, min(mean, b))
    log_peak = -0.5 * ((mode - mean) / std) ** 2
    dtype = tensor.dtype

    def log_ratio(drawn: np.ndarray) -> np.ndarray:
        log_pdf = ((drawn - dtype.type(mean)) / dtype.type(std)) ** 2 * dtype.type(-0.5)
        return log_pdf - dtype.type(log_peak)

    values = random_sampling.uniform_(tensor, a, b, generator=generator).data.copy()
    pending = _log_uniform(tensor, generator) > log_ratio(values)
    if not pending.any():
        return tensor
    while pending.any():
        drawn = random_sampling.uniform_(Tensor(np.empty_like(values)), a, b,
                                         generator=generator).data
        values = np.where(pending, drawn, values)
        pending = np.where(pending, _log_uniform(tensor, generator) > log_ratio(drawn), pending)
    return _fill(tensor, values)


def _log_uniform(tensor: Tensor, generator: Generator | None) -> np.ndarray:
    return np.log(random_sampling.uniform_(Tensor(np.empty_like(tensor.data)),
                                           generator=generator).data)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, np.full(tensor.shape, val))


def zeros_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    return constant_(tensor, 1.0)


def eye_(tensor: Tensor) -> Tensor:
    if tensor.ndim != 2:
        raise ValueError(f"eye_ needs a 2-D tensor, got shape {tuple(tensor.shape)}")
    return _fill(tensor, np.eye(*tensor.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0,
                    generator: Generator | None = None) -> Tensor:
    """U(-a, a) with a = sqrt(3) * gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0,
                   generator: Generator | None = None) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """U(-bound, bound) with bound = sqrt(3) * gain / sqrt(fan)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(_fan(tensor, mode)), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix: Q of the QR factorisation of a (rows, cols) matrix of
    standard normals (transposed first when rows < cols), its columns' signs set by
    diag(R), times ``gain``."""
    if tensor.ndim < 2:
        raise ValueError("orthogonal_ needs a tensor of 2 or more dims")
    if tensor.data.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.data.size // rows
    with no_grad():
        flat = random_sampling.normal_(Tensor(np.empty((rows, cols), dtype=tensor.dtype)),
                                       generator=generator).data
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))
