"""float32 logarithm, sine and cosine exactly as PyTorch's CPU normal sampler computes them.

PyTorch's ``randn`` on float32 tensors of 16 or more elements turns uniforms into normals
with ``log256_ps`` and ``sincos256_ps`` from ``avx_mathfun.h`` (Cephes polynomials in AVX2
registers, after Julien Pommier's sse_mathfun), compiled with FMA: a multiplication whose
only use is an addition becomes one fused multiply-add, rounded once. To reproduce its bits
we replay the same float32 operations in the same order with NumPy, fusing the same pairs.

The fused multiply-adds come from :mod:`abdou_torch.fma`.
"""
from __future__ import annotations

import numpy as np

from .fma import fma32

__all__ = ["log_ps", "sincos_ps"]

_f32 = np.float32
# The float32 constants of avx_mathfun.h (C rounds the decimal literals to float).
_SQRTHF = _f32(0.707106781186547524)
_LOG_P = [_f32(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1,
                            -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1,
                            2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1)]
_LOG_Q1, _LOG_Q2 = _f32(-2.12194440e-4), _f32(0.693359375)
_MINUS_DP = [_f32(v) for v in (-0.78515625, -2.4187564849853515625e-4,
                               -3.77489497744594108e-8)]
_SIN_P = [_f32(v) for v in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1)]
_COS_P = [_f32(v) for v in (2.443315711809948e-005, -1.388731625493765e-003,
                            4.166664568298827e-002)]
_FOUR_OVER_PI = _f32(1.27323954473516)
_HALF, _ONE = _f32(0.5), _f32(1.0)


def log_ps(x: np.ndarray) -> np.ndarray:
    """log256_ps: the natural logarithm of normal positive float32 values.

    x = m * 2^e with m in [sqrt(1/2), sqrt(2)); log x = log1p(m - 1) + e log 2, with
    log1p(t) = t - t^2/2 + t^3 P(t) (P of degree 8) and log 2 split in q2 + q1.
    """
    bits = x.view(np.int32)  # (avx_mathfun first raises denormals to FLT_MIN: no 1 - u is one)
    exponent = ((bits >> 23) - 0x7F).astype(np.float32) + _ONE
    mantissa = ((bits & ~0x7F800000) | _HALF.view(np.int32)).view(np.float32)  # in [0.5, 1)
    small = mantissa < _SQRTHF
    t = (mantissa - _ONE) + np.where(small, mantissa, _f32(0))
    exponent = exponent - np.where(small, _ONE, _f32(0))
    t2 = t * t
    poly = fma32(t, _LOG_P[0], _LOG_P[1])
    for coefficient in _LOG_P[2:]:
        poly = fma32(poly, t, coefficient)
    poly = poly * t
    poly = fma32(poly, t2, exponent * _LOG_Q1)
    poly = poly - t2 * _HALF
    # fma(e, q2, t + poly): e * q2 is exact in float32 (|e| <= 126 has 7 bits, q2 9 bits)
    return (t + poly) + exponent * _LOG_Q2


def sincos_ps(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sincos256_ps: (sin x, cos x) of float32 values in [0, 2 pi], the sampler's angles.

    j = the even integer nearest to x * 4/pi; r = x - j pi/4 (pi/4 split in three parts);
    the sine and cosine polynomials of r, swapped and signed by j's octant.
    """
    sin_negative = np.signbit(x)
    x = np.abs(x)
    octant = (x * _FOUR_OVER_PI).astype(np.int32)
    octant = (octant + 1) & ~1
    y = octant.astype(np.float32)
    sin_negative = sin_negative ^ ((octant & 4) != 0)
    cos_negative = (~(octant - 2) & 4) != 0
    use_sin_poly_for_sin = (octant & 2) == 0
    # fma(j, DP, x): for j <= 8, j * DP1 and j * DP2 are exact in float32 (DP1 has 8
    # significant bits, DP2 11), so only the third part needs the fused rounding.
    x = x + y * _MINUS_DP[0]
    x = x + y * _MINUS_DP[1]
    x = fma32(y, _MINUS_DP[2], x)
    z = x * x
    cos_poly = fma32(fma32(z, _COS_P[0], _COS_P[1]), z, _COS_P[2])
    cos_poly = cos_poly * z
    cos_poly = fma32(cos_poly, z, -(z * _HALF)) + _ONE
    sin_poly = fma32(fma32(z, _SIN_P[0], _SIN_P[1]), z, _SIN_P[2])
    sin_poly = fma32(sin_poly * z, x, x)
    sine = np.where(use_sin_poly_for_sin, sin_poly, cos_poly)
    cosine = np.where(use_sin_poly_for_sin, cos_poly, sin_poly)
    return np.where(sin_negative, -sine, sine), np.where(cos_negative, -cosine, cosine)
