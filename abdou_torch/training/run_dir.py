"""The output directory of a run: one writer at a time, nothing lost, nothing half-written.

Any training loop can use these pieces (``abdou-torch train`` does):

* :class:`RunDirectory` creates the directory and holds an exclusive lock on it for the
  life of the run, so a second run into the same ``--out`` is refused at once with a clear
  message instead of both "succeeding" while one's files vanish. The lock is an OS lock
  (``fcntl.flock`` on ``DIR/.lock``): the kernel drops it when its process dies, so a run
  that was killed never blocks the next one.
* :func:`refuse_to_replace` stops a fresh run from silently replacing an unfinished run's
  checkpoint; it says how to resume, or to pass ``--overwrite``.
* :func:`write_bytes`, :func:`write_text` and :func:`write_json` write every output file as
  checkpoints are written: a temporary file next to the target, flushed, fsynced, then
  renamed over it. A full disk or a kill leaves the old file or the new one, never a
  0-byte or half file. JSON is always valid JSON (see :mod:`.json_io`).
* :func:`write_error` turns an ``OSError`` into a one-line :class:`RunDirectoryError`
  saying what went wrong and what to do (free space, choose a writable directory).
"""
from __future__ import annotations

import errno
import os
import socket
import time
from pathlib import Path
from typing import Any, Callable

from ..serialization import _atomic_write
from . import json_io

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked (documented in RunDirectory)
    fcntl = None  # type: ignore[assignment]

__all__ = ["RunDirectory", "RunDirectoryError", "refuse_to_replace", "write_bytes",
           "write_text", "write_json", "write_error"]

LOCK_NAME = ".lock"


class RunDirectoryError(Exception):
    """A problem with the run's directory or one of its files; the message is one line that
    says what is wrong and what to do."""


def write_error(path: str | os.PathLike, error: OSError, what: str = "write") -> \
        RunDirectoryError:
    """A one-line error for an OSError met while writing ``path``, with the remedy."""
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "free some space on that disk"
    elif error.errno == errno.EFBIG:
        advice = "the file-size limit (ulimit -f) was reached: raise it"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = "choose a directory you can write to (--out)"
    elif error.errno in (errno.ENOTDIR, errno.EEXIST):
        advice = "choose another --out"
    else:
        advice = "check the path and the disk"
    return RunDirectoryError(f"cannot {what} {path}: {reason}; {advice}")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    try:
        _atomic_write(os.fspath(path), data)
    except OSError as error:
        raise write_error(path, error) from error


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, value: Any, indent: int | None = 2) -> None:
    """Write ``value`` as JSON atomically; NaN and infinities become ``null``."""
    write_text(path, json_io.dumps(value, nonfinite="null", indent=indent) + "\n")


class RunDirectory:
    """A run's output directory, created on :meth:`open` and locked until :meth:`close`.

    ``with RunDirectory("runs/a") as run_dir: ...`` creates ``runs/a`` (and its parents),
    checks it is a writable directory and takes the lock, raising
    :class:`RunDirectoryError` with a one-line message when it is a file, read-only, or
    locked by another live process (whose pid and host the message names). On systems
    without ``fcntl`` (Windows) the directory is created but not locked.
    """

    def __init__(self, path: str | os.PathLike, option: str = "--out") -> None:
        self.path = Path(path)
        self.option = option
        self._lock_fd: int | None = None

    def __enter__(self) -> "RunDirectory":
        return self.open()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def open(self) -> "RunDirectory":
        self._create()
        self._lock()
        return self

    def close(self) -> None:
        """Release the lock (the lock file stays: removing it would race a newcomer)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    @property
    def locked(self) -> bool:
        return self._lock_fd is not None

    def _create(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise RunDirectoryError(f"{self.option} {self.path} is a file, not a directory; "
                                    f"choose another {self.option}")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise write_error(self.path, error, "create the directory") from None

    def _lock(self) -> None:
        lock_path = self.path / LOCK_NAME
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:
            raise write_error(self.path, error, "write to") from None
        if fcntl is None:
            self._lock_fd = fd
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise RunDirectoryError(
                f"another run is writing to {self.path} ({holder}); wait for it to finish "
                f"or choose another {self.option}") from None
        except OSError as error:
            os.close(fd)
            raise write_error(self.path, error, "lock") from None
        self._lock_fd = fd
        _write_holder(fd)
        # The directory must also take new files: the lock file alone may have existed.
        probe = self.path / f".write-test-{os.getpid()}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            self.close()
            raise write_error(self.path, error, "write to") from None


def _write_holder(fd: int) -> None:
    """Record who holds the lock, for the message another run will print."""
    note = f"pid {os.getpid()} on {socket.gethostname()}, since {time.strftime('%H:%M:%S')}"
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, note.encode(), 0)
    except OSError:
        pass  # a full disk must not stop the run: the lock itself is held


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode(errors="replace").strip()
    except OSError:
        text = ""
    return text or "a process that is still running"


def refuse_to_replace(checkpoint: str | os.PathLike,
                      describe_unfinished: Callable[[Path], str | None], *, resume: bool,
                      overwrite: bool, resume_command: str) -> None:
    """Raise :class:`RunDirectoryError` when a fresh run would replace an unfinished run.

    ``describe_unfinished(path)`` returns a short description of the run the checkpoint at
    ``path`` belongs to (``"epoch 2 of 5, step 130"``) when it can still be resumed, else
    None (a finished run's checkpoint may be replaced). Nothing is refused with ``resume``
    (the checkpoint is continued) or ``overwrite`` (the user asked to start over).
    """
    checkpoint = Path(checkpoint)
    if resume or overwrite or not checkpoint.exists():
        return
    try:
        unfinished = describe_unfinished(checkpoint)
    except (ValueError, OSError) as error:
        raise RunDirectoryError(
            f"{checkpoint} exists but cannot be read ({_one_line(error)}); pass --overwrite "
            f"to start over, or choose another --out") from None
    if unfinished is not None:
        raise RunDirectoryError(
            f"{checkpoint.parent} holds an unfinished run ({unfinished}): pass --overwrite to "
            f"start over, or resume it with: {resume_command}")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
