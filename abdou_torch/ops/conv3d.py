"""conv3d, composed from conv2d: for each depth offset kd of the kernel, the input's depth
slices that offset reads are stacked into the batch and convolved in 2-D with the weight's
slice kd, and the kD results are summed:

    y[n, o, d] = Σ_kd conv2d(x[n, :, d·s_d + kd·dil_d], w[:, :, kd])[o]   (+ bias)

so its gradients are conv2d's (kD calls of the 2-D convolution, not a 3-D kernel)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from ..tensor import Tensor
from .conv import _conv_args, _same_padding, conv2d
from .shape import Index, pad

__all__ = ["conv3d"]


def _triple(value: Any, name: str) -> tuple[int, int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 3:
            raise ValueError(f"conv3d: {name} must be an int or a 3-tuple, got {value!r}")
        return int(value[0]), int(value[1]), int(value[2])
    return int(value), int(value), int(value)


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-D cross-correlation of (N, C, D, H, W) or (C, D, H, W) with ``weight``
    (out, C/groups, kD, kH, kW); ``padding`` ints or 'valid' / 'same'."""
    x, w, b, groups = _conv_args("conv3d", input, weight, bias, groups)
    if x.ndim == 4:
        return conv3d(x.unsqueeze(0), w, b, stride, padding, dilation, groups).squeeze(0)
    if x.ndim != 5 or w.ndim != 5:
        raise ShapeError(f"conv3d: expected a 5-D input (N, C, D, H, W) and a 5-D weight, got "
                         f"shapes {tuple(x.shape)} and {tuple(w.shape)}")
    if x.shape[1] != w.shape[1] * groups:
        raise ShapeError(f"conv3d: input of shape {tuple(x.shape)} has {x.shape[1]} channels "
                         f"but weight of shape {tuple(w.shape)} with groups={groups} expects "
                         f"{w.shape[1] * groups}")
    steps, dil = _triple(stride, "stride"), _triple(dilation, "dilation")
    kernel = tuple(w.shape[2:])
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"conv3d: padding must be 'valid', 'same' or ints, got "
                             f"{padding!r}")
        if padding == "same" and steps != (1, 1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
        widths = _same_padding(kernel, dil) if padding == "same" else ((0, 0),) * 3
    else:
        widths = tuple((p, p) for p in _triple(padding, "padding"))
    if any(before or after for before, after in widths):
        flat = [v for before_after in reversed(widths) for v in before_after]
        x = pad(x, flat)
    n, c, depth = x.shape[:3]
    out_depth = (depth - dil[0] * (kernel[0] - 1) - 1) // steps[0] + 1
    if out_depth < 1:
        raise ShapeError(f"conv3d: input of padded depth {depth} is smaller than the dilated "
                         f"kernel depth {dil[0] * (kernel[0] - 1) + 1}")
    total = None
    for kd in range(kernel[0]):
        planes = kd * dil[0] + steps[0] * np.arange(out_depth)
        slices = Index.apply(x, (slice(None), slice(None), planes))  # (N, C, Do, H, W)
        stacked = slices.permute(0, 2, 1, 3, 4).reshape(n * out_depth, c, *x.shape[3:])
        part = conv2d(stacked, w[:, :, kd], None, steps[1:], 0, dil[1:], groups)
        total = part if total is None else total + part
    assert total is not None
    out = total.reshape(n, out_depth, *total.shape[1:]).permute(0, 2, 1, 3, 4)
    if b is not None:
        out = out + b.reshape(-1, 1, 1, 1)
    return out
