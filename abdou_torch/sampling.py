"""PyTorch's CPU sampling algorithms, on a :class:`~abdou_torch.random.Generator`'s words.

Each function returns a flat NumPy array of ``count`` samples in the order PyTorch's CPU
kernels write them (the order of the tensor's elements in memory), consuming the same
32-bit words, so the same seed gives the same bits. The algorithms, from ATen's
``DistributionsHelper.h``, ``TransformationHelper.h`` and the CPU distribution kernels:

- uniform on [0, 1): float32 ``(w & (2^24 - 1)) * 2^-24`` from one word w; float64
  ``(w64 & (2^53 - 1)) * 2^-53`` from a 64-bit value w64 = (first word << 32) | second;
  float16 rounds the float32 value. On [a, b): ``fma(x, b - a, a)`` (the kernels are
  compiled with fused multiply-add), and a value rounded up to b becomes a.
- normal, 16 or more contiguous elements: fill with uniforms, then Box-Muller on blocks of
  16, ``u1 = 1 - x[j]``, ``u2 = x[j + 8]`` (j < 8): ``x[j] = sqrt(-2 log u1) cos(2 pi u2)``,
  ``x[j + 8] = ... sin(...)``; when 16 does not divide the size, the last 16 elements are
  redrawn and transformed again. float32 uses the AVX2 polynomials
  (:mod:`abdou_torch.avx_mathfun`), float64 the C library's log, cos and sin.
- normal, fewer than 16 (or non-contiguous) elements: float64 Box-Muller from two 53-bit
  uniforms, ``r = sqrt(-2 log1p(-u2))``, ``theta = 2 pi u1``, returning ``r cos theta``
  and keeping ``r sin theta`` in the generator for the next such draw.
- integers in [low, high): ``w mod (high - low) + low`` (w64 when the range is 2^28 or more).
- bernoulli(p): ``u < p`` with a float64 uniform (float32 for float32 probabilities).
- exponential(lambda): ``-1/lambda * log1p(-u)``, u a float64 uniform.
- randperm(n): Fisher-Yates, swapping i and ``i + w mod (n - i)``; from n = 2^32 / 20 on,
  the "inside-out" variant with 64-bit values, as PyTorch switches.

The C library's ``log``, ``log1p``, ``cos`` and ``sin`` are reached through Python's
``math`` module, which calls the same functions PyTorch does (NumPy's vectorised ones
differ in the last bit for some inputs).

What is matched is torch 2.13's x86-64 build on a CPU with AVX2 and FMA (it runs normal_
on its AVX2 kernel there, also on AVX-512 machines). Two paths of that build are not
reproduced: without AVX2 (or with ``ATEN_CPU_CAPABILITY=default``) float32 normals use
the C library's float functions; and on Intel CPUs, where PyTorch's MKL build may draw
``bernoulli_(p)`` with a float ``p`` (hence dropout masks) from an MKL stream seeded by one
generator word, the masks would differ.
"""
from __future__ import annotations

import array
import functools
import math
from collections.abc import Callable

import numpy as np

from . import dtypes
from .avx_mathfun import log_ps, sincos_ps
from .fma import fma32, fma64
from .random import Generator
from .topk_order import topk_indices

__all__ = ["unit_float32", "unit_float64", "uniform", "normal", "box_muller_float64",
           "random_from_to", "random_int64", "random_full_range", "bernoulli_scalar",
           "bernoulli_tensor", "exponential", "randperm", "multinomial_with_replacement",
           "multinomial_without_replacement", "poisson", "RANDPERM_SMALL_N", "WIDE_RANGE"]

_MASK_24 = np.uint32((1 << 24) - 1)
_MASK_53 = np.uint64((1 << 53) - 1)
NORMAL_BLOCK = 16  # PyTorch's normal_fill transforms 16 uniforms at a time
RANDPERM_SMALL_N = 0xFFFFFFFF // 20  # below this, randperm uses 32-bit words
WIDE_RANGE = 1 << 28  # from this range on, random_(from, to) draws 64-bit values
_PERMUTATION_CHUNK = 1 << 20  # random words drawn at a time for randperm's swaps
_TWO_PI = 2.0 * math.pi
_CHUNK_ROWS = 2048  # blocks of 16 transformed at once: 32k values, a few 100 kB per array

_libm_log = np.frompyfunc(math.log, 1, 1)
_libm_log1p = np.frompyfunc(math.log1p, 1, 1)
_libm_cos = np.frompyfunc(math.cos, 1, 1)
_libm_sin = np.frompyfunc(math.sin, 1, 1)


def _libm(function: np.ufunc, values: np.ndarray) -> np.ndarray:
    return function(values).astype(np.float64)


# -- uniforms ----------------------------------------------------------------------------------
def unit_float32(generator: Generator, count: int) -> np.ndarray:
    """``count`` float32 uniforms on [0, 1) with 24 random bits, one word each."""
    words = generator.random_uint32(count)
    return (words & _MASK_24).view(np.int32).astype(np.float32) * np.float32(2.0 ** -24)


def unit_float64(generator: Generator, count: int) -> np.ndarray:
    """``count`` float64 uniforms on [0, 1) with 53 random bits, two words each."""
    return (generator.random_uint64(count) & _MASK_53).astype(np.float64) * 2.0 ** -53


def uniform(generator: Generator, count: int, dtype: np.dtype, low: float = 0.0,
            high: float = 1.0) -> np.ndarray:
    """U(low, high) as ``tensor.uniform_(low, high)``: ``fma(x, high - low, low)`` in the
    dtype's arithmetic (float32 for float16), with low and high rounded to it first; a
    value that rounds up to ``high`` becomes ``low``, keeping the interval half-open."""
    dtype = np.dtype(dtype)
    if dtype == np.float64:
        values = unit_float64(generator, count)
        if not (low == 0 and high == 1):  # fma(x, 1, 0) is x itself
            values = fma64(values, high - low, low)
    elif dtype in (np.float32, np.float16):
        low32, high32 = np.float32(low), np.float32(high)
        values = unit_float32(generator, count)
        if not (low == 0 and high == 1):
            values = fma32(values, high32 - low32, low32)
        values = cast_float(values, dtype)
    else:
        raise TypeError(f"uniform_ needs a floating dtype, got {dtype}")
    high_, low_ = dtype.type(high), dtype.type(low)
    return np.where(values == high_, low_, values)


def cast_float(values: np.ndarray, dtype: dtypes.DType) -> np.ndarray:
    """Round floats to ``dtype`` as C++ does: to float16 through float32."""
    if np.dtype(dtype) == np.float16 and values.dtype == np.float64:
        values = values.astype(np.float32)
    return values.astype(dtype, copy=False)


# -- normals -----------------------------------------------------------------------------------
def normal(generator: Generator, count: int, dtype: np.dtype, mean: float = 0.0,
           std: float = 1.0, contiguous: bool = True) -> np.ndarray:
    """N(mean, std^2) as ``tensor.normal_(mean, std)`` on a tensor of ``count`` elements."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"normal_ needs a floating dtype, got {dtype}")
    if count < NORMAL_BLOCK or not contiguous:
        return cast_float(fma64(box_muller_float64(generator, count), std, mean), dtype)
    if dtype == np.float64:
        return _normal_fill(generator, count, mean, std, unit_float64, _box_muller_libm)
    if dtype == np.float32:
        return _normal_fill(generator, count, mean, std, unit_float32, _box_muller_avx2)
    return _normal_fill_by_blocks(generator, count, mean, std).astype(dtype)


def _blocks(count: int) -> tuple[int, bool]:
    """(number of whole blocks of 16, whether a redrawn last block is needed)."""
    return count // NORMAL_BLOCK, count % NORMAL_BLOCK != 0


def _normal_fill(generator: Generator, count: int, mean: float, std: float,
                 uniforms: Callable, box_muller: Callable) -> np.ndarray:
    """PyTorch's normal_fill: ``count`` uniforms transformed 16 at a time in place, and
    when ``count`` is not a multiple of 16, 16 fresh uniforms for the last 16 values."""
    whole, tail = _blocks(count)
    out = uniforms(generator, count)
    head = out[:whole * NORMAL_BLOCK].reshape(whole, NORMAL_BLOCK)
    out[:whole * NORMAL_BLOCK] = box_muller(head, mean, std).ravel()
    if tail:
        last = uniforms(generator, NORMAL_BLOCK).reshape(1, NORMAL_BLOCK)
        out[-NORMAL_BLOCK:] = box_muller(last, mean, std).ravel()
    return out


def _box_muller_avx2(block: np.ndarray, mean: float, std: float) -> np.ndarray:
    """normal_fill_16_AVX2 on rows of 16 float32 uniforms (in chunks that stay in cache)."""
    out = np.empty_like(block)
    mean32, std32 = np.float32(mean), np.float32(std)
    for start in range(0, block.shape[0], _CHUNK_ROWS):
        rows = block[start:start + _CHUNK_ROWS]
        radius = np.sqrt(np.float32(-2.0) * log_ps(np.float32(1.0) - rows[:, :8]))
        sine, cosine = sincos_ps(np.float32(_TWO_PI) * rows[:, 8:])
        out[start:start + _CHUNK_ROWS, :8] = _scaled(radius * cosine, std32, mean32)
        out[start:start + _CHUNK_ROWS, 8:] = _scaled(radius * sine, std32, mean32)
    return out


def _scaled(values: np.ndarray, std: np.float32, mean: np.float32) -> np.ndarray:
    """fma(values, std, mean); with mean 0 the one rounding is the product's (the + 0 turns
    -0 into +0, as the fused add does)."""
    if mean == 0:
        return (values * std if std != 1 else values) + np.float32(0)
    return fma32(values, std, mean)


def _box_muller_libm(block: np.ndarray, mean: float, std: float) -> np.ndarray:
    """normal_fill_16 in float64: libm's log, cos and sin, then fma(value, std, mean)."""
    radius = np.sqrt(-2.0 * _libm(_libm_log, 1.0 - block[:, :8]))
    theta = _TWO_PI * block[:, 8:]
    return np.concatenate([fma64(radius * _libm(_libm_cos, theta), std, mean),
                           fma64(radius * _libm(_libm_sin, theta), std, mean)], axis=1)


def _normal_fill_by_blocks(generator: Generator, count: int, mean: float,
                           std: float) -> np.ndarray:
    """float16's normal fill: the float32 AVX2 transform, but the uniforms are drawn only
    for the whole blocks of 16, then 16 more for the redrawn last block."""
    whole, tail = _blocks(count)
    head = unit_float32(generator, whole * NORMAL_BLOCK).reshape(whole, NORMAL_BLOCK)
    out = np.empty(count, dtype=np.float32)
    out[:whole * NORMAL_BLOCK] = _box_muller_avx2(head, mean, std).ravel()
    if tail:
        last = unit_float32(generator, NORMAL_BLOCK).reshape(1, NORMAL_BLOCK)
        out[-NORMAL_BLOCK:] = _box_muller_avx2(last, mean, std).ravel()
    return out


def box_muller_float64(generator: Generator, count: int) -> np.ndarray:
    """``count`` standard normals from ``at::normal_distribution<double>``: each pair of
    53-bit uniforms (u1, u2) gives r cos(theta) now and r sin(theta) later, kept in
    ``generator.next_double_normal`` (r = sqrt(-2 log1p(-u2)), theta = 2 pi u1)."""
    values = np.empty(count, dtype=np.float64)
    filled = 0
    if count and generator.next_double_normal is not None:
        values[0], generator.next_double_normal = generator.next_double_normal, None
        filled = 1
    pairs = (count - filled + 1) // 2
    uniforms = unit_float64(generator, 2 * pairs).reshape(pairs, 2).tolist()
    for u1, u2 in uniforms:
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = _TWO_PI * u1
        values[filled] = radius * math.cos(theta)
        filled += 1
        if filled < count:
            values[filled] = radius * math.sin(theta)
            filled += 1
        else:
            generator.next_double_normal = radius * math.sin(theta)
    return values


# -- integers ----------------------------------------------------------------------------------
def random_from_to(generator: Generator, count: int, low: int, span: int) -> np.ndarray:
    """Integers ``low + (w mod span)`` as int64, for span in [1, 2^64): w is a 64-bit value
    when span >= 2^28 (PyTorch 2.13's threshold against modulo bias), else one word."""
    if span >= WIDE_RANGE:
        words = generator.random_uint64(count)
    else:
        words = generator.random_uint32(count).astype(np.uint64)
    return ((words % np.uint64(span)) + np.uint64(low % (1 << 64))).view(np.int64)


def random_int64(generator: Generator, count: int) -> np.ndarray:
    """64-bit values as int64, the whole range (``random_(-2**63, None)``)."""
    return generator.random_uint64(count).view(np.int64)


def random_full_range(generator: Generator, count: int, dtype: dtypes.DType) -> np.ndarray:
    """``tensor.random_()`` without bounds: [0, 2^63) for int64, [0, 2^53] for float64,
    [0, max] for other integers, [0, 2^24] for float32, [0, 2^11] for float16, a coin
    for bool."""
    dtype = np.dtype(dtype)
    if dtype in (np.dtype(np.int64), np.dtype(np.float64)):
        words = generator.random_uint64(count)
        modulus = (1 << 63) if dtype.kind == "i" else (1 << 53) + 1
        return (words % np.uint64(modulus)).astype(dtype)
    words = generator.random_uint32(count).astype(np.uint64)
    if dtype == np.bool_:
        return (words & np.uint64(1)).astype(np.bool_)
    if dtype.kind == "f":
        return (words % np.uint64((1 << np.finfo(dtype).nmant + 1) + 1)).astype(dtype)
    return (words % np.uint64(int(np.iinfo(dtype).max) + 1)).astype(dtype)


# -- bernoulli, exponential --------------------------------------------------------------------
def bernoulli_scalar(generator: Generator, count: int, p: float) -> np.ndarray:
    """``count`` draws of ``u < p`` with float64 uniforms (``tensor.bernoulli_(p)``)."""
    return unit_float64(generator, count) < p


def bernoulli_tensor(generator: Generator, probabilities: np.ndarray) -> np.ndarray:
    """One draw per probability, in order: float64 probabilities compare with float64
    uniforms, others (float32, float16) with float32 uniforms of 24 bits."""
    if probabilities.dtype == np.float64:
        return unit_float64(generator, probabilities.size) < probabilities
    return unit_float32(generator, probabilities.size) < probabilities.astype(np.float32)


def exponential(generator: Generator, count: int, lambd: float) -> np.ndarray:
    """``count`` Exp(lambd) samples in float64: -1/lambd * log1p(-u)."""
    return (-1.0 / lambd) * _libm(_libm_log1p, -unit_float64(generator, count))


# -- permutations ------------------------------------------------------------------------------
def randperm(generator: Generator, n: int) -> np.ndarray:
    """A permutation of range(n) as int64, PyTorch's ``randperm`` on the CPU. (The swaps
    depend on each other, so they run one by one, on an ``array`` of 8-byte ints.)"""
    if n < 2:
        return np.arange(n, dtype=np.int64)
    order = array.array("q", range(n)) if n < RANDPERM_SMALL_N else \
        array.array("q", bytes(8 * n))
    if n < RANDPERM_SMALL_N:
        # Fisher-Yates: for i < n - 1, swap positions i and i + (w_i mod (n - i)).
        for start in range(0, n - 1, _PERMUTATION_CHUNK):
            stop = min(start + _PERMUTATION_CHUNK, n - 1)
            remaining = np.arange(n - start, n - stop, -1, dtype=np.uint64)
            words = generator.random_uint32(stop - start).astype(np.uint64)
            partners = (words % remaining).astype(np.int64) + np.arange(start, stop)
            for i, j in enumerate(partners.tolist(), start):
                order[i], order[j] = order[j], order[i]
    else:
        # "Inside-out" Fisher-Yates: r[i] = r[z], r[z] = i with z = w64 mod (i + 1).
        for start in range(0, n, _PERMUTATION_CHUNK):
            stop = min(start + _PERMUTATION_CHUNK, n)
            bounds = np.arange(start + 1, stop + 1, dtype=np.uint64)
            targets = generator.random_uint64(stop - start) % bounds
            for i, z in enumerate(targets.tolist(), start):
                order[i] = order[z]
                order[z] = i
    return np.frombuffer(order, dtype=np.int64)


# -- multinomial, poisson ----------------------------------------------------------------------
def multinomial_with_replacement(generator: Generator, rows: np.ndarray,
                                 num_samples: int) -> np.ndarray:
    """Per row: the normalised running sum of its probabilities (in their dtype, the
    last set to 1), then ``num_samples`` float64 uniforms each mapped to the first
    category whose running sum reaches it."""
    samples = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    if rows.dtype == np.float16:  # PyTorch sums reduced floats in float32
        rows = rows.astype(np.float32)
    for index, row in enumerate(rows):
        cumulative = np.add.accumulate(row)  # sequential, as PyTorch's loop
        cumulative = cumulative / cumulative[-1]
        cumulative[-1] = 1
        uniforms = unit_float64(generator, num_samples)
        samples[index] = np.searchsorted(cumulative.astype(np.float64), uniforms, side="left")
    return samples


def poisson(generator: Generator, rates: np.ndarray) -> np.ndarray:
    """One Poisson sample per rate, in order, as float64 (PyTorch's ``sample_poisson``,
    after NumPy's legacy generator: multiplication of uniforms below rate 10, Hoermann's
    transformed rejection (PTRS) from 10 on)."""
    return np.array([_poisson_one(generator, rate) for rate in rates.tolist()],
                    dtype=np.float64)


def _uniform_one(generator: Generator) -> float:
    return float(unit_float64(generator, 1)[0])


def _poisson_one(generator: Generator, rate: float) -> int:
    if rate >= 10:
        slam, loglam = math.sqrt(rate), math.log(rate)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = _uniform_one(generator) - 0.5
            v = _uniform_one(generator)
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + rate + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= \
                    (-rate + k * loglam - _lgamma(k + 1.0)):
                return k
    if rate == 0:
        return 0
    limit, count, product = math.exp(-rate), 0, 1.0
    while True:
        product *= _uniform_one(generator)
        if product > limit:
            count += 1
        else:
            return count


def _lgamma(x: float) -> float:
    function = _libm_lgamma()
    return function(x) if function is not None else math.lgamma(x)


@functools.lru_cache(maxsize=None)
def _libm_lgamma():
    """The C library's lgamma, which PyTorch calls (Python's math.lgamma is CPython's own
    and can differ in the last bit); None where it cannot be loaded. Loaded on first use,
    so that importing abdou_torch stays fast."""
    import ctypes
    import ctypes.util
    for name in ("libm.so.6", None):
        try:
            name = name or ctypes.util.find_library("m")  # the search runs a subprocess
            function = ctypes.CDLL(name).lgamma
        except (OSError, AttributeError, TypeError):
            continue
        function.restype, function.argtypes = ctypes.c_double, [ctypes.c_double]
        return function
    return None


def multinomial_without_replacement(generator: Generator, probabilities: np.ndarray,
                                    num_samples: int) -> np.ndarray:
    """PyTorch's exponential trick: E ~ Exp(1) drawn for every element (in the
    probabilities' dtype and memory order), q = p / E, then per row the index of the
    largest q (one sample) or the ``num_samples`` largest in topk's order."""
    visiting = np.ascontiguousarray(probabilities)
    draws = exponential(generator, visiting.size, 1.0).astype(visiting.dtype)
    ratios = (visiting.ravel() / draws).reshape(-1, visiting.shape[-1])
    if num_samples == 1:
        return np.argmax(ratios, axis=1).reshape(-1, 1)
    return np.stack([topk_indices(row, num_samples) for row in ratios])
