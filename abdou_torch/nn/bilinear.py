"""Bilinear and LazyLinear layers."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes
from ..ops.bilinear import bilinear
from ..tensor import Tensor
from . import init
from .layers import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["Bilinear", "LazyLinear"]


class Bilinear(Module):
    """y = x1ᵀ A x2 + b, A of shape (out_features, in1_features, in2_features); weight and
    bias uniform on [−1/√in1, 1/√in1] as in PyTorch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(Linear):
    """A Linear whose ``in_features`` is taken from the last dim of its first input; then
    it becomes a ``Linear`` (the class changes, as in PyTorch) with PyTorch's
    initialisation drawn at that moment.

    Before the first call the weight is a placeholder of shape (out_features, 0) (PyTorch
    has an UninitializedParameter there): build the optimizer after a first call."""

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        Module.__init__(self)
        self.in_features, self.out_features = 0, int(out_features)
        self._dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, 0), self._dtype))
        self.bias = Parameter(np.empty(self.out_features, self._dtype)) if bias else None

    def reset_parameters(self) -> None:
        if self.in_features:
            super().reset_parameters()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim == 0:
            raise RuntimeError("LazyLinear: the input needs at least one dim (its last is "
                               "in_features)")
        self.in_features = int(input.shape[-1])
        self.weight.data = np.empty((self.out_features, self.in_features), self._dtype)
        if self.bias is not None:
            self.bias.data = np.empty(self.out_features, self._dtype)
        Linear.reset_parameters(self)
        del self._dtype
        self.__class__ = Linear  # type: ignore[assignment]
        return Linear.forward(self, input)
