"""Devices: where tensors live. abdou_torch computes on the CPU (NumPy), so ``cpu`` is the
only device a tensor can be on. As on a PyTorch build without CUDA, ``device('cuda')`` can
be made (scripts build one before checking ``torch.cuda.is_available()``), and using it for
a tensor raises."""
from __future__ import annotations

from typing import Any

__all__ = ["device", "check_device", "CPU"]

#: The device types PyTorch knows; only "cpu" can hold tensors here.
_KNOWN_TYPES = ("cpu", "cuda", "mps", "xpu", "xla", "meta", "hip", "ipu", "mtia", "hpu",
                "privateuseone")


class device:
    """``device('cpu')``, ``device('cuda:1')``, ``device('cuda', 1)``: a device type and an
    optional index, as ``torch.device``; prints as PyTorch's does."""

    __slots__ = ("type", "index")
    type: str
    index: int | None

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if isinstance(type, int) and not isinstance(type, bool):  # device(0) is cuda:0
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string such as 'cpu' or 'cuda:0', got "
                            f"{type!r}")
        name, _, number = type.partition(":")
        if name not in _KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_KNOWN_TYPES)} device type at "
                               f"start of device string: {type}")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                                  or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index!r}")
        self.type, self.index = name, index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other: object) -> bool:
        # as PyTorch's: a device never equals a string (device('cpu') == 'cpu' is False)
        return isinstance(other, device) and (self.type, self.index) == (other.type,
                                                                        other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self) -> tuple:
        return device, (self.type, self.index)


CPU = device("cpu")


def check_device(where: Any, op: str = "") -> None:
    """Accept None or the CPU; any other device raises as on a PyTorch build without it."""
    if where is None:
        return
    where = device(where)
    if where.type == "cpu":
        return
    prefix = f"{op}: " if op else ""
    if where.type == "cuda":
        raise AssertionError(f"{prefix}Torch not compiled with CUDA enabled: abdou_torch "
                             f"computes on the CPU only, so device '{where}' cannot hold "
                             f"tensors (torch.cuda.is_available() is False; use 'cpu')")
    raise RuntimeError(f"{prefix}device '{where}' is not available: abdou_torch computes "
                       f"on the CPU only (use 'cpu')")
