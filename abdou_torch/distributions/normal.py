"""``Normal(loc, scale)``: the Gaussian N(loc, scale^2)."""
from __future__ import annotations

import math
import numbers
from typing import Any

from ..autograd import no_grad
from ..ops import elementwise
from ..random_sampling import normal as _normal
from ..size import Size
from ..tensor import Tensor
from . import constraints
from ._special import erfinv
from .distribution import EMPTY_SIZE
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Normal"]


def standard_normal(shape: Any, like: Tensor) -> Tensor:
    """N(0, 1) draws of ``shape`` in ``like``'s dtype (PyTorch's ``empty(shape).normal_()``,
    so a seed gives PyTorch's numbers)."""
    return like.new_empty(tuple(shape)).normal_()


class Normal(ExponentialFamily):
    """p(x) = exp(-(x - loc)^2 / (2 scale^2)) / (scale sqrt(2 pi)).

    rsample: x = loc + eps * scale, eps ~ N(0, 1), so dx/dloc = 1 and dx/dscale = eps.
    """

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, numbers.Number) and isinstance(scale, numbers.Number):
            batch_shape = Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> Normal:
        return self._expanded(Normal, batch_shape, _instance, ("loc", "scale"))

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.stddev.pow(2)

    def sample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        """``torch.normal(loc, scale)`` expanded to the sample's shape (PyTorch's draw)."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return _normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        """x = loc + eps * scale."""
        shape = self._extended_shape(sample_shape)
        eps = standard_normal(shape, self.loc)
        return self.loc + eps * self.scale

    def log_prob(self, value: Any) -> Tensor:
        """log p = -(x - loc)^2 / (2 scale^2) - log scale - log sqrt(2 pi)."""
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale ** 2
        log_scale = math.log(self.scale) if isinstance(self.scale, numbers.Real) \
            else self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale \
            - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value: Any) -> Tensor:
        """P(X <= x) = (1 + erf((x - loc) / (scale sqrt 2))) / 2."""
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + elementwise.erf((value - self.loc) * self.scale.reciprocal()
                                          / math.sqrt(2)))

    def icdf(self, value: Any) -> Tensor:
        """x = loc + scale sqrt(2) erfinv(2 p - 1)."""
        return self.loc + self.scale * erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> Tensor:
        """H = 1/2 + log(2 pi) / 2 + log scale."""
        return 0.5 + 0.5 * math.log(2 * math.pi) + self.scale.log()

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        """(loc / scale^2, -1 / (2 scale^2))."""
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        """F(x, y) = -x^2 / (4 y) + log(-pi / y) / 2."""
        x, y = natural_params
        return -0.25 * x.pow(2) / y + 0.5 * (-math.pi / y).log()
