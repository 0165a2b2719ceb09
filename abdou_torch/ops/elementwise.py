"""Elementwise ops: arithmetic with broadcasting, unary maths, activations, comparisons.

Each primitive states its math as ``y = ...`` and the gradient of each input as
``dx = ...`` in terms of the output gradient ``dy``. Broadcasting is undone by the engine,
not here: a formula may return a gradient of the broadcast shape.
"""
from __future__ import annotations

import math
from builtins import abs as builtins_abs
from typing import Any, Callable, Literal

import numpy as np

from ..compiler import kernel, untraced
from ..autograd.function import Primitive
from ..dtypes import result_dtype, scalar_to_array, to_array
from ..errors import ShapeError
from ..tensor import Tensor
from .workspace import workspace

__all__ = ["add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "sqrt", "tanh",
           "sigmoid", "relu", "leaky_relu", "erf", "gelu", "sin", "cos", "clamp", "maximum",
           "minimum", "where", "eq", "ne", "lt", "le", "gt", "ge", "square",
           "logical_not", "isnan", "isfinite", "log1p", "expm1", "log2", "log10"]


def _operands(a: Any, b: Any) -> tuple:
    """Coerce two operands to a common dtype under PyTorch's promotion rules.

    Tensors stay Tensors (so that they can receive gradients); other values become arrays.
    """
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype == b.data.dtype:
        return a, b  # the common case, decided without any promotion logic
    a_data = a.data if isinstance(a, Tensor) else None
    b_data = b.data if isinstance(b, Tensor) else None
    if a_data is None and not _is_scalar(a):
        a_data = a = to_array(a)  # arrays first: a Python scalar takes its dtype from them
    if b_data is None and not _is_scalar(b):
        b_data = b = to_array(b)
    if a_data is None:
        a_data = a = to_array(a) if b_data is None else scalar_to_array(a, b_data)
    if b_data is None:
        b_data = b = scalar_to_array(b, a_data)
    dtype = result_dtype(a_data, b_data)
    if a_data.dtype != dtype:
        a = a.to(dtype) if isinstance(a, Tensor) else a_data.astype(dtype)
    if b_data.dtype != dtype:
        b = b.to(dtype) if isinstance(b, Tensor) else b_data.astype(dtype)
    return a, b


def _is_scalar(value: Any) -> bool:
    """Python numbers, and NumPy scalars, which PyTorch reads as the numbers they hold."""
    return isinstance(value, (int, float, bool)) or \
        isinstance(value, np.generic) and value.dtype.kind in "biuf"


def _broadcast_error(name: str, a: Any, b: Any) -> ShapeError:
    return ShapeError(f"{name}: shapes {tuple(np.shape(a))} and {tuple(np.shape(b))} "
                      f"cannot be broadcast together")


class _Binary(Primitive):
    """A broadcasting binary op; subclasses give ``compute(a, b)``."""

    compute: Callable[..., np.ndarray]  # a NumPy ufunc, as a staticmethod

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:
            return self.compute(a, b)
        except ValueError:
            raise _broadcast_error(self.name, a, b) from None


class Add(_Binary):
    """y = a + b;  da = dy, db = dy"""

    saves_inputs = False
    compute = staticmethod(np.add)

    def backward(self, xp, dy):
        return dy, dy


class Sub(_Binary):
    """y = a - b;  da = dy, db = -dy"""

    saves_inputs = False
    compute = staticmethod(np.subtract)

    def backward(self, xp, dy):
        return dy, (-dy if self.needs_input_grad[1] else None)


class Mul(_Binary):
    """y = a * b;  da = dy * b, db = dy * a"""

    compute = staticmethod(np.multiply)
    reads_inputs = staticmethod(lambda needs: (needs[1], needs[0]))

    def backward(self, xp, dy):
        a, b = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        da, db = self.needs_input_grad
        return (dy * b if da else None), (dy * a if db else None)


class Div(_Binary):
    """y = a / b;  da = dy / b, db = -dy * ((a / b) / b)

    db is divided twice rather than by b^2, as in PyTorch: dy * a and b^2 overflow for
    large operands where the quotients do not."""

    compute = staticmethod(np.true_divide)
    reads_inputs = staticmethod(lambda needs: (needs[1], True))

    def backward(self, xp, dy):
        a, b = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        da, db = self.needs_input_grad
        return (dy / b if da else None), (-dy * (a / b / b) if db else None)


class Pow(_Binary):
    """y = a ** b;  da = dy * b * a^(b-1) (0 where b == 0), db = dy * y * log(a) (dy * 0
    where a == 0 and b >= 0), as in PyTorch, whose masks also decide what an infinite dy
    gives there: 0 in da, NaN in db. Integers to negative integer powers (a tensor of
    exponents) follow PyTorch too: 1 for a = 1, +-1 for a = -1, else 0 (NumPy raises)."""

    compute = staticmethod(np.power)

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if np.asarray(b).dtype.kind in "iu" and np.asarray(a).dtype.kind in "iub" and \
                np.any(np.asarray(b) < 0):
            try:
                return _integer_power(a, b)
            except ValueError:
                raise _broadcast_error(self.name, a, b) from None
        return super().forward(a, b)

    def backward(self, xp, dy):
        a, b = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        zero = np.zeros((), dtype=dy.dtype)
        da = db = None
        if self.needs_input_grad[0]:
            da = xp.where(_values(b) != 0, dy * (b * a ** (b - 1)), zero)
        if self.needs_input_grad[1]:
            flat = (_values(a) == 0) & (_values(b) >= 0)  # y = 0 or 1 there: no slope
            db = dy * xp.where(flat, zero, a ** b * xp.log(xp.where(flat, zero + 1, a)))
        return da, db


def _integer_power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a ** b for integers, where b < 0 gives a's reciprocal truncated: 1 for a = 1, 1 or -1
    for a = -1 (b even or odd), 0 otherwise (0 ** -n included), as PyTorch's kernel."""
    powers = np.power(a, np.where(b < 0, 0, b))
    reciprocal = np.where(a == 1, 1, np.where(a == -1, np.where(b % 2 == 0, 1, -1), 0))
    return np.where(b < 0, reciprocal, powers).astype(powers.dtype)


class PowScalar(Primitive):
    torch_grad_fn = "PowBackward0"

    """y = x ** p (p a Python number);  dx = dy * p * x^(p-1) (0 for p = 0, whatever dy)"""

    name = "pow"

    def forward(self, x: np.ndarray, exponent: float) -> np.ndarray:
        self.exponent = exponent
        if exponent == 2:
            return np.multiply(x, x)
        return np.power(x, np.asarray(exponent, dtype=x.dtype))

    def backward(self, xp, dy):
        x, p = xp.value(self.inputs[0]), self.exponent
        if p == 2:
            return dy * (2 * x)
        if p == 1:
            return dy
        if p == 0:  # x^0 is constant, even at x = 0 where p * x^(p-1) would be 0 * inf
            return xp.where(np.True_, np.zeros((), dy.dtype), dy)
        return dy * (p * x ** (p - 1))


def _unary(name: str, doc: str, compute, derivative, uses_output: bool):
    """Build a unary primitive whose gradient is ``dy * derivative(xp, x, y)``.

    ``uses_output``: the formula reads the output ``y`` rather than the input ``x``, so
    the node keeps a handle on the output instead of guarding the input.
    """

    def forward(self, x):
        return compute(x)

    def backward(self, xp, dy):
        x = None if uses_output else xp.value(self.inputs[0])
        y = xp.value(self.output) if uses_output else None
        return dy * derivative(xp, x, y)

    methods = {"__doc__": doc, "name": name, "forward": forward, "backward": backward,
               "saves_output": uses_output, "saves_inputs": not uses_output,
               "__module__": __name__}
    return type(name.capitalize(), (Primitive,), methods)


Exp = _unary("exp", "y = exp(x);  dx = dy * y", np.exp, lambda xp, x, y: y, True)
Log = _unary("log", "y = log(x);  dx = dy / x", np.log, lambda xp, x, _: 1 / x, False)
Sqrt = _unary("sqrt", "y = sqrt(x);  dx = dy / (2 y)", np.sqrt, lambda xp, x, y: 0.5 / y,
              True)
Tanh = _unary("tanh", "y = tanh(x);  dx = dy * (1 - y^2)", np.tanh,
              lambda xp, x, y: 1 - y * y, True)
Sin = _unary("sin", "y = sin(x);  dx = dy * cos(x)", np.sin, lambda xp, x, _: xp.cos(x), False)
Cos = _unary("cos", "y = cos(x);  dx = -dy * sin(x)", np.cos, lambda xp, x, _: -xp.sin(x),
             False)
# log1p and expm1 are primitives for precision: log(1 + x) and exp(x) - 1 lose every digit
# of a small x to rounding. log2 and log10 are primitives so that exact powers give exact
# results (log2(8) is 3, where log(8) / log(2) is 3.0000000000000004).
Log1p = _unary("log1p", "y = log(1 + x);  dx = dy / (1 + x)", np.log1p,
               lambda xp, x, _: 1 / (1 + x), False)
Expm1 = _unary("expm1", "y = exp(x) - 1;  dx = dy * (y + 1)", np.expm1,
               lambda xp, x, y: y + 1, True)
Log2 = _unary("log2", "y = log2(x);  dx = dy / (x ln 2)", np.log2,
              lambda xp, x, _: 1 / (x * math.log(2)), False)
Log10 = _unary("log10", "y = log10(x);  dx = dy / (x ln 10)", np.log10,
               lambda xp, x, _: 1 / (x * math.log(10)), False)


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp is only taken of -|x|."""
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z)).astype(x.dtype, copy=False)


Sigmoid = _unary("sigmoid", "y = 1 / (1 + exp(-x));  dx = dy * y * (1 - y)", _stable_sigmoid,
                 lambda xp, x, y: y * (1 - y), True)


class Neg(Primitive):
    """y = -x;  dx = -dy"""

    saves_inputs = False

    def forward(self, x):
        return np.negative(x)

    def backward(self, xp, dy):
        return -dy


class Abs(Primitive):
    """y = |x|;  dx = dy * sign(x), with sign(NaN) = 0 as in PyTorch"""

    def forward(self, x):
        return np.abs(x)

    def backward(self, xp, dy):
        return dy * _sign(self.inputs[0].data)


def _sign(x: np.ndarray) -> np.ndarray:
    """PyTorch's sign: -1, 0 or 1, and 0 for NaN (NumPy's is NaN)."""
    return np.sign(np.where(np.isnan(x), 0, x)) if x.dtype.kind == "f" else np.sign(x)


# Elements per block of _maximum_with_zero (tuned: benchmarks/RESULTS.md).
_ZEROS_BLOCK = 1 << 16
_zero_blocks: dict = {}


def _maximum_with_zero(flat: np.ndarray, out: np.ndarray) -> None:
    """out = max(0, flat) for 1-D float arrays, a block at a time against a block of zeros.

    NumPy's maximum has a vectorised loop for two arrays but a slower one for an array
    and a scalar, so this is faster than ``np.maximum(0, flat)``, with the same result,
    NaN and signed zeros included (a fast path of ``Relu.forward``).
    """
    zeros = _zero_block(flat.dtype, min(flat.size, _ZEROS_BLOCK))
    for start in range(0, flat.size, _ZEROS_BLOCK):
        stop = min(start + _ZEROS_BLOCK, flat.size)
        np.maximum(*_keeping_negative_zero(zeros[:stop - start], flat[start:stop]),
                   out=out[start:stop])


def _zero_block(dtype: np.dtype, size: int) -> np.ndarray:
    """At least ``size`` (up to ``_ZEROS_BLOCK``) zeros of ``dtype``, kept for the next calls
    (only ever read), grown by powers of two: a small model keeps a small block."""
    zeros = _zero_blocks.get(dtype)
    if zeros is None or zeros.size < size:
        grown = min(_ZEROS_BLOCK, 1 << max(size - 1, 0).bit_length())
        with untraced():  # a cache outlives the step: not an array of a compile recording
            zeros = _zero_blocks[dtype] = np.zeros(grown, dtype=dtype)
    return zeros


def _keeping_negative_zero(zero: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The operands of ``maximum`` for max(0, x) = -0.0 at x = -0.0, as PyTorch's relu: on a
    tie NumPy returns the second operand, except for float16, where it returns the first
    (tests/ops/test_fast_paths.py checks both)."""
    return (x, zero) if x.dtype == np.float16 else (zero, x)


def _passes_gradient(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Where ReLU passes its gradient: not x <= 0, so where x > 0 and where x is NaN, as
    PyTorch's threshold_backward (which zeroes the gradient where x <= 0)."""
    if out is None:  # also for 0-d x, where NumPy returns scalars
        return np.logical_not(np.less_equal(x, 0))
    np.less_equal(x, 0, out=out)
    return np.logical_not(out, out=out)


class Relu(Primitive):
    """y = max(0, x);  dx = dy where not x <= 0, else 0 (``_passes_gradient``)

    As in PyTorch, relu(-0.0) is -0.0 (``_keeping_negative_zero``), NaN passes through, and
    the gradient is selected, not multiplied by a mask, so that an infinite dy at x <= 0
    gives 0, not NaN.

    Large outputs come from the workspace pool (see ``ops/workspace.py``): ReLU runs on
    every activation of a network, and a fresh array costs it more than the maximum.
    """

    def forward(self, x):
        if x.nbytes < workspace.min_bytes:
            if x.dtype.kind == "f" and x.size <= _ZEROS_BLOCK and x.flags.c_contiguous:
                # zeros of x's shape: maximum's loop for two arrays, as in _maximum_with_zero
                zero = _zero_block(x.dtype, x.size)[:x.size].reshape(x.shape)
            else:
                zero = np.zeros((), dtype=x.dtype)
            return np.maximum(*_keeping_negative_zero(zero, x))
        zero = np.zeros((), dtype=x.dtype)
        out = workspace.empty(x.shape, x.dtype)
        if x.dtype.kind != "f" or not x.flags.c_contiguous:
            return np.maximum(*_keeping_negative_zero(zero, x), out=out)
        _maximum_with_zero(x.reshape(-1), out.reshape(-1))
        return out

    def backward(self, xp, dy):
        x = self.inputs[0].data
        if xp.arrays and dy.nbytes >= workspace.min_bytes and dy.dtype.kind == "f":
            return _relu_backward_pooled(dy, x)
        # threshold_backward's own form, dx = 0 where x <= 0 else dy: one comparison and
        # one selection (not x <= 0 would be a second pass over the mask)
        return xp.where(np.less_equal(x, 0), np.zeros((), dtype=dy.dtype), dy)


@kernel  # one call in a compiled step: the branch on dy is taken at each replay
def _relu_backward_pooled(dy: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Fast path of ``Relu.backward`` on arrays: ``where(_passes_gradient(x), dy, 0)`` with
    the mask and the result in pooled memory. It multiplies by the mask, which is the same
    wherever dy is finite; the sum of dy tells (one pass) when it may not be."""
    passes = _passes_gradient(x, out=workspace.empty(x.shape, np.bool_))
    if not np.isfinite(np.add.reduce(dy, axis=None)):  # inf * 0 would be NaN
        return np.where(passes, dy, np.zeros((), dtype=dy.dtype))
    return np.multiply(dy, passes, out=workspace.empty(dy.shape, dy.dtype))


class LeakyRelu(Primitive):
    """y = x if x > 0 else slope * x;  dx = dy * (1 if x > 0 else slope)"""

    name = "leaky_relu"

    def forward(self, x, negative_slope: float):
        self.negative_slope = negative_slope
        return np.where(x > 0, x, x * np.asarray(negative_slope, dtype=x.dtype))

    def backward(self, xp, dy):
        x = self.inputs[0].data
        slope = np.where(x > 0, 1, self.negative_slope).astype(x.dtype)
        return dy * slope


def _erf_array(x: np.ndarray) -> np.ndarray:
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # NumPy has no erf: fall back to the exact, slower math.erf
        return np.frompyfunc(math.erf, 1, 1)(x).astype(x.dtype)
    return scipy_erf(x).astype(x.dtype, copy=False)


class Erf(Primitive):
    """y = erf(x);  dx = dy * 2/sqrt(pi) * exp(-x^2)"""

    def forward(self, x):
        return _erf_array(x)

    def backward(self, xp, dy):
        x = xp.value(self.inputs[0])
        return dy * (2 / math.sqrt(math.pi)) * xp.exp(-(x * x))


class Clamp(Primitive):
    """y = min(max(x, lo), hi);  dx = dy where lo <= x <= hi, else 0 (selected, so an
    infinite dy outside gives 0, not NaN). A NaN bound makes y NaN, as in PyTorch."""

    def forward(self, x, min: float | None, max: float | None):  # noqa: A002 - torch names
        self.bounds = (min, max)
        y = x
        if min is not None:
            y = np.where((y < min) | np.isnan(min), np.asarray(min, dtype=x.dtype), y)
        if max is not None:
            y = np.where((y > max) | np.isnan(max), np.asarray(max, dtype=x.dtype), y)
        return np.array(y, dtype=x.dtype)

    def backward(self, xp, dy):
        x = self.inputs[0].data
        low, high = self.bounds
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x >= low
        if high is not None:
            inside &= x <= high
        return xp.where(inside, dy, np.zeros((), dtype=dy.dtype))


def _pick(xp, loses: np.ndarray, tie: np.ndarray, dy):
    """PyTorch's gradient of maximum/minimum for one input: dy, halved on a tie, 0 where the
    input loses; selected, not multiplied (a NaN operand loses nowhere)."""
    zero = np.zeros((), dtype=dy.dtype)
    return xp.where(loses, zero, xp.where(tie, dy * 0.5, dy))


class Maximum(_Binary):
    """y = max(a, b);  da = dy where a > b, dy / 2 where a == b, 0 where a < b (so both
    get dy where either is NaN, as in PyTorch);  db likewise"""

    compute = staticmethod(np.maximum)

    def backward(self, xp, dy):
        a, b = (_values(v) for v in self.inputs)
        tie = a == b
        return _pick(xp, a < b, tie, dy), _pick(xp, b < a, tie, dy)


class Minimum(_Binary):
    """y = min(a, b);  da = dy where a < b, dy / 2 where a == b, 0 where a > b;  db likewise"""

    compute = staticmethod(np.minimum)

    def backward(self, xp, dy):
        a, b = (_values(v) for v in self.inputs)
        tie = a == b
        return _pick(xp, a > b, tie, dy), _pick(xp, b > a, tie, dy)


class Where(Primitive):
    """y = a where cond else b;  da = dy where cond else 0, db = 0 where cond else dy"""

    def forward(self, condition, a, b):
        try:
            return np.where(condition, a, b)
        except ValueError:
            raise ShapeError(f"where: shapes {np.shape(condition)}, {np.shape(a)} and "
                             f"{np.shape(b)} cannot be broadcast together") from None

    def backward(self, xp, dy):
        condition = _values(self.inputs[0])
        zero = np.zeros((), dtype=dy.dtype)
        da = xp.where(condition, dy, zero) if self.needs_input_grad[1] else None
        db = xp.where(condition, zero, dy) if self.needs_input_grad[2] else None
        return None, da, db


class Cast(Primitive):
    """y = x as dtype;  dx = dy as x's dtype"""

    name = "to"
    saves_inputs = False

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, xp, dy):
        return dy


def _values(value: Any) -> np.ndarray:
    # NumPy arrays and scalars have a .data too (a memoryview): only a Tensor's is wanted
    return value.data if hasattr(value, "data") and \
        not isinstance(value, (np.ndarray, np.generic)) else np.asarray(value)


# -- public functions ---------------------------------------------------------------------

def add(input: Any, other: Any, alpha: float = 1):  # noqa: A002 - PyTorch's argument name
    """input + alpha * other, with broadcasting."""
    if type(alpha) is int and alpha == 1:  # the default (a bool alpha is checked below)
        return Add.apply(*_operands(input, other))
    return Add.apply(*_scaled_operands(input, other, alpha))


def _scaled_operands(input: Any, other: Any, alpha: Any) -> tuple:  # noqa: A002
    """(input, alpha * other) in the dtype of input and other (alpha takes no part in it,
    as in PyTorch), with PyTorch's two checks: no float alpha for an integer or bool
    result, no bool alpha for any other."""
    a, b = _operands(input, other)
    kind = _values(a).dtype.kind
    if isinstance(alpha, (bool, np.bool_)) and kind != "b":
        raise RuntimeError(f"Boolean alpha only supported for Boolean results (got alpha="
                           f"{alpha} for a {_values(a).dtype} result)")
    if kind in "biu" and isinstance(alpha, (float, np.floating)):
        raise RuntimeError(f"For integral input tensors, argument alpha must not be a "
                           f"floating point number (got alpha={alpha})")
    if kind == "b":
        return a, (b if alpha else mul(b, False))
    return a, (b if alpha == 1 else mul(b, alpha))


def sub(input: Any, other: Any, alpha: float = 1):  # noqa: A002
    """input - alpha * other, with broadcasting; not for bool operands (PyTorch's rule: for
    masks, ``~`` or ``logical_xor`` say what is meant)."""
    if any(_is_bool(v) for v in (input, other)):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                           "supported. If you are trying to invert a mask, use the `~` or "
                           "`logical_not()` operator instead.")
    if type(alpha) is int and alpha == 1:  # the default (a bool alpha is checked there)
        return Sub.apply(*_operands(input, other))
    return Sub.apply(*_scaled_operands(input, other, alpha))


def _is_bool(value: Any) -> bool:
    """A bool tensor, array or scalar."""
    if isinstance(value, (bool, np.bool_)):
        return True
    return getattr(getattr(value, "dtype", None), "kind", None) == "b"


def _beyond_half(input: Any, other: Any) -> bool:
    """A float16 tensor and a Python number that float16 cannot hold (|v| > 65504, or
    below its smallest subnormal): PyTorch multiplies and divides such a pair in float32
    and rounds the result (a float16 x * 65536.0 is finite for |x| < 1; cast first, the
    number is inf). Its add and sub cast the number (x - 7e4 is -inf for any x)."""
    for tensor, number in ((input, other), (other, input)):
        if type(number) in (int, float) and isinstance(tensor, Tensor) and \
                tensor.data.dtype == np.float16 and number != 0 and math.isfinite(number):
            return not 2.0 ** -25 < builtins_abs(number) <= 65504.0
    return False


def _float32(value: Any) -> Any:
    return value.to(np.float32) if isinstance(value, Tensor) else value


def mul(input: Any, other: Any):  # noqa: A002
    if _beyond_half(input, other):
        return mul(_float32(input), _float32(other)).to(np.float16)
    return Mul.apply(*_operands(input, other))


def div(input: Any, other: Any):  # noqa: A002
    """True division; integer inputs give a float result, as in PyTorch."""
    if _beyond_half(input, other):
        return div(_float32(input), _float32(other)).to(np.float16)
    a, b = _operands(input, other)
    if _values(a).dtype.kind != "f":
        a, b = _to_default_float(a), _to_default_float(b)
    return Div.apply(a, b)


def _to_default_float(value: Any):
    from ..dtypes import get_default_dtype
    return value.to(get_default_dtype()) if hasattr(value, "to") else \
        np.asarray(value, dtype=get_default_dtype())


def pow(input: Any, exponent: Any):  # noqa: A001 - PyTorch's name
    """input ** exponent; a Python-number exponent takes the cheaper single-input path.
    PyTorch has no bool ** bool tensor (NotImplementedError); bool ** int is int64; a
    Python bool exponent is 1 or 0 and keeps the tensor's dtype."""
    if isinstance(exponent, bool) and isinstance(input, Tensor):
        if input.dtype.kind == "b":
            return input.clone() if exponent else Tensor._wrap(np.ones_like(input.data), False)
        return PowScalar.apply(input, int(exponent))
    if _is_bool(input) and _is_bool(exponent) and not isinstance(exponent, np.bool_):
        raise NotImplementedError('"pow" not implemented for \'Bool\'')
    if isinstance(exponent, (int, float)) and not isinstance(exponent, bool) \
            and isinstance(input, Tensor):
        if input.dtype.kind == "b" and isinstance(exponent, int):
            input = input.to(np.int64)
        if input.dtype.kind != "f":
            if isinstance(exponent, int) and exponent < 0:
                raise RuntimeError(f"pow: integers to negative integer powers are not "
                                   f"allowed ({input.dtype} tensor ** {exponent}); convert "
                                   f"the tensor with .float() first")
            if isinstance(exponent, float):
                input = _to_default_float(input)
        _check_exponent_fits(exponent, input.data.dtype)
        return PowScalar.apply(input, exponent)
    return Pow.apply(*_operands(input, exponent))


def _check_exponent_fits(exponent: float, dtype: np.dtype) -> None:
    """PyTorch converts a number exponent to the tensor's dtype and raises where it does not
    fit (float16 ** 1e10, uint8 ** 300); float32 and float64 take any float."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        fits = info.min <= exponent <= info.max
    else:
        largest = float(np.finfo(dtype).max)
        fits = dtype.itemsize > 2 or not math.isfinite(exponent) or \
            -largest <= exponent <= largest
    if not fits:
        raise RuntimeError(f"pow: exponent {exponent} cannot be converted to {dtype} "
                           f"without overflow")


def _as_tensor(value: Any):
    return value if isinstance(value, Tensor) else Tensor(value)


def neg(input: Any):  # noqa: A002
    x = _as_tensor(input)
    if x.dtype.kind == "b":
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return Neg.apply(x)


def abs(input: Any):  # noqa: A001,A002
    x = _as_tensor(input)
    if x.dtype.kind == "b":
        raise NotImplementedError('"abs" not implemented for \'Bool\'')
    return Abs.apply(x)


def _float_input(input: Any):
    """Unary maths on integers computes in the default float dtype (PyTorch's rule)."""
    tensor = _as_tensor(input)
    return tensor if tensor.dtype.kind == "f" else _to_default_float(tensor)


def exp(input: Any):  # noqa: A002
    return Exp.apply(_float_input(input))


def log(input: Any):  # noqa: A002
    return Log.apply(_float_input(input))


def sqrt(input: Any):  # noqa: A002
    return Sqrt.apply(_float_input(input))


def log1p(input: Any):  # noqa: A002
    """log(1 + x), accurate for small x."""
    return Log1p.apply(_float_input(input))


def expm1(input: Any):  # noqa: A002
    """exp(x) - 1, accurate for small x."""
    return Expm1.apply(_float_input(input))


def log2(input: Any):  # noqa: A002
    return Log2.apply(_float_input(input))


def log10(input: Any):  # noqa: A002
    return Log10.apply(_float_input(input))


def tanh(input: Any):  # noqa: A002
    return Tanh.apply(_float_input(input))


def sigmoid(input: Any):  # noqa: A002
    return Sigmoid.apply(_float_input(input))


def sin(input: Any):  # noqa: A002
    return Sin.apply(_float_input(input))


def cos(input: Any):  # noqa: A002
    return Cos.apply(_float_input(input))


def erf(input: Any):  # noqa: A002
    return Erf.apply(_float_input(input))


def relu(input: Any, inplace: bool = False):  # noqa: A002
    """max(x, 0); ``inplace=True`` (nn.functional's option) overwrites ``input``."""
    if inplace:
        return input.relu_()
    x = _as_tensor(input)
    if x.dtype.kind == "b":
        raise RuntimeError("relu: boolean inputs are not supported")
    return Relu.apply(x)


def _floating_only(op: str, input: Any):  # noqa: A002
    """PyTorch implements some activations for floating dtypes only."""
    x = _as_tensor(input)
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype} (PyTorch "
                        f"implements it for floating dtypes only)")
    return x


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False):  # noqa: A002
    if inplace:
        return input._inplace("leaky_relu_", leaky_relu, negative_slope)
    return LeakyRelu.apply(_floating_only("leaky_relu", input), float(negative_slope))


def gelu(input: Any, approximate: str = "none"):  # noqa: A002
    """GELU: x * Phi(x) = x/2 (1 + erf(x / sqrt 2)) as one primitive (:class:`Gelu`); with
    approximate='tanh', the composite x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x = _floating_only("gelu", input)
    if approximate == "none":
        return Gelu.apply(x)
    if approximate == "tanh":
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)
        return 0.5 * x * (1 + tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


# erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2), z >= 0, with P the degree-9 Chebyshev
# fit of Numerical Recipes (erfcc): fractional error below 1.2e-7 for every z >= 0.
_ERFC_COEFFICIENTS = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
                      0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277)
# The same fit in u = t / 2 = 1 / (2 + z): P(t) = sum c_k 2^k u^k (exact power-of-two
# scalings of the float32 coefficients), so Phi(-|x|) = erfc(z) / 2 = u exp(-z^2 + P)
# without a halving pass.
_ERFC_COEFFICIENTS_IN_U = tuple(np.float32(np.float32(c) * 2.0 ** k)
                                for k, c in enumerate(_ERFC_COEFFICIENTS))


# Elements per block of the float32 GELU kernels: small enough that a block's buffers stay
# in cache between the ~30 passes, large enough to keep the NumPy calls few (each is also a
# kernel call in a compiled step); see benchmarks/RESULTS.md.
_GELU_BLOCK = 65536


def _normal_cdf_array(x: np.ndarray) -> np.ndarray:
    """Phi(x) = erfc(-x / sqrt 2) / 2, the standard normal distribution function.

    float64 goes through the exact erf; float32 and float16 through
    :func:`_gelu_float32` (the erfc fit above, in float32).
    """
    if x.dtype == np.float64:
        return 0.5 * (1 + _erf_array(x * (1 / math.sqrt(2))))
    return _gelu_float32(x)[1].astype(x.dtype, copy=False)


def _gelu_float32(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x Phi(x), Phi(x), -x^2 / 2) in float32, of the shape of ``x``, made block by block
    (:func:`_normal_cdf_block`), each block's passes running in cache.

    Absolute error of Phi below 3e-7, relative error below 1e-5 down to 1e-37, also in the
    left tail, where 1 + erf(x / sqrt 2) loses every digit. ``-x^2 / 2`` is kept for
    GELU's backward (phi(x) = exp(-x^2/2) / sqrt(2 pi)).
    """
    shape = np.shape(x)
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1)
    product, cdf, half_square = (np.empty_like(flat) for _ in range(3))
    scratch = [np.empty(min(_GELU_BLOCK, flat.size), dtype=np.float32) for _ in range(2)]
    # (no np.errstate around the loop: a compiled step would replay it around every call)
    for start in range(0, flat.size, _GELU_BLOCK):
        block = slice(start, min(start + _GELU_BLOCK, flat.size))
        size = block.stop - start
        _normal_cdf_block(flat[block], cdf[block], half_square[block],
                          scratch[0][:size], scratch[1][:size])
        np.multiply(flat[block], cdf[block], out=product[block])
    return product.reshape(shape), cdf.reshape(shape), half_square.reshape(shape)


def _normal_cdf_block(x: np.ndarray, cdf: np.ndarray, half_square: np.ndarray,
                      u: np.ndarray, poly: np.ndarray) -> None:
    """Phi(x) into ``cdf`` and -x^2/2 into ``half_square`` (1-D float32 arrays of one size;
    ``u`` and ``poly`` are scratch), through the erfc fit in u = 1 / (2 + |x| / sqrt 2)
    (for |x| > 1.8e19, x^2 overflows to inf, with NumPy's warning, and exp(-inf) gives the
    0 wanted):

        p = Phi(-|x|) = u exp(-x^2/2 + P(u)),    Phi(x) = p + [x > 0] (1 - 2p)

    The select is arithmetic: a masked ufunc or ``np.where`` over a data-dependent mask
    costs as much as 40 passes.
    """
    # u = sqrt2 / (2 sqrt2 + |x|) = 1 / (2 + |x| / sqrt 2): a division by an array is one
    # pass, np.reciprocal two
    np.abs(x, out=u)
    np.multiply(u, np.float32(-0.5), out=half_square)
    half_square *= u
    u += np.float32(2 * math.sqrt(2))
    np.divide(np.float32(math.sqrt(2)), u, out=u)
    np.multiply(u, _ERFC_COEFFICIENTS_IN_U[-1], out=poly)
    poly += _ERFC_COEFFICIENTS_IN_U[-2]
    for coefficient in _ERFC_COEFFICIENTS_IN_U[-3::-1]:
        poly *= u
        poly += coefficient
    poly += half_square
    np.exp(poly, out=poly)
    poly *= u  # p = Phi(-|x|)
    np.greater(x, 0, out=cdf)  # [x > 0] as 0.0 / 1.0 (NaN compares false)
    np.multiply(poly, np.float32(-2), out=u)
    u += np.float32(1)
    cdf *= u
    cdf += poly


class Gelu(Primitive):
    """y = x Phi(x);  dx = dy (Phi(x) + x phi(x)),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)

    One node instead of five (scale, erf, add, two products). Under create_graph the
    derivative is written with differentiable ops (erf, exp), so it has one in turn.
    float32 (and float16) arrays go through :func:`_gelu_float32` forward and
    :meth:`_backward_float32` backward, in cache-sized blocks.
    """

    name = "gelu"

    def forward(self, x):
        self.half_square = None  # -x^2 / 2, kept by the float32 kernel
        if x.dtype == np.float64:
            self.cdf = _normal_cdf_array(x)
            return x * self.cdf
        product, cdf, self.half_square = _gelu_float32(x)
        self.cdf = cdf.astype(x.dtype, copy=False)
        return product.astype(x.dtype, copy=False)

    def backward(self, xp, dy):
        if xp.arrays:
            x = self.inputs[0].data
            if x.dtype == np.float32 and dy.dtype == np.float32:
                return self._backward_float32(dy)
            return self._backward_fast(dy)
        x = xp.value(self.inputs[0])
        # Phi(x) rebuilt with erf, so that it carries its dependence on x into the second
        # derivative
        cdf = 0.5 * (1 + xp.apply(Erf, x * (1 / math.sqrt(2))))
        return dy * (cdf + x * xp.exp(-0.5 * (x * x)) * (1 / math.sqrt(2 * math.pi)))

    def _backward_fast(self, dy):
        """The formula above on arrays, with the Phi(x) the forward kept, in seven passes
        over one buffer."""
        x = self.inputs[0].data
        slope = np.multiply(x, x, out=np.empty_like(x))
        slope *= -0.5
        np.exp(slope, out=slope)
        slope *= x
        slope *= np.asarray(1 / math.sqrt(2 * math.pi), dtype=x.dtype)
        slope += self.cdf
        return np.multiply(dy, slope, out=slope)

    def _backward_float32(self, dy):
        """:meth:`_backward_fast` with the -x^2/2 the float32 forward kept, block by block
        (five passes each, in cache)."""
        x = self.inputs[0].data.reshape(-1)
        half_square, cdf = self.half_square.reshape(-1), self.cdf.reshape(-1)
        dy_flat = np.ascontiguousarray(dy).reshape(-1)
        dx = np.empty_like(dy_flat)
        slope = np.empty(min(_GELU_BLOCK, dx.size), dtype=np.float32)
        scale = np.float32(1 / math.sqrt(2 * math.pi))
        for start in range(0, dx.size, _GELU_BLOCK):
            block = slice(start, min(start + _GELU_BLOCK, dx.size))
            part = slope[:block.stop - start]
            np.exp(half_square[block], out=part)
            part *= x[block]
            part *= scale
            part += cdf[block]
            np.multiply(dy_flat[block], part, out=dx[block])
        return dx.reshape(dy.shape)


def square(input: Any):  # noqa: A002
    return pow(_as_tensor(input), 2)


def clamp(input: Any, min: float | None = None, max: float | None = None):  # noqa: A002
    """Limit values to [min, max]; gradient flows where min <= x <= max."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    x = _as_tensor(input)
    dtype = x.data.dtype  # PyTorch promotes with the bounds: int tensor, 0.5 -> float32
    bound: float | np.ndarray | None  # a bound, then as an array
    for bound in (min, max):
        if bound is not None:
            bound = _values(bound) if not _is_scalar(bound) else scalar_to_array(bound, x.data)
            dtype = result_dtype(np.empty((0,) * x.ndim, dtype), np.asarray(bound))
    if dtype != x.data.dtype:
        x = x.to(dtype) if dtype.kind == "f" else Tensor._wrap(x.data.astype(dtype), False)
    return Clamp.apply(x, min, max)


def maximum(input: Any, other: Any):  # noqa: A002
    return Maximum.apply(*_operands(input, other))


def minimum(input: Any, other: Any):  # noqa: A002
    return Minimum.apply(*_operands(input, other))


_NO_VALUE = object()  # where()'s missing input/other (None is not a value either way)


def where(condition: Any, input: Any = _NO_VALUE, other: Any = _NO_VALUE):  # noqa: A002
    """Elementwise choice: input where condition is true, else other. With the condition
    alone, PyTorch's ``where(condition)``: ``nonzero(condition, as_tuple=True)``."""
    if input is _NO_VALUE and other is _NO_VALUE:
        from .common import nonzero  # common builds on this module
        return nonzero(condition, as_tuple=True)
    if input is _NO_VALUE or other is _NO_VALUE:
        raise TypeError("where() expects the condition alone, or the condition, input and "
                        "other")
    condition = _values(condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: condition must be a boolean tensor, got {condition.dtype}")
    a, b = _operands(input, other)
    return Where.apply(condition, a, b)


def _compare(name: str, compute):
    def compare(input: Any, other: Any):  # noqa: A002
        a, b = _operands(input, other)
        try:
            return Tensor._wrap(compute(_values(a), _values(b)), False)
        except ValueError:
            raise _broadcast_error(name, _values(a), _values(b)) from None
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise {name} comparison; returns a boolean tensor with no grad."
    return compare


eq = _compare("eq", np.equal)
ne = _compare("ne", np.not_equal)
lt = _compare("lt", np.less)
le = _compare("le", np.less_equal)
gt = _compare("gt", np.greater)
ge = _compare("ge", np.greater_equal)


def _no_grad_unary(name: str, compute):
    def function(input: Any):  # noqa: A002
        return Tensor._wrap(compute(_values(_as_tensor(input))), False)
    function.__name__ = function.__qualname__ = name
    return function


logical_not = _no_grad_unary("logical_not", np.logical_not)
isnan = _no_grad_unary("isnan", np.isnan)
isfinite = _no_grad_unary("isfinite", np.isfinite)


class Clone(Primitive):
    """y = a copy of x;  dx = dy"""

    saves_inputs = False

    def forward(self, x, order: Literal["K", "C"] = "K"):
        """``order`` 'K' keeps the input's layout (PyTorch's preserve_format), 'C' lays the
        copy out in row-major order (``contiguous()``)."""
        return np.array(x, copy=True, order=order)

    def backward(self, xp, dy):
        return dy
