"""Convolution: conv1d/conv2d and conv_transpose2d (pooling is in ``ops/pooling.py``).

Layout is PyTorch's: images (N, C, H, W), conv weights (out_channels, in_channels/groups,
kH, kW). The window geometry (offsets, padding, im2col) is in ``ops/window.py``.

Stride-1 3x3 convolutions with enough channels use Winograd's F(2x2, 3x3)
(``ops/winograd.py``: 16 multiplications per 2x2 outputs instead of 36), for the forward
and both gradients. Other stride-1 convolutions (and every input gradient of one) use the
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
from ..compiler import kernel
from ..dtypes import DType
from ..errors import ShapeError
from .conv_wide import (_adjoint_applies, _wide_adjoint, _wide_applies, _wide_conv,
                        _wide_input, _wide_weight)
from .elementwise import _as_tensor
from .window import _Window, _col2im, _im2col, _pair
from .winograd import all_finite, winograd_adjoint, winograd_applies, winograd_backward, \
    winograd_conv, winograd_weight
from .workspace import workspace as _workspace

__all__ = ["conv1d", "conv2d", "conv_transpose2d"]


# -- convolution primitives -------------------------------------------------------------------

def _grouped(weight: np.ndarray, groups: int) -> np.ndarray:
    """(out, in/g, kH, kW) -> (g, out/g, in/g*kH*kW)."""
    return weight.reshape(groups, weight.shape[0] // groups, -1)


def _conv_matmul(x: np.ndarray, weight: np.ndarray, window: _Window) -> tuple:
    """The convolution without bias, and x as the kernel laid it out (the wide input or the
    im2col columns; None where Winograd's geometry applies), which ``Conv2dWeight`` can take
    instead of building it again."""
    if winograd_applies(window, x.shape[2:], x.shape[1], weight.shape[0], x.shape[0],
                        x.dtype):
        return _winograd_conv_or_direct(x, weight, window), None
    return _direct_conv(x, weight, window)


# The Winograd kernels choose their method on the values (Winograd's transforms turn an
# infinity into NaN where the direct sum gives +-inf: such inputs take a direct method).
# Each choice with what it computes is one ``compiler.kernel``, so that a compiled step
# chooses again at each replay, on the replay's data; both ways give arrays of the same
# layout (C-contiguous), as a replay expects.

@kernel
def _winograd_conv_or_direct(x: np.ndarray, weight: np.ndarray, window: _Window) -> np.ndarray:
    """C(x, w) by Winograd's F(2x2, 3x3) if x and w are finite, else by a direct method."""
    if all_finite(x, weight):
        return np.ascontiguousarray(winograd_conv(x, weight, window))
    return np.ascontiguousarray(_direct_conv(x, weight, window)[0])


def _direct_conv(x: np.ndarray, weight: np.ndarray, window: _Window) -> tuple:
    """``_conv_matmul`` by the wide method or im2col (no Winograd)."""
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
    reads_inputs = staticmethod(lambda needs: (needs[1], needs[0], False))

    def forward(self, x, weight, bias, window: _Window):
        self.window = window
        # x as laid out for the product is kept for the weight gradient, not built again
        y, self.prepared = _conv_matmul(x, weight, window)
        if bias is not None:
            y += bias.reshape(-1, 1, 1)
        return y

    def backward(self, xp, dy):
        x, weight = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        need_x, need_w, need_b = self.needs_input_grad[:3]
        if xp.arrays and need_x and need_w and self.prepared is None and winograd_applies(
                self.window, x.shape[2:], x.shape[1], weight.shape[0], x.shape[0], x.dtype):
            # fast path: the two Winograd adjoints below in one pass, sharing A dy A^T
            dx, dw = _winograd_backward_or_direct(x, dy, weight, self.window)
            return dx, dw, (xp.sum(dy, (0, 2, 3)) if need_b else None)
        dx = xp.apply(ConvTranspose2d, dy, weight, self.window, x.shape[2:]) if need_x else None
        dw = xp.apply(Conv2dWeight, x, dy, self.window, prepared=self.prepared) \
            if need_w else None
        db = xp.sum(dy, (0, 2, 3)) if need_b else None
        return dx, dw, db


@kernel
def _winograd_backward_or_direct(x: np.ndarray, dy: np.ndarray, weight: np.ndarray,
                                 window: _Window) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dw) = (T(dy, w), W(x, dy)) by ``winograd_backward`` if x, dy and w are finite,
    else each as ``ConvTranspose2d`` and ``Conv2dWeight`` compute it."""
    if all_finite(x, dy, weight):
        dx, dw = winograd_backward(x, dy, weight, window)
    else:
        dx = _conv_transpose(dy, weight, window, x.shape[2:])
        dw = _winograd_weight_or_direct(x, dy, window)
    return np.ascontiguousarray(dx), np.ascontiguousarray(dw)


class ConvTranspose2d(Primitive):
    """x = T(y, w): the adjoint of the convolution x -> C(x, w) (conv_transpose2d):
    x_pad[n, c, ho*sh + i*dh, wo*sw + j*dw] += sum_o w[o, c, i, j] y[n, o, ho, wo],
    then the padding is cropped to ``size``.

    dy = C(g, w) (convolution of the incoming gradient),  dw = Conv2dWeight(g, y).
    """

    name = "conv_transpose2d"

    def forward(self, y, weight, window: _Window, size: tuple[int, int]):
        self.window = window
        return _conv_transpose(y, weight, window, size)

    def backward(self, xp, g):
        y, weight = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        need_y, need_w = self.needs_input_grad[:2]
        dy = xp.apply(Conv2d, g, weight, None, self.window) if need_y else None
        dw = xp.apply(Conv2dWeight, g, y, self.window) if need_w else None
        return dy, dw


@kernel
def _conv_transpose(y: np.ndarray, weight: np.ndarray, window: _Window,
                    size: tuple[int, int]) -> np.ndarray:
    """T(y, w) (C-contiguous), its method chosen on the values: Winograd's if it applies
    and y and w are finite; a fast direct method if w is finite; else matmul + col2im."""
    if (winograd_applies(window, size, weight.shape[1], weight.shape[0], y.shape[0],
                         y.dtype) and window.output_size(size) == y.shape[2:]
            and all_finite(y, weight)):
        return np.ascontiguousarray(winograd_adjoint(y, weight, window, size))
    # The two fast paths multiply w by zeros around y, which an infinite w turns into
    # NaN; matmul + col2im below only adds real products (PyTorch's input gradient).
    if np.isfinite(weight).all():
        if _adjoint_applies(window, size, weight.shape[1], weight.shape[0]):
            return np.ascontiguousarray(_wide_adjoint(y, weight, window, size))
        full = _full_correlation(y, weight, window, size)
        if full is not None:
            return np.ascontiguousarray(full)
    n, _, ho, wo = y.shape
    groups = window.groups
    cols = np.matmul(_grouped(weight, groups).transpose(0, 2, 1),
                     y.reshape(n, groups, -1, ho * wo))
    cols = cols.reshape((n, groups * weight.shape[1]) + window.kernel + (ho, wo))
    return np.ascontiguousarray(_col2im(cols, window, size))


def _full_correlation(y: np.ndarray, weight: np.ndarray, window: _Window, size) -> Any:
    """T(y, w) for stride 1 as a convolution of y (zero-padded by d*(k-1) - padding) with the
    flipped kernel, channels swapped within each group: faster than matmul + col2im,
    which writes and re-reads a (N, C*kH*kW, Ho*Wo) array. None when it does not apply
    (stride > 1, or padding beyond the dilated kernel)."""
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
        if winograd_applies(window, x.shape[2:], x.shape[1], y.shape[1], x.shape[0], x.dtype):
            return _winograd_weight_or_direct(x, y, window)
        return _direct_weight(x, y, window, prepared)

    def backward(self, xp, g):
        x, y = xp.value(self.inputs[0]), xp.value(self.inputs[1])
        need_x, need_y = self.needs_input_grad[:2]
        dx = xp.apply(ConvTranspose2d, y, g, self.window, x.shape[2:]) if need_x else None
        dy = xp.apply(Conv2d, x, g, None, self.window) if need_y else None
        return dx, dy


@kernel
def _winograd_weight_or_direct(x: np.ndarray, y: np.ndarray, window: _Window) -> np.ndarray:
    """W(x, y) by Winograd's F(2x2, 3x3) if x and y are finite, else by a direct method."""
    if all_finite(x, y):
        return np.ascontiguousarray(winograd_weight(x, y, window))
    return np.ascontiguousarray(_direct_weight(x, y, window, None))


def _direct_weight(x: np.ndarray, y: np.ndarray, window: _Window,
                   prepared: np.ndarray | None) -> np.ndarray:
    """W(x, y) by the wide method or im2col (``prepared``: x as the forward laid it out)."""
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


# -- convolution functions ----------------------------------------------------------------------

def _same_padding(kernel: Sequence[int], dilation: Sequence[int]) -> tuple:
    """PyTorch's 'same': total d*(k-1) per dim, the odd one out going to the end."""
    totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in totals)


def _conv_args(op: str, x, weight, bias, groups: int):
    _check_dtypes(op, x, weight, bias)
    x, weight = _as_tensor(x), _as_tensor(weight)
    if weight.dtype.kind != "f":
        raise TypeError(f"{op}: weight must be floating point, got {weight.dtype}")
    dtype = _result_dtype(x, weight)
    if x.dtype != dtype:  # an array or a list: read in the weight's dtype
        x = x.to(dtype)
    if bias is not None:
        bias = _as_tensor(bias)
        if bias.dtype != dtype:
            bias = bias.to(dtype)
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    return x, weight, bias, int(groups)


def _result_dtype(x: Any, weight: Any) -> DType:
    """The weight's dtype, but a floating input without values keeps its own: PyTorch
    returns an empty batch in the input's dtype without reading the weight."""
    from ..tensor import Tensor
    if isinstance(x, Tensor) and x.data.size == 0 and x.dtype.kind == "f":
        return x.dtype
    return weight.dtype


def _check_dtypes(op: str, x: Any, weight: Any, bias: Any) -> None:
    """Tensors of another dtype than the weight are an error, as in PyTorch (a float64 batch
    into a float32 model would otherwise run silently in float64). An empty batch is not
    checked against the weight (PyTorch's neither), but conv's bias must match it."""
    from ..tensor import Tensor
    if isinstance(x, Tensor) and x.data.size == 0:
        if op != "conv_transpose2d" and x.dtype.kind == "f" and isinstance(bias, Tensor) \
                and bias.dtype != x.dtype:
            raise RuntimeError(f"{op}: input dtype {x.dtype} and bias dtype {bias.dtype} "
                               f"should be the same")
        return
    for name, value in (("input", x), ("bias", bias)):
        if isinstance(value, Tensor) and isinstance(weight, Tensor) and \
                value.dtype != weight.dtype:
            raise RuntimeError(f"{op}: {name} dtype {value.dtype} does not match weight dtype "
                               f"{weight.dtype}; convert it (.to(dtype), .float(), "
                               f".double())")


def _no_values(op: str, x, weight, bias, shape: tuple):
    """The convolution of an input without values (a batch of 0): zeros of the output's
    ``shape`` plus the bias. The input and the weight get zero gradients, selected, not
    multiplied (an infinite dy must not make them NaN)."""
    from .elementwise import Where
    from .reduce import sum as _sum
    if x.shape[1] == 0:
        raise ShapeError(f"{op}: input of shape {tuple(x.shape)} has no channels")
    out = Where.apply(np.zeros((), dtype=bool), _sum(x) + _sum(weight).to(x.dtype),
                      np.zeros(shape, dtype=x.dtype))
    return out if bias is None else out + bias.reshape(-1, 1, 1)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1):
    """2-D cross-correlation of ``input`` (N, C, H, W) or (C, H, W) with ``weight``
    (out, C/groups, kH, kW), as ``torch.nn.functional.conv2d``; ``padding`` may be an int,
    a pair, 'valid' or 'same' (stride 1 only)."""
    x, weight, bias, groups = _conv_args("conv2d", input, weight, bias, groups)
    if x.ndim not in (3, 4):
        raise ShapeError(f"conv2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"shape {tuple(x.shape)}")
    if x.ndim == 3:
        return conv2d(x.unsqueeze(0), weight, bias, stride, padding, dilation,
                      groups).squeeze(0)
    if weight.ndim != 4:
        raise ShapeError(f"conv2d: expected a 4-D weight (out_channels, in_channels/groups, "
                         f"kH, kW), got shape {tuple(weight.shape)}")
    out_channels, group_channels, kh, kw = weight.shape
    if out_channels == 0:
        raise ShapeError(f"conv2d: weight of shape {tuple(weight.shape)} has no output "
                         f"channels")
    if x.shape[1] != group_channels * groups:
        raise ShapeError(f"conv2d: input of shape {tuple(x.shape)} has {x.shape[1]} channels but "
                         f"weight of shape {tuple(weight.shape)} with groups={groups} expects "
                         f"{group_channels * groups}")
    if out_channels % groups:
        raise ShapeError(f"conv2d: weight of shape {tuple(weight.shape)} has {out_channels} output "
                         f"channels, not divisible by groups={groups}")
    if bias is not None and bias.shape != (out_channels,):
        raise ShapeError(f"conv2d: bias of shape {tuple(bias.shape)} does not match weight of "
                         f"shape {tuple(weight.shape)} (expected ({out_channels},))")
    if kh == 0 or kw == 0:
        raise ShapeError(f"conv2d: kernel size should be greater than zero, got weight of "
                         f"shape {tuple(weight.shape)}")
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
        raise ShapeError(f"conv2d: input of shape {tuple(x.shape)} padded to {padded} is smaller "
                         f"than the (dilated) kernel of weight shape {tuple(weight.shape)} "
                         f"(dilation {dilation})")
    if x.data.size == 0:
        shape = (x.shape[0], out_channels) + tuple(window.output_size(x.shape[2:]))
        return _no_values("conv2d", x, weight, bias, shape)
    return Conv2d.apply(x, weight, bias, window)


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1,  # noqa: A002
           padding: Any = 0, dilation: Any = 1, groups: int = 1):
    """1-D cross-correlation of ``input`` (N, C, L) or (C, L) with ``weight``
    (out, C/groups, k): conv2d on a height-1 image."""
    x, weight, bias, groups = _conv_args("conv1d", input, weight, bias, groups)
    if x.ndim not in (2, 3):
        raise ShapeError(f"conv1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got shape "
                         f"{tuple(x.shape)}")
    if weight.ndim != 3:
        raise ShapeError(f"conv1d: expected a 3-D weight (out_channels, in_channels/groups, "
                         f"k), got shape {tuple(weight.shape)}")
    if x.shape[-2] != weight.shape[1] * groups:
        raise ShapeError(f"conv1d: input of shape {tuple(x.shape)} has {x.shape[-2]} channels but "
                         f"weight of shape {tuple(weight.shape)} with groups={groups} expects "
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
                         f"{tuple(x.shape)} and {tuple(weight.shape)}")
    if x.shape[1] != weight.shape[0] or weight.shape[0] % groups:
        raise ShapeError(f"conv_transpose2d: input of shape {tuple(x.shape)} does not fit weight "
                         f"of shape {tuple(weight.shape)} with groups={groups}")
    stride = _pair(stride, "stride", "conv_transpose2d", 1)
    dilation = _pair(dilation, "dilation", "conv_transpose2d", 1)
    ph, pw = _pair(padding, "padding", "conv_transpose2d", 0)
    output_padding = _pair(output_padding, "output_padding", "conv_transpose2d", 0)
    if any(op >= max(s, d) for op, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"conv_transpose2d: output_padding {output_padding} must be smaller "
                         f"than stride {stride} or dilation {dilation}")
    kernel = weight.shape[2:]
    if bias is not None and tuple(bias.shape) != (weight.shape[1] * groups,):
        raise ShapeError(f"conv_transpose2d: bias of shape {tuple(bias.shape)} does not match "
                         f"weight of shape {tuple(weight.shape)} with groups={groups}")
    size = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                 zip(x.shape[2:], stride, (ph, pw), dilation, kernel, output_padding))
    if min(size) < (0 if x.shape[0] == 0 else 1):  # an empty batch may give empty planes
        raise ShapeError(f"conv_transpose2d: input of shape {tuple(x.shape)} gives an empty output "
                         f"{size}")
    # the window of the convolution it is the adjoint of (output_padding's extra rows and
    # columns are ones that convolution never reads)
    window = _Window(kernel, stride, ((ph, ph), (pw, pw)), dilation, groups)
    if x.data.size == 0:
        shape = (x.shape[0], weight.shape[1] * groups) + size
        return _no_values("conv_transpose2d", x, weight, bias, shape)
    out = ConvTranspose2d.apply(x, weight, window, size)
    if bias is not None:
        out = out + bias.reshape(-1, 1, 1)
    return out
