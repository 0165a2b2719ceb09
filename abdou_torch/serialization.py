"""Safe checkpoints: ``save``/``load`` (``torch.save``/``torch.load``) as safetensors files.

``save(obj, f)`` takes what programs save: a state dict, or a tree of dicts, lists and
tuples holding tensors, arrays, numbers, strings, booleans and None (a model's and an
optimizer's state dicts with an epoch counter and a config). It writes ONE standard
safetensors file: every tensor under its key path (``model.fc1.weight``), and the tree
itself as JSON in the header's ``__metadata__`` under ``"abdou_torch.structure"`` (the
grammar is in :mod:`abdou_torch.object_tree`). Any safetensors reader therefore reads the
weights: a flat state dict's tensors keep their keys as names, so
``safetensors.torch.load_file`` gives PyTorch the same state dict. A file without the
structure (written by another tool) loads as ``{name: Tensor}``. ``f`` is a path or a binary
file object (``io.BytesIO`` included).

Two promises:

* Loading never runs code. Only the safetensors format is read (no pickle, no eval), and the
  file is checked against the format before any tensor is built, so a corrupt or hostile
  file gives a ``ValueError`` that names the file and the problem.
* Saving never leaves a broken file. The bytes are produced and checked in memory first, then
  written to a hidden temporary file in the target's directory, flushed, fsynced and moved
  onto the target with ``os.replace`` (atomic); the directory is fsynced too. A crash leaves
  either the old file or the new one. Temporaries of writers that died (SIGKILL, power loss)
  are removed by the next ``save`` to the same path.

Format (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
``N``, ``N`` bytes of UTF-8 JSON mapping tensor names to ``{"dtype", "shape",
"data_offsets"}`` (plus an optional ``"__metadata__"`` str->str object), then the data buffer.
Offsets are relative to the buffer; tensors must tile it exactly, with no overlap or holes.

The saved structure restores dict order. A file without one gives its entries in the order
of the file's header: the safetensors writer sorts them by dtype (wider types first), then
by name; ``load_state_dict`` matches by name, so that order does not matter for a model.

A PyTorch ``.pt``/``.pth`` file (a pickle, possibly zipped) is recognised and refused with
the one-line PyTorch command that converts it; it is never unpickled.
"""
from __future__ import annotations

import io
import math
import os
import re
import secrets
import struct
import sys
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, BinaryIO, Union

import numpy as np

from . import object_tree
from .tensor import Tensor

__all__ = ["save", "load", "load_with_metadata"]

#: The ``__metadata__`` entry that holds the saved object's structure (JSON).
STRUCTURE_KEY = "abdou_torch.structure"

PathLike = Union[str, "os.PathLike[str]"]
PathOrFile = Union[str, "os.PathLike[str]", BinaryIO]

# The safetensors reference implementation refuses headers over 100 MB; so do we, which also
# bounds the memory a hostile header length can make us allocate.
MAX_HEADER_BYTES = 100_000_000

# Safetensors dtype name -> little-endian NumPy dtype the bytes are read as.
_FILE_DTYPES: dict[str, np.dtype] = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # NumPy has no bfloat16: read the bits, widen to float32
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("u1"),
}
# Dtypes the format defines but abdou_torch has no tensor type for.
_UNSUPPORTED_DTYPES = {
    "U16", "U32", "U64", "C64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",
}
# NumPy dtype (native byte order) -> safetensors name, for the dtypes ``save`` accepts.
_SAVE_DTYPES: dict[np.dtype, str] = {
    np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
    np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.int16): "I16",
    np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8", np.dtype(np.bool_): "BOOL",
}
_SUPPORTED_NAMES = "float64, float32, float16, int64, int32, int16, int8, uint8, bool"


# --------------------------------------------------------------------------------- public API

def save(obj: Any, f: PathOrFile, metadata: Mapping[str, str] | None = None,
         **pickle_options: Any) -> None:
    """Save ``obj`` (a state dict, or a tree of containers of tensors; see the module
    docstring) to the path or binary file object ``f``.

    Everything is validated and the bytes produced before the disk is touched: an object
    that cannot be stored gets a TypeError naming its key path (``obj['config']['act']``),
    and ``f`` is left as it was. A path is written atomically and durably. ``metadata``
    (str -> str) is stored in the header; ``pickle_module``/``pickle_protocol`` (PyTorch's
    options for its pickle) are accepted and mean nothing here.

    >>> import io
    >>> import abdou_torch as torch
    >>> buffer = io.BytesIO()
    >>> torch.save({"weight": torch.ones(2, 3), "step": 10}, buffer)
    >>> torch.load(io.BytesIO(buffer.getvalue()))
    {'weight': tensor([[1., 1., 1.],
            [1., 1., 1.]]), 'step': 10}
    """
    _check_pickle_options(pickle_options, ("pickle_module", "pickle_protocol",
                                           "_use_new_zipfile_serialization",
                                           "_disable_byteorder_record"), "save")
    arrays, structure = object_tree.flatten(obj, _array_to_save)
    meta = _check_metadata(metadata) or {}
    meta[STRUCTURE_KEY] = structure
    data = _serialize(arrays, meta)
    if _is_file_object(f, "write"):
        _write_file_object(f, data)
    else:
        _atomic_write(_as_path(f), data)


def load(f: PathOrFile, map_location: Any = None, pickle_module: Any = None, *,
         weights_only: bool | None = None, mmap: bool | None = None,
         **pickle_load_args: Any) -> Any:
    """Load what :func:`save` stored in ``f`` (a path or a binary file object).

    A file without abdou_torch's structure (e.g. from ``safetensors.torch.save_file``) gives
    ``{name: Tensor}`` in the order of its header. ``map_location`` is accepted as in
    PyTorch (``"cpu"``, a device, a dict, or ``fn(tensor, location)``); a GPU location raises
    as on a CPU-only PyTorch. ``weights_only`` and ``mmap`` are accepted: nothing is ever
    unpickled here, so every load is as safe as PyTorch's ``weights_only=True``.

    Raises ``ValueError`` naming the file if it is not a valid file (a PyTorch pickle
    checkpoint is recognised and the conversion command given), and ``OSError`` if it
    cannot be opened.
    """
    if pickle_module is not None:
        raise TypeError("load: pickle_module is not supported: abdou_torch never unpickles")
    _check_pickle_options(pickle_load_args, ("encoding", "errors"), "load")
    obj = load_with_metadata(f)[0]
    return _map_location(obj, map_location)


def load_with_metadata(f: PathOrFile) -> tuple[Any, dict[str, str]]:
    """Like :func:`load`, also returning the file's ``__metadata__`` (``{}`` if it has none;
    abdou_torch's structure entry is not part of it)."""
    name, arrays, metadata = _read_source(f)
    structure = metadata.pop(STRUCTURE_KEY, None)
    if structure is None:
        return {key: Tensor(array) for key, array in arrays.items()}, metadata
    try:
        return object_tree.unflatten(structure, arrays), metadata
    except ValueError as error:
        raise _fail(name, f"__metadata__[{STRUCTURE_KEY!r}]: {error}") from None


# ------------------------------------------------------------------------------ shared helpers

def _as_path(f: Any) -> str:
    """``f`` as a str path (after file objects were handled)."""
    try:
        return os.fsdecode(os.fspath(f))
    except TypeError:
        raise TypeError(f"expected a file path (str or os.PathLike) or a binary file object, "
                        f"got {type(f).__name__}") from None


def _is_file_object(f: Any, method: str) -> bool:
    """A file-like object (it has ``method``), refused if it is a text stream."""
    if isinstance(f, (str, bytes, os.PathLike)) or not hasattr(f, method):
        return False
    if isinstance(f, io.TextIOBase):
        raise TypeError(f"{_file_name(f)} is opened in text mode; open it in binary mode "
                        f"('wb' to save, 'rb' to load)")
    return True


def _file_name(f: Any) -> str:
    name = getattr(f, "name", None)
    return str(name) if isinstance(name, (str, bytes, int)) else f"<{type(f).__name__}>"


def _check_pickle_options(options: dict[str, Any], accepted: tuple[str, ...], op: str) -> None:
    """PyTorch's pickle options are accepted (there is no pickle); anything else is a typo."""
    for option in options:
        if option not in accepted:
            raise TypeError(f"{op}() got an unexpected keyword argument {option!r}")


def _map_location(obj: Any, map_location: Any) -> Any:
    """Apply ``map_location`` as PyTorch would; every tensor here lives on the CPU."""
    if map_location is None:
        return obj
    if callable(map_location) and not isinstance(map_location, (str, dict)):
        return _map_tensors(obj, lambda t: _mapped(map_location(t, "cpu"), t))
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        device = str(getattr(target, "type", target))
        if not device.startswith("cpu"):
            raise RuntimeError(f"Attempting to deserialize object on a {device.upper()} device "
                               f"but abdou_torch has no {device} backend (it runs on the CPU "
                               f"only). Use map_location='cpu' (or leave it out).")
    return obj


def _mapped(result: Any, tensor: Tensor) -> Tensor:
    return tensor if result is None else result


def _map_tensors(obj: Any, function: Any) -> Any:
    if isinstance(obj, Tensor):
        return function(obj)
    if isinstance(obj, dict):
        mapped = type(obj)() if type(obj) in (dict, OrderedDict) else {}
        for key, value in obj.items():
            mapped[key] = _map_tensors(value, function)
        return mapped
    if isinstance(obj, (list, tuple)):
        return type(obj)(_map_tensors(value, function) for value in obj)
    return obj


# ---------------------------------------------------------------------------------- saving

def _array_to_save(where: str, array: np.ndarray) -> np.ndarray:
    """``array`` made C-contiguous and little-endian, if the format can hold its dtype."""
    native = array.dtype.newbyteorder("=")
    if native not in _SAVE_DTYPES:
        raise TypeError(f"{where} has unsupported dtype {array.dtype}; "
                        f"supported: {_SUPPORTED_NAMES}")
    # Little-endian is what the file stores; C order is what the writer copies byte for byte.
    # (Not np.ascontiguousarray: it turns 0-d arrays into 1-d ones.)
    return np.asarray(array, dtype=native.newbyteorder("<"), order="C")


def _check_utf8(text: str, what: str) -> None:
    """Lone surrogates cannot go into the UTF-8 JSON header."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid Unicode (cannot be encoded as UTF-8)") from None


def _check_metadata(metadata: Any) -> dict[str, str] | None:
    """Metadata must be a str -> str mapping (safetensors stores text only)."""
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping of str -> str, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"metadata entry {key!r}: {value!r} is not str -> str "
                            f"({type(key).__name__} -> {type(value).__name__})")
        _check_utf8(key, f"metadata key {key!r}")
        _check_utf8(value, f"metadata[{key!r}]")
        if key == STRUCTURE_KEY:
            raise ValueError(f"metadata key {key!r} is reserved for the saved structure")
    return dict(metadata)


def _serialize(arrays: dict[str, np.ndarray], metadata: dict[str, str] | None) -> bytes:
    """The safetensors bytes, produced by the safetensors package and checked for size."""
    from safetensors.numpy import save as safetensors_save

    try:
        data = safetensors_save(arrays, metadata=metadata)
    except Exception as exc:  # the package raises its own error types; report them uniformly
        raise ValueError(f"safetensors could not serialize the object: {exc}") from exc
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > MAX_HEADER_BYTES:
        # Such a file would be refused by load (and by the reference loader): don't write it.
        raise ValueError(f"the safetensors header would be {header_len} bytes, over the "
                         f"{MAX_HEADER_BYTES}-byte limit; use fewer/shorter keys or metadata")
    return data


def _write_file_object(f: Any, data: bytes) -> None:
    """Write all of ``data`` to a caller's file object (atomicity is then the caller's)."""
    written = f.write(data)
    if written is not None and written != len(data):  # raw, unbuffered streams may stop short
        view = memoryview(data)[written:]
        while view:
            count = f.write(view)
            if not count:
                raise OSError(f"{_file_name(f)}: write stopped after "
                              f"{len(data) - len(view)} of {len(data)} bytes")
            view = view[count:]


# ------------------------------------------------------------------------------ atomic writes

# Temporaries are named ".<target>.<host>-<pid>-<random>.tmp": hidden, unique per writer, and
# telling which process on which machine owns them, so stale ones can be recognised.
_HOST_TAG = format(zlib.crc32(os.uname().nodename.encode()) if hasattr(os, "uname") else 0,
                   "08x")


def _temp_stem(target_name: str) -> str:
    """The target's name, cut so the temporary's name stays under the usual 255-byte limit."""
    return target_name.encode("utf-8", "surrogateescape")[:200].decode("utf-8", "ignore")


def _temp_name(target_name: str) -> str:
    stem = _temp_stem(target_name)
    return f".{stem}.{_HOST_TAG}-{os.getpid()}-{secrets.token_hex(6)}.tmp"


def _atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash at any moment leaves the old or new file.

    A symlink is written through (the link stays, its target gets the new contents), as a
    plain ``open(path, "wb")`` would; the temporary lives next to the real file so that the
    rename stays on one filesystem.
    """
    target = os.path.realpath(path)
    directory, name = os.path.split(target)
    _remove_stale_temps(directory, name)
    temp = os.path.join(directory, _temp_name(name))
    # O_EXCL: never follow or reuse someone else's file; mode 0o666 & ~umask like open().
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # data on disk before the rename makes it visible
        os.replace(temp, target)
    except BaseException:  # includes KeyboardInterrupt: never leave the temporary behind
        _unlink_quietly(temp)
        raise
    _fsync_directory(directory)  # make the rename itself durable


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _fsync_directory(directory: str) -> None:
    """fsync a directory entry; not possible on every OS/filesystem, where we do without."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temps(directory: str, target_name: str) -> None:
    """Delete temporaries for ``target_name`` left by dead writers on this machine.

    A SIGKILLed writer cannot clean up after itself. Only files whose owning process is known
    to be gone are removed: other hosts' temporaries (shared filesystems) and live writers'
    are left alone.
    """
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return
    stem = re.escape(_temp_stem(target_name))
    pattern = re.compile(rf"\.{stem}\.{_HOST_TAG}-(\d+)-[0-9a-f]+\.tmp")
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        match = pattern.fullmatch(entry)
        if match and not _pid_alive(int(match.group(1))):
            _unlink_quietly(os.path.join(directory, entry))


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (a reused pid errs on the side of keeping)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but not ours, or can't tell: keep the file
    return True


# ---------------------------------------------------------------------------------- loading

class _TensorEntry:
    """One validated header entry."""

    __slots__ = ("name", "dtype_name", "shape", "begin", "end")

    def __init__(self, name: str, dtype_name: str, shape: tuple[int, ...], begin: int,
                 end: int) -> None:
        self.name, self.dtype_name, self.shape = name, dtype_name, shape
        self.begin, self.end = begin, end


def _read_source(f: Any) -> tuple[str, dict[str, np.ndarray], dict[str, str]]:
    """``(name for messages, arrays, metadata)`` from a path or a binary file object (read
    from its current position to the end)."""
    if _is_file_object(f, "read"):
        name = _file_name(f)
        data = f.read()
        if not isinstance(data, bytes):
            raise TypeError(f"{name}: read() returned {type(data).__name__}, not bytes; open "
                            f"the file in binary mode ('rb')")
        arrays, metadata = _read_handle(name, io.BytesIO(data), len(data))
        return name, arrays, metadata
    path = _as_path(f)
    with open(path, "rb") as handle:
        arrays, metadata = _read_handle(path, handle, os.fstat(handle.fileno()).st_size)
    return path, arrays, metadata


def _read_handle(path: str, handle: BinaryIO, size: int
                 ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Validate the file behind ``handle`` and read its tensors as native arrays."""
    header_len = _read_header_length(path, handle, size)
    header = _parse_header(path, _read_exact(path, handle, header_len))
    buffer_size = size - 8 - header_len
    metadata, entries = _validate_header(path, header, buffer_size)
    arrays = {e.name: _read_tensor(path, handle, 8 + header_len, e) for e in entries}
    return arrays, metadata


def _fail(path: str, problem: str) -> ValueError:
    return ValueError(f"{path}: {problem}")


def _read_exact(path: str, handle: BinaryIO, count: int) -> bytes:
    data = handle.read(count)
    if len(data) != count:  # the file shrank after we measured it
        raise _fail(path, f"file ended early (wanted {count} bytes, got {len(data)})")
    return data


def _read_header_length(path: str, handle: BinaryIO, size: int) -> int:
    """Read the u64 header length, recognising common wrong files when it is implausible.

    The sniffing of pickle and zip magic bytes comes only after the length check fails: a
    valid file whose header length happens to start with byte 0x80 is still safetensors.
    """
    start = handle.read(8)
    if size == 0 or not start:
        raise _fail(path, "file is empty (0 bytes); not a safetensors file")
    header_len = struct.unpack("<Q", start)[0] if len(start) == 8 else 0
    if 0 < header_len <= min(MAX_HEADER_BYTES, size - 8):
        if handle.read(1) == b"{":
            handle.seek(8)
            return header_len
        handle.seek(8)
    _explain_wrong_file(path, start)
    if len(start) < 8:
        raise _fail(path, f"file is too short ({len(start)} bytes) to be safetensors: it needs "
                          f"at least the 8-byte header length")
    if header_len == 0:
        raise _fail(path, "header length is 0; a safetensors header is at least '{}'")
    if header_len > MAX_HEADER_BYTES:
        raise _fail(path, f"header length {header_len} exceeds the {MAX_HEADER_BYTES}-byte "
                          f"limit (corrupt or not a safetensors file)")
    if header_len > size - 8:
        raise _fail(path, f"header length {header_len} is larger than the {size - 8} bytes "
                          f"after it (truncated or not a safetensors file)")
    return header_len


_CONVERT_HINT = ("Convert it once with PyTorch: python -m abdou_torch.compat.convert IN.pt "
                 "OUT.pt (a state dict also converts with safetensors.torch.save_file)")


def _explain_wrong_file(path: str, start: bytes) -> None:
    """Name the formats people most often pass by mistake."""
    if start.startswith(b"PK\x03\x04"):
        raise _fail(path, "looks like a PyTorch .pt/.pth zip checkpoint (pickle); "
                          "abdou_torch loads only safetensors files and never unpickles. "
                          + _CONVERT_HINT)
    if start[0] == 0x80:
        raise _fail(path, "looks like a pickle file (e.g. a legacy PyTorch checkpoint); "
                          "abdou_torch loads only safetensors files and never unpickles. "
                          + _CONVERT_HINT)


def _parse_header(path: str, raw: bytes) -> dict[str, Any]:
    """Decode the UTF-8 JSON header into a dict (keys in file order)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"header is not valid UTF-8 (byte {exc.start}); "
                          f"not a safetensors file or corrupt") from None
    if not text.startswith("{"):
        raise _fail(path, f"header does not start with '{{' (starts with {text[:20]!r}); "
                          f"not a safetensors file or corrupt")
    try:
        header = object_tree.loads_strict(text)
    except RecursionError:
        raise _fail(path, "header JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, duplicate keys, constants, huge int literals
        raise _fail(path, f"header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise _fail(path, f"header JSON is a {type(header).__name__}, expected an object")
    return header


def _validate_header(path: str, header: dict[str, Any],
                     buffer_size: int) -> tuple[dict[str, str], list[_TensorEntry]]:
    """Check every entry, then that the tensors tile the data buffer exactly."""
    metadata: dict[str, str] = {}
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            metadata = _validate_metadata(path, info)
        else:
            entries.append(_validate_entry(path, name, info, buffer_size))
    _check_coverage(path, entries, buffer_size)
    return metadata, entries


def _validate_metadata(path: str, info: Any) -> dict[str, str]:
    if not isinstance(info, dict):
        raise _fail(path, f"__metadata__ is {_json_type(info)}, expected an object of "
                          f"str -> str")
    for key, value in info.items():
        if not isinstance(value, str):
            raise _fail(path, f"__metadata__[{key!r}] is {_json_type(value)}, expected a str")
    return info


def _json_type(value: Any) -> str:
    """JSON's name for a parsed value, with its article, for error messages."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "an integer", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _validate_entry(path: str, name: str, info: Any, buffer_size: int) -> _TensorEntry:
    """Check one tensor's fields and that its byte span matches its shape and dtype."""
    where = f"tensor {name!r}"
    if not isinstance(info, dict):
        raise _fail(path, f"{where}: entry is {_json_type(info)}, expected an object")
    fields = set(info)
    if fields != {"dtype", "shape", "data_offsets"}:
        missing = sorted({"dtype", "shape", "data_offsets"} - fields)
        extra = sorted(fields - {"dtype", "shape", "data_offsets"})
        raise _fail(path, f"{where}: expected fields dtype, shape, data_offsets "
                          f"(missing {missing}, unexpected {extra})")
    dtype_name = _validate_dtype(path, where, info["dtype"])
    shape = _validate_shape(path, where, info["shape"])
    begin, end = _validate_offsets(path, where, info["data_offsets"], buffer_size)
    itemsize = _FILE_DTYPES[dtype_name].itemsize
    # NumPy refuses arrays whose non-zero dimensions multiply past its address space, even empty.
    if math.prod(d for d in shape if d) * itemsize > sys.maxsize:
        raise _fail(path, f"{where}: shape {shape} is too large for an array")
    nbytes = math.prod(shape) * itemsize
    if end - begin != nbytes:
        raise _fail(path, f"{where} has shape {shape} ({nbytes} bytes as {dtype_name}) "
                          f"but data_offsets span {end - begin} bytes")
    return _TensorEntry(name, dtype_name, shape, begin, end)


def _validate_dtype(path: str, where: str, dtype: Any) -> str:
    if not isinstance(dtype, str):
        raise _fail(path, f"{where}: dtype is {_json_type(dtype)}, expected a string")
    if dtype in _UNSUPPORTED_DTYPES:
        raise _fail(path, f"{where}: unsupported dtype {dtype!r} (abdou_torch has no such "
                          f"tensor type; supported: {', '.join(_FILE_DTYPES)})")
    if dtype not in _FILE_DTYPES:
        raise _fail(path, f"{where}: unknown dtype {dtype!r} (expected one of "
                          f"{', '.join(_FILE_DTYPES)})")
    return dtype


def _is_int(value: Any) -> bool:
    """A JSON integer: bool is an int subclass in Python but not a number in JSON."""
    return isinstance(value, int) and not isinstance(value, bool)


def _validate_shape(path: str, where: str, shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        raise _fail(path, f"{where}: shape {_short(shape)} is not a list of non-negative "
                          f"integers")
    if len(shape) > 64:  # NumPy's limit on dimensions
        raise _fail(path, f"{where}: shape has {len(shape)} dimensions; at most 64 supported")
    return tuple(shape)


def _validate_offsets(path: str, where: str, offsets: Any, buffer_size: int) -> tuple[int, int]:
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_int, offsets))):
        raise _fail(path, f"{where}: data_offsets {_short(offsets)} is not a list of two "
                          f"integers [begin, end]")
    begin, end = offsets
    if not 0 <= begin <= end <= buffer_size:
        raise _fail(path, f"{where}: data_offsets [{begin}, {end}] are outside the "
                          f"{buffer_size}-byte data buffer or reversed")
    return begin, end


def _short(value: Any, limit: int = 60) -> str:
    """repr of a value from the file, cut short so a hostile header can't flood the message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _check_coverage(path: str, entries: list[_TensorEntry], buffer_size: int) -> None:
    """Tensors must cover the buffer exactly: no overlaps (aliasing), no holes (hidden data)."""
    position, previous = 0, None
    for entry in sorted(entries, key=lambda e: (e.begin, e.end)):
        if entry.begin < position:
            raise _fail(path, f"tensors {previous.name!r} [{previous.begin}, {previous.end}] "
                              f"and {entry.name!r} [{entry.begin}, {entry.end}] overlap")
        if entry.begin > position:
            raise _fail(path, f"data buffer has a gap: bytes [{position}, {entry.begin}) "
                              f"belong to no tensor")
        position, previous = entry.end, entry
    if position != buffer_size:
        raise _fail(path, f"data buffer has a gap: bytes [{position}, {buffer_size}) "
                          f"at the end belong to no tensor")


def _read_tensor(path: str, handle: BinaryIO, data_start: int, entry: _TensorEntry
                 ) -> np.ndarray:
    """Read one tensor's bytes straight into a fresh (writable, aligned) array."""
    array = np.empty(entry.shape, dtype=_FILE_DTYPES[entry.dtype_name])
    if array.nbytes:
        handle.seek(data_start + entry.begin)
        view = memoryview(array.reshape(-1).view(np.uint8))
        got = 0
        while got < len(view):
            count = handle.readinto(view[got:])
            if not count:  # the file shrank after we measured it
                raise _fail(path, f"tensor {entry.name!r}: file ended early")
            got += count
    return _to_native(entry.dtype_name, array)


def _to_native(dtype_name: str, array: np.ndarray) -> np.ndarray:
    """Turn the file's little-endian bits into the array abdou_torch uses."""
    if dtype_name == "BF16":
        # bfloat16 is the top half of a float32: shift the bits up, reinterpret (exact).
        return (array.astype(np.uint32) << 16).view(np.float32)
    if dtype_name == "BOOL":
        # Bytes other than 0/1 are out of spec; read them as True like C, in place.
        np.minimum(array, 1, out=array)
        return array.view(np.bool_)
    if not array.dtype.isnative:  # big-endian hosts
        return array.astype(array.dtype.newbyteorder("="))
    return array
