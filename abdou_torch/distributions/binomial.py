"""``Binomial(total_count, probs | logits)``: the number of successes in ``total_count``
independent trials of probability ``probs``."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes
from ..autograd import no_grad
from ..factories import arange
from ..random_sampling import bernoulli
from ..size import Size
from ..tensor import Tensor
from . import constraints
from ._math import clamp_by_zero
from ._special import lgamma
from .distribution import EMPTY_SIZE, Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Binomial"]


class Binomial(Distribution):
    """log P(k) = log C(n, k) + k logits - n log(1 + exp(logits)), written without overflow
    as n max(logits, 0) + n log1p(exp(-|logits|)) for the last term.

    ``sample`` counts successes among n Bernoulli draws of the library's generator (not
    PyTorch's BTRS algorithm, so seeded values differ; the distribution is the same).
    """

    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count: Any = 1, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.to(self.probs.dtype)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.to(self.logits.dtype)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Binomial:
        held = self._held("probs", "logits")
        new = self._expanded(Binomial, batch_shape, _instance, ["total_count", *held])
        new._param = getattr(new, held[-1])
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> constraints.Constraint:
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(
            max=float(self.total_count.max().item()))

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

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
        """The successes among max(total_count) Bernoulli trials, of which only the first
        total_count count."""
        shape = tuple(self._extended_shape(sample_shape))
        with no_grad():
            counts = self.total_count.expand(shape).data
            trials = int(counts.max()) if counts.size else 0
            probs = self.probs.detach().expand(shape)
            total = np.zeros(shape, dtype=counts.dtype)
            for trial in range(trials):
                draws = bernoulli(probs).data
                total += np.where(trial < counts, draws, 0)
            return Tensor._wrap(total, False)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = lgamma(self.total_count + 1)
        log_factorial_k = lgamma(value + 1)
        log_factorial_nmk = lgamma(self.total_count - value + 1)
        normalize_term = (self.total_count * clamp_by_zero(self.logits)
                          + self.total_count * (-self.logits.abs()).exp().log1p()
                          - log_factorial_n)
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self) -> Tensor:
        """H = -sum_k P(k) log P(k) over k = 0 .. n (one n for the whole batch)."""
        total_count = int(self.total_count.max().item())
        if not self.total_count.min().item() == total_count:
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(log_prob.exp() * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        total_count = int(self.total_count.max().item())
        if not self.total_count.min().item() == total_count:
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`.")
        values = arange(1 + total_count, dtype=dtypes.as_dtype(self._param.dtype))
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
