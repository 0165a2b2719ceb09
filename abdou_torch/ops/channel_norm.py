"""Normalisations over groups of channels, single instances and neighbouring channels:
``group_norm``, ``instance_norm`` and ``local_response_norm``, composed from differentiable
reshapes, sums and arithmetic (no backward of their own; gradients of any order follow).

With x̂ = (x − mean) / √(var + eps) (biased variance over the normalised elements):

- group_norm:    statistics per sample and group of C / G channels, y = x̂ · w_c + b_c;
- instance_norm: statistics per sample and channel over the spatial dims (or the running
  statistics when ``use_input_stats`` is False), y = x̂ · w_c + b_c;
- local_response_norm: y_c = x_c / (k + α/n · Σ_{c' near c} x_{c'}²)^β over a window of
  n channels (zero-padded at the edges).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import _as_tensor
from .shape import pad

__all__ = ["group_norm", "instance_norm", "local_response_norm"]


def _standardize(x: Tensor, dims: tuple[int, ...], eps: float) -> Tensor:
    """x̂ = (x − mean) / √(var + eps) over ``dims`` (biased variance)."""
    count = math.prod(x.shape[d] for d in dims)
    centered = x - x.sum(dims, keepdim=True) * (1.0 / count)
    variance = (centered * centered).sum(dims, keepdim=True) * (1.0 / count)
    return centered * (variance + eps) ** -0.5


def _affine(y: Tensor, weight: Any, bias: Any, op: str) -> Tensor:
    """y · w + b with w, b of shape (C,) broadcast over dim 1."""
    view = (1, y.shape[1]) + (1,) * (y.ndim - 2)
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and tuple(value.shape) != (y.shape[1],):
            raise RuntimeError(f"{op}: expected {name} to be a vector of size equal to the "
                               f"number of channels in input ({y.shape[1]}), but got "
                               f"{name} of shape {list(value.shape)}")
    if weight is not None:
        y = y * _as_tensor(weight).reshape(view)
    if bias is not None:
        y = y + _as_tensor(bias).reshape(view)
    return y


def group_norm(input: Any, num_groups: int, weight: Any = None, bias: Any = None,  # noqa: A002
               eps: float = 1e-5) -> Tensor:
    """Normalise each group of C / ``num_groups`` channels of each sample of a (N, C, *)
    input, then scale and shift per channel."""
    x = _as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    n, c = x.shape[0], x.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(x.shape)} and "
                           f"num_groups={num_groups}")
    grouped = x.reshape(n, num_groups, -1)
    y = _standardize(grouped, (2,), float(eps)).reshape(*x.shape)
    return _affine(y, weight, bias, "group_norm")


def instance_norm(input: Any, running_mean: Any = None, running_var: Any = None,  # noqa: A002
                  weight: Any = None, bias: Any = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel of each sample of a (N, C, *) input over its spatial dims;
    with running statistics given, move them by ``momentum`` towards the batch's average
    of the instances' means and unbiased variances. ``use_input_stats=False`` normalises
    with the running statistics instead."""
    x = _as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of 3 or more dims (N, C, *), got "
                         f"shape {tuple(x.shape)}")
    dims = tuple(range(2, x.ndim))
    spatial = math.prod(x.shape[d] for d in dims)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        view = (1, x.shape[1]) + (1,) * len(dims)
        mean = _as_tensor(running_mean).detach().reshape(view)
        var = _as_tensor(running_var).detach().reshape(view)
        return _affine((x - mean) * (var + eps) ** -0.5, weight, bias, "instance_norm")
    if spatial <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {list(x.shape)}")
    for running, unbiased in ((running_mean, False), (running_var, True)):
        if running is not None:
            _update_running(running, x.data, dims, unbiased, momentum)
    return _affine(_standardize(x, dims, float(eps)), weight, bias, "instance_norm")


def _update_running(running: Tensor, data: np.ndarray, dims: tuple[int, ...], unbiased: bool,
                    momentum: float) -> None:
    """running ← (1 − m) running + m · mean over the batch of each instance's statistic."""
    if tuple(running.shape) != (data.shape[1],):
        raise RuntimeError(f"instance_norm: running statistics of shape "
                           f"{list(running.shape)} do not match the {data.shape[1]} channels "
                           f"of the input")
    if unbiased:
        statistic = data.var(axis=dims, ddof=1).mean(axis=0)
    else:
        statistic = data.mean(axis=dims).mean(axis=0)
    running.data[...] = (1.0 - momentum) * running.data + momentum * statistic
    running._version += 1


def local_response_norm(input: Any, size: int, alpha: float = 1e-4,  # noqa: A002
                        beta: float = 0.75, k: float = 1.0) -> Tensor:
    """y_c = x_c / (k + α · mean of x² over the ``size`` channels around c)^β, the window
    running from c − size//2 to c + (size − 1)//2, zero outside the channels."""
    x = _as_tensor(input)
    if x.ndim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality input (got {x.ndim} "
                         f"dimensions)")
    if x.numel() == 0:
        return x
    c = x.shape[1]
    squares = x * x
    widths = [0, 0] * (x.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = pad(squares, widths)
    window = padded.narrow(1, 0, c)
    for offset in range(1, size):
        window = window + padded.narrow(1, offset, c)
    div = (window * (alpha / size) + k) ** beta
    return x / div
