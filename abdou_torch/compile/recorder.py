"""The recorder: traced arrays (``_Traced``), the memory they live in (blocks and slots),
and the recorded events of a step (kernels). See the package docstring."""
from __future__ import annotations

import bisect
import contextlib
import operator
import os
import sys
import threading
import weakref
from typing import Any, Callable, Iterator

import numpy as np

from ..nn.module import Module
from ..optim.optimizer import Optimizer
from ..random import Generator
from ..tensor import Tensor
from .sandbox import _Sandbox, _plain


class NotReplayable(Exception):
    """Raised inside the library's checks when a step cannot be replayed (with the reason)."""




_RECORDER: "_Recorder | None" = None


def _active() -> "_Recorder | None":
    """The recorder of a capture running in this thread, unless paused (inside a recorded
    call such as ``optimizer.step()``)."""
    recorder = _RECORDER
    if recorder is None or recorder.paused or recorder.thread != threading.get_ident():
        return None
    return recorder


@contextlib.contextmanager
def paused_recording() -> Iterator[None]:
    """Nothing in the block is recorded by the capture running in this thread (if any)."""
    recorder = _active()
    if recorder is None:
        yield
        return
    recorder.paused += 1
    try:
        yield
    finally:
        recorder.paused -= 1


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
        self._slot: Any = None

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any):
        writes = tuple(o for o in kwargs.get("out", ()) if o is not None)
        if method == "at":
            writes += (inputs[0],)
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        return _call(function, inputs, kwargs, writes)

    def __array_function__(self, func: Callable, types: Any, args: Any, kwargs: Any):
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
    writes: tuple = ()
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
                 "producer", "shape", "strides", "dtype", "nbytes")

    def __init__(self, index: int, kind: str, array: np.ndarray) -> None:
        # only a state block keeps its array: the schedule replays on the tensor's memory
        self.index, self.kind = index, kind
        self.array: Any = array if kind == "state" else None
        # kept after ``array`` is let go (the schedule built, or the check compared)
        self.shape, self.strides, self.dtype = array.shape, array.strides, array.dtype
        self.nbytes = array.nbytes
        self.low, self.high = _bounds(array) if array.size else (_address(array),) * 2
        self.base = _address(array)
        self.tensor: Any = None  # the tensor whose data (or grad's data) this is
        self.path: Any = None    # for 'arg': where in the arguments
        self.init: Any = None    # for 'buffer': its contents before the first write
        self.producer: Any = None  # for 'fresh': the kernel that made it


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
        self.target: Any = None
        self.expected: Any = None
        self.errstate: Any = None
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


#: this package's directory: frames in it are the recorder's own
_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _site() -> str:
    """Where in the library or the user's code the current NumPy call was made."""
    frame: Any = sys._getframe(2)
    while frame.f_code.co_filename == "<string>":
        frame = frame.f_back
    here = os.path.dirname(np.__file__)
    while frame is not None and (frame.f_code.co_filename.startswith(_PACKAGE) or
                                 frame.f_code.co_filename.startswith(here)):
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{_short(frame.f_code.co_filename)}:{frame.f_lineno} ({frame.f_code.co_name})"


def _short(filename: str) -> str:
    package = os.path.dirname(os.path.dirname(_PACKAGE))
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
        self.keep: list[Any] = []           # memory that cannot be followed to its death
        self.freed: list[int] = []          # blocks whose memory died, still in ``lows``
        self.widest = 0                     # bytes of the largest block in ``lows``
        self.deaths: list[weakref.finalize] = []  # the watches on the blocks' owners
        self.unsaved_args: dict[int, int] = {}  # arg block -> its tensor's id, values unsaved
        self.swapped: list[tuple[Tensor, np.ndarray, _Traced]] = []
        self.state_tensors: dict[int, Tensor] = {}
        self.modules: dict[int, Module] = {}
        self.generators: dict[int, Generator] = {}
        self.failure: str | None = None     # why this step cannot be replayed
        self.transient = False              # ... only this time (capture again next call)
        self.compilable = False             # ... though PyTorch's compile would take it
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

    def save_arg(self, index: int) -> None:
        """Save the values of the argument of block ``index`` before they are written."""
        self.save(self.sandbox.write, self.unsaved_args.pop(index))

    def release(self) -> None:
        """Let go of the arrays the run made (a schedule keeps only its own memory and the
        state's; a check run keeps only what ``_difference`` compares)."""
        for block in self.blocks:
            if block.kind != "state":
                block.array = None  # released: read no more
        self.keep.clear()
        self.unsaved_args.clear()
        self.swapped.clear()
        self.traced_of.clear()

    def forget(self, keep_sandbox: bool = False) -> None:
        """``release``, and let go of the tensors the run bound (its gradients, the arrays
        at its start) and, unless ``keep_sandbox``, of the saved state: what is left is the
        recording (kernels, slots, blocks, constants), all a comparison of runs reads."""
        self.release()
        for table in (self.start, self.preexisting, self.grad_owners, self.expected_grads,
                      self.expected_data, self.watched, self.state_tensors):
            table.clear()
        if not keep_sandbox:
            self.sandbox = _Sandbox()

    def discard(self) -> None:
        """Break the recording's reference cycles (an output slot names the kernel that made
        it), so that its memory returns when the last reference goes, not at the next
        garbage collection: a capture peaks at what the step itself needs."""
        for slot in self.slots:
            slot.producer = None
        for block in self.blocks:
            block.producer = None
        for death in self.deaths:  # long-lived arrays (parameters) keep no watch
            death.detach()
        self.deaths.clear()

    # -- failures ---------------------------------------------------------------------------
    def fail(self, reason: str, transient: bool = False, compilable: bool = False) -> None:
        """The step cannot be replayed, for ``reason`` (``transient``: this time only;
        ``compilable``: a limit of this recorder, not a graph break in PyTorch's sense)."""
        if self.failure is None:
            self.failure, self.transient, self.compilable = reason, transient, compilable

    # -- memory -----------------------------------------------------------------------------
    def new_block(self, kind: str, array: np.ndarray) -> _Block:
        """A block for ``array``'s memory, found by address until that memory is freed.

        The run's arrays die when eager's would (the capture holds no more memory than the
        step): when the ndarray owning a block's memory dies, the block leaves the address
        index, so that a new array NumPy places at the same address becomes a new block.
        Memory whose owner is not an ndarray (a buffer, a foreign object) is kept alive
        until the capture ends instead."""
        self._forget_freed()
        block = _Block(len(self.blocks), kind, array)
        self.blocks.append(block)
        owner = _owner(array)
        if owner.flags.owndata:
            death = weakref.finalize(owner, self.freed.append, block.index)
            death.atexit = False
            self.deaths.append(death)
        else:
            self.keep.append(array)
        if block.high > block.low:  # an empty array holds no memory: nothing is found in it
            position = bisect.bisect_right(self.lows, block.low)
            self.lows.insert(position, block.low)
            self.by_low.insert(position, block)
            self.widest = max(self.widest, block.high - block.low)
        return block

    def _forget_freed(self) -> None:
        """Take the blocks whose memory died out of the address index."""
        while self.freed:
            block = self.blocks[self.freed.pop()]
            position = bisect.bisect_left(self.lows, block.low)
            while position < len(self.lows) and self.lows[position] == block.low:
                if self.by_low[position] is block:
                    del self.lows[position], self.by_low[position]
                    break
                position += 1

    def find_block(self, array: np.ndarray) -> _Block | None:
        self._forget_freed()
        """The live block whose memory holds all of ``array``'s, or None. Blocks starting
        more than the widest block's size below ``array`` cannot reach it."""
        low, high = _bounds(array)
        position = bisect.bisect_right(self.lows, low)
        lows, by_low, reach = self.lows, self.by_low, low - self.widest
        for index in range(position - 1, -1, -1):
            if lows[index] < reach:
                break
            if high <= by_low[index].high:
                return by_low[index]
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
        block = self.find_block(tensor._data) if tensor._data.size else None
        if block is not None:
            # a view of memory already in the recording (a tensor and its view both read)
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
        kernel.writes = [self.resolve(w, True) for w in writes  # type: ignore[misc]
                         if isinstance(w, np.ndarray)]
        for slot in kernel.writes:
            if slot is not None and slot.block.index in self.unsaved_args:
                self.save_arg(slot.block.index)
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


