"""``torch.amp.GradScaler``: loss scaling, so that small gradients survive in low precision.

Algorithm (PyTorch's), with scale ``s`` (initially ``init_scale``) and a growth tracker ``k``:

1. ``scale(loss)`` returns ``loss * s``; backward then gives gradients ``s * g``.
2. ``unscale_(optimizer)``: ``grad *= 1 / s`` for every parameter, noting whether any
   gradient is inf or NaN (at most once per optimizer between updates).
3. ``step(optimizer)``: unscale if not done yet; run ``optimizer.step()`` only if every
   gradient was finite, else skip it.
4. ``update()``: after a skipped step ``s *= backoff_factor`` and ``k = 0``; otherwise
   ``k += 1``, and when ``k`` reaches ``growth_interval``, ``s *= growth_factor``, ``k = 0``.

A disabled scaler (``enabled=False``, or the ``"cuda"`` device abdou_torch lacks) passes
everything through: ``scale(loss)`` is ``loss``, ``step`` is ``optimizer.step()``.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ..tensor import Tensor

__all__ = ["GradScaler"]


class GradScaler:
    """``GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``; see the module docstring for the algorithm."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        if enabled and device != "cpu":
            warnings.warn(f"torch.{device}.amp.GradScaler is enabled, but {device.upper()} is "
                          f"not available.  Disabling.", stacklevel=2)
            enabled = False
        self._enabled = bool(enabled)
        if self._enabled:
            if growth_factor <= 1.0:
                raise ValueError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise ValueError("The backoff factor must be < 1.0.")
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer: dict[int, dict[str, Any]] = {}

    # -- the four steps ----------------------------------------------------------------------
    def scale(self, outputs: Any) -> Any:
        """``outputs * s``: a Tensor, or an iterable of Tensors (its structure kept)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * np.float32(self._scale)
        if isinstance(outputs, (list, tuple)):
            scaled = [self.scale(o) if isinstance(o, (Tensor, list, tuple)) else
                      self._not_tensors() for o in outputs]
            return type(outputs)(scaled)
        return self._not_tensors()

    @staticmethod
    def _not_tensors() -> Any:
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer: Any) -> None:
        """Divide every gradient of ``optimizer``'s parameters by ``s``, in place."""
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] == "unscaled":
            raise RuntimeError("unscale_() has already been called on this optimizer since "
                               "the last update().")
        if state["stage"] == "stepped":
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = np.float32(np.float64(1.0) / np.float64(self._scale))
        found_inf = False
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad.data
                found_inf = found_inf or not np.all(np.isfinite(grad))
                grad *= inv_scale.astype(grad.dtype)
        state["found_inf"], state["stage"] = found_inf, "unscaled"

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """``optimizer.step()`` unless a gradient was inf or NaN; returns its result."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is "
                               "enabled.")
        state = self._state(optimizer)
        if state["stage"] == "stepped":
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] != "unscaled":
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = "stepped"
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Back off after a skipped step, grow after ``growth_interval`` good ones."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale.item() if isinstance(new_scale, Tensor)
                                else new_scale)
        else:
            skipped = any(s.get("found_inf") for s in self._per_optimizer.values())
            if not self._per_optimizer:
                raise AssertionError("No inf checks were recorded prior to update.")
            if skipped:
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer.clear()

    def _state(self, optimizer: Any) -> dict[str, Any]:
        return self._per_optimizer.setdefault(id(optimizer), {"stage": "ready",
                                                              "found_inf": False})

    # -- accessors and checkpoints ---------------------------------------------------------
    def is_enabled(self) -> bool:
        return self._enabled

    def get_scale(self) -> float:
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's keys; empty when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict.get("_growth_tracker", 0))
