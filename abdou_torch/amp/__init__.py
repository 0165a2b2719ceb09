"""Automatic mixed precision with PyTorch's names: ``autocast`` and ``GradScaler``.

- :class:`GradScaler` is the real algorithm (loss scaling with dynamic backoff and growth);
  on the CPU it runs as PyTorch's does; for ``"cuda"``, which abdou_torch lacks, it warns and
  is disabled, passing losses and steps through as PyTorch's CPU-only build does.
- :class:`autocast` is accepted everywhere PyTorch accepts it, but abdou_torch has no
  reduced-precision kernels: inside it everything is computed in the tensors' own dtype
  (float32), which is more precise than PyTorch's bfloat16/float16 results. A one-time
  warning says so.
"""
from .autocast_mode import autocast, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_available"]
