"""``torch.autocast``: accepted, and computing in full precision (see :mod:`abdou_torch.amp`)."""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

__all__ = ["autocast", "is_autocast_available"]

# Device types PyTorch's device strings accept; only "cpu" has hardware here.
_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
                 "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
                 "privateuseone")
_CPU_DTYPES = ("bfloat16", "float16")
_warned_full_precision = False


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can be enabled for ``device_type`` (the CPU only)."""
    return device_type == "cpu"


def _dtype_name(dtype: Any) -> str:
    return str(getattr(dtype, "name", dtype)).replace("torch.", "")


class autocast:  # noqa: N801 - PyTorch's name
    """``with torch.autocast(device_type="cpu", dtype=torch.bfloat16):`` (or a decorator).

    On the CPU (bfloat16 by default, or float16, as PyTorch allows) the region runs in full
    precision, with a one-time warning; another dtype disables it with PyTorch's warning. On
    a device abdou_torch lacks (``"cuda"``), it is disabled with PyTorch's CPU-only warning.
    """

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type.split(":")[0] not in _DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at "
                               f"start of device string: {device_type}")
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else ("bfloat16" if device_type == "cpu"
                                                           else "float16")
        self._enabled = bool(enabled) and self._check_device(device_type)

    def _check_device(self, device_type: str) -> bool:
        if device_type != "cpu":
            warnings.warn(f"{device_type.upper()} is not available or torch_xla is imported. "
                          f"Disabling autocast.", stacklevel=3)
            return False
        if _dtype_name(self.fast_dtype) not in _CPU_DTYPES:
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of torch.bfloat16, "
                          "torch.float16 currently.", stacklevel=3)
            return False
        return True

    def __enter__(self) -> "autocast":
        global _warned_full_precision
        if self._enabled and not _warned_full_precision:
            _warned_full_precision = True
            warnings.warn(f"autocast to {_dtype_name(self.fast_dtype)} on the CPU: abdou_torch "
                          f"has no reduced-precision kernels, so the region is computed in "
                          f"full precision (float32)", stacklevel=2)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        return None

    def __call__(self, function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)
        return wrapper
