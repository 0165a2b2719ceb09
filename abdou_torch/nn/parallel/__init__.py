"""Parallel training wrappers (``torch.nn.parallel``)."""
from .distributed import DistributedDataParallel

DDP = DistributedDataParallel

__all__ = ["DistributedDataParallel"]
