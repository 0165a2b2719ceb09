"""Resampling and rearranging images, composed from differentiable indexing, reshapes and
arithmetic (so gradients of any order come from those ops):

- ``interpolate`` (nearest, nearest-exact, linear / bilinear / trilinear / bicubic with
  ``align_corners`` either way, area), ``upsample``, ``upsample_nearest``,
  ``upsample_bilinear``: PyTorch's source coordinates, computed in the input's precision
  as PyTorch's CPU kernels do;
- ``pixel_shuffle`` / ``pixel_unshuffle`` / ``channel_shuffle``: reshape and permute;
- ``unfold`` (im2col) and ``fold`` (its adjoint, col2im, overlaps summed).
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import _as_tensor
from .shape import Index, IndexAdd

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "channel_shuffle", "unfold", "fold"]


# -- pixel and channel shuffles -------------------------------------------------------------
def pixel_shuffle(input: Any, upscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C·r², H, W) → (*, C, H·r, W·r):  y[c, h·r + i, w·r + j] = x[c·r² + i·r + j, h, w]."""
    x, r = _as_tensor(input), int(upscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but "
                           f"got input with {x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *batch, c, h, w = x.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)="
                           f"{c} is not divisible by {r * r}")
    b = len(batch)
    y = x.reshape(*batch, c // (r * r), r, r, h, w)
    y = y.permute(*range(b), b, b + 3, b + 1, b + 4, b + 2)
    return y.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Any, downscale_factor: int) -> Tensor:  # noqa: A002
    """(*, C, H·r, W·r) → (*, C·r², H, W), the inverse of ``pixel_shuffle``."""
    x, r = _as_tensor(input), int(downscale_factor)
    if x.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, "
                           f"but got input with {x.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *batch, c, h, w = x.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by "
                           f"downscale_factor, but input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by "
                           f"downscale_factor, but input.size(-1)={w} is not divisible by {r}")
    b = len(batch)
    y = x.reshape(*batch, c, h // r, r, w // r, r)
    y = y.permute(*range(b), b, b + 2, b + 4, b + 1, b + 3)
    return y.reshape(*batch, c * r * r, h // r, w // r)


def channel_shuffle(input: Any, groups: int) -> Tensor:  # noqa: A002
    """(N, g·k, *) → (N, k·g, *): channel i·k + j moves to j·g + i (ShuffleNet)."""
    x, g = _as_tensor(input), int(groups)
    if x.ndim < 3:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, "
                           f"but got input with sizes {list(x.shape)}")
    if g <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{g}")
    n, c, *rest = x.shape
    if c % g:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} "
                           f"channels and {g} groups.")
    y = x.reshape(n, g, c // g, *rest).transpose(1, 2)
    return y.reshape(n, c, *rest)


# -- interpolate ----------------------------------------------------------------------------
_LINEAR = {"linear": 1, "bilinear": 2, "trilinear": 3, "bicubic": 2}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def _output_size(x: Tensor, size: Any, scale_factor: Any,
                 recompute: bool | None) -> tuple[list[int], list[float | None]]:
    """The output size of each spatial dim, and the scale PyTorch's kernels are given (None:
    computed from the sizes)."""
    dims = x.ndim - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        sizes = list(size) if isinstance(size, (list, tuple)) else [size] * dims
        if len(sizes) != dims:
            raise ValueError(f"Input and output must have the same number of spatial "
                             f"dimensions, but got input with spatial dimensions of "
                             f"{list(x.shape[2:])} and output size of {sizes}. Please provide "
                             f"input tensor in (N, C, d1, d2, ...,dK) format and output size "
                             f"in (o1, o2, ...,oK) format.")
        return [int(s) for s in sizes], [None] * dims
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    scales = list(scale_factor) if isinstance(scale_factor, (list, tuple)) \
        else [scale_factor] * dims
    if len(scales) != dims:
        raise ValueError(f"Input and scale_factor must have the same number of spatial "
                         f"dimensions, but got input with spatial dimensions of "
                         f"{list(x.shape[2:])} and scale_factor of shape {scales}. Please "
                         f"provide input tensor in (N, C, d1, d2, ...,dK) format and "
                         f"scale_factor in (s1, s2, ...,sK) format.")
    sizes = [int(math.floor(float(n) * float(s))) for n, s in zip(x.shape[2:], scales)]
    return sizes, ([None] * dims if recompute else [float(s) for s in scales])


def _scale(in_size: int, out_size: int, scale: float | None, f: type) -> Any:
    """PyTorch's compute_scales_value: 1 / scale_factor if given, else in / out (float32
    where PyTorch computes in float)."""
    if scale is not None and scale > 0:
        return f(1.0 / scale)
    return f(in_size) / f(out_size)


def _nearest_index(in_size: int, out_size: int, scale: float | None, exact: bool) -> np.ndarray:
    """src = min(floor(dst · s), in − 1), or floor((dst + ½) · s) for nearest-exact, with
    the float32 arithmetic of PyTorch's kernel."""
    if out_size == in_size and not exact:
        return np.arange(out_size)
    if out_size == 2 * in_size and not exact:
        return np.arange(out_size) >> 1
    s = _scale(in_size, out_size, scale, np.float32)
    dst = np.arange(out_size, dtype=np.float32) + (np.float32(0.5) if exact else 0)
    return np.minimum(np.floor(dst * s).astype(np.int64), in_size - 1)


def _linear_weights(in_size: int, out_size: int, scale: float | None, align_corners: bool,
                    dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each output position: the two source indices and their weights,
    src = dst · (in − 1)/(out − 1) (align_corners), else max((dst + ½) · s − ½, 0)."""
    f = np.dtype(dtype).type
    if align_corners:
        s = f(in_size - 1) / f(out_size - 1) if out_size > 1 else f(0)
        src = s * np.arange(out_size, dtype=dtype)
    else:
        s = _scale(in_size, out_size, scale, f)
        src = np.maximum(s * (np.arange(out_size, dtype=dtype) + f(0.5)) - f(0.5), f(0))
    i0 = src.astype(np.int64)
    i1 = i0 + (i0 < in_size - 1)
    w1 = np.clip(src - i0.astype(dtype), f(0), f(1)).astype(dtype)
    return i0, i1, (f(1) - w1).astype(dtype), w1


_CUBIC_A = -0.75  # PyTorch's (and Keys') cubic convolution constant


def _cubic_weights(in_size: int, out_size: int, scale: float | None, align_corners: bool,
                   dtype: np.dtype) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each output position: the four source indices floor(src) - 1 ... floor(src) + 2
    (clamped to the input, as PyTorch reads the border again) and Keys' cubic convolution
    weights at t = src - floor(src): src = dst · (in − 1)/(out − 1) (align_corners), else
    (dst + ½) · s − ½, not clamped at 0 (unlike the linear modes)."""
    f = np.dtype(dtype).type
    if align_corners:
        s = f(in_size - 1) / f(out_size - 1) if out_size > 1 else f(0)
        src = s * np.arange(out_size, dtype=dtype)
    else:
        s = _scale(in_size, out_size, scale, f)
        src = s * (np.arange(out_size, dtype=dtype) + f(0.5)) - f(0.5)
    floor = np.floor(src)
    weights = cubic_coefficients((src - floor).astype(dtype))
    first = floor.astype(np.int64) - 1
    indices = [np.clip(first + k, 0, in_size - 1) for k in range(4)]
    return indices, [w.astype(dtype) for w in weights]


def cubic_coefficients(t: Any) -> list[Any]:
    """Keys' cubic convolution weights (a = −0.75, PyTorch's) of the taps at −1, 0, 1, 2
    from the floor, for the fractions t (an array, or a Tensor to differentiate through):
    far(t + 1), near(t), near(1 − t), far(2 − t), with near(s) = ((a + 2) s − (a + 3)) s² + 1
    and far(s) = ((a s − 5a) s + 8a) s − 4a. Python numbers keep t's float dtype."""
    a = _CUBIC_A

    def near(s: Any) -> Any:
        return ((s * (a + 2) - (a + 3)) * s) * s + 1

    def far(s: Any) -> Any:
        return ((s * a - 5 * a) * s + 8 * a) * s - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _take(x: Tensor, dim: int, index: np.ndarray) -> Tensor:
    return Index.apply(x, (slice(None),) * dim + (index,))


def _along(weights: np.ndarray, dim: int, ndim: int) -> np.ndarray:
    return weights.reshape((-1,) + (1,) * (ndim - dim - 1))


def interpolate(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
                mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False) -> Tensor:
    """Resize the spatial dims of a (N, C, d1[, d2[, d3]]) input to ``size`` or by
    ``scale_factor``. Nearest: y[o] = x[src(o)]; linear modes, separably along each dim:
    y[o] = (1 − λ) x[i0] + λ x[i1]; bicubic (4-D), separably: y[o] = Σ_k w_k(t) x[i0 − 1 + k]
    with Keys' weights (a = −0.75)."""
    x = _as_tensor(input)
    if mode not in _MODES:
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by "
                                  "abdou_torch")
    if x.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {x.ndim}D) for the modes: nearest | linear | "
                                  f"bilinear | bicubic | trilinear | area | nearest-exact "
                                  f"(got {mode})")
    if mode in _LINEAR and _LINEAR[mode] != x.ndim - 2:
        wanted = _LINEAR[mode] + 2
        raise NotImplementedError(f"Got {x.ndim}D input, but {mode} mode needs {wanted}D input")
    sizes, scales = _output_size(x, size, scale_factor, recompute_scale_factor)
    for out in sizes:
        if out <= 0:
            raise RuntimeError(f"Input and output sizes should be greater than 0, but got "
                               f"input ({', '.join(map(str, x.shape[2:]))}) and output "
                               f"({', '.join(map(str, sizes))})")
    if mode == "area":
        from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d
        if x.ndim == 3:
            return adaptive_avg_pool1d(x, sizes[0])
        if x.ndim == 4:
            return adaptive_avg_pool2d(x, tuple(sizes))
        raise NotImplementedError("interpolate: mode 'area' on 5D input is not supported")
    y = x
    for offset, (out, scale) in enumerate(zip(sizes, scales)):
        dim = 2 + offset
        n = x.shape[dim]
        if mode.startswith("nearest"):
            y = _take(y, dim, _nearest_index(n, out, scale, mode == "nearest-exact"))
            continue
        if mode == "bicubic":
            indices, weights = _cubic_weights(n, out, scale, bool(align_corners),
                                              np.dtype(x.dtype))
            terms = [_take(y, dim, index) * Tensor(_along(weight, dim, x.ndim))
                     for index, weight in zip(indices, weights)]
            y = terms[0] + terms[1] + terms[2] + terms[3]
            continue
        i0, i1, w0, w1 = _linear_weights(n, out, scale, bool(align_corners),
                                         np.dtype(x.dtype))
        y = _take(y, dim, i0) * Tensor(_along(w0, dim, x.ndim)) \
            + _take(y, dim, i1) * Tensor(_along(w1, dim, x.ndim))
    return y


def upsample(input: Any, size: Any = None, scale_factor: Any = None,  # noqa: A002
             mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """Deprecated in PyTorch: ``interpolate`` with the same arguments."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Any, size: Any = None,  # noqa: A002
                     scale_factor: Any = None) -> Tensor:
    """Deprecated in PyTorch: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Any, size: Any = None,  # noqa: A002
                      scale_factor: Any = None) -> Tensor:
    """Deprecated in PyTorch: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# -- unfold / fold --------------------------------------------------------------------------
def _pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _blocks(size: tuple[int, int], kernel: tuple[int, int], dilation: tuple[int, int],
            padding: tuple[int, int], stride: tuple[int, int], op: str) -> tuple[Any, ...]:
    """The (padded) row and column of each kernel element in each block, shaped to index
    (kh, kw, oh, ow); and the number of blocks per dim."""
    for name, values, low in (("kernel_size", kernel, 1), ("dilation", dilation, 1),
                              ("padding", padding, 0), ("stride", stride, 1)):
        if min(values) < low:
            bound = "greater than zero" if low else "non-negative"
            raise RuntimeError(f"{op}: {name} should be {bound}, but got {name}: "
                               f"{values[0]} {values[1]}")
    counts = [(size[d] + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1) // stride[d] + 1
              for d in range(2)]
    rows = (np.arange(kernel[0])[:, None] * dilation[0]
            + np.arange(max(counts[0], 0))[None, :] * stride[0])
    cols = (np.arange(kernel[1])[:, None] * dilation[1]
            + np.arange(max(counts[1], 0))[None, :] * stride[1])
    return rows[:, None, :, None], cols[None, :, None, :], counts


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
           stride: Any = 1) -> Tensor:
    """im2col: (N, C, H, W) → (N, C·kh·kw, L), column l holding the block at output position
    l (row-major), channel-major then kernel row and column:
    y[n, (c·kh + i)·kw + j, oh·OW + ow] = x_padded[n, c, oh·sh + i·dh, ow·sw + j·dw]."""
    x = _as_tensor(input)
    if x.ndim < 3:  # PyTorch's im2col reads dims 1 and 2 first
        raise IndexError(f"unfold: dimension out of range, expected a 3D or 4D (batch mode) "
                         f"input, got shape {tuple(x.shape)}")
    if x.ndim > 4:
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with possibly 0 batch size "
                           f"and other non-zero dimensions for input, but got: "
                           f"{list(x.shape)}")
    batched = x.ndim == 4
    if not batched:
        x = x.unsqueeze(0)
    kernel, dil = _pair(kernel_size, "kernel_size"), _pair(dilation, "dilation")
    pad, step = _pair(padding, "padding"), _pair(stride, "stride")
    n, c, h, w = x.shape
    rows, cols, counts = _blocks((h, w), kernel, dil, pad, step, "im2col")
    if min(counts) < 1:
        raise RuntimeError(f"Given input with spatial size ({h}, {w}), kernel_size "
                           f"({kernel[0]}, {kernel[1]}), dilation ({dil[0]}, {dil[1]}), "
                           f"padding ({pad[0]}, {pad[1]}), calculated shape of the array of "
                           f"sliding blocks as ({counts[0]}, {counts[1]}), but its components "
                           f"must be at least one.")
    if pad != (0, 0):
        from .shape import pad as pad_op
        x = pad_op(x, (pad[1], pad[1], pad[0], pad[0]))
    y = Index.apply(x, (slice(None), slice(None), rows, cols))  # (N, C, kh, kw, oh, ow)
    y = y.reshape(n, c * kernel[0] * kernel[1], counts[0] * counts[1])
    return y if batched else y.squeeze(0)


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
         padding: Any = 0, stride: Any = 1) -> Tensor:
    """col2im, the adjoint of ``unfold``: (N, C·kh·kw, L) → (N, C, H, W), each column's
    block added at its place (overlapping blocks sum)."""
    x = _as_tensor(input)
    if x.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: "
                           f"{list(x.shape)}")
    batched = x.ndim == 3
    if not batched:
        x = x.unsqueeze(0)
    size, kernel = _pair(output_size, "output_size"), _pair(kernel_size, "kernel_size")
    dil, pad, step = _pair(dilation, "dilation"), _pair(padding, "padding"), \
        _pair(stride, "stride")
    n, rows_in, blocks = x.shape
    rows, cols, counts = _blocks(size, kernel, dil, pad, step, "col2im")
    k = kernel[0] * kernel[1]
    if rows_in % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the "
                           f"product of kernel_size, but got input.size(1)={rows_in} and "
                           f"kernel_size=({kernel[0]}, {kernel[1]})")
    if counts[0] * counts[1] != blocks:
        raise RuntimeError(f"Given output_size=({size[0]}, {size[1]}), kernel_size=("
                           f"{kernel[0]}, {kernel[1]}), dilation=({dil[0]}, {dil[1]}), "
                           f"padding=({pad[0]}, {pad[1]}), stride=({step[0]}, {step[1]}), "
                           f"expected size of input's dimension 2 to match the calculated "
                           f"number of sliding blocks {counts[0]} * {counts[1]} = "
                           f"{counts[0] * counts[1]}, but got input.size(2)={blocks}.")
    c = rows_in // k
    cols6 = x.reshape(n, c, kernel[0], kernel[1], counts[0], counts[1])
    padded = (n, c, size[0] + 2 * pad[0], size[1] + 2 * pad[1])
    y = IndexAdd.apply(cols6, padded, (slice(None), slice(None), rows, cols))
    if pad != (0, 0):
        y = Index.apply(y, (slice(None), slice(None), slice(pad[0], pad[0] + size[0]),
                            slice(pad[1], pad[1] + size[1])))
    return y if batched else y.squeeze(0)


