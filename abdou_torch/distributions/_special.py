"""Special functions the distributions need, as differentiable primitives: lgamma,
digamma, polygamma(n, .) and erfinv.

They live here, beside their only users, until ``torch.lgamma`` and friends exist at the
top level. Values come from SciPy when it is installed (as ``ops/elementwise.py``'s erf),
else from the series below, computed in float64 and returned in the input's dtype.

Gradients chain into one another (d lgamma = digamma, d digamma = polygamma(1), d
polygamma(n) = polygamma(n + 1), d erfinv = sqrt(pi)/2 exp(erfinv^2)), each written once
against ``xp``, so second derivatives work too.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..ops import special as _ops
from ..tensor import Tensor

__all__ = ["lgamma", "digamma", "polygamma", "erfinv", "atan", "gammainc"]


def _scipy_special() -> Any:
    try:
        from scipy import special
    except ImportError:
        return None
    return special


# -- values without SciPy ---------------------------------------------------------------------
# Bernoulli numbers B_2, B_4, ... B_20 for the asymptotic series
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330)
_SHIFT = 12.0  # the series are used from x >= 12, where 10 terms reach float64 precision


def lgamma_series(x: np.ndarray) -> np.ndarray:
    """log|Gamma(x)| from the C library's lgamma (exact, one element at a time)."""
    return np.frompyfunc(math.lgamma, 1, 1)(x).astype(np.float64) if x.size else x * 1.0


def digamma_series(x: np.ndarray) -> np.ndarray:
    """psi(x) = d/dx log Gamma(x): psi(x) = psi(x + 1) - 1/x up to z >= 12, then
    psi(z) ~ log z - 1/(2z) - sum_j B_2j / (2j z^2j); for x < 0 the reflection
    psi(x) = psi(1 - x) - pi / tan(pi x). psi(0) = -inf, psi(negative integer) = nan."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _digamma_series(np.asarray(x, dtype=np.float64))


def _digamma_series(x: np.ndarray) -> np.ndarray:
    negative = x < 0
    z = np.where(negative, 1 - x, x)
    total = np.zeros_like(z)
    while True:
        small = z < _SHIFT
        if not small.any():
            break
        total -= np.where(small, 1 / np.where(small, z, 1), 0)
        z = np.where(small, z + 1, z)
    inverse_square = 1 / (z * z)
    series = np.zeros_like(z)
    power = inverse_square.copy()
    for j, b in enumerate(_BERNOULLI, start=1):
        series += b / (2 * j) * power
        power = power * inverse_square
    psi = total + np.log(z) - 0.5 / z - series
    reflected = psi - np.pi / np.tan(np.pi * x)
    result = np.where(negative, reflected, psi)
    result = np.where(negative & (x == np.floor(x)), np.nan, result)
    return np.where(x == 0, -np.inf, result)


def polygamma_series(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x) for n >= 1 and x > 0 (nan for x <= 0):
    zeta(s, x) = sum_{k<K} (x + k)^-s + zeta(s, z), z = x + K >= 12, and
    zeta(s, z) ~ z^(1-s)/(s-1) + z^-s / 2 + sum_j B_2j/(2j)! s(s+1)..(s+2j-2) z^(-s-2j+1)."""
    x = np.asarray(x, dtype=np.float64)
    s = n + 1
    z = np.where(x > 0, x, 1.0)
    total = np.zeros_like(z)
    while True:
        small = z < _SHIFT
        if not small.any():
            break
        total += np.where(small, z ** -s, 0)
        z = np.where(small, z + 1, z)
    tail = z ** (1 - s) / (s - 1) + 0.5 * z ** -s
    rising = float(s)  # s (s+1) ... (s + 2j - 2)
    for j, b in enumerate(_BERNOULLI, start=1):
        tail += b / math.factorial(2 * j) * rising * z ** (-s - 2 * j + 1)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    zeta = total + tail
    return np.where(x > 0, (-1) ** (n + 1) * math.factorial(n) * zeta, np.nan)


def erfinv_newton(y: np.ndarray) -> np.ndarray:
    """erfinv(y): Giles' single-precision approximation, polished by Newton steps on
    erf(x) - y (erf'(x) = 2/sqrt(pi) exp(-x^2)); +-inf at +-1, nan outside [-1, 1]."""
    y = np.asarray(y, dtype=np.float64)
    inside = np.abs(y) < 1
    safe = np.where(inside, y, 0.0)
    w = -np.log((1 - safe) * (1 + safe))
    central = w < 5
    wc, wt = w - 2.5, np.sqrt(np.maximum(w, 5.0)) - 3
    pc = np.polyval([2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                     0.00021858087, -0.00125372503, -0.00417768164, 0.246640727,
                     1.50140941], wc)
    pt = np.polyval([-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844,
                     0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
                     2.83297682], wt)
    x = np.where(central, pc, pt) * safe
    erf = np.frompyfunc(math.erf, 1, 1)
    for _ in range(3):
        residual = erf(x).astype(np.float64) - safe
        x = x - residual / (2 / math.sqrt(math.pi) * np.exp(-x * x))
    x = np.where(y == 1, np.inf, np.where(y == -1, -np.inf, x))
    return np.where(np.abs(y) > 1, np.nan, np.where(np.isnan(y), np.nan, x))


# -- the values, SciPy's where installed ----------------------------------------------------------
def _lgamma_values(x: np.ndarray) -> np.ndarray:
    special = _scipy_special()
    with np.errstate(all="ignore"):
        values = special.gammaln(x) if special is not None else lgamma_series(x)
    return np.asarray(values).astype(x.dtype, copy=False)


def _polygamma_values(n: int, x: np.ndarray) -> np.ndarray:
    special = _scipy_special()
    with np.errstate(all="ignore"):
        if n == 0:
            values = special.digamma(x.astype(np.float64)) if special is not None \
                else digamma_series(x)
            values = np.where(x == 0, -np.inf, values)  # PyTorch's psi(0), either sign
        else:
            values = special.polygamma(n, x.astype(np.float64)) if special is not None \
                else polygamma_series(n, x)
    return np.asarray(values).astype(x.dtype, copy=False)


# -- the functions: the library's own (ops/special.py), kept under these names for the
# distributions' modules --------------------------------------------------------------------
def _floating(x: Any) -> Tensor:
    from .. import dtypes
    tensor = x if isinstance(x, Tensor) else Tensor(x)
    if tensor.dtype.kind != "f":
        tensor = tensor.to(dtypes.get_default_dtype())
    return tensor


def lgamma(x: Any) -> Tensor:
    """log|Gamma(x)| elementwise (integers give the default float dtype)."""
    return _ops.lgamma(x)


def digamma(x: Any) -> Tensor:
    """psi(x) = d/dx log Gamma(x) elementwise."""
    return _ops.digamma(x)


def polygamma(n: int, x: Any) -> Tensor:
    """psi^(n)(x), the n-th derivative of digamma."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
    return _ops.polygamma(n, x)


def erfinv(x: Any) -> Tensor:
    """The inverse of erf on [-1, 1] (+-inf at +-1, nan outside)."""
    return _ops.erfinv(x)


def atan(x: Any) -> Tensor:
    """arctan(x) elementwise, in (-pi/2, pi/2)."""
    return _ops.atan(x)


def gammainc_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x), the regularised lower incomplete gamma, without SciPy: the series
    P = exp(-x) x^a / Gamma(a+1) sum_n x^n / ((a+1)...(a+n)) for x < a + 1, else
    1 - Q with Q's continued fraction (modified Lentz), both to float64 precision."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(x, dtype=np.float64))
    with np.errstate(all="ignore"):
        log_prefactor = a * np.log(x) - x
        # series
        term = 1.0 / a
        total = term.copy()
        for n in range(1, 1000):
            term = term * x / (a + n)
            total = total + term
            if np.all(np.abs(term) <= np.abs(total) * 1e-17):
                break
        lower = total * np.exp(log_prefactor - _lgamma_values(a))
        # continued fraction for Q
        tiny = 1e-300
        b = x + 1 - a
        c = np.full_like(b, 1 / tiny)
        d = 1 / np.where(b == 0, tiny, b)
        h = d.copy()
        for i in range(1, 1000):
            an = -i * (i - a)
            b = b + 2
            d = an * d + b
            d = 1 / np.where(np.abs(d) < tiny, tiny, d)
            c = b + an / np.where(np.abs(c) < tiny, tiny, c)
            step = d * c
            h = h * step
            if np.all(np.abs(step - 1) <= 1e-16):
                break
        upper = np.exp(log_prefactor - _lgamma_values(a)) * h
        result = np.where(x < a + 1, lower, 1 - upper)
        result = np.where(x == 0, 0.0, result)
        result = np.where(np.isinf(x) & (x > 0), 1.0, result)
        return np.where((a <= 0) | (x < 0) | np.isnan(a) | np.isnan(x), np.nan, result)


def _gammainc_values(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    special = _scipy_special()
    dtype = np.result_type(a, x)
    values = special.gammainc(a, x) if special is not None else gammainc_series(a, x)
    return np.asarray(values).astype(dtype, copy=False)


class Gammainc(Primitive):
    """y = P(a, x) = gamma(a, x) / Gamma(a), the regularised lower incomplete gamma;
    dx = dy x^(a-1) exp(-x) / Gamma(a); da is not implemented (as in PyTorch)."""

    def forward(self, a, x):
        return _gammainc_values(a, x)

    def backward(self, xp, dy):
        if self.needs_input_grad[0]:
            raise NotImplementedError("the derivative of gammainc (torch.special.gammainc) "
                                      "with respect to its first argument is not "
                                      "implemented, as in PyTorch")
        a_array, x_array = self.inputs[0].data, self.inputs[1].data
        with np.errstate(all="ignore"):
            log_density = (a_array - 1) * np.log(x_array) - x_array - _lgamma_values(a_array)
            density = np.where(x_array > 0, np.exp(log_density), 0.0)
        return None, dy * density.astype(x_array.dtype)


def gammainc(a: Any, x: Any) -> Tensor:
    """P(a, x), the regularised lower incomplete gamma function (torch.special.gammainc)."""
    return Gammainc.apply(_floating(a), _floating(x))
