"""Tensor hooks (``Tensor.register_hook``): functions the backward walk calls with a
tensor's gradient once it is complete, before it is stored in ``.grad`` or passed on
through the tensor's node, as PyTorch's.

Tensors have no slot for hooks (one would cost every tensor an assignment): the hooks live
here, by tensor id, behind a weak reference that drops them with the tensor. The walk
looks them up only while some tensor has hooks.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Callable

import numpy as np

from ..utils.hooks import RemovableHandle

__all__ = ["register_tensor_hook", "hooks_of", "apply_hooks", "registered"]

# id(tensor) -> (weak reference to it, its hooks by handle id)
registered: dict[int, tuple[weakref.ref, OrderedDict]] = {}


def _forget(key: int, reference: weakref.ref) -> None:
    entry = registered.get(key)
    if entry is not None and entry[0] is reference:
        del registered[key]


def register_tensor_hook(tensor, hook: Callable) -> RemovableHandle:
    """Register ``hook(grad) -> Tensor or None`` on ``tensor`` (``Tensor.register_hook``)."""
    if not callable(hook):
        raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    key = id(tensor)
    entry = registered.get(key)
    if entry is None or entry[0]() is not tensor:
        reference = weakref.ref(tensor, lambda dead: _forget(key, dead))  # key: never rebound
        entry = registered[key] = (reference, OrderedDict())
    handle = RemovableHandle(entry[1])
    entry[1][handle.id] = hook
    return handle


def hooks_of(tensor) -> OrderedDict | None:
    """The hooks registered on ``tensor``, or None."""
    entry = registered.get(id(tensor))
    if entry is None or entry[0]() is not tensor or not entry[1]:
        return None
    return entry[1]


def apply_hooks(hooks: OrderedDict, tensor, grad, on_arrays: bool):
    """Run ``hooks`` in order on ``grad`` (an array when ``on_arrays``, else a Tensor): each
    gets the current gradient as a Tensor (read-only on arrays, since the walk may share
    it with other gradients), and a non-None result replaces it."""
    from ..tensor import Tensor
    for hook in list(hooks.values()):
        if on_arrays:
            view = grad.view()
            view.flags.writeable = False
            value = Tensor._wrap(view, False)
        else:
            value = grad
        result = hook(value)
        if result is None:
            continue
        result = result if isinstance(result, Tensor) else Tensor(np.asarray(result))
        if result.shape != tensor.shape:
            raise RuntimeError(f"hook {getattr(hook, '__name__', hook)!r} changed the "
                               f"gradient's shape from {tuple(tensor.shape)} to "
                               f"{tuple(result.shape)}")
        if result.dtype != tensor.dtype:
            result = result.to(tensor.dtype)
        grad = result.data if on_arrays else result
    return grad
