"""More elementwise maths: trigonometric and hyperbolic functions and their inverses, the
gamma family, erfc/erfinv, two-input functions (atan2, hypot, xlogy, copysign, fmax, fmin),
fused multiply-adds (addcmul, addcdiv), NaN-ignoring sums and bitwise operators.

Each differentiable function is a primitive whose gradient is written once against ``xp``
(``autograd/namespace.py``); a derivative that is itself one of these functions (sinh's is
cosh, lgamma's is digamma, digamma's is polygamma(1, .)) is used through ``xp.apply``, so
second derivatives come with it.

The special functions (lgamma, digamma, polygamma, erfinv) use SciPy when it is installed;
otherwise the NumPy formulas below (series and Newton steps) give them to float64 accuracy.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..dtypes import get_default_dtype
from ..tensor import Tensor
from .elementwise import (_Binary, _as_tensor, _erf_array, _float_input, _operands, _unary,
                          _values, clamp, log)
from .reduce import sum as _sum

__all__ = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
           "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "arctan2",
           "atan2", "hypot", "deg2rad", "rad2deg", "exp2", "erfc", "erfinv", "digamma",
           "lgamma", "polygamma", "sinc", "logit", "xlogy", "heaviside", "sgn", "signbit",
           "copysign", "fmax", "fmin", "clamp_min", "clamp_max", "addcmul", "addcdiv",
           "nansum", "nanmean", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
           "float_power", "true_divide", "multiply", "subtract", "negative", "absolute"]


def _own(cls: Any) -> Any:
    cls.__module__ = __name__
    return cls


# -- special functions on arrays (SciPy when present) ----------------------------------------
def _scipy_special() -> Any:
    try:
        from scipy import special
    except ImportError:
        return None
    return special


def _lgamma_array(x: np.ndarray) -> np.ndarray:
    special = _scipy_special()
    if special is not None:
        return special.gammaln(x).astype(x.dtype, copy=False)
    return np.vectorize(_math_lgamma, otypes=[np.float64])(x).astype(x.dtype)


def _math_lgamma(v: float) -> float:
    try:
        return math.lgamma(v)
    except (ValueError, OverflowError):  # the poles: lgamma is +inf there, as PyTorch's
        return math.inf if not math.isnan(v) else math.nan


def _polygamma_array(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x), the n-th derivative of digamma (n = 0: digamma itself)."""
    special = _scipy_special()
    if special is not None:
        values = special.digamma(x) if n == 0 else special.polygamma(n, x)
        return np.asarray(values).astype(x.dtype, copy=False)
    return _polygamma_series(n, x.astype(np.float64)).astype(x.dtype)


# Bernoulli numbers B_2, B_4, ..., B_16 for the asymptotic series of psi^(n)
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def _polygamma_series(n: int, x: np.ndarray) -> np.ndarray:
    """psi^(n)(x) without SciPy: shift x up to >= 10 with the recurrence
    psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n! / x^(n+1), then the asymptotic series; digamma
    of negative x by reflection, psi(x) = psi(1 - x) - pi / tan(pi x)."""
    with np.errstate(all="ignore"):
        if n == 0:
            reflect = x < 0.5
            z = np.where(reflect, 1 - x, x)
        else:
            reflect, z = np.zeros(x.shape, bool), x.copy()
        shift = np.zeros_like(z)
        sign = (-1.0) ** n
        for _ in range(10):
            small = z < 10
            shift = shift - np.where(small, sign * math.factorial(n) / z ** (n + 1), 0)
            z = np.where(small, z + 1, z)
        if n == 0:
            series = np.log(z) - 0.5 / z
            for k, b in enumerate(_BERNOULLI, 1):
                series = series - b / (2 * k * z ** (2 * k))
        else:
            series = math.factorial(n - 1) / z ** n + math.factorial(n) / (2 * z ** (n + 1))
            for k, b in enumerate(_BERNOULLI, 1):
                series = series + b * math.factorial(2 * k + n - 1) / (
                    math.factorial(2 * k) * z ** (2 * k + n))
            series = series * (-1.0) ** (n + 1)
        result = series + shift
        if n == 0:
            result = np.where(reflect, result - math.pi / np.tan(math.pi * x), result)
            result = np.where((x <= 0) & (x == np.floor(x)), np.nan, result)
        else:
            result = np.where((x <= 0) & (x == np.floor(x)), np.inf, result)
    return result


def _erfinv_array(y: np.ndarray) -> np.ndarray:
    special = _scipy_special()
    if special is not None:
        return special.erfinv(y).astype(y.dtype, copy=False)
    z = y.astype(np.float64)
    with np.errstate(all="ignore"):
        # Giles' single-precision start, then Newton steps on erf(x) = z
        w = -np.log((1 - z) * (1 + z))
        x = z * np.where(w < 5, 1.50140941 + 0.246640727 * (w - 2.5),
                         2.83297682 + 1.00167406 * (np.sqrt(w) - 3))
        for _ in range(4):
            x = x - (_erf_array(x) - z) / (2 / math.sqrt(math.pi) * np.exp(-x * x))
        x = np.where(z == 1, np.inf, np.where(z == -1, -np.inf, x))
        x = np.where(np.abs(z) > 1, np.nan, x)
    return x.astype(y.dtype)


def _erfc_array(x: np.ndarray) -> np.ndarray:
    special = _scipy_special()
    if special is not None:
        return special.erfc(x).astype(x.dtype, copy=False)
    return (1 - _erf_array(x.astype(np.float64))).astype(x.dtype)


# -- unary primitives ---------------------------------------------------------------------
SQRT_PI = math.sqrt(math.pi)
Cosh: Any  # defined below: sinh and cosh are each other's derivative

Tan = _own(_unary("tan", "y = tan(x);  dx = dy (1 + y^2)", np.tan,
                  lambda xp, x, y: 1 + y * y, True))
Asin = _own(_unary("asin", "y = asin(x);  dx = dy / sqrt(1 - x^2)", np.arcsin,
                   lambda xp, x, _: 1 / xp.sqrt(1 - x * x), False))
Acos = _own(_unary("acos", "y = acos(x);  dx = -dy / sqrt(1 - x^2)", np.arccos,
                   lambda xp, x, _: -1 / xp.sqrt(1 - x * x), False))
Atan = _own(_unary("atan", "y = atan(x);  dx = dy / (1 + x^2)", np.arctan,
                   lambda xp, x, _: 1 / (1 + x * x), False))
Sinh = _own(_unary("sinh", "y = sinh(x);  dx = dy cosh(x)", np.sinh,
                   lambda xp, x, _: xp.apply(Cosh, x), False))
Cosh = _own(_unary("cosh", "y = cosh(x);  dx = dy sinh(x)", np.cosh,
                   lambda xp, x, _: xp.apply(Sinh, x), False))
Asinh = _own(_unary("asinh", "y = asinh(x);  dx = dy / sqrt(x^2 + 1)", np.arcsinh,
                    lambda xp, x, _: 1 / xp.sqrt(x * x + 1), False))
Acosh = _own(_unary("acosh", "y = acosh(x);  dx = dy / sqrt(x^2 - 1)", np.arccosh,
                    lambda xp, x, _: 1 / xp.sqrt(x * x - 1), False))
Atanh = _own(_unary("atanh", "y = atanh(x);  dx = dy / (1 - x^2)", np.arctanh,
                    lambda xp, x, _: 1 / (1 - x * x), False))
Exp2 = _own(_unary("exp2", "y = 2^x;  dx = dy y ln 2", np.exp2,
                   lambda xp, x, y: y * math.log(2), True))
Erfc = _own(_unary("erfc", "y = 1 - erf(x);  dx = -dy 2/sqrt(pi) exp(-x^2)", _erfc_array,
                   lambda xp, x, _: (-2 / SQRT_PI) * xp.exp(-(x * x)), False))
Erfinv = _own(_unary("erfinv", "y = erf^-1(x);  dx = dy sqrt(pi)/2 exp(y^2)", _erfinv_array,
                     lambda xp, x, y: (SQRT_PI / 2) * xp.exp(y * y), True))
Lgamma = _own(_unary("lgamma", "y = log|Gamma(x)|;  dx = dy digamma(x)", _lgamma_array,
                     lambda xp, x, _: xp.apply(Polygamma, x, 0), False))


class Polygamma(Primitive):
    """y = psi^(n)(x) (n = 0: digamma);  dx = dy psi^(n+1)(x)"""

    @property
    def grad_fn_name(self) -> str:
        return "DigammaBackward0" if self.n == 0 else "PolygammaBackward0"

    def forward(self, x: np.ndarray, n: int) -> np.ndarray:
        self.n = n
        return _polygamma_array(n, x)

    def backward(self, xp, dy):
        return dy * xp.apply(Polygamma, xp.value(self.inputs[0]), self.n + 1)


class Sinc(Primitive):
    """y = sin(pi x) / (pi x), 1 at x = 0;
    dx = dy (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 at x = 0"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sinc(x).astype(x.dtype, copy=False)

    def backward(self, xp, dy):
        x = xp.value(self.inputs[0])
        zero = _values(x) == 0
        safe = xp.where(zero, np.ones((), dy.dtype), x)
        angle = math.pi * safe
        slope = (angle * xp.cos(angle) - xp.sin(angle)) / (angle * safe)
        return xp.where(zero, np.zeros((), dy.dtype), dy * slope)


class ZeroNan(Primitive):
    """y = x with NaN replaced by 0;  dx = dy * (x is not NaN), multiplied rather than
    selected, as PyTorch's nansum (an infinite dy at a NaN gives NaN)"""

    torch_grad_fn = "NansumBackward0"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(x), np.zeros((), x.dtype), x)

    def backward(self, xp, dy):
        return dy * ~np.isnan(self.inputs[0].data)


# -- binary primitives --------------------------------------------------------------------
@_own
class Atan2(_Binary):
    """y = atan2(a, b), the angle of (b, a);  da = dy b / (a^2 + b^2), db = -dy a / (a^2 + b^2)"""

    compute = staticmethod(np.arctan2)

    def backward(self, xp, dy):
        a, b = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        reciprocal = 1 / (a * a + b * b)
        return dy * b * reciprocal, dy * -a * reciprocal  # PyTorch's order of products


@_own
class Hypot(_Binary):
    """y = sqrt(a^2 + b^2);  da = dy a / y, db = dy b / y"""

    compute = staticmethod(np.hypot)
    saves_output = True

    def backward(self, xp, dy):
        a, b = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        y = xp.value(self.output)
        return dy * a / y, dy * b / y


@_own
class Xlogy(_Binary):
    """y = a log(b), 0 where a == 0 (unless b is NaN);
    da = dy log(b) (0 where a == 0 and b <= 0), db = dy a / b"""

    @staticmethod
    def compute(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            product = a * np.log(b)
        return np.where((a == 0) & ~np.isnan(b), np.zeros((), product.dtype), product)

    def backward(self, xp, dy):
        a, b = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        zero = np.zeros((), dy.dtype)
        flat = (_values(a) == 0) & (_values(b) <= 0)
        da = xp.where(flat, zero, dy * xp.log(b)) if self.needs_input_grad[0] else None
        return da, (dy * a / b if self.needs_input_grad[1] else None)


@_own
class Copysign(_Binary):
    """y = |a| with the sign of b;  da = dy y / a (0 where a == 0), db = 0"""

    compute = staticmethod(np.copysign)
    saves_output = True

    def backward(self, xp, dy):
        a = xp.value(self.inputs[0])
        zero = _values(a) == 0
        one = np.ones((), dy.dtype)
        ratio = xp.value(self.output) / xp.where(zero, one, a)
        return xp.where(zero, np.zeros((), dy.dtype), dy * ratio), dy * 0


@_own
class Fmax(_Binary):
    """y = max(a, b), the number where one of them is NaN;
    da = dy where a >= b or b is NaN, else 0;  db = dy elsewhere (a tie goes to a)"""

    compute = staticmethod(np.fmax)

    def backward(self, xp, dy):
        a, b = (_values(v) for v in self.inputs)
        to_a = (a >= b) | np.isnan(b)
        zero = np.zeros((), dy.dtype)
        return xp.where(to_a, dy, zero), xp.where(to_a, zero, dy)


@_own
class Fmin(_Binary):
    """y = min(a, b), the number where one of them is NaN;
    da = dy where a <= b or b is NaN, else 0;  db = dy elsewhere (a tie goes to a)"""

    compute = staticmethod(np.fmin)

    def backward(self, xp, dy):
        a, b = (_values(v) for v in self.inputs)
        to_a = (a <= b) | np.isnan(b)
        zero = np.zeros((), dy.dtype)
        return xp.where(to_a, dy, zero), xp.where(to_a, zero, dy)


# -- public functions ---------------------------------------------------------------------
def tan(input: Any) -> Tensor:  # noqa: A002
    return Tan.apply(_float_input(input))


def asin(input: Any) -> Tensor:  # noqa: A002
    return Asin.apply(_float_input(input))


def acos(input: Any) -> Tensor:  # noqa: A002
    return Acos.apply(_float_input(input))


def atan(input: Any) -> Tensor:  # noqa: A002
    return Atan.apply(_float_input(input))


def sinh(input: Any) -> Tensor:  # noqa: A002
    return Sinh.apply(_float_input(input))


def cosh(input: Any) -> Tensor:  # noqa: A002
    return Cosh.apply(_float_input(input))


def asinh(input: Any) -> Tensor:  # noqa: A002
    return Asinh.apply(_float_input(input))


def acosh(input: Any) -> Tensor:  # noqa: A002
    return Acosh.apply(_float_input(input))


def atanh(input: Any) -> Tensor:  # noqa: A002
    return Atanh.apply(_float_input(input))


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def exp2(input: Any) -> Tensor:  # noqa: A002
    """y = 2^x."""
    return Exp2.apply(_float_input(input))


def erfc(input: Any) -> Tensor:  # noqa: A002
    """y = 1 - erf(x), accurate where erf(x) is close to 1."""
    return Erfc.apply(_float_input(input))


def erfinv(input: Any) -> Tensor:  # noqa: A002
    """The inverse of erf on (-1, 1); +-inf at +-1, NaN outside."""
    return Erfinv.apply(_float_input(input))


def lgamma(input: Any) -> Tensor:  # noqa: A002
    """y = log |Gamma(x)|."""
    return Lgamma.apply(_float_input(input))


def digamma(input: Any) -> Tensor:  # noqa: A002
    """y = psi(x) = d/dx log Gamma(x)."""
    return Polygamma.apply(_float_input(input), 0)


def polygamma(n: int, input: Any) -> Tensor:  # noqa: A002
    """y = psi^(n)(x), the n-th derivative of digamma."""
    if int(n) < 0:
        raise RuntimeError(f"polygamma(n, x) does not support negative n, got {n}")
    return Polygamma.apply(_float_input(input), int(n))


def sinc(input: Any) -> Tensor:  # noqa: A002
    """The normalised sinc: sin(pi x) / (pi x), 1 at 0."""
    return Sinc.apply(_float_input(input))


def deg2rad(input: Any) -> Tensor:  # noqa: A002
    """y = x pi / 180."""
    return _float_input(input) * (math.pi / 180)


def rad2deg(input: Any) -> Tensor:  # noqa: A002
    """y = x 180 / pi."""
    return _float_input(input) * (180 / math.pi)


def logit(input: Any, eps: float | None = None) -> Tensor:  # noqa: A002
    """y = log(z / (1 - z)), z = x clamped to [eps, 1 - eps] when eps is given (the gradient
    is then 0 outside that interval)."""
    x = _float_input(input)
    if eps is not None:
        x = clamp(x, eps, 1 - eps)
    return log(x / (1 - x))


def _float_pair(op: str, input: Any, other: Any) -> tuple:
    """Both operands promoted together, integers then to the default float dtype."""
    a, b = _operands(input, other)
    if _values(a).dtype.kind != "f":
        kind = get_default_dtype()
        a = a.to(kind) if isinstance(a, Tensor) else np.asarray(a, kind)
        b = b.to(kind) if isinstance(b, Tensor) else np.asarray(b, kind)
    return a, b


def atan2(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The angle of the point (other, input), in (-pi, pi]."""
    return Atan2.apply(*_float_pair("atan2", input, other))


arctan2 = atan2


def hypot(input: Any, other: Any) -> Tensor:  # noqa: A002
    """y = sqrt(a^2 + b^2), without overflow; floating inputs only, as in PyTorch."""
    a, b = _operands(input, other)
    if _values(a).dtype.kind != "f":
        raise NotImplementedError(f"\"hypot_cpu\" not implemented for {_values(a).dtype} "
                                  f"tensors (PyTorch takes floating dtypes only)")
    return Hypot.apply(a, b)


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002
    """y = x log(other), 0 where x == 0."""
    return Xlogy.apply(*_float_pair("xlogy", input, other))


def copysign(input: Any, other: Any) -> Tensor:  # noqa: A002
    """|input| with the sign of other (a float result)."""
    return Copysign.apply(*_float_pair("copysign", input, other))


def fmax(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The elementwise maximum, ignoring NaN (NaN only where both are)."""
    a, b = _operands(input, other)
    if _values(a).dtype.kind != "f":
        return Tensor._wrap(np.maximum(_values(a), _values(b)), False)
    return Fmax.apply(a, b)


def fmin(input: Any, other: Any) -> Tensor:  # noqa: A002
    """The elementwise minimum, ignoring NaN (NaN only where both are)."""
    a, b = _operands(input, other)
    if _values(a).dtype.kind != "f":
        return Tensor._wrap(np.minimum(_values(a), _values(b)), False)
    return Fmin.apply(a, b)


def heaviside(input: Any, values: Any) -> Tensor:  # noqa: A002
    """0 where x < 0, values where x == 0, 1 where x > 0 (no gradient, as PyTorch)."""
    x, v = _as_tensor(input), _as_tensor(values)
    if x.dtype != v.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different "
                           f"dtypes ({x.dtype} and {v.dtype})")
    return Tensor._wrap(np.heaviside(x.data, v.data).astype(x.data.dtype), False)


def sgn(input: Any) -> Tensor:  # noqa: A002
    """sign(x) for real tensors (bool tensors come back unchanged)."""
    from .common import sign
    x = _as_tensor(input)
    return x.clone() if x.dtype.kind == "b" else sign(x)


def signbit(input: Any) -> Tensor:  # noqa: A002
    """True where the sign bit is set (-0.0 included)."""
    return Tensor._wrap(np.signbit(_as_tensor(input).data), False)


def clamp_min(input: Any, min: Any) -> Tensor:  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input: Any, max: Any) -> Tensor:  # noqa: A002
    return clamp(input, max=max)


def addcmul(input: Any, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:  # noqa: A002
    """y = input + value tensor1 tensor2."""
    product = _as_tensor(tensor1) * tensor2
    return _as_tensor(input) + (product * value if value != 1 else product)


def addcdiv(input: Any, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:  # noqa: A002
    """y = input + value tensor1 / tensor2 (integer tensor1 and tensor2 are refused)."""
    t1, t2 = _as_tensor(tensor1), _as_tensor(tensor2)
    if t1.dtype.kind in "iub" and t2.dtype.kind in "iub":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a "
                           "future release addcdiv will perform a true division of tensor1 "
                           "and tensor2.")
    quotient = t1 / t2
    return _as_tensor(input) + (quotient * value if value != 1 else quotient)


def nansum(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
           dtype: Any = None) -> Tensor:
    """The sum with NaN read as zero; dx = dy where x is not NaN, else 0."""
    x = _as_tensor(input)
    if x.dtype.kind == "f":
        x = ZeroNan.apply(x)
    return _sum(x, dim, keepdim, dtype=dtype)


def nanmean(input: Any, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """The mean of the non-NaN elements (NaN where there is none)."""
    x = _as_tensor(input)
    if x.dtype.kind != "f":
        raise RuntimeError(f"nanmean(): expected input to have floating point dtype but got "
                           f"{x.dtype}")
    counts = _sum(Tensor._wrap(~np.isnan(x.data), False), dim, keepdim)
    return nansum(x, dim, keepdim, dtype=dtype) / counts


# -- bitwise (integers and bools, no gradient) -----------------------------------------------
def _bitwise(name: str, compute):
    def function(input: Any, other: Any) -> Tensor:  # noqa: A002
        a, b = _operands(input, other)
        a, b = _values(a), _values(b)
        if a.dtype.kind not in "iub":
            raise RuntimeError(f"\"{name}_cpu\" not implemented for '{a.dtype}' (bitwise "
                               f"operators take integer or bool tensors)")
        try:
            return Tensor._wrap(np.asarray(compute(a, b)), False)
        except ValueError:
            raise RuntimeError(f"{name}: shapes {tuple(a.shape)} and {tuple(b.shape)} "
                               f"cannot be broadcast together") from None
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise {name} of integer or bool tensors."
    return function


bitwise_and = _bitwise("bitwise_and", np.bitwise_and)
bitwise_or = _bitwise("bitwise_or", np.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor)


def bitwise_not(input: Any) -> Tensor:  # noqa: A002
    """~x for integers, logical not for bools."""
    values = _values(_as_tensor(input))
    if values.dtype.kind not in "iub":
        raise RuntimeError(f"\"bitwise_not_cpu\" not implemented for '{values.dtype}'")
    return Tensor._wrap(np.invert(values), False)


# -- PyTorch's aliases ----------------------------------------------------------------------
def float_power(input: Any, exponent: Any) -> Tensor:  # noqa: A002
    """input ** exponent computed in float64."""
    x = _as_tensor(input).double()
    return x ** (exponent.double() if isinstance(exponent, Tensor) else exponent)


def true_divide(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _as_tensor(input) / other


def multiply(input: Any, other: Any) -> Tensor:  # noqa: A002
    return _as_tensor(input) * other


def subtract(input: Any, other: Any, *, alpha: float = 1) -> Tensor:  # noqa: A002
    from .elementwise import sub
    return sub(input, other, alpha)


def negative(input: Any) -> Tensor:  # noqa: A002
    return -_as_tensor(input)


def absolute(input: Any) -> Tensor:  # noqa: A002
    return abs(_as_tensor(input))
