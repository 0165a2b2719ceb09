"""``torch.distributed`` while abdou_torch has no ``distributed`` package: it says that
distributed training is not available, as PyTorch's module does on a build without it
(``is_available()`` is False), and names the API a program reaches for."""
from __future__ import annotations

from .alias import NotAvailableError

__all__ = ["is_available", "is_initialized"]


def is_available() -> bool:
    """False: abdou_torch has no process groups yet."""
    return False


def is_initialized() -> bool:
    """False: no default process group can exist without the distributed package."""
    return False


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    raise NotAvailableError(f"torch.distributed.{name} is not available in abdou_torch "
                            f"(distributed training is not supported yet)")
