"""Convolution and pooling: conv1d/conv2d, conv_transpose2d, max/avg/adaptive pooling.

Layout is PyTorch's: images (N, C, H, W), conv weights (out_channels, in_channels/groups,
kH, kW). The window geometry (offsets, padding, im2col) is in ``ops/window.py``.

Stride-1 convolutions (those of most networks, and every input gradient of one) use the
*wide* method of ``ops/conv_wide.py``, which copies nothing per kernel offset.

Otherwise (strides, few input channels, or small images where the wide method's dropped
positions would cost more than the copy) convolution is im2col + matrix product: the offset
slices are copied into ``cols`` of shape (N, C, kH, kW, Ho, Wo), which viewed as
(N, groups, C/groups*kH*kW, Ho*Wo) meets the weight viewed as
(groups, out/groups, C/groups*kH*kW) in one batched ``np.matmul`` whose result is already
(N, out, Ho*Wo), with no transpose of the output.

Three primitives close the convolution family under differentiation (each is bilinear and
the gradient of one is written with the others, so ``create_graph`` works to any order):

- ``Conv2d``          y  = C(x, w)        dx = T(dy, w),  dw = W(x, dy)
- ``ConvTranspose2d`` x' = T(y, w)        dy = C(g, w),   dw = W(g, y)
- ``Conv2dWeight``    w' = W(x, y)        dx = T(y, g),   dy = C(x, g)

where T is the adjoint of x -> C(x, w) (the transposed convolution) and W the adjoint of
w -> C(x, w) (the correlation of the input with the output gradient).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..autograd.function import Primitive
from ..errors import ShapeError
from .conv_wide import (_adjoint_applies, _wide_adjoint, _wide_applies, _wide_conv,
                        _wide_input, _wide_weight)
from .elementwise import _as_tensor
from .window import _Window, _col2im, _crop, _im2col, _pad, _pair
from .workspace import workspace as _workspace

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d", "adaptive_max_pool2d", "adaptive_avg_pool1d",
           "adaptive_max_pool1d", "max_pool1d", "avg_pool1d"]


# -- convolution primitives -------------------------------------------------------------------

def _grouped(weight: np.ndarray, groups: int) -> np.ndarray:
    """(out, in/g, kH, kW) -> (g, out/g, in/g*kH*kW)."""
    return weight.reshape(groups, weight.shape[0] // groups, -1)


def _conv_matmul(x: np.ndarray, weight: np.ndarray, window: _Window) -> tuple:
    """The convolution without bias, and x as the kernel laid it out (the wide input or the
    im2col columns), which ``Conv2dWeight`` can take instead of building it again."""
    if _wide_applies(window, x.shape[2:], x.shape[1], weight.shape[0]):
        wide = _wide_input(x, window)
        return _wide_conv(wide, weight, window), wide
    n, groups = x.shape[0], window.groups
    out_size = window.output_size(x.shape[2:])
    cols = _im2col(x, window, out_size)
    plane = out_size[0] * out_size[1]
    y = np.matmul(_grouped(weight, groups), cols.reshape(n, groups, -1, plane),
                  out=_workspace.empty((n, groups, weight.shape[0] // groups, plane), x.dtype))
    return y.reshape((n, weight.shape[0]) + tuple(out_size)), cols


class Conv2d(Primitive):
    """y[n, o, ho, wo] = b[o] + sum_{c, i, j} w[o, c, i, j] x_pad[n, g(o) C_g + c,
    ho*sh + i*dh, wo*sw + j*dw]   (C_g = in/groups, g(o) the group of output channel o)

    dx = conv_transpose2d(dy, w) (the adjoint in x),  dw = Conv2dWeight(x, dy) (the
    correlation of x with dy),  db = sum of dy over (n, ho, wo).
    """

    name = "conv2d"

    def forward(self, x, weight, bias, window: _Window):
        self.window = window
        # x as laid out for the product is kept for the weight gradient, not built again
        y, self.prepared = _conv_matmul(x, weight, window)
        if bias is not None:
            y += bias.reshape(-1, 1, 1)
        return y

    def backward(self, dy):
        x, weight, bias = self.inputs[:3]
        need_x, need_w, need_b = self.needs_input_grad[:3]
        dx = ConvTranspose2d.apply(dy, weight, self.window, x.shape[2:]) if need_x else None
        dw = Conv2dWeight.apply(x, dy, self.window, prepared=self.prepared) if need_w else None
        db = dy.sum((0, 2, 3)) if need_b else None
        return dx, dw, db


class ConvTranspose2d(Primitive):
    """x = T(y, w): the adjoint of the convolution x -> C(x, w) (conv_transpose2d):
    x_pad[n, c, ho*sh + i*dh, wo*sw + j*dw] += sum_o w[o, c, i, j] y[n, o, ho, wo],
    then the padding is cropped to ``size``.

    dy = C(g, w) (convolution of the incoming gradient),  dw = Conv2dWeight(g, y).
    """

    name = "conv_transpose2d"

    def forward(self, y, weight, window: _Window, size: tuple[int, int]):
        self.window = window
        if _adjoint_applies(window, size, weight.shape[1], weight.shape[0]):
            return _wide_adjoint(y, weight, window, size)
        full = _full_correlation(y, weight, window, size)
        if full is not None:
            return full
        n, _, ho, wo = y.shape
        groups = window.groups
        cols = np.matmul(_grouped(weight, groups).transpose(0, 2, 1),
                         y.reshape(n, groups, -1, ho * wo))
        cols = cols.reshape((n, groups * weight.shape[1]) + window.kernel + (ho, wo))
        return _col2im(cols, window, size)

    def backward(self, g):
        y, weight = self.inputs[:2]
        need_y, need_w = self.needs_input_grad[:2]
        dy = Conv2d.apply(g, weight, None, self.window) if need_y else None
        dw = Conv2dWeight.apply(g, y, self.window) if need_w else None
        return dy, dw


def _full_correlation(y: np.ndarray, weight: np.ndarray, window: _Window, size) -> Any:
    """T(y, w) for stride 1 as a convolution of y (zero-padded by d*(k-1) - padding) with the
    flipped kernel, channels swapped within each group: about twice as fast as matmul +
    col2im, which writes and re-reads a (N, C*kH*kW, Ho*Wo) array. None when it does not
    apply (stride > 1, or padding beyond the dilated kernel)."""
    if window.stride != (1, 1):
        return None
    (kh, kw), (dh, dw), groups = window.kernel, window.dilation, window.groups
    (top_pad, _), (left_pad, _) = window.padding
    top, left = dh * (kh - 1) - top_pad, dw * (kw - 1) - left_pad
    bottom = size[0] - y.shape[2] + dh * (kh - 1) - top
    right = size[1] - y.shape[3] + dw * (kw - 1) - left
    if min(top, left, bottom, right) < 0:
        return None
    out_channels, group_channels = weight.shape[:2]
    flipped = weight[:, :, ::-1, ::-1].reshape(
        groups, out_channels // groups, group_channels, kh, kw).transpose(0, 2, 1, 3, 4)
    flipped = flipped.reshape(groups * group_channels, out_channels // groups, kh, kw)
    full = _Window((kh, kw), (1, 1), ((top, bottom), (left, right)), (dh, dw), groups)
    return _conv_matmul(y, flipped, full)[0]


class Conv2dWeight(Primitive):
    """w' = W(x, y): w'[o, c, i, j] = sum_{n, ho, wo} y[n, o, ho, wo]
    x_pad[n, g(o) C_g + c, ho*sh + i*dh, wo*sw + j*dw] (the weight gradient of conv2d)

    dx = T(y, g) (conv_transpose2d of y with g as weight),  dy = C(x, g).
    """

    name = "conv2d_weight"

    def forward(self, x, y, window: _Window, prepared: np.ndarray | None = None):
        """``prepared``: x as ``_conv_matmul`` laid it out (wide input or columns)."""
        self.window = window
        n, groups = x.shape[0], window.groups
        if _wide_applies(window, x.shape[2:], x.shape[1], y.shape[1]):
            if prepared is None:
                prepared = _wide_input(x, window, stack=False)
            return _wide_weight(prepared, y, window)
        cols = _im2col(x, window, y.shape[2:]) if prepared is None else prepared
        per_sample = np.matmul(y.reshape(n, groups, y.shape[1] // groups, -1),
                               cols.reshape(n, groups, -1, y.shape[2] * y.shape[3])
                               .transpose(0, 1, 3, 2),
                               out=_workspace.empty(
                                   (n, groups, y.shape[1] // groups,
                                    x.shape[1] // groups * window.kernel[0] * window.kernel[1]),
                                   y.dtype))
        weight = per_sample.sum(0) if n > 1 else per_sample[0]
        return weight.reshape((y.shape[1], x.shape[1] // groups) + window.kernel)

    def backward(self, g):
        x, y = self.inputs[:2]
        need_x, need_y = self.needs_input_grad[:2]
        dx = ConvTranspose2d.apply(y, g, self.window, x.shape[2:]) if need_x else None
        dy = Conv2d.apply(x, g, None, self.window) if need_y else None
        return dx, dy


# -- convolution functions ----------------------------------------------------------------------

def _same_padding(kernel: Sequence[int], dilation: Sequence[int]) -> tuple:
    """PyTorch's 'same': total d*(k-1) per dim, the odd one out going to the end."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in totals)


def _conv_args(op: str, x, weight, bias, groups: int):
    x, weight = _as_tensor(x), _as_tensor(weight)
    if weight.dtype.kind != "f":
        raise TypeError(f"{op}: weight must be floating point, got {weight.dtype}")
    if x.dtype != weight.dtype:
        x = x.to(weight.dtype)
    if bias is not None:
        bias = _as_tensor(bias)
        if bias.dtype != weight.dtype:
            bias = bias.to(weight.dtype)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return x, weight, bias, int(groups)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1):
    """2-D cross-correlation of ``input`` (N, C, H, W) or (C, H, W) with ``weight``
    (out, C/groups, kH, kW), as ``torch.nn.functional.conv2d``; ``padding`` may be an int,
    a pair, 'valid' or 'same' (stride 1 only)."""
    x, weight, bias, groups = _conv_args("conv2d", input, weight, bias, groups)
    if x.ndim not in (3, 4):
        raise ShapeError(f"conv2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"shape {x.shape}")
    if x.ndim == 3:
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation,
                      groups).squeeze(0)
    if weight.ndim != 4:
        raise ShapeError(f"conv2d: expected a 4-D weight (out_channels, in_channels/groups, "
                         f"kH, kW), got shape {weight.shape}")
    out_channels, group_channels, kh, kw = weight.shape
    if x.shape[1] != group_channels * groups:
        raise ShapeError(f"conv2d: input of shape {x.shape} has {x.shape[1]} channels but "
                         f"weight of shape {weight.shape} with groups={groups} expects "
                         f"{group_channels * groups}")
    if out_channels % groups:
        raise ShapeError(f"conv2d: weight of shape {weight.shape} has {out_channels} output "
                         f"channels, not divisible by groups={groups}")
    if bias is not None and bias.shape != (out_channels,):
        raise ShapeError(f"conv2d: bias of shape {bias.shape} does not match weight of "
                         f"shape {weight.shape} (expected ({out_channels},))")
    stride = _pair(stride, "stride", "conv2d", 1)
    dilation = _pair(dilation, "dilation", "conv2d", 1)
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0), (0, 0))
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("conv2d: padding='same' is not supported for strided "
                                 "convolutions")
            pads = _same_padding((kh, kw), dilation)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', "
                             f"got {padding!r}")
    else:
        ph, pw = _pair(padding, "padding", "conv2d", 0)
        pads = ((ph, ph), (pw, pw))
    window = _Window((kh, kw), stride, pads, dilation, groups)
    padded = window.padded_size(x.shape[2:])
    if any(p < d * (k - 1) + 1 for p, k, d in zip(padded, (kh, kw), dilation)):
        raise ShapeError(f"conv2d: input of shape {x.shape} padded to {padded} is smaller "
                         f"than the (dilated) kernel of weight shape {weight.shape} "
                         f"(dilation {dilation})")
    return Conv2d.apply(x, weight, bias, window)


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1):
    """1-D cross-correlation of ``input`` (N, C, L) or (C, L) with ``weight``
    (out, C/groups, k): conv2d on a height-1 image."""
    x, weight, bias, groups = _conv_args("conv1d", input, weight, bias, groups)
    if x.ndim not in (2, 3):
        raise ShapeError(f"conv1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{x.shape}")
    if weight.ndim != 3:
        raise ShapeError(f"conv1d: expected a 3-D weight (out_channels, in_channels/groups, "
                         f"k), got shape {weight.shape}")
    if x.shape[-2] != weight.shape[1] * groups:
        raise ShapeError(f"conv1d: input of shape {x.shape} has {x.shape[-2]} channels but "
                         f"weight of shape {weight.shape} with groups={groups} expects "
                         f"{weight.shape[1] * groups}")

    def single(value: Any, name: str) -> int:
        if isinstance(value, (tuple, list)):
            if len(value) != 1:
                raise ValueError(f"conv1d: {name} must be an int or a 1-tuple, got {value!r}")
            value = value[0]
        return value

    padding = padding if isinstance(padding, str) else (0, single(padding, "padding"))
    out = conv2d(x.unsqueeze(-2), weight.unsqueeze(-2), bias, (1, single(stride, "stride")),
                 padding, (1, single(dilation, "dilation")), groups)
    return out.squeeze(-2)


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1,
                     dilation: Any = 1):
    """Transposed 2-D convolution (the adjoint of conv2d), as
    ``torch.nn.functional.conv_transpose2d``: ``weight`` is (in, out/groups, kH, kW)."""
    x, weight, bias, groups = _conv_args("conv_transpose2d", input, weight, bias, groups)
    if x.ndim == 3:
        return conv_transpose2d(x.unsqueeze(0), weight, bias, stride, padding,
                                output_padding, groups, dilation).squeeze(0)
    if x.ndim != 4 or weight.ndim != 4:
        raise ShapeError(f"conv_transpose2d: expected a 4-D input and weight, got shapes "
                         f"{x.shape} and {weight.shape}")
    if x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ShapeError(f"conv_transpose2d: input of shape {x.shape} does not fit weight "
                         f"of shape {weight.shape} with groups={groups}")
    stride = _pair(stride, "stride", "conv_transpose2d", 1)
    dilation = _pair(dilation, "dilation", "conv_transpose2d", 1)
    ph, pw = _pair(padding, "padding", "conv_transpose2d", 0)
    output_padding = _pair(output_padding, "output_padding", "conv_transpose2d", 0)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller "
                         f"than stride {stride} or dilation {dilation}")
    kernel = weight.shape[2:]
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                 zip(x.shape[2:], stride, (ph, pw), dilation, kernel, output_padding))
    if min(size) < 1:
        raise ShapeError(f"conv_transpose2d: input of shape {x.shape} gives an empty output "
                         f"{size}")
    # the window of the convolution it is the adjoint of (output_padding's extra rows and
    # columns are ones that convolution never reads)
    window = _Window(kernel, stride, ((ph, ph), (pw, pw)), dilation, groups)
    out = ConvTranspose2d.apply(x, weight, window, size)
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1)
    return out


# -- pooling primitives ----------------------------------------------------------------------

class MaxPool2d(Primitive):
    """y[n, c, ho, wo] = max_{i, j} x_pad[n, c, ho*sh + i*dh, wo*sw + j*dw] (padding -inf);
    dx = dy routed to the position of each window's (first) maximum.

    The position is kept as the kernel offset k = i*kW + j of the maximum (``argmax``).
    """

    name = "max_pool2d"
    saves_inputs = False

    def forward(self, x, window: _Window):
        self.window, self.size = window, x.shape[2:]
        best, self.argmax = _max_and_argmax(x, window)
        return best

    def backward(self, dy):
        return _MaxPoolScatter.apply(dy, self.argmax, self.window, self.size)


def _max_and_argmax(x: np.ndarray, window: _Window) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum (NaN if it holds one, as in PyTorch) and the kernel offset
    i*kW + j where it sits (the first one on ties)."""
    xp = _pad(x, window.padding, -np.inf)
    offsets = window.offsets(window.output_size(x.shape[2:]))
    first = xp[offsets[0][2]]
    best = _workspace.empty(first.shape, first.dtype)
    np.copyto(best, first)
    for _, _, index in offsets[1:]:
        np.maximum(best, xp[index], out=best)
    # a second pass finds where: branch-free boolean arithmetic, much faster than
    # copyto(where=) with a mixed mask
    kind = np.int8 if len(offsets) < 128 else np.int32
    argmax = np.zeros(best.shape, dtype=kind)
    found = xp[offsets[0][2]] == best
    for k, (_, _, index) in enumerate(offsets[1:], start=1):
        hit = xp[index] == best
        hit &= ~found
        found |= hit
        argmax += hit.astype(kind) * kind(k)
    return best, argmax


def _flat_indices(argmax: np.ndarray, window: _Window, size) -> np.ndarray:
    """PyTorch's return_indices: the flat index h*W + w of each maximum in its plane."""
    (_, kw), (sh, sw), (dh, dw) = window.kernel, window.stride, window.dilation
    (top, _), (left, _) = window.padding
    ho, wo = argmax.shape[-2:]
    rows = (np.arange(ho) * sh - top)[:, None] + (argmax // kw) * dh
    cols = (np.arange(wo) * sw - left) + (argmax % kw) * dw
    return (rows.astype(np.int64) * size[1] + cols).astype(np.int64)


class _MaxPoolScatter(Primitive):
    """x = zeros of the pooled input's shape with y[n, c, ho, wo] added at the position of
    window (ho, wo)'s maximum;  dy = g gathered at those positions."""

    name = "max_pool2d_backward"
    saves_inputs = False

    def forward(self, y, argmax, window: _Window, size):
        self.argmax, self.window = argmax, window
        padded = window.padded_size(size)
        xp = _workspace.empty(y.shape[:2] + padded, y.dtype)
        disjoint = all(s >= d * (k - 1) + 1 for k, s, d in
                       zip(window.kernel, window.stride, window.dilation))
        # windows that tile the image exactly write every pixel once: no zeroing needed
        tiling = disjoint and window.dilation == (1, 1) and window.kernel == window.stride \
            and all(n == o * s for n, o, s in zip(padded, y.shape[2:], window.stride))
        if not tiling:
            xp.fill(0)
        for k, (_, _, index) in enumerate(window.offsets(y.shape[2:])):
            if disjoint:  # each pixel is in one window at most: write, don't add
                np.multiply(argmax == k, y, out=xp[index])
            else:
                xp[index] += (argmax == k) * y
        return _crop(xp, window.padding, size)

    def backward(self, g):
        return _MaxPoolGather.apply(g, self.argmax, self.window)


class _MaxPoolGather(Primitive):
    """y[n, c, ho, wo] = x_pad at the position of window (ho, wo)'s maximum;
    dx = y scattered back (the adjoint, _MaxPoolScatter)."""

    name = "max_pool2d_gather"
    saves_inputs = False

    def forward(self, x, argmax, window: _Window):
        self.argmax, self.window, self.size = argmax, window, x.shape[2:]
        xp = _pad(x, window.padding)
        out = np.zeros(argmax.shape, dtype=x.dtype)
        for k, (_, _, index) in enumerate(window.offsets(argmax.shape[2:])):
            out += (argmax == k) * xp[index]
        return out

    def backward(self, dy):
        return _MaxPoolScatter.apply(dy, self.argmax, self.window, self.size)


class AvgPool2d(Primitive):
    """y[n, c, ho, wo] = sum_{i, j} x_pad[n, c, ho*sh + i, wo*sw + j] / divisor[ho, wo];
    dx = the adjoint: dy / divisor added back to every position of each window."""

    name = "avg_pool2d"
    saves_inputs = False

    def forward(self, x, window: _Window, divisor: np.ndarray):
        self.window, self.divisor, self.size = window, divisor, x.shape[2:]
        xp = _pad(x, window.padding)
        out = None
        for _, _, index in window.offsets(divisor.shape):
            out = xp[index].copy() if out is None else np.add(out, xp[index], out=out)
        out *= (1.0 / divisor).astype(x.dtype)
        return out

    def backward(self, dy):
        return _AvgPoolTranspose.apply(dy, self.window, self.divisor, self.size)


class _AvgPoolTranspose(Primitive):
    """x_pad[n, c, ho*sh + i, wo*sw + j] += y[n, c, ho, wo] / divisor[ho, wo], cropped;
    dy = avg_pool2d of g (the adjoint)."""

    name = "avg_pool2d_backward"
    saves_inputs = False

    def forward(self, y, window: _Window, divisor: np.ndarray, size):
        self.window, self.divisor = window, divisor
        share = y * (1.0 / divisor).astype(y.dtype)
        xp = np.zeros(y.shape[:2] + window.padded_size(size), dtype=y.dtype)
        for _, _, index in window.offsets(divisor.shape):
            xp[index] += share
        return _crop(xp, window.padding, size)

    def backward(self, g):
        return AvgPool2d.apply(g, self.window, self.divisor)


# -- pooling functions ------------------------------------------------------------------------

def _pool_window(op: str, x, kernel_size, stride, padding, dilation, ceil_mode) -> _Window:
    """Check the arguments and build the window, with ceil mode's overhang as extra
    bottom/right padding (PyTorch: the last window must start inside the input or the
    left padding)."""
    kernel = _pair(kernel_size, "kernel_size", op, 1)
    stride = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) \
        else _pair(stride, "stride", op, 1)
    pad = _pair(padding, "padding", op, 0)
    dilation = _pair(dilation, "dilation", op, 1)
    effective = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(f"{op}: padding {pad} should be at most half of kernel size "
                         f"{kernel}")
    extra = []
    for n, k, s, p in zip(x.shape[-2:], effective, stride, pad):
        if n + 2 * p < k:
            raise ShapeError(f"{op}: input of shape {x.shape} padded by {pad} is smaller "
                             f"than the (dilated) kernel {kernel}")
        if ceil_mode:
            out = -(-(n + 2 * p - k) // s) + 1
            if (out - 1) * s >= n + p:
                out -= 1
        else:
            out = (n + 2 * p - k) // s + 1
        extra.append((out - 1) * s + k - (n + 2 * p))
    return _Window(kernel, stride, ((pad[0], pad[0] + max(extra[0], 0)),
                                    (pad[1], pad[1] + max(extra[1], 0))), dilation)


def _pool_input(op: str, input: Any):  # noqa: A002
    x = _as_tensor(input)
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    return x


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False):
    """Maximum over each kernel window (padding counts as -inf), as
    ``torch.nn.functional.max_pool2d``; with ``return_indices`` also the flat index
    (h * W + w) of each maximum in its input plane."""
    x = _pool_input("max_pool2d", input)
    if x.ndim == 3:
        result = max_pool2d(x.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode,
                            return_indices)
        if return_indices:
            return result[0].squeeze(0), result[1].squeeze(0)
        return result.squeeze(0)
    window = _pool_window("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    out = MaxPool2d.apply(x, window)
    if not return_indices:
        return out
    from ..tensor import Tensor
    # without a recorded graph there is no node holding the argmax: find it again
    argmax = out._ctx.argmax if isinstance(out._ctx, MaxPool2d) else \
        _max_and_argmax(x.data, window)[1]
    return out, Tensor._wrap(_flat_indices(argmax, window, x.shape[2:]), False)


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None):
    """Mean over each kernel window, as ``torch.nn.functional.avg_pool2d``: the divisor is
    the window's size, without the padding if ``count_include_pad`` is false (and never
    counting ceil mode's overhang), or ``divisor_override``."""
    x = _pool_input("avg_pool2d", input)
    if x.ndim == 3:
        return avg_pool2d(x.unsqueeze(0), kernel_size, stride, padding, ceil_mode,
                          count_include_pad, divisor_override).squeeze(0)
    window = _pool_window("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)
    out_size = window.output_size(x.shape[2:])
    if divisor_override is not None:
        if divisor_override == 0:
            raise ValueError("avg_pool2d: divisor_override must be non-zero")
        divisor = np.full(out_size, float(divisor_override))
    else:
        # count, for each window, the positions that are input (or real padding)
        (top, _), (left, _) = window.padding
        counted = np.zeros(window.padded_size(x.shape[2:]))
        h, w = x.shape[2:]
        if count_include_pad:
            counted[:h + 2 * top, :w + 2 * left] = 1
        else:
            counted[top:top + h, left:left + w] = 1
        divisor = np.zeros(out_size)
        for _, _, index in window.offsets(out_size):
            divisor += counted[index[1:]]
    return AvgPool2d.apply(x, window, divisor)


def _adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive bins of a dim: [floor(i*size/out), ceil((i+1)*size/out))."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) averaging matrix over the adaptive bins."""
    matrix = np.zeros((out, size), dtype=dtype)
    for i, (start, end) in enumerate(_adaptive_bins(size, out)):
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def _adaptive_output_size(op: str, x, output_size: Any) -> tuple[int, int]:
    """``output_size`` (an int, a pair, None keeping a dim) as a pair of positive ints."""
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    output_size = tuple(x.shape[-2 + i] if s is None else int(s)
                        for i, s in enumerate(output_size))
    if len(output_size) != 2 or min(output_size) < 1:
        raise ValueError(f"{op}: output_size must be a positive int or pair, got "
                         f"{output_size!r}")
    return output_size  # type: ignore[return-value]


def adaptive_avg_pool2d(input: Any, output_size: Any):  # noqa: A002
    """Average over PyTorch's adaptive bins so the output is ``output_size`` (an int, a pair,
    None keeping a dim): avg_pool2d when the bins tile evenly, else the composite
    P_h @ x @ P_w^T with fixed averaging matrices (differentiable to any order)."""
    x = _pool_input("adaptive_avg_pool2d", input)
    output_size = _adaptive_output_size("adaptive_avg_pool2d", x, output_size)
    (h, w), (ho, wo) = x.shape[-2:], output_size
    if output_size == (1, 1):
        return x.mean((-2, -1), keepdim=True)
    if h % ho == 0 and w % wo == 0:
        return avg_pool2d(x, (h // ho, w // wo))
    rows = _as_tensor(_adaptive_matrix(h, ho, x.dtype))
    cols = _as_tensor(_adaptive_matrix(w, wo, x.dtype).T.copy())
    return rows @ (x @ cols)


def _adaptive_argmax(x: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """The flat index h*W + w, in its (H, W) plane, of each adaptive bin's maximum: the
    first in row-major order on ties (and the first NaN, if any). The maximum over a bin
    is taken along each row's column bins first, then along the row bins of those row
    maxima, which keeps row-major order: the first row that holds the bin's maximum,
    and in it the first column that does. One NumPy reduction per output row and column,
    none per pixel."""
    (h, w), (ho, wo), lead = x.shape[-2:], output_size, x.shape[:-2]
    row_max = np.empty(lead + (h, wo), dtype=x.dtype)
    row_arg = np.empty(lead + (h, wo), dtype=np.int64)
    for j, (start, end) in enumerate(_adaptive_bins(w, wo)):
        block = x[..., start:end]
        row_arg[..., j] = block.argmax(-1) + start
        row_max[..., j] = block.max(-1)
    index = np.empty(lead + (ho, wo), dtype=np.int64)
    for i, (start, end) in enumerate(_adaptive_bins(h, ho)):
        rows = row_max[..., start:end, :].argmax(-2) + start  # (..., Wo)
        cols = np.take_along_axis(row_arg, rows[..., None, :], -2)[..., 0, :]
        index[..., i, :] = rows * w + cols
    return index


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False):  # noqa: A002
    """Maximum over PyTorch's adaptive bins so the output is ``output_size`` (an int, a
    pair, None keeping a dim), as ``torch.nn.functional.adaptive_max_pool2d``; with
    ``return_indices``, also the flat index h*W + w of each maximum in its plane.

    The value is x gathered at those indices (``gather``), so the gradient goes to each
    bin's maximum, adding up where bins overlap, to any order."""
    from ..tensor import Tensor
    from .shape import gather
    x = _pool_input("adaptive_max_pool2d", input)
    output_size = _adaptive_output_size("adaptive_max_pool2d", x, output_size)
    index = _adaptive_argmax(x.data, output_size)
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    out = gather(x.reshape(lead + (h * w,)), -1, index.reshape(lead + (-1,)))
    out = out.reshape(lead + output_size)
    return (out, Tensor._wrap(index, False)) if return_indices else out


def _length(op: str, output_size: Any) -> int:
    """A 1-D output_size (an int or a 1-sequence) as an int."""
    if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
        return int(output_size)
    if isinstance(output_size, (tuple, list)) and len(output_size) == 1:
        return _length(op, output_size[0])
    raise ValueError(f"{op}: output_size must be an int, got {output_size!r}")


def adaptive_avg_pool1d(input: Any, output_size: Any):  # noqa: A002
    """adaptive_avg_pool2d over a height-1 image: input (N, C, L) or (C, L)."""
    size = _length("adaptive_avg_pool1d", output_size)
    return adaptive_avg_pool2d(_as_tensor(input).unsqueeze(-2), (1, size)).squeeze(-2)


def adaptive_max_pool1d(input: Any, output_size: Any, return_indices: bool = False):  # noqa: A002
    """adaptive_max_pool2d over a height-1 image: input (N, C, L) or (C, L); the indices are
    positions along L."""
    size = _length("adaptive_max_pool1d", output_size)
    result = adaptive_max_pool2d(_as_tensor(input).unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False):
    """max_pool2d over a height-1 image: input (N, C, L) or (C, L)."""
    x = _as_tensor(input)
    one = lambda v: (1, v if isinstance(v, (int, np.integer)) else v[0])  # noqa: E731
    result = max_pool2d(x.unsqueeze(-2), one(kernel_size),
                        None if stride is None else one(stride), (0, one(padding)[1]),
                        one(dilation), ceil_mode, return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
               ceil_mode: bool = False, count_include_pad: bool = True):
    """avg_pool2d over a height-1 image: input (N, C, L) or (C, L)."""
    x = _as_tensor(input)
    one = lambda v: (1, v if isinstance(v, (int, np.integer)) else v[0])  # noqa: E731
    return avg_pool2d(x.unsqueeze(-2), one(kernel_size), None if stride is None else one(stride),
                      (0, one(padding)[1]), ceil_mode, count_include_pad).squeeze(-2)

