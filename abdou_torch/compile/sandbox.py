"""What a capture may change, saved so that it can be put back (the sandbox), and marks that
compare two states bit for bit."""
from __future__ import annotations

import hashlib
import math
from typing import Any

import numpy as np

from ..nn.module import Module
from ..random import Generator
from ..tensor import Tensor




def _plain(value: Any) -> Any:
    """``value`` with every array of an ndarray subclass (a traced array) replaced by a
    plain view of the same memory, in tuples, lists and dicts too."""
    if isinstance(value, np.ndarray):
        return value if type(value) is np.ndarray else np.ndarray.view(value, np.ndarray)
    if type(value) is tuple or type(value) is list:
        return type(value)(_plain(item) for item in value)
    if type(value) is dict:
        return {key: _plain(item) for key, item in value.items()}
    return value


_TENSOR_FIELDS = tuple(name for name in Tensor.__slots__ if name != "__weakref__")


class _Sandbox:
    """What a capture may change, saved at first touch, so it can be put back: tensors
    (bindings and values), optimizers and schedulers (their whole state), modules (their
    attributes), generators (their streams)."""

    def __init__(self) -> None:
        self.saved: list[tuple[str, Any, Any]] = []
        self.seen: set[int] = set()
        self.holds: list[Any] = []
        self.pending: dict[int, np.ndarray] = {}  # tensor id -> data not yet copied

    def _first(self, value: Any) -> bool:
        if id(value) in self.seen:
            return False
        self.seen.add(id(value))
        self.holds.append(value)
        return True

    def tensor(self, tensor: Tensor, values: bool = True) -> None:
        """Save ``tensor``'s bindings, its gradient's, and a copy of its data; without
        ``values`` the data is copied later, by ``write`` (a kernel is about to write it)
        or when a recorded call's object reaches the tensor."""
        if not self._first(tensor):
            return
        writeable = tensor._data.flags.writeable
        if writeable and not values:
            self.pending[id(tensor)] = _plain(tensor._data)
        fields = tuple(getattr(tensor, name) for name in _TENSOR_FIELDS)
        copy = _plain(tensor._data).copy(order="K") if values and writeable else None
        self.saved.append(("tensor", tensor, (fields, tensor._version_counter[0], copy)))
        if tensor._grad is not None:
            self.tensor(tensor._grad)

    def write(self, tensor_id: int) -> None:
        """The data of a tensor saved without its values is about to be written: copy it."""
        array = self.pending.pop(tensor_id, None)
        if array is not None:
            self.saved.append(("array", array, array.copy(order="K")))

    def generator(self, generator: Generator) -> None:
        if self._first(generator):
            self.saved.append(("generator", generator, generator.get_state()))

    def module(self, module: Module) -> None:
        if self._first(module):
            dicts = [module.__dict__] + [module.__dict__[name] for name in
                                         ("_parameters", "_buffers", "_modules")
                                         if isinstance(module.__dict__.get(name), dict)]
            self.saved.append(("dicts", module, [(d, dict(d)) for d in dicts]))

    def object(self, root: Any) -> None:
        """An optimizer or scheduler: everything reachable through library objects,
        containers, tensors and arrays."""
        stack = [root]
        while stack:
            value = stack.pop()
            if isinstance(value, Tensor):
                self.write(id(value))  # the call may change it (a parameter passed in)
                self.tensor(value)
                continue
            if isinstance(value, Generator):
                self.generator(value)
                continue
            if isinstance(value, (str, bytes, int, float, bool, type(None))) or \
                    not self._first(value):
                continue
            if isinstance(value, np.ndarray):
                if value.flags.writeable and value.dtype != object:
                    self.saved.append(("array", value, _plain(value).copy(order="K")))
            elif isinstance(value, dict):
                self.saved.append(("dict", value, dict(value)))
                stack.extend(value.keys())
                stack.extend(value.values())
            elif isinstance(value, list):
                self.saved.append(("list", value, list(value)))
                stack.extend(value)
            elif isinstance(value, (tuple, set, frozenset)):
                stack.extend(value)
            elif type(value).__module__.startswith("abdou_torch") and \
                    not isinstance(value, Module):
                if hasattr(value, "__dict__"):
                    self.saved.append(("dict", value.__dict__, dict(value.__dict__)))
                    stack.extend(value.__dict__.values())
                for name in getattr(type(value), "__slots__", ()):
                    if hasattr(value, name):
                        stack.append(getattr(value, name))

    def again(self) -> "_Sandbox":
        """A sandbox of the same things, saving their state as it is now."""
        other = _Sandbox()
        for kind, target, state in self.saved:
            if kind == "tensor":
                other.tensor(target)
            elif kind == "generator":
                other.generator(target)
            elif kind == "array":
                other.saved.append((kind, target, _plain(target).copy(order="K")))
            elif kind == "dict":
                other.saved.append((kind, target, dict(target)))
            elif kind == "list":
                other.saved.append((kind, target, list(target)))
            elif kind == "dicts":
                other.saved.append((kind, target, [(d, dict(d)) for d, _ in state]))
        return other

    def restore(self) -> None:
        for kind, target, state in reversed(self.saved):
            if kind == "tensor":
                fields, version, values = state
                for name, field in zip(_TENSOR_FIELDS, fields):
                    setattr(target, name, field)
                target._version_counter[0] = version
                if values is not None:
                    np.copyto(target._data, values)
            elif kind == "array":
                np.copyto(target, state)
            elif kind == "dict":
                target.clear()
                target.update(state)
            elif kind == "list":
                target[:] = state
            elif kind == "dicts":
                for dictionary, content in state:
                    dictionary.clear()
                    dictionary.update(content)
            elif kind == "generator":
                target.set_state(state)

    def fingerprint(self) -> list:
        """The values of everything saved, as they are now (to compare two runs)."""
        marks: list = []
        for kind, target, _ in self.saved:
            if kind == "tensor":
                marks.append(_value_mark(target._data))
                marks.append(None if target._grad is None else _value_mark(target._grad._data))
                marks.append(target._requires_grad)
            elif kind == "array":
                marks.append(_value_mark(target))
            elif kind in ("dict", "list"):
                items = target.items() if kind == "dict" else enumerate(target)
                for _, value in items:
                    marks.append(_value_mark(value))
            elif kind == "generator":
                marks.append(repr(target.get_state()))
        return marks


def _value_mark(value: Any) -> Any:
    """Something equal for equal values (arrays bit for bit, tensors by their values)."""
    if isinstance(value, Tensor):
        value = value._data
    if isinstance(value, np.ndarray):
        # a digest, not the bytes: the check holds a mark of every array of the state
        array = np.ascontiguousarray(_plain(value))
        digest = hashlib.blake2b(array.view(np.uint8).data if array.size else b"",
                                 digest_size=20).digest()
        return (array.shape, array.dtype.str, digest)
    if isinstance(value, (int, float, bool, str, type(None))):
        return value if not (isinstance(value, float) and math.isnan(value)) else "nan"
    if isinstance(value, (tuple, list)):
        return tuple(_value_mark(item) for item in value)
    return type(value).__name__


