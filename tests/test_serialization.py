"""Tests for abdou_torch.serialization: safe safetensors checkpoints.

Covers round trips of every dtype, input validation before any write, atomic and durable
writes (monkeypatched failures and a real SIGKILL crash test), clean-up of dead writers'
temporaries, hostile and corrupt files, interop with PyTorch's safetensors, and fuzzing.

Fuzz budget: 6 hypothesis strategies x 800 examples = 4800 generated files per run
(byte flips, insertions/deletions, truncations/extensions, header-length rewrites, random
header JSON, and well-formed files with at most one defect). Each must either raise a
ValueError naming the file or load exactly what safetensors' own parser reads. On top of that,
deterministic tests try every truncation point of a valid file (309) and 80 header-length
tamperings.
"""
from __future__ import annotations

import errno
import io
import json
import os
import pickle
import random
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from abdou_torch import serialization
from abdou_torch.serialization import load, load_with_metadata, save
from abdou_torch.tensor import Tensor

REPO_ROOT = Path(__file__).resolve().parents[1]

DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8,
          np.uint8, np.bool_]
SHAPES = [(), (0,), (7,), (2, 3), (0, 3, 0), (3, 1, 2, 2)]


# ------------------------------------------------------------------------------------ helpers

def sample(dtype, shape, seed=0):
    """Values that exercise the dtype: extremes, negatives, NaN/inf for floats."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return np.asarray(rng.random(shape) < 0.5)
    if dtype.kind == "f":
        values = np.asarray(rng.standard_normal(shape), dtype=dtype)
        flat = values.reshape(-1)
        specials = [np.nan, np.inf, -np.inf, -0.0, np.finfo(dtype).max, np.finfo(dtype).tiny]
        flat[:len(specials)] = specials[:flat.size]
        return values
    info = np.iinfo(dtype)
    values = np.asarray(rng.integers(info.min, info.max, size=shape, dtype=dtype,
                                     endpoint=True))
    flat = values.reshape(-1)
    flat[:2] = [info.min, info.max][:flat.size]
    return values


def assert_same(loaded, expected):
    """Loaded Tensor has the expected dtype, shape and values (NaNs equal)."""
    assert isinstance(loaded, Tensor)
    array = np.asarray(loaded)
    assert array.dtype == expected.dtype
    assert array.shape == expected.shape
    np.testing.assert_array_equal(array, expected)


def raw_file(header, buffer=b"", header_len=None):
    """Bytes of a hand-made safetensors file; ``header`` is a dict, str or bytes."""
    if isinstance(header, dict):
        header = json.dumps(header)
    if isinstance(header, str):
        header = header.encode("utf-8")
    n = len(header) if header_len is None else header_len
    return struct.pack("<Q", n) + header + buffer


def valid_bytes():
    """A small valid file from the safetensors package itself, with several dtypes."""
    from safetensors.numpy import save as st_save
    return st_save({"w": np.arange(6, dtype=np.float32).reshape(2, 3),
                    "b": np.array([1, -2], dtype=np.int64),
                    "m": np.array([True, False, True]),
                    "s": np.array(7, dtype=np.int16)}, metadata={"epoch": "3"})


def temporaries(directory):
    return sorted(p.name for p in Path(directory).iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def target(tmp_path):
    """A path holding a known previous checkpoint."""
    path = tmp_path / "model.safetensors"
    save({"old": np.arange(4, dtype=np.float32)}, path)
    return path


# -------------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_round_trip_every_dtype_and_shape(tmp_path, dtype, shape):
    expected = sample(dtype, shape)
    save({"t": expected}, tmp_path / "x.safetensors")
    loaded = load(tmp_path / "x.safetensors")
    assert list(loaded) == ["t"]
    assert_same(loaded["t"], expected)


def test_round_trip_mixed_state_dict_of_tensors_and_arrays(tmp_path):
    state = {f"layer{i}.{np.dtype(d).name}": sample(d, (3, i + 1), seed=i)
             for i, d in enumerate(DTYPES)}
    mixed = {k: (Tensor(v) if i % 2 else v) for i, (k, v) in enumerate(state.items())}
    save(mixed, str(tmp_path / "m.safetensors"))
    loaded = load(str(tmp_path / "m.safetensors"))
    assert set(loaded) == set(state)
    for key, expected in state.items():
        assert_same(loaded[key], expected)


def test_empty_state_dict_round_trips(tmp_path):
    save({}, tmp_path / "e.safetensors", metadata={"note": "nothing"})
    assert load_with_metadata(tmp_path / "e.safetensors") == ({}, {"note": "nothing"})


def test_metadata_round_trip(tmp_path):
    metadata = {"epoch": "12", "arch": "mlp 784-64-10", "unicode": "héllo ✓", "empty": ""}
    save({"w": np.ones(2, np.float32)}, tmp_path / "m.safetensors", metadata=metadata)
    tensors, loaded_meta = load_with_metadata(tmp_path / "m.safetensors")
    assert loaded_meta == metadata
    assert_same(tensors["w"], np.ones(2, np.float32))


def test_no_metadata_gives_empty_dict(tmp_path):
    save({"w": np.ones(2, np.float32)}, tmp_path / "m.safetensors")
    assert load_with_metadata(tmp_path / "m.safetensors")[1] == {}


def test_saved_dict_order_is_restored(tmp_path):
    state = {"z.bias": np.zeros(2, np.int8), "a.weight": np.zeros(3, np.float32),
             "m": np.zeros((), np.float64), "b": np.zeros(2, np.bool_),
             "c.weight": np.zeros(1, np.float32)}
    path = tmp_path / "o.safetensors"
    save(state, path)
    assert list(load(path)) == list(state)


def test_file_without_structure_loads_in_header_order(tmp_path):
    from safetensors.numpy import save_file
    state = {"z.bias": np.zeros(2, np.int8), "a.weight": np.zeros(3, np.float32),
             "m": np.zeros((), np.float64), "b": np.zeros(2, np.bool_)}
    path = tmp_path / "o.safetensors"
    save_file(state, str(path))
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header_order = [k for k in json.loads(data[8:8 + n]) if k != "__metadata__"]
    assert list(load(path)) == header_order
    assert sorted(header_order) == sorted(state)
    # The safetensors writer sorts entries (by dtype, then name), so this is not dict order.
    assert header_order != list(state)


def test_non_contiguous_and_big_endian_inputs(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    state = {"transposed": base.T, "strided": base[::2, ::-3], "fortran": np.asfortranarray(base),
             "big_endian": np.arange(5, dtype=">i4"), "big_f16": np.array([1.5, -2], ">f2"),
             "scalar_view": base[1, 2, None][0:1].reshape(())}
    save(state, tmp_path / "nc.safetensors")
    loaded = load(tmp_path / "nc.safetensors")
    for key, value in state.items():
        expected = np.asarray(value, dtype=value.dtype.newbyteorder("="))
        assert_same(loaded[key], expected)
        assert np.asarray(loaded[key]).dtype.isnative


def test_loaded_arrays_are_writable_aligned_and_independent(tmp_path):
    path = tmp_path / "w.safetensors"
    save({"a": np.arange(5, dtype=np.int8), "b": np.arange(3, dtype=np.float64)}, path)
    first = load(path)
    for tensor in first.values():
        array = np.asarray(tensor)
        assert array.flags.writeable and array.flags.aligned and array.flags.c_contiguous
    np.asarray(first["b"])[:] = -1
    assert_same(load(path)["b"], np.arange(3, dtype=np.float64))


def test_saving_does_not_modify_the_inputs(tmp_path):
    array = np.arange(6, dtype=">f4").reshape(2, 3).T
    before = array.copy()
    save({"a": array}, tmp_path / "x.safetensors")
    assert array.dtype == np.dtype(">f4") and not array.flags.c_contiguous
    np.testing.assert_array_equal(array, before)


def test_overwrite_replaces_previous_contents(target):
    save({"new": np.array([9], np.int32)}, target)
    loaded = load(target)
    assert list(loaded) == ["new"]
    assert_same(loaded["new"], np.array([9], np.int32))


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_is_written_through(tmp_path):
    real = tmp_path / "real" / "ckpt_10.safetensors"
    real.parent.mkdir()
    save({"v": np.array([1])}, real)
    link = tmp_path / "latest.safetensors"
    link.symlink_to(real)
    save({"v": np.array([2])}, link)
    assert link.is_symlink()
    assert_same(load(real)["v"], np.array([2]))
    assert temporaries(tmp_path) == [] and temporaries(real.parent) == []


def test_long_file_name_fits_temporary_name_limit(tmp_path):
    path = tmp_path / ("é" * 120 + ".safetensors")  # 252 bytes: the limit for most filesystems
    save({"v": np.array([1.5])}, path)
    save({"v": np.array([2.5])}, path)
    assert_same(load(path)["v"], np.array([2.5]))
    assert temporaries(tmp_path) == []


def test_relative_path_in_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    save({"a": np.ones(1, np.float32)}, "rel.safetensors")
    assert_same(load("rel.safetensors")["a"], np.ones(1, np.float32))
    assert temporaries(tmp_path) == []


# ------------------------------------------------------------------ validation before writing

class UserConfig:
    pass


BAD_STATE = [
    ({"bad\ud800": np.ones(2)}, ValueError, "UTF-8"),
    ({"ok": np.ones(2), "c": np.ones(2, np.complex64)}, TypeError,
     "obj['c'] has unsupported dtype complex64"),
    ({"u16": np.ones(2, np.uint16)}, TypeError, "uint16"),
    ({"u64": np.ones(2, np.uint64)}, TypeError, "uint64"),
    ({"obj": np.array([object()])}, TypeError, "'obj'"),
    ({"s": np.array(["text"])}, TypeError, "'s'"),
    ({"ld": np.ones(2, np.longdouble)}, TypeError, "'ld'"),
    ({"w": np.ones(2), "config": {"act": lambda x: x}}, TypeError, "obj['config']['act']"),
    ({"config": {"layers": [1, UserConfig()]}}, TypeError, "obj['config']['layers'][1]"),
    ({"w": {object(): np.ones(1)}}, TypeError, "obj['w'] has a key of type object"),
    ([np.ones(1), {1, 2}], TypeError, "obj[1] is a set"),
    ({"text": "lone \udcff"}, ValueError, "obj['text']"),
]


@pytest.mark.parametrize("state, error, fragment", BAD_STATE)
def test_bad_state_dict_is_rejected_before_writing(target, state, error, fragment):
    before = target.read_bytes()
    with pytest.raises(error, match=re.escape(fragment)):
        save(state, target)
    assert target.read_bytes() == before
    assert temporaries(target.parent) == []


BAD_METADATA = [
    (["not", "a", "mapping"], TypeError),
    ({"epoch": 3}, TypeError),
    ({3: "epoch"}, TypeError),
    ({"k": None}, TypeError),
    ({"k": "bad\udcff"}, ValueError),
]


@pytest.mark.parametrize("metadata, error", BAD_METADATA)
def test_bad_metadata_is_rejected_before_writing(target, metadata, error):
    before = target.read_bytes()
    with pytest.raises(error, match="metadata"):
        save({"w": np.ones(2)}, target, metadata=metadata)
    assert target.read_bytes() == before


def test_bad_state_dict_does_not_create_a_new_file(tmp_path):
    with pytest.raises(TypeError):
        save({"w": np.ones(2), "nope": object()}, tmp_path / "new.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_bad_object_writes_nothing_to_a_file_object():
    buffer = io.BytesIO(b"before")
    buffer.seek(6)
    with pytest.raises(TypeError, match=re.escape("obj['cfg']")):
        save({"w": np.ones(2), "cfg": UserConfig()}, buffer)
    assert buffer.getvalue() == b"before"


def test_binary_file_objects_round_trip(tmp_path):
    buffer = io.BytesIO()
    save({"w": np.arange(3, dtype=np.float32)}, buffer)
    buffer.seek(0)
    assert_same(load(buffer)["w"], np.arange(3, dtype=np.float32))
    with open(tmp_path / "f", "wb") as handle:
        save({"v": np.ones(2, np.int16)}, handle)
    with open(tmp_path / "f", "rb") as handle:
        assert_same(load(handle)["v"], np.ones(2, np.int16))
    # the file object holds a standard safetensors file
    from safetensors.numpy import load as st_load
    assert list(st_load(buffer.getvalue())) == ["w"]


def test_text_files_and_other_objects_are_refused(tmp_path):
    with open(tmp_path / "t", "w") as handle, pytest.raises(TypeError, match="text mode"):
        save({"w": np.ones(1)}, handle)
    with pytest.raises(TypeError, match="path"):
        load(12.5)


def test_corrupt_file_object_names_it():
    with pytest.raises(ValueError, match="^<BytesIO>: header length"):
        load(io.BytesIO(struct.pack("<Q", 10 ** 6) + b"{}"))


def test_oversized_header_is_refused_before_writing(target, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_HEADER_BYTES", 200)
    before = target.read_bytes()
    with pytest.raises(ValueError, match="header would be"):
        save({"w": np.ones(1)}, target, metadata={"long": "x" * 300})
    assert target.read_bytes() == before


def test_missing_directory_raises_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        save({"w": np.ones(1)}, tmp_path / "nope" / "m.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.safetensors")


# --------------------------------------------------------------------------------- atomicity

def assert_old_intact(target, before):
    assert target.read_bytes() == before
    assert_same(load(target)["old"], np.arange(4, dtype=np.float32))
    assert temporaries(target.parent) == []


@pytest.mark.parametrize("exc", [OSError(errno.EXDEV, "boom"), KeyboardInterrupt()])
def test_failing_replace_keeps_old_file_and_removes_temp(target, monkeypatch, exc):
    before = target.read_bytes()

    def failing_replace(src, dst):
        raise exc

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(type(exc)):
        save({"new": np.ones(1000, np.float32)}, target)
    monkeypatch.undo()
    assert_old_intact(target, before)


def test_failing_fsync_keeps_old_file_and_removes_temp(target, monkeypatch):
    before = target.read_bytes()

    def failing_fsync(fd):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="I/O error"):
        save({"new": np.ones(1000, np.float32)}, target)
    monkeypatch.undo()
    assert_old_intact(target, before)


def test_write_failing_half_way_keeps_old_file_and_removes_temp(target, monkeypatch):
    """Disk full after half the bytes: the half-written temp is hidden, then removed."""
    before = target.read_bytes()
    real_fdopen = os.fdopen
    seen_during_write = []

    class HalfWriter:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.handle.close()

        def write(self, data):
            self.handle.write(data[:len(data) // 2])
            self.handle.flush()
            seen_during_write.extend(temporaries(target.parent))
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space"):
        save({"new": np.ones(1000, np.float32)}, target)
    monkeypatch.undo()
    # The temporary lived next to the target, hidden, named after it.
    assert len(seen_during_write) == 1
    assert seen_during_write[0].startswith(".model.safetensors.")
    assert_old_intact(target, before)


def test_write_is_fsynced_before_rename_and_directory_after(tmp_path, monkeypatch):
    import stat
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def recording_fsync(fd):
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(("fsync", kind))
        real_fsync(fd)

    def recording_replace(src, dst):
        events.append(("replace", os.path.dirname(src) == os.path.dirname(os.fspath(dst))))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    save({"w": np.ones(3)}, tmp_path / "d.safetensors")
    assert events == [("fsync", "file"), ("replace", True), ("fsync", "dir")]


def test_concurrent_writers_never_corrupt_the_file(tmp_path):
    path = tmp_path / "c.safetensors"
    errors = []

    def writer(value):
        try:
            for _ in range(15):
                save({"v": np.full(20_000, value, np.float32)}, path)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(v,)) for v in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    values = np.asarray(load(path)["v"])
    assert values.shape == (20_000,) and len(set(values.tolist())) == 1
    assert temporaries(tmp_path) == []


def dead_pid():
    """A pid that has just exited (reaped), so no process has it."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.skipif(os.name != "posix", reason="stale temp clean-up is POSIX-only")
def test_stale_temporaries_of_dead_writers_are_removed(target):
    host = serialization._HOST_TAG
    directory = target.parent
    stale = directory / f".model.safetensors.{host}-{dead_pid()}-abc123.tmp"
    live = directory / f".model.safetensors.{host}-{os.getppid()}-abc123.tmp"
    other_host = directory / f".model.safetensors.{'0' * 8 if host != '0' * 8 else '1' * 8}" \
                             f"-{dead_pid()}-abc123.tmp"
    other_target = directory / f".other.safetensors.{host}-{dead_pid()}-abc123.tmp"
    for path in (stale, live, other_host, other_target):
        path.write_bytes(b"partial")
    save({"new": np.ones(1)}, target)
    assert not stale.exists()
    assert live.exists() and other_host.exists() and other_target.exists()


CRASH_CHILD = """
import sys
import numpy as np
from abdou_torch.serialization import save
path, n = sys.argv[1], 1 << 20
versions = [{"x": np.full(n, float(v), np.float32), "y": np.full(n, v, np.int64),
             "tag": np.array(v, np.int64)} for v in (1, 2)]
save(versions[0], path)
print("ready", flush=True)
i = 0
while True:
    i += 1
    save(versions[i % 2], path)
"""


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_sigkill_during_saves_never_breaks_the_checkpoint(tmp_path):
    """A writer killed at random moments leaves a complete old or new file, and at most its
    own orphan temporary, which the next save removes."""
    path = tmp_path / "crash.safetensors"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    rng = random.Random(1234)
    for _ in range(6):
        proc = subprocess.Popen([sys.executable, "-c", CRASH_CHILD, str(path)], env=env,
                                stdout=subprocess.PIPE, cwd=tmp_path)
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        tensors = load(path)
        tag = int(np.asarray(tensors["tag"]))
        assert tag in (1, 2)
        np.testing.assert_array_equal(np.asarray(tensors["x"]), np.full(1 << 20, tag, np.float32))
        np.testing.assert_array_equal(np.asarray(tensors["y"]), np.full(1 << 20, tag, np.int64))
        assert len(temporaries(tmp_path)) <= 1
    save({"done": np.ones(1)}, path)
    assert temporaries(tmp_path) == []


# ------------------------------------------------------------------------------ hostile files

def entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


HOSTILE = {
    "pickle": (pickle.dumps({"a": 1}), "pickle"),
    "pickle_protocol_0_is_not_json": (pickle.dumps([1], protocol=0), "header"),
    "empty": (b"", "empty"),
    "too_short": (b"\x05\x00\x00", "too short"),
    "zero_header_length": (struct.pack("<Q", 0) + b"{}", "header length is 0"),
    "header_length_2_63": (struct.pack("<Q", 1 << 63) + b"{}", "exceeds"),
    "header_length_past_end": (raw_file("{}", header_len=3), "larger than"),
    "header_over_limit": (raw_file("{}", header_len=100_000_001), "exceeds"),
    "non_utf8": (raw_file(b'{"\xff\xfe": 1}'), "UTF-8"),
    "not_json": (raw_file("{abc"), "not valid JSON"),
    "trailing_garbage": (raw_file("{} x"), "not valid JSON"),
    "json_array": (raw_file("[1, 2]"), "start with '{'"),
    "json_string": (raw_file('"{}"'), "start with '{'"),
    "leading_space": (raw_file(" {}"), "start with '{'"),
    "nan_constant": (raw_file('{"t": {"dtype": "F32", "shape": [NaN], "data_offsets": [0, 4]}}',
                              bytes(4)), "constant NaN"),
    "duplicate_key": (raw_file('{"t": %s, "t": %s}' % (json.dumps(entry()), json.dumps(entry())),
                               bytes(8)), "duplicate key 't'"),
    "deep_nesting": (raw_file("{" + '"a":' + "[" * 100_000 + "]" * 100_000 + "}"), "JSON"),
    "huge_int_literal": (raw_file('{"t": {"dtype": "F32", "shape": [%s], "data_offsets": '
                                  '[0, 4]}}' % ("9" * 5000)), "JSON"),
    "entry_not_object": (raw_file({"t": [1, 2]}), "entry is an array"),
    "missing_dtype": (raw_file({"t": {"shape": [2], "data_offsets": [0, 8]}}, bytes(8)),
                      "missing \\['dtype'\\]"),
    "missing_offsets": (raw_file({"t": {"dtype": "F32", "shape": [2]}}, bytes(8)),
                        "data_offsets"),
    "extra_field": (raw_file({"t": dict(entry(), extra=1)}, bytes(8)), "unexpected \\['extra'\\]"),
    "negative_shape": (raw_file({"t": entry(shape=(-2,))}, bytes(8)), "non-negative"),
    "float_shape": (raw_file({"t": entry(shape=(2.0,))}, bytes(8)), "non-negative integers"),
    "bool_shape": (raw_file({"t": entry(shape=(True, True))}, bytes(8)), "integers"),
    "string_shape": (raw_file({"t": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}},
                              bytes(8)), "shape"),
    "nested_shape": (raw_file({"t": entry(shape=([2],))}, bytes(8)), "shape"),
    "too_many_dims": (raw_file({"t": entry(shape=(1,) * 65, offsets=(0, 4))}, bytes(4)),
                      "65 dimensions"),
    "empty_but_huge_shape": (raw_file({"t": entry("F64", (0, 2**62), (0, 0))}), "too large"),
    "offsets_overlap": (raw_file({"a": entry(offsets=(0, 8)), "b": entry(offsets=(4, 12))},
                                 bytes(12)), "'a' \\[0, 8\\] and 'b' \\[4, 12\\] overlap"),
    "offsets_alias": (raw_file({"a": entry(), "b": entry()}, bytes(8)), "overlap"),
    "offsets_out_of_range": (raw_file({"t": entry(offsets=(8, 16))}, bytes(8)), "outside"),
    "offsets_reversed": (raw_file({"t": entry(offsets=(8, 0))}, bytes(8)), "outside"),
    "offsets_negative": (raw_file({"t": entry(offsets=(-8, 0))}, bytes(8)), "outside"),
    "offsets_float": (raw_file({"t": entry(offsets=(0.0, 8.0))}, bytes(8)), "two integers"),
    "offsets_three": (raw_file({"t": entry(offsets=(0, 4, 8))}, bytes(8)), "two integers"),
    "offsets_bool": (raw_file({"t": entry(shape=(0,), offsets=(False, False))}), "integers"),
    "hole_in_middle": (raw_file({"a": entry(offsets=(0, 8)), "b": entry(offsets=(12, 20))},
                                bytes(20)), "gap: bytes \\[8, 12\\)"),
    "hole_at_start": (raw_file({"a": entry(offsets=(4, 12))}, bytes(12)), "gap: bytes \\[0, 4\\)"),
    "hole_at_end": (raw_file({"a": entry()}, bytes(11)), "gap: bytes \\[8, 11\\) at the end"),
    "data_without_tensors": (raw_file({}, bytes(3)), "gap"),
    "shape_bytes_mismatch": (raw_file({"layers.0.weight": entry("F32", (64, 784), (0, 1000))},
                                      bytes(1000)),
                             "tensor 'layers.0.weight' has shape \\(64, 784\\) \\(200704 bytes "
                             "as F32\\) but data_offsets span 1000 bytes"),
    "unknown_dtype": (raw_file({"t": entry("F128")}, bytes(8)), "unknown dtype 'F128'"),
    "dtype_lowercase": (raw_file({"t": entry("f32")}, bytes(8)), "unknown dtype"),
    "dtype_not_string": (raw_file({"t": entry(4)}, bytes(8)), "dtype is an integer"),
    "unsupported_u32": (raw_file({"t": entry("U32")}, bytes(8)), "unsupported dtype 'U32'"),
    "unsupported_u16": (raw_file({"t": entry("U16", (4,))}, bytes(8)), "unsupported dtype"),
    "unsupported_f8": (raw_file({"t": entry("F8_E4M3", (8,))}, bytes(8)), "unsupported dtype"),
    "metadata_int_value": (raw_file({"__metadata__": {"epoch": 3}}), "__metadata__\\['epoch'\\]"),
    "metadata_nested": (raw_file({"__metadata__": {"a": {"b": "c"}}}), "expected a str"),
    "metadata_array": (raw_file({"__metadata__": ["a"]}), "__metadata__ is an array"),
    "metadata_null": (raw_file({"__metadata__": None}), "__metadata__ is null"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_file_raises_value_error_naming_file(tmp_path, name):
    data, fragment = HOSTILE[name]
    path = tmp_path / f"{name}.safetensors"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=fragment) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: ")
    assert len(str(info.value)) < 500  # hostile content must not flood the message


def test_zip_checkpoint_from_torch_save_is_explained(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="looks like a PyTorch .pt/.pth zip checkpoint"):
        load(path)
    legacy = tmp_path / "legacy.pt"
    torch.save({"w": torch.zeros(3)}, legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match=re.escape(f"{legacy}: looks like a pickle")):
        load(legacy)


def test_pickle_is_never_unpickled(tmp_path, monkeypatch):
    """Loading a pickle must not call into pickle at all."""
    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    path = tmp_path / "p.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="pickle"):
        load(path)


def test_every_truncation_point_is_rejected(tmp_path):
    data = valid_bytes()
    path = tmp_path / "cut.safetensors"
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: "):
            load(path)
    path.write_bytes(data)
    assert set(load(path)) == {"w", "b", "m", "s"}


def test_tampered_header_lengths_are_rejected(tmp_path):
    data = valid_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    path = tmp_path / "len.safetensors"
    for delta in list(range(-40, 0)) + list(range(1, 41)):
        path.write_bytes(struct.pack("<Q", n + delta) + data[8:])
        with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: "):
            load(path)


def test_bool_bytes_other_than_zero_and_one_read_as_true(tmp_path):
    path = tmp_path / "b.safetensors"
    path.write_bytes(raw_file({"m": entry("BOOL", (4,), (0, 4))}, bytes([0, 1, 2, 255])))
    array = np.asarray(load(path)["m"])
    assert array.dtype == np.bool_
    np.testing.assert_array_equal(array.view(np.uint8), [0, 1, 1, 1])


def test_hand_made_file_with_unsorted_offsets_and_padding_loads(tmp_path):
    """Header order and offset order may differ; trailing header spaces are allowed."""
    header = json.dumps({"second": entry("I16", (2,), (4, 8)),
                         "first": entry("U8", (4,), (0, 4)), "__metadata__": {"k": "v"}})
    header += " " * (-len(header) % 8)
    buffer = bytes([1, 2, 3, 4]) + np.array([-5, 6], "<i2").tobytes()
    path = tmp_path / "h.safetensors"
    path.write_bytes(raw_file(header, buffer))
    tensors, metadata = load_with_metadata(path)
    assert list(tensors) == ["second", "first"] and metadata == {"k": "v"}
    assert_same(tensors["second"], np.array([-5, 6], np.int16))
    assert_same(tensors["first"], np.array([1, 2, 3, 4], np.uint8))


# ------------------------------------------------------------------------ interop with PyTorch

def test_file_saved_here_loads_in_pytorch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    state = {np.dtype(d).name: sample(d, (3, 2), seed=i) for i, d in enumerate(DTYPES)}
    state["scalar"] = np.array(2.5, np.float32)
    state["empty"] = np.zeros((0, 5), np.int16)
    path = tmp_path / "ours.safetensors"
    save({k: Tensor(v) for k, v in state.items()}, path)
    theirs = load_file(path)
    assert set(theirs) == set(state)
    for key, expected in state.items():
        assert theirs[key].dtype == getattr(torch, str(expected.dtype))
        np.testing.assert_array_equal(theirs[key].numpy(), expected)


def test_file_saved_by_pytorch_loads_here(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    generator = torch.Generator().manual_seed(0)
    state = {"f32": torch.randn(4, 3, generator=generator),
             "bf16": torch.randn(5, generator=generator).to(torch.bfloat16),
             "bf16_special": torch.tensor([float("inf"), -0.0, 1e38, -3.5], dtype=torch.bfloat16),
             "f16": torch.randn(2, 2, generator=generator).half(),
             "f64": torch.randn(3, dtype=torch.float64, generator=generator),
             "i64": torch.tensor([-(2**63), 2**63 - 1]),
             "i8": torch.tensor([-128, 127], dtype=torch.int8),
             "u8": torch.tensor([0, 255], dtype=torch.uint8),
             "mask": torch.tensor([True, False]),
             "scalar": torch.tensor(3, dtype=torch.int32)}
    path = tmp_path / "theirs.safetensors"
    save_file(state, path, metadata={"format": "pt"})
    ours, metadata = load_with_metadata(path)
    assert metadata == {"format": "pt"}
    for key, tensor in state.items():
        if tensor.dtype == torch.bfloat16:
            assert_same(ours[key], tensor.float().numpy())
        else:
            assert_same(ours[key], tensor.numpy())


# ------------------------------------------------------------------------------------ fuzzing

_VALID = valid_bytes()
_FUZZ = settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def fuzz_path(tmp_path_factory):
    """One file rewritten by every example (module scope: hypothesis reruns the body)."""
    return str(tmp_path_factory.mktemp("fuzz") / "fuzz.safetensors")


def check_mutant(path: str, data: bytes) -> None:
    """Only a ValueError naming the file, or a load that agrees with the reference parser."""
    with open(path, "wb") as handle:
        handle.write(data)
    try:
        tensors, metadata = load_with_metadata(path)
    except ValueError as exc:
        assert str(exc).startswith(f"{path}: ")
        event("rejected with ValueError")
        return
    event("loaded and matched the reference")
    check_against_reference(data, tensors, metadata)


def check_against_reference(data, tensors, metadata):
    """Whatever we accept, safetensors' own parser accepts with the same contents."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import load as reference_load

    reference = reference_load(data)
    assert set(reference) == set(tensors)
    (n,) = struct.unpack("<Q", data[:8])
    assert metadata == json.loads(data[8:8 + n]).get("__metadata__", {})
    for key, theirs in reference.items():
        if theirs.dtype == torch.bfloat16:
            theirs = theirs.float()
        elif theirs.dtype == torch.bool:
            theirs = theirs.view(torch.uint8) != 0
        ours = np.asarray(tensors[key])
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours, theirs.numpy())


@_FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, len(_VALID) - 1), st.integers(1, 255)),
                      min_size=1, max_size=8))
def test_fuzz_byte_flips(fuzz_path, flips):
    data = bytearray(_VALID)
    for position, mask in flips:
        data[position] ^= mask
    check_mutant(fuzz_path, bytes(data))


@_FUZZ
@given(edits=st.lists(st.tuples(st.booleans(), st.integers(0, len(_VALID)),
                                st.binary(min_size=1, max_size=16)), min_size=1, max_size=4))
def test_fuzz_insertions_and_deletions(fuzz_path, edits):
    data = bytearray(_VALID)
    for insert, position, chunk in edits:
        position = min(position, len(data))
        if insert:
            data[position:position] = chunk
        else:
            del data[position:position + len(chunk)]
    check_mutant(fuzz_path, bytes(data))


@_FUZZ
@given(cut=st.integers(0, len(_VALID) + 16), tail=st.binary(max_size=32))
def test_fuzz_truncations_and_extensions(fuzz_path, cut, tail):
    check_mutant(fuzz_path, _VALID[:cut] + tail)


@_FUZZ
@given(header_len=st.one_of(st.integers(0, 2**64 - 1), st.integers(0, len(_VALID) + 8)))
def test_fuzz_header_length_rewrites(fuzz_path, header_len):
    check_mutant(fuzz_path, struct.pack("<Q", header_len) + _VALID[8:])


_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                          st.floats(allow_nan=False), st.text(max_size=6))
_DIM = st.one_of(st.integers(0, 4), st.integers(-3, 2**64), _JSON_SCALARS)
_ENTRY = st.fixed_dictionaries(
    {"dtype": st.one_of(st.sampled_from(list(serialization._FILE_DTYPES)
                                        + sorted(serialization._UNSUPPORTED_DTYPES)),
                        _JSON_SCALARS),
     "shape": st.one_of(st.lists(st.integers(0, 4), max_size=3), st.lists(_DIM, max_size=3),
                        _JSON_SCALARS),
     "data_offsets": st.one_of(st.lists(st.integers(0, 40), min_size=2, max_size=2),
                               st.lists(_DIM, max_size=3), _JSON_SCALARS)},
    optional={"extra": _JSON_SCALARS})
_METADATA = st.one_of(st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3),
                      st.dictionaries(st.text(max_size=4), _JSON_SCALARS, max_size=2),
                      _JSON_SCALARS)


@_FUZZ
@given(entries=st.dictionaries(st.text(min_size=1, max_size=5),
                               st.one_of(_ENTRY, _JSON_SCALARS), max_size=4),
       metadata=st.one_of(st.none(), _METADATA), buffer=st.binary(max_size=48),
       padding=st.integers(0, 7))
def test_fuzz_header_rewrites(fuzz_path, entries, metadata, buffer, padding):
    header = dict(entries)
    if metadata is not None:
        header["__metadata__"] = metadata
    check_mutant(fuzz_path, raw_file(json.dumps(header) + " " * padding, buffer))


@st.composite
def consistent_files(draw):
    """Well-formed files (any dtype, offsets in shuffled order), sometimes with one defect."""
    names = draw(st.lists(st.text(min_size=1, max_size=4), unique=True, max_size=4))
    names = [n for n in names if n != "__metadata__"]
    sizes = {**{k: v.itemsize for k, v in serialization._FILE_DTYPES.items()}, "U16": 2}
    specs = [(name, draw(st.sampled_from(sorted(sizes))),
              draw(st.lists(st.integers(0, 3), max_size=3))) for name in names]
    order = draw(st.permutations(range(len(specs))))
    header, position = {}, 0
    for index in order:
        name, dtype, shape = specs[index]
        nbytes = int(np.prod(shape, dtype=np.int64)) * sizes[dtype]
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [position, position + nbytes]}
        position += nbytes
    buffer = draw(st.binary(min_size=position, max_size=position))
    defect = draw(st.sampled_from(["none", "none", "offset", "shape", "tail", "metadata"]))
    if defect == "offset" and header:
        offsets = header[draw(st.sampled_from(sorted(header)))]["data_offsets"]
        offsets[draw(st.integers(0, 1))] += draw(st.sampled_from([-1, 1]))
    elif defect == "shape" and header:
        header[draw(st.sampled_from(sorted(header)))]["shape"].append(2)
    elif defect == "tail":
        buffer += b"\0"
    elif defect == "metadata":
        header["__metadata__"] = draw(_METADATA)
    return raw_file(json.dumps(header), buffer)


@_FUZZ
@given(data=consistent_files())
def test_fuzz_consistent_files_with_defects(fuzz_path, data):
    check_mutant(fuzz_path, data)


def test_valid_file_whose_header_length_starts_with_0x80_is_not_taken_for_a_pickle(tmp_path):
    """A header of 128 + 256k bytes begins with byte 0x80, like a pickle; it must load."""
    path = tmp_path / "t.safetensors"
    for name_length in range(1, 400):
        save({"x" * name_length: np.arange(3, dtype=np.float32)}, path)
        if path.read_bytes()[0] == 0x80:
            break
    else:
        pytest.fail("no name length gave a header length ending in 0x80")
    loaded = load(path)
    np.testing.assert_array_equal(loaded["x" * name_length].numpy(), [0, 1, 2])
