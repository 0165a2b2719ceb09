"""``torchvision.utils``: ``make_grid`` (a batch of images tiled into one) and
``save_image`` (that grid written as a PNG, without PIL)."""
from __future__ import annotations

import math
import os
from typing import IO, Any, Union

import numpy as np

from ...tensor import Tensor
from .png import write_png

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor: Any) -> np.ndarray:
    """(B, C, H, W) float pixels; grey images become three identical channels."""
    if isinstance(tensor, (list, tuple)):
        if not tensor or not all(isinstance(t, Tensor) for t in tensor):
            raise TypeError("make_grid: expected a tensor or a non-empty list of tensors")
        array = np.stack([np.asarray(t.data) for t in tensor])
    elif isinstance(tensor, Tensor):
        array = np.asarray(tensor.data)
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        if array.shape[0] == 1:
            array = np.concatenate([array] * 3, axis=0)
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected (B, C, H, W), (C, H, W) or (H, W) images, got "
                         f"{array.ndim} dimensions")
    if array.shape[1] == 1:
        array = np.concatenate([array] * 3, axis=1)
    return array


def _normalize_range(array: np.ndarray, value_range: tuple[float, float] | None) -> np.ndarray:
    """``y = (clamp(x, low, high) - low) / max(high - low, 1e-5)``; (low, high) defaults to
    the images' own minimum and maximum."""
    low, high = (float(array.min()), float(array.max())) if value_range is None \
        else value_range
    clamped = np.clip(array, low, high)
    return (clamped - array.dtype.type(low)) / array.dtype.type(max(high - low, 1e-5))


def make_grid(tensor: Any, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Tile B images in rows of ``nrow``, ``padding`` pixels of ``pad_value`` between and
    around them: a (C, ceil(B / nrow) * (H + p) + p, min(nrow, B) * (W + p) + p) tensor.
    A single image comes back alone (squeezed), as torchvision."""
    array = _as_batch(tensor)
    if normalize:
        if value_range is not None and not (isinstance(value_range, tuple)
                                            and len(value_range) == 2):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and "
                            "max are numbers")
        array = array.copy()
        if scale_each:
            for index in range(len(array)):
                array[index] = _normalize_range(array[index], value_range)
        else:
            array = _normalize_range(array, value_range)
    if array.shape[0] == 1:
        return Tensor(np.ascontiguousarray(array[0]))
    count, channels, height, width = array.shape
    columns = min(nrow, count)
    rows = int(math.ceil(float(count) / columns))
    cell_height, cell_width = height + padding, width + padding
    grid = np.full((channels, cell_height * rows + padding, cell_width * columns + padding),
                   pad_value, dtype=array.dtype)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * cell_height + padding, column * cell_width + padding
        grid[:, top:top + height, left:left + width] = array[index]
    return Tensor(grid)


def save_image(tensor: Any, fp: Union[str, "os.PathLike[str]", IO[bytes]],
               format: str | None = None, **kwargs: Any) -> None:
    """``make_grid(tensor, **kwargs)`` written as an 8-bit PNG:
    ``pixel = uint8(clamp(x * 255 + 0.5, 0, 255))``. Only PNG is written here."""
    name = os.fspath(fp) if isinstance(fp, (str, os.PathLike)) else None
    wanted = (format or (os.path.splitext(str(name))[1][1:] if name else "png")).lower()
    if wanted != "png":
        raise ValueError(f"save_image: only PNG files can be written by abdou_torch's "
                         f"torchvision (no PIL), got format {wanted!r}")
    grid = np.asarray(make_grid(tensor, **kwargs).data)
    if grid.ndim == 2:
        grid = grid[None]
    pixels = np.clip(grid.astype(np.float32) * 255 + 0.5, 0, 255).astype(np.uint8)
    write_png(pixels.transpose(1, 2, 0), fp)
