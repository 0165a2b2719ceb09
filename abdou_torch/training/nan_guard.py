"""Stop a run whose loss or weights stop being finite numbers, before anything is saved.

Training through NaN is never useful: every later step stays NaN, and the checkpoint and
model written at the end replace good weights with garbage. A loop calls
:func:`check_loss` on each step's loss (before ``backward``) and
:func:`check_state` on the arrays it is about to save; both raise
:class:`NonFiniteError`, which the loop lets through without saving, so the last good
checkpoint stays on disk.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["NonFiniteError", "check_loss", "check_state"]


class NonFiniteError(RuntimeError):
    """The loss or the model became NaN or infinite: training diverged."""


def check_loss(loss: float, *, step: int, epoch: int) -> None:
    """Raise :class:`NonFiniteError` unless ``loss`` is finite. ``step`` counts from 1."""
    if not math.isfinite(loss):
        raise NonFiniteError(f"the loss became {loss} at step {step} (epoch {epoch}): "
                             f"training diverged")


def check_state(state: Mapping[str, Any], what: str, *, step: int) -> None:
    """Raise :class:`NonFiniteError` if a floating array in ``state`` holds NaN or inf."""
    for name, value in state.items():
        array = np.asarray(getattr(value, "data", value))
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            raise NonFiniteError(f"{what} {name!r} holds NaN or infinite values after step "
                                 f"{step}: training diverged")
