"""What each rank of ``abdou-torch launch`` runs: ``python -m abdou_torch.distributed.run
[-m] TARGET ARGS``.

It sets torchrun's variables from MPI's view of the job (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), then runs the
script (or module) as ``__main__``. If the script raises, the whole job is aborted at once:
the other ranks would otherwise wait for this one in their next collective. A non-zero
exit status aborts it too, unless every rank exits within a few seconds (they stopped
together, as after a Ctrl-C that all ranks agreed on).
"""
from __future__ import annotations

import os
import runpy
import socket
import sys
import traceback
from typing import Any

__all__ = ["main"]

#: How long a rank that exits with an error status waits for the others to exit too
#: before it aborts the job.
EXIT_GRACE = 3.0


def _set_torchrun_variables(comm: Any, MPI: Any) -> None:
    import numpy as np
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    host = np.zeros(256, dtype=np.uint8)
    if comm.Get_rank() == 0:
        name = socket.gethostname().encode()[:255]
        host[:len(name)] = np.frombuffer(name, dtype=np.uint8)
    comm.Bcast(host, root=0)
    os.environ.update(RANK=str(comm.Get_rank()), WORLD_SIZE=str(comm.Get_size()),
                      LOCAL_RANK=str(local.Get_rank()), LOCAL_WORLD_SIZE=str(local.Get_size()),
                      MASTER_ADDR=host.tobytes().rstrip(b"\0").decode(errors="replace"))
    os.environ.setdefault("MASTER_PORT", "29500")
    local.Free()


def _abort(comm: Any, code: int, reason: str) -> None:
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    rank, size = comm.Get_rank(), comm.Get_size()
    print(f"[rank {rank}/{size}] abdou_torch.distributed: {reason}; aborting all {size} "
          f"ranks", file=sys.stderr, flush=True)
    comm.Abort(code)


def _all_exiting(comm: Any, grace: float) -> bool:
    """Whether every rank reaches this point within ``grace`` seconds: then they stopped
    together (an agreed Ctrl-C, an error every rank found) and may exit normally."""
    import time
    request = comm.Ibarrier()
    deadline = time.monotonic() + grace
    while not request.Test():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _exit_status(error: SystemExit) -> int:
    if error.code is None:
        return 0
    if isinstance(error.code, int):
        return error.code
    print(error.code, file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    as_module = bool(argv) and argv[0] == "-m"
    if as_module:
        argv = argv[1:]
    if not argv:
        sys.exit("usage: python -m abdou_torch.distributed.run [-m] TARGET [ARGS ...]")
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    _set_torchrun_variables(comm, MPI)
    sys.argv = list(argv)
    try:
        if as_module:
            runpy.run_module(argv[0], run_name="__main__", alter_sys=True)
        else:
            sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
            runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as error:
        status = _exit_status(error)
        if status != 0 and comm.Get_size() > 1 and not _all_exiting(comm, EXIT_GRACE):
            _abort(comm, status, f"rank {comm.Get_rank()} exited with status {status}")
        sys.exit(status)
    except KeyboardInterrupt:
        traceback.print_exc()
        _abort(comm, 130, f"rank {comm.Get_rank()} was interrupted")
    except BaseException as error:  # noqa: BLE001 - any failure must end the whole job
        traceback.print_exc()
        _abort(comm, 1, f"uncaught {type(error).__name__} on rank {comm.Get_rank()}")


if __name__ == "__main__":
    main()
