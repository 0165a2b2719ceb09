"""Convolution and pooling: conv1d/conv2d, conv_transpose2d, max/avg/adaptive pooling.

Layout is PyTorch's: images (N, C, H, W), conv weights (out_channels, in_channels/groups,
kH, kW). Every window op is vectorised the same way: a loop over the kH*kW kernel
*offsets* (never over pixels), each offset a strided slice of the padded input that covers
every output position at once.

Stride-1 convolutions (those of most networks, and every input gradient of one) use the
*wide* method, which copies nothing per offset: x is padded once into a channel-first
(C, N*Hp*Wp) array xf, where shifting the column index by s = i*dh*Wp + j*dw moves every
pixel to the one under kernel offset (i, j). So

    y_wide[:, p] = sum_{i, j} w[:, :, i, j] @ xf[:, p + s_ij]

is kH*kW ordinary matrix products with strided slices of xf (BLAS reads them in place),
and y is y_wide at the positions p = (n*Hp + ho)*Wp + wo with ho < Ho, wo < Wo; the
positions whose window runs off a row or an image are computed and dropped. The weight
gradient is the same kH*kW products the other way round, dy_wide @ xf[:, s_ij:].T, with
dy zero at the dropped positions.

Otherwise (strides, few input channels, or small images where the dropped positions would
cost more than the copy) convolution is im2col + matrix product: the offset slices are
copied into ``cols`` of shape (N, C, kH, kW, Ho, Wo), which viewed as
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

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..autograd.function import Primitive
from ..errors import ShapeError
from .elementwise import _as_tensor
from .workspace import workspace as _workspace

__all__ = ["conv1d", "conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d", "max_pool1d", "avg_pool1d"]


# -- geometry -------------------------------------------------------------------------------

def _pair(value: Any, name: str, op: str, minimum: int = 0) -> tuple[int, int]:
    """An int or a pair of ints as a pair, checked to be >= ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    else:
        try:
            pair = tuple(int(v) for v in value)
        except TypeError:
            raise TypeError(f"{op}: {name} must be an int or a pair of ints, got "
                            f"{value!r}") from None
        if len(pair) == 1:
            pair = pair * 2
        if len(pair) != 2:
            raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{op}: {name} must be at least {minimum}, got {value!r}")
    return pair  # type: ignore[return-value]


@dataclass(frozen=True)
class _Window:
    """Where the kernel's offsets land: stride, dilation and the padding of each side.

    ``padding`` is ((top, bottom), (left, right)); pooling in ceil mode adds the overhang
    of the last window to bottom and right.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[tuple[int, int], tuple[int, int]]
    dilation: tuple[int, int]
    groups: int = 1

    def padded_size(self, size: Sequence[int]) -> tuple[int, int]:
        (top, bottom), (left, right) = self.padding
        return size[0] + top + bottom, size[1] + left + right

    def output_size(self, size: Sequence[int]) -> tuple[int, int]:
        padded = self.padded_size(size)
        return tuple((p - d * (k - 1) - 1) // s + 1 for p, k, s, d in  # type: ignore
                     zip(padded, self.kernel, self.stride, self.dilation))

    def offsets(self, out_size: Sequence[int]) -> list[tuple[int, int, tuple]]:
        """(i, j, index) for every kernel offset: index picks, from the padded input, the
        element under offset (i, j) of every output position's window."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        ho, wo = out_size
        return [(i, j, (Ellipsis, slice(i * dh, i * dh + sh * (ho - 1) + 1, sh),
                        slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)))
                for i in range(kh) for j in range(kw)]


def _pad(x: np.ndarray, padding: tuple, value: float = 0.0) -> np.ndarray:
    (top, bottom), (left, right) = padding
    if not (top or bottom or left or right):
        return x
    h, w = x.shape[-2:]
    out = np.full(x.shape[:-2] + (h + top + bottom, w + left + right), value, dtype=x.dtype)
    out[..., top:top + h, left:left + w] = x
    return out


def _crop(xp: np.ndarray, padding: tuple, size: Sequence[int]) -> np.ndarray:
    (top, _), (left, _) = padding
    if xp.shape[-2:] == tuple(size):
        return xp
    return np.ascontiguousarray(xp[..., top:top + size[0], left:left + size[1]])




def _im2col(x: np.ndarray, window: _Window, out_size: Sequence[int]) -> np.ndarray:
    """(N, C, kH, kW, Ho, Wo) columns:
    cols[n, c, i, j, ho, wo] = x_pad[n, c, ho*sh + i*dh, wo*sw + j*dw]."""
    xp = _pad(x, window.padding)
    cols = _workspace.empty(x.shape[:2] + window.kernel + tuple(out_size), x.dtype)
    for i, j, index in window.offsets(out_size):
        cols[:, :, i, j] = xp[index]
    return cols


def _col2im(cols: np.ndarray, window: _Window, size: Sequence[int]) -> np.ndarray:
    """The adjoint of _im2col: add every column entry back to the pixel it was read from."""
    n, c = cols.shape[:2]
    xp = np.zeros((n, c) + window.padded_size(size), dtype=cols.dtype)
    for i, j, index in window.offsets(cols.shape[-2:]):
        xp[index] += cols[:, :, i, j]
    return _crop(xp, window.padding, size)


# -- the wide method (stride 1) -----------------------------------------------------------------

# Below this many input channels per group the wide method's products have too short an
# inner dimension to run at BLAS speed (and NumPy does not call BLAS at all for 1), while
# im2col's columns are small: the first layer of an image network (1 or 3 channels) stays
# on im2col.
_WIDE_MIN_CHANNELS = 8

# The wide method computes Hp*Wp positions per image for Ho*Wo outputs, im2col copies
# C*kH*kW values per output. Per output, that is (Hp*Wp / (Ho*Wo) - 1) * 2*O*C*kH*kW
# wasted flops against C*kH*kW copied values, so the wide method is the faster one while
# (Hp*Wp / (Ho*Wo) - 1) * O_g stays below about the time of a copy over that of a flop.
# In a training step the copy is the dearer: the columns go to memory that other
# activations have pushed out of the caches. Measured in the CNN step at batch 64
# (benchmarks/cnn_primitives.py): 32->64 at 13x13 (25.6) takes 2.4-2.6 ms forward and
# 2.3-2.4 ms for its weight gradient the wide way, against 4.7-5.1 and 2.8 ms by im2col
# (on its own, benchmarks/conv_kernels.py, the two are within 10% of each other).
# 32->32 at 28x28 (5.1) and input gradients are faster wide by far more.
_WIDE_MAX_WASTE = 32.0

# The wide method works through the batch a few images at a time, so that each output
# block (out_channels x images x Hp*Wp) and the input rows under it stay in cache while
# all kH*kW products are added into it (measured best from 512 KiB to 2 MiB).
_WIDE_CHUNK_BYTES = 1 << 20


def _wide_applies(window: _Window, size: Sequence[int], channels: int,
                  out_channels: int) -> bool:
    """Whether a convolution of (channels, *size) images to out_channels goes the wide
    way (stride 1 only; see _WIDE_MIN_CHANNELS and _WIDE_MAX_WASTE)."""
    if window.stride != (1, 1) or channels // window.groups < _WIDE_MIN_CHANNELS:
        return False
    (hp, wp), (ho, wo) = window.padded_size(size), window.output_size(size)
    return (hp * wp / (ho * wo) - 1) * out_channels / window.groups <= _WIDE_MAX_WASTE


def _wide_input(x: np.ndarray, window: _Window, stack: bool = True) -> np.ndarray:
    """x zero-padded and channel first, (C, N, Hp, Wp): wide[c, n, h, w] = x_pad[n, c, h, w].

    One transposing copy that also writes the padding. Flattened to (C, N*Hp*Wp), a shift
    of the column index by i*dh*Wp + j*dw moves every pixel to the one under kernel offset
    (i, j), which is what makes each offset's product a plain strided matrix.

    Without groups, and unless ``stack`` is off (the weight gradient reads one copy only),
    the array is (kW, C, N, Hp, Wp): copy j is the flat input shifted left by j*dw
    (``_stacked_shifts``), so that the kW offsets of a kernel row are one product with an
    inner dimension kW*C instead of kW products and additions.
    """
    n, c, h, w = x.shape
    (top, bottom), (left, right) = window.padding
    hp, wp = window.padded_size((h, w))
    copies = window.kernel[1] if stack and _stacks(window) else 1
    stacked = _workspace.empty((copies, c, n, hp, wp), x.dtype)
    wide = stacked[0]
    # zero only the border: the pooled buffer may hold an earlier input
    wide[:, :, :top] = 0
    wide[:, :, top + h:] = 0
    wide[:, :, top:top + h, :left] = 0
    wide[:, :, top:top + h, left + w:] = 0
    wide[:, :, top:top + h, left:left + w] = x.transpose(1, 0, 2, 3)
    if copies == 1:
        return wide
    _stacked_shifts(stacked.reshape(copies, c, -1), window.dilation[1])
    return stacked


def _stacks(window: _Window) -> bool:
    """Whether the wide input carries kW shifted copies (no groups, a kernel wider than 1)."""
    return window.groups == 1 and window.kernel[1] > 1


def _stacked_shifts(stacked: np.ndarray, dilation: int) -> None:
    """stacked[j, c, q] = stacked[0, c, q + j*dilation], for every q that a product reads
    (the last j*dilation positions of copy j are read by no valid output)."""
    length = stacked.shape[2]
    for j in range(1, stacked.shape[0]):
        stacked[j, :, :length - j * dilation] = stacked[0, :, j * dilation:]


def _wide_shifts(window: _Window, padded_width: int) -> list[tuple[int, int, int]]:
    """(i, j, shift) for every kernel offset: shift = i*dh*Wp + j*dw in the flat layout."""
    (kh, kw), (dh, dw) = window.kernel, window.dilation
    return [(i, j, i * dh * padded_width + j * dw) for i in range(kh) for j in range(kw)]


def _wide_chunks(batch: int, plane: int, rows: int, itemsize: int, length: int):
    """(first image, last image, start, stop) blocks of the batch, each about
    _WIDE_CHUNK_BYTES of output, with [start, stop) its flat positions below ``length``."""
    step = max(1, _WIDE_CHUNK_BYTES // (rows * plane * itemsize))
    for first in range(0, batch, step):
        last = min(batch, first + step)
        yield first, last, first * plane, min(last * plane, length)


def _wide_conv(wide: np.ndarray, weight: np.ndarray, window: _Window) -> np.ndarray:
    """The stride-1 convolution of the wide input (C, N, Hp, Wp) with ``weight``, no bias.

    With xf = wide viewed as (C, N*Hp*Wp) and s_ij the shift of offset (i, j),

        y_wide[o, p] = sum_{i, j} w[o, :, i, j] @ xf[:, p + s_ij]

    is a sum of kH*kW ordinary matrix products, w[:, :, i, j] (O, C) @ xf[:, s_ij:s_ij + L]:
    a slice with unit column stride, which NumPy hands to BLAS without a copy. At
    p = (n*Hp + ho)*Wp + wo it is the output y[n, o, ho, wo]; positions whose window
    runs off the row or the image (wo >= Wo or ho >= Ho) are computed and dropped, a
    (Hp*Wp) / (Ho*Wo) overhead in exchange for no im2col copy at all. The largest valid
    position plus the largest shift is the last one of xf, so p < L = N*Hp*Wp - max shift.
    """
    if wide.ndim == 5:
        return _stacked_conv(wide, weight, window)
    channels, n, hp, wp = wide.shape
    out_channels, group_channels = weight.shape[:2]
    groups = window.groups
    group_out = out_channels // groups
    (kh, kw), (dh, dw) = window.kernel, window.dilation
    ho, wo = hp - dh * (kh - 1), wp - dw * (kw - 1)
    flat, plane = wide.reshape(channels, -1), hp * wp
    shifts = _wide_shifts(window, wp)
    taps = np.ascontiguousarray(weight.transpose(2, 3, 0, 1))  # (kH, kW, O, C_g)
    y = _workspace.empty((n, out_channels, ho, wo), wide.dtype)
    chunks = list(_wide_chunks(n, plane, out_channels, wide.itemsize,
                               n * plane - shifts[-1][2]))
    images = chunks[0][1]
    total = np.empty((out_channels, images * plane), dtype=wide.dtype)
    term = np.empty_like(total)
    for first, last, start, stop in chunks:
        width = stop - start
        for g in range(groups):
            rows, chans = slice(g * group_out, (g + 1) * group_out), \
                slice(g * group_channels, (g + 1) * group_channels)
            # the first product is written into the sum, the others added to it
            for k, (i, j, shift) in enumerate(shifts):
                into = term[rows, :width] if k else total[rows, :width]
                np.matmul(taps[i, j, rows], flat[chans, start + shift:stop + shift], out=into)
                if k:
                    total[rows, :width] += into
        block = total[:, :(last - first) * plane].reshape(out_channels, last - first, hp, wp)
        y[first:last] = block[:, :, :ho, :wo].transpose(1, 0, 2, 3)
    return y


def _stacked_conv(stacked: np.ndarray, weight: np.ndarray, window: _Window) -> np.ndarray:
    """``_wide_conv`` from the stacked input (kW, C, N, Hp, Wp), without groups: with
    xs = stacked viewed as (kW*C, N*Hp*Wp) and r_i = i*dh*Wp,

        y_wide[o, p] = sum_i t[(i, o), p + r_i],   t = w' @ xs

    where w' is the weight laid out as (kH*O, kW*C) in xs's (j, c) order: one product
    per block of the batch, with kH*O rows, and kH - 1 shifted additions of its row
    blocks (``_shifted_sum``). The plain wide method makes kH*kW products of O rows.
    One product with kH*O rows packs xs once where kH products of O rows pack it kH
    times: 0.62 against 0.73 ms for the CNN's 32->32 layer on 8192 positions.
    """
    copies, channels, n, hp, wp = stacked.shape
    out_channels = weight.shape[0]
    (kh, kw), (dh, dw) = window.kernel, window.dilation
    ho, wo = hp - dh * (kh - 1), wp - dw * (kw - 1)
    flat, plane = stacked.reshape(copies * channels, -1), hp * wp
    rows = np.ascontiguousarray(weight.transpose(2, 0, 3, 1)).reshape(kh * out_channels, -1)
    y = _workspace.empty((n, out_channels, ho, wo), stacked.dtype)
    shifts = [i * dh * wp for i in range(kh)]
    chunks = list(_wide_chunks(n, plane, out_channels, stacked.itemsize,
                               n * plane - shifts[-1] - (kw - 1) * dw))
    widest = chunks[0][1] * plane
    terms = np.empty((kh * out_channels, widest + shifts[-1]), dtype=stacked.dtype)
    total = np.empty((out_channels, widest), dtype=stacked.dtype)
    for first, last, start, stop in chunks:
        width = stop - start
        span = terms[:, :width + shifts[-1]]
        np.matmul(rows, flat[:, start:stop + shifts[-1]], out=span)
        _shifted_sum(span, shifts, out_channels, total[:, :width])
        block = total[:, :(last - first) * plane].reshape(out_channels, last - first, hp, wp)
        y[first:last] = block[:, :, :ho, :wo].transpose(1, 0, 2, 3)
    return y


def _shifted_sum(terms: np.ndarray, shifts: Sequence[int], rows: int,
                 out: np.ndarray) -> np.ndarray:
    """out[:, p] = sum_i terms[i*rows:(i+1)*rows, p + shifts[i]] for p < out's width."""
    width = out.shape[1]
    parts = [terms[i * rows:(i + 1) * rows, shift:shift + width]
             for i, shift in enumerate(shifts)]
    if len(parts) == 1:
        np.copyto(out, parts[0])
        return out
    np.add(parts[0], parts[1], out=out)
    for part in parts[2:]:
        out += part
    return out


def _wide_weight(wide: np.ndarray, dy: np.ndarray, window: _Window) -> np.ndarray:
    """The stride-1 weight gradient W(x, dy) from the wide input (C, N, Hp, Wp):

        dw[o, c, i, j] = sum_p dy_wide[o, p] xf[c, p + s_ij]

    with dy_wide dy placed at the valid positions of the wide layout and zero elsewhere,
    so the dropped positions contribute nothing: kH*kW products dy_wide (O, L) @
    xf[:, s_ij:s_ij + L].T, with no columns at all, summed over chunks of the batch.
    A stacked input goes to ``_stacked_weight``.
    """
    if wide.ndim == 5:
        return _stacked_weight(wide, dy, window)
    channels, n, hp, wp = wide.shape
    out_channels, ho, wo = dy.shape[1:]
    groups = window.groups
    group_out, group_channels = out_channels // groups, channels // groups
    flat, plane = wide.reshape(channels, -1), hp * wp
    shifts = _wide_shifts(window, wp)
    chunks = list(_wide_chunks(n, plane, out_channels, wide.itemsize,
                               n * plane - shifts[-1][2]))
    images = chunks[0][1]
    # written only at the valid positions, so the rest stays zero from chunk to chunk
    spread = _workspace.empty((out_channels, images * plane), dy.dtype)
    spread.fill(0)
    grad = np.zeros(window.kernel + (out_channels, group_channels), dtype=dy.dtype)
    term = np.empty((group_out, group_channels), dtype=dy.dtype)
    for first, last, start, stop in chunks:
        width = stop - start
        _spread_chunk(spread, dy, first, last, (hp, wp))
        for g in range(groups):
            rows, chans = slice(g * group_out, (g + 1) * group_out), \
                slice(g * group_channels, (g + 1) * group_channels)
            for i, j, shift in shifts:
                np.matmul(spread[rows, :width], flat[chans, start + shift:stop + shift].T,
                          out=term)
                grad[i, j, rows] += term
    return np.ascontiguousarray(grad.transpose(2, 3, 0, 1))


def _spread_chunk(spread: np.ndarray, dy: np.ndarray, first: int, last: int,
                  plane_shape: tuple) -> None:
    """Write dy[first:last] (N', O, Ho, Wo) at the valid positions of the wide block
    spread[:, :(last - first) * Hp*Wp], channel first; the other positions keep their value."""
    out_channels, (hp, wp), (ho, wo) = dy.shape[1], plane_shape, dy.shape[2:]
    block = spread[:, :(last - first) * hp * wp].reshape(out_channels, last - first, hp, wp)
    block[:, :, :ho, :wo] = dy[first:last].transpose(1, 0, 2, 3)


def _stacked_weight(stacked: np.ndarray, dy: np.ndarray, window: _Window) -> np.ndarray:
    """``_wide_weight`` from the stacked input (kW, C, N, Hp, Wp) of the forward, without
    groups: with xs = stacked viewed as (kW*C, N*Hp*Wp) and r_i = i*dh*Wp,

        dw[o, c, i, j] = sum_p dy_wide[o, p] xs[(j, c), p + r_i]
                       = sum_t d[(i, o), t] xs[(j, c), t],   d[(i, o), t] = dy_wide[o, t - r_i]

    so with kH copies of dy_wide shifted right by r_i stacked into d (kH*O rows), the
    whole gradient is one product d @ xs.T per block of the batch, where the plain wide
    method makes kH*kW products of O rows and C columns.
    """
    copies, channels, n, hp, wp = stacked.shape
    out_channels = dy.shape[1]
    (kh, kw), dh = window.kernel, window.dilation[0]
    flat, plane = stacked.reshape(copies * channels, -1), hp * wp
    reach = (kh - 1) * dh * wp
    chunks = list(_wide_chunks(n, plane, out_channels, stacked.itemsize,
                               n * plane - reach - (kw - 1) * window.dilation[1]))
    widest = chunks[0][1] * plane
    # Written only at dy's valid positions, so the rest stays zero from block to block:
    # what a block reads beyond its own width (at most reach <= the largest shift) lies
    # in the invalid tail of its last image, since every block starts at an image and
    # the last block is the narrowest.
    shifted = _workspace.empty((kh, out_channels, widest + reach), dy.dtype)
    shifted.fill(0)
    grad = None
    for first, last, start, stop in chunks:
        width = stop - start
        _spread_chunk(shifted[0], dy, first, last, (hp, wp))
        for i in range(1, kh):
            shift = i * dh * wp
            shifted[i, :, shift:shift + width] = shifted[0, :, :width]
        part = np.matmul(shifted[:, :, :width + reach].reshape(kh * out_channels, -1),
                         flat[:, start:stop + reach].T)
        if grad is None:
            grad = part
        else:
            grad += part
    # (kH, O, kW, C) -> (O, C, kH, kW)
    return np.ascontiguousarray(grad.reshape(kh, out_channels, kw, channels)
                                .transpose(1, 3, 0, 2))


def _adjoint_applies(window: _Window, size: Sequence[int], channels: int,
                     out_channels: int) -> bool:
    """Whether the input gradient of a convolution of (channels, *size) images goes
    through ``_wide_adjoint``: stride 1, no groups, the wide method's channel threshold,
    and a padded plane smaller than the one the full correlation would compute over
    (its dy padded to (H + dH(kH-1)) x (W + dW(kW-1)), larger unless 'same' padding)."""
    if window.stride != (1, 1) or window.groups != 1 or out_channels < _WIDE_MIN_CHANNELS:
        return False
    (hp, wp), (kh, kw), (dh, dw) = window.padded_size(size), window.kernel, window.dilation
    return hp * wp < (size[0] + dh * (kh - 1)) * (size[1] + dw * (kw - 1))


def _wide_adjoint(dy: np.ndarray, weight: np.ndarray, window: _Window,
                  size: Sequence[int]) -> np.ndarray:
    """T(dy, w), the input gradient of a stride-1 convolution without groups, computed in
    the forward's wide layout (``_wide_conv``): with dy_wide dy at the valid positions of
    the (O, N*Hp*Wp) layout and zero elsewhere (and before position 0),

        x_wide[c, q] = sum_{i, j} w[:, c, i, j] . dy_wide[:, q - s_ij]

    is the padded input's gradient at every position q = (n*Hp + h)*Wp + w; cropping the
    padding gives dx. As in ``_stacked_conv``, kW copies of dy_wide shifted right by
    j*dw make the whole kernel one product (kH*C, kW*O) @ (kW*O, L) and kH - 1 shifted
    additions of its row blocks. It computes Hp*Wp
    positions per image, where the full correlation computes (H + dH(kH-1)) x
    (W + dW(kW-1)): 13-25% fewer for a 3x3 convolution without padding.
    """
    n, out_channels, ho, wo = dy.shape
    (kh, kw), (dh, dw) = window.kernel, window.dilation
    hp, wp = window.padded_size(size)
    plane = hp * wp
    margin = (kh - 1) * dh * wp + (kw - 1) * dw  # the largest shift: zeros before q = 0
    length = margin + n * plane
    stacked = _workspace.empty((kw, out_channels, length), dy.dtype)
    spread = stacked[0]
    spread[:, :margin] = 0
    block = spread[:, margin:].reshape(out_channels, n, hp, wp)
    block[:, :, ho:] = 0
    block[:, :, :ho, wo:] = 0
    block[:, :, :ho, :wo] = dy.transpose(1, 0, 2, 3)
    for j in range(1, kw):  # copy j at t is dy_wide at t - j*dw (t < j*dw is never read)
        stacked[j, :, j * dw:] = spread[:, :length - j * dw]
    flat = stacked.reshape(kw * out_channels, length)
    channels = weight.shape[1]
    rows = np.ascontiguousarray(weight.transpose(2, 1, 3, 0)).reshape(kh * channels, -1)
    (top, _), (left, _) = window.padding
    dx = _workspace.empty((n, channels) + tuple(size), dy.dtype)
    reach = (kh - 1) * dh * wp  # row block i of the product is read shifted by reach - r_i
    shifts = [reach - i * dh * wp for i in range(kh)]
    chunks = list(_wide_chunks(n, plane, channels, dy.itemsize, n * plane))
    widest = chunks[0][1] * plane
    terms = np.empty((kh * channels, widest + reach), dtype=dy.dtype)
    total = np.empty((channels, widest), dtype=dy.dtype)
    for first, last, start, stop in chunks:
        width = stop - start
        span = terms[:, :width + reach]
        np.matmul(rows, flat[:, margin + start - reach:margin + stop], out=span)
        _shifted_sum(span, shifts, channels, total[:, :width])
        xpad = total[:, :width].reshape(channels, last - first, hp, wp)
        dx[first:last] = xpad[:, :, top:top + size[0], left:left + size[1]].transpose(1, 0, 2, 3)
    return dx


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


def _adaptive_matrix(size: int, out: int, dtype: np.dtype) -> np.ndarray:
    """(out, size) averaging matrix over PyTorch's adaptive bins
    [floor(i*size/out), ceil((i+1)*size/out))."""
    matrix = np.zeros((out, size), dtype=dtype)
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d(input: Any, output_size: Any):  # noqa: A002
    """Average over PyTorch's adaptive bins so the output is ``output_size`` (an int, a pair,
    None keeping a dim): avg_pool2d when the bins tile evenly, else the composite
    P_h @ x @ P_w^T with fixed averaging matrices (differentiable to any order)."""
    x = _pool_input("adaptive_avg_pool2d", input)
    if isinstance(output_size, (int, np.integer)):
        output_size = (output_size, output_size)
    output_size = tuple(x.shape[-2 + i] if s is None else int(s)
                        for i, s in enumerate(output_size))
    if len(output_size) != 2 or min(output_size) < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be a positive int or pair, "
                         f"got {output_size!r}")
    (h, w), (ho, wo) = x.shape[-2:], output_size
    if output_size == (1, 1):
        return x.mean((-2, -1), keepdim=True)
    if h % ho == 0 and w % wo == 0:
        return avg_pool2d(x, (h // ho, w // wo))
    rows = _as_tensor(_adaptive_matrix(h, ho, x.dtype))
    cols = _as_tensor(_adaptive_matrix(w, wo, x.dtype).T.copy())
    return rows @ (x @ cols)


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

