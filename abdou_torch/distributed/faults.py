"""What keeps a job of several ranks from hanging when one of them fails.

MPI's launcher (``mpiexec``) ends the whole job when a rank is killed or calls
``MPI_Abort``, but a rank that raises an exception and exits the normal way waits in
``MPI_Finalize`` for ranks that are themselves waiting for it: a hang. So, while a default
group of more than one rank exists:

- an uncaught exception prints its traceback, names the rank, and aborts the job
  (``sys.excepthook``), so every other rank ends within moments;
- a rank whose collective failed (a timeout) aborts at exit instead of finalising (atexit);
- every collective waits with a deadline (``collectives.wait``), which covers a rank that
  hangs, exits early, or calls the collectives in another order.
"""
from __future__ import annotations

import atexit
import sys
from typing import Any

__all__ = ["install", "uninstall", "abort"]

_installed: dict[str, Any] = {}


def abort(group: Any, code: int, reason: str) -> None:
    """Print ``reason`` and end every rank of the job with exit status ``code``."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    print(f"[rank {group.rank()}/{group.size()}] abdou_torch.distributed: {reason}; "
          f"aborting all {group.size()} ranks", file=sys.stderr, flush=True)
    group.comm.Abort(code)


def _excepthook(group: Any, previous: Any):
    def hook(exc_type: type, exc: BaseException, traceback: Any) -> None:
        previous(exc_type, exc, traceback)
        code = 130 if issubclass(exc_type, KeyboardInterrupt) else 1
        abort(group, code, f"uncaught {exc_type.__name__} on rank {group.rank()}")
    return hook


def _at_exit(group: Any) -> None:
    if group.broken:  # a collective failed: finalising would wait for the other ranks
        abort(group, 1, "exiting after a failed collective")


def install(group: Any) -> None:
    """Arm the abort-on-failure hooks for ``group`` (nothing to do for a world of one)."""
    if group.size() == 1:
        return
    _installed["previous"] = sys.excepthook
    _installed["group"] = group
    sys.excepthook = _excepthook(group, sys.excepthook)
    atexit.register(_at_exit, group)


def uninstall(group: Any) -> None:
    if _installed.get("group") is not group:
        return
    sys.excepthook = _installed.pop("previous")
    _installed.pop("group")
    atexit.unregister(_at_exit)
