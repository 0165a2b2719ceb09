"""Fused multiply-add, ``fma(a, b, c) = round(a*b + c)`` with one rounding, on NumPy arrays.

PyTorch's CPU kernels are compiled with FMA contraction, so where they compute
``x * scale + shift`` the hardware rounds once. NumPy rounds twice, and the two differ in
the last bit for about half of all inputs, so the samplers that must give PyTorch's bits
use these instead.

- float32: ``a*b`` is exact in float64 (24 + 24 bits), so one float64 sum is rounded
  twice only when it lands exactly halfway between two float32 numbers; those rare
  elements are stepped to their odd neighbour towards the exact sum (round-to-odd keeps
  the second rounding correct).
- float64: Boldo and Melquiond's emulation ("Emulation of FMA and correctly rounded sums:
  proved algorithms using rounding to odd", 2008): the exact product ``uh + ul``
  (Veltkamp/Dekker), the exact sum ``th + tl = c + uh`` (Knuth), ``v = round_to_odd(tl +
  ul)``, then ``round(th + v)``. Exact away from overflow and underflow.
"""
from __future__ import annotations

import numpy as np

__all__ = ["fma32", "fma64"]

_LOW_29_BITS = np.int64((1 << 29) - 1)  # the float64 mantissa bits that float32 drops
_FLOAT32_HALFWAY = np.int64(1 << 28)
_SPLITTER = float((1 << 27) + 1)  # Veltkamp's constant for 53-bit doubles


def fma32(a: np.ndarray, b: np.ndarray | np.float32, c: np.ndarray | np.float32) -> np.ndarray:
    """round32(a*b + c) with a single rounding, for float32 operands."""
    total = np.multiply(a, b, dtype=np.float64)  # exact: 24 + 24 bits fit in 53
    total += c  # rounded once, to float64
    halfway = (total.view(np.int64) & _LOW_29_BITS) == _FLOAT32_HALFWAY
    if halfway.any():
        a64, b64, c64 = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64)
                                              for v in (a, b, c)))
        total[halfway] = _round_to_odd_sum(a64[halfway] * b64[halfway], c64[halfway])
    return total.astype(np.float32)


def fma64(a: np.ndarray, b: np.ndarray | float, c: np.ndarray | float) -> np.ndarray:
    """round64(a*b + c) with a single rounding, for float64 operands."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c)))
    product_high, product_low = _two_product(a, b)
    sum_high, sum_low = _two_sum(c, product_high)
    return sum_high + _round_to_odd_sum(sum_low, product_low)


def _two_sum(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(s, e) with s = round(x + y) and s + e = x + y exactly (Knuth)."""
    total = x + y
    virtual = total - x
    return total, (x - (total - virtual)) + (y - virtual)


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """x = high + low with each half fitting in 26 bits (Veltkamp)."""
    scaled = _SPLITTER * x
    high = scaled - (scaled - x)
    return high, x - high


def _two_product(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(p, e) with p = round(x * y) and p + e = x * y exactly (Dekker)."""
    product = x * y
    x_high, x_low = _split(x)
    y_high, y_low = _split(y)
    error = ((x_high * y_high - product) + x_high * y_low + x_low * y_high) + x_low * y_low
    return product, error


def _round_to_odd_sum(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x + y rounded to odd: the nearest sum, or, when that is inexact and has an even
    last bit, its neighbour towards the exact sum."""
    total, error = _two_sum(x, y)
    bits = total.view(np.int64)
    towards_larger_magnitude = (error > 0) == (total > 0)
    step = np.where((error == 0) | (bits & 1 == 1), 0,
                    np.where(towards_larger_magnitude, 1, -1))
    return (bits + step).view(np.float64)
