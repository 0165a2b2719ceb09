"""``Categorical(probs | logits)``: one of K categories, with probabilities along the last
dim of ``probs`` (normalised to sum to 1) or ``logits`` (unnormalised log probabilities)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..factories import arange, full
from ..ops.reduce import logsumexp
from ..random_sampling import multinomial
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import EMPTY_SIZE, Distribution
from .utils import lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical"]


def _check_parameters(probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    for name, value in (("probs", probs), ("logits", logits)):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"`{name}` must be a Tensor, got {type(value).__name__}")
        if value is not None and value.dim() < 1:
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")


class Categorical(Distribution):
    """P(X = k) = probs[..., k];  logits = log probs (normalised: logsumexp = 0).

    ``sample`` draws with ``torch.multinomial`` on the rows of ``probs`` (PyTorch's draw,
    so a seed gives PyTorch's categories); the samples are integer (int64) indices.
    """

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        _check_parameters(probs, logits)
        if probs is not None:
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            assert logits is not None
            self.logits = logits - logsumexp(logits, -1, True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Categorical:
        held = self._held("probs", "logits")
        param_shape = Size(batch_shape) + Size((self._num_events,))
        new = self._expanded(Categorical, batch_shape, _instance, held, param_shape)
        new._num_events = self._num_events
        new._param = getattr(new, held[-1])
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @property
    def mean(self) -> Tensor:
        """Undefined for categories: nan."""
        return full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(dim=-1)

    @property
    def variance(self) -> Tensor:
        """Undefined for categories: nan."""
        return full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        """``multinomial(probs_2d, n, replacement=True).T`` reshaped (PyTorch's draw)."""
        sample_shape = Size(sample_shape)
        probs_2d = self.probs.detach().reshape(-1, self._num_events)
        samples_2d = multinomial(probs_2d, sample_shape.numel(), True).T
        return samples_2d.reshape(tuple(self._extended_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        """log P(X = value) = logits[..., value] (value broadcast against batch_shape)."""
        if self._validate_args:
            self._validate_sample(value)
        index = value.long().unsqueeze(-1)
        shape = np.broadcast_shapes(tuple(index.shape), tuple(self.logits.shape))
        index = index.expand(shape)[..., :1]
        return self.logits.expand(shape).gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        """H = -sum_k p_k log p_k (log p_k clamped to the dtype's lowest, so 0 log 0 = 0)."""
        lowest = float(np.finfo(dtypes.as_dtype(self.logits.dtype)).min)
        logits = self.logits.clamp(min=lowest)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(self._num_events, dtype=dtypes.int64)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
