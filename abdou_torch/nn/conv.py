"""Convolution layers: Conv1d, Conv2d, ConvTranspose2d (PyTorch's arguments, parameter
names and init)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import dtypes
from ..ops import conv as conv_ops
from ..ops.conv3d import conv3d
from ..ops.conv_transpose1d import conv_transpose1d
from ..ops.shape import pad
from ..tensor import Tensor
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"]

# 'zeros' pads inside the convolution; the others pad with ``pad(mode=...)`` first.
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value: Any, n: int, name: str, cls: str) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    values = tuple(int(v) for v in value)
    if len(values) != n:
        raise ValueError(f"{cls}: {name} must be an int or a {n}-tuple, got {value!r}")
    return values


class _ConvNd(Module):
    """Shared constructor: weight (out, in/groups, *kernel_size) ((in, out/groups,
    *kernel_size) for a transposed convolution), bias (out,), initialised as PyTorch does:
    kaiming_uniform_(a=sqrt(5)) and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in =
    weight.shape[1] * prod(kernel_size)."""

    dims = 2
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name, n = type(self).__name__, self.dims
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by "
                             f"groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, got "
                             f"{padding_mode!r}")
        if self.transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported, got '
                             f"{padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", name)
        self.stride = _tuple(stride, n, "stride", name)
        self.dilation = _tuple(dilation, n, "dilation", name)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be 'same', 'valid' or ints, got "
                                 f"{padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions")
            self.padding: Any = padding
        else:
            self.padding = _tuple(padding, n, "padding", name)
        self.output_padding = (0,) * n
        self.padding_mode = padding_mode
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        channels = (in_channels, out_channels // groups) if self.transposed else \
            (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty(channels + self.kernel_size, dtype=dtype))
        self.bias = Parameter(np.empty((out_channels,), dtype=dtype)) if bias else None
        self.reset_parameters()

    def _padded(self, input: Tensor) -> tuple[Tensor, Any]:  # noqa: A002
        """(input, padding) for the convolution: unchanged for 'zeros'; otherwise the input
        padded by ``pad`` in ``padding_mode`` and no padding left (PyTorch's
        _reversed_padding_repeated_twice: 'same' puts the odd extra one after)."""
        if self.padding_mode == "zeros":
            return input, self.padding
        widths: list[int] = []
        for before, after in reversed(self._padding()):  # pad's widths start from the last dim
            widths += [before, after]
        return pad(input, widths, mode=self.padding_mode), 0

    def _padding(self) -> list[tuple[int, int]]:
        """(before, after) per dim of the padding this layer asks for."""
        if self.padding == "valid":
            return [(0, 0)] * self.dims
        if self.padding == "same":
            return list(conv_ops._same_padding(self.kernel_size, self.dilation))
        return [(p, p) for p in self.padding]

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * int(np.prod(self.kernel_size))
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        n = self.dims
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0,) * n:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) (or (C_in, L)): weight (out, in/groups, k)."""

    dims = 1

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input, padding = self._padded(input)
        return conv_ops.conv1d(input, self.weight, self.bias, self.stride, padding,
                               self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) (or (C_in, H, W)): weight (out, in/groups, kH, kW).

    ``Conv2d(1, 32, 3, padding=1)`` keeps a 28x28 image 28x28.
    """

    dims = 2

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input, padding = self._padded(input)
        return conv_ops.conv2d(input, self.weight, self.bias, self.stride, padding,
                               self.dilation, self.groups)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (the adjoint of Conv2d in its input) over (N, C_in, H, W):
    weight (in, out/groups, kH, kW), output size (H - 1)*stride - 2*padding
    + dilation*(kH - 1) + output_padding + 1 per dim.

    ``forward(input, output_size=None)``: ``output_size`` picks, among the sizes a strided
    convolution maps to the same input size, the one wanted (it sets output_padding).
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple, "
                             f"got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.output_padding = _tuple(output_padding, self.dims, "output_padding",
                                     type(self).__name__)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple[int, ...]:  # noqa: A002
        if output_size is None:
            return self.output_padding
        n_dims = self.dims
        wanted = tuple(int(s) for s in output_size)[-n_dims:]
        padding = []
        for n, size, k, s, p, d in zip(input.shape[-n_dims:], wanted, self.kernel_size,
                                       self.stride, self.padding, self.dilation):
            smallest = (n - 1) * s - 2 * p + d * (k - 1) + 1
            if not smallest <= size < smallest + s:
                raise ValueError(f"{type(self).__name__}: requested output_size "
                                 f"{tuple(wanted)} "
                                 f"is outside the sizes this input of shape "
                                 f"{tuple(input.shape)} can give ({smallest} to "
                                 f"{smallest + s - 1} per dim for stride {s})")
            padding.append(size - smallest)
        return tuple(padding)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        return conv_ops.conv_transpose2d(input, self.weight, self.bias, self.stride,
                                         self.padding, self._output_padding(input, output_size),
                                         self.groups, self.dilation)


class ConvTranspose1d(ConvTranspose2d):
    """Transposed 1-D convolution over (N, C_in, L) (or (C_in, L)): weight
    (in, out/groups, k), output length (L - 1)*stride - 2*padding + dilation*(k - 1)
    + output_padding + 1."""

    dims = 1

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                self._output_padding(input, output_size), self.groups,
                                self.dilation)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) (or (C_in, D, H, W)): weight
    (out, in/groups, kD, kH, kW)."""

    dims = 3

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        input, padding = self._padded(input)
        return conv3d(input, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)
