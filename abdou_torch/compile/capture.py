"""One traced run of a step: the observers a capture installs (``Tensor.data``, module
calls, optimizers' and schedulers' steps, generator draws, NumPy's allocators), the run
itself, and the comparison of two runs (the perturbation check)."""
from __future__ import annotations

import gc
import random as _python_random
from typing import Any, Callable

import numpy as np

from .. import compiler
from ..autograd import hooks as _tensor_hooks
from ..autograd.function import Function
from ..nn.module import Module
from ..optim.lr_scheduler import LRScheduler
from ..ops.workspace import Workspace
from ..optim.optimizer import Optimizer
from ..random import Generator
from ..tensor import Tensor
from .sandbox import _plain, _value_mark
from . import recorder as _recording
from .recorder import _Const, _Recorder, _Ref, _Traced, _active, _same_layout_copy, _site



def _subclasses(cls: type) -> list[type]:
    found, stack = [], [cls]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(current.__subclasses__())
    return found


class _Observers:
    """While a capture runs: ``Tensor.data`` reports pre-existing tensors to the recorder,
    ``Module.__call__`` the modules that run, optimizers' and schedulers' ``step`` and
    ``zero_grad`` become recorded calls, generator draws are recorded, and tensor hooks
    make the step unreplayable. Everything is put back on exit."""

    def __enter__(self) -> "_Observers":
        self.patches: list[tuple[type, str, Any]] = []
        self._patch(Tensor, "data", property(_data_while_capturing, Tensor._set_data))
        self._patch(Tensor, "grad", property(_grad_while_capturing, _set_grad_while_capturing))
        self._patch(Module, "__call__", _module_call(Module.__call__))
        for cls in _subclasses(Optimizer):
            for name in ("step", "zero_grad"):
                if name in cls.__dict__:
                    self._patch(cls, name, _recorded_call(name, cls.__dict__[name]))
        for cls in _subclasses(LRScheduler):
            if "step" in cls.__dict__:
                self._patch(cls, "step", _recorded_call("step", cls.__dict__["step"]))
        numpy_property = Generator.__dict__.get("numpy")
        if isinstance(numpy_property, property):
            self._patch(Generator, "numpy", property(_numpy_while_capturing(numpy_property)))
        for name in ("random_uint32", "random_uint64"):
            if name in Generator.__dict__:
                self._patch(Generator, name, _recorded_draw(name, Generator.__dict__[name]))
        self._patch(_tensor_hooks, "apply_hooks", _hooks_while_capturing)
        for name in _ALLOCATIONS:
            self._patch(np, name, _recorded_allocation(getattr(np, name)))
        for name, converter in (("asarray", _asarray), ("array", _array),
                                ("ascontiguousarray", _ascontiguousarray)):
            self._patch(np, name, converter(getattr(np, name)))
        self._patch(Workspace, "empty", _workspace_while_capturing(Workspace.empty))
        return self

    def _patch(self, owner: Any, name: str, value: Any) -> None:
        self.patches.append((owner, name, owner.__dict__[name] if isinstance(owner, type)
                             else getattr(owner, name)))
        setattr(owner, name, value)

    def __exit__(self, *exc: Any) -> None:
        for owner, name, value in reversed(self.patches):
            setattr(owner, name, value)


def _data_while_capturing(tensor: Tensor) -> np.ndarray:
    data = tensor._data
    if type(data) is _Traced:
        return data
    recorder = _active()
    if recorder is None:
        return data
    if id(tensor) in recorder.preexisting:
        return recorder.adopt_state(tensor)
    return recorder.retrace(tensor, data)


def _grad_while_capturing(tensor: Tensor) -> Tensor | None:
    recorder = _active()
    if recorder is not None and id(tensor) in recorder.preexisting:
        recorder.watch(tensor)
        recorder.grad_relevant.setdefault(id(tensor), True)  # read before any assignment
    return tensor._grad


def _set_grad_while_capturing(tensor: Tensor, value: Tensor | None) -> None:
    recorder = _active()
    if recorder is not None and id(tensor) in recorder.preexisting:
        recorder.watch(tensor)
        # assigned before being read: the step does not depend on the gradient it found
        recorder.grad_relevant.setdefault(id(tensor), False)
    Tensor._set_grad(tensor, value)


def _module_call(original: Callable) -> Callable:
    def __call__(module: Module, *args: Any, **kwargs: Any) -> Any:
        recorder = _active()
        if recorder is not None and id(module) not in recorder.modules:
            recorder.modules[id(module)] = module
            recorder.save(recorder.sandbox.module, module)
            state = module.__dict__
            if state.get("_forward_pre_hooks") or state.get("_forward_hooks"):
                recorder.fail(f"{type(module).__name__} has forward hooks")
            if state.get("_backward_hooks") or state.get("_backward_pre_hooks"):
                recorder.fail(f"{type(module).__name__} has backward hooks")
        return original(module, *args, **kwargs)
    return __call__


def _recorded_call(name: str, original: Callable) -> Callable:
    def method(target: Any, *args: Any, **kwargs: Any) -> Any:
        recorder = _active()
        if recorder is None:
            return original(target, *args, **kwargs)
        return recorder.method(target, name, original, args, kwargs)
    method.__name__ = name
    return method


def _recorded_draw(name: str, original: Callable) -> Callable:
    def draw(generator: Generator, *args: Any, **kwargs: Any) -> Any:
        recorder = _active()
        if recorder is None:
            return original(generator, *args, **kwargs)
        recorder.save(recorder.sandbox.generator, generator)
        recorder.paused += 1
        try:
            result = original(generator, *_plain(args), **_plain(kwargs))
        finally:
            recorder.paused -= 1
        return recorder.draw(generator, name, False, args, kwargs, result)
    draw.__name__ = name
    return draw


class _DrawingNumpy:
    """``generator.numpy`` during a capture: its draws are recorded."""

    def __init__(self, generator: Generator, numpy_generator: np.random.Generator,
                 recorder: _Recorder) -> None:
        self._generator, self._numpy, self._recorder = generator, numpy_generator, recorder

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._numpy, name)
        if not callable(method):
            return method

        def draw(*args: Any, **kwargs: Any) -> Any:
            self._recorder.save(self._recorder.sandbox.generator, self._generator)
            self._recorder.paused += 1
            try:
                result = method(*_plain(args), **_plain(kwargs))
            finally:
                self._recorder.paused -= 1
            if not isinstance(result, np.ndarray):
                self._recorder.fail(f"a scalar draw (numpy.{name}) from a generator: {_site()}")
                return result
            return self._recorder.draw(self._generator, name, True, args, kwargs, result)
        return draw


def _numpy_while_capturing(original: property) -> Callable:
    getter = original.fget
    assert getter is not None  # Generator.numpy is a read-only property

    def numpy(generator: Generator) -> Any:
        value = getter(generator)
        recorder = _active()
        return value if recorder is None else _DrawingNumpy(generator, value, recorder)
    return numpy


_ORIGINAL_APPLY_HOOKS = _tensor_hooks.apply_hooks

#: NumPy's array makers: during a capture their arrays are traced from birth, so that plain
#: writes into them (``out = np.zeros(...); out[index] = x``) are recorded
_ALLOCATIONS = ("empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like",
                "full_like")
#: the value each maker fills with (None: nothing, for empty; 'fill_value': an argument)
_FILLS = {"empty": None, "empty_like": None, "zeros": 0, "zeros_like": 0, "ones": 1,
          "ones_like": 1, "full": "fill_value", "full_like": "fill_value"}


def _recorded_allocation(original: Callable) -> Callable:
    def allocate(*args: Any, **kwargs: Any) -> Any:
        recorder = _active()
        if recorder is None:
            return original(*args, **kwargs)
        return recorder.call(original, args, kwargs, ())
    allocate.__name__ = original.__name__
    setattr(allocate, "__wrapped__", original)  # noqa: B010 - functools' convention
    return allocate


def _converted(array: _Traced, dtype: Any, order: Any, copy: bool | None) -> Any:
    """What ``np.asarray`` / ``np.array`` make of a traced array, recorded: the array
    itself, or a copy (another dtype, another layout, or ``copy=True``)."""
    if dtype is not None and np.dtype(dtype) != array.dtype:
        return array.astype(dtype, order=order if order in ("C", "F") else "K")
    if order == "C" and not array.flags.c_contiguous or \
            order == "F" and not array.flags.f_contiguous:
        return array.copy(order=order)
    return array.copy(order=order if order in ("C", "F") else "K") if copy else array


def _asarray(original: Callable) -> Callable:
    """``np.asarray`` keeps traced arrays traced (as ``np.asanyarray``), so that library
    code computing on ``np.asarray(x)`` stays recorded."""
    def asarray(a: Any, dtype: Any = None, order: str | None = None, **kwargs: Any) -> Any:
        if type(a) is not _Traced or _active() is None or kwargs.get("like") is not None:
            return original(a, dtype, order, **kwargs)
        return _converted(a, dtype, order, kwargs.get("copy"))
    return asarray


def _array(original: Callable) -> Callable:
    def array(a: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
        if type(a) is not _Traced or _active() is None or args or \
                set(kwargs) - {"copy", "order", "subok"}:
            return original(a, dtype, *args, **kwargs)
        return _converted(a, dtype, kwargs.get("order"), kwargs.get("copy", True))
    return array


def _ascontiguousarray(original: Callable) -> Callable:
    def ascontiguousarray(a: Any, dtype: Any = None, **kwargs: Any) -> Any:
        if type(a) is not _Traced or _active() is None or kwargs or a.ndim == 0:
            return original(a, dtype, **kwargs)
        return _converted(a, dtype, "C", False)
    return ascontiguousarray


def _workspace_while_capturing(original: Callable) -> Callable:
    def empty(workspace: Workspace, shape: tuple, dtype: np.dtype) -> np.ndarray:
        if _active() is None:
            return original(workspace, shape, dtype)
        return np.empty(shape, dtype=dtype)  # recorded; the schedule plans its memory
    return empty


def _hooks_while_capturing(*args: Any, **kwargs: Any) -> Any:
    recorder = _active()
    if recorder is not None:
        recorder.fail("a tensor hook (register_hook) runs during the backward")
    return _ORIGINAL_APPLY_HOOKS(*args, **kwargs)


def _flatten(value: Any, leaves: list) -> Any:
    """The structure of ``value`` (hashable), with tensors and arrays appended to
    ``leaves``; Python scalars are part of the structure, other objects by identity."""
    if isinstance(value, (Tensor, np.ndarray)):
        leaves.append(value)
        return 0
    kind = type(value)
    if kind is tuple or kind is list:
        return (kind.__name__, tuple(_flatten(item, leaves) for item in value))
    if kind is dict:
        return ("dict", tuple((key, _flatten(item, leaves)) for key, item in value.items()))
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        return ("value", kind, "nan" if value != value else value)
    return ("object", id(value))


def _unflatten(structure: Any, original: Any, leaves: list, position: list) -> Any:
    """``original`` with its leaves replaced, in order, by ``leaves``."""
    if structure == 0:
        position[0] += 1
        return leaves[position[0] - 1]
    kind = type(original)
    if kind is tuple or kind is list:
        return kind(_unflatten(s, item, leaves, position)
                    for s, item in zip(structure[1], original))
    if kind is dict:
        return {key: _unflatten(s, original[key], leaves, position)
                for (key, s) in structure[1]}
    return original


def _leaf_key(leaf: Any) -> tuple:
    if isinstance(leaf, Tensor):
        data = leaf._data
        return (data.shape, data.dtype.str, data.strides, leaf._requires_grad,
                leaf._ctx is None)
    return (leaf.shape, leaf.dtype.str, leaf.strides)


def _perturbed(array: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A copy of ``array`` (same layout) with other values of the same kind: floats moved
    by noise and kept within the array's range, integers and booleans rolled by one along
    each axis (so class indices stay valid and change places)."""
    if array.size <= 1 or 0 in array.strides:
        return array
    copy = _same_layout_copy(array)
    kind = array.dtype.kind
    if kind == "f":
        wide = array.astype(np.float64)
        moved = wide + rng.standard_normal(array.shape) * (np.abs(wide) * 1e-2 + 1e-2)
        copy[...] = np.clip(moved, np.nanmin(wide), np.nanmax(wide))
    elif kind in "iub":
        copy[...] = np.roll(array, 1, axis=tuple(range(array.ndim)))
    elif kind == "c":
        copy[...] = array + (rng.standard_normal(array.shape) * 1e-2).astype(array.dtype)
    return copy


class _Capture:
    """One traced run of the step: the recorder, the result, the error if it raised."""

    def __init__(self, recorder: _Recorder) -> None:
        self.recorder = recorder
        self.result: Any = None
        self.error: BaseException | None = None
        self.outputs: Any = None  # the result's template


def _capture(fn: Callable, args: tuple, kwargs: dict, leaves: list, structure: Any,
             rng: np.random.Generator | None) -> _Capture:
    """Run ``fn`` once, traced (on perturbed copies of the arguments' values with ``rng``)."""
    kinds = set(_subclasses(Tensor))
    recorder = _Recorder([o for o in gc.get_objects() if type(o) in kinds])
    capture = _Capture(recorder)
    traced_leaves = []
    for position, leaf in enumerate(leaves):
        array = leaf._data if isinstance(leaf, Tensor) else leaf
        source = array if rng is None else _perturbed(_plain(array), rng)
        if isinstance(leaf, Tensor):
            if leaf._ctx is not None:
                recorder.fail("an argument is part of an autograd graph (pass a leaf tensor)")
            if any(leaf is t for t, _, _ in recorder.swapped):
                traced_leaves.append(leaf)
                continue
            # the argument's values are saved only if something writes them
            recorder.sandbox.tensor(leaf, values=False)
            recorder.adopt(leaf, "arg", source)
            recorder.unsaved_args[recorder.blocks[-1].index] = id(leaf)
            recorder.watch(leaf)
            traced_leaves.append(leaf)
        else:
            block = recorder.new_block("arg", source)
            traced_leaves.append(recorder.traced(  # type: ignore[arg-type]  # arrays too
                source, recorder.slot(block, source, None)))
        recorder.blocks[-1].path = position
    traced_args, traced_kwargs = _unflatten(structure, (args, kwargs), traced_leaves, [0])
    randomness = (np.random.get_state(), _python_random.getstate())
    _recording._RECORDER = recorder
    compiler._capturing += 1
    try:
        with _Observers():
            capture.result = fn(*traced_args, **traced_kwargs)
    except BaseException as error:  # noqa: B902 - eager semantics: re-raised by the caller
        capture.error = error
    finally:
        _recording._RECORDER = None
        compiler._capturing -= 1
    if capture.error is None:
        recorder.sync()
        capture.outputs = _output_template(recorder, capture.result)
    state, python_state = np.random.get_state(), _python_random.getstate()
    if python_state != randomness[1] or not all(
            np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
            for a, b in zip(state, randomness[0])):
        recorder.fail("the step draws random numbers from numpy.random or Python's random "
                      "module (use abdou_torch's generators)")
        if rng is not None:  # the check's run: the real run must draw the same numbers
            np.random.set_state(randomness[0])
            _python_random.setstate(randomness[1])
    _finish(recorder, capture)
    return capture


def _output_template(recorder: _Recorder, value: Any) -> Any:
    """What the step returned, with tensors and arrays described by their slots."""
    if isinstance(value, Tensor):
        if id(value) in recorder.preexisting:
            return ("object", value)
        node = value._ctx
        if node is not None and not node.released:
            recorder.fail("the step returns a tensor whose graph is still needed (call "
                          "backward() inside the compiled function)", compilable=True)
        return ("tensor", recorder.template(value._data, set()), value._requires_grad, node)
    if isinstance(value, np.ndarray):
        return ("array", recorder.template(value, set()))
    kind = type(value)
    if kind is tuple or kind is list:
        return (kind, [_output_template(recorder, item) for item in value])
    if kind is dict:
        return (dict, [(key, _output_template(recorder, item)) for key, item in value.items()])
    if isinstance(value, np.generic):
        return ("array", recorder.template(np.asarray(value), set()))
    return ("object", value)


def _finish(recorder: _Recorder, capture: _Capture) -> None:
    """Give every tensor plain arrays again (the values stay where the run left them)."""
    for tensor, original, traced in reversed(recorder.swapped):
        if tensor._data is traced:
            tensor._data = original
    for tensor in list(recorder.watched.values()) + [t for t, _, _ in recorder.swapped]:
        if type(tensor._data) is _Traced:
            tensor._data = _plain(tensor._data)
        grad = tensor._grad
        if grad is not None and type(grad._data) is _Traced:
            grad._data = _plain(grad._data)
    capture.result = _plain_result(capture.result)


def _plain_result(value: Any) -> Any:
    if isinstance(value, Tensor):
        if type(value._data) is _Traced:
            value._data = _plain(value._data)
        return value
    if type(value) is _Traced:
        return _plain(value)
    if type(value) in (tuple, list):
        return type(value)(_plain_result(item) for item in value)
    if type(value) is dict:
        return {key: _plain_result(item) for key, item in value.items()}
    return value





def _difference(a: _Capture, b: _Capture) -> str | None:
    """Why capture ``b`` (perturbed inputs) does not record what ``a`` does, or None."""
    ra, rb = a.recorder, b.recorder
    for ka, kb in zip(ra.kernels, rb.kernels):
        if ka.kind != kb.kind or ka.function != kb.function or ka.target is not kb.target \
                or len(ka.outputs) != len(kb.outputs):
            return f"the step takes another path on other data, at {ka.site or kb.site}"
        if not _same_template(ka.args, kb.args) or not _same_template(ka.kwargs, kb.kwargs):
            return f"a constant of the step depends on the data, at {ka.site}"
        if [s.index for s in ka.outputs + ka.writes] != [s.index for s in kb.outputs + kb.writes]:
            return f"the step uses memory differently on other data, at {ka.site}"
        if ka.kind == "guard" and _value_mark(ka.expected) != _value_mark(kb.expected):
            return f"a value the step reads ({_function_name(ka.function)}) changes with the " \
                   f"data, at {ka.site}"
    if len(ra.kernels) != len(rb.kernels):
        return "the step records a different number of operations on other data"
    if [s.key for s in ra.slots] != [s.key for s in rb.slots] or \
            [(x.kind, x.shape, x.dtype.str) for x in ra.blocks] != \
            [(x.kind, x.shape, x.dtype.str) for x in rb.blocks]:
        return "the step lays out its arrays differently on other data"
    if not _same_template(a.outputs, b.outputs):
        return "what the step returns depends on the data in a way the recorder cannot follow"
    return None


def _same_template(x: Any, y: Any) -> bool:
    if type(x) is not type(y):
        return False
    if type(x) is _Ref:
        return x.slot.index == y.slot.index
    if type(x) is _Const:
        return _value_mark(x.value) == _value_mark(y.value) and \
            x.value.strides == y.value.strides
    if type(x) in (tuple, list):
        return len(x) == len(y) and all(_same_template(i, j) for i, j in zip(x, y))
    if type(x) is dict:
        return x.keys() == y.keys() and all(_same_template(x[k], y[k]) for k in x)
    if isinstance(x, (Tensor, Function)):
        return True  # output tensors' nodes: compared through their slots
    if isinstance(x, np.ndarray):
        return _value_mark(x) == _value_mark(y)
    try:
        return bool(_value_mark(x) == _value_mark(y)) if not isinstance(x, type) else x is y
    except Exception:  # noqa: BLE001 - objects without a usable ==
        return x is y


def _function_name(function: Any) -> str:
    if isinstance(function, str):
        return function
    owner = getattr(function, "__self__", None)
    name = getattr(function, "__name__", type(function).__name__)
    if isinstance(owner, np.ufunc):
        return f"{owner.__name__}.{name}"
    return name


