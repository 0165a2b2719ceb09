"""Stopping a run cleanly on Ctrl-C (SIGINT) or ``kill``/a scheduler (SIGTERM).

Two modes, both usable by any training loop:

* :func:`stop_immediately` (for setup: loading data, resuming): either signal raises
  :class:`Stopped` where the program is, which the command line turns into one line and
  the conventional exit status ``128 + signal`` (130 for SIGINT, 143 for SIGTERM).
* :class:`DeferredStop` (for the loop): the first signal only sets :attr:`signum`; the loop
  polls :attr:`requested` between steps, saves a checkpoint and stops. A second signal
  raises :class:`Stopped` at once, for a run stuck where it cannot poll.

Handlers can only be installed from the main thread; elsewhere both are no-ops and the
signals keep their current handlers.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from types import FrameType
from typing import Any, Iterator

__all__ = ["Stopped", "DeferredStop", "stop_immediately", "STOP_SIGNALS", "exit_code",
           "Interrupted"]

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def exit_code(signum: int) -> int:
    """The shell's status for a process ended by ``signum``: 128 + its number."""
    return 128 + int(signum)


class Stopped(BaseException):
    """Raised when a stop signal must take effect at once. A BaseException, as
    KeyboardInterrupt is, so that ``except Exception`` blocks do not swallow it."""

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_code(self) -> int:
        return exit_code(self.signum)


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signum)


@contextmanager
def _handlers(handler: Any) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def stop_immediately() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`Stopped`."""
    with _handlers(_raise_stopped):
        yield


class DeferredStop:
    """Within ``with DeferredStop() as stop:``, the first SIGINT or SIGTERM sets
    ``stop.signum`` (so ``stop.requested`` is true); a second one raises :class:`Stopped`."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._context: Any = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def request(self, signum: int = signal.SIGINT) -> None:
        """Ask the loop to stop as a signal would (for tests and programmatic stops)."""
        if self.signum is not None:
            raise Stopped(signum)
        self.signum = int(signum)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.request(signum)

    def __enter__(self) -> "DeferredStop":
        self._context = _handlers(self._handle)
        self._context.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        context, self._context = self._context, None
        context.__exit__(*exc_info)


class Interrupted(Exception):
    """Raised after Ctrl-C or SIGTERM once the checkpoint is safely on disk."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by signal {signum}")
