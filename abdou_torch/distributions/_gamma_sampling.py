"""Standard gamma draws with a pathwise gradient: the primitive behind Gamma.rsample and
Dirichlet.rsample.

Draws: Marsaglia and Tsang's method on the library's generator (normals and uniforms of
``abdou_torch.sampling``, so ``manual_seed`` makes them reproducible; PyTorch's own
sampler consumes its generator differently, so the numbers differ from PyTorch's).

Gradient (implicit reparameterisation): a draw is x = F^-1(u; alpha) for the regularised
lower incomplete gamma F = P(alpha, x), so dx/dalpha = -(dP/dalpha) / p(x; alpha) with
p(x; alpha) = x^(alpha-1) exp(-x) / Gamma(alpha). dP/dalpha comes from the series
P = sum_n t_n, t_n = x^(alpha+n) exp(-x) / Gamma(alpha+n+1), whose terms have
dt_n/dalpha = t_n (log x - psi(alpha+n+1)).
"""
from __future__ import annotations

import numpy as np

from .. import random as _random
from .. import sampling
from ..autograd.function import Primitive
from ._special import _lgamma_values, _polygamma_values

__all__ = ["StandardGamma", "standard_gamma_draws", "standard_gamma_grad"]

_FLOAT64 = np.dtype(np.float64)


def standard_gamma_draws(alpha: np.ndarray) -> np.ndarray:
    """One Gamma(alpha, 1) draw per element of ``alpha`` (float64).

    alpha >= 1: d = alpha - 1/3, c = 1/sqrt(9 d); repeat z ~ N(0,1), v = (1 + c z)^3 until
    v > 0 and log u < z^2/2 + d - d v + d log v; x = d v.  alpha < 1: the draw for
    alpha + 1 times u^(1/alpha)."""
    generator = _random.default_generator
    alpha = np.asarray(alpha, dtype=np.float64).ravel()
    boosted = alpha < 1
    a = np.where(boosted, alpha + 1, alpha)
    d = a - 1 / 3
    c = 1 / np.sqrt(9 * d)
    result = np.empty_like(a)
    pending = np.flatnonzero(np.isfinite(a) & (a > 0))
    result[~(np.isfinite(a) & (a > 0))] = np.nan
    while pending.size:
        z = sampling.normal(generator, pending.size, _FLOAT64)
        u = sampling.uniform(generator, pending.size, _FLOAT64)
        v = (1 + c[pending] * z) ** 3
        with np.errstate(invalid="ignore", divide="ignore"):
            accept = (v > 0) & (np.log(u) < 0.5 * z * z + d[pending]
                                - d[pending] * v + d[pending] * np.log(v))
        result[pending[accept]] = d[pending[accept]] * v[accept]
        pending = pending[~accept]
    if boosted.any():
        u = sampling.uniform(generator, int(boosted.sum()), _FLOAT64)
        with np.errstate(divide="ignore"):
            result[boosted] *= u ** (1 / alpha[boosted])
    return result


def standard_gamma_grad(alpha: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dx/dalpha of a Gamma(alpha, 1) draw x (see the module docstring), float64."""
    alpha = np.asarray(alpha, dtype=np.float64)
    x = np.maximum(np.asarray(x, dtype=np.float64), np.finfo(np.float64).tiny)
    log_x = np.log(x)
    term = np.exp(alpha * log_x - x - _lgamma_values(alpha + 1))
    psi = _polygamma_values(0, alpha + 1)
    derivative = term * (log_x - psi)
    terms = int(np.ceil(np.max(x + 10 * np.sqrt(x + 1) + 40))) if x.size else 0
    for n in range(1, terms):
        step = alpha + n  # t_n = t_{n-1} x / (alpha + n), psi(alpha+n+1) = psi(.) + 1/(alpha+n)
        term = term * x / step
        psi = psi + 1 / step
        derivative = derivative + term * (log_x - psi)
    log_density = (alpha - 1) * log_x - x - _lgamma_values(alpha)
    return -derivative / np.exp(log_density)


class StandardGamma(Primitive):
    """x ~ Gamma(alpha, 1), clamped to the dtype's smallest normal number (as PyTorch);
    dalpha = dy * dx/dalpha (implicit reparameterisation; treated as a constant under
    create_graph, so there are no second derivatives)."""

    saves_inputs = False

    def forward(self, alpha):
        draws = standard_gamma_draws(alpha).reshape(alpha.shape)
        tiny = np.finfo(alpha.dtype).tiny
        self.alpha, self.sample = alpha, np.maximum(draws, tiny).astype(alpha.dtype)
        return self.sample.copy()

    def backward(self, xp, dy):
        grad = standard_gamma_grad(self.alpha, self.sample).astype(self.alpha.dtype)
        return dy * grad
