"""PyTorch dtypes that NumPy, and so abdou_torch, cannot hold (``torch.bfloat16``).

They exist on the alias so that ``torch.autocast("cpu", dtype=torch.bfloat16)`` is accepted
(autocast computes in float32 here and says so); a tensor of such a dtype cannot be made,
and trying raises a TypeError naming it.
"""
from __future__ import annotations

__all__ = ["UnavailableDtype", "bfloat16"]


class UnavailableDtype:
    """A dtype name abdou_torch recognises but has no arrays for."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def dtype(self) -> None:
        """What ``numpy.dtype(...)`` asks for: refused, with the reason."""
        raise TypeError(f"torch.{self.name} tensors are not available in abdou_torch (NumPy "
                        f"has no {self.name}); use torch.float32")

    def __repr__(self) -> str:
        return f"torch.{self.name}"


bfloat16 = UnavailableDtype("bfloat16")
