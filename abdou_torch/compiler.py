"""``torch.compiler.is_compiling()``: whether ``abdou_torch.compile`` is recording a step.

Library code that branches on computed values for a rare case (a NaN to handle) asks this,
and takes its branch-free path while a step is recorded, so that the recorded step holds
for every input (the branch-free path gives the same values, only slower)."""
from __future__ import annotations

__all__ = ["is_compiling"]

#: how many captures are running (set by abdou_torch.compile)
_capturing = 0


def is_compiling() -> bool:
    """True while ``abdou_torch.compile`` records a step (its first call)."""
    return _capturing > 0
