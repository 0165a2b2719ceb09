"""Dtypes: PyTorch's names for NumPy dtypes, the conversion of Python data, and type promotion.

PyTorch's rules, which differ from NumPy's in two places we care about:

- Python floats and lists of floats become float32 (the default dtype); ints become int64.
- A 0-d operand only decides the result dtype when it is of a higher category
  (bool < integer < floating) than the dimensioned operand, so
  ``float32 vector * float64 scalar`` stays float32.
"""
from __future__ import annotations

import builtins  # this module names dtypes bool, int and float

from typing import Any, Union

import numpy as np

class dtype:
    """An element type: ``abdou_torch.float32`` prints as PyTorch's ``torch.float32``, so that
    a program prints what it prints under PyTorch, and stands for its NumPy dtype wherever
    NumPy expects one (through its ``.dtype``). It compares equal to that NumPy dtype
    (``x.dtype == np.float32`` holds) and answers NumPy's attributes (``.kind``,
    ``.itemsize``)."""

    __slots__ = ("dtype", "_name")

    def __init__(self, name: str, numpy_dtype: Any) -> None:
        self.dtype = np.dtype(numpy_dtype)
        self._name = name

    @property
    def is_floating_point(self) -> builtins.bool:
        return self.dtype.kind == "f"

    @property
    def is_complex(self) -> builtins.bool:
        return self.dtype.kind == "c"

    @property
    def is_signed(self) -> builtins.bool:
        return self.dtype.kind in "fic"

    @property
    def itemsize(self) -> builtins.int:
        return self.dtype.itemsize

    def __getattr__(self, name: str) -> Any:
        if name in ("dtype", "_name"):  # not yet set (copying, unpickling)
            raise AttributeError(name)
        return getattr(self.dtype, name)

    def __eq__(self, other: object) -> builtins.bool:
        if isinstance(other, dtype):
            return self.dtype == other.dtype
        if other is None or isinstance(other, str):  # as PyTorch: never equal to a name
            return False
        try:
            return builtins.bool(self.dtype == np.dtype(other))  # type: ignore[arg-type]
        except TypeError:
            return False

    def __hash__(self) -> builtins.int:
        return hash(self.dtype)

    def __repr__(self) -> str:
        return f"torch.{self._name}"

    def __reduce__(self) -> tuple:
        return wrap, (self.dtype.str,)


_BY_NUMPY: dict[np.dtype, dtype] = {}


def _named(name: str, numpy_dtype: Any) -> dtype:
    made = dtype(name, numpy_dtype)
    _BY_NUMPY[made.dtype] = made
    return made


def wrap(numpy_dtype: Any) -> dtype:
    """The dtype object for a NumPy dtype (``Tensor.dtype``)."""
    found = _BY_NUMPY.get(numpy_dtype)
    if found is None:
        numpy_dtype = np.dtype(numpy_dtype)
        found = _BY_NUMPY.get(numpy_dtype) or _named(numpy_dtype.name, numpy_dtype)
    return found


float64 = double = _named("float64", np.float64)
float32 = float = _named("float32", np.float32)
float16 = half = _named("float16", np.float16)
int64 = long = _named("int64", np.int64)
int32 = int = _named("int32", np.int32)
int16 = short = _named("int16", np.int16)
int8 = _named("int8", np.int8)
uint8 = _named("uint8", np.uint8)
bool = _named("bool", np.bool_)  # noqa: A001 - PyTorch exposes torch.bool
complex64 = cfloat = _named("complex64", np.complex64)
complex128 = cdouble = _named("complex128", np.complex128)

_default_float = float32

__all__ = ["dtype", "float64", "double", "float32", "float16", "half", "int64", "long",
           "int32", "int16", "int8", "uint8", "bool", "complex64", "complex128", "cfloat",
           "cdouble", "get_default_dtype", "set_default_dtype", "promote_types", "wrap"]


def get_default_dtype() -> dtype:
    """The dtype Python floats become (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype: Any) -> None:
    """Make Python floats (and parameters) default to ``dtype`` (float32 or float64)."""
    global _default_float
    chosen = as_dtype(dtype)
    if chosen.kind != "f":
        raise TypeError(f"set_default_dtype expects a floating dtype, got {wrap(chosen)}")
    _default_float = wrap(chosen)


def as_dtype(dtype: Any) -> np.dtype:
    """Normalise a dtype given as a NumPy dtype, a type or a name (``'float32'``)."""
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype such as abdou_torch.float32, got {dtype!r}") from None


def _category(dtype: np.dtype) -> int:
    """bool < integer < floating, as PyTorch ranks them for promotion."""
    return {"b": 0, "i": 1, "u": 1, "f": 2}.get(dtype.kind, 3)


def to_array(value: Any, dtype: np.dtype | None = None) -> np.ndarray:
    """Convert Python or NumPy data to an ndarray with PyTorch's default dtypes.

    NumPy arrays keep their dtype (and memory); Python floats become the default float
    dtype and Python ints int64.
    """
    if isinstance(value, np.ndarray):
        array = value
    elif isinstance(value, np.generic):
        array = np.asarray(value)
    else:
        array = np.asarray(value)
        if array.dtype == np.float64 and dtype is None:  # with a dtype: no detour via float32
            array = array.astype(_default_float)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)
        elif array.dtype.kind not in "bf":
            raise TypeError(f"cannot make a tensor from {type(value).__name__} "
                            f"(NumPy dtype {array.dtype}); expected numbers, lists or arrays")
    if dtype is not None:
        dtype = as_dtype(dtype)
        if array.dtype != dtype:
            array = array.astype(dtype)
    return array


def scalar_to_array(value: Any, other: np.ndarray) -> np.ndarray:
    """A Python scalar as a 0-d array whose dtype follows PyTorch's 'weak scalar' rule.

    NumPy scalars count as the Python numbers they hold (PyTorch reads them so: a float16
    tensor times np.float64(1.5) stays float16). An int outside the dtype's range wraps
    around, as PyTorch's does (uint8 tensor + 300 adds 44)."""
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    if isinstance(value, builtins.bool):
        return np.asarray(value, dtype=other.dtype if other.dtype.kind != "b" else np.bool_)
    if isinstance(value, builtins.int):
        dtype = other.dtype if other.dtype.kind in "iuf" else np.dtype(np.int64)
        if dtype.kind in "iu" and not np.iinfo(dtype).min <= value <= np.iinfo(dtype).max:
            wide = np.uint64 if value > np.iinfo(np.int64).max else np.int64
            return np.asarray(value, dtype=wide).astype(dtype)  # OverflowError beyond 64 bits
        return np.asarray(value, dtype=dtype)
    if isinstance(value, builtins.float):
        return np.asarray(value, dtype=other.dtype if other.dtype.kind == "f" else _default_float)
    raise TypeError(f"unsupported operand of type {type(value).__name__}; "
                    f"expected a Tensor, an ndarray or a Python number")


def result_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """The dtype of a binary op on ``a`` and ``b`` under PyTorch's promotion rules."""
    if a.dtype == b.dtype:
        return a.dtype
    if (a.ndim == 0) != (b.ndim == 0):
        dimensioned, zero_dim = (a, b) if b.ndim == 0 else (b, a)
        if _category(zero_dim.dtype) <= _category(dimensioned.dtype):
            return dimensioned.dtype
        return zero_dim.dtype  # int vector * 1.5 is float32, as in PyTorch
    return promote_types(a.dtype, b.dtype)


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """``torch.promote_types``: the higher category wins outright (int64 with float32 is
    float32, where NumPy says float64); within a category NumPy's rule holds."""
    if _category(a) != _category(b):
        return a if _category(a) > _category(b) else b
    return np.result_type(a, b)




#: what a function taking a dtype accepts: NumPy's, or this module's (equal to NumPy's)
DType = Union[np.dtype, dtype]
