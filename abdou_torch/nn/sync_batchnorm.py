"""SyncBatchNorm: batch norm whose training statistics span every rank's batch.

In training, in a job of several ranks, the mean and variance are those of the whole
batch (all ranks' samples together), so N ranks with B/N samples each normalise exactly as
one process with B samples would (``ops/sync_batch_norm.py`` has the formulas). In eval
mode, or in a world of one process, it is BatchNorm.
"""
from __future__ import annotations

from typing import Any

from ..ops import normalization as norm_ops
from ..ops.sync_batch_norm import sync_batch_norm
from ..tensor import Tensor
from .module import Module
from .normalization import _BatchNorm

__all__ = ["SyncBatchNorm"]


class SyncBatchNorm(_BatchNorm):
    """``torch.nn.SyncBatchNorm``: input (N, C, ...) of any number of dims from 2 on;
    statistics over the batch of every rank of ``process_group`` (the default group)."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Any = None, device: Any = None, dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device, dtype)
        self.process_group = process_group

    def _group(self) -> Any:
        """The group to synchronise over, or None when there is nothing to synchronise."""
        from ..distributed.process_group import _default_group, is_initialized
        if not is_initialized():
            return None
        group = _default_group(self.process_group)
        return group if group.size() > 1 else None

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        if input.ndim < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.ndim}D "
                             f"input)")
        if input.shape[1] != self.num_features:
            raise ValueError(f"SyncBatchNorm: input of shape {tuple(input.shape)} has "
                             f"{input.shape[1]} channels, expected {self.num_features}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data[...] += 1
            self.num_batches_tracked._version += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or self.running_mean is None
        tracking = not self.training or self.track_running_stats
        running_mean = self.running_mean if tracking else None
        running_var = self.running_var if tracking else None
        group = self._group() if use_batch_stats and self.training else None
        if group is None:
            return norm_ops.batch_norm(input, running_mean, running_var, self.weight,
                                       self.bias, use_batch_stats, factor, self.eps)
        return sync_batch_norm(input, running_mean, running_var, self.weight, self.bias,
                               factor, self.eps, group)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """``module`` with every BatchNorm layer replaced by a SyncBatchNorm that shares its
        parameters and running statistics (the module itself when it is a BatchNorm)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group)
            if module.affine:
                converted.weight = module.weight
                converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
