"""Reading and writing IDX files, the format MNIST-style data sets are distributed in.

Layout: two zero bytes, a type code, the number of dimensions, one big-endian uint32 per
dimension, then the values in big-endian C order. Files may be gzip-compressed.

The reader treats every file as untrusted: the header is checked against the bytes that
are actually present before anything of the claimed size is allocated, and every problem
is reported as a ``ValueError`` that names the file.
"""
from __future__ import annotations

import gzip
import io
import os
import tempfile
import zlib
from pathlib import Path
from typing import Union

import numpy as np

__all__ = ["read_idx", "write_idx", "IDX_DTYPES", "MAX_IDX_BYTES"]

PathLike = Union[str, "os.PathLike[str]"]

# Type code -> NumPy dtype (native byte order; files store big-endian).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(np.int16),
    0x0C: np.dtype(np.int32),
    0x0D: np.dtype(np.float32),
    0x0E: np.dtype(np.float64),
}
_TYPE_CODES = {dtype: code for code, dtype in IDX_DTYPES.items()}

# No real data set comes near this; a header claiming more is corrupt or hostile.
MAX_IDX_BYTES = 1 << 36
_MAX_NDIM = 32
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22

_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


def read_idx(path: PathLike) -> np.ndarray:
    """Read an IDX file (plain or gzip) into a native-endian, writable ndarray.

    Raises ``ValueError`` naming ``path`` for a bad magic number, unknown type code, a
    truncated header or data, trailing bytes, absurd dimensions or a broken gzip stream.
    """
    path = Path(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _read_plain(raw, path)
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _read_gzip(stream, path)
        except _GZIP_ERRORS as error:
            raise ValueError(f"{path}: broken gzip stream ({error})") from None


def _read_plain(stream: io.BufferedIOBase, path: Path) -> np.ndarray:
    """Plain files know their size, so header and size are checked before reading data."""
    file_size = os.fstat(stream.fileno()).st_size
    dtype, shape, header_size = _read_header(stream, path)
    expected = _data_nbytes(dtype, shape, path)
    actual = file_size - header_size
    _check_data_size(path, expected, actual)
    buffer = bytearray(expected)
    if stream.readinto(buffer) != expected:  # the file shrank while we read it
        raise ValueError(f"{path}: file changed while being read")
    return _to_array(buffer, dtype, shape)


def _read_gzip(stream: io.BufferedIOBase, path: Path) -> np.ndarray:
    """Compressed files do not know their size: the buffer only grows as data arrives."""
    dtype, shape, _ = _read_header(stream, path)
    expected = _data_nbytes(dtype, shape, path)
    buffer = bytearray()
    while len(buffer) < expected:
        chunk = stream.read(min(_CHUNK, expected - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    _check_data_size(path, expected, len(buffer))
    # Reading to the end also makes gzip verify its CRC and length trailer.
    extra = len(stream.read(_CHUNK))
    if extra:
        extra += _count_rest(stream)
        _check_data_size(path, expected, expected + extra)
    return _to_array(buffer, dtype, shape)


def _count_rest(stream: io.BufferedIOBase) -> int:
    total = 0
    while chunk := stream.read(_CHUNK):
        total += len(chunk)
    return total


def _read_exact(stream: io.BufferedIOBase, size: int, path: Path, what: str) -> bytes:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise ValueError(f"{path}: too few bytes for the {what}: expected {size}, "
                             f"got {len(data)}")
        data += chunk
    return data


def _read_header(stream: io.BufferedIOBase, path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """Parse magic, type code and dimensions; returns (dtype, shape, header size)."""
    magic = _read_exact(stream, 4, path, "header")
    if magic[:2] != b"\x00\x00":
        raise ValueError(f"{path}: bad magic number {magic.hex()} (an IDX file starts "
                         f"with two zero bytes)")
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX type code 0x{code:02X} (known: "
                         + ", ".join(f"0x{c:02X}" for c in IDX_DTYPES) + ")")
    if ndim > _MAX_NDIM:
        raise ValueError(f"{path}: absurd number of dimensions {ndim} (at most {_MAX_NDIM})")
    dims = _read_exact(stream, 4 * ndim, path, "header")
    shape = tuple(int(d) for d in np.frombuffer(dims, dtype=">u4"))
    return IDX_DTYPES[code], shape, 4 + 4 * ndim


def _data_nbytes(dtype: np.dtype, shape: tuple[int, ...], path: Path) -> int:
    """Byte count the header claims, refusing absurd claims (Python ints cannot overflow)."""
    count = 1
    for dim in shape:
        count *= dim
    nbytes = count * dtype.itemsize
    if nbytes > MAX_IDX_BYTES:
        raise ValueError(f"{path}: absurd dimensions {shape}: the header claims {nbytes} "
                         f"bytes of data (limit {MAX_IDX_BYTES})")
    return nbytes


def _check_data_size(path: Path, expected: int, actual: int) -> None:
    if actual < expected:
        raise ValueError(f"{path}: too few bytes for the data: expected {expected}, "
                         f"got {actual} (truncated file)")
    if actual > expected:
        raise ValueError(f"{path}: {actual - expected} trailing bytes after the data "
                         f"(expected {expected} data bytes, got {actual})")


def _to_array(buffer: bytearray, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    array = np.frombuffer(buffer, dtype=dtype.newbyteorder(">")).reshape(shape)
    # astype copies only when the machine is little-endian; a bytearray stays writable.
    return array.astype(dtype, copy=False)


def write_idx(path: PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when ``path`` ends with ``.gz``.

    The write is atomic: data goes to a temporary file in the same directory, is flushed
    and fsynced, then renamed over ``path``; a failure leaves no partial file behind.
    """
    path = Path(path)
    array = np.asarray(array)
    header = _encode_header(array)
    data = array.astype(array.dtype.newbyteorder(">"), copy=False).tobytes()
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as raw:
            if path.name.endswith(".gz"):
                # mtime=0 keeps the output identical across runs.
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as stream:
                    stream.write(header)
                    stream.write(data)
            else:
                raw.write(header)
                raw.write(data)
            raw.flush()
            # mkstemp creates 0600 files; give the result the mode open() would have given.
            os.fchmod(raw.fileno(), 0o666 & ~_current_umask())
            os.fsync(raw.fileno())
        os.replace(temp_name, path)
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(path.parent)


def _encode_header(array: np.ndarray) -> bytes:
    native = array.dtype.newbyteorder("=")
    if native not in _TYPE_CODES:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type code (supported: "
                        + ", ".join(str(d) for d in IDX_DTYPES.values()) + ")")
    if array.ndim > _MAX_NDIM:
        raise ValueError(f"write_idx: {array.ndim} dimensions is more than {_MAX_NDIM}")
    if any(dim >= 1 << 32 for dim in array.shape):
        raise ValueError(f"write_idx: dimension too large for IDX in shape {array.shape}")
    dims = np.asarray(array.shape, dtype=">u4").tobytes()
    return bytes([0, 0, _TYPE_CODES[native], array.ndim]) + dims


def _current_umask() -> int:
    """The process umask (reading it means setting it; the window is a few instructions)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX only; elsewhere opening a dir fails)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
