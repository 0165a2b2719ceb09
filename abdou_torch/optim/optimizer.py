"""Optimizer: the base class (param groups, per-parameter state, zero_grad, state dicts)."""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["Optimizer", "required"]


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class Optimizer:
    """Base class: holds ``param_groups`` (dicts of hyperparameters with a 'params' list)
    and ``state`` (per-parameter buffers, under PyTorch's names)."""

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, Tensor):
            raise TypeError("params must be an iterable of Tensors or dicts, got a Tensor "
                            "(pass model.parameters())")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, got "
                                f"{type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
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

    def _validate(self, group: dict[str, Any]) -> None:
        """Subclasses check their hyperparameters here (ValueError on a bad value)."""

    def zero_grad(self, set_to_none: bool = True) -> None:
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

    # -- state dicts -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {name: value}}, 'param_groups': [...]}`` where parameters
        are numbered in order across groups, as in PyTorch."""
        index_of: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                packed["params"].append(index_of[id(param)])
            groups.append(packed)
        state = {index_of[id(p)]: {k: _copy_value(v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index_of}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and buffers; every mismatch is reported before any change."""
        groups = state_dict.get("param_groups")
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups or [])} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")
        params = {}
        for saved, group in zip(groups, self.param_groups):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of the optimizer's group")
            params.update(zip(saved["params"], group["params"]))
        new_state = {}
        for index, values in state_dict.get("state", {}).items():
            index = int(index)
            if index not in params:
                raise ValueError(f"loaded optimizer state refers to parameter {index}, which "
                                 f"the optimizer does not have")
            new_state[params[index]] = {k: _restore_value(v, params[index], k)
                                        for k, v in values.items()}
        for saved, group in zip(groups, self.param_groups):
            group.update({k: copy.deepcopy(v) for k, v in saved.items() if k != "params"})
        self.state = new_state


def _copy_value(value: Any) -> Any:
    if isinstance(value, Tensor):
        return Tensor._wrap(np.array(value.data, copy=True), False)
    if isinstance(value, np.ndarray):
        return value.copy()
    return copy.deepcopy(value)


def _restore_value(value: Any, param: Tensor, name: str) -> Any:
    """A saved buffer, checked against its parameter's shape and cast to its dtype."""
    if isinstance(value, (Tensor, np.ndarray)):
        array = np.array(value.data if isinstance(value, Tensor) else value, copy=True)
        if name != "step" and array.shape != tuple(param.shape) and array.ndim > 0:
            raise ValueError(f"optimizer state '{name}' has shape {array.shape} but its "
                             f"parameter has shape {tuple(param.shape)}")
        if array.dtype.kind == "f" and name != "step":
            array = array.astype(param.dtype)
        return Tensor._wrap(array, False)
    return copy.deepcopy(value)
