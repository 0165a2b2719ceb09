"""``torch.backends.cpu``: the CPU's vector instruction set as PyTorch names it."""
from __future__ import annotations

__all__ = ["get_cpu_capability"]


def get_cpu_capability() -> str:
    """abdou_torch leaves vectorisation to NumPy, so it claims no capability of its own."""
    return "DEFAULT"
