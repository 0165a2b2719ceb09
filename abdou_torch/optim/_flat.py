"""Flat buffers: the parameters of a group, and their optimizer state, as views of one
contiguous array each, so that an update is a few large in-place NumPy operations over
every parameter at once (PyTorch's foreach/fused idea) instead of a dozen small ones per
parameter.

- ``FlatGroup`` holds the parameters of one group that have a gradient, split by dtype into
  ``FlatBucket``s. Building a bucket copies each parameter's values into the bucket's flat
  array and re-points ``param.data`` to a view of it (same values, same shape).
- Each step the optimizer asks for ``segments()``: the bucket checks that nothing was
  replaced behind its back (``param.data = ...``, ``model.to(float64)``, a loaded or
  hand-edited state) and rebuilds if so, copies the gradients into one flat array, and
  returns one ``Segment`` (flat arrays for all parameters) or, where the parameters'
  step counts differ, one ``Segment`` per parameter (slices of the same arrays).
- ``optimizer.state[param]`` keeps PyTorch's layout: one tensor per name with the
  parameter's shape, whose ``.data`` is a view of the flat state array.

Subnormal numbers: a state buffer that decays geometrically (``exp_avg_sq`` where a
gradient is zero, ``exp_avg``, momentum buffers) drifts into the subnormal range, where
arithmetic (square roots and divisions above all) is several times slower: 3x for NumPy's
sqrt and divide on the AMD EPYC we measured, 5-10x for PyTorch's whole AdamW step there
(benchmarks/optim_step.py), more on CPUs that trap to microcode.
``flush_subnormals`` sets such values to zero, which is what
``torch.set_flush_denormal(True)`` does in hardware; the values it changes are below
1.2e-38 (float32) in absolute value, so the update they feed (``m / (sqrt(v) + eps)``) moves
by far less than one rounding error. Adam runs it every ``FLUSH_EVERY`` steps rather than
every step: a value decaying by a factor beta >= 0.5 a step stays subnormal for many more
steps than that, so few values are ever subnormal between two flushes, and the flush's
passes (a sixth of a small model's update) are paid once in 16 steps.
"""
from __future__ import annotations

from operator import attrgetter, is_
from typing import Any, Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["FlatGroup", "FlatBucket", "Segment", "flush_subnormals", "FLUSH_EVERY"]

FLUSH_EVERY = 16


def flush_subnormals(array: np.ndarray, scratch: np.ndarray, mask: np.ndarray,
                     nonnegative: bool = False) -> None:
    """Set the values of ``array`` below the smallest normal number (in absolute value) to
    zero, in place, with ``scratch`` and ``mask`` as workspace (no allocation).

    Multiplying by the keep-mask is branch-free and about twice as fast as
    ``copyto(where=)``; NaN stays NaN (NaN * 0) and inf stays inf."""
    tiny = np.finfo(array.dtype).tiny
    np.greater_equal(array if nonnegative else np.abs(array, out=scratch), tiny, out=mask)
    np.multiply(array, mask, out=array)


class Segment:
    """What ``step()`` updates at once: 1-D arrays ``param`` (values, written in place),
    ``grad`` (a private copy of the gradients, free to overwrite), ``state[name]``, a
    ``scratch`` array and a boolean ``mask`` of the same length, the parameters' step
    counters ``steps`` (equal to each other) and ``fresh`` (True when their state was just
    created, for optimizers whose first step differs, like SGD's momentum)."""

    __slots__ = ("param", "grad", "scratch", "mask", "state", "steps", "fresh")

    def __init__(self, param: np.ndarray, grad: np.ndarray, scratch: np.ndarray,
                 mask: np.ndarray, state: dict[str, np.ndarray], steps: np.ndarray | None,
                 fresh: bool) -> None:
        self.param, self.grad, self.scratch, self.mask = param, grad, scratch, mask
        self.state, self.steps, self.fresh = state, steps, fresh

    def count_step(self) -> float:
        """t ← t + 1 for every parameter of the segment; returns t."""
        np.add(self.steps, 1, out=self.steps)
        return float(self.steps[0])


class FlatBucket:
    """Parameters of one dtype, with their values, gradients and state in flat arrays."""

    def __init__(self, params: list[Tensor], dtype: np.dtype) -> None:
        self.params = params
        self.dtype = dtype
        sizes = [p.data.size for p in params]
        self.bounds = np.cumsum([0] + sizes).tolist()
        total = self.bounds[-1]
        self.param = np.empty(total, dtype)
        self.views: list[np.ndarray] = []
        for param, start, stop in zip(params, self.bounds, self.bounds[1:]):
            self.param[start:stop] = param.data.reshape(-1)
            view = self.param[start:stop].reshape(param.data.shape)
            param.data = view
            self.views.append(view)
        self.grad = np.empty(total, dtype)
        self.scratch = np.empty(total, dtype)
        self.mask = np.empty(total, np.bool_)
        self.state: dict[str, np.ndarray] = {}
        self.steps: np.ndarray | None = None
        self.fresh = np.zeros(len(params), np.bool_)
        self._bound_columns: tuple = ([],) * 4  # slots, names, tensors, views
        self._slots: list[dict] = []
        self._bound_key: tuple = ()
        self._bound_state: dict | None = None
        self._uniform = True

    def intact(self) -> bool:
        """False once any parameter's ``.data`` was replaced (it no longer views our array)."""
        return all(p.data is v for p, v in zip(self.params, self.views))

    # -- state -----------------------------------------------------------------------------
    def bind_state(self, state: dict, names: tuple[str, ...], count_steps: bool) -> None:
        """Make ``state[param][name]`` (and ``'step'``) views of flat arrays, adopting the
        values already there (after ``load_state_dict`` or a rebuild) and creating zeros
        for what is missing."""
        key = (names, count_steps)
        if key == self._bound_key and self._bound_state is state:
            slots, names_, tensors, views = self._bound_columns
            if all(map(is_, map(state.get, self.params), self._slots)) and \
                    all(map(is_, map(dict.get, slots, names_), tensors)) and \
                    all(map(is_, map(_data, tensors), views)):
                return
        bound = []
        per_param = [state.setdefault(p, {}) for p in self.params]
        for index, slot in enumerate(per_param):
            first = "step" if count_steps else (names[0] if names else None)
            self.fresh[index] = first is not None and first not in slot
        if count_steps:
            steps = np.zeros(len(self.params), np.float32)
            for index, slot in enumerate(per_param):
                if "step" in slot:
                    steps[index] = float(np.asarray(_array_of(slot["step"])).reshape(()))
                view = steps[index:index + 1].reshape(())
                slot["step"] = _rebind(slot.get("step"), view)
                bound.append((slot, "step", slot["step"], view))
            self.steps = steps
            self._uniform = bool(np.all(steps == steps[0])) if len(steps) else True
        for name in names:
            flat = np.zeros(self.param.size, self.dtype)
            for param, slot, start, stop in zip(self.params, per_param, self.bounds,
                                                self.bounds[1:]):
                if name in slot:
                    values = np.asarray(_array_of(slot[name]))
                    if values.size != stop - start:
                        raise RuntimeError(f"optimizer state '{name}' has {values.size} "
                                           f"values but its parameter has {stop - start}")
                    flat[start:stop] = values.reshape(-1)
                view = flat[start:stop].reshape(param.data.shape)
                slot[name] = _rebind(slot.get(name), view)
                bound.append((slot, name, slot[name], view))
            self.state[name] = flat
        self._bound_columns = tuple(map(list, zip(*bound))) if bound else ([],) * 4
        self._slots = per_param
        self._bound_key, self._bound_state = key, state

    # -- per step --------------------------------------------------------------------------
    def gather_grads(self) -> None:
        """Copy every parameter's gradient into the flat ``grad`` array (one concatenate)."""
        grads = []
        for param in self.params:
            grad = param.grad.data
            if grad.shape != param.data.shape:
                raise RuntimeError(f"optimizer: a gradient of shape {grad.shape} was found "
                                   f"for a parameter of shape {param.data.shape}")
            grads.append(grad.reshape(-1))
            param._version += 1
        np.concatenate(grads, out=self.grad)

    def segments(self) -> list[Segment]:
        """One segment for the whole bucket, or one per parameter where their step counts or
        freshness differ (so that each gets its own bias correction or first step)."""
        fresh = self.fresh
        uniform_fresh = bool(fresh.all()) or not fresh.any()
        if self.steps is not None and not self._uniform:
            self._uniform = bool(np.all(self.steps == self.steps[0]))
        if self._uniform and uniform_fresh:
            whole = [Segment(self.param, self.grad, self.scratch, self.mask, self.state,
                             self.steps, bool(fresh[0]) if len(fresh) else False)]
            fresh[:] = False
            return whole
        parts = []
        for index, (start, stop) in enumerate(zip(self.bounds, self.bounds[1:])):
            steps = None if self.steps is None else self.steps[index:index + 1]
            parts.append(Segment(self.param[start:stop], self.grad[start:stop],
                                 self.scratch[start:stop], self.mask[start:stop],
                                 {name: flat[start:stop] for name, flat in self.state.items()},
                                 steps, bool(fresh[index])))
        fresh[:] = False
        self._uniform = False  # re-checked next step
        return parts


class FlatGroup:
    """The parameters of one param group that have a gradient, bucketed by dtype."""

    def __init__(self, params: Iterable[Tensor]) -> None:
        params = list(params)
        self.key = tuple(map(id, params))
        by_dtype: dict[np.dtype, list[Tensor]] = {}
        for param in params:
            by_dtype.setdefault(param.data.dtype, []).append(param)
        self.buckets = [FlatBucket(group, dtype) for dtype, group in by_dtype.items()]

    def intact(self) -> bool:
        return all(bucket.intact() for bucket in self.buckets)


_data = attrgetter("data")


def _array_of(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _rebind(tensor: Any, view: np.ndarray) -> Tensor:
    """Point an existing state tensor at ``view`` (keeping its identity), or wrap ``view``."""
    if isinstance(tensor, Tensor):
        tensor.data = view
        return tensor
    return Tensor._wrap(view, False)
