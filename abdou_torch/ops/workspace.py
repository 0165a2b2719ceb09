"""Reuse of large arrays between training steps, instead of fresh memory each time.

A training step allocates the same large arrays every time (convolution inputs laid out for
the product, activations, their gradients). glibc gives an array over its mmap threshold
(128 KiB to 32 MiB, adapting) fresh pages from the kernel, and returns freed memory at the
top of its heap to the kernel; each new page then costs a page fault when first written,
which inside a virtual machine costs more than filling it (the measurements are in
benchmarks/RESULTS.md, "Measured notes behind the fast paths").

Ops on the training hot path take their large outputs and saved arrays from ``workspace``
(``workspace.empty(shape, dtype)``, like ``np.empty``), and arrays below ``min_bytes`` come
from NumPy as usual.
"""
from __future__ import annotations

import math
import sys

import numpy as np
from numpy.typing import DTypeLike

__all__ = ["Workspace", "workspace"]


class Workspace:
    """A pool of large arrays, handed out again from one training step to the next.

    A pooled buffer is handed out again only when nothing references it any more: its
    reference count is back to the pool's own (every view of it, and so every Tensor or
    graph node holding one, keeps a reference to it through ``.base``). The pool keeps at
    most ``max_total_bytes``, dropping unused buffers to make room.
    """

    min_bytes = 1 << 20
    max_total_bytes = 1 << 30

    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []
        # the count an unused buffer shows here (the list, the loop variable, this call's
        # argument ...), measured rather than assumed, since it varies between Pythons
        self._unused = 0
        self._unused = max(self._count(buffer) for buffer in [np.empty(1)])

    @staticmethod
    def _count(buffer: np.ndarray) -> int:
        return sys.getrefcount(buffer)

    def _free(self, buffer: np.ndarray) -> bool:
        return self._count(buffer) <= self._unused + 1  # + 1: _free's own argument

    def empty(self, shape: tuple, dtype: DTypeLike) -> np.ndarray:
        size = math.prod(shape)
        nbytes = size * np.dtype(dtype).itemsize
        if nbytes < self.min_bytes:
            return np.empty(shape, dtype=dtype)
        for buffer in self.buffers:
            if buffer.size == size and buffer.dtype == dtype and self._free(buffer):
                return buffer.reshape(shape)
        total = sum(b.nbytes for b in self.buffers)
        for buffer in list(self.buffers):  # make room by dropping unused buffers
            if total + nbytes <= self.max_total_bytes:
                break
            if self._free(buffer):
                self.buffers.remove(buffer)
                total -= buffer.nbytes
            del buffer
        buffer = np.empty(size, dtype=dtype)
        if total + nbytes <= self.max_total_bytes:
            self.buffers.append(buffer)
        return buffer.reshape(shape)


workspace = Workspace()
