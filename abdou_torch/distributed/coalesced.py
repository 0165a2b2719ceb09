"""Several arrays in one message: what DistributedDataParallel sends at construction and
before each forward, where one collective for all tensors costs one latency instead of
one per tensor."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .collectives import wait
from .process_group import ProcessGroup

__all__ = ["broadcast_arrays", "all_gather_bytes"]


def broadcast_arrays(arrays: Sequence[np.ndarray], group: ProcessGroup, src: int = 0,
                     name: str = "broadcast") -> None:
    """Overwrite each array, in place, with rank ``src``'s: the arrays' bytes travel as
    one buffer (any mix of dtypes, as long as every rank has the same shapes and dtypes)."""
    arrays = [a for a in arrays if a.size]
    if not arrays or group.size() == 1:
        return
    sizes = [a.nbytes for a in arrays]
    buffer = np.empty(sum(sizes), dtype=np.uint8)
    offsets = np.cumsum([0] + sizes)
    if group.rank() == src:
        for array, start, stop in zip(arrays, offsets[:-1], offsets[1:]):
            buffer[start:stop] = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    wait([group.comm.Ibcast(buffer, root=src)], group, name)
    if group.rank() != src:
        for array, start, stop in zip(arrays, offsets[:-1], offsets[1:]):
            array[...] = buffer[start:stop].view(array.dtype).reshape(array.shape)


def all_gather_bytes(payload: bytes, group: ProcessGroup, name: str = "all_gather") -> list[bytes]:
    """Every rank's ``payload`` (of any length), in rank order, on every rank."""
    lengths_array = np.empty(group.size(), dtype=np.int64)
    wait([group.comm.Iallgather(np.array([len(payload)], dtype=np.int64), lengths_array)],
         group, name)
    lengths = [int(n) for n in lengths_array]
    received = np.empty(sum(lengths), dtype=np.uint8)
    displacements = np.cumsum([0] + lengths[:-1]).tolist()
    send = np.frombuffer(payload, dtype=np.uint8) if payload else np.empty(0, np.uint8)
    wait([group.comm.Iallgatherv(send, [received, lengths, displacements, _byte_type()])],
         group, name)
    return [received[start:start + n].tobytes() for start, n in zip(displacements, lengths)]


def _byte_type():
    from mpi4py import MPI
    return MPI.BYTE
