"""``torch.finfo`` and ``torch.iinfo``: the numerical limits of a dtype, with PyTorch's
attribute names (``tiny`` and ``smallest_normal`` are the smallest positive normal number;
``resolution`` is 10^-precision; ``dtype`` is the dtype's name)."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes

__all__ = ["finfo", "iinfo"]


def _short(value: float) -> str:
    return f"{value:g}"


class finfo:  # noqa: N801 - PyTorch's name
    """Limits of a floating-point dtype (default: the default dtype)."""

    def __init__(self, type: Any = None) -> None:  # noqa: A002 - PyTorch's argument name
        dtype = dtypes.get_default_dtype() if type is None else dtypes.as_dtype(type)
        if np.dtype(dtype).kind not in "fc":
            raise TypeError(f"torch.finfo() requires a floating point input type, got "
                            f"{dtype}")
        info = np.finfo(np.dtype(dtype))
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = str(np.dtype(dtype).name)

    def __repr__(self) -> str:
        return (f"finfo(resolution={_short(self.resolution)}, min={_short(self.min)}, "
                f"max={_short(self.max)}, eps={_short(self.eps)}, smallest_normal="
                f"{_short(self.smallest_normal)}, tiny={_short(self.tiny)}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer dtype."""

    def __init__(self, type: Any) -> None:  # noqa: A002 - PyTorch's argument name
        dtype = np.dtype(dtypes.as_dtype(type))
        if dtype.kind not in "iu":
            raise TypeError(f"torch.iinfo() requires an integer input type, got {dtype}")
        info = np.iinfo(dtype)
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={_short(self.min)}, max={_short(self.max)}, dtype={self.dtype})"
