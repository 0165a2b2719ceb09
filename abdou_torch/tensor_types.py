"""PyTorch's legacy tensor types: ``FloatTensor(2, 3)``, ``LongTensor([1, 2])``,
``isinstance(x, FloatTensor)``, ``x.type(DoubleTensor)``. Each is a constructor for a
``Tensor`` of one dtype, and an ``isinstance`` check on that dtype; there is no subclass."""
from __future__ import annotations

from typing import Any

import numpy as np

from .devices import check_device
from .tensor import Tensor

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
           "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]


class _LegacyType(type):
    """The metaclass of the legacy types: calling one makes a Tensor of its dtype."""

    _legacy_dtype: np.dtype

    def __call__(cls, *data: Any, device: Any = None) -> Tensor:
        check_device(device, cls.__name__)
        if not data:
            return Tensor(np.zeros(0, dtype=cls._legacy_dtype))
        if len(data) == 1 and isinstance(data[0], Tensor):
            return data[0].to(cls._legacy_dtype)
        return Tensor(*data, dtype=cls._legacy_dtype)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj.data.dtype == cls._legacy_dtype

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _legacy(name: str, dtype: Any) -> type:
    return _LegacyType(name, (), {"_legacy_dtype": np.dtype(dtype), "__module__": __name__,
                                  "__doc__": f"A {np.dtype(dtype)} tensor (legacy type)."})


FloatTensor = _legacy("FloatTensor", np.float32)
DoubleTensor = _legacy("DoubleTensor", np.float64)
HalfTensor = _legacy("HalfTensor", np.float16)
LongTensor = _legacy("LongTensor", np.int64)
IntTensor = _legacy("IntTensor", np.int32)
ShortTensor = _legacy("ShortTensor", np.int16)
CharTensor = _legacy("CharTensor", np.int8)
ByteTensor = _legacy("ByteTensor", np.uint8)
BoolTensor = _legacy("BoolTensor", np.bool_)
