"""Tensor factories with PyTorch's names: ``tensor``, ``zeros``, ``randn``, ``arange`` ...

Sizes may be given as separate ints or one tuple (``zeros(2, 3)`` or ``zeros((2, 3))``).
Floating results default to float32. The random factories (``rand``, ``randn``,
``randint``, ``randperm`` and their ``*_like`` forms) live in
:mod:`abdou_torch.random_sampling` and are re-exported here.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from .devices import check_device
from .random_sampling import (rand, rand_like, randint, randint_like, randn, randn_like,
                              randperm)
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
           "linspace", "eye", "rand", "randn", "randint", "randperm", "zeros_like",
           "ones_like", "full_like", "rand_like", "randn_like", "randint_like", "empty_like"]


def _size(size: tuple, keyword: Any = None, function: str = "") -> tuple[int, ...]:
    """The shape given as ints, one tuple of ints, or the ``size=`` keyword (not both)."""
    if keyword is not None:
        if size:
            raise TypeError(f"{function}() got its size both as arguments {size!r} and as "
                            f"size={keyword!r}")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"sizes must be ints (or one tuple of ints), got {size!r}")
        if n < 0:
            raise ValueError(f"sizes must be non-negative, got {size!r}")
    return tuple(int(n) for n in size)


def _float_dtype(dtype: Any) -> dtypes.DType:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def _make(array: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad)


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``.

    >>> import abdou_torch as torch
    >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> x.dtype, x.shape
    (torch.float32, torch.Size([2, 2]))
    >>> (x ** 2).sum().backward()             # d/dx sum(x²) = 2x
    >>> x.grad
    tensor([[2., 4.],
            [6., 8.]])
    >>> torch.tensor([1, 2, 3])               # integers give int64, as in PyTorch
    tensor([1, 2, 3])
    """
    check_device(device, "tensor")
    if isinstance(data, Tensor):
        data = data.data
    array = dtypes.to_array(data, dtype)
    return _make(np.array(array, copy=True), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory with an ndarray (or the tensor itself); other
    data (lists, numbers) get ``tensor``'s dtypes: [1, 2] is int64, [True] bool."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtypes.as_dtype(dtype)):
        return data
    if not isinstance(data, (Tensor, np.ndarray)):
        return tensor(data, dtype=dtype)
    return Tensor(data.data if isinstance(data, Tensor) else data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap an ndarray without copying; the two share memory."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an ndarray, got {type(array).__name__}")
    return Tensor(array)


def zeros(*shape: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    check_device(device, "zeros")
    return _make(np.zeros(_size(shape, size, "zeros"), dtype=_float_dtype(dtype)),
                 requires_grad)


def ones(*shape: Any, size: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    check_device(device, "ones")
    return _make(np.ones(_size(shape, size, "ones"), dtype=_float_dtype(dtype)),
                 requires_grad)


def empty(*shape: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    check_device(device, "empty")
    return _make(np.empty(_size(shape, size, "empty"), dtype=_float_dtype(dtype)),
                 requires_grad)


def full(size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value`` (its dtype follows the value)."""
    check_device(device, "full")
    if dtype is None:
        dtype = dtypes.to_array(fill_value).dtype
    return _make(np.full(_size((size,)), fill_value, dtype=dtypes.as_dtype(dtype)),
                 requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
           device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from ``start`` (inclusive) to ``end`` (exclusive); int64 for int arguments."""
    check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else np.int64
    return _make(np.arange(start, end, step).astype(dtypes.as_dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None,
             device: Any = None,
             requires_grad: bool = False) -> Tensor:
    check_device(device, "linspace")
    return _make(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    check_device(device, "eye")
    return _make(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def _like(input: Tensor, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:  # noqa: A002
    return tuple(np.shape(input)), dtypes.as_dtype(dtype or np.asarray(input).dtype)


def zeros_like(input: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:  # noqa: A002
    check_device(device, "zeros_like")
    shape, dtype = _like(input, dtype)
    return _make(np.zeros(shape, dtype=dtype), requires_grad)


def ones_like(input: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:  # noqa: A002
    check_device(device, "ones_like")
    shape, dtype = _like(input, dtype)
    return _make(np.ones(shape, dtype=dtype), requires_grad)


def empty_like(input: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:  # noqa: A002
    check_device(device, "empty_like")
    shape, dtype = _like(input, dtype)
    return _make(np.empty(shape, dtype=dtype), requires_grad)


def full_like(input: Any, fill_value: Any, dtype: Any = None,  # noqa: A002
              device: Any = None,
              requires_grad: bool = False) -> Tensor:
    check_device(device, "full_like")
    shape, dtype = _like(input, dtype)
    return _make(np.full(shape, fill_value, dtype=dtype), requires_grad)
