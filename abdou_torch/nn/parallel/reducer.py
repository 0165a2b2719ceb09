"""The gradient averaging behind DistributedDataParallel: buckets, hooks, one Allreduce.

At construction the parameters that require grad are laid out, from the last registered
to the first (the order in which backward usually produces their gradients), in buckets
of one dtype and at most ``bucket_bytes`` each; every rank builds the same buckets, so the
collectives line up.

Each forward through DDP arms the reducer. During the backward that follows, a tensor hook
on each parameter receives its gradient ``g`` and writes ``(p.grad + g) / N`` (or ``g / N``)
into the parameter's slot of a fresh bucket array. A bucket whose slots are all written is
sent (``Iallreduce``, summing), strictly in bucket order, so every rank issues the same
collectives in the same order. When the last parameter's hook runs, the reducer waits for
every bucket and points each ``p.grad`` at its slot, so when ``loss.backward()`` returns,

    p.grad = (1/N) sum over ranks r of (p.grad_r + g_r)

on every rank. The last parameter's own gradient is not stored yet at that moment: its
hook clears ``p.grad`` and returns the averaged slot, which the walk then stores.

With ``find_unused_parameters``, the forward's output graph is searched for the parameters
it reaches; the others are marked ready at the first hook (contributing ``p.grad / N`` or
zeros), and a second Allreduce of per-parameter use counts tells which parameters no rank
used: their ``.grad`` is left untouched, as PyTorch does.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ...distributed.collectives import wait
from ...distributed.process_group import ProcessGroup
from ...tensor import Tensor

__all__ = ["Reducer", "DEFAULT_BUCKET_CAP_MB"]

#: PyTorch's default bucket size.
DEFAULT_BUCKET_CAP_MB = 25


class _Bucket:
    """Parameters of one dtype whose gradients travel in one Allreduce."""

    def __init__(self, indices: list[int], params: Sequence[Tensor]) -> None:
        self.indices = indices
        dtype = params[indices[0]].dtype
        # MPI has no standard half type: half gradients are summed in float32
        self.dtype = np.dtype(np.float32) if dtype == np.float16 else dtype
        sizes = [params[i].data.size for i in indices]
        self.offsets = dict(zip(indices, np.cumsum([0] + sizes[:-1]).tolist()))
        self.numel = int(sum(sizes))
        self.flat: np.ndarray | None = None
        self.pending = 0
        self.request: Any = None


def _bucket_layout(params: Sequence[Tensor], cap_bytes: int) -> list[list[int]]:
    """Parameter indices per bucket: from the last parameter to the first, one dtype per
    bucket, a new bucket once ``cap_bytes`` is reached."""
    open_buckets: dict[np.dtype, tuple[list[int], int]] = {}
    layout: list[list[int]] = []
    for index in reversed(range(len(params))):
        array = params[index].data
        indices, size = open_buckets.get(array.dtype, (None, 0))
        if indices is None or size >= cap_bytes:
            indices, size = [], 0
            layout.append(indices)
        indices.append(index)
        open_buckets[array.dtype] = (indices, size + array.nbytes)
    return layout


def _tensors_in(value: Any) -> list[Tensor]:
    """The tensors inside a forward's output (nested tuples, lists and dicts)."""
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            found.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def _reachable(outputs: list[Tensor]) -> set[int]:
    """ids of every tensor the outputs were computed from."""
    seen: set[int] = set()
    stack = [t for t in outputs if t.requires_grad]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        stack.extend(parent for parent in tensor._prev if parent._requires_grad)
    return seen


class Reducer:
    """Averages the gradients of ``params`` (with names ``names``) over ``group``'s ranks."""

    def __init__(self, params: Sequence[Tensor], names: Sequence[str], group: ProcessGroup,
                 bucket_cap_mb: float, find_unused_parameters: bool) -> None:
        self.params, self.names, self.group = list(params), list(names), group
        self.find_unused_parameters = find_unused_parameters
        cap_bytes = max(1, int(bucket_cap_mb * 1024 * 1024))
        self.buckets = [_Bucket(indices, self.params)
                        for indices in _bucket_layout(self.params, cap_bytes)]
        self._bucket_of = {i: b for b in self.buckets for i in b.indices}
        self._scale = 1.0 / group.size()
        self._armed = False
        self._ready = np.zeros(len(self.params), dtype=bool)
        self._used = np.ones(len(self.params), dtype=bool)
        self._started = False
        self._next_bucket = 0
        self._remaining = 0
        self._use_counts: np.ndarray | None = None
        self._use_request: Any = None
        self._handles = [p.register_hook(self._hook(i)) for i, p in enumerate(self.params)]

    def remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()

    # -- each iteration ------------------------------------------------------------------
    def check_finished(self) -> None:
        """Raise if the last armed backward did not reach every parameter (PyTorch's check
        at the next forward)."""
        if not (self._armed and self._started):
            return
        missing = [self.names[i] for i in np.flatnonzero(self._used & ~self._ready)]
        self._armed = False
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a new "
            "one. This error indicates that your module has parameters that were not used in "
            "producing loss. You can enable unused parameter detection by passing the keyword "
            "argument `find_unused_parameters=True` to DistributedDataParallel, and by making "
            "sure all `forward` function outputs participate in calculating loss. Parameters "
            f"which did not receive grad for rank {self.group.rank()}: {', '.join(missing)}")

    def prepare_for_backward(self, output: Any) -> None:
        """Arm the hooks for the backward of ``output``."""
        self._ready[:] = False
        if self.find_unused_parameters:
            reached = _reachable(_tensors_in(output))
            self._used = np.array([id(p) in reached for p in self.params], dtype=bool)
        for bucket in self.buckets:
            bucket.flat = np.empty(bucket.numel, dtype=bucket.dtype)
            bucket.pending = int(self._used[bucket.indices].sum())
            bucket.request = None
        self._next_bucket = 0
        self._remaining = len(self.buckets)
        self._started = False
        self._armed = True

    def disarm(self) -> None:
        self._armed = False

    # -- during backward -----------------------------------------------------------------
    def _hook(self, index: int):
        def hook(grad: Tensor) -> Tensor | None:
            if not self._armed or self._ready[index]:
                return None
            return self._mark_ready(index, grad)
        return hook

    def _slot(self, index: int) -> np.ndarray:
        bucket = self._bucket_of[index]
        start = bucket.offsets[index]
        param = self.params[index]
        assert bucket.flat is not None  # allocated by prepare_for_backward
        return bucket.flat[start:start + param.data.size].reshape(param.shape)

    def _write_slot(self, index: int, grad: np.ndarray | None) -> None:
        """slot = (p.grad + grad) / N, a missing term counting as zero."""
        slot, existing = self._slot(index), self.params[index].grad
        if existing is None and grad is None:
            slot[...] = 0
        elif existing is None or grad is None:
            term = grad if existing is None else existing.data
            assert term is not None  # one of the two is missing, not both
            np.multiply(term, self._scale, out=slot)
        else:
            np.add(existing.data, grad, out=slot)
            slot *= self._scale

    def _start(self) -> None:
        """At the first hook of a backward: mark the unused parameters ready, and count
        over the ranks who used what."""
        self._started = True
        if not self.find_unused_parameters:
            return
        self._use_counts = self._used.astype(np.int32)
        from mpi4py import MPI
        self._use_request = self.group.comm.Iallreduce(MPI.IN_PLACE, self._use_counts,
                                                       op=MPI.SUM)
        for index in np.flatnonzero(~self._used):
            self._write_slot(int(index), None)
            self._ready[index] = True

    def _mark_ready(self, index: int, grad: Tensor) -> Tensor | None:
        if not self._started:
            self._start()
        if not self._used[index]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once: parameter "
                f"{self.names[index]} was not reached from the forward's outputs (so it was "
                f"marked ready as unused) but then received a gradient. Use module parameters "
                f"only inside forward, or find_unused_parameters=False")
        self._write_slot(index, grad.data)
        self._ready[index] = True
        bucket = self._bucket_of[index]
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()
        if self._remaining:
            return None
        return self._finish(index)

    def _launch_ready_buckets(self) -> None:
        """Send every bucket that is complete, in bucket order (the same on every rank)."""
        from mpi4py import MPI
        while self._next_bucket < len(self.buckets) \
                and self.buckets[self._next_bucket].pending == 0:
            bucket = self.buckets[self._next_bucket]
            bucket.request = self.group.comm.Iallreduce(MPI.IN_PLACE, bucket.flat, op=MPI.SUM)
            self._next_bucket += 1
            self._remaining -= 1

    def _finish(self, last: int) -> Tensor | None:
        """Wait for every bucket, then give each parameter its averaged gradient. Returns
        the one for ``last``, whose hook is running (the walk stores it)."""
        self._armed = False
        requests = [b.request for b in self.buckets]
        if self._use_request is not None:
            requests.append(self._use_request)
        wait(requests, self.group, "DistributedDataParallel gradient all_reduce")
        self._use_request = None
        globally_used = np.ones(len(self.params), dtype=bool) if self._use_counts is None \
            else self._use_counts > 0
        result = None
        for index, param in enumerate(self.params):
            if not globally_used[index]:
                continue
            slot = self._slot(index)
            if slot.dtype != param.dtype:
                slot = slot.astype(param.dtype)
            if index == last:
                param.grad, result = None, Tensor._wrap(slot, False)
            else:
                param.grad = Tensor._wrap(slot, False)
        return result
