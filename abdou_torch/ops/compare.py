"""Closeness and equality of whole tensors: isclose, allclose, equal (no gradients).

isclose is PyTorch's (and NumPy's) test |a - b| <= atol + rtol |b|, with infinities close
only to themselves and NaN close to NaN only under ``equal_nan``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor

__all__ = ["isclose", "allclose", "equal"]


def _pair(op: str, input: Any, other: Any) -> tuple[np.ndarray, np.ndarray]:  # noqa: A002
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be Tensor, not "
                            f"{type(value).__name__}")
    a, b = input.data, other.data
    if a.dtype != b.dtype:
        raise RuntimeError(f"{op}(): {a.dtype} did not match {b.dtype} (both tensors must "
                           f"have one dtype)")
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"{op}(): shapes {a.shape} and {b.shape} cannot be broadcast "
                         f"together") from None
    return a, b


def _close(op: str, a: np.ndarray, b: np.ndarray, rtol: float, atol: float,
           equal_nan: bool) -> np.ndarray:
    if rtol < 0 or atol < 0:
        name, bad = ("rtol", rtol) if rtol < 0 else ("atol", atol)
        raise RuntimeError(f"{op}(): {name} must be greater than or equal to zero, but got "
                           f"{bad}")
    if a.dtype == np.bool_:
        return np.asarray(a == b)
    return np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
            equal_nan: bool = False) -> Tensor:
    """Elementwise |input - other| <= atol + rtol |other|, as a boolean tensor."""
    a, b = _pair("isclose", input, other)
    return Tensor._wrap(_close("isclose", a, b, rtol, atol, equal_nan), False)


def allclose(input: Any, other: Any, rtol: float = 1e-05, atol: float = 1e-08,  # noqa: A002
             equal_nan: bool = False) -> bool:
    """True when every pair of elements is close (see ``isclose``); a Python bool."""
    a, b = _pair("allclose", input, other)
    return bool(np.all(_close("allclose", a, b, rtol, atol, equal_nan)))


def equal(input: Any, other: Any) -> bool:  # noqa: A002
    """True when both tensors have one shape and equal elements (NaN equals nothing); the
    dtypes may differ, as in PyTorch."""
    for name, value in (("input", input), ("other", other)):
        if not isinstance(value, Tensor):
            raise TypeError(f"equal(): argument '{name}' must be Tensor, not "
                            f"{type(value).__name__}")
    return input.shape == other.shape and bool(np.array_equal(input.data, other.data))
