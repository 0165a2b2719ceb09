"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad and CircularPad in
1, 2 and 3 dims, each one call of ``F.pad`` with PyTorch's arguments and reprs.

``padding`` is an int (the same width on every side) or a tuple of 2·d widths
``(left, right[, top, bottom[, front, back]])``, last dim first."""
from __future__ import annotations

from typing import Any

from ..ops.shape import pad
from ..tensor import Tensor
from .module import Module

__all__ = [f"{kind}Pad{d}d" for kind in ("Zero", "Constant", "Reflection", "Replication",
                                          "Circular") for d in (1, 2, 3)]


def _widths(padding: Any, dims: int, name: str) -> tuple[int, ...]:
    if isinstance(padding, int):
        return (padding,) * (2 * dims)
    widths = tuple(int(p) for p in padding)
    if len(widths) != 2 * dims:
        raise ValueError(f"{name}: padding must be an int or a tuple of {2 * dims} ints, "
                         f"got {padding!r}")
    return widths


class _Pad(Module):
    mode = "constant"
    dims = 1

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _widths(padding, self.dims, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPad(_Pad):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPad):
    """Pad the last dim with ``value``."""
    dims = 1


class ConstantPad2d(_ConstantPad):
    """Pad the last 2 dims with ``value``."""
    dims = 2


class ConstantPad3d(_ConstantPad):
    """Pad the last 3 dims with ``value``."""
    dims = 3


class _ZeroPad(_ConstantPad):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPad):
    """Pad the last dim with zeros."""
    dims = 1


class ZeroPad2d(_ZeroPad):
    """Pad the last 2 dims with zeros."""
    dims = 2


class ZeroPad3d(_ZeroPad):
    """Pad the last 3 dims with zeros."""
    dims = 3


class ReflectionPad1d(_Pad):
    """Pad the last dim with its mirror image (the edge not repeated)."""
    mode, dims = "reflect", 1


class ReflectionPad2d(_Pad):
    """Pad the last 2 dims with their mirror image (the edge not repeated)."""
    mode, dims = "reflect", 2


class ReflectionPad3d(_Pad):
    """Pad the last 3 dims with their mirror image (the edge not repeated)."""
    mode, dims = "reflect", 3


class ReplicationPad1d(_Pad):
    """Pad the last dim by repeating its edge."""
    mode, dims = "replicate", 1


class ReplicationPad2d(_Pad):
    """Pad the last 2 dims by repeating their edges."""
    mode, dims = "replicate", 2


class ReplicationPad3d(_Pad):
    """Pad the last 3 dims by repeating their edges."""
    mode, dims = "replicate", 3


class CircularPad1d(_Pad):
    """Pad the last dim by wrapping around."""
    mode, dims = "circular", 1


class CircularPad2d(_Pad):
    """Pad the last 2 dims by wrapping around."""
    mode, dims = "circular", 2


class CircularPad3d(_Pad):
    """Pad the last 3 dims by wrapping around."""
    mode, dims = "circular", 3
