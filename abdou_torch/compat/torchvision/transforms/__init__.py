"""``torchvision.transforms``: composable image transforms (the classes over
:mod:`.functional`).

As in torchvision, the transforms that hold no state beyond their arguments and work on
tensors are ``nn.Module``s (Normalize, the random flips and crops, Resize, ...), so they
also fit in an ``nn.Sequential``; ToTensor, PILToTensor, Compose and Lambda are plain
callables. Random transforms draw from the library's global generator exactly as
torchvision draws from PyTorch's (``torch.rand(1) < p`` for a flip, ``torch.randint`` for a
crop offset, ``torch.empty(1).uniform_`` for an angle), so a seeded program makes the same
choices under both.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from ....nn.module import Module
from ...alias import NotAvailableError
from . import functional
from .functional import InterpolationMode

__all__ = ["Compose", "ToTensor", "PILToTensor", "ToPILImage", "Normalize", "Lambda",
           "ConvertImageDtype", "RandomHorizontalFlip", "RandomVerticalFlip", "RandomCrop",
           "CenterCrop", "Pad", "Resize", "RandomRotation", "InterpolationMode", "functional"]

# torchvision transforms that are not written here: using one says so
_NOT_AVAILABLE = frozenset((
    "RandomResizedCrop", "ColorJitter", "RandomAffine", "RandomPerspective", "GaussianBlur",
    "Grayscale", "RandomGrayscale", "RandomErasing", "FiveCrop", "TenCrop", "RandomApply",
    "RandomChoice", "RandomOrder", "LinearTransformation", "RandomInvert", "RandomPosterize",
    "RandomSolarize", "RandomAdjustSharpness", "RandomAutocontrast", "RandomEqualize",
    "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix", "ElasticTransform",
    "AutoAugmentPolicy", "RandomIoUCrop", "RandomZoomOut", "ScaleJitter",
    "RandomShortestSize", "RandomResize", "SanitizeBoundingBoxes", "MixUp", "CutMix"))


def __getattr__(name: str) -> Any:
    if name in _NOT_AVAILABLE:
        raise NotAvailableError(f"torchvision.transforms.{name} is not available in "
                                f"abdou_torch")
    raise AttributeError(f"module 'torchvision.transforms' has no attribute {name!r}")


class Compose:
    """Apply ``transforms`` in order: ``y = t_n(... t_1(x))``."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for transform in self.transforms:
            img = transform(img)
        return img

    def __repr__(self) -> str:
        lines = "".join(f"\n    {transform}" for transform in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor:
    """An Image or (H, W[, C]) ndarray -> a (C, H, W) tensor, uint8 scaled to [0, 1]."""

    def __call__(self, pic: Any) -> Any:
        return functional.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PILToTensor:
    """An Image -> its uint8 (C, H, W) tensor."""

    def __call__(self, pic: Any) -> Any:
        return functional.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToPILImage:
    """A tensor or ndarray -> an Image (abdou_torch's PIL-free one)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return functional.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mode={self.mode})" if self.mode else \
            f"{type(self).__name__}()"


class Lambda:
    """Apply a user function: ``y = lambd(x)``."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got "
                            f"{repr(type(lambd).__name__)}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize(Module):
    """``y[c] = (x[c] - mean[c]) / std[c]`` on a float (..., C, H, W) tensor."""

    def __init__(self, mean: Sequence[float], std: Sequence[float],
                 inplace: bool = False) -> None:
        super().__init__()
        self.mean, self.std, self.inplace = mean, std, inplace

    def forward(self, tensor: Any) -> Any:
        return functional.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


class ConvertImageDtype(Module):
    """Convert a tensor image to ``dtype``, rescaling the values to the new range."""

    def __init__(self, dtype: Any) -> None:
        super().__init__()
        self.dtype = dtype

    def forward(self, image: Any) -> Any:
        return functional.convert_image_dtype(image, self.dtype)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_probability(p: float) -> float:
    if not isinstance(p, numbers.Real) or not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"p should be a probability in [0, 1], got {p!r}")
    return float(p)


class RandomHorizontalFlip(Module):
    """Mirror left-right when ``torch.rand(1) < p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = _check_probability(p)

    def forward(self, img: Any) -> Any:
        from .... import rand
        return functional.hflip(img) if float(rand(1).item()) < self.p else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(Module):
    """Mirror top-bottom when ``torch.rand(1) < p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = _check_probability(p)

    def forward(self, img: Any) -> Any:
        from .... import rand
        return functional.vflip(img) if float(rand(1).item()) < self.p else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


def _size_pair(size: Any, name: str) -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) in (1, 2):
        return (int(size[0]), int(size[0])) if len(size) == 1 else (int(size[0]), int(size[1]))
    raise ValueError(f"{name}: please provide only two dimensions (h, w) for size, got "
                     f"{size!r}")


class CenterCrop(Module):
    """The central ``size`` window."""

    def __init__(self, size: Any) -> None:
        super().__init__()
        self.size = _size_pair(size, "CenterCrop")

    def forward(self, img: Any) -> Any:
        return functional.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class Pad(Module):
    """Pad by ``padding`` (int, or 1, 2 or 4 ints: left, top, right, bottom)."""

    def __init__(self, padding: Any, fill: float = 0, padding_mode: str = "constant") -> None:
        super().__init__()
        functional._padding_sides(padding)  # bad padding fails here, not on the first image
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or "
                             "symmetric")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img: Any) -> Any:
        return functional.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class RandomCrop(Module):
    """Pad (optionally), then crop a ``size`` window at an offset drawn uniformly:
    ``top = torch.randint(0, H - h + 1, (1,))``, then ``left`` likewise."""

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False,
                 fill: float = 0, padding_mode: str = "constant") -> None:
        super().__init__()
        self.size = _size_pair(size, "RandomCrop")
        if padding is not None:
            functional._padding_sides(padding)
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """(top, left, height, width) of a random crop of ``output_size``."""
        from .... import randint
        _, height, width = functional.get_dimensions(img)
        crop_height, crop_width = output_size
        if height < crop_height or width < crop_width:
            raise ValueError(f"Required crop size {(crop_height, crop_width)} is larger than "
                             f"input image size {(height, width)}")
        if width == crop_width and height == crop_height:
            return 0, 0, height, width
        top = int(randint(0, height - crop_height + 1, size=(1,)).item())
        left = int(randint(0, width - crop_width + 1, size=(1,)).item())
        return top, left, crop_height, crop_width

    def forward(self, img: Any) -> Any:
        if self.padding is not None:
            img = functional.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = functional.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = functional.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = functional.pad(img, [0, self.size[0] - height], self.fill,
                                 self.padding_mode)
        top, left, crop_height, crop_width = self.get_params(img, self.size)
        return functional.crop(img, top, left, crop_height, crop_width)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class Resize(Module):
    """Resize to ``size`` (an int sets the shorter edge); see :func:`functional.resize`."""

    def __init__(self, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        super().__init__()
        if not isinstance(size, (numbers.Integral, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size, self.max_size, self.antialias = size, max_size, antialias
        self.interpolation = functional._interpolation(interpolation)

    def forward(self, img: Any) -> Any:
        return functional.resize(img, self.size, self.interpolation, self.max_size,
                                 self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, "
                f"antialias={self.antialias})")


class RandomRotation(Module):
    """Rotate by an angle drawn as ``torch.empty(1).uniform_(low, high)`` degrees
    (nearest neighbour, no expansion)."""

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST,
                 expand: bool = False, center: Sequence[int] | None = None,
                 fill: Any = 0) -> None:
        super().__init__()
        if isinstance(degrees, numbers.Number):
            if degrees < 0:  # type: ignore[operator]
                raise ValueError("If degrees is a single number, it must be positive.")
            degrees = [-float(degrees), float(degrees)]  # type: ignore[arg-type]
        elif not (isinstance(degrees, Sequence) and len(degrees) == 2):
            raise ValueError("If degrees is a sequence, it must be of len 2.")
        self.degrees = [float(d) for d in degrees]
        self.interpolation = functional._interpolation(interpolation)
        if self.interpolation is not InterpolationMode.NEAREST or expand:
            raise NotImplementedError("RandomRotation: only interpolation=NEAREST without "
                                      "expand is available in abdou_torch's torchvision")
        self.expand, self.center, self.fill = expand, center, fill

    @staticmethod
    def get_params(degrees: list[float]) -> float:
        from .... import empty
        return float(empty(1).uniform_(float(degrees[0]), float(degrees[1])).item())

    def forward(self, img: Any) -> Any:
        channels = functional.get_dimensions(img)[0]
        fill = self.fill
        if isinstance(fill, numbers.Number):
            fill = [float(fill)] * channels  # type: ignore[arg-type]
        elif fill is not None:
            fill = [float(value) for value in fill]
        angle = self.get_params(self.degrees)
        return functional.rotate(img, angle, self.interpolation, self.expand, self.center,
                                 fill)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(degrees={self.degrees}, interpolation="
                f"{self.interpolation.value}, expand={self.expand}, fill={self.fill})")
