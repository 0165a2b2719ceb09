"""``Bernoulli(probs | logits)``: 1 with probability ``probs``, else 0."""
from __future__ import annotations

import numbers
from typing import Any

from .. import dtypes
from ..autograd import no_grad
from ..factories import arange
from ..nn.functional import binary_cross_entropy_with_logits
from ..random_sampling import bernoulli
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import EMPTY_SIZE
from .exp_family import ExponentialFamily
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli"]


class Bernoulli(ExponentialFamily):
    """P(X = 1) = p = sigmoid(logits);  log P(x) = x log p + (1 - x) log(1 - p), computed
    as -BCEWithLogits(logits, x), stable for large logits."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, numbers.Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, numbers.Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = Size() if is_scalar else self._param.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Bernoulli:
        held = self._held("probs", "logits")
        new = self._expanded(Bernoulli, batch_shape, _instance, held)
        new._param = getattr(new, held[-1])
        return new

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        """1 where p > 1/2, 0 where p < 1/2, nan at p = 1/2."""
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return mode.masked_fill(self.probs == 0.5, float("nan"))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    def sample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        """``torch.bernoulli(probs)`` expanded to the sample's shape (PyTorch's draw)."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return bernoulli(self.probs.expand(shape))

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self) -> Tensor:
        """H = -p log p - (1 - p) log(1 - p) = BCEWithLogits(logits, p)."""
        return binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        """(logit(p),)."""
        return (self.probs.log() - (-self.probs).log1p(),)

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        """F(x) = log(1 + exp(x))."""
        return natural_params[0].exp().log1p()

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = arange(2, dtype=dtypes.as_dtype(self._param.dtype))
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
