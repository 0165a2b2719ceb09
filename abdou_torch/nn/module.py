"""Module: the base of every layer and model.

Assigning a :class:`Parameter`, a sub-module or a registered buffer to an attribute
registers it, so ``named_parameters()`` and ``state_dict()`` find it under a dotted name
(``layers.0.weight``) that matches what PyTorch names the same model.
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterator

import numpy as np

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .parameter import Parameter

__all__ = ["Module", "IncompatibleKeys"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class for layers and models: subclass it, assign layers and parameters in
    ``__init__`` (after ``super().__init__()``), and write ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # -- registration ----------------------------------------------------------------------
    def _registries(self) -> tuple[dict, dict, dict]:
        try:
            return self._parameters, self._buffers, self._modules
        except AttributeError:
            raise AttributeError(f"cannot assign to {type(self).__name__} before "
                                 f"Module.__init__() was called (call super().__init__() "
                                 f"first)") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, (Parameter, Module)) or name in self.__dict__.get("_parameters", ()) \
                or name in self.__dict__.get("_buffers", ()) \
                or name in self.__dict__.get("_modules", ()):
            parameters, buffers, modules = self._registries()
            if isinstance(value, Parameter):
                self._forget(name)
                parameters[name] = value
            elif isinstance(value, Module):
                self._forget(name)
                modules[name] = value
            elif name in parameters:
                if value is not None:
                    raise TypeError(f"cannot assign {type(value).__name__} as parameter "
                                    f"'{name}' (a Parameter or None is required)")
                parameters[name] = None
            elif name in buffers:
                if value is not None and not isinstance(value, Tensor):
                    raise TypeError(f"cannot assign {type(value).__name__} as buffer "
                                    f"'{name}' (a Tensor or None is required)")
                buffers[name] = value
            else:
                if value is not None:
                    raise TypeError(f"cannot assign {type(value).__name__} as child module "
                                    f"'{name}' (a Module or None is required)")
                modules[name] = None
            return
        object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers.discard(name)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # only called when normal lookup fails: look in the registries
        for registry in ("_parameters", "_buffers", "_modules"):
            values = self.__dict__.get(registry)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if any(name in r for r in (self._parameters, self._buffers, self._modules)):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, got "
                            f"{type(param).__name__}")
        self._check_name(name)
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved in the state dict but not trained (running stats)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        self._check_name(name)
        self._forget(name)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module, got {type(module).__name__}")
        self._check_name(name)
        self._forget(name)
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name: str) -> None:
        self._registries()
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"invalid name {name!r}: a non-empty string without dots is needed")

    # -- calling ---------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # -- traversal -------------------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        memo = set() if memo is None else memo
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                child_prefix = f"{prefix}.{name}" if prefix else name
                yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, parameter in self.named_parameters(recurse=recurse):
            yield parameter

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every sub-module (children first) and then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ---------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode) expects a bool, got {type(mode).__name__}")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self.parameters():
            if parameter.grad is None:
                continue
            if set_to_none:
                parameter.grad = None
            else:
                parameter.grad.data[...] = 0

    def to(self, dtype: Any = None, *args: Any, **kwargs: Any) -> "Module":
        """Cast floating parameters and buffers to ``dtype`` (a device 'cpu' is accepted)."""
        dtype = kwargs.get("dtype", dtype)
        if dtype is None or isinstance(dtype, str) and dtype == "cpu":
            return self
        dtype = np.dtype(dtype)
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad.data = tensor.grad.data.astype(dtype)
        return self

    def float(self) -> "Module":
        return self.to(np.float32)

    def double(self) -> "Module":
        return self.to(np.float64)

    def cpu(self) -> "Module":
        return self

    # -- state -----------------------------------------------------------------------------
    def state_dict(self, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name (sharing memory with them)."""
        state = OrderedDict() if destination is None else destination
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            dot = f"{module_prefix}." if module_prefix else ""
            for name, value in module._parameters.items():
                if value is not None:
                    state[dot + name] = value if keep_vars else value.detach()
            for name, value in module._buffers.items():
                if value is not None and name not in module._non_persistent_buffers:
                    state[dot + name] = value if keep_vars else value.detach()
        return state

    def load_state_dict(self, state_dict: dict, strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers, by name.

        Every problem is found before anything is copied: with ``strict`` (the default),
        missing and unexpected keys are errors; a shape mismatch always is.
        """
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        mismatched = []
        for key, target in own.items():
            if key in state_dict:
                source_shape = tuple(np.shape(state_dict[key]))
                if source_shape != tuple(target.shape):
                    mismatched.append(f"size mismatch for {key}: copying a param with shape "
                                      f"{source_shape} from checkpoint, the shape in current "
                                      f"model is {tuple(target.shape)}.")
        problems = list(mismatched)
        if strict and unexpected:
            problems.insert(0, "Unexpected key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if strict and missing:
            problems.insert(0, "Missing key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in missing) + ".")
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(problems))
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    value = state_dict[key]
                    array = np.asarray(value.data if isinstance(value, Tensor) else value)
                    target.data[...] = array.astype(target.dtype, copy=False)
                    target._version += 1
        return IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"\n  {extra}" if extra else "")
        return head + "\n" + "\n".join(lines) + "\n)"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))
