"""``torch.backends.cudnn``: not available (no GPU); flags kept with PyTorch's defaults."""
from __future__ import annotations

__all__ = ["is_available", "version", "enabled", "benchmark", "deterministic", "allow_tf32"]

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    """The cuDNN version: None, as without cuDNN."""
    return None
