"""IDX reading and writing: round trips, the exact byte layout, and every corruption case."""
from __future__ import annotations

import gzip
import os
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from abdou_torch.data import read_idx, write_idx
from abdou_torch.data.datasets import idx as idx_module

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]
CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D,
         np.float64: 0x0E}


def sample_array(dtype, shape=(3, 4, 5)) -> np.ndarray:
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
        array.flat[:2] = [info.min, info.max]  # extremes catch sign or width mistakes
        return array
    return (rng.standard_normal(shape) * 1e3).astype(dtype)


def header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_each_dtype(tmp_path: Path, dtype, suffix: str) -> None:
    array = sample_array(dtype)
    path = tmp_path / f"x-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == (suffix == ".gz")


@pytest.mark.parametrize("shape", [(0,), (7,), (0, 28, 28), (2, 1, 3, 1), ()])
def test_round_trip_shapes(tmp_path: Path, shape) -> None:
    array = np.arange(int(np.prod(shape)), dtype=np.int32).reshape(shape)
    write_idx(tmp_path / "a", array)
    back = read_idx(tmp_path / "a")
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_written_bytes_are_big_endian_standard_layout(tmp_path: Path) -> None:
    write_idx(tmp_path / "a", np.array([[1, 256, -2]], dtype=np.int16))
    assert (tmp_path / "a").read_bytes() == (header(0x0B, (1, 3))
                                             + b"\x00\x01" + b"\x01\x00" + b"\xff\xfe")


def test_reads_a_hand_made_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(header(0x0D, (2,)) + struct.pack(">2f", 1.5, -2.25))
    np.testing.assert_array_equal(read_idx(tmp_path / "f"), np.array([1.5, -2.25], np.float32))


def test_gzip_is_detected_by_magic_not_by_name(tmp_path: Path) -> None:
    array = sample_array(np.uint8)
    write_idx(tmp_path / "a.gz", array)
    os.rename(tmp_path / "a.gz", tmp_path / "no-suffix")
    np.testing.assert_array_equal(read_idx(tmp_path / "no-suffix"), array)


def test_big_endian_input_array_is_written_correctly(tmp_path: Path) -> None:
    write_idx(tmp_path / "a", np.array([1, 2, 3], dtype=">i4"))
    back = read_idx(tmp_path / "a")
    assert back.dtype == np.dtype(np.int32)
    np.testing.assert_array_equal(back, [1, 2, 3])


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float16, np.uint16])
def test_write_rejects_dtypes_without_a_type_code(tmp_path: Path, dtype) -> None:
    with pytest.raises(TypeError, match="IDX type code"):
        write_idx(tmp_path / "a", np.zeros(3, dtype=dtype))
    assert list(tmp_path.iterdir()) == []


def test_write_is_atomic_and_cleans_up_on_failure(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "a"
    write_idx(target, np.arange(4, dtype=np.uint8))
    before = target.read_bytes()

    def failing_replace(src, dst):
        raise OSError("disk on fire")

    monkeypatch.setattr(idx_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        write_idx(target, np.arange(9, dtype=np.uint8))
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600)])
def test_written_file_mode_follows_umask(tmp_path: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        write_idx(tmp_path / "a", np.arange(3, dtype=np.uint8))
    finally:
        os.umask(previous)
    assert (tmp_path / "a").stat().st_mode & 0o777 == mode


def test_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    write_idx(tmp_path / "a.gz", np.arange(4, dtype=np.uint8))
    write_idx(tmp_path / "a.gz", np.arange(5, dtype=np.uint8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gz"]
    assert read_idx(tmp_path / "a.gz").shape == (5,)


# -- corruption: each case must raise ValueError naming the file --------------------------

def write_raw(path: Path, data: bytes, compress: bool) -> Path:
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def expect_error(path: Path, pattern: str) -> ValueError:
    with pytest.raises(ValueError, match=pattern) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    return info.value


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("data", [b"", b"\x00\x00\x08", header(0x08, (2, 3))[:9]])
def test_truncated_header(tmp_path: Path, data: bytes, compress: bool) -> None:
    path = write_raw(tmp_path / "t", data, compress)
    expect_error(path, "too few bytes for the header")


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_data_reports_expected_and_actual(tmp_path: Path, compress: bool) -> None:
    data = header(0x0C, (2, 5)) + bytes(4 * 10 - 3)
    path = write_raw(tmp_path / "t", data, compress)
    expect_error(path, r"too few bytes for the data: expected 40, got 37")


@pytest.mark.parametrize("compress", [False, True])
def test_trailing_bytes(tmp_path: Path, compress: bool) -> None:
    data = header(0x08, (4,)) + bytes(4) + b"junk!"
    path = write_raw(tmp_path / "t", data, compress)
    expect_error(path, r"5 trailing bytes after the data \(expected 4 data bytes, got 9\)")


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("magic", [b"\x01\x00", b"\x00\x07", b"PK"])
def test_bad_magic(tmp_path: Path, magic: bytes, compress: bool) -> None:
    path = write_raw(tmp_path / "t", magic + b"\x08\x01" + bytes(8), compress)
    expect_error(path, "bad magic number")


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("code", [0x00, 0x0A, 0x0F, 0xFF])
def test_unknown_type_code(tmp_path: Path, code: int, compress: bool) -> None:
    path = write_raw(tmp_path / "t", header(code, (1,)) + b"\x00" * 8, compress)
    expect_error(path, f"unknown IDX type code 0x{code:02X}")


@pytest.mark.parametrize("compress", [False, True])
def test_absurd_number_of_dimensions(tmp_path: Path, compress: bool) -> None:
    path = write_raw(tmp_path / "t", b"\x00\x00\x08\xc8" + bytes(800), compress)
    expect_error(path, "absurd number of dimensions 200")


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dims", [(10**6, 10**6), (2**32 - 1,) * 3])
def test_huge_claimed_dims_are_refused_without_allocating(tmp_path: Path, dims,
                                                          compress: bool) -> None:
    path = write_raw(tmp_path / "t", header(0x0E, dims) + bytes(64), compress)
    tracemalloc.start()
    try:
        expect_error(path, "absurd dimensions")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


@pytest.mark.parametrize("compress", [False, True])
def test_large_claim_below_the_limit_fails_on_size_without_allocating(
        tmp_path: Path, compress: bool) -> None:
    # 2 GB claimed (under the absurdity limit), 100 bytes present.
    path = write_raw(tmp_path / "t", header(0x08, (2000, 1000, 1000)) + bytes(100), compress)
    tracemalloc.start()
    try:
        expect_error(path, "too few bytes for the data: expected 2000000000, got 100")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def test_broken_gzip_corrupted_stream(tmp_path: Path) -> None:
    payload = gzip.compress(header(0x08, (4096,)) + np.arange(4096, dtype=np.uint8).tobytes())
    damaged = bytearray(payload)
    for position in range(20, len(damaged) - 20, 7):
        damaged[position] ^= 0x5A
    path = tmp_path / "b.gz"
    path.write_bytes(bytes(damaged))
    expect_error(path, "broken gzip stream")


def test_broken_gzip_truncated_stream(tmp_path: Path) -> None:
    payload = gzip.compress(header(0x08, (4096,)) + bytes(range(256)) * 16)
    path = tmp_path / "b.gz"
    path.write_bytes(payload[: len(payload) // 2])
    expect_error(path, "broken gzip stream")


def test_broken_gzip_bad_crc(tmp_path: Path) -> None:
    payload = bytearray(gzip.compress(header(0x08, (4,)) + b"abcd"))
    payload[-8] ^= 0xFF  # the CRC32 in the trailer
    path = tmp_path / "b.gz"
    path.write_bytes(bytes(payload))
    expect_error(path, "broken gzip stream")


def test_broken_gzip_header(tmp_path: Path) -> None:
    path = tmp_path / "b.gz"
    path.write_bytes(b"\x1f\x8b\x63garbage-not-deflate")
    expect_error(path, "broken gzip stream")


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope")
