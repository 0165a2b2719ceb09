"""DistributedSampler: each rank's share of a dataset, with PyTorch's exact arithmetic.

With n items over N ranks, each rank gets ``num_samples = ceil(n / N)`` indices; without
``drop_last`` the epoch's index list is first padded to ``N * num_samples`` by repeating
its head (so some items appear twice in the epoch, never more than needed), with
``drop_last`` (when N does not divide n) it is cut to ``N * ceil((n - N) / N)``. Rank r
takes every N-th index from r: ``indices[r::N]``. With ``shuffle`` the list is
``randperm(n)`` from a generator seeded with ``seed + epoch`` (``set_epoch`` each epoch),
the same on every rank, so the ranks' shares never overlap beyond the padding.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

__all__ = ["DistributedSampler"]


class DistributedSampler:
    """Indices of ``dataset`` for one rank (``torch.utils.data.distributed.DistributedSampler``).

    ``num_replicas`` and ``rank`` default to the default process group's world size and
    rank. Use it as ``DataLoader(dataset, batch_size=B // N, sampler=sampler)`` with
    ``sampler.set_epoch(epoch)`` before each epoch.
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from .. import distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"num_replicas must be a positive integer, got {num_replicas!r}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        size = len(dataset)
        if drop_last and size % num_replicas != 0:
            self.num_samples = math.ceil((size - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(size / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _epoch_indices(self) -> list[int]:
        """The whole epoch's index list, padded or cut to ``total_size``."""
        size = len(self.dataset)
        if self.shuffle:
            from ..factories import randperm
            from ..random import Generator
            generator = Generator()
            generator.manual_seed(self.seed + self.epoch)
            indices = randperm(size, generator=generator).tolist()
        else:
            indices = list(range(size))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            else:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[:self.total_size]
        return indices

    def __iter__(self) -> Iterator[int]:
        return iter(self._epoch_indices()[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration use epoch ``epoch``'s order (when shuffling)."""
        self.epoch = epoch
