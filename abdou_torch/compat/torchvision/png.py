"""A small PNG writer (no PIL): 8-bit grayscale, RGB or RGBA, no interlacing.

Layout (PNG specification, ISO/IEC 15948): the 8-byte signature, then chunks
``length | type | data | crc32(type + data)``: IHDR (width, height, bit depth 8, colour type
0/2/6, compression 0, filter 0, interlace 0), one IDAT holding the zlib stream of the rows,
each row prefixed by its filter type (0, none), and IEND.
"""
from __future__ import annotations

import os
import struct
import tempfile
import zlib
from typing import IO, Union

import numpy as np

__all__ = ["encode_png", "write_png"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}  # channels -> PNG colour type (gray, RGB, RGBA)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I",
                                                                    zlib.crc32(kind + data))


def encode_png(pixels: np.ndarray) -> bytes:
    """The PNG file for ``pixels``: uint8 (H, W), or (H, W, C) with C in 1, 3, 4."""
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise TypeError(f"encode_png: expected uint8 pixels, got {pixels.dtype}")
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in _COLOUR_TYPES or 0 in pixels.shape[:2]:
        raise ValueError(f"encode_png: expected (H, W) or (H, W, 1|3|4) pixels with H, W > 0, "
                         f"got shape {pixels.shape}")
    height, width, channels = pixels.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    rows = np.concatenate([np.zeros((height, 1), np.uint8),
                           np.ascontiguousarray(pixels).reshape(height, width * channels)],
                          axis=1)
    return (_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + _chunk(b"IEND", b""))


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def write_png(pixels: np.ndarray, fp: Union[str, "os.PathLike[str]", IO[bytes]]) -> None:
    """Write ``pixels`` as PNG to a path (atomically: temporary file, fsync, rename) or to a
    binary file object."""
    data = encode_png(pixels)
    if hasattr(fp, "write"):
        fp.write(data)
        return
    path = os.fspath(fp)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".png-", dir=directory)
    try:
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 is not what open() gives
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
