"""Anomaly detection: fail at the first backward that produces NaN or Inf.

While enabled, every op remembers where it was created, and the engine checks each
gradient a backward formula returns; the error names the forward op and its creation site.
"""
from __future__ import annotations

import traceback

import numpy as np

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


class AnomalyMode:
    enabled: bool = False


def is_anomaly_enabled() -> bool:
    return AnomalyMode.enabled


class detect_anomaly:
    """Context manager: raise at the first op whose backward yields NaN or Inf."""

    def __init__(self, check_nan: bool = True) -> None:
        self._mode = bool(check_nan)

    def __enter__(self) -> None:
        self._previous = AnomalyMode.enabled
        AnomalyMode.enabled = self._mode

    def __exit__(self, *exc_info: object) -> None:
        AnomalyMode.enabled = self._previous


class set_detect_anomaly(detect_anomaly):
    """Like :class:`detect_anomaly`, but switches at once when called."""

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self._previous = AnomalyMode.enabled
        AnomalyMode.enabled = self._mode

    def __enter__(self) -> None:
        pass


def creation_site() -> str:
    """Where the op being recorded was called from, outside this package."""
    frames = [f for f in traceback.extract_stack()[:-1] if "abdou_torch" not in f.filename]
    if not frames:
        return "<unknown>"
    frame = frames[-1]
    return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}: {frame.line}'


def check_gradients(node_name: str, site: str | None, grads: tuple) -> None:
    """Raise RuntimeError if any gradient returned by ``node_name``'s backward is not finite."""
    for position, grad in enumerate(grads):
        if grad is None:
            continue
        values = np.asarray(grad.data if hasattr(grad, "data") else grad)
        if values.dtype.kind == "f" and not np.all(np.isfinite(values)):
            kind = "nan" if np.isnan(values).any() else "inf"
            where = f"\nThe forward op was created at: {site}" if site else ""
            raise RuntimeError(f"Function '{node_name}' returned {kind} values in its "
                               f"gradient for input {position}.{where}")
