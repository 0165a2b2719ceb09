"""``Geometric(probs | logits)``: the number of failures before the first success in
Bernoulli(probs) trials, P(k) = (1 - p)^k p."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd import no_grad
from ..nn.functional import binary_cross_entropy_with_logits
from ..ops.common import logical_and
from ..ops.elementwise import where
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import EMPTY_SIZE, Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Geometric"]


class Geometric(Distribution):
    """log P(k) = k log(1 - p) + log p;  sample: floor(log u / log(1 - p)), u ~ U(tiny, 1)
    (``uniform_``, so a seed gives PyTorch's numbers)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        given = probs if probs is not None else logits
        batch_shape = Size() if isinstance(given, numbers.Number) else given.size()
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            valid = value.data > 0
            if not valid.all():
                invalid = Tensor._wrap(value.data[~valid], False)
                raise ValueError(f"Expected parameter probs ({type(value).__name__} of shape "
                                 f"{tuple(value.shape)}) of distribution {self!r} to be "
                                 f"positive but found invalid values:\n{invalid}")

    def expand(self, batch_shape: Any, _instance: Any = None) -> Geometric:
        return self._expanded(Geometric, batch_shape, _instance,
                              self._held("probs", "logits"))

    @property
    def mean(self) -> Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> Tensor:
        return self.probs * 0

    @property
    def variance(self) -> Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    def sample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        tiny = float(np.finfo(dtypes.as_dtype(self.probs.dtype)).tiny)
        with no_grad():
            u = self.probs.new_empty(shape).uniform_(tiny, 1)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = where(logical_and(probs == 1, value == 0), 0.0, probs)  # 0 log 0 = 0
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> Tensor:
        """H = BCE(logits, p) / p."""
        return binary_cross_entropy_with_logits(self.logits, self.probs,
                                                reduction="none") / self.probs
