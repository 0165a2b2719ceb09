"""``torch.cuda`` on a library without CUDA: what PyTorch's CPU-only build answers.

abdou_torch computes on the CPU only, so these are true statements rather than stand-ins:
``is_available()`` is False and ``device_count()`` 0; the seeding calls are accepted and do
nothing (PyTorch's do nothing either when there is no GPU: they are safe to call
unconditionally); the memory statistics are 0; and what needs a device (``current_device``,
``get_device_name``, ``synchronize`` ...) raises the AssertionError PyTorch raises there.
"""
from __future__ import annotations

from typing import Any

from . import amp

__all__ = ["is_available", "device_count", "is_initialized", "init", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "initial_seed", "synchronize",
           "current_device", "set_device", "get_device_name", "get_device_properties",
           "get_device_capability", "is_bf16_supported", "empty_cache", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "device", "amp"]


def _no_cuda(api: str) -> AssertionError:
    return AssertionError(f"torch.cuda.{api}: Torch not compiled with CUDA enabled "
                          f"(abdou_torch runs on the CPU only)")


def is_available() -> bool:
    """False: abdou_torch has no GPU backend."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Seed every GPU's generator: there are none, so nothing happens (as in PyTorch)."""
    int(seed)  # PyTorch converts the seed first: a non-number still fails


def manual_seed_all(seed: int) -> None:
    int(seed)


def seed() -> None:
    """Reseed the GPU generators: there are none."""


def seed_all() -> None:
    """Reseed every GPU's generator: there are none."""


def empty_cache() -> None:
    """Release the GPU memory cache: there is none."""


def memory_allocated(device: Any = None) -> int:
    return 0


def max_memory_allocated(device: Any = None) -> int:
    return 0


def memory_reserved(device: Any = None) -> int:
    return 0


def max_memory_reserved(device: Any = None) -> int:
    return 0


def _needs_a_device(api: str):
    def function(*args: Any, **kwargs: Any) -> Any:
        raise _no_cuda(api)
    function.__name__ = api
    function.__doc__ = f"Raises AssertionError, as ``torch.cuda.{api}`` does without CUDA."
    return function


init = _needs_a_device("init")
initial_seed = _needs_a_device("initial_seed")
synchronize = _needs_a_device("synchronize")
current_device = _needs_a_device("current_device")
set_device = _needs_a_device("set_device")
get_device_name = _needs_a_device("get_device_name")
get_device_properties = _needs_a_device("get_device_properties")
get_device_capability = _needs_a_device("get_device_capability")
reset_peak_memory_stats = _needs_a_device("reset_peak_memory_stats")


class device:
    """``with torch.cuda.device(i):`` selects a GPU, which needs one."""

    def __init__(self, device: Any) -> None:
        self.index = device

    def __enter__(self) -> None:
        if self.index is not None and self.index != -1:
            raise _no_cuda("device")

    def __exit__(self, *exc_info: Any) -> None:
        return None
