"""The default process group: one MPI communicator shared by every rank of the job.

``init_process_group`` imports mpi4py (which starts MPI), duplicates ``MPI.COMM_WORLD`` so
that our messages never mix with a program's own mpi4py traffic, and checks the job
against what a launcher announced in ``RANK``/``WORLD_SIZE`` (as torchrun sets them).
Started without a launcher, MPI is a world of one process and every collective is a copy.

A job of several ranks must never hang because one rank failed. Three mechanisms share
that duty (``faults.py``): an uncaught exception on any rank aborts the whole job at once,
every collective waits with a deadline (``timeout``), and a rank that exits while a
collective of its own failed aborts instead of waiting in ``MPI_Finalize``.
"""
from __future__ import annotations

import importlib.util
import os
from datetime import timedelta
from typing import Any

__all__ = ["is_available", "is_mpi_available", "init_process_group", "is_initialized",
           "destroy_process_group", "get_rank", "get_world_size", "get_backend",
           "default_pg_timeout", "ProcessGroup", "GroupMember"]

#: PyTorch's default for every collective of a CPU process group: 30 minutes.
default_pg_timeout = timedelta(minutes=30)

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to "
                    "call init_process_group.")
_BACKENDS = ("mpi", "gloo")  # gloo's CPU collectives, served by MPI (same semantics)


class ProcessGroup:
    """The ranks of one job and the communicator they talk over.

    ``comm`` is an ``mpi4py.MPI.Comm``; ``timeout`` (seconds) bounds every collective;
    ``broken`` becomes True once a collective failed, after which the job can only abort.
    """

    def __init__(self, comm: Any, backend: str, timeout: float) -> None:
        self.comm = comm
        self.backend = backend
        self.timeout = timeout
        self.broken = False
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()

    def rank(self) -> int:
        return self._rank

    def size(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self.backend!r}, rank={self._rank}, size={self._size})"


class GroupMember:
    """``GroupMember.WORLD``: the default group once initialised (PyTorch's name)."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = -100


def is_available() -> bool:
    """True when mpi4py is installed (``pip install 'abdou_torch[mpi]'``); MPI itself is
    loaded only by ``init_process_group``."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    return is_available()


def is_initialized() -> bool:
    return GroupMember.WORLD is not None


def _default_group(group: ProcessGroup | None = None) -> ProcessGroup:
    if group is not None and group is not GroupMember.WORLD:
        if isinstance(group, ProcessGroup):
            return group
        raise ValueError(f"group must be None or a ProcessGroup, got {type(group).__name__} "
                         f"(abdou_torch has only the default group)")
    if GroupMember.WORLD is None:
        raise ValueError(_NOT_INITIALIZED)
    return GroupMember.WORLD


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank, 0 to world size - 1."""
    return _default_group(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in the job."""
    return _default_group(group).size()


def get_backend(group: ProcessGroup | None = None) -> str:
    return _default_group(group).backend


def _seconds(timeout: Any) -> float:
    if timeout is None:
        return default_pg_timeout.total_seconds()
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if not seconds > 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
    return seconds


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise RuntimeError(
            f"init_process_group: MPI is not available ({error}); install it with "
            f"pip install 'abdou_torch[mpi]' (mpi4py and the MPICH wheel), or install mpi4py "
            f"against your cluster's MPI") from None
    return MPI


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"init_process_group: environment variable {name}={value!r} is "
                         f"not an integer") from None


def _check_announced(what: str, announced: int | None, actual: int, source: str) -> None:
    if announced is not None and announced >= 0 and announced != actual:
        raise RuntimeError(
            f"init_process_group: {source} says {what} {announced}, but MPI started this "
            f"process as {what} {actual}. Start the job with 'abdou-torch launch --nproc N' "
            f"or 'mpiexec -n N' (torchrun starts N separate worlds, which MPI cannot join)")


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: timedelta | float | None = None, world_size: int = -1,
                       rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the job's default process group (``torch.distributed.init_process_group``).

    ``backend`` is "mpi" (or None); "gloo", PyTorch's CPU backend, is served by MPI too, so
    PyTorch scripts run unchanged. ``rank`` and ``world_size``, when given, and the
    ``RANK``/``WORLD_SIZE`` environment variables, when set, must agree with MPI's view of
    the job. ``timeout`` (a timedelta or seconds; default 30 minutes) bounds each
    collective: past it the waiting rank raises ``DistBackendError``.
    """
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in _BACKENDS:
        raise ValueError(f"init_process_group: backend {backend!r} is not available in "
                         f"abdou_torch; use 'mpi' (or 'gloo', served by MPI): there is no GPU "
                         f"backend")
    if init_method not in (None, "env://") or store is not None:
        raise ValueError("init_process_group: MPI finds its ranks itself; init_method and "
                         "store are not used (leave them unset, or init_method='env://')")
    seconds = _seconds(timeout)
    MPI = _import_mpi()
    comm = MPI.COMM_WORLD.Dup()
    actual_rank, actual_size = comm.Get_rank(), comm.Get_size()
    try:
        _check_announced("world size", world_size, actual_size, "world_size=")
        _check_announced("rank", rank, actual_rank, "rank=")
        _check_announced("world size", _env_int("WORLD_SIZE"), actual_size, "WORLD_SIZE")
        _check_announced("rank", _env_int("RANK"), actual_rank, "RANK")
    except (RuntimeError, ValueError):
        comm.Free()
        raise
    group = ProcessGroup(comm, name, seconds)
    GroupMember.WORLD = group
    from . import faults
    faults.install(group)


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the default group; ``init_process_group`` may be called again afterwards."""
    world = _default_group(group)
    from . import faults
    faults.uninstall(world)
    if not world.broken:
        world.comm.Free()
    GroupMember.WORLD = None
