"""Optimizer: the base class (param groups, per-parameter state, zero_grad, state dicts) and the
step that every optimizer of this package shares.

An optimizer writes its algorithm as a numbered block in its class docstring, then twice in
code, side by side, following that block line by line with the same symbols:

- ``_reference_step(group, theta, g, state, fresh)``: one parameter at a time, in plain NumPy
  expressions. It is the algorithm as one reads it, and it runs where the update must be made
  one parameter after the other: with ``foreach=False`` (PyTorch's for-loop implementation),
  and for parameters whose memory overlaps another's (a parameter listed twice, a
  ``b.weight.data = a.weight.data`` tie).
- ``_flat_step(group, seg)``: the same lines, in place, on flat arrays that cover every
  parameter of a group at once (``_flat.py``); the default, about twice as fast on models
  of many small tensors (``benchmarks/RESULTS.md``). The tests check that both give the
  same bits.

Parameters are never moved: ``param.data`` keeps the array it had, and every update is written
into it, so NumPy views and ``.data`` ties taken at any time stay valid.

Subnormal numbers: a state buffer that decays geometrically (``exp_avg`` where a gradient is
zero, ``exp_avg_sq``, momentum buffers) drifts into the subnormal range (below
tiny = 1.2e-38 in float32, 2.2e-308 in float64), where arithmetic, square roots and
divisions above all, is several times slower (``benchmarks/optim_step.py``). After every
``flush_every`` (16) calls of ``step()``, the base class sets those values of every
optimizer's per-element state to zero, which is what ``torch.set_flush_denormal(True)`` does
in hardware. This runs after the update, outside the algorithms, the same way for all
optimizers.

Effect on exactness against PyTorch (which keeps subnormals by default): the state entries
below tiny differ (0 here), and the updates they feed move by less than lr · tiny / eps
through a first moment or momentum (lr · tiny for SGD), and by a relative √tiny / eps
through a second moment (√v + eps loses at most √tiny = 1.1e-19 in float32). A group is
flushed only where that is below one rounding error, eps ≥ √tiny / machine epsilon
(9.1e-13 in float32, 6.7e-139 in float64; always for SGD, which has no eps); a group with a
smaller eps, eps = 0 above all (where a flushed pair m = v = 0 would give 0 / 0), keeps its
subnormals. So parameters agree with PyTorch's to the same tolerance as without the flush.
Set ``flush_every = 0`` (on the class or on one optimizer) to keep all subnormals, as
PyTorch does.
"""
from __future__ import annotations

import copy
import functools
import math
import warnings
from collections import defaultdict
from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor
from ._flat import FlatGroup, Segment, flush_subnormals

__all__ = ["Optimizer", "required", "FLUSH_EVERY"]

FLUSH_EVERY = 16


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


def _counted_step(step: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a ``step()``: mark that it was called (a scheduler warns when it is stepped
    first), then run the shared subnormal flush once the update is done."""
    @functools.wraps(step)
    def counted(self: "Optimizer", *args: Any, **kwargs: Any) -> Any:
        if self._in_step:  # a subclass's step() calling super().step()
            return step(self, *args, **kwargs)
        self._opt_called = True
        self._in_step = True
        try:
            result = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        self._flush_subnormal_state()
        return result
    counted._counts_steps = True  # type: ignore[attr-defined]  # a mark on the function
    return counted


class Optimizer:
    """Base class: holds ``param_groups`` (dicts of hyperparameters with a 'params' list)
    and ``state`` (per-parameter buffers, under PyTorch's names).

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs (as from
    ``model.named_parameters()``; the names go to the group's ``param_names``), or of dicts
    (one per group) whose keys override ``defaults`` for that group, as in PyTorch.
    """

    flush_every: int = FLUSH_EVERY
    _scalar_names: tuple[str, ...] = ("step",)  # per-parameter float32 counters

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._layouts: dict[int, FlatGroup] = {}
        self._opt_called = False
        self._in_step = False
        self._flush_clock = 0
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor (pass model.parameters())")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets will change "
                            "between runs. Please use a list instead.")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_counts_steps", False):
            # the subclass's own step, wrapped once as the class is made (mypy forbids
            # assigning to a method)
            cls.step = _counted_step(step)  # type: ignore[method-assign]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with 'params' and optional hyperparameters)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets will change "
                            "between runs. Please use a list instead.")
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        group["params"] = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            group["param_names"] = names
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(param).__name__}")
            if not (param.is_leaf or param._retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
            if param.data.dtype.kind != "f":
                raise TypeError(f"optimizer can only optimize floating-point Tensors, got "
                                f"{param.data.dtype}")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        self._validate(group)
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "each copy is updated, one after the other, as in PyTorch",
                          UserWarning, stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for other in self.param_groups:
            if ("param_names" in other) != ("param_names" in group):
                kind = "with" if "param_names" in group else "without"
                raise ValueError(f"all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} names to the optimizer")
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _validate(self, group: dict[str, Any]) -> None:
        """Subclasses check their hyperparameters here (ValueError on a bad value)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``None``), or set them to zero with ``set_to_none=False``."""
        for group in self.param_groups:
            for param in group["params"]:
                if param._grad is None:
                    continue
                if set_to_none:
                    param._grad = None  # the grad setter checks only gradients, not None
                else:
                    param._grad._data[...] = 0

    # -- the step ---------------------------------------------------------------------------
    @_counted_step
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient, as numbered in the subclass's
        docstring; returns the closure's loss if a closure is given."""
        loss = self._evaluate(closure)
        for index, group in enumerate(self.param_groups):
            self._update_group(index, group)
        return loss

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The per-element state of a parameter of ``group``, in PyTorch's order."""
        return ()

    def _initial_value(self, name: str, group: dict[str, Any]) -> float:
        """The value a state entry starts from (zeros, unless the algorithm says otherwise)."""
        return 0.0

    def _flat_step(self, group: dict[str, Any], seg: Segment) -> None:
        raise NotImplementedError

    def _reference_step(self, group: dict[str, Any], theta: np.ndarray, g: np.ndarray,
                        state: dict[str, np.ndarray], fresh: bool) -> None:
        raise NotImplementedError

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """Run the closure (which recomputes the loss) with gradients enabled."""
        if closure is None:
            return None
        from ..autograd.grad_mode import enable_grad
        with enable_grad():
            return closure()

    def _update_group(self, index: int, group: dict[str, Any]) -> None:
        """Update the parameters of ``group`` that have a gradient: those laid out flat in
        one go per bucket, the others one at a time, in order."""
        params = [p for p in group["params"] if p._grad is not None]
        if not params:
            return
        self._check_step_options(group)
        flat = group.get("foreach") is not False
        layout = self._layouts.get(index)
        if layout is None or not layout.describes(params, flat):
            layout = self._layouts[index] = FlatGroup(params, flat)
        names = self._state_names(group)

        def initial(name: str) -> float:
            return self._initial_value(name, group)

        for bucket in layout.buckets:
            bucket.bind_state(self.state, names, self._scalar_names, initial)
            bucket.gather_grads()
            for seg in bucket.segments():
                self._flat_step(group, seg)
        first = (self._scalar_names + names)[:1]
        # freshness is taken before any update: a parameter listed twice takes its first step
        # twice from fresh state, as in PyTorch (where each listing starts its own buffer)
        fresh = [bool(first) and first[0] not in self.state.get(p, {}) for p in layout.single]
        for param, param_fresh in zip(layout.single, fresh):
            self._step_one(group, param, names, initial, param_fresh)

    def _step_one(self, group: dict[str, Any], param: Tensor, names: tuple[str, ...],
                  initial: Callable[[str], float], fresh: bool) -> None:
        """The reference step for one parameter, with its state created or cast as needed."""
        theta, grad = param.data, param.grad.data
        if grad.shape != theta.shape:
            raise RuntimeError(f"optimizer: a gradient of shape {grad.shape} was found for a "
                               f"parameter of shape {theta.shape}")
        state = self.state[param]
        for name in self._scalar_names:
            if name not in state:
                state[name] = Tensor._wrap(np.array(initial(name), np.float32), False)
        for name in names:
            value = state.get(name)
            if value is None:
                state[name] = Tensor._wrap(np.full(theta.shape, initial(name), theta.dtype),
                                           False)
            elif value.data.shape != theta.shape:
                raise RuntimeError(f"optimizer state '{name}' has shape {value.data.shape} "
                                   f"but its parameter has shape {theta.shape}")
            elif value.data.dtype != theta.dtype:
                value.data = value.data.astype(theta.dtype)
        param._version += 1
        arrays = {name: state[name].data for name in self._scalar_names + names}
        self._reference_step(group, theta, grad, arrays, fresh)

    def _check_step_options(self, group: dict[str, Any]) -> None:
        """What PyTorch refuses at step time on a CPU, refused the same way (before any
        change)."""
        if group.get("capturable"):
            raise AssertionError("If capturable=True, params and state_steps must be on "
                                 "supported devices: ['cuda', 'xpu', 'hpu', 'privateuseone', "
                                 "'xla']. abdou_torch runs on the CPU: use capturable=False.")
        if group.get("differentiable"):
            raise RuntimeError("differentiable=True: abdou_torch does not record optimizer "
                               "steps in the autograd graph (and PyTorch refuses the in-place "
                               "update of a leaf that requires grad); use "
                               "differentiable=False.")

    def _flush_subnormal_state(self) -> None:
        """Every ``flush_every`` steps: zero the subnormal values of the per-element state of
        every group whose eps allows it (see the module docstring)."""
        if not self.flush_every:
            return
        self._flush_clock += 1
        if self._flush_clock % self.flush_every:
            return
        for index, group in enumerate(self.param_groups):
            layout = self._layouts.get(index)
            names = self._state_names(group)
            if layout is None or not names:
                continue
            eps = group.get("eps")
            for bucket in layout.buckets:
                if _may_flush(eps, bucket.grad.dtype):
                    bucket.flush_state()
            for param in layout.single:
                if _may_flush(eps, param.data.dtype):
                    for name in names:
                        if name in self.state.get(param, {}):
                            flush_subnormals(self.state[param][name].data)

    # -- state dicts -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {name: value}}, 'param_groups': [...]}`` where parameters are
        numbered in order across groups, as in PyTorch. Values are copies."""
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            packed["params"] = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                packed["params"].append(index_of[id(param)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for param in group["params"]:
                values = self.state.get(param)
                if values:
                    state[index_of[id(param)]] = {k: _copy_value(v) for k, v in values.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and buffers (copied, cast to each parameter's dtype).

        Every problem is reported with a ValueError before anything changes.
        """
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError("optimizer state dict must be a dict with 'state' and "
                             "'param_groups'")
        groups = state_dict["param_groups"]
        saved_state = state_dict.get("state", {})
        if not isinstance(groups, list) or not all(
                isinstance(g, dict) and isinstance(g.get("params"), (list, tuple))
                for g in groups):
            raise ValueError("optimizer state dict: 'param_groups' must be a list of dicts "
                             "with a 'params' list")
        if not isinstance(saved_state, dict):
            raise ValueError("optimizer state dict: 'state' must be a dict")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(groups)}) than the optimizer ({len(self.param_groups)})")
        params: dict[int, Tensor] = {}
        new_groups = []
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
            for index, param in zip(saved["params"], group["params"]):
                if int(index) in params:
                    raise ValueError(f"loaded state dict lists parameter {index} twice")
                params[int(index)] = param
            merged = dict(group)
            merged.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
            self._validate(merged)
            new_groups.append(merged)
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for index, values in saved_state.items():
            try:
                param = params[int(index)]
            except (KeyError, ValueError, TypeError):
                raise ValueError(f"loaded optimizer state refers to parameter {index!r}, "
                                 f"which the optimizer does not have") from None
            if not isinstance(values, dict):
                raise ValueError(f"loaded optimizer state for parameter {index} must be a "
                                 f"dict, got {type(values).__name__}")
            new_state[param] = {k: self._restore_value(v, param, k) for k, v in values.items()}
        for group, merged in zip(self.param_groups, new_groups):
            group.update(merged)
        self.state = new_state  # the flat buffers adopt (copy) these values on the next step
        steps = [float(s["step"]) for s in new_state.values() if "step" in s]
        if steps:  # resume the flush schedule where the saved run was
            self._flush_clock = int(max(steps))

    def _restore_value(self, value: Any, param: Tensor, name: str) -> Any:
        """A saved buffer, checked against its parameter's shape and cast to its dtype; the
        per-parameter counters ('step') stay float32 scalars, as in PyTorch."""
        if name in self._scalar_names:
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.size != 1 or array.dtype.kind not in "fiu":
                raise ValueError(f"optimizer state '{name}' must be a number, got {value!r}")
            return Tensor._wrap(np.array(array.reshape(()), dtype=np.float32), False)
        if isinstance(value, (Tensor, np.ndarray)):
            array = np.array(value.data if isinstance(value, Tensor) else value, copy=True)
            if array.shape != tuple(param.shape):
                raise ValueError(f"optimizer state '{name}' has shape {array.shape} but its "
                                 f"parameter has shape {tuple(param.shape)}")
            if array.dtype.kind == "f":
                array = array.astype(param.dtype)
            return Tensor._wrap(array, False)
        return copy.deepcopy(value)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            for key in sorted(k for k in group if k not in ("params", "param_names")):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def scalar(value: Any) -> Any:
    """A hyperparameter given as a one-element tensor (PyTorch accepts ``lr=tensor(0.01)``)
    as a Python number; anything else unchanged."""
    if isinstance(value, (Tensor, np.ndarray)):
        return value.item()
    return value


def check_tensor_hyperparameter(name: str, value: Any) -> None:
    """A tensor hyperparameter must hold one value (PyTorch's rule)."""
    if isinstance(value, Tensor) and value.numel() != 1:
        raise ValueError(f"Tensor {name} must be 1-element")


def check_fused(fused: bool | None, foreach: bool | None, differentiable: bool) -> None:
    """``fused`` (PyTorch's single-kernel CPU/CUDA path) is accepted and runs the flat step;
    PyTorch refuses it with ``differentiable`` or ``foreach``, and so do we."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _may_flush(eps: float | None, dtype: np.dtype) -> bool:
    """True where flushing a subnormal second moment v moves √v + eps by less than one
    rounding error of eps (or where the algorithm has no eps)."""
    if eps is None:
        return True
    info = np.finfo(dtype)
    return eps >= math.sqrt(float(info.tiny)) / float(info.eps)


def _copy_value(value: Any) -> Any:
    if isinstance(value, Tensor):
        return Tensor._wrap(np.array(value.data, copy=True), False)
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_value(v) for v in value)
    return copy.deepcopy(value)
