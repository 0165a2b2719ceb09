"""Dtypes: PyTorch's names for NumPy dtypes, the conversion of Python data, and type promotion.

PyTorch's rules, which differ from NumPy's in two places we care about:
- Python floats and lists of floats become float32 (the default dtype); ints become int64.
- A 0-d operand only decides the result dtype when it is of a higher category
  (bool < integer < floating) than the dimensioned operand, so
  ``float32 vector * float64 scalar`` stays float32.
"""
from __future__ import annotations

from typing import Any

import numpy as np

float64 = double = np.dtype(np.float64)
float32 = float = np.dtype(np.float32)
float16 = half = np.dtype(np.float16)
int64 = long = np.dtype(np.int64)
int32 = int = np.dtype(np.int32)
int16 = short = np.dtype(np.int16)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
bool = np.dtype(np.bool_)  # noqa: A001 - PyTorch exposes torch.bool

_default_float = np.dtype(np.float32)

__all__ = ["float64", "double", "float32", "float16", "half", "int64", "long", "int32",
           "int16", "int8", "uint8", "bool", "get_default_dtype", "set_default_dtype",
           "promote_types"]


def get_default_dtype() -> np.dtype:
    """The dtype Python floats become (float32 unless changed)."""
    return _default_float


def set_default_dtype(dtype: Any) -> None:
    """Make Python floats (and parameters) default to ``dtype`` (float32 or float64)."""
    global _default_float
    dtype = as_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype expects a floating dtype, got {dtype}")
    _default_float = dtype


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
    """A Python scalar as a 0-d array whose dtype follows PyTorch's 'weak scalar' rule."""
    if isinstance(value, (np.ndarray, np.generic)):
        return np.asarray(value)
    if isinstance(value, builtins_bool):
        return np.asarray(value, dtype=other.dtype if other.dtype.kind != "b" else np.bool_)
    if isinstance(value, builtins_int):
        return np.asarray(value, dtype=other.dtype if other.dtype.kind in "iuf" else np.int64)
    if isinstance(value, builtins_float):
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


import builtins as _builtins  # noqa: E402 - the module shadows bool/int/float with dtypes

builtins_bool, builtins_int, builtins_float = _builtins.bool, _builtins.int, _builtins.float
