"""A PIL-free stand-in for the ``PIL.Image.Image`` that torchvision's datasets return.

torchvision's MNIST gives ``Image.fromarray(array, mode="L")``; PIL is not a dependency here,
so the datasets give an :class:`Image`: the pixels as a uint8 NumPy array of shape (H, W)
(mode ``"L"``), (H, W, 3) (``"RGB"``) or (H, W, 4) (``"RGBA"``), with the parts of PIL's
interface that programs use on a dataset's raw item: ``size`` (width, height), ``mode``,
``width``, ``height``, ``np.array(img)`` and ``plt.imshow(img)`` (through ``__array__``),
``getpixel``. The transforms accept it where torchvision accepts a PIL image (``ToTensor``,
``PILToTensor``, flips, crops, padding, resizing: geometric transforms return an
:class:`Image` again, as they return a PIL image).
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Image"]

_MODES = {2: "L", 3: "RGB", 4: "RGBA"}


class Image:
    """An 8-bit image: ``array`` is (H, W), (H, W, 3) or (H, W, 4) uint8 (not copied)."""

    def __init__(self, array: np.ndarray) -> None:
        array = np.asarray(array)
        if array.dtype != np.uint8:
            raise TypeError(f"Image: expected a uint8 array, got {array.dtype}")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
            raise ValueError(f"Image: expected shape (H, W), (H, W, 3) or (H, W, 4), got "
                             f"{array.shape}")
        self._array = array

    @property
    def mode(self) -> str:
        return "L" if self._array.ndim == 2 else _MODES[self._array.shape[2]]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height), PIL's order."""
        return self._array.shape[1], self._array.shape[0]

    @property
    def width(self) -> int:
        return self._array.shape[1]

    @property
    def height(self) -> int:
        return self._array.shape[0]

    def getbands(self) -> tuple[str, ...]:
        return tuple(self.mode)

    def getpixel(self, xy: tuple[int, int]) -> Any:
        """The pixel at column ``x``, row ``y``: an int ("L") or a tuple of ints."""
        x, y = xy
        value = self._array[y, x]
        return int(value) if value.ndim == 0 else tuple(int(v) for v in value)

    def copy(self) -> "Image":
        return Image(self._array.copy())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = self._array if dtype is None else self._array.astype(dtype)
        return array.copy() if copy else array

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Image) and self._array.shape == other._array.shape \
            and bool(np.array_equal(self._array, other._array))

    __hash__ = None  # type: ignore[assignment]  # mutable pixels, as PIL's images

    def __repr__(self) -> str:
        return (f"<abdou_torch Image (stand-in for PIL.Image.Image) mode={self.mode} "
                f"size={self.width}x{self.height}>")
