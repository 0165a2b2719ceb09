"""Collectives on tensors: all_reduce, broadcast, all_gather, reduce, barrier.

Each works in place on its tensor argument, as PyTorch's: ``all_reduce(t)`` leaves the
sum over ranks in ``t``. Underneath, every collective is MPI's non-blocking form
(``Iallreduce``, ``Ibcast`` ...) completed by polling with a deadline: MPI's blocking calls
have no timeout, so a rank waiting for a peer that died or hung would wait forever.
``async_op=True`` returns the :class:`Work` at once; ``work.wait()`` completes it.

Polling first spins (a peer that arrives within about a millisecond is seen at once, as
MPI's own blocking wait would), then sleeps between tests, growing to a millisecond, so a
rank that waits long (at a barrier while rank 0 writes a checkpoint) leaves the CPU to the
others.
"""
from __future__ import annotations

import enum
import time
from typing import Any, Callable, Sequence

import numpy as np

from .. import dtypes
from ..tensor import Tensor
from .process_group import ProcessGroup, _default_group

__all__ = ["ReduceOp", "Work", "DistBackendError", "all_reduce", "broadcast", "all_gather",
           "reduce", "barrier"]

_SPIN_SECONDS = 1e-3
_MAX_PAUSE = 1e-3


class DistBackendError(RuntimeError):
    """A collective failed: it timed out, or the group broke earlier (PyTorch's name)."""


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce`` combine the ranks' values.

    AVG is the sum divided by the world size (floating-point tensors only); BAND, BOR and
    BXOR are bitwise (integer and bool tensors only).
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


def _mpi():
    from mpi4py import MPI
    return MPI


def _mpi_op(op: ReduceOp, dtype: dtypes.DType, name: str):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{name}: op must be a ReduceOp (ReduceOp.SUM, AVG, PRODUCT, MIN, MAX, "
                        f"BAND, BOR, BXOR), got {op!r}")
    if op is ReduceOp.AVG and dtype.kind != "f":
        raise TypeError(f"{name}: ReduceOp.AVG needs a floating-point tensor, got {dtype}")
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.kind not in "biu":
        raise TypeError(f"{name}: {op} is bitwise: it needs an integer or bool tensor, got "
                        f"{dtype}")
    MPI = _mpi()
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
            ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND,
            ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


def wait(requests: Sequence[Any], group: ProcessGroup, name: str,
         timeout: float | None = None) -> None:
    """Complete MPI ``requests`` or raise DistBackendError once ``timeout`` seconds (the
    group's by default) have passed. A timeout breaks the group: the job must end."""
    MPI = _mpi()
    requests = list(requests)
    if MPI.Request.Testall(requests):
        return
    started = time.monotonic()
    limit = group.timeout if timeout is None else float(timeout)
    pause = 0.0
    while True:
        if MPI.Request.Testall(requests):
            return
        waited = time.monotonic() - started
        if waited > limit:
            group.broken = True
            raise DistBackendError(
                f"{name} timed out after {limit:g} s on rank {group.rank()} of "
                f"{group.size()}: another rank did not join it (it failed, hung, exited, or "
                f"called a different collective). The job cannot continue.")
        if waited > _SPIN_SECONDS:
            pause = min(_MAX_PAUSE, max(2 * pause, 2e-5))
            time.sleep(pause)


class Work:
    """A collective in flight (``async_op=True``): ``wait()`` completes it (True, as
    PyTorch's), ``is_completed()`` tests it without waiting."""

    def __init__(self, requests: Sequence[Any], group: ProcessGroup, name: str,
                 finish: Callable[[], None] | None = None) -> None:
        self._requests, self._group, self._name = list(requests), group, name
        self._finish, self._done = finish, False

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self) -> bool:
        if not self._done and _mpi().Request.Testall(self._requests):
            self._complete()
        return self._done

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout
            wait(self._requests, self._group, self._name, seconds)
            self._complete()
        return True

    def __repr__(self) -> str:
        return f"Work({self._name}, completed={self._done})"


def _check_group(group: Any, name: str) -> ProcessGroup:
    world = _default_group(group)
    if world.broken:
        raise DistBackendError(f"{name}: an earlier collective of this process group failed; "
                               f"the job cannot continue")
    return world


def _check_tensor(tensor: Any, name: str, argument: str = "tensor") -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: {argument} must be a Tensor, got {type(tensor).__name__}")
    return tensor


def _check_rank(rank: Any, world: ProcessGroup, name: str, argument: str) -> int:
    if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) \
            or not 0 <= rank < world.size():
        raise ValueError(f"{name}: {argument}={rank!r} is not a rank of this group (0 to "
                         f"{world.size() - 1})")
    return int(rank)


def _wire_array(tensor: Tensor) -> np.ndarray:
    """A contiguous array MPI can send and receive for ``tensor``: its own memory when
    possible; float16 goes through float32 (MPI has no standard half type) and bool
    through uint8."""
    data = tensor.data
    if data.dtype == np.float16:
        return data.astype(np.float32)
    if data.dtype == np.bool_:
        return data.astype(np.uint8)
    return data if data.flags.c_contiguous else np.ascontiguousarray(data)


def _store(tensor: Tensor, values: np.ndarray) -> None:
    """Write a collective's result into ``tensor`` (in place, as PyTorch's do)."""
    if values is not tensor.data:
        tensor.data[...] = values.astype(tensor.data.dtype, copy=False)
    tensor._version += 1


def _launch(world: ProcessGroup, name: str, request: Any, finish: Callable[[], None],
            async_op: bool) -> Work | None:
    work = Work([request], world, name, finish)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over all ranks with ``op``; every rank gets the result in place."""
    name = "all_reduce"
    _check_tensor(tensor, name)
    world = _check_group(group, name)
    mpi_op = _mpi_op(op, tensor.dtype, name)
    wire = _wire_array(tensor)
    request = world.comm.Iallreduce(_mpi().IN_PLACE, wire, op=mpi_op)

    def finish() -> None:
        if op is ReduceOp.AVG:
            np.divide(wire, world.size(), out=wire)
        _store(tensor, wire)
    return _launch(world, name, request, finish, async_op)


def broadcast(tensor: Tensor, src: int = 0, group: Any = None, async_op: bool = False,
              group_src: int | None = None) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank."""
    name = "broadcast"
    _check_tensor(tensor, name)
    world = _check_group(group, name)
    src = _check_rank(src if group_src is None else group_src, world, name, "src")
    wire = _wire_array(tensor)
    request = world.comm.Ibcast(wire, root=src)
    return _launch(world, name, request, lambda: _store(tensor, wire), async_op)


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: Any = None,
           async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """Combine ``tensor`` over all ranks with ``op`` into rank ``dst``'s ``tensor``; the
    other ranks' tensors are left as they are."""
    name = "reduce"
    _check_tensor(tensor, name)
    world = _check_group(group, name)
    dst = _check_rank(dst if group_dst is None else group_dst, world, name, "dst")
    mpi_op = _mpi_op(op, tensor.dtype, name)
    wire = _wire_array(tensor)
    is_root = world.rank() == dst
    result = np.empty_like(wire) if is_root else None
    request = world.comm.Ireduce(wire, result, op=mpi_op, root=dst)

    def finish() -> None:
        if is_root:
            if op is ReduceOp.AVG:
                np.divide(result, world.size(), out=result)
            _store(tensor, result)
    return _launch(world, name, request, finish, async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: Any = None,
               async_op: bool = False) -> Work | None:
    """Fill ``tensor_list[r]`` with rank r's ``tensor``, on every rank; the list holds one
    tensor per rank, each of ``tensor``'s shape and dtype."""
    name = "all_gather"
    _check_tensor(tensor, name)
    world = _check_group(group, name)
    if not isinstance(tensor_list, (list, tuple)) or len(tensor_list) != world.size():
        count = len(tensor_list) if isinstance(tensor_list, (list, tuple)) else "not a list"
        raise ValueError(f"{name}: tensor_list must hold one tensor per rank ({world.size()}), "
                         f"got {count}")
    for position, output in enumerate(tensor_list):
        _check_tensor(output, name, f"tensor_list[{position}]")
        if output.shape != tensor.shape or output.dtype != tensor.dtype:
            raise ValueError(f"{name}: tensor_list[{position}] has shape {tuple(output.shape)} "
                             f"and dtype {output.dtype}, but the input has shape "
                             f"{tuple(tensor.shape)} "
                             f"and dtype {tensor.dtype}")
    wire = _wire_array(tensor)
    gathered = np.empty((world.size(),) + wire.shape, dtype=wire.dtype)
    request = world.comm.Iallgather(wire, gathered)

    def finish() -> None:
        for output, values in zip(tensor_list, gathered):
            _store(output, values)
    return _launch(world, name, request, finish, async_op)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank has reached this barrier."""
    world = _check_group(group, "barrier")
    return _launch(world, "barrier", world.comm.Ibarrier(), lambda: None, async_op)
