"""``Laplace(loc, scale)``: the double exponential, density exp(-|x - loc| / scale) /
(2 scale)."""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import dtypes
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .distribution import EMPTY_SIZE, Distribution
from .utils import broadcast_all

__all__ = ["Laplace"]


class Laplace(Distribution):
    """log p = -log(2 scale) - |x - loc| / scale;  rsample: x = loc - scale sign(u)
    log(1 - |u|), u ~ U(eps - 1, 1) (``uniform_``, so a seed gives PyTorch's numbers)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, numbers.Number) and isinstance(scale, numbers.Number):
            batch_shape = Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Laplace:
        return self._expanded(Laplace, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale.pow(2)

    @property
    def stddev(self) -> Tensor:
        return (2 ** 0.5) * self.scale

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = self._extended_shape(sample_shape)
        eps = float(np.finfo(dtypes.as_dtype(self.loc.dtype)).eps)
        u = self.loc.new_empty(tuple(shape)).uniform_(eps - 1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value: Any) -> Tensor:
        """1/2 - sign(x - loc) expm1(-|x - loc| / scale) / 2."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 - 0.5 * (value - self.loc).sign() \
            * (-(value - self.loc).abs() / self.scale).expm1()

    def icdf(self, value: Any) -> Tensor:
        """x = loc - scale sign(p - 1/2) log(1 - 2 |p - 1/2|)."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        """H = 1 + log(2 scale)."""
        return 1 + (2 * self.scale).log()
