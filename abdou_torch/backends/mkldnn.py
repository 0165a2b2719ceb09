"""``torch.backends.mkldnn``: oneDNN kernels, which abdou_torch does not use."""
from __future__ import annotations

__all__ = ["is_available", "enabled"]

enabled = True


def is_available() -> bool:
    return False
