"""Size: a tensor's shape, a tuple of ints that prints as PyTorch's ``torch.Size([2, 3])``."""
from __future__ import annotations

import math

__all__ = ["Size"]


class Size(tuple):
    """The shape of a tensor (``Tensor.shape``, ``Tensor.size()``): a tuple of ints."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other):
        return Size(tuple(other) + tuple(self))
