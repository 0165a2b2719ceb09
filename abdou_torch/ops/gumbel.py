"""gumbel_softmax: samples from the Gumbel-softmax (concrete) distribution, PyTorch's way:

    g = −log(e),  e ~ Exp(1)  (one draw per element, from the library's generator)
    y = softmax((logits + g) / τ)
    hard: y_hard = one_hot(argmax y), returned as y_hard − detach(y) + y (the forward value
    is one-hot, the gradient is the soft sample's: the straight-through estimator)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import random_sampling
from ..tensor import Tensor
from .elementwise import _as_tensor

__all__ = ["gumbel_softmax"]


def gumbel_softmax(logits: Any, tau: float = 1, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """A (soft or straight-through hard) Gumbel-softmax sample along ``dim``."""
    from ..nn.functional import softmax
    x = _as_tensor(logits)
    draws = Tensor._wrap(np.empty(x.data.shape, x.data.dtype), False)
    gumbels = -np.log(random_sampling.exponential_(draws).data)
    y_soft = softmax((x + Tensor._wrap(gumbels, False)) / tau, dim)
    if not hard:
        return y_soft
    axis = dim % max(x.ndim, 1)
    index = np.expand_dims(np.argmax(y_soft.data, axis=axis), axis)
    y_hard = np.zeros(x.data.shape, x.data.dtype)
    np.put_along_axis(y_hard, index, 1.0, axis=axis)
    return Tensor._wrap(y_hard, False) - y_soft.detach() + y_soft
