"""Flat state: what an optimizer keeps for the parameters of a group (its state, and a private
copy of their gradients) in one contiguous array per name, so that an update is a few large
in-place NumPy operations over every parameter at once (PyTorch's foreach idea) instead of a
dozen small ones per parameter.

The parameters themselves stay where they are. Building an optimizer or stepping it never
rebinds ``param.data``: a NumPy view, a ``detach()``, a ``.numpy()`` or a
``b.weight.data = a.weight.data`` tie taken at any time keeps seeing every update. The few
lines of an algorithm that read or write the parameters θ run once per parameter, on views of
the flat arrays (``Segment.add_to_theta`` and friends); every other line runs once per group.

- ``FlatGroup`` holds the parameters of one group that have a gradient: those whose memory
  overlaps no other's, split by dtype into ``FlatBucket``s, and the rest (``single``: a
  parameter listed twice, two parameters sharing one array, overlapping views), which the
  optimizer updates one at a time with its reference step, in order, as PyTorch does.
- Each step the optimizer asks a bucket for its ``segments()``: the bucket binds the state
  (``optimizer.state[param][name]`` stays one tensor per name with the parameter's shape,
  whose ``.data`` is a view of the flat array), copies the gradients into its flat ``grad``
  array, and returns one ``Segment`` for all its parameters or, where their step counts
  differ, one per parameter (slices of the same arrays).

Subnormal numbers (see ``flush_subnormals``): the base class flushes every optimizer's state
on the same schedule, outside the algorithms; nothing here depends on it.
"""
from __future__ import annotations

from operator import attrgetter, is_
from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["FlatGroup", "FlatBucket", "Segment", "flush_subnormals"]


def flush_subnormals(array: np.ndarray, scratch: np.ndarray | None = None,
                     mask: np.ndarray | None = None) -> None:
    """Set the values of ``array`` below the smallest normal number (in absolute value) to
    zero, in place, with ``scratch`` and ``mask`` (same shape) as workspace if given.

    Multiplying by the keep-mask is branch-free and about twice as fast as
    ``copyto(where=)``; NaN stays NaN (NaN * 0) and inf stays inf."""
    scratch = np.empty_like(array) if scratch is None else scratch
    mask = np.empty(array.shape, np.bool_) if mask is None else mask
    np.greater_equal(np.abs(array, out=scratch), np.finfo(array.dtype).tiny, out=mask)
    np.multiply(array, mask, out=array)


class Segment:
    """What the fast step updates at once: the parameters ``theta`` (their own arrays, left
    where they are), and 1-D arrays covering all of them: ``grad`` (a private copy of the
    gradients, free to overwrite), ``scratch``, ``state[name]``; ``scalars[name]`` holds the
    per-parameter counters ('step', NAdam's 'mu_product'), equal across the segment;
    ``fresh`` is True when the parameters' state was just created.

    The lines that touch θ go through ``scale_theta``, ``theta_times`` and ``add_to_theta``,
    which run once per parameter on views of the flat arrays."""

    __slots__ = ("theta", "grad", "scratch", "state", "scalars", "fresh", "_views")

    def __init__(self, theta: list[np.ndarray], grad: np.ndarray, scratch: np.ndarray,
                 state: dict[str, np.ndarray], scalars: dict[str, np.ndarray], fresh: bool,
                 views: dict[int, list[np.ndarray]]) -> None:
        self.theta, self.grad, self.scratch = theta, grad, scratch
        self.state, self.scalars, self.fresh = state, scalars, fresh
        self._views = views

    def count_step(self) -> float:
        """t ← t + 1 for every parameter of the segment; returns t."""
        steps = self.scalars["step"]
        np.add(steps, 1, out=steps)
        return float(steps[0])

    def scalar(self, name: str) -> float:
        return float(self.scalars[name][0])

    # -- the lines that touch θ ------------------------------------------------------------
    def scale_theta(self, factor: Any) -> None:
        """θ ← factor · θ."""
        for theta in self.theta:
            np.multiply(theta, factor, out=theta)

    def theta_times(self, factor: Any, out: np.ndarray) -> None:
        """out ← factor · θ (``out``: a flat array of the segment)."""
        for theta, view in zip(self.theta, self._views_of(out)):
            np.multiply(theta, factor, out=view)

    def add_to_theta(self, update: np.ndarray, scale: Any = None) -> None:
        """θ ← θ + update, or θ ← scale · θ + update (``update``: a flat array of the
        segment). With ``scale``, both run on one parameter before the next, while it is
        still in cache."""
        if scale is None:
            for theta, view in zip(self.theta, self._views_of(update)):
                np.add(theta, view, out=theta)
            return
        for theta, view in zip(self.theta, self._views_of(update)):
            np.multiply(theta, scale, out=theta)
            np.add(theta, view, out=theta)

    def set_theta(self, values: np.ndarray) -> None:
        """θ ← values (``values``: a flat array of the segment)."""
        for theta, view in zip(self.theta, self._views_of(values)):
            np.copyto(theta, view)

    def _views_of(self, flat: np.ndarray) -> list[np.ndarray]:
        views = self._views.get(id(flat))
        return _split(flat, [t.shape for t in self.theta]) if views is None else views


class FlatBucket:
    """Parameters of one dtype whose memory overlaps no other's, with their gradients and
    state in flat arrays."""

    def __init__(self, params: list[Tensor], arrays: list[np.ndarray]) -> None:
        self.params = params
        self.arrays = arrays
        self.shapes = [a.shape for a in arrays]
        dtype = arrays[0].dtype
        self.bounds = np.cumsum([0] + [a.size for a in arrays]).tolist()
        total = self.bounds[-1]
        self.grad = np.empty(total, dtype)
        self.scratch = np.empty(total, dtype)
        self.mask = np.empty(total, np.bool_)
        self.state: dict[str, np.ndarray] = {}
        self.scalars: dict[str, np.ndarray] = {}
        self.fresh = [False] * len(params)
        self._views = {id(self.grad): _split(self.grad, self.shapes),
                       id(self.scratch): _split(self.scratch, self.shapes)}
        self._bound_columns: tuple = ([],) * 4  # slots, names, tensors, views
        self._slots: list[dict] = []
        self._bound_key: tuple = ()
        self._bound_state: dict | None = None
        self._uniform = True
        self._whole: Segment | None = None  # the segment of all parameters, kept

    # -- state -----------------------------------------------------------------------------
    def bind_state(self, state: dict, names: tuple[str, ...], scalars: tuple[str, ...],
                   initial: Callable[[str], float]) -> None:
        """Make ``state[param][name]`` views of flat arrays (per-element ``names``, and
        per-parameter float32 ``scalars``), adopting the values already there (a loaded state
        dict, a rebuild) and creating ``initial(name)`` for what is missing."""
        key = (names, scalars)
        if key == self._bound_key and self._bound_state is state and self._still_bound(state):
            return
        bound = []
        per_param = [state.setdefault(p, {}) for p in self.params]
        first = scalars[0] if scalars else (names[0] if names else None)
        for index, slot in enumerate(per_param):
            self.fresh[index] = first is not None and first not in slot
        self.scalars = {}
        for name in scalars:
            values = np.full(len(self.params), initial(name), np.float32)
            for index, slot in enumerate(per_param):
                if name in slot:
                    values[index] = float(np.asarray(_array_of(slot[name])).reshape(()))
                view = values[index:index + 1].reshape(())
                slot[name] = _rebind(slot.get(name), view)
                bound.append((slot, name, slot[name], view))
            self.scalars[name] = values
        self._uniform = all(bool(np.all(v == v[0])) for v in self.scalars.values())
        self.state = {}
        for name in names:
            flat = np.full(self.grad.size, initial(name), self.grad.dtype)
            for slot, shape, start, stop in zip(per_param, self.shapes, self.bounds,
                                                self.bounds[1:]):
                if name in slot:
                    values = np.asarray(_array_of(slot[name]))
                    if values.size != stop - start:
                        raise RuntimeError(f"optimizer state '{name}' has {values.size} "
                                           f"values but its parameter has {stop - start}")
                    flat[start:stop] = values.reshape(-1)
                view = flat[start:stop].reshape(shape)
                slot[name] = _rebind(slot.get(name), view)
                bound.append((slot, name, slot[name], view))
            self.state[name] = flat
        self._bound_columns = tuple(map(list, zip(*bound))) if bound else ([],) * 4
        self._slots = per_param
        self._bound_key, self._bound_state = key, state

    def _still_bound(self, state: dict) -> bool:
        """True while nobody replaced a state dict, a state tensor or its array."""
        slots, names, tensors, views = self._bound_columns
        return all(map(is_, map(state.get, self.params), self._slots)) and \
            all(map(is_, map(dict.get, slots, names), tensors)) and \
            all(map(is_, map(_data, tensors), views))

    # -- per step --------------------------------------------------------------------------
    def gather_grads(self) -> None:
        """Copy every parameter's gradient into the flat ``grad`` array (one concatenate),
        and count the in-place update to come in each parameter's version."""
        grads = [param._grad._data for param in self.params]  # type: ignore[union-attr]
        if list(map(_shape, grads)) != self.shapes:
            for grad, shape in zip(grads, self.shapes):
                if grad.shape != shape:
                    raise RuntimeError(f"optimizer: a gradient of shape {grad.shape} was "
                                       f"found for a parameter of shape {shape}")
        for param in self.params:
            param._version_counter[0] += 1  # param._version += 1, without the property
        np.concatenate(grads, axis=None, out=self.grad)  # axis=None: each one flattened

    def segments(self) -> list[Segment]:
        """One segment for the whole bucket, or one per parameter where their counters or
        freshness differ (so that each gets its own bias correction or first step)."""
        fresh = self.fresh
        uniform_fresh = all(fresh) or not any(fresh)
        if not self._uniform:
            self._uniform = all(bool(np.all(v == v[0])) for v in self.scalars.values())
        if self._uniform and uniform_fresh:
            whole = self._whole
            if whole is None or whole.state is not self.state or \
                    whole.scalars is not self.scalars:
                whole = self._whole = Segment(self.arrays, self.grad, self.scratch,
                                              self.state, self.scalars, False, self._views)
            whole.fresh = fresh[0]
            self.fresh = [False] * len(fresh)
            return [whole]
        parts = []
        for index, (start, stop) in enumerate(zip(self.bounds, self.bounds[1:])):
            parts.append(Segment(
                [self.arrays[index]], self.grad[start:stop], self.scratch[start:stop],
                {name: flat[start:stop] for name, flat in self.state.items()},
                {name: values[index:index + 1] for name, values in self.scalars.items()},
                fresh[index], {}))
        self.fresh = [False] * len(fresh)
        self._uniform = False  # re-checked next step
        return parts

    def flush_state(self) -> None:
        """Flush subnormal values out of every per-element state array."""
        for flat in self.state.values():
            flush_subnormals(flat, self.scratch, self.mask)


class FlatGroup:
    """The parameters of one param group that have a gradient: in flat buckets by dtype, or
    in ``single`` (updated one at a time) when their memory overlaps another parameter's or
    when ``flat`` is False."""

    def __init__(self, params: list[Tensor], flat: bool = True) -> None:
        self.params = params
        self.arrays = [p.data for p in params]
        self.flat = flat
        shared = _overlapping(self.arrays) if flat else set(range(len(params)))
        self.single = [p for i, p in enumerate(params) if i in shared]
        by_dtype: dict[np.dtype, list[int]] = {}
        for index, array in enumerate(self.arrays):
            if index not in shared:
                by_dtype.setdefault(array.dtype, []).append(index)
        self.buckets = [FlatBucket([params[i] for i in group], [self.arrays[i] for i in group])
                        for group in by_dtype.values()]

    def describes(self, params: list[Tensor], flat: bool) -> bool:
        """True while the same parameters, with the same arrays, are to be updated."""
        return flat == self.flat and len(params) == len(self.params) and \
            all(map(is_, params, self.params)) and \
            all(map(is_, map(_data, params), self.arrays))


def _overlapping(arrays: list[np.ndarray]) -> set[int]:
    """Indices of the arrays whose memory may overlap another's (byte bounds: conservative,
    so interleaved views are counted too). One sort, then a sweep."""
    spans = sorted((low, high, index) for index, (low, high) in
                   enumerate(map(_byte_bounds, arrays)) if high > low)
    shared: set[int] = set()
    reach, owner = -1, -1
    for low, high, index in spans:
        if low < reach:
            shared.update((index, owner))
        if high > reach:
            reach, owner = high, index
    return shared


def _split(flat: np.ndarray, shapes: Iterable[tuple[int, ...]]) -> list[np.ndarray]:
    """Views of consecutive pieces of ``flat`` with the given shapes."""
    views, start = [], 0
    for shape in shapes:
        stop = start + int(np.prod(shape, dtype=np.int64))
        views.append(flat[start:stop].reshape(shape))
        start = stop
    return views


_data = attrgetter("_data")  # the slot itself, not the property over it
_shape = attrgetter("shape")
_byte_bounds = getattr(np.lib, "array_utils", np).byte_bounds  # NumPy 2 / 1


def _array_of(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _rebind(tensor: Any, view: np.ndarray) -> Tensor:
    """Point an existing state tensor at ``view`` (keeping its identity), or wrap ``view``."""
    if isinstance(tensor, Tensor):
        tensor.data = view
        return tensor
    return Tensor._wrap(view, False)
