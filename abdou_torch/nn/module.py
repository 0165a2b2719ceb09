"""Module: the base of every layer and model.

Assigning a :class:`Parameter`, a sub-module or a registered buffer to an attribute
registers it, so ``named_parameters()`` and ``state_dict()`` find it under a dotted name
(``layers.0.weight``) that matches what PyTorch names the same model.
"""
from __future__ import annotations

import warnings
from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterator

import numpy as np

from ..autograd.grad_mode import no_grad
from ..devices import check_device
from ..dtypes import wrap
from ..tensor import Tensor, to_arguments
from ..utils.hooks import RemovableHandle
from .backward_hooks import BackwardHookCall
from .parameter import Parameter

__all__ = ["Module", "IncompatibleKeys"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _as_array(value: Any) -> np.ndarray | None:
    """A state-dict value as an ndarray: abdou_torch tensors, arrays, numbers and anything
    with ``__array__`` (a torch tensor); None for other values (strings, dicts ...)."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (str, bytes, dict)) or value is None:
        return None
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu()
    array = np.asarray(value)
    return array if array.dtype.kind in "biuf" else None


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
        # hooks by handle id; the *_with_kwargs dicts note the ids of hooks that take kwargs
        for registry in ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
                         "_forward_hooks", "_forward_hooks_with_kwargs", "_backward_hooks",
                         "_backward_pre_hooks"):
            object.__setattr__(self, registry, OrderedDict())

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
                self._forget(name, keep=parameters)
                parameters[name] = value
            elif isinstance(value, Module):
                self._forget(name, keep=modules)
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

    def _forget(self, name: str, keep: dict | None = None) -> None:
        """Remove ``name`` from the registries and the instance dict, except from ``keep``,
        where the caller replaces the value in place (so the name keeps its position, and
        state-dict order is unchanged, as in PyTorch)."""
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        if keep is not self._buffers:
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
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is saved in the state dict but not trained (running stats)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, got "
                            f"{type(tensor).__name__}")
        self._check_name(name)
        self._forget(name)  # also forgets a previous persistent=False
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module, got {type(module).__name__}")
        self._check_name(name)
        self._forget(name, keep=self._modules)
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
        state = self.__dict__
        if state.get("_forward_pre_hooks") or state.get("_forward_hooks") or \
                state.get("_backward_hooks") or state.get("_backward_pre_hooks"):
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        """forward between its hooks, as PyTorch: a pre-hook's non-None result replaces the
        arguments (a non-tuple becomes a 1-tuple; with kwargs, it must be (args, kwargs)),
        a forward hook's non-None result replaces the output."""
        for hook_id, hook in list(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {result!r}")
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_call = None
        if self.__dict__.get("_backward_hooks") or self.__dict__.get("_backward_pre_hooks"):
            backward_call = BackwardHookCall(self, list(self._backward_hooks.values()),
                                             list(self._backward_pre_hooks.values()))
            args = backward_call.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        if backward_call is not None:
            output = backward_call.wrap_outputs(output)
        for hook_id, hook in list(self._forward_hooks.items()):
            result = hook(self, args, kwargs, output) \
                if hook_id in self._forward_hooks_with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        return output

    # -- hooks -----------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` (``hook(module, args, kwargs)`` with ``with_kwargs``)
        before every forward; see ``_call_with_hooks`` for what its result does. Hooks run
        in registration order, or first with ``prepend``."""
        return self._register_hook(self._forward_pre_hooks,
                                   self._forward_pre_hooks_with_kwargs, hook, prepend,
                                   with_kwargs)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
        ``with_kwargs``) after every forward; a non-None result replaces the output."""
        return self._register_hook(self._forward_hooks, self._forward_hooks_with_kwargs,
                                   hook, prepend, with_kwargs)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False
                                    ) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradients of the module's
        tensor inputs are known; a non-None result replaces grad_input
        (nn/backward_hooks.py)."""
        return self._register_hook(self._backward_hooks, OrderedDict(), hook, prepend, False)

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False
                                        ) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs are
        known, before its inputs'; a non-None result replaces grad_output."""
        return self._register_hook(self._backward_pre_hooks, OrderedDict(), hook, prepend,
                                   False)

    def register_backward_hook(self, hook: Callable) -> RemovableHandle:
        """PyTorch's deprecated backward hook, run as the full one (whose grad_input is the
        module's inputs' gradient; the old hook's was its last op's, whatever that was)."""
        warnings.warn("register_backward_hook is deprecated: it runs here as "
                      "register_full_backward_hook", FutureWarning, stacklevel=2)
        return self.register_full_backward_hook(hook)

    @staticmethod
    def _register_hook(hooks: OrderedDict, with_kwargs_ids: OrderedDict, hook: Callable,
                       prepend: bool, with_kwargs: bool) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(hooks, with_kwargs_ids)
        hooks[handle.id] = hook
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        if with_kwargs:
            with_kwargs_ids[handle.id] = True
        return handle

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

    def get_submodule(self, target: str) -> "Module":
        """The sub-module at dotted path ``target`` ('' is this module)."""
        module = self
        for name in target.split(".") if target else ():
            child = module._modules.get(name)
            if child is None:
                raise AttributeError(f"{module._get_name()} has no attribute `{name}` "
                                     f"(looking up '{target}')")
            module = child
        return module

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
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
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
        """Set training mode on this module and, through ``train`` (so overrides run), on
        every sub-module; ``eval()`` is ``train(False)``. Returns the module."""
        if not isinstance(mode, bool):
            raise ValueError(f"train(mode) expects a bool, got {type(mode).__name__}")
        object.__setattr__(self, "training", mode)
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for parameter in self.parameters():
            parameter.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``set_to_none``, the default) or zero it."""
        for parameter in self.parameters():
            if parameter.grad is None:
                continue
            if set_to_none:
                parameter.grad = None
            else:
                grad = parameter.grad.detach_()
                grad.data[...] = 0
                grad._version += 1

    def to(self, *args: Any, **kwargs: Any) -> "Module":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``: cast the
        floating parameters and buffers to ``dtype``, in place; the device must be the CPU.
        Returns the module."""
        dtype, where, _ = to_arguments(args, kwargs, "Module.to")
        check_device(where, "Module.to")
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to() only accepts floating point dtypes, but got "
                            f"desired dtype={wrap(dtype)}")
        for tensor in list(self.parameters()) + list(self.buffers()):
            if tensor.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad = Tensor._wrap(tensor.grad.data.astype(dtype), False)
        return self

    def cuda(self, device: Any = None) -> "Module":
        check_device("cuda" if device is None else device, "Module.cuda")
        return self

    def float(self) -> "Module":
        return self.to(np.float32)

    def double(self) -> "Module":
        return self.to(np.float64)

    def half(self) -> "Module":
        return self.to(np.float16)

    def cpu(self) -> "Module":
        return self

    # -- state -----------------------------------------------------------------------------
    def _state_items(self, prefix: str) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, tensor) for every parameter and persistent buffer. Like PyTorch,
        a module or tensor reachable under two names appears under both."""
        for name, value in self._parameters.items():
            if value is not None:
                yield prefix + name, value
        for name, value in self._buffers.items():
            if value is not None and name not in self._non_persistent_buffers:
                yield prefix + name, value
        for name, module in self._modules.items():
            if module is not None:
                yield from module._state_items(f"{prefix}{name}.")

    def _state_defaults(self, prefix: str, metadata: Any) -> set[str]:
        """Keys that ``load_state_dict`` may find missing without complaint: each module's
        ``_optional_state`` (BatchNorm's num_batches_tracked, as in PyTorch), unless the
        checkpoint's metadata says it was saved by a version that had them."""
        found: set[str] = set()
        version = None if metadata is None else \
            metadata.get(prefix[:-1], {}).get("version")
        if version is None or version < 2:
            found.update(prefix + name for name in self._optional_state())
        for name, module in self._modules.items():
            if module is not None:
                found |= module._state_defaults(f"{prefix}{name}.", metadata)
        return found

    def _optional_state(self) -> tuple[str, ...]:
        """Names of this module's state that older checkpoints lack (kept as they are when
        missing); none by default."""
        return ()

    def state_dict(self, *args: Any, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """Parameters and persistent buffers by dotted name (sharing memory with them)."""
        if args:  # PyTorch's deprecated positional form: (destination, prefix, keep_vars)
            destination, prefix, keep_vars = (tuple(args) + (destination, prefix,
                                                             keep_vars)[len(args):])[:3]
        state = OrderedDict() if destination is None else destination
        for key, value in self._state_items(prefix):
            state[key] = value if keep_vars else value.detach()
        return state

    def load_state_dict(self, state_dict: Any, strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers, by name.

        Every problem is found before anything is copied: with ``strict`` (the default),
        missing and unexpected keys are errors; a shape mismatch or a value that is not
        array-like always is. Values may be abdou_torch tensors, NumPy arrays or anything
        array-like (a torch tensor). ``assign=True`` makes each parameter and buffer take
        the loaded array (and its dtype) instead of copying into the existing memory.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"Expected state_dict to be dict-like, got "
                            f"{type(state_dict).__name__}.")
        own = OrderedDict(self._state_items(""))
        defaults = self._state_defaults("", getattr(state_dict, "_metadata", None))
        missing = [key for key in own if key not in state_dict and key not in defaults]
        unexpected = [key for key in state_dict.keys() if key not in own]
        problems, arrays = [], {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            try:
                array = _as_array(value)
            except (TypeError, ValueError, RuntimeError):
                array = None
            if array is not None and target.ndim == 0 and array.shape == (1,):
                array = array.reshape(())  # PyTorch 0.3's one-element 1-D scalars
            if array is None:
                problems.append(f'While copying the parameter named "{key}", expected a '
                                f"tensor or array from checkpoint but received "
                                f"{type(value).__name__}")
            elif array.shape != tuple(target.shape):
                problems.append(f"size mismatch for {key}: copying a param with shape "
                                f"{tuple(array.shape)} from checkpoint, the shape in current model "
                                f"is {tuple(target.shape)}.")
            elif assign and target.requires_grad and array.dtype.kind != "f":
                problems.append(f'While copying the parameter named "{key}", whose dimensions '
                                f"in the model are {tuple(target.shape)} and whose dimensions "
                                f"in the checkpoint are {tuple(array.shape)}, an exception "
                                f"occurred : ('Only Tensors of floating point and complex "
                                f"dtype can require gradients', got {array.dtype}).")
            else:
                arrays[key] = array
        if strict and unexpected:
            problems.insert(0, "Unexpected key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if strict and missing:
            problems.insert(0, "Missing key(s) in state_dict: "
                            + ", ".join(f'"{k}"' for k in missing) + ". ")
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(problems))
        with no_grad():
            for key, array in arrays.items():
                target = own[key]
                if assign:
                    target.data = np.array(array, copy=True)
                else:
                    target.data[...] = array.astype(target.dtype, copy=False)
                target._version += 1
        return IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        """PyTorch's layout: one line for a leaf with a one-line ``extra_repr``, else the
        extra lines and ``(name): child`` lines indented by two spaces."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(module).replace("\n", "\n  ")
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))
