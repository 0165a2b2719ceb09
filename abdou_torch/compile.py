"""``abdou_torch.compile``: run a step once while recording its NumPy calls, then replay them.

    step = abdou_torch.compile(train_step)      # or @abdou_torch.compile, or compile(model)
    loss = step(x, y)                           # first call: capture; later calls: replay

A training step in this library is, underneath, a few dozen NumPy calls (matrix products,
elementwise passes, reductions); everything else is Python bookkeeping: Tensor objects,
graph nodes, the backward walk, argument checks. ``compile`` removes the bookkeeping.

**Capture.** The first call runs ``fn`` eagerly, with the arrays it works on replaced by
*traced* arrays (``_Traced``, an ndarray subclass). Every NumPy call on traced data, whether
made by the forward, the backward walk or ``fn`` itself, is recorded as a *kernel*: the
function, its arguments (traced arrays become *slots*; anything else is a *constant*) and
its output slots. Traced data enters through

- ``fn``'s arguments (Tensors and arrays: their values change from call to call), and
- every Tensor that existed before the call and whose ``.data`` the step reads:
  parameters, buffers, gradients, masks (their memory stays: they are *state*).

Plain arrays made inside the step (``np.zeros``, the workspace's buffers) take part as
scratch memory when a kernel writes into them. Three things are recorded as calls instead
of being traced into, so that what they read in Python is read again at each replay:
``optimizer.step()`` and ``optimizer.zero_grad()`` (learning rates, step counts, bias
corrections are Python numbers that change between steps), a learning-rate scheduler's
``step()``, and each draw from the library's random generators (dropout masks are drawn
again, from the same stream, so the random sequence is the one eager would draw). The
gradients the backward produces are put in ``p.grad`` before a recorded ``optimizer.step()``
runs, exactly as in eager.

**Replay.** The kernels become one straight-line Python function (``step.code`` shows it):
the same NumPy calls in the same order, with no Tensor, graph node or walk. Kernels that
can write into a preallocated buffer get ``out=``; buffers whose lifetimes do not overlap
share memory (a greedy assignment over the schedule), views of fixed memory (``W.T``) are
made once, and calls whose results nothing uses are dropped. Results come back as Tensors.

**Checks: results are eager's, bit for bit, or the step runs eagerly.** A recorded
constant might secretly depend on the data (an array that left the tracer through
``np.asarray`` and was computed on), so the first call captures twice: on the real inputs
and on perturbed ones (floats moved by noise, integers rolled along each axis), with the
model's state saved and put back in between. A constant that differs between the two runs
means ``fn`` cannot be replayed. Then the schedule replays the real call once from the
saved state, and its outputs and every array and state it touched must equal eager's bit
for bit. If a check fails, or ``fn`` does something the recorder cannot replay, ``fn``
runs eagerly from then on, with a one-time warning that says why:

- a Python value read from computed data (``.item()``, ``float()``, ``bool()``,
  ``.tolist()``) that decides what happens next; a value computed from the arguments alone
  (a check that the targets are valid class indices) becomes a *guard*, tested before the
  replay touches anything: if it differs, that call runs eagerly;
- random numbers from ``numpy.random`` or Python's ``random`` (not from abdou_torch's own
  generators), tensor hooks, module hooks, ``optimizer.step(closure)``;
- a returned tensor whose graph is still needed (``loss.backward()`` called outside ``fn``:
  compile the whole step instead), an argument that is part of a graph;
- a NumPy operation on traced data that the recorder did not see (a copy made in C).

**Guards.** Each schedule holds for the shapes, dtypes, strides and ``requires_grad`` of the
arguments, the Python scalars among them, grad mode, the ``training`` flag of every module
that ran, the parameters' and buffers' shapes and dtypes, which gradients existed, the
optimizers' parameter groups, and the Python numbers ``fn`` reads from its globals and
closure. A call that fails a guard captures again (up to 8 schedules per function, least
recently used first out; beyond that calls run eagerly, with a warning unless
``dynamic=True``). Shapes are never symbolic here: ``dynamic=True`` only silences that
warning.

**What is not replayed.** Python side effects inside ``fn`` other than the recorded calls
(printing, appending to a list, counters in attributes) happen during the capture only;
Python values ``fn`` reads from attributes (``self.scale``) are constants of the schedule.
Write ``fn`` as a function of its arguments and of the model and optimizer state, and
return tensors (call ``.item()`` outside). Version counters of tensors written in place are
not advanced by a replay.
"""
from __future__ import annotations

import bisect
import collections
import gc
import hashlib
import math
import operator
import os
import random as _python_random
import sys
import threading
import warnings
from typing import Any, Callable

import numpy as np

from . import compiler
from .autograd import hooks as _tensor_hooks
from .autograd.function import Function
from .autograd.grad_mode import GradMode
from .nn.module import Module
from .optim.lr_scheduler import LRScheduler
from .ops.workspace import Workspace
from .optim.optimizer import Optimizer
from .random import Generator
from .tensor import Tensor

__all__ = ["compile", "CompiledFunction", "OptimizedModule"]

#: how many schedules one compiled function keeps (PyTorch's ``cache_size_limit``)
CACHE_SIZE = 8


class NotReplayable(Exception):
    """Raised inside the library's checks when a step cannot be replayed (with the reason)."""


# =============================================================================================
# The recorder: traced arrays, slots, kernels
# =============================================================================================

_RECORDER: "_Recorder | None" = None


def _active() -> "_Recorder | None":
    """The recorder of a capture running in this thread, unless paused (inside a recorded
    call such as ``optimizer.step()``)."""
    recorder = _RECORDER
    if recorder is None or recorder.paused or recorder.thread != threading.get_ident():
        return None
    return recorder


def _plain(value: Any) -> Any:
    """``value`` with every traced array replaced by a plain view of the same memory."""
    if isinstance(value, np.ndarray):
        return np.ndarray.view(value, np.ndarray) if type(value) is _Traced else value
    if type(value) is tuple or type(value) is list:
        return type(value)(_plain(item) for item in value)
    if type(value) is dict:
        return {key: _plain(item) for key, item in value.items()}
    return value


def _call(function: Callable, args: tuple, kwargs: dict, writes: tuple = ()) -> Any:
    """Run ``function`` on plain arrays; while capturing, record it as a kernel."""
    recorder = _active()
    if recorder is None:
        return function(*_plain(args), **_plain(kwargs))
    return recorder.call(function, args, kwargs, writes)


def _record_kernel(function: Callable, args: tuple, kwargs: dict) -> Any:
    """A ``compiler.kernel`` called during a capture: one recorded call."""
    return _call(function, args, kwargs, _written_by(function, args, kwargs))


def _read(array: np.ndarray, convert: Callable, *args: Any) -> Any:
    """A Python value read from traced data (``bool(x)``, ``x.item()``): while capturing,
    a guard of the schedule."""
    recorder = _active()
    if recorder is None:
        return convert(np.ndarray.view(array, np.ndarray), *args)
    recorder.paused += 1
    try:
        value = convert(np.ndarray.view(array, np.ndarray), *args)
        recorder.guard(convert, (array,) + args, value)
    finally:
        recorder.paused -= 1
    return value


class _Traced(np.ndarray):
    """An ndarray whose NumPy operations are recorded while a capture runs (and that
    behaves as a plain ndarray otherwise). ``_slot`` is its slot in the recording."""

    __slots__ = ("_slot",)

    def __array_finalize__(self, obj: Any) -> None:
        self._slot = None

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any):
        writes = tuple(o for o in kwargs.get("out", ()) if o is not None)
        if method == "at":
            writes += (inputs[0],)
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        return _call(function, inputs, kwargs, writes)

    def __array_function__(self, func: Callable, types: tuple, args: tuple, kwargs: dict):
        return _call(func, args, kwargs, _written_by(func, args, kwargs))

    # -- Python values read from the data: guards ------------------------------------------
    def __bool__(self) -> bool:
        return _read(self, bool)

    def __float__(self) -> float:
        return _read(self, float)

    def __int__(self) -> int:
        return _read(self, int)

    def __index__(self) -> int:
        return _read(self, operator.index)

    def __complex__(self) -> complex:
        return _read(self, complex)

    def item(self, *args: Any) -> Any:
        return _read(self, np.ndarray.item, *args)

    def tolist(self) -> Any:
        return _read(self, np.ndarray.tolist)

    # -- indexing and the methods that neither ufuncs nor array functions see ---------------
    def __getitem__(self, key: Any) -> Any:
        return _call(operator.getitem, (self, key), {})

    def __setitem__(self, key: Any, value: Any) -> None:
        _call(operator.setitem, (self, key, value), {}, (self,))

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    @property
    def T(self) -> Any:  # noqa: N802 - NumPy's name
        return _call(np.transpose, (self,), {})

    def __copy__(self) -> Any:
        return _call(np.ndarray.copy, (self,), {})

    def __deepcopy__(self, memo: Any) -> Any:
        return _call(np.ndarray.copy, (self,), {})

    def __repr__(self) -> str:
        return repr(np.ndarray.view(self, np.ndarray))

    def __str__(self) -> str:
        return str(np.ndarray.view(self, np.ndarray))

    def __reduce__(self):
        return np.ndarray.view(self, np.ndarray).__reduce__()


def _recorded_method(name: str, writes_self: bool = False) -> Callable:
    original = getattr(np.ndarray, name)

    def method(self, *args: Any, **kwargs: Any) -> Any:
        return _call(original, (self,) + args, kwargs, (self,) if writes_self else ())
    method.__name__ = name
    return method


for _name in ("reshape", "transpose", "swapaxes", "ravel", "flatten", "squeeze", "astype",
              "copy", "view", "argmax", "argmin", "argsort", "nonzero", "take", "repeat",
              "dot", "cumsum", "cumprod", "diagonal", "conj", "searchsorted", "compress",
              "choose", "trace", "argpartition"):
    setattr(_Traced, _name, _recorded_method(_name))
for _name in ("fill", "sort", "put", "partition"):
    setattr(_Traced, _name, _recorded_method(_name, writes_self=True))

#: NumPy functions that write into their first argument
_WRITES_FIRST = {np.copyto, np.put, np.putmask, np.place, np.fill_diagonal, np.put_along_axis}
#: NumPy functions whose result depends on shapes only, never on values
_METADATA = {np.shape, np.ndim, np.size, np.result_type, np.can_cast, np.shares_memory,
             np.may_share_memory, np.iscomplexobj, np.isrealobj, np.min_scalar_type}


def _written_by(func: Callable, args: tuple, kwargs: dict) -> tuple:
    writes = ()
    out = kwargs.get("out")
    if isinstance(out, np.ndarray):
        writes = (out,)
    elif isinstance(out, tuple):
        writes = tuple(o for o in out if isinstance(o, np.ndarray))
    if func in _WRITES_FIRST and args:
        writes += (args[0],)
    return writes


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def _bounds(array: np.ndarray) -> tuple[int, int]:
    """The bytes ``array`` spans: [low, high)."""
    low = high = _address(array)
    for size, stride in zip(array.shape, array.strides):
        if stride < 0:
            low += (size - 1) * stride
        else:
            high += (size - 1) * stride
    return low, high + array.itemsize


def _owner(array: np.ndarray) -> np.ndarray:
    """The ndarray that owns the memory ``array`` views."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class _Memory:
    """A view of raw memory, for ``np.asarray`` (``_view_at``): it keeps ``base`` alive."""

    def __init__(self, base: Any, address: int, shape: tuple, strides: tuple,
                 dtype: np.dtype) -> None:
        self.base = base
        self.__array_interface__ = {"data": (address, False), "shape": shape,
                                    "strides": strides, "typestr": dtype.str,
                                    "descr": dtype.descr, "version": 3}


def _view_at(base: np.ndarray, offset: int, shape: tuple, strides: tuple,
             dtype: np.dtype) -> np.ndarray:
    """The array of ``shape``, ``strides`` and ``dtype`` starting ``offset`` bytes after the
    start of ``base``'s data (a view: it writes through to ``base``)."""
    return np.asarray(_Memory(base, _address(base) + offset, tuple(shape), tuple(strides),
                              np.dtype(dtype)))


def _same_layout_copy(array: np.ndarray) -> np.ndarray:
    """A copy of ``array`` with the same strides where NumPy can keep them (contiguous in
    some axis order, or broadcast along some axes)."""
    if 0 in array.strides and array.size:
        compact = array[tuple(slice(0, 1) if s == 0 else slice(None) for s in array.strides)]
        return np.broadcast_to(compact.copy(order="K"), array.shape)
    if array.flags.c_contiguous or array.flags.f_contiguous or not array.size:
        return array.copy(order="K")
    # a strided view (x[:, :-1]): the same strides over memory of the same span
    low, high = _bounds(array)
    memory = np.empty(high - low + 64, np.uint8)
    start = (-_address(memory)) % 64
    copy = _view_at(memory, start + _address(array) - low, array.shape, array.strides,
                    array.dtype)
    copy[...] = array
    return copy


class _Block:
    """Memory the step works on: an argument's array ('arg'), a pre-existing tensor's
    ('state'; 'grad' for a gradient that existed before the call), an array a kernel made
    ('fresh'), or scratch memory a kernel wrote into ('buffer')."""

    __slots__ = ("index", "kind", "low", "high", "array", "base", "tensor", "path", "init",
                 "producer", "shape", "strides", "dtype")

    def __init__(self, index: int, kind: str, array: np.ndarray) -> None:
        self.index, self.kind, self.array = index, kind, array
        # kept after ``array`` is let go (the schedule built, or the check compared)
        self.shape, self.strides, self.dtype = array.shape, array.strides, array.dtype
        self.low, self.high = _bounds(array) if array.size else (_address(array),) * 2
        self.base = _address(array)
        self.tensor = None  # the tensor whose data (or grad's data) this is
        self.path = None    # for 'arg': where in the arguments
        self.init = None    # for 'buffer': its contents before the first write
        self.producer = None  # for 'fresh': the kernel that made it


class _Slot:
    """An array the kernels use: a view of a block (``offset`` bytes from its base)."""

    __slots__ = ("index", "block", "offset", "shape", "strides", "dtype", "producer")

    def __init__(self, index: int, block: _Block, offset: int, array: np.ndarray,
                 producer: "_Kernel | None") -> None:
        self.index, self.block, self.offset = index, block, offset
        self.shape, self.strides, self.dtype = array.shape, array.strides, array.dtype
        self.producer = producer

    @property
    def key(self) -> tuple:
        return (self.block.index, self.offset, self.shape, self.strides, self.dtype.str)

    def is_root(self) -> bool:
        """Whether this slot is the whole block, laid out as the block was made."""
        block = self.block
        return self.offset == 0 and self.shape == block.shape and \
            self.strides == block.strides and self.dtype == block.dtype


class _Ref:
    """A slot in a kernel's arguments."""

    __slots__ = ("slot",)

    def __init__(self, slot: _Slot) -> None:
        self.slot = slot

    def __repr__(self) -> str:
        return f"s{self.slot.index}"


class _Const:
    """An array constant in a kernel's arguments (a private copy made at capture)."""

    __slots__ = ("index", "value")

    def __init__(self, index: int, value: np.ndarray) -> None:
        self.index, self.value = index, value


class _Kernel:
    """One recorded event of the step, in order. ``kind`` is

    - 'call': ``function(*args, **kwargs)``, outputs ``outputs`` (slots), writes ``writes``;
    - 'guard': the same, whose Python result must equal ``expected``;
    - 'draw': a draw from a library generator (``target`` the generator, ``function`` the
      name of the method, on ``target.numpy`` when ``numpy_api``);
    - 'method': a recorded call ``target.function(*args, **kwargs)`` (optimizer.step ...);
    - 'bind': ``target.<function> = value`` (``args[0]``: a slot, None, or a tensor made
      from a slot with ``kwargs['requires_grad']``).
    """

    __slots__ = ("index", "kind", "function", "args", "kwargs", "outputs", "writes",
                 "target", "expected", "errstate", "site", "numpy_api", "tuple_result")

    def __init__(self, kind: str, function: Any, args: Any = (), kwargs: Any = None) -> None:
        self.kind, self.function, self.args = kind, function, args
        self.kwargs = {} if kwargs is None else kwargs
        self.outputs: list[_Slot] = []
        self.writes: list[_Slot] = []
        self.target = self.expected = self.errstate = None
        self.site = ""
        self.numpy_api = False
        self.tuple_result = False
        self.index = -1

    def refs(self) -> list[_Slot]:
        """The slots in the arguments (reads, and writes through ``out=`` / setitem)."""
        found: list[_Slot] = []
        _collect_refs(self.args, found)
        _collect_refs(self.kwargs, found)
        return found


def _collect_refs(value: Any, found: list) -> None:
    if type(value) is _Ref:
        found.append(value.slot)
    elif type(value) in (tuple, list):
        for item in value:
            _collect_refs(item, found)
    elif type(value) is dict:
        for item in value.values():
            _collect_refs(item, found)


def _site() -> str:
    """Where in the library or the user's code the current NumPy call was made."""
    frame = sys._getframe(2)
    while frame.f_code.co_filename == "<string>":
        frame = frame.f_back
    here = os.path.dirname(np.__file__)
    while frame is not None and (frame.f_code.co_filename == __file__ or
                                 frame.f_code.co_filename.startswith(here)):
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{_short(frame.f_code.co_filename)}:{frame.f_lineno} ({frame.f_code.co_name})"


def _short(filename: str) -> str:
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.relpath(filename, package) if filename.startswith(package) else filename


class _Recorder:
    """Records one eager run of the step (see the module docstring)."""

    def __init__(self, preexisting: list[Tensor]) -> None:
        self.thread = threading.get_ident()
        self.paused = 0
        # the tensors made before the call, and their gradients and arrays at its start
        self.preexisting = {id(t): t for t in preexisting}
        self.start = {id(t): (t._grad, t._data) for t in preexisting}
        self.grad_owners = {id(t._grad): t for t in preexisting if t._grad is not None}
        self.blocks: list[_Block] = []
        self.lows: list[int] = []           # block lows, sorted, for finding memory
        self.by_low: list[_Block] = []
        self.slots: list[_Slot] = []
        self.slot_keys: dict[tuple, _Slot] = {}
        self.kernels: list[_Kernel] = []
        self.constants: list[np.ndarray] = []
        self.keep: list[Any] = []           # everything seen, alive until the capture ends
        self.swapped: list[tuple[Tensor, np.ndarray, _Traced]] = []
        self.state_tensors: dict[int, Tensor] = {}
        self.modules: dict[int, Module] = {}
        self.generators: dict[int, Generator] = {}
        self.failure: str | None = None     # why this step cannot be replayed
        self.transient = False              # ... only this time (capture again next call)
        self.sandbox = _Sandbox()
        self.expected_grads: dict[int, Any] = {}  # tensor id -> grad the replay has there
        self.expected_data: dict[int, np.ndarray] = {}
        self.watched: dict[int, Tensor] = {}    # tensors whose grad and data are synced
        self.start_grads: dict[int, bool] = {}  # tensor id -> had a grad at the start
        # tensor id -> whether the schedule depends on whether it had a grad at the start
        self.grad_relevant: dict[int, bool] = {}
        self.traced_of: dict[int, _Traced] = {}  # tensor id -> the traced view it holds
        self.outer_errstate = np.geterr()

    def save(self, method: Callable, value: Any) -> None:
        """``self.sandbox.method(value)``, untraced (saving runs NumPy code of its own)."""
        self.paused += 1
        try:
            method(value)
        finally:
            self.paused -= 1

    def release(self) -> None:
        """Let go of the arrays the run made (a schedule keeps only its own memory and the
        state's; a check run keeps only what ``_difference`` compares)."""
        for block in self.blocks:
            if block.kind != "state":
                block.array = None
        self.keep.clear()
        self.swapped.clear()
        self.traced_of.clear()

    # -- failures ---------------------------------------------------------------------------
    def fail(self, reason: str, transient: bool = False) -> None:
        if self.failure is None:
            self.failure, self.transient = reason, transient

    # -- memory -----------------------------------------------------------------------------
    def new_block(self, kind: str, array: np.ndarray) -> _Block:
        block = _Block(len(self.blocks), kind, array)
        self.blocks.append(block)
        self.keep.append(array)
        position = bisect.bisect_right(self.lows, block.low)
        self.lows.insert(position, block.low)
        self.by_low.insert(position, block)
        return block

    def find_block(self, array: np.ndarray) -> _Block | None:
        low, high = _bounds(array)
        position = bisect.bisect_right(self.lows, low)
        for block in reversed(self.by_low[max(0, position - 16):position]):
            if block.low <= low and high <= block.high and block.high > block.low:
                return block
        return None

    def slot(self, block: _Block, array: np.ndarray, producer: "_Kernel | None") -> _Slot:
        offset = _address(array) - block.base
        key = (block.index, offset, array.shape, array.strides, array.dtype.str)
        slot = self.slot_keys.get(key)
        if slot is None:
            slot = _Slot(len(self.slots), block, offset, array, producer)
            self.slots.append(slot)
            self.slot_keys[key] = slot
        return slot

    def traced(self, array: np.ndarray, slot: _Slot) -> _Traced:
        view = np.ndarray.view(array, _Traced)
        view._slot = slot
        self.keep.append(view)
        return view

    def adopt(self, tensor: Tensor, kind: str, array: np.ndarray | None = None) -> _Traced:
        """Make ``tensor``'s values a source of the recording ('arg', 'state' or 'grad'):
        its data becomes a traced view (of ``array``, a perturbed copy, if given)."""
        original = tensor._data
        source = original if array is None else array
        block = self.new_block(kind, source)
        block.tensor = tensor
        traced = self.traced(source, self.slot(block, source, None))
        tensor._data = traced
        self.swapped.append((tensor, original, traced))
        self.traced_of[id(tensor)] = traced
        return traced

    def adopt_state(self, tensor: Tensor) -> np.ndarray:
        """A pre-existing tensor's data was read: it joins the recording as state."""
        if id(tensor) in self.state_tensors:
            return tensor._data
        self.save(self.sandbox.tensor, tensor)
        owner = self.grad_owners.get(id(tensor))
        if tensor._ctx is not None:
            self.fail(f"the step reads a tensor of shape {tuple(tensor.shape)} that is part of "
                      f"an earlier graph (detach it): {_site()}")
        self.state_tensors[id(tensor)] = tensor
        if tensor._data.size and self.find_block(tensor._data) is not None:
            # a view of memory already in the recording (a tensor and its view both read)
            block = self.find_block(tensor._data)
            slot = self.slot(block, tensor._data, None)
            traced = self.traced(tensor._data, slot)
            self.swapped.append((tensor, tensor._data, traced))
            tensor._data = traced
            self.traced_of[id(tensor)] = traced
            self.watch(tensor)
            return traced
        traced = self.adopt(tensor, "grad" if owner is not None else "state")
        if owner is not None:
            self.blocks[-1].tensor = owner  # fetched at replay as owner.grad's data
            self.watch(owner)
            self.grad_relevant[id(owner)] = True
        self.watch(tensor)
        return traced

    def retrace(self, tensor: Tensor, data: np.ndarray) -> np.ndarray:
        """A tensor made during the capture holds a plain view of traced memory (an op
        returned ``np.asarray(traced)``): it gets a traced view of it back."""
        block = self.find_block(data) if data.size else None
        if block is None:
            return data
        traced = self.traced(data, self.slot(block, data, None))
        tensor._data = traced
        return traced

    def watch(self, tensor: Tensor) -> None:
        """Follow ``tensor``'s grad and data bindings at each sync point."""
        key = id(tensor)
        if key not in self.watched:
            grad, data = self.start.get(key, (tensor._grad, tensor._data))
            self.watched[key] = tensor
            self.expected_grads[key] = grad
            self.start_grads[key] = grad is not None
            self.expected_data[key] = data

    # -- kernels ----------------------------------------------------------------------------
    def template(self, value: Any, written: set[int]) -> Any:
        """``value`` (arguments) with arrays replaced by slots (``_Ref``) or constants."""
        if isinstance(value, np.ndarray):
            slot = self.resolve(value, id(value) in written)
            return _Ref(slot) if slot is not None else self.constant(value)
        kind = type(value)
        if kind is tuple or kind is list:
            return kind(self.template(item, written) for item in value)
        if kind is dict:
            return {key: self.template(item, written) for key, item in value.items()}
        if isinstance(value, Tensor):
            self.fail(f"a Tensor was passed to a NumPy function: {_site()}")
        return value

    def constant(self, array: np.ndarray) -> _Const:
        copy = _same_layout_copy(_plain(array))
        self.constants.append(copy)
        self.keep.append(array)
        return _Const(len(self.constants) - 1, copy)

    def resolve(self, array: np.ndarray, write: bool) -> _Slot | None:
        """The slot of an array argument; None for a constant."""
        if type(array) is _Traced and array._slot is not None:
            slot = array._slot
            if slot.index < len(self.slots) and self.slots[slot.index] is slot:
                return slot
            # a traced array an earlier capture left behind (a module-level cache): plain
        if array.size == 0 and not write:
            return None
        block = self.find_block(array) if array.size else None
        if block is not None:
            return self.slot(block, array, None)
        if type(array) is _Traced and array._slot is None:
            self.fail(f"a NumPy operation the recorder did not see made a copy of traced "
                      f"values: {_site()}")
            return None
        if not write:
            return None
        owner = _plain(_owner(array))
        init = owner.copy(order="K")
        block = self.new_block("buffer", owner)
        block.init = init
        return self.slot(block, array, None)

    def call(self, function: Callable, args: tuple, kwargs: dict, writes: tuple) -> Any:
        """Record and run one NumPy call. Recording pauses meanwhile: whatever NumPy or this
        bookkeeping does inside is part of this one kernel."""
        self.paused += 1
        try:
            return self._call(function, args, kwargs, writes)
        finally:
            self.paused -= 1

    def _call(self, function: Callable, args: tuple, kwargs: dict, writes: tuple) -> Any:
        written = {id(w) for w in writes}
        kernel = _Kernel("call", function)
        kernel.args = self.template(args, written)
        kernel.kwargs = self.template(kwargs, written)
        kernel.writes = [self.resolve(w, True) for w in writes if isinstance(w, np.ndarray)]
        kernel.site = _site() if self.failure is None else ""
        errstate = np.geterr()
        if errstate != self.outer_errstate:
            kernel.errstate = errstate
        plain_args, plain_kwargs = _plain(args), _plain(kwargs)
        plain_out = plain_kwargs.get("out")
        result = function(*plain_args, **plain_kwargs)
        self.add(kernel)
        if type(result) is tuple and type(plain_out) is tuple and \
                all(r is o for r, o in zip(result, plain_out)):
            return kwargs["out"]
        if type(plain_out) is tuple and len(plain_out) == 1 and result is plain_out[0]:
            return kwargs["out"][0]
        if isinstance(plain_out, np.ndarray) and result is plain_out:
            return kwargs["out"]
        return self.outputs(kernel, function, result)

    def add(self, kernel: _Kernel) -> None:
        kernel.index = len(self.kernels)
        self.kernels.append(kernel)

    def outputs(self, kernel: _Kernel, function: Any, result: Any) -> Any:
        if isinstance(result, np.ndarray) or isinstance(result, np.generic):
            return self.output(kernel, result)
        if type(result) in (tuple, list) and result and \
                all(isinstance(r, (np.ndarray, np.generic)) for r in result):
            kernel.tuple_result = True
            return type(result)(self.output(kernel, r) for r in result)
        if result is None or function in _METADATA:
            return result
        if isinstance(result, (bool, int, float, complex)):
            kernel.kind, kernel.expected = "guard", result
            return result
        self.fail(f"np.{getattr(function, '__name__', function)} returned "
                  f"{type(result).__name__}, which the recorder cannot follow: {kernel.site}")
        return result

    def output(self, kernel: _Kernel, value: Any) -> _Traced:
        if isinstance(value, np.generic):
            value = np.asarray(value)
        block = self.find_block(value) if value.size else None
        if block is None:
            block = self.new_block("fresh", value)
            block.producer = kernel
        slot = self.slot(block, value, kernel)
        if slot.producer is None:
            slot.producer = kernel
        kernel.outputs.append(slot)
        return self.traced(value, slot)

    def guard(self, convert: Callable, args: tuple, value: Any) -> None:
        kernel = _Kernel("guard", convert, self.template(args, set()))
        kernel.expected = value
        kernel.site = _site()
        self.add(kernel)

    # -- recorded calls ---------------------------------------------------------------------
    def draw(self, generator: Generator, name: str, numpy_api: bool, args: tuple,
             kwargs: dict, result: np.ndarray) -> _Traced:
        """A draw from a library generator (already made): recorded, its result traced."""
        if id(generator) not in self.generators:
            self.generators[id(generator)] = generator
        kernel = _Kernel("draw", name, self.template(args, set()),
                         self.template(kwargs, set()))
        kernel.target, kernel.numpy_api = generator, numpy_api
        kernel.site = _site()
        self.add(kernel)
        return self.output(kernel, result)

    def method(self, target: Any, name: str, function: Callable, args: tuple,
               kwargs: dict) -> Any:
        """A call recorded as a call (``optimizer.step()``), run for real, untraced."""
        if callable(args[0] if args else None) or callable(kwargs.get("closure")):
            self.fail(f"{type(target).__name__}.{name}(closure) re-evaluates the model inside "
                      f"the recorded call")
        self.save(self.sandbox.object, target)
        self.sync()
        if isinstance(target, Optimizer):
            for group in target.param_groups:
                for param in group["params"]:
                    self.save(self.sandbox.tensor, param)
                    self.watch(param)
                    # zero_grad() makes the gradients the same whatever they were; step()
                    # reads them
                    self.grad_relevant.setdefault(id(param), name != "zero_grad")
        kernel = _Kernel("method", name, self.template(args, set()),
                         self.template(kwargs, set()))
        kernel.target = target
        kernel.site = _site()
        self.add(kernel)
        self.unswap()
        self.paused += 1
        try:
            result = function(target, *args, **kwargs)
        finally:
            self.paused -= 1
            self.reswap(f"{type(target).__name__}.{name}()")
        for key, tensor in self.watched.items():
            self.expected_grads[key] = tensor._grad
            self.expected_data[key] = tensor._data
        if result is not None:
            self.fail(f"{type(target).__name__}.{name}() returned a value")
        return result

    def unswap(self) -> None:
        for tensor, original, traced in self.swapped:
            if tensor._data is traced:
                tensor._data = original

    def reswap(self, what: str) -> None:
        for tensor, original, traced in self.swapped:
            if tensor._data is original:
                tensor._data = traced
            elif tensor._data is not traced:
                self.fail(f"{what} replaced a tensor's array during the capture",
                          transient=True)

    # -- sync points: which tensors hold which gradients and arrays ---------------------------
    def sync(self) -> None:
        """Record the grad and data bindings the step made since the last sync point."""
        for key, tensor in list(self.watched.items()):
            grad = tensor._grad
            if grad is not self.expected_grads[key]:
                self.bind_grad(tensor, grad)
                self.expected_grads[key] = grad
                self.grad_relevant.setdefault(key, True)
            data = tensor._data
            if data is not self.expected_data[key] and data is not self.traced_of.get(key):
                self.bind(tensor, "_data", data)
                self.expected_data[key] = data

    def bind_grad(self, tensor: Tensor, grad: Tensor | None) -> None:
        if grad is None:
            kernel = _Kernel("bind", "_grad", (None,))
        else:
            if grad._ctx is not None:
                self.fail("a gradient with a graph of its own (create_graph=True)")
            value = self.template(grad._data, set())
            kernel = _Kernel("bind", "_grad", (value,), {"requires_grad": grad._requires_grad})
        kernel.target = tensor
        self.add(kernel)

    def bind(self, tensor: Tensor, name: str, value: np.ndarray) -> None:
        kernel = _Kernel("bind", name, (self.template(value, set()),))
        kernel.target = tensor
        self.add(kernel)


# =============================================================================================
# Saving and restoring what a capture changes (the sandbox), and comparing states
# =============================================================================================

_TENSOR_FIELDS = tuple(name for name in Tensor.__slots__ if name != "__weakref__")


class _Sandbox:
    """What a capture may change, saved at first touch, so it can be put back: tensors
    (bindings and values), optimizers and schedulers (their whole state), modules (their
    attributes), generators (their streams)."""

    def __init__(self) -> None:
        self.saved: list[tuple[str, Any, Any]] = []
        self.seen: set[int] = set()
        self.holds: list[Any] = []

    def _first(self, value: Any) -> bool:
        if id(value) in self.seen:
            return False
        self.seen.add(id(value))
        self.holds.append(value)
        return True

    def tensor(self, tensor: Tensor) -> None:
        if not self._first(tensor):
            return
        fields = tuple(getattr(tensor, name) for name in _TENSOR_FIELDS)
        values = _plain(tensor._data).copy(order="K") if tensor._data.flags.writeable else None
        self.saved.append(("tensor", tensor, (fields, tensor._version_counter[0], values)))
        if tensor._grad is not None:
            self.tensor(tensor._grad)

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
        digest = hashlib.blake2b(array.view(np.uint8).reshape(-1) if array.size else b"",
                                 digest_size=20).digest()
        return (array.shape, array.dtype.str, digest)
    if isinstance(value, (int, float, bool, str, type(None))):
        return value if not (isinstance(value, float) and math.isnan(value)) else "nan"
    if isinstance(value, (tuple, list)):
        return tuple(_value_mark(item) for item in value)
    return type(value).__name__


# =============================================================================================
# Capture: the observers a capture installs, and one traced run of the step
# =============================================================================================

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
    def numpy(generator: Generator) -> Any:
        value = original.fget(generator)
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
    allocate.__wrapped__ = original
    return allocate


def _converted(array: _Traced, dtype: Any, order: str | None, copy: bool | None) -> Any:
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
    global _RECORDER
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
            recorder.sandbox.tensor(leaf)
            recorder.adopt(leaf, "arg", source)
            recorder.watch(leaf)
            traced_leaves.append(leaf)
        else:
            block = recorder.new_block("arg", source)
            traced_leaves.append(recorder.traced(source, recorder.slot(block, source, None)))
        recorder.blocks[-1].path = position
    traced_args, traced_kwargs = _unflatten(structure, (args, kwargs), traced_leaves, [0])
    randomness = (np.random.get_state(), _python_random.getstate())
    _RECORDER = recorder
    compiler._capturing += 1
    try:
        with _Observers():
            capture.result = fn(*traced_args, **traced_kwargs)
    except BaseException as error:  # noqa: B902 - eager semantics: re-raised by the caller
        capture.error = error
    finally:
        _RECORDER = None
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
                          "backward() inside the compiled function)")
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


# =============================================================================================
# Comparing two captures (the perturbation check)
# =============================================================================================

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


# =============================================================================================
# The replayer: from the recording to one straight-line function
# =============================================================================================

_FAILED = object()  # a guard of the schedule failed: this call runs eagerly

#: NumPy functions (besides ufuncs) that take ``out=`` and compute the same values with it
_TAKES_OUT = {np.sum, np.prod, np.max, np.min, np.amax, np.amin, np.mean, np.cumsum,
              np.cumprod, np.dot, np.einsum, np.concatenate, np.take, np.clip, np.any, np.all,
              np.argmax, np.argmin, np.ndarray.dot, np.ndarray.argmax, np.ndarray.argmin,
              np.ndarray.cumsum, np.ndarray.cumprod, np.ndarray.take}
_UFUNC_METHODS_WITH_OUT = ("reduce", "accumulate", "reduceat", "outer")


def _takes_out(function: Any) -> bool:
    if isinstance(function, np.ufunc) or function in _TAKES_OUT or \
            getattr(function, "__name__", None) in _FILLS and \
            getattr(np, function.__name__, None) is function:
        return True
    owner = getattr(function, "__self__", None)
    return isinstance(owner, np.ufunc) and function.__name__ in _UFUNC_METHODS_WITH_OUT


def _same_value(value: Any, expected: Any) -> bool:
    """``value == expected`` for a guard (nan equals nan)."""
    if value == expected:
        return True
    return isinstance(value, float) and isinstance(expected, float) and \
        math.isnan(value) and math.isnan(expected)


def _cone(kernels: list[_Kernel], position: int) -> set[int] | None:
    """The kernels (indices into ``kernels``) that compute what the guard at ``position``
    reads, if they can all move to the start of the schedule: they only compute (no draw,
    no recorded call), read only the arguments and what they compute themselves, and
    nothing before the guard touches what they write. None otherwise."""
    guard = kernels[position]
    needed = {slot.block.index for slot in guard.refs()}
    kinds = {slot.block.index: slot.block.kind for slot in guard.refs()}
    cone = {position}
    for index in range(position - 1, -1, -1):
        kernel = kernels[index]
        touched = {slot.block.index for slot in kernel.outputs + kernel.writes}
        if touched & needed:
            if kernel.kind != "call":
                return None
            cone.add(index)
            for slot in kernel.refs():
                needed.add(slot.block.index)
                kinds[slot.block.index] = slot.block.kind
    if any(kind in ("state", "grad") for kind in kinds.values()):
        return None
    # moving a cone kernel before an earlier kernel that shares memory with it, one of the
    # two writing it, would change what one of them sees
    for later in sorted(cone):
        kernel = kernels[later]
        writes = {s.block.index for s in kernel.outputs + kernel.writes}
        touches = writes | {s.block.index for s in kernel.refs()}
        for index in range(later):
            if index in cone:
                continue
            other = kernels[index]
            other_writes = {s.block.index for s in other.outputs + other.writes}
            if writes & {s.block.index for s in other.refs()} or other_writes & touches:
                return None
    return cone


def _hoist_guards(kernels: list[_Kernel]) -> list[_Kernel]:
    """Guards (with what they need) first, so a failing one leaves nothing changed."""
    front: list[_Kernel] = []
    rest = list(kernels)
    for guard in [k for k in kernels if k.kind == "guard"]:
        position = rest.index(guard)
        cone = _cone(rest, position)
        if cone is None:
            raise NotReplayable(f"{_function_name(guard.function)}() reads a computed value "
                                f"that decides what the step does next, at {guard.site}")
        front.extend(rest[i] for i in sorted(cone))
        rest = [k for i, k in enumerate(rest) if i not in cone]
    return front + rest


def _output_refs(template: Any, found: list) -> None:
    if type(template) is _Ref:
        found.append(template.slot)
    elif type(template) is tuple and template and template[0] in ("tensor", "array"):
        _output_refs(template[1], found)
    elif type(template) is tuple and template and template[0] in (list, tuple, dict):
        for item in template[1]:
            _output_refs(item[1] if template[0] is dict else item, found)


class _Plan:
    """Which kernels run, which memory each block gets, which slots are fixed arrays."""

    def __init__(self, recorder: _Recorder, outputs: Any) -> None:
        kernels = _hoist_guards(recorder.kernels)
        self.output_slots: list[_Slot] = []
        _output_refs(outputs, self.output_slots)
        escaping = {s.block.index for s in self.output_slots}
        for kernel in kernels:
            if kernel.kind == "bind" and type(kernel.args[0]) is _Ref:
                escaping.add(kernel.args[0].slot.block.index)
        self.kernels = self._live(recorder, kernels, escaping)
        self.static_blocks: dict[int, _Block] = {}   # blocks at fixed memory
        self.out_kernels: set[int] = set()            # kernels given out=
        self.aliases = self._elide_copies()           # copy kernel index -> source slot
        unfixed = {slot.block.index for slot in self.aliases.values()}
        for block in recorder.blocks:
            if block.index not in unfixed:
                self._classify(block, escaping)
        self.regions = self._assign_memory()

    def _elide_copies(self) -> dict[int, _Slot]:
        """Copies of a kernel's fresh result that is not used after the copy (a gradient
        the backward hands on to ``p.grad``): the copy is dropped, and the result is made
        in a new array at each replay (no copy pass, no fixed memory for it)."""
        last_use: dict[int, int] = {}
        for position, kernel in enumerate(self.kernels):
            for slot in kernel.refs() + kernel.writes + kernel.outputs:
                last_use[slot.block.index] = position
        aliases = {}
        for position, kernel in enumerate(self.kernels):
            if kernel.kind != "call" or kernel.function is not np.ndarray.copy or \
                    len(kernel.outputs) != 1 or len(kernel.args) != 1 or \
                    type(kernel.args[0]) is not _Ref or kernel.kwargs.get("order", "K") != "K":
                continue
            source, copy = kernel.args[0].slot, kernel.outputs[0]
            block = source.block
            if block.kind == "fresh" and source.is_root() and block.producer is not None and \
                    block.producer.kind == "call" and last_use[block.index] == position and \
                    copy.strides == source.strides and copy.dtype == source.dtype:
                aliases[kernel.index] = source
        return aliases

    def _live(self, recorder: _Recorder, kernels: list[_Kernel], escaping: set[int]) -> list:
        """The kernels that matter: those with effects (writes to arguments or state,
        draws, recorded calls, bindings, guards) and those whose results they use."""
        live_blocks = set(escaping) | {b.index for b in recorder.blocks
                                       if b.kind in ("arg", "state", "grad")}
        used_slots = {s.index for s in self.output_slots}
        keep = []
        for kernel in reversed(kernels):
            if kernel.kind != "call":
                alive = True
            elif kernel.outputs and not kernel.writes and \
                    all(s.block.producer is not kernel for s in kernel.outputs):
                alive = any(s.index in used_slots for s in kernel.outputs)  # a pure view
            else:
                alive = any(s.block.index in live_blocks for s in kernel.outputs + kernel.writes)
            if alive:
                keep.append(kernel)
                for slot in kernel.refs() + kernel.writes:
                    live_blocks.add(slot.block.index)
                    used_slots.add(slot.index)
                for slot in kernel.outputs:
                    used_slots.add(slot.index)
        keep.reverse()
        return keep

    def _classify(self, block: _Block, escaping: set[int]) -> None:
        if block.kind == "state":
            self.static_blocks[block.index] = block
        elif block.kind == "buffer" and block.index not in escaping:
            self.static_blocks[block.index] = block
        elif block.kind == "fresh" and block.index not in escaping:
            producer = block.producer
            dense = block.high - block.low == block.array.nbytes
            if producer is not None and producer in self.kernels and producer.kind == "call" \
                    and _takes_out(producer.function) and dense and \
                    all(s.block.producer is producer and s.is_root() for s in producer.outputs):
                self.static_blocks[block.index] = block
                self.out_kernels.add(producer.index)

    def _assign_memory(self) -> dict[int, tuple[np.ndarray, int]]:
        """Memory for the internal fixed blocks: blocks whose lifetimes (first to last use
        in the schedule) do not overlap share a buffer (greedy, best fit)."""
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for position, kernel in enumerate(self.kernels):
            for slot in kernel.refs() + kernel.writes + kernel.outputs:
                index = slot.block.index
                if index in self.static_blocks and self.static_blocks[index].kind != "state":
                    first.setdefault(index, position)
                    last[index] = position
        free: list[tuple[int, np.ndarray]] = []
        active: list[tuple[int, int, np.ndarray]] = []
        regions: dict[int, tuple[np.ndarray, int]] = {}
        for index in sorted(first, key=first.get):
            start = first[index]
            for entry in [a for a in active if a[0] < start]:
                active.remove(entry)
                free.append((entry[1], entry[2]))
            block = self.static_blocks[index]
            need = max(block.high - block.low, 1)
            fits = [f for f in free if need <= f[0] <= 2 * need + 4096]
            if fits:
                chosen = min(fits, key=lambda f: f[0])
                free.remove(chosen)
                size, memory = chosen
            else:
                size, memory = need, np.empty(need + 64, np.uint8)
            active.append((last[index], size, memory))
            regions[index] = (memory, (-_address(memory)) % 64)
        for index in list(self.static_blocks):
            if index not in regions and self.static_blocks[index].kind != "state":
                del self.static_blocks[index]  # not used by any kernel that runs
        return regions

    def materialize(self, slot: _Slot, state: dict[int, np.ndarray]) -> np.ndarray:
        """The fixed array of a slot of a fixed block."""
        block = slot.block
        if block.kind == "state":
            return _view_at(state[block.index], slot.offset, slot.shape, slot.strides,
                            slot.dtype)
        memory, start = self.regions[block.index]
        return _view_at(memory, start + (block.base - block.low) + slot.offset, slot.shape,
                        slot.strides, slot.dtype)


def _overwrites(kernel: _Kernel, block: _Block) -> bool:
    """Whether ``kernel`` writes every byte of ``block`` whatever was there."""
    if kernel.kind != "call" or not any(s.block is block and s.is_root()
                                        for s in kernel.writes):
        return False
    function = kernel.function
    if isinstance(function, np.ufunc) or function is np.copyto:
        return "where" not in kernel.kwargs
    if function is np.ndarray.fill:
        return True
    if function is operator.setitem:
        key = kernel.args[1]
        parts = key if type(key) is tuple else (key,)
        return all(p is Ellipsis or p == slice(None) for p in parts)
    return False


class _Codegen:
    """Writes the replay function: one line per kernel."""

    def __init__(self, plan: _Plan, recorder: _Recorder) -> None:
        self.plan = plan
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"_view_at": _view_at, "_same": _same_value,
                                          "_FAILED": _FAILED, "_wrap": Tensor._wrap,
                                          "_errstate": np.errstate, "_copy": _same_layout_copy}
        self.names: dict[int, str] = {}
        self.defined: set[int] = set()     # dynamic slots that have a variable
        self.static_slots: dict[str, _Slot] = {}
        self.parameters: list[str] = []
        self.arg_blocks: list[_Block] = []
        self.grad_blocks: list[_Block] = []
        for block in recorder.blocks:
            if block.kind == "arg" and block.path is not None:
                self.arg_blocks.append(block)
            elif block.kind == "grad":
                self.grad_blocks.append(block)
        self.root_slots: dict[int, _Slot] = {}
        for slot in recorder.slots:
            if slot.is_root() and slot.block.index not in self.root_slots:
                self.root_slots[slot.block.index] = slot

    # -- names --------------------------------------------------------------------------------
    def name(self, value: Any, hint: str) -> str:
        key = id(value)
        if key not in self.names:
            base = "".join(c if c.isalnum() or c == "_" else "_" for c in hint) or "c"
            name, count = base, 1
            while name in self.namespace:
                count += 1
                name = f"{base}_{count}"
            self.namespace[name] = value
            self.names[key] = name
        return self.names[key]

    def function(self, function: Any) -> str:
        owner = getattr(function, "__self__", None)
        if isinstance(function, np.ufunc):
            hint = function.__name__
        elif isinstance(owner, np.ufunc):
            hint = f"{owner.__name__}_{function.__name__}"
        elif getattr(function, "__qualname__", "").startswith("ndarray."):
            hint = f"ndarray_{function.__name__}"
        elif function in (operator.getitem, operator.setitem):
            hint = function.__name__
        else:
            hint = f"np_{getattr(function, '__name__', 'f')}"
        return self.name(function, hint)

    def slot(self, slot: _Slot) -> str:
        """The expression for a slot's array (defining a dynamic view on first use)."""
        block = slot.block
        if block.index in self.plan.static_blocks:
            name = f"s{slot.index}"
            self.static_slots[name] = slot
            return name
        if slot.index in self.defined:
            return f"v{slot.index}"
        if block.kind == "arg":
            root = f"a{self.arg_blocks.index(block)}"
        elif block.kind == "grad":
            root = f"g{self.grad_blocks.index(block)}"
        elif block.kind == "buffer":
            root = f"b{block.index}"
            if block.index not in self.defined_buffers:
                init = block.init if block.init is not None else np.empty_like(block.array)
                self.lines.append(f"    {root} = _copy({self.name(init, 'init')})")
                self.defined_buffers.add(block.index)
        else:
            root_slot = self.root_slots.get(block.index)
            if root_slot is None or root_slot.index not in self.defined:
                raise NotReplayable("a view of an array the schedule does not make")
            root = f"v{root_slot.index}"
        if slot.is_root() and block.kind != "buffer":
            return root
        self.lines.append(f"    v{slot.index} = _view_at({root}, {slot.offset}, {slot.shape!r}, "
                          f"{slot.strides!r}, {self.name(slot.dtype, 'dtype')})")
        self.defined.add(slot.index)
        return f"v{slot.index}"

    def expr(self, value: Any) -> str:
        kind = type(value)
        if kind is _Ref:
            return self.slot(value.slot)
        if kind is _Const:
            return self.name(value.value, f"c{value.index}")
        if kind is tuple:
            items = [self.expr(item) for item in value]
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if kind is list:
            return "[" + ", ".join(self.expr(item) for item in value) + "]"
        if kind is dict:
            return "{" + ", ".join(f"{self.expr(k)}: {self.expr(v)}"
                                   for k, v in value.items()) + "}"
        if value is None or kind in (bool, int, str) or value is Ellipsis:
            return "..." if value is Ellipsis else repr(value)
        if kind is float and math.isfinite(value):
            return repr(value)
        if kind is slice:
            return f"slice({self.expr(value.start)}, {self.expr(value.stop)}, " \
                   f"{self.expr(value.step)})"
        return self.name(value, type(value).__name__.lower())

    def call_arguments(self, kernel: _Kernel, extra: str = "") -> str:
        parts = [self.expr(a) for a in kernel.args]
        parts += [f"{k}={self.expr(v)}" for k, v in kernel.kwargs.items()]
        if extra:
            parts.append(extra)
        return ", ".join(parts)

    # -- lines --------------------------------------------------------------------------------
    def emit(self, text: str, kernel: _Kernel) -> None:
        if kernel.errstate is not None:
            self.lines.append(f"    with _errstate(**{self.name(kernel.errstate, 'errstate')}):")
            text = "    " + text
        self.lines.append("    " + text)

    def targets(self, kernel: _Kernel) -> str:
        """The variables a kernel's results go to (call after rendering its arguments)."""
        names = []
        for slot in kernel.outputs:
            if slot.block.index in self.plan.static_blocks or slot.index in self.defined or \
                    (slot.is_root() and slot.block.kind in ("arg", "grad")):
                names.append("_")
            else:
                names.append(f"v{slot.index}")
                self.defined.add(slot.index)
        if kernel.tuple_result:
            return ", ".join(names) + ("," if len(names) == 1 else "") + " = "
        return names[0] + " = " if names and names[0] != "_" else ""

    def initialize(self, kernel: _Kernel) -> None:
        """Scratch memory whose contents matter (a plain array a kernel first wrote only
        partly) gets them, before its first use."""
        for slot in kernel.refs() + kernel.writes:
            block = slot.block
            if block.kind != "buffer" or block.index in self.initialized or \
                    block.index not in self.plan.static_blocks:
                continue
            self.initialized.add(block.index)
            if block.init is not None and not _overwrites(kernel, block):
                name = f"b{block.index}"
                self.static_slots[name] = _Slot(-1, block, 0, block.array, None)
                self.lines.append(f"    {self.name(np.copyto, 'np_copyto')}({name}, "
                                  f"{self.name(block.init, f'init{block.index}')})")

    def kernel(self, kernel: _Kernel) -> None:
        self.initialize(kernel)
        kind = kernel.kind
        if kind == "call":
            self.call(kernel)
        elif kind == "guard":
            self.emit(f"if not _same({self.function(kernel.function)}("
                      f"{self.call_arguments(kernel)}), {self.expr(kernel.expected)}): "
                      f"return _FAILED", kernel)
        elif kind == "draw":
            target = self.name(kernel.target, "generator")
            api = ".numpy" if kernel.numpy_api else ""
            call = f"{target}{api}.{kernel.function}({self.call_arguments(kernel)})"
            self.emit(self.targets(kernel) + call, kernel)
        elif kind == "method":
            target = self.name(kernel.target, type(kernel.target).__name__.lower())
            self.emit(f"{target}.{kernel.function}({self.call_arguments(kernel)})", kernel)
        elif kind == "bind":
            self.bind(kernel)

    def call(self, kernel: _Kernel) -> None:
        outputs = kernel.outputs
        if kernel.index in self.plan.aliases:  # the copy of a result nothing else uses
            source = self.slot(self.plan.aliases[kernel.index])
            self.lines.append(f"    {self.targets(kernel)}{source}")
            return
        static_out = kernel.index in self.plan.out_kernels
        if outputs and not static_out and not kernel.writes and all(
                s.block.index in self.plan.static_blocks for s in outputs):
            return  # a view of fixed memory: made once, before the first call
        function = kernel.function
        if static_out:
            out = [self.slot(s) for s in outputs]
            fill = _FILLS.get(getattr(function, "__name__", None), "-")
            if fill != "-" and getattr(np, function.__name__, None) is function:
                if fill == "fill_value":
                    fill = kernel.kwargs.get("fill_value", kernel.args[1] if
                                             len(kernel.args) > 1 else None)
                if fill is not None:  # an empty array needs nothing done
                    self.emit(f"{self.name(np.copyto, 'np_copyto')}({out[0]}, "
                              f"{self.expr(fill)})", kernel)
                return
            if function is np.ndarray.copy:
                self.emit(f"{self.name(np.copyto, 'np_copyto')}({out[0]}, "
                          f"{self.expr(kernel.args[0])})", kernel)
                return
            if function is np.ndarray.astype:
                self.emit(f"{self.name(np.copyto, 'np_copyto')}({out[0]}, "
                          f"{self.expr(kernel.args[0])}, casting='unsafe')", kernel)
                return
            extra = "out=" + (out[0] if not isinstance(function, np.ufunc) or
                              function.nout == 1 else "(" + ", ".join(out) + ")")
            self.emit(f"{self.function(function)}({self.call_arguments(kernel, extra)})",
                      kernel)
            return
        arguments = self.call_arguments(kernel)
        targets = self.targets(kernel) if outputs else ""
        if outputs and not kernel.writes and targets.replace("_", "").strip(", =") == "":
            return  # a view that is already there (x.reshape(x.shape))
        self.emit(f"{targets}{self.function(function)}({arguments})", kernel)

    def bind(self, kernel: _Kernel) -> None:
        target = kernel.target
        if any(target is leaf_block.tensor for leaf_block in self.arg_blocks):
            block = next(b for b in self.arg_blocks if b.tensor is target)
            name = f"L[{block.path}]"
        else:
            name = self.name(target, "tensor")
        value = kernel.args[0]
        if kernel.function == "_grad":
            if value is None:
                self.lines.append(f"    {name}._grad = None")
            else:
                requires = kernel.kwargs.get("requires_grad", False)
                self.lines.append(f"    {name}._grad = _wrap({self.expr(value)}, {requires})")
        else:
            self.lines.append(f"    {name}.{kernel.function} = {self.expr(value)}")

    def source(self) -> str:
        self.defined_buffers: set[int] = set()
        self.initialized: set[int] = set()
        body_start = len(self.lines)
        for kernel in self.plan.kernels:
            self.kernel(kernel)
        results = [self.slot(s) for s in self.plan.output_slots]
        self.lines.append("    return (" + "".join(r + ", " for r in results) + ")")
        parameters = ["L"] + [f"a{i}" for i in range(len(self.arg_blocks))] + \
            [f"g{i}" for i in range(len(self.grad_blocks))]
        body = self.lines[body_start:]
        return "def replay(" + ", ".join(parameters) + "):\n" + "\n".join(body) + "\n"


def _layout(array: np.ndarray) -> tuple:
    return (array.shape, array.dtype.str, array.strides)


def _python_values(fn: Callable) -> list[tuple[Any, str, Any]]:
    """The Python numbers and strings ``fn`` reads from its globals and closure (guards)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    found = []
    scalars = (bool, int, float, str, type(None))
    for name in code.co_names:
        value = fn.__globals__.get(name, _MISSING)
        if isinstance(value, scalars):
            found.append((fn.__globals__, name, value))
    for cell in fn.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, scalars):
            found.append((cell, "cell_contents", value))
    return found


_MISSING = object()


class _Schedule:
    """A captured step, ready to replay (``code`` is the replay function's source)."""

    def __init__(self, capture: _Capture, fn: Callable) -> None:
        recorder = capture.recorder
        self.plan = _Plan(recorder, capture.outputs)
        codegen = _Codegen(self.plan, recorder)
        self.code = codegen.source()
        self.namespace = codegen.namespace
        exec(builtins_compile(self.code, "<abdou_torch.compile>", "exec"), self.namespace)
        self.replay = self.namespace["replay"]
        self.static_slots = codegen.static_slots
        self.state = {b.index: b.array for b in self.plan.static_blocks.values()
                      if b.kind == "state"}
        self.state_tensors = [(b.tensor, b.array, b.index) for b in recorder.blocks
                              if b.kind == "state" and b.index in self.state]
        self._materialize()
        self.arg_paths = [b.path for b in codegen.arg_blocks]
        self.grad_sources = [(b.tensor, _layout(b.array)) for b in codegen.grad_blocks]
        self.outputs = capture.outputs
        # the guards besides the arguments' (see the module docstring)
        self.training = [(m, m.training) for m in recorder.modules.values()]
        self.requires = [(t, t._requires_grad) for t in recorder.state_tensors.values()]
        self.arg_tensors = {id(b.tensor): b.path for b in recorder.blocks
                            if b.kind == "arg" and b.tensor is not None}
        self.start_grads = []
        for key, tensor in recorder.watched.items():
            if recorder.grad_relevant.get(key):
                where = self.arg_tensors.get(key, tensor)
                self.start_grads.append((where, recorder.start_grads[key]))
        self.groups = [(k.target, _group_key(k.target)) for k in recorder.kernels
                       if k.kind == "method" and isinstance(k.target, Optimizer)]
        self.python_values = _python_values(fn)
        recorder.release()

    def _materialize(self) -> None:
        for name, slot in self.static_slots.items():
            self.namespace[name] = self.plan.materialize(slot, self.state)

    def holds(self, leaves: list) -> bool:
        """Whether this schedule applies to a call with these arguments (its guards)."""
        for module, training in self.training:
            if module.training is not training:
                return False
        rebind = False
        for tensor, array, _ in self.state_tensors:
            if tensor._data is not array:
                if _layout(tensor._data) != _layout(array):
                    return False
                rebind = True
        for tensor, requires in self.requires:
            if tensor._requires_grad is not requires:
                return False
        for where, had in self.start_grads:
            tensor = leaves[where] if isinstance(where, int) else where
            if (tensor._grad is not None) is not had:
                return False
        for owner, layout in self.grad_sources:
            if owner._grad is None or _layout(owner._grad._data) != layout:
                return False
        for optimizer, key in self.groups:
            if _group_key(optimizer) != key:
                return False
        for holder, name, value in self.python_values:
            current = holder.get(name, _MISSING) if isinstance(holder, dict) else \
                getattr(holder, name, _MISSING)
            if current is not value and current != value:
                return False
        if rebind:  # the same parameters, moved to new arrays (a rebuilt flat buffer)
            self.state_tensors = [(t, t._data, i) for t, _, i in self.state_tensors]
            self.state = {i: a for _, a, i in self.state_tensors}
            self._materialize()
        return True

    def run(self, leaves: list) -> Any:
        arrays = [leaves[p]._data if isinstance(leaves[p], Tensor) else leaves[p]
                  for p in self.arg_paths]
        arrays += [owner._grad._data for owner, _ in self.grad_sources]
        values = self.replay(leaves, *arrays)
        if values is _FAILED:
            return _FAILED
        return _build(self.outputs, iter(values))


def _group_key(optimizer: Optimizer) -> tuple:
    return tuple(tuple(map(id, group["params"])) for group in optimizer.param_groups)


def _build(template: Any, values: Any) -> Any:
    """The step's result, from its template and the replay's output arrays."""
    kind = template[0]
    if kind == "tensor":
        _, value, requires_grad, node = template
        array = next(values) if type(value) is _Ref else _same_layout_copy(value.value)
        tensor = Tensor._wrap(array if isinstance(array, np.ndarray) else np.asarray(array),
                              requires_grad)
        if node is not None:
            tensor._ctx = node  # released by the backward, as eager's is
        return tensor
    if kind == "array":
        value = template[1]
        return next(values) if type(value) is _Ref else _same_layout_copy(value.value)
    if kind == "object":
        return template[1]
    if kind is dict:
        return {key: _build(item, values) for key, item in template[1]}
    return kind(_build(item, values) for item in template[1])


import builtins as _builtins  # noqa: E402

builtins_compile = _builtins.compile


# =============================================================================================
# The public API
# =============================================================================================

class CompiledFunction:
    """``fn`` with capture and replay (what ``compile(fn)`` returns); ``code`` shows the
    replay function of the most recently used schedule."""

    def __init__(self, fn: Callable, fullgraph: bool = False, dynamic: bool | None = None,
                 backend: Any = "inductor", mode: str | None = None,
                 options: dict | None = None) -> None:
        self.fn = fn
        self.fullgraph, self.dynamic, self.backend = fullgraph, dynamic, backend
        self.mode, self.options = mode, options
        self._schedules: dict[Any, list[_Schedule]] = {}
        self._recent: collections.OrderedDict[int, tuple[Any, _Schedule]] = \
            collections.OrderedDict()
        self._eager: dict[Any, str] = {}
        self._captures = 0
        self._warned: set[str] = set()
        self.__name__ = getattr(fn, "__name__", type(fn).__name__)
        self.__qualname__ = getattr(fn, "__qualname__", self.__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__wrapped__ = fn

    @property
    def code(self) -> str:
        if not self._recent:
            return ""
        return next(reversed(self._recent.values()))[1].code

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        """As a decorator on a method: bind the instance (one schedule cache per function)."""
        if instance is None:
            return self
        return lambda *args, **kwargs: self(instance, *args, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if _RECORDER is not None:  # called inside another capture: part of that step
            return self.fn(*args, **kwargs)
        leaves: list = []
        structure = _flatten((args, kwargs), leaves)
        key = (structure, tuple(map(_leaf_key, leaves)), GradMode.enabled)
        for schedule in self._schedules.get(key, ()):
            if schedule.holds(leaves):
                self._recent.move_to_end(id(schedule))
                result = schedule.run(leaves)
                return self.fn(*args, **kwargs) if result is _FAILED else result
        if key in self._eager:
            return self.fn(*args, **kwargs)
        if self._captures >= CACHE_SIZE and not self.dynamic:
            self._fallback(f"it was captured {CACHE_SIZE} times (shapes, dtypes or flags keep "
                           f"changing; pass dynamic=True to keep capturing)")
            return self.fn(*args, **kwargs)
        return self._capture_and_run(key, args, kwargs, leaves, structure)

    def _capture_and_run(self, key: Any, args: tuple, kwargs: dict, leaves: list,
                         structure: Any) -> Any:
        self._captures += 1
        check = _capture(self.fn, args, kwargs, leaves, structure, np.random.default_rng(0))
        check.recorder.sandbox.restore()
        check.recorder.release()
        check.result = None
        real = _capture(self.fn, args, kwargs, leaves, structure, None)
        if real.error is not None:
            raise real.error
        failure = real.recorder.failure or check.recorder.failure
        transient = real.recorder.transient or check.recorder.transient
        if failure is None and check.error is not None:
            failure = f"on perturbed inputs (the check that values are not baked in) the " \
                      f"step raised {type(check.error).__name__}: {check.error}"
        if failure is None:
            failure = _difference(real, check)
            if failure is not None:
                # the check's run may have filled a first-use cache (a module-level array)
                # that the real run then found: check again, from the same state as before
                after = real.recorder.sandbox.again()
                real.recorder.sandbox.restore()
                check = _capture(self.fn, args, kwargs, leaves, structure,
                                 np.random.default_rng(0))
                check.recorder.sandbox.restore()
                check.recorder.release()
                after.restore()
                failure = check.recorder.failure or (
                    None if check.error is None else f"on perturbed inputs the step raised "
                    f"{type(check.error).__name__}: {check.error}") or _difference(real, check)
        schedule = result = None
        if failure is None:
            try:
                schedule = _Schedule(real, self.fn)
            except NotReplayable as error:
                failure = str(error)
        if failure is None:
            failure, result = _verify(schedule, real, leaves)
        if failure is not None:
            if not transient:
                self._eager[key] = failure
            self._fallback(failure, transient)
            return real.result
        self._schedules.setdefault(key, []).append(schedule)
        self._recent[id(schedule)] = (key, schedule)
        if len(self._recent) > CACHE_SIZE:
            _, (old_key, old) = self._recent.popitem(last=False)
            self._schedules[old_key].remove(old)
        return result

    def _fallback(self, reason: str, transient: bool = False) -> None:
        if self.fullgraph and not transient:
            raise RuntimeError(f"abdou_torch.compile(fullgraph=True): {self.__qualname__} "
                               f"cannot be replayed: {reason}")
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"abdou_torch.compile: {self.__qualname__} runs eagerly"
                          f"{' this time' if transient else ''}: {reason}", stacklevel=3)


def _verify(schedule: _Schedule, real: _Capture, leaves: list) -> tuple[str | None, Any]:
    """Replay the real call from the state before it; it must give eager's outputs and
    leave eager's state, bit for bit. Returns (failure or None, the replay's result)."""
    sandbox = real.recorder.sandbox
    expected = sandbox.fingerprint() + [_value_mark(_leaf_values(real.result))]
    after = sandbox.again()
    sandbox.restore()
    try:
        result = schedule.run(leaves)
    except Exception as error:  # noqa: BLE001 - reported, and eager's results put back
        after.restore()
        return f"the replay raised {type(error).__name__}: {error} (a bug: please report)", None
    if result is _FAILED or \
            sandbox.fingerprint() + [_value_mark(_leaf_values(result))] != expected:
        after.restore()
        return "the replay did not reproduce eager's results bit for bit (a bug: please " \
               "report)", None
    return None, result


def _leaf_values(value: Any) -> list:
    leaves: list = []
    _flatten(value, leaves)
    return [leaf._data if isinstance(leaf, Tensor) else leaf for leaf in leaves]


class OptimizedModule(Module):
    """What ``compile(module)`` returns: calling it runs the compiled ``module(...)``;
    parameters, buffers and the state dict are the module's (as in PyTorch, the module is
    the child ``_orig_mod``, and other attributes are looked up on it)."""

    def __init__(self, module: Module, compiled: CompiledFunction) -> None:
        super().__init__()
        self._orig_mod = module
        object.__setattr__(self, "_compiled", compiled)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._compiled(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)


def compile(model: Callable | None = None, *, fullgraph: bool = False,  # noqa: A001
            dynamic: bool | None = None, backend: str | Callable = "inductor",
            mode: str | None = None, options: dict | None = None,
            disable: bool = False) -> Any:
    """``fn`` (or a Module) compiled: captured on its first call, replayed afterwards (see
    the module docstring). Without ``model``, a decorator. ``mode``, ``backend`` and
    ``options`` are accepted as PyTorch's and change nothing here; ``fullgraph=True`` raises
    where the step would run eagerly; ``dynamic=True`` keeps capturing new shapes without
    a warning; ``disable=True`` returns ``model`` itself."""
    settings = dict(fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                    options=options, disable=disable)
    if model is None:
        return lambda function: compile(function, **settings)
    if not callable(model):
        raise TypeError(f"compile: expected a function or a Module, got "
                        f"{type(model).__name__}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"compile: options must be a dict, got {type(options).__name__}")
    if disable:
        return model
    compiled = CompiledFunction(model, fullgraph, dynamic, backend, mode, options)
    if isinstance(model, Module):
        return OptimizedModule(model, compiled)
    return compiled


compiler._record_call = _record_kernel
