"""Pooling: max/avg pooling in 1-D and 2-D, and adaptive pooling.

Layout is PyTorch's: images (N, C, H, W). The window geometry (offsets, padding) is shared
with convolution, in ``ops/window.py``. Each pooling primitive has its adjoint as a
primitive too (max pooling scatters to, and gathers from, each window's maximum; average
pooling spreads each mean back over its window), so the gradients of any order are
written with them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..errors import ShapeError
from ..compiler import kernel
from .elementwise import _as_tensor
from .window import _Window, _crop, _pad, _pair
from .workspace import workspace as _workspace

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
           "adaptive_avg_pool1d", "adaptive_max_pool1d", "max_pool1d", "avg_pool1d"]


# -- pooling primitives ----------------------------------------------------------------------

class MaxPool2d(Primitive):
    """y[n, c, ho, wo] = max_{i, j} x_pad[n, c, ho*sh + i*dh, wo*sw + j*dw] (padding -inf);
    dx = dy routed to the position of each window's maximum (the first one, or the last
    NaN, as PyTorch picks them).

    The position is kept as the kernel offset k = i*kW + j of the maximum (``argmax``).
    """

    name = "max_pool2d"
    saves_inputs = False

    def forward(self, x, window: _Window):
        self.window, self.size = window, x.shape[2:]
        best, self.argmax = _max_and_argmax(x, window)
        return best

    def backward(self, xp, dy):
        return xp.apply(_MaxPoolScatter, dy, self.argmax, self.window, self.size)


def _max_and_argmax(x: np.ndarray, window: _Window) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum (NaN if it holds one, as in PyTorch) and the kernel offset
    i*kW + j where it sits: the first one on ties, the last NaN where there is one
    (PyTorch's kernel takes any NaN it meets)."""
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
    if best.dtype.kind == "f":
        _nan_positions(xp, best, [index for _, _, index in offsets], out=argmax)
    return best, argmax


@kernel  # one call in a compiled step: the check for NaN is made at each replay
def _nan_positions(xp: np.ndarray, best: np.ndarray, windows: list, out: np.ndarray) -> None:
    """Where a window holds a NaN (its maximum is NaN), ``out`` takes the position of its
    last NaN."""
    if np.isnan(best).any():
        for k, index in enumerate(windows):
            np.copyto(out, out.dtype.type(k), where=np.isnan(xp[index]))


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
        offsets = window.offsets(y.shape[2:])
        if disjoint and y.dtype.itemsize in (1, 2, 4, 8):
            _route_bits(y, argmax, xp, offsets)
            return _crop(xp, window.padding, size)
        # the routed values are selected, not multiplied by the mask: an infinite y must
        # not put NaN where it does not go
        zero = np.zeros((), dtype=y.dtype)
        for k, (_, _, index) in enumerate(offsets):
            if disjoint:  # each pixel is in one window at most: write, don't add
                xp[index] = np.where(argmax == k, y, zero)
            else:
                xp[index] += np.where(argmax == k, y, zero)
        return _crop(xp, window.padding, size)

    def backward(self, xp, g):
        return xp.apply(_MaxPoolGather, g, self.argmax, self.window)


def _route_bits(y: np.ndarray, argmax: np.ndarray, xp: np.ndarray, offsets: list) -> None:
    """Fast path of the disjoint case of ``_MaxPoolScatter.forward``: xp[offset k] =
    where(argmax == k, y, +0), as a bitwise and of y's bits with a mask of all ones or all
    zeros, so values pass bit for bit (inf and NaN included) and the rest are +0. Written
    straight into xp's strided positions, several times faster than np.where's temporary
    and copy (benchmarks/RESULTS.md, "The CNN step with Winograd and batch norm + ReLU")."""
    kind = np.dtype(f"i{y.itemsize}")
    source = np.ascontiguousarray(y).view(kind)
    hit = np.empty(argmax.shape, np.bool_)
    keep = np.empty(argmax.shape, kind)
    for k, (_, _, index) in enumerate(offsets):
        np.equal(argmax, k, out=hit)
        np.negative(hit.view(np.int8), out=keep)  # True -> -1: all bits set
        np.bitwise_and(source, keep, out=xp[index].view(kind))


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
            np.copyto(out, xp[index], where=argmax == k)
        return out

    def backward(self, xp, dy):
        return xp.apply(_MaxPoolScatter, dy, self.argmax, self.window, self.size)


def _accumulation_dtype(dtype: np.dtype) -> np.dtype:
    """float16 windows are summed in float32, as PyTorch's CPU kernels do (a window of
    65504 and 88 averages to 32796, where a float16 sum overflows to inf)."""
    return np.dtype(np.float32) if dtype == np.float16 else dtype


class AvgPool2d(Primitive):
    """y[n, c, ho, wo] = sum_{i, j} x_pad[n, c, ho*sh + i, wo*sw + j] / divisor[ho, wo];
    dx = the adjoint: dy / divisor added back to every position of each window."""

    name = "avg_pool2d"
    saves_inputs = False

    def forward(self, x, window: _Window, divisor: np.ndarray):
        self.window, self.divisor, self.size = window, divisor, x.shape[2:]
        xp = _pad(x, window.padding)
        wide = _accumulation_dtype(x.dtype)
        out = None
        for _, _, index in window.offsets(divisor.shape):
            out = xp[index].astype(wide) if out is None else np.add(out, xp[index], out=out)
        out *= (1.0 / divisor).astype(wide)
        return out.astype(x.dtype, copy=False)

    def backward(self, xp, dy):
        return xp.apply(_AvgPoolTranspose, dy, self.window, self.divisor, self.size)


class _AvgPoolTranspose(Primitive):
    """x_pad[n, c, ho*sh + i, wo*sw + j] += y[n, c, ho, wo] / divisor[ho, wo], cropped;
    dy = avg_pool2d of g (the adjoint)."""

    name = "avg_pool2d_backward"
    saves_inputs = False

    def forward(self, y, window: _Window, divisor: np.ndarray, size):
        self.window, self.divisor = window, divisor
        wide = _accumulation_dtype(y.dtype)
        share = y.astype(wide, copy=False) * (1.0 / divisor).astype(wide)
        xp = np.zeros(y.shape[:2] + window.padded_size(size), dtype=wide)
        for _, _, index in window.offsets(divisor.shape):
            xp[index] += share
        return _crop(xp, window.padding, size).astype(y.dtype, copy=False)

    def backward(self, xp, g):
        return xp.apply(AvgPool2d, g, self.window, self.divisor)


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
            raise ShapeError(f"{op}: input of shape {tuple(x.shape)} padded by {pad} is smaller "
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


def _pool_input(op: str, input: Any, batch_dims: int | None = None):  # noqa: A002
    """The input as a floating (C, H, W) or (N, C, H, W) tensor whose dims after the first
    ``batch_dims`` (the batch's, when there is one) are not empty, as PyTorch requires."""
    x = _as_tensor(input)
    if x.ndim not in (3, 4):
        raise ShapeError(f"{op}: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got "
                         f"shape {tuple(x.shape)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating-point input, got {x.dtype}")
    batch_dims = x.ndim - 3 if batch_dims is None else batch_dims
    if 0 in x.shape[batch_dims:]:
        raise ShapeError(f"{op}: expected an input with non-zero sizes apart from the batch "
                         f"dim, got shape {tuple(x.shape)}")
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


def _adaptive_output_size(op: str, x, output_size: Any) -> tuple[int, int]:
    """``output_size`` (an int, a pair, None keeping a dim) as a pair of positive ints."""
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    output_size = tuple(x.shape[-2 + i] if s is None else int(s)
                        for i, s in enumerate(output_size))
    if len(output_size) != 2 or min(output_size) < 1:
        raise ValueError(f"{op}: output_size must be a positive int or pair, got "
                         f"{output_size!r}")
    return output_size


def adaptive_avg_pool2d(input: Any, output_size: Any):  # noqa: A002
    """Average over PyTorch's adaptive bins so the output is ``output_size`` (an int, a pair,
    None keeping a dim): y = (sum of the bin) / (its size). avg_pool2d when the bins tile
    evenly, else the composite of the sums over each column bin, then over each row bin,
    divided by the bins' sizes (differentiable to any order). Summing before dividing, as
    PyTorch does, makes a bin whose sum overflows infinite in both. A product with
    averaging matrices would multiply the other bins' zeros by an infinite value, spreading
    NaN into every bin. Only the two pooled dims must be non-empty (as in PyTorch)."""
    x = _pool_input("adaptive_avg_pool2d", input, _as_tensor(input).ndim - 2)
    output_size = _adaptive_output_size("adaptive_avg_pool2d", x, output_size)
    (h, w), (ho, wo) = x.shape[-2:], output_size
    if output_size == (1, 1):
        return x.mean((-2, -1), keepdim=True)
    if h % ho == 0 and w % wo == 0:
        return avg_pool2d(x, (h // ho, w // wo))
    from .shape import stack
    column_bins, row_bins = _adaptive_bins(w, wo), _adaptive_bins(h, ho)
    columns = stack([x[..., start:end].sum(-1) for start, end in column_bins], -1)
    sums = stack([columns[..., start:end, :].sum(-2) for start, end in row_bins], -2)
    sizes = np.outer([end - start for start, end in row_bins],
                     [end - start for start, end in column_bins])
    return sums / sizes.astype(x.dtype)


def _adaptive_argmax(x: np.ndarray, output_size: tuple[int, int]) -> np.ndarray:
    """The flat index h*W + w, in its (H, W) plane, of each adaptive bin's maximum: the
    first in row-major order on ties, the last NaN where there is one (as PyTorch's
    kernel, which takes any NaN it meets). The maximum over a bin
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
    if x.dtype.kind == "f" and np.isnan(x).any():
        _last_nans(x, output_size, index)
    return index


def _last_nans(x: np.ndarray, output_size: tuple[int, int], index: np.ndarray) -> None:
    """Point ``index`` at the last NaN (row-major) of each adaptive bin that holds one."""
    (h, w), (ho, wo) = x.shape[-2:], output_size
    for i, (top, bottom) in enumerate(_adaptive_bins(h, ho)):
        for j, (left, right) in enumerate(_adaptive_bins(w, wo)):
            nan = np.isnan(x[..., top:bottom, left:right]).reshape(x.shape[:-2] + (-1,))
            found = nan.any(-1)
            last = nan.shape[-1] - 1 - nan[..., ::-1].argmax(-1)
            flat = (top + last // (right - left)) * w + left + last % (right - left)
            index[..., i, j] = np.where(found, flat, index[..., i, j])


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False):  # noqa: A002
    """Maximum over PyTorch's adaptive bins so the output is ``output_size`` (an int, a
    pair, None keeping a dim), as ``torch.nn.functional.adaptive_max_pool2d``; with
    ``return_indices``, also the flat index h*W + w of each maximum in its plane.

    The value is x gathered at those indices (``gather``), so the gradient goes to each
    bin's maximum, adding up where bins overlap, to any order."""
    from ..tensor import Tensor
    from .shape import gather
    x = _pool_input("adaptive_max_pool2d", input, 1)
    output_size = _adaptive_output_size("adaptive_max_pool2d", x, output_size)
    index = _adaptive_argmax(x.data, output_size)
    lead, (h, w) = x.shape[:-2], x.shape[-2:]
    out = gather(x.reshape(lead + (h * w,)), -1,
                 index.reshape(lead + (output_size[0] * output_size[1],)))
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

