"""Optimizer: the base class (param groups, per-parameter state, zero_grad, state dicts).

Subclasses write their update in ``step()`` over the *segments* that ``_segments()`` hands
out: flat arrays that cover every parameter of a group at once (see ``_flat.py``), so that
one step is a few large in-place NumPy operations whatever the number of parameters.
"""
from __future__ import annotations

import copy
import functools
from collections import defaultdict
from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor
from ._flat import FlatGroup, Segment

__all__ = ["Optimizer", "required"]


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: holds ``param_groups`` (dicts of hyperparameters with a 'params' list)
    and ``state`` (per-parameter buffers, under PyTorch's names).

    ``params`` is an iterable of tensors, or of dicts (one per group) whose keys override
    ``defaults`` for that group, as in PyTorch.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._flat: dict[int, FlatGroup] = {}
        self._opt_called = False
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
        """Mark every ``step()`` call, so a scheduler can warn when it is stepped first."""
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_marks_called", False):
            @functools.wraps(step)
            def marked_step(self, *args: Any, **kwargs: Any) -> Any:
                self._opt_called = True
                return step(self, *args, **kwargs)
            marked_step._marks_called = True
            cls.step = marked_step

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with 'params' and optional hyperparameters)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered "
                            "collections, but the ordering of tensors in sets will change "
                            "between runs. Please use a list instead.")
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"is {type(param).__name__}")
            if not param.is_leaf:
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
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]) or \
                len({id(p) for p in group["params"]}) != len(group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)
        if group["params"]:
            # lay the values out flat now, so references taken after this stay valid
            self._flat[len(self.param_groups) - 1] = FlatGroup(group["params"])

    def _validate(self, group: dict[str, Any]) -> None:
        """Subclasses check their hyperparameters here (ValueError on a bad value)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``None``), or set them to zero with ``set_to_none=False``."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    param.grad.data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # pragma: no cover
        raise NotImplementedError

    # -- helpers for step() ----------------------------------------------------------------
    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """Run the closure (which recomputes the loss) with gradients enabled."""
        if closure is None:
            return None
        from ..autograd.grad_mode import enable_grad
        with enable_grad():
            return closure()

    def _segments(self, index: int, group: dict[str, Any], names: tuple[str, ...],
                  count_steps: bool) -> list[Segment]:
        """Flat views of the parameters of ``group`` that have a gradient, their gradients
        and their state ``names`` (and 'step' when ``count_steps``), ready to update."""
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return []
        flat = self._flat.get(index)
        if flat is None or flat.key != tuple(map(id, params)) or not flat.intact():
            flat = self._flat[index] = FlatGroup(params)
        segments = []
        for bucket in flat.buckets:
            bucket.bind_state(self.state, names, count_steps)
            bucket.gather_grads()
            segments.extend(bucket.segments())
        return segments

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
            new_state[param] = {k: _restore_value(v, param, k) for k, v in values.items()}
        for group, merged in zip(self.param_groups, new_groups):
            group.update(merged)
        self.state = new_state  # the flat buffers adopt (copy) these values on the next step

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for index, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {index}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _copy_value(value: Any) -> Any:
    if isinstance(value, Tensor):
        return Tensor._wrap(np.array(value.data, copy=True), False)
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.deepcopy(value)


def _restore_value(value: Any, param: Tensor, name: str) -> Any:
    """A saved buffer, checked against its parameter's shape and cast to its dtype; 'step'
    stays a float32 scalar, as in PyTorch."""
    if name == "step":
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.size != 1 or array.dtype.kind not in "fiu":
            raise ValueError(f"optimizer state 'step' must be a number, got {value!r}")
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
