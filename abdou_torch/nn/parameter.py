"""Parameter: a tensor that a Module registers as learnable."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad and is found by ``Module.parameters()``.

    ``Parameter(tensor)`` shares the tensor's memory, as in PyTorch.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = []
        super().__init__(data.detach() if isinstance(data, Tensor) else data,
                         requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
