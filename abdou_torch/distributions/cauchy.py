"""``Cauchy(loc, scale)``: density 1 / (pi scale (1 + ((x - loc)/scale)^2))."""
from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import dtypes
from ..factories import full
from ..random_sampling import rand
from ..size import Size
from ..tensor import Tensor
from . import constraints
from ._special import atan
from .distribution import EMPTY_SIZE, Distribution
from .utils import broadcast_all

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    """log p = -log pi - log scale - log1p(((x - loc)/scale)^2);  rsample: x = loc + scale
    tan(pi (u - 1/2)), u ~ U(0, 1) (PyTorch's cauchy_, so a seed gives PyTorch's numbers)."""

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

    def expand(self, batch_shape: Any, _instance: Any = None) -> Cauchy:
        return self._expanded(Cauchy, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self) -> Tensor:
        """Undefined: nan."""
        return full(tuple(self._extended_shape()), float("nan"), dtype=self.loc.dtype)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """Infinite."""
        return full(tuple(self._extended_shape()), float("inf"), dtype=self.loc.dtype)

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        # PyTorch's cauchy_ works in double whatever the dtype: 53-bit uniforms, tan, cast
        u = rand(shape, dtype=dtypes.float64).data
        eps = Tensor._wrap(np.tan(math.pi * (u - 0.5)).astype(self.loc.data.dtype), False)
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() \
            - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value: Any) -> Tensor:
        """atan((x - loc) / scale) / pi + 1/2."""
        if self._validate_args:
            self._validate_sample(value)
        return atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value: Any) -> Tensor:
        angle = math.pi * (value - 0.5)
        return angle.sin() / angle.cos() * self.scale + self.loc

    def entropy(self) -> Tensor:
        """H = log(4 pi) + log scale."""
        return math.log(4 * math.pi) + self.scale.log()
