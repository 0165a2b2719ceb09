"""The dropout variants beyond plain ``dropout``: channel dropout of 1-d signals
(``dropout1d``) and the SELU-preserving ``alpha_dropout`` / ``feature_alpha_dropout``.

Masks are PyTorch's: one ``bernoulli_(1 − p)`` draw per element (per channel for the
feature forms, a noise tensor of shape (N, C, 1, ...)) from ``generator`` or the default
generator, so ``manual_seed`` gives the same masks as PyTorch. Alpha dropout sets dropped
values to the SELU's negative saturation −α' and rescales so mean and variance are kept:

    a = 1 / √((α'² p + 1)(1 − p)),   y = a · (x · keep) + α' a (p − (1 − keep))
        = x · (a · keep) + b,  b = (keep − 1) α' a + α' a p,   α' = 1.7580993408473766
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random_sampling
from ..random import Generator
from ..tensor import Tensor
from .elementwise import _as_tensor

__all__ = ["dropout1d", "alpha_dropout", "feature_alpha_dropout"]

_SELU_ALPHA = 1.7580993408473766  # the SELU's −(scale · alpha)


def _check_p(p: float) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _noise(x: Tensor, p: float, feature: bool, generator: Generator | None) -> np.ndarray:
    """1 where kept, 0 where dropped: per element, or per (sample, channel)."""
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2) if feature else tuple(x.shape)
    noise = Tensor._wrap(np.empty(shape, x.data.dtype), False)
    return random_sampling.bernoulli_(noise, 1 - p, generator=generator).data


def _dropout(x: Tensor, p: float, training: bool, feature: bool, alpha: bool,
             generator: Generator | None) -> Tensor:
    if p == 0 or not training or x.numel() == 0:
        return x
    if p == 1:
        return x * np.zeros((), dtype=x.data.dtype)
    keep = _noise(x, p, feature, generator)
    f = x.data.dtype.type
    if not alpha:
        return x * (keep / f(1 - p))
    a = 1.0 / math.sqrt((_SELU_ALPHA ** 2 * p + 1) * (1 - p))
    b = (keep + f(-1)) * f(_SELU_ALPHA * a) + f(_SELU_ALPHA * a * p)
    return x * (keep * f(a)) + b


def dropout1d(input: Any, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False, generator: Generator | None = None) -> Tensor:
    """Zero whole channels of a (N, C, L) or (C, L) input with probability ``p``, scaling
    the rest by 1 / (1 − p). ``inplace`` is accepted; the result is a new tensor."""
    _check_p(p)
    x = _as_tensor(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {x.ndim}D "
                           f"input. Note that dropout1d exists to provide channel-wise "
                           f"dropout on inputs with 1 spatial dimension, a channel dimension, "
                           f"and an optional batch dimension (i.e. 2D or 3D inputs).")
    unbatched = x.ndim == 2
    y = _dropout(x.unsqueeze(0) if unbatched else x, p, training, True, False, generator)
    return y.squeeze(0) if unbatched else y


def alpha_dropout(input: Any, p: float = 0.5, training: bool = False,  # noqa: A002
                  inplace: bool = False, generator: Generator | None = None) -> Tensor:
    """Alpha dropout per element (for SELU networks): keeps mean and variance."""
    _check_p(p)
    return _dropout(_as_tensor(input), p, training, False, True, generator)


def feature_alpha_dropout(input: Any, p: float = 0.5,  # noqa: A002
                          training: bool = False, inplace: bool = False,
                          generator: Generator | None = None) -> Tensor:
    """Alpha dropout of whole channels of a (N, C, *) input."""
    _check_p(p)
    return _dropout(_as_tensor(input), p, training, True, True, generator)
