"""``torch.channels_last`` and the other memory formats, accepted wherever PyTorch takes
``memory_format=`` (``.to``, ``.contiguous``, ``*_like``).

A memory format tells PyTorch how to order a 4-D tensor's elements in memory (NCHW or
NHWC) so that its kernels run faster; the values are the same either way. abdou_torch's
arrays stay in NumPy's row-major order, whose products its convolutions are written for,
so a format changes nothing here: programs that ask for one compute the same numbers.
"""
from __future__ import annotations

__all__ = ["memory_format", "contiguous_format", "channels_last", "channels_last_3d",
           "preserve_format"]


class memory_format:  # noqa: N801 - PyTorch's name
    """One of PyTorch's memory formats (compared by identity, printed as PyTorch does)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
