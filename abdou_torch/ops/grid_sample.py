"""Spatial transformers: ``affine_grid`` (the sampling grid of an affine map) and
``grid_sample`` (read an image at those points), composed from a batched matrix product,
clamps, differentiable indexing and products, so gradients reach both the image and the
grid (and through it the affine matrices).

Grid coordinates are normalised: −1 and 1 are the centres of the edge pixels with
``align_corners=True``, the outer edges of the edge pixels otherwise. A point x of a size-n
dim is pixel ((x + 1)/2)(n − 1) (align_corners) or ((x + 1) n − 1)/2.

Bilinear: with i0 = ⌊i⌋, λ = i − i0 per dim, y = Σ_corners Π(λ or 1 − λ) · x[corner], a
corner outside the image reading 0. Nearest: the pixel at round-half-to-even(i). Bicubic:
the 4 x 4 pixels around i, Keys' cubic weights, the padding applied to each of them.
Padding: 'zeros' (points outside read 0), 'border' (coordinates clamped to the image),
'reflection' (coordinates mirrored at the borders, then clamped). 2-D (4-D input) only.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import _as_tensor, where
from .resample import cubic_coefficients
from .shape import Index

__all__ = ["affine_grid", "grid_sample"]


def _base(steps: int, align_corners: bool, dtype: np.dtype) -> np.ndarray:
    """PyTorch's _linspace_from_neg_one: the normalised centres of ``steps`` pixels."""
    if steps <= 1:
        return np.zeros(max(steps, 1), dtype)
    values = np.linspace(-1, 1, steps, dtype=dtype)
    if not align_corners:
        values = values * dtype.type((steps - 1) / steps)
    return values


def affine_grid(theta: Any, size: Any, align_corners: bool | None = None) -> Tensor:
    """The (N, H, W, 2) grid of normalised (x, y) points that the (N, 2, 3) affine
    matrices ``theta`` map the output pixels of ``size`` = (N, C, H, W) to:
    grid[n, h, w] = θ_n · (x_w, y_h, 1)."""
    t = _as_tensor(theta)
    if t.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {t.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 5:
        raise NotImplementedError("affine_grid: 3-D (5-D size) grids are not supported by "
                                  "abdou_torch yet")
    if len(size) != 4:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {size}.")
    n, _, h, w = size
    if t.ndim != 3 or tuple(t.shape) != (n, 2, 3):
        raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                         f"{size}. Got {tuple(t.shape)}.")
    if min(size[2:]) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    dtype = np.dtype(t.data.dtype)
    corners = bool(align_corners)
    base = np.empty((h, w, 3), dtype)
    base[..., 0] = _base(w, corners, dtype)[None, :]
    base[..., 1] = _base(h, corners, dtype)[:, None]
    base[..., 2] = 1
    points = Tensor._wrap(np.broadcast_to(base.reshape(1, h * w, 3), (n, h * w, 3)).copy(),
                          False)
    return (points @ t.transpose(1, 2)).reshape(n, h, w, 2)


def _unnormalize(coord: Tensor, size: int, align_corners: bool) -> Tensor:
    if align_corners:
        return (coord + 1) * ((size - 1) / 2)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """Mirror ``coord`` into [low, high] (PyTorch's reflect_coordinates)."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    flips = np.floor(distance.data / span)
    extra = distance - Tensor._wrap((flips * span).astype(distance.data.dtype), False)
    even = (flips % 2) == 0
    return where(even, extra + low, (extra * -1) + (span + low))


def _source(coord: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    """The pixel coordinate a normalised grid coordinate reads, after padding."""
    pixel = _unnormalize(coord, size, align_corners)
    if padding_mode == "border":
        pixel = pixel.clamp(0, size - 1)
    elif padding_mode == "reflection":
        if align_corners:
            pixel = _reflect(pixel, 0, 2 * (size - 1))
        else:
            pixel = _reflect(pixel, -1, 2 * size - 1)
        pixel = pixel.clamp(0, size - 1)
    return pixel


def _gather(x: Tensor, rows: np.ndarray, cols: np.ndarray) -> tuple[Tensor, np.ndarray]:
    """x[n, c, rows[n, i, j], cols[n, i, j]] as (N, C, Ho, Wo), and where the point lies
    inside the image (outside points are read at 0, 0 and must be masked)."""
    n, c, h, w = x.shape
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    index = (np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
             np.where(inside, rows, 0)[:, None], np.where(inside, cols, 0)[:, None])
    return Index.apply(x, index), inside


def _tap(coord: np.ndarray, size: int, padding_mode: str, align_corners: bool) -> np.ndarray:
    """The pixel a bicubic tap at integer coordinate ``coord`` reads: the padding applies to
    each tap (PyTorch's compute_coordinates), not to the sampled point."""
    if padding_mode == "reflection":
        low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        coord = _reflect(Tensor._wrap(coord, False), low, high).data
    if padding_mode in ("border", "reflection"):
        coord = np.clip(coord, 0, size - 1)
    return coord.astype(np.int64)


def _bicubic(x: Tensor, g: Tensor, padding_mode: str, align_corners: bool) -> Tensor:
    """y = Σ_j wy_j Σ_i wx_i x[tap(y0 − 1 + j), tap(x0 − 1 + i)]: the 4 x 4 pixels around
    the unpadded point, each read through the padding (zeros: 0 outside), weighted by the
    cubic coefficients of the point's fractions (so the grid gets gradients through them)."""
    h, w = x.shape[2], x.shape[3]
    ix = _unnormalize(g[..., 0], w, align_corners)
    iy = _unnormalize(g[..., 1], h, align_corners)
    x0, y0 = np.floor(ix.data), np.floor(iy.data)
    wx = cubic_coefficients(ix - Tensor._wrap(x0, False))
    wy = cubic_coefficients(iy - Tensor._wrap(y0, False))
    cols = [_tap(x0 + (i - 1), w, padding_mode, align_corners) for i in range(4)]
    out = None
    for j in range(4):
        rows = _tap(y0 + (j - 1), h, padding_mode, align_corners)
        line = None
        for i in range(4):
            values, inside = _gather(x, rows, cols[i])
            weight = wx[i] * Tensor._wrap(inside.astype(x.data.dtype), False)
            term = values * weight.unsqueeze(1)
            line = term if line is None else line + term
        assert line is not None
        term = line * wy[j].unsqueeze(1)
        out = term if out is None else out + term
    assert out is not None
    return out


def grid_sample(input: Any, grid: Any, mode: str = "bilinear",  # noqa: A002
                padding_mode: str = "zeros", align_corners: bool | None = None) -> Tensor:
    """Sample the (N, C, H, W) ``input`` at the normalised (x, y) points of the
    (N, Ho, Wo, 2) ``grid``; returns (N, C, Ho, Wo)."""
    x, g = _as_tensor(input), _as_tensor(grid)
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if x.ndim == 5:
        raise NotImplementedError("grid_sample: 5-D (volumetric) input is not supported by "
                                  "abdou_torch yet")
    if x.ndim != 4 or g.ndim != 4:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same "
                           f"number of dimensions, but got input with sizes "
                           f"{list(x.shape)} and grid with sizes {list(g.shape)}")
    if g.shape[0] != x.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, "
                           f"but got input with sizes {list(x.shape)} and grid with sizes "
                           f"{list(g.shape)}")
    if g.shape[-1] != 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size 2 in last dimension, "
                           f"but got grid with sizes {list(g.shape)}")
    if x.dtype != g.dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but "
                           f"input has {x.dtype} and grid has {g.dtype}")
    corners = bool(align_corners)
    h, w = x.shape[2], x.shape[3]
    if mode == "bicubic":
        return _bicubic(x, g, padding_mode, corners)
    ix = _source(g[..., 0], w, padding_mode, corners)
    iy = _source(g[..., 1], h, padding_mode, corners)
    if mode == "nearest":
        rows = np.rint(iy.data).astype(np.int64)
        cols = np.rint(ix.data).astype(np.int64)
        values, inside = _gather(x, rows, cols)
        return values * Tensor._wrap(inside[:, None].astype(x.data.dtype), False)
    x0, y0 = np.floor(ix.data), np.floor(iy.data)
    wx1 = ix - Tensor._wrap(x0, False)
    wy1 = iy - Tensor._wrap(y0, False)
    wx0, wy0 = 1 - wx1, 1 - wy1
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    out = None
    for rows, wy in ((y0, wy0), (y0 + 1, wy1)):
        for cols, wx in ((x0, wx0), (x0 + 1, wx1)):
            values, inside = _gather(x, rows, cols)
            weight = wy * wx * Tensor._wrap(inside.astype(x.data.dtype), False)
            term = values * weight.unsqueeze(1)
            out = term if out is None else out + term
    assert out is not None
    return out
