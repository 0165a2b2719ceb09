"""``StudentT(df, loc, scale)``: heavy-tailed, a normal divided by sqrt(chi2 / df)."""
from __future__ import annotations

import math
from typing import Any

from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from ._special import digamma, lgamma
from .chi2 import Chi2
from .distribution import EMPTY_SIZE, Distribution
from .normal import standard_normal
from .utils import broadcast_all

__all__ = ["StudentT"]


class StudentT(Distribution):
    """log p = -(df + 1)/2 log1p(y^2 / df) - log scale - log(df pi)/2 - lgamma(df/2) +
    lgamma((df + 1)/2), y = (x - loc) / scale;  rsample: loc + scale X / sqrt(Z / df),
    X ~ N(0, 1), Z ~ Chi2(df) (with the gamma draws' pathwise gradient)."""

    arg_constraints = {"df": constraints.positive, "loc": constraints.real,
                       "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df: Any, loc: Any = 0.0, scale: Any = 1.0,
                 validate_args: bool | None = None) -> None:
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.size(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> StudentT:
        return self._expanded(StudentT, batch_shape, _instance, ("df", "loc", "scale", "_chi2"))

    @property
    def mean(self) -> Tensor:
        """loc for df > 1, else nan."""
        return where(self.df <= 1, float("nan"), self.loc)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        """scale^2 df / (df - 2) for df > 2, inf for 1 < df <= 2, nan for df <= 1."""
        finite = self.scale.pow(2) * self.df / where(self.df > 2, self.df - 2, 1.0)
        result = where(self.df > 2, finite, float("inf"))
        return where(self.df <= 1, float("nan"), result)

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        shape = self._extended_shape(sample_shape)
        x = standard_normal(shape, self.df)
        z = self._chi2.rsample(sample_shape)
        y = x * (z / self.df).rsqrt()
        return self.loc + self.scale * y

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + lgamma(0.5 * self.df) - lgamma(0.5 * (self.df + 1.0)))
        return -0.5 * (self.df + 1.0) * (y ** 2.0 / self.df).log1p() - z

    def entropy(self) -> Tensor:
        lbeta = lgamma(0.5 * self.df) + math.lgamma(0.5) - lgamma(0.5 * (self.df + 1))
        return (self.scale.log()
                + 0.5 * (self.df + 1) * (digamma(0.5 * (self.df + 1)) - digamma(0.5 * self.df))
                + 0.5 * self.df.log() + lbeta)
