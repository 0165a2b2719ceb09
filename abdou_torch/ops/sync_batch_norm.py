"""Batch normalisation with statistics over the whole batch of every rank (SyncBatchNorm).

Each rank holds B/N samples. Forward: each rank computes, per channel, its count ``m_r``,
mean ``mu_r`` and sum of squared deviations ``M2_r``; one Allgather brings them to every
rank, which combines them exactly (Chan et al.'s parallel formula, in float64):

    M = sum m_r,   mean = sum m_r mu_r / M,   M2 = sum (M2_r + m_r (mu_r - mean)^2)
    var = M2 / M,  invstd = 1 / sqrt(var + eps),  y = (x - mean) invstd w + b

Backward, with c = x - mean: each rank sums ``dy`` and ``dy c`` over its own samples; one
Allreduce gives the sums over all ranks, and

    dx = w invstd (dy - sum(dy) / M - c invstd^2 sum(dy c) / M)
    dw = sum_local(dy c) invstd,   db = sum_local(dy)

``dw`` and ``db`` stay local, as in PyTorch: DistributedDataParallel averages them with the
other gradients. With a mean-reduced loss per rank, N ranks then get exactly the gradients
of one BatchNorm over the whole batch.

Not differentiable twice (PyTorch's SyncBatchNorm is not either).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd.function import Primitive

__all__ = ["sync_batch_norm"]


def _per_channel(x: np.ndarray) -> np.ndarray:
    """(N, C, ...) viewed as (N, C, L)."""
    return x.reshape(x.shape[0], x.shape[1], -1)


def _global_moments(flat: np.ndarray, group: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """(mean, biased var, count) per channel over every rank's ``flat`` (N, C, L)."""
    from ..distributed.collectives import wait
    channels = flat.shape[1]
    count = flat.shape[0] * flat.shape[2]
    local = np.zeros(1 + 2 * channels, dtype=np.float64)
    local[0] = count
    if count:
        mean = np.einsum("ncl->c", flat, dtype=np.float64) / count
        centered = flat - mean.astype(flat.dtype)[None, :, None]
        local[1:1 + channels] = mean
        local[1 + channels:] = np.einsum("ncl,ncl->c", centered, centered, dtype=np.float64)
    gathered = np.empty((group.size(), local.size), dtype=np.float64)
    wait([group.comm.Iallgather(local, gathered)], group, "SyncBatchNorm statistics")
    counts, means, squares = gathered[:, 0], gathered[:, 1:1 + channels], \
        gathered[:, 1 + channels:]
    total = counts.sum()
    mean = (counts[:, None] * means).sum(0) / total
    m2 = (squares + counts[:, None] * (means - mean) ** 2).sum(0)
    return mean, m2 / total, int(total)


class SyncBatchNorm(Primitive):
    """Training-mode batch norm over the batches of every rank of ``group`` (see the
    module docstring for the formulas)."""

    name = "sync_batch_norm"

    def forward(self, x, weight, bias, eps: float, group: Any, running: tuple,
                momentum: float):
        self.group = group
        flat = _per_channel(x)
        mean, var, self.count = _global_moments(flat, group)
        if self.count <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when "
                             f"training, got {self.count} over all ranks")
        running_mean, running_var = running
        if running_mean is not None:
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean
        if running_var is not None:
            unbiased = var * (self.count / (self.count - 1))
            running_var[...] = (1 - momentum) * running_var + momentum * unbiased
        self.invstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype)
        self.centered = flat - mean.astype(x.dtype)[None, :, None]
        scale = self.invstd if weight is None else self.invstd * weight
        y = self.centered * scale[None, :, None]
        if bias is not None:
            y += bias[None, :, None]
        return y.reshape(x.shape)

    def backward(self, xp, dy):
        if not xp.arrays:
            raise RuntimeError("sync_batch_norm: double backward (create_graph=True) is not "
                               "supported")
        from ..distributed.collectives import wait
        weight = self.inputs[1]
        need_x, need_w, need_b = self.needs_input_grad[:3]
        flat_dy = _per_channel(dy)
        sums = np.concatenate([np.einsum("ncl->c", flat_dy),
                               np.einsum("ncl,ncl->c", flat_dy, self.centered)])
        channels = flat_dy.shape[1]
        dw = sums[channels:] * self.invstd if need_w else None
        db = sums[:channels].copy() if need_b else None
        dx = None
        if need_x:
            from mpi4py import MPI
            wait([self.group.comm.Iallreduce(MPI.IN_PLACE, sums, op=MPI.SUM)], self.group,
                 "SyncBatchNorm backward")
            mean_dy, mean_dy_c = sums[:channels] / self.count, sums[channels:] / self.count
            scale = self.invstd if weight is None else self.invstd * weight.data
            dx = (flat_dy - mean_dy[None, :, None]
                  - self.centered * (self.invstd ** 2 * mean_dy_c)[None, :, None]) \
                * scale[None, :, None]
            dx = dx.reshape(dy.shape).astype(dy.dtype, copy=False)
        return dx, dw, db


def sync_batch_norm(input: Any, running_mean: Any, running_var: Any, weight: Any,  # noqa: A002
                    bias: Any, momentum: float, eps: float, group: Any):
    """Training-mode batch norm of ``input`` (N, C, ...) with the statistics of every rank
    of ``group``; the running statistics (when given) move towards the global mean and
    unbiased variance, in place."""
    running = tuple(None if r is None else r.data for r in (running_mean, running_var))
    out = SyncBatchNorm.apply(input, weight, bias, float(eps), group, running,
                              float(momentum))
    for tensor in (running_mean, running_var):
        if tensor is not None:
            tensor._version += 1
    return out
