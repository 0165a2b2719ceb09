"""``torchvision.transforms.v2``: the same transforms as :mod:`..transforms`, plus
``ToImage`` (an Image or ndarray -> its uint8 (C, H, W) tensor; torchvision returns a
``tv_tensors.Image``, a Tensor subclass, here a plain tensor) and ``ToDtype``."""
from __future__ import annotations

from typing import Any

import numpy as np

from ....nn.module import Module
from ....tensor import Tensor
from . import (_NOT_AVAILABLE, CenterCrop, Compose, ConvertImageDtype, InterpolationMode,
               Lambda, Normalize, Pad, PILToTensor, RandomCrop, RandomHorizontalFlip,
               RandomRotation, RandomVerticalFlip, Resize, ToPILImage, ToTensor, functional)
from ...alias import NotAvailableError

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Lambda",
           "ConvertImageDtype", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomCrop",
           "CenterCrop", "Pad", "Resize", "RandomRotation", "InterpolationMode", "ToImage",
           "ToDtype", "functional"]


def __getattr__(name: str) -> Any:
    if name in _NOT_AVAILABLE:
        raise NotAvailableError(f"torchvision.transforms.v2.{name} is not available in "
                                f"abdou_torch")
    raise AttributeError(f"module 'torchvision.transforms.v2' has no attribute {name!r}")


class ToImage(Module):
    """An Image, an (H, W[, C]) ndarray or a tensor -> a (C, H, W) tensor, values
    unchanged."""

    def forward(self, img: Any) -> Any:
        if isinstance(img, Tensor):
            return img
        if isinstance(img, np.ndarray):
            array = img[:, :, None] if img.ndim == 2 else img
            return Tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))
        return functional.pil_to_tensor(img)


class ToDtype(Module):
    """Cast to ``dtype``; with ``scale``, rescale the values to the new range
    (``uint8 -> float``: ``x / 255``)."""

    def __init__(self, dtype: Any, scale: bool = False) -> None:
        super().__init__()
        self.dtype, self.scale = dtype, scale

    def forward(self, img: Any) -> Any:
        return functional.to_dtype(img, self.dtype, self.scale)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scale={self.scale})"
