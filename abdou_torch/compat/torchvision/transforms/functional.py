"""``torchvision.transforms.functional``: the image operations behind the transform classes.

Images are either tensors of shape (..., C, H, W) or (..., H, W) (any dtype; the last two
axes are the rows and columns), or the PIL-free :class:`~..image.Image` the datasets give
(torchvision's PIL images). Geometric operations return the kind they were given. The work
is done on the NumPy arrays: transforms run in the data pipeline, outside autograd.

Resizing follows PyTorch's ``interpolate`` (``align_corners=False``); with ``antialias``
(the default, as torchvision's) a downscale averages over the source pixels each output
pixel covers, with the triangle filter widened by the scale factor (PIL's and PyTorch's
antialiased bilinear). An :class:`Image` is resized by the same code in float32 and rounded
back to uint8 (PIL's own fixed-point arithmetic can differ by one grey level); its nearest
neighbour samples at pixel centres, PIL's rule.
"""
from __future__ import annotations

import enum
import math
import numbers
from collections.abc import Sequence
from typing import Any, Union

import numpy as np

from ....dtypes import as_dtype
from ....tensor import Tensor
from ..image import Image

__all__ = ["InterpolationMode", "to_tensor", "pil_to_tensor", "to_pil_image", "normalize",
           "convert_image_dtype", "to_dtype", "hflip", "vflip", "crop", "center_crop", "pad",
           "resize", "rotate", "get_image_size", "get_dimensions", "get_image_num_channels"]

ImageLike = Union[Tensor, Image]


class InterpolationMode(enum.Enum):
    """torchvision's interpolation modes (only NEAREST, NEAREST_EXACT and BILINEAR are
    implemented here)."""
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# ------------------------------------------------------------------ conversions

def _require_image(img: Any, name: str) -> None:
    if not isinstance(img, (Tensor, Image)):
        raise TypeError(f"{name}: img should be a Tensor or an Image (torchvision's PIL "
                        f"Image), got {type(img).__name__}")


def to_tensor(pic: Any) -> Tensor:
    """``ToTensor``: an Image or an (H, W[, C]) ndarray -> a (C, H, W) tensor; uint8 values
    are scaled to float32 ``x / 255``, other dtypes are kept unscaled (as torchvision)."""
    if isinstance(pic, Image):
        array = np.asarray(pic)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    if array.ndim == 2:
        array = array[:, :, None]
    chw = np.ascontiguousarray(array.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return Tensor(chw.astype(np.float32) / np.float32(255))
    return Tensor(chw)


def pil_to_tensor(pic: Any) -> Tensor:
    """``PILToTensor``: an Image -> its uint8 (C, H, W) tensor, values unchanged."""
    if not isinstance(pic, Image):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    array = np.asarray(pic)
    if array.ndim == 2:
        array = array[:, :, None]
    return Tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))


def to_pil_image(pic: Any, mode: str | None = None) -> Image:
    """``ToPILImage``: a (C, H, W) tensor or (H, W, C) ndarray -> an :class:`Image`
    (floats are taken as [0, 1] and become ``uint8(x * 255)``, torchvision's rule)."""
    if mode not in (None, "L", "RGB", "RGBA"):
        raise ValueError(f"to_pil_image: mode {mode!r} is not supported here (L, RGB, RGBA)")
    if isinstance(pic, Tensor):
        array = np.asarray(pic.data)
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3:
            raise ValueError(f"pic should be 2/3 dimensional. Got {array.ndim} dimensions.")
        array = array.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        array = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if np.issubdtype(array.dtype, np.floating):
        array = (array * 255).astype(np.uint8)
    return Image(np.ascontiguousarray(array))


def _float_dtype(dtype: Any) -> bool:
    return bool(np.issubdtype(as_dtype(dtype), np.floating))


def _max_value(dtype: np.dtype) -> int:
    return int(np.iinfo(dtype).max)


def convert_image_dtype(image: Tensor, dtype: Any = None) -> Tensor:
    """Convert and rescale: float -> float is a cast; int -> float is ``x / max(int)``;
    float -> int is ``int(x * (max(int) + 1 - 0.001))``; int -> int rescales by the ratio
    of the two ranges (torchvision's rules)."""
    if not isinstance(image, Tensor):
        raise TypeError("Input img should be Tensor Image")
    target = as_dtype(dtype if dtype is not None else np.float32)
    array = np.asarray(image.data)
    source = array.dtype
    if source == target:
        return image
    if _float_dtype(source):
        if _float_dtype(target):
            return Tensor(array.astype(target))
        if (source == np.float32 and target in (np.int32, np.int64)) or \
                (source == np.float64 and target == np.int64):
            raise RuntimeError(f"The cast from {source} to {target} cannot be performed "
                               f"safely.")
        eps = 1e-3
        scaled = array * (_max_value(target) + 1.0 - eps)
        return Tensor(scaled.astype(source).astype(target))
    source_max = _max_value(source)
    if _float_dtype(target):
        return Tensor(array.astype(target) / target.type(source_max))
    target_max = _max_value(target)
    if source_max > target_max:
        factor = (source_max + 1) // (target_max + 1)
        return Tensor((array // factor).astype(target))
    factor = (target_max + 1) // (source_max + 1)
    return Tensor(array.astype(target) * target.type(factor))


def to_dtype(image: Tensor, dtype: Any = None, scale: bool = False) -> Tensor:
    """``transforms.v2.ToDtype``: a cast, rescaled as :func:`convert_image_dtype` when
    ``scale``."""
    if scale:
        return convert_image_dtype(image, dtype)
    return Tensor(np.asarray(image.data).astype(as_dtype(dtype)))


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """``y[c] = (x[c] - mean[c]) / std[c]`` over the channel axis (-3) of a float tensor."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    array = tensor.data
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if array.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {tuple(tensor.shape)}")
    mean_array = np.asarray(mean, dtype=array.dtype).reshape(-1, 1, 1)
    std_array = np.asarray(std, dtype=array.dtype).reshape(-1, 1, 1)
    if (std_array == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {tensor.dtype}, leading "
                         f"to division by zero.")
    channels = array.shape[-3]
    for name, values in (("mean", mean_array), ("std", std_array)):
        if values.shape[0] not in (1, channels):
            raise ValueError(f"normalize: {name} has {values.shape[0]} values for "
                             f"{channels} channels")
    result = (array - mean_array) / std_array
    if inplace:
        tensor.data[...] = result
        return tensor
    return Tensor(result)


# ------------------------------------------------------------------ geometry

def _planes(img: ImageLike) -> np.ndarray:
    """The pixels with rows and columns as the last two axes."""
    if isinstance(img, Image):
        array = np.asarray(img)
        return array if array.ndim == 2 else array.transpose(2, 0, 1)
    if img.data.ndim < 2:
        raise ValueError(f"expected an image tensor of shape (..., H, W), got shape "
                         f"{tuple(img.shape)}")
    return img.data


def _like(img: ImageLike, planes: np.ndarray) -> ImageLike:
    """``planes`` (rows and columns last) as the kind of ``img``."""
    if isinstance(img, Image):
        array = planes if planes.ndim == 2 else planes.transpose(1, 2, 0)
        return Image(np.ascontiguousarray(array))
    return Tensor(np.ascontiguousarray(planes))


def get_dimensions(img: ImageLike) -> list[int]:
    """[channels, height, width]."""
    _require_image(img, "get_dimensions")
    planes = _planes(img)
    channels = 1 if planes.ndim == 2 else planes.shape[-3]
    return [channels, planes.shape[-2], planes.shape[-1]]


def get_image_size(img: ImageLike) -> list[int]:
    """[width, height]."""
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img: ImageLike) -> int:
    return get_dimensions(img)[0]


def hflip(img: ImageLike) -> ImageLike:
    """Mirror left-right: ``y[..., i, j] = x[..., i, W - 1 - j]``."""
    _require_image(img, "hflip")
    return _like(img, _planes(img)[..., ::-1])


def vflip(img: ImageLike) -> ImageLike:
    """Mirror top-bottom: ``y[..., i, j] = x[..., H - 1 - i, j]``."""
    _require_image(img, "vflip")
    return _like(img, _planes(img)[..., ::-1, :])


def crop(img: ImageLike, top: int, left: int, height: int, width: int) -> ImageLike:
    """The ``height`` x ``width`` window at (``top``, ``left``); parts outside the image are
    zeros (torchvision pads the same way)."""
    _require_image(img, "crop")
    planes = _planes(img)
    rows, columns = planes.shape[-2:]
    before_rows, before_columns = max(0, -top), max(0, -left)
    after_rows = max(0, top + height - rows)
    after_columns = max(0, left + width - columns)
    if before_rows or before_columns or after_rows or after_columns:
        widths = [(0, 0)] * (planes.ndim - 2) + [(before_rows, after_rows),
                                                 (before_columns, after_columns)]
        planes = np.pad(planes, widths)
        top, left = top + before_rows, left + before_columns
    return _like(img, planes[..., top:top + height, left:left + width])


def _pair(size: Any, name: str) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)  # type: ignore[call-overload]
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[0]), int(size[1])
    raise ValueError(f"{name}: please provide only two dimensions (h, w) for size, got "
                     f"{size!r}")


def center_crop(img: ImageLike, output_size: Any) -> ImageLike:
    """The central ``output_size`` window (zero-padded first if larger than the image);
    ``top = round((H - h) / 2)`` with Python's round, as torchvision."""
    _require_image(img, "center_crop")
    crop_height, crop_width = _pair(output_size, "center_crop")
    _, height, width = get_dimensions(img)
    if crop_width > width or crop_height > height:
        padding = [(crop_width - width) // 2 if crop_width > width else 0,
                   (crop_height - height) // 2 if crop_height > height else 0,
                   (crop_width - width + 1) // 2 if crop_width > width else 0,
                   (crop_height - height + 1) // 2 if crop_height > height else 0]
        img = pad(img, padding, fill=0)
        _, height, width = get_dimensions(img)
        if crop_width == width and crop_height == height:
            return img
    top = int(round((height - crop_height) / 2.0))
    left = int(round((width - crop_width) / 2.0))
    return crop(img, top, left, crop_height, crop_width)


_PAD_MODES = {"constant": "constant", "edge": "edge", "reflect": "reflect",
              "symmetric": "symmetric"}


def _padding_sides(padding: Any) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) from an int or a sequence of 1, 2 or 4 ints."""
    if isinstance(padding, numbers.Integral):
        value = int(padding)
        return value, value, value, value
    if isinstance(padding, Sequence) and all(isinstance(p, numbers.Integral) for p in padding):
        values = [int(p) for p in padding]
        if len(values) == 1:
            return values[0], values[0], values[0], values[0]
        if len(values) == 2:
            return values[0], values[1], values[0], values[1]
        if len(values) == 4:
            return values[0], values[1], values[2], values[3]
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not {padding!r}")


def pad(img: ImageLike, padding: Any, fill: float = 0,
        padding_mode: str = "constant") -> ImageLike:
    """Pad the last two axes by (left, top, right, bottom); ``padding_mode`` is constant
    (``fill``), edge, reflect (mirror without the edge) or symmetric (with it)."""
    _require_image(img, "pad")
    if padding_mode not in _PAD_MODES:
        raise ValueError(f"Padding mode should be either constant, edge, reflect or "
                         f"symmetric, got {padding_mode!r}")
    if not isinstance(fill, numbers.Number):
        raise TypeError(f"pad: fill must be a number here, got {fill!r}")
    left, top, right, bottom = _padding_sides(padding)
    if min(left, top, right, bottom) < 0:
        raise ValueError(f"pad: negative padding {padding!r} is not supported here")
    planes = _planes(img)
    widths = [(0, 0)] * (planes.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        padded = np.pad(planes, widths, mode="constant",
                        constant_values=np.asarray(fill).astype(planes.dtype))
    else:
        padded = np.pad(planes, widths, mode=_PAD_MODES[padding_mode])  # type: ignore
    return _like(img, padded)


def _output_size(height: int, width: int, size: Any, max_size: int | None) -> tuple[int, int]:
    """torchvision's rule: an int (or one-element list) sets the shorter edge, keeping the
    aspect ratio (the longer edge truncated, at most ``max_size``); (h, w) is exact."""
    if isinstance(size, Sequence) and len(size) == 2:
        if max_size is not None:
            raise ValueError("max_size should only be passed if size specifies the length of "
                             "the smaller edge, i.e. size should be an int or a sequence of "
                             "length 1 in torchscript mode.")
        return int(size[0]), int(size[1])
    if isinstance(size, Sequence) and len(size) == 1:
        size = size[0]
    if not isinstance(size, numbers.Integral):
        raise TypeError(f"Size should be int or sequence. Got {type(size)}")
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = int(size), int(int(size) * long / short)
    if max_size is not None:
        if max_size <= new_short:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                             f"requested size for the smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_long, new_short) if width <= height else (new_short, new_long)


def _linear_weights(in_size: int, out_size: int, antialias: bool) -> np.ndarray:
    """The (out, in) matrix of bilinear resampling along one axis: output ``i`` is centred
    on source coordinate ``c = (i + 0.5) * s`` (``s = in / out``) and weighs source pixel
    ``j`` by ``max(0, 1 - |j + 0.5 - c| / w)``, normalised to sum to one, with ``w = s``
    when antialiasing a downscale and ``w = 1`` otherwise (PyTorch's formula)."""
    scale = in_size / out_size
    support = scale if antialias and scale >= 1.0 else 1.0
    centers = (np.arange(out_size) + 0.5) * scale
    sources = np.arange(in_size) + 0.5
    distance = np.abs(sources[None, :] - centers[:, None]) / support
    weights = np.maximum(0.0, 1.0 - distance)
    # PyTorch's kernel only visits source pixels in [c - w + 0.5, c + w + 0.5) (truncated)
    low = np.maximum((centers - support + 0.5).astype(np.int64), 0)
    high = np.minimum((centers + support + 0.5).astype(np.int64), in_size)
    index = np.arange(in_size)[None, :]
    weights[(index < low[:, None]) | (index >= high[:, None])] = 0.0
    return weights / weights.sum(axis=1, keepdims=True)


def _nearest_indices(in_size: int, out_size: int, exact: bool) -> np.ndarray:
    """PyTorch's ``nearest``: ``j = min(floor(i * s), in - 1)``; ``nearest-exact``:
    ``j = min(floor((i + 0.5) * s), in - 1)``, with ``s = in / out`` in float32."""
    scale = np.float32(in_size / out_size)
    positions = np.arange(out_size, dtype=np.float32) + (np.float32(0.5) if exact else 0)
    return np.minimum(np.floor(positions * scale).astype(np.int64), in_size - 1)


def _pil_nearest_indices(in_size: int, out_size: int) -> np.ndarray:
    """PIL's nearest neighbour: ``j = floor((i + 0.5) * s)``, the position accumulated by
    adding ``s`` once per pixel in float64 (so its rounding is PIL's)."""
    scale = in_size / out_size
    steps = np.full(out_size, scale)
    steps[0] = 0.5 * scale
    return np.minimum(np.floor(np.cumsum(steps)).astype(np.int64), in_size - 1)


def _resample(planes: np.ndarray, height: int, width: int, mode: InterpolationMode,
              antialias: bool, pil_nearest: bool = False) -> np.ndarray:
    if pil_nearest:
        rows = _pil_nearest_indices(planes.shape[-2], height)
        columns = _pil_nearest_indices(planes.shape[-1], width)
        return planes[..., rows[:, None], columns[None, :]]
    if mode in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT):
        exact = mode is InterpolationMode.NEAREST_EXACT
        rows = _nearest_indices(planes.shape[-2], height, exact)
        columns = _nearest_indices(planes.shape[-1], width, exact)
        return planes[..., rows[:, None], columns[None, :]]
    dtype = planes.dtype if np.issubdtype(planes.dtype, np.floating) else np.dtype(np.float32)
    values = planes.astype(dtype, copy=False)
    row_weights = _linear_weights(planes.shape[-2], height, antialias).astype(dtype)
    column_weights = _linear_weights(planes.shape[-1], width, antialias).astype(dtype)
    resized = np.matmul(np.matmul(row_weights, values), column_weights.T)
    if not np.issubdtype(planes.dtype, np.floating):
        info = np.iinfo(planes.dtype)
        resized = np.clip(np.rint(resized), info.min, info.max)
    return resized.astype(planes.dtype)


def _interpolation(mode: Any) -> InterpolationMode:
    if isinstance(mode, int) and not isinstance(mode, bool):
        # PIL's integer constants, still accepted by torchvision
        mode = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
                3: InterpolationMode.BICUBIC}.get(mode, mode)
    if isinstance(mode, str):
        mode = InterpolationMode(mode)
    if mode not in (InterpolationMode.NEAREST, InterpolationMode.NEAREST_EXACT,
                    InterpolationMode.BILINEAR):
        raise NotImplementedError(f"interpolation {mode} is not available in abdou_torch's "
                                  f"torchvision (NEAREST, NEAREST_EXACT and BILINEAR are)")
    return mode


def resize(img: ImageLike, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> ImageLike:
    """Resize the last two axes to ``size`` (see :func:`_output_size`). Integer images are
    interpolated in float32 and rounded half to even, as torchvision."""
    _require_image(img, "resize")
    mode = _interpolation(interpolation)
    planes = _planes(img)
    height, width = _output_size(planes.shape[-2], planes.shape[-1], size, max_size)
    if height <= 0 or width <= 0:
        raise ValueError(f"resize: output size ({height}, {width}) must be positive")
    if (height, width) == planes.shape[-2:]:
        return img
    is_image = isinstance(img, Image)  # PIL always antialiases, and samples nearest its way
    pil_nearest = is_image and mode is not InterpolationMode.BILINEAR
    return _like(img, _resample(planes, height, width, mode, bool(antialias) or is_image,
                                pil_nearest))


def _rotation_sources(height: int, width: int, angle: float,
                      center: Sequence[float] | None) -> tuple[np.ndarray, np.ndarray]:
    """For each output pixel, the source pixel coordinates (column, row) of a rotation by
    ``angle`` degrees counter-clockwise about ``center`` (default: the image centre):
    ``[x_s, y_s] = R(-angle) [x - c_x, y - c_y] + c``, pixel centres at half-integers."""
    cx, cy = (width * 0.5, height * 0.5) if center is None else \
        (float(center[0]), float(center[1]))
    radians = math.radians(angle)
    cos, sin = math.cos(radians), math.sin(radians)
    ys, xs = np.meshgrid(np.arange(height) + 0.5 - cy, np.arange(width) + 0.5 - cx,
                         indexing="ij")
    source_x = cos * xs - sin * ys + cx
    source_y = sin * xs + cos * ys + cy
    return source_x, source_y


def rotate(img: ImageLike, angle: float, interpolation: Any = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[int] | None = None,
           fill: Any = None) -> ImageLike:
    """Rotate by ``angle`` degrees counter-clockwise (nearest neighbour; pixels from
    outside the image are ``fill``, default 0)."""
    _require_image(img, "rotate")
    if expand:
        raise NotImplementedError("rotate(expand=True) is not available in abdou_torch's "
                                  "torchvision")
    if _interpolation(interpolation) is not InterpolationMode.NEAREST:
        raise NotImplementedError("rotate: only InterpolationMode.NEAREST is available in "
                                  "abdou_torch's torchvision")
    planes = _planes(img)
    height, width = planes.shape[-2:]
    source_x, source_y = _rotation_sources(height, width, float(angle), center)
    # grid_sample(nearest): the source pixel whose centre is nearest, half to even
    columns, rows = np.rint(source_x - 0.5).astype(np.int64), np.rint(source_y - 0.5).astype(
        np.int64)
    inside = (columns >= 0) & (columns < width) & (rows >= 0) & (rows < height)
    rotated = planes[..., np.clip(rows, 0, height - 1), np.clip(columns, 0, width - 1)]
    fill_value = np.asarray(0 if fill is None else fill, dtype=planes.dtype)
    if fill_value.ndim == 1 and planes.ndim >= 3:
        fill_value = fill_value[:, None, None]
    return _like(img, np.where(inside, rotated, fill_value))
