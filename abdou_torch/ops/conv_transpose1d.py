"""conv_transpose1d: the transposed 1-D convolution, as ``conv_transpose2d`` on a height-1
image (so it shares that primitive's gradients)."""
from __future__ import annotations

from typing import Any

from ..errors import ShapeError
from ..tensor import Tensor
from .conv import conv_transpose2d
from .elementwise import _as_tensor

__all__ = ["conv_transpose1d"]


def _single(value: Any, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ValueError(f"conv_transpose1d: {name} must be an int or a 1-tuple, got "
                             f"{value!r}")
        value = value[0]
    return int(value)


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1) -> Tensor:
    """Transposed 1-D convolution of (N, C_in, L) or (C_in, L) with ``weight``
    (C_in, C_out/groups, k): output length (L − 1)·stride − 2·padding + dilation·(k − 1)
    + output_padding + 1."""
    x, w = _as_tensor(input), _as_tensor(weight)
    if x.ndim not in (2, 3):
        raise ShapeError(f"conv_transpose1d: expected a 2-D (C, L) or 3-D (N, C, L) input, "
                         f"got shape {tuple(x.shape)}")
    if w.ndim != 3:
        raise ShapeError(f"conv_transpose1d: expected a 3-D weight (in_channels, "
                         f"out_channels/groups, k), got shape {tuple(w.shape)}")
    out = conv_transpose2d(x.unsqueeze(-2), w.unsqueeze(-2), bias,
                           (1, _single(stride, "stride")), (0, _single(padding, "padding")),
                           (0, _single(output_padding, "output_padding")), groups,
                           (1, _single(dilation, "dilation")))
    return out.squeeze(-2)
