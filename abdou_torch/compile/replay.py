"""The replayer: from a recording to one straight-line Python function of NumPy calls
(``_Plan`` decides which kernels run and which memory each array gets, ``_Codegen`` writes
the function, ``_Schedule`` holds it with its guards)."""
from __future__ import annotations

import builtins
import math
import operator
import re
from typing import Any, Callable

import numpy as np

from ..optim.optimizer import Optimizer
from ..tensor import Tensor
from .recorder import (NotReplayable, _Block, _Const, _Kernel, _Recorder, _Ref, _Slot, _address,
                       _same_layout_copy, _view_at)
from .capture import _Capture, _FILLS, _function_name



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
    """The ``_Ref``s of an output template (see ``capture._output_template``), in order."""
    if type(template) is _Ref:
        found.append(template)
    elif type(template) is tuple and template and template[0] in ("tensor", "array"):
        _output_refs(template[1], found)
    elif type(template) is tuple and template and template[0] in (list, tuple, dict):
        for item in template[1]:
            _output_refs(item[1] if template[0] is dict else item, found)


class _Plan:
    """Which kernels run, which memory each block gets, which slots are fixed arrays."""

    def __init__(self, recorder: _Recorder, outputs: Any) -> None:
        kernels = _hoist_guards(recorder.kernels)
        refs: list[_Ref] = []
        _output_refs(outputs, refs)
        self.output_slots: list[_Slot] = [ref.slot for ref in refs]
        escaping = {s.block.index for s in self.output_slots}
        for kernel in kernels:
            if kernel.kind == "bind" and type(kernel.args[0]) is _Ref:
                escaping.add(kernel.args[0].slot.block.index)
        self.kernels = self._live(recorder, kernels, escaping)
        self.static_blocks: dict[int, _Block] = {}   # blocks at fixed memory
        self.out_kernels: set[int] = set()            # kernels given out=
        self.constant_fills: dict[int, Any] = {}      # fill kernel index -> its value
        self.constant_blocks: dict[int, Any] = {}     # the blocks they fill -> sharing key
        self.aliases = self._elide_copies()           # copy kernel index -> source slot
        unfixed = {slot.block.index for slot in self.aliases.values()}
        for block in recorder.blocks:
            if block.index not in unfixed:
                self._classify(block, escaping)
        self._find_constant_fills()
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
            dense = block.high - block.low == block.nbytes
            if producer is not None and producer in self.kernels and producer.kind == "call" \
                    and _takes_out(producer.function) and dense and \
                    all(s.block.producer is producer and s.is_root() for s in producer.outputs):
                self.static_blocks[block.index] = block
                self.out_kernels.add(producer.index)

    def _find_constant_fills(self) -> None:
        """Fixed blocks that a kernel fills with one number (``np.zeros_like(x)``, the
        zeros of ``where(mask, dy, 0)``) and that nothing else writes: the same values at
        every replay, so they are filled once, in memory of their own, and the fill kernel
        leaves the replay."""
        written: dict[int, int] = {}
        for kernel in self.kernels:
            name = getattr(kernel.function, "__name__", "")
            if kernel.index in self.out_kernels and _FILLS.get(name, "-") is None and \
                    getattr(np, name, None) is kernel.function:
                continue  # np.empty: nothing written at a replay
            for slot in kernel.outputs + kernel.writes:
                written[slot.block.index] = written.get(slot.block.index, 0) + 1
        for kernel in self.kernels:
            value = _whole_block_constant(kernel)
            if value is not None and kernel.writes[0].block.index in self.static_blocks and \
                    written.get(kernel.writes[0].block.index) == 1:
                self.constant_fills[kernel.index] = value
                self.constant_blocks[kernel.writes[0].block.index] = \
                    _fill_key(value, kernel.writes[0].block)
                continue
            if kernel.index not in self.out_kernels or len(kernel.outputs) != 1:
                continue
            function = kernel.function
            name = getattr(function, "__name__", "")
            fill = _FILLS.get(name, "-")
            if fill in ("-", None) or getattr(np, name, None) is not function:
                continue
            if fill == "fill_value":
                fill = kernel.kwargs.get("fill_value", kernel.args[1] if
                                         len(kernel.args) > 1 else None)
            if type(fill) not in (bool, int, float):
                continue
            if written.get(kernel.outputs[0].block.index) == 1:
                self.constant_fills[kernel.index] = fill
                self.constant_blocks[kernel.outputs[0].block.index] = \
                    _fill_key(fill, kernel.outputs[0].block)

    def _assign_memory(self) -> dict[int, "_Arena"]:
        """Memory for the internal fixed blocks: blocks whose lifetimes (first to last use
        in the schedule) do not overlap share a buffer (greedy, best fit); blocks filled
        with the same number (read only after that) share one buffer of their own. The
        buffers are allocated when first used (after the replay's source is compiled)."""
        constant = self.constant_blocks
        shared: dict[Any, _Arena] = {}
        for index, key in constant.items():
            block = self.static_blocks[index]
            need = max(block.high - block.low, 1)
            if key not in shared or shared[key].size < need:
                shared[key] = _Arena(need)
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for position, kernel in enumerate(self.kernels):
            for slot in kernel.refs() + kernel.writes + kernel.outputs:
                index = slot.block.index
                if index in self.static_blocks and self.static_blocks[index].kind != "state":
                    first.setdefault(index, position)
                    last[index] = position
        free: list[_Arena] = []
        active: list[tuple[int, _Arena]] = []
        regions: dict[int, _Arena] = {}
        for index in sorted(first, key=lambda block_index: first[block_index]):
            start = first[index]
            for entry in [a for a in active if a[0] < start]:
                active.remove(entry)
                free.append(entry[1])
            block = self.static_blocks[index]
            need = max(block.high - block.low, 1)
            if index in constant:
                regions[index] = shared[constant[index]]
                continue
            fits = [arena for arena in free if need <= arena.size <= 2 * need + 4096]
            if fits:
                arena = min(fits, key=lambda fit: fit.size)
                free.remove(arena)
            else:
                arena = _Arena(need)
            active.append((last[index], arena))
            regions[index] = arena
        for index in list(self.static_blocks):
            if index not in regions and self.static_blocks[index].kind != "state":
                del self.static_blocks[index]  # not used by any kernel that runs
        return regions

    def layout(self, slot: _Slot) -> tuple:
        """Where the fixed array of a slot of a fixed block lives, for ``_fixed_array``:
        (in a state tensor's array?, the block's index, byte offset, shape, strides,
        dtype). Plain values: a schedule keeps these, not the recording."""
        block = slot.block
        if block.kind == "state":
            return (True, block.index, slot.offset, slot.shape, slot.strides, slot.dtype)
        return (False, block.index, block.base - block.low + slot.offset, slot.shape,
                slot.strides, slot.dtype)


class _Arena:
    """``size`` bytes of memory, 64-byte aligned, allocated on first use."""

    __slots__ = ("size", "_memory")

    def __init__(self, size: int) -> None:
        self.size = size
        self._memory: np.ndarray | None = None

    def memory(self) -> tuple[np.ndarray, int]:
        """The buffer, and the offset of its first aligned byte."""
        if self._memory is None:
            self._memory = np.empty(self.size + 64, np.uint8)
        return self._memory, (-_address(self._memory)) % 64


def _fixed_array(layout: tuple, regions: dict[int, _Arena],
                 state: dict[int, np.ndarray]) -> np.ndarray:
    """The array ``_Plan.layout`` describes: a view of a state array or of a region."""
    in_state, index, offset, shape, strides, dtype = layout
    memory, start = (state[index], 0) if in_state else regions[index].memory()
    return _view_at(memory, start + offset, shape, strides, dtype)


def _fill_key(value: Any, block: _Block) -> Any:
    """Blocks with equal keys hold the same bytes everywhere: the same number (``repr``
    tells -0.0 from 0.0) in the same dtype. An array constant shares with nothing."""
    if isinstance(value, np.ndarray):
        return ("array", id(value))
    return (type(value).__name__, repr(value), block.dtype.str)


def _whole_block_constant(kernel: _Kernel) -> Any:
    """The value of ``x[...] = value`` (a number or an array constant) writing a whole
    block, or None."""
    if kernel.kind != "call" or kernel.function is not operator.setitem or \
            len(kernel.writes) != 1 or not kernel.writes[0].is_root() or \
            not _overwrites(kernel, kernel.writes[0].block):
        return None
    value = kernel.args[2]
    if type(value) is _Const:
        return value.value
    return value if type(value) in (bool, int, float) else None


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
        self.setup: list[tuple[str, Any]] = []  # (fixed array, value): filled once
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
                if block.init is None:  # the recorder gives every buffer its contents
                    raise NotReplayable("scratch memory without its first contents")
                init = block.init
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
                self.static_slots[name] = _Slot(-1, block, 0, block, None)  # type: ignore[arg-type]
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
        if kernel.index in self.plan.constant_fills and not outputs:  # x[...] = constant
            self.setup.append((self.slot(kernel.writes[0]),
                               self.plan.constant_fills[kernel.index]))
            return
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
            fill = _FILLS.get(getattr(function, "__name__", ""), "-")
            if kernel.index in self.plan.constant_fills:  # filled once, at the setup
                self.setup.append((out[0], self.plan.constant_fills[kernel.index]))
                return
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
        body = _release_dead_locals(self.lines[body_start:])
        return "def replay(" + ", ".join(parameters) + "):\n" + "\n".join(body) + "\n"


_LOCAL = re.compile(r"\bv\d+\b")


def _release_dead_locals(lines: list[str]) -> list[str]:
    """``lines`` with ``del`` after the last use of each local (``v12``): an array made at
    each replay goes back to NumPy's allocator as soon as eager's would, not when the
    replay returns (a GPT step's locals held 13 MiB to the end)."""
    last_use: dict[str, int] = {}
    for number, line in enumerate(lines):
        for name in _LOCAL.findall(line):
            last_use[name] = number
    dying: dict[int, list[str]] = {}
    for name, number in last_use.items():
        dying.setdefault(number, []).append(name)
    released = []
    for number, line in enumerate(lines):
        released.append(line)
        if number in dying and not line.lstrip().startswith("return "):
            released.append("    del " + ", ".join(sorted(dying[number])))
    return released


def _layout(array: np.ndarray) -> tuple:
    return (array.shape, array.dtype.str, array.strides)


def _python_values(fn: Callable) -> list[tuple[Any, str, Any]]:
    """The Python numbers and strings ``fn`` reads from its globals and closure (guards)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    found: list[tuple[Any, str, Any]] = []  # (namespace or closure cell, name, value)
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
        recorder.release()  # the run's arrays: what follows reads the blocks' layouts only
        plan = _Plan(recorder, capture.outputs)
        codegen = _Codegen(plan, recorder)
        self.code = codegen.source()
        self.namespace = codegen.namespace
        exec(builtins.compile(self.code, "<abdou_torch.compile>", "exec"), self.namespace)
        self.replay = self.namespace["replay"]
        # what re-making the fixed arrays needs (not the recording: it is let go)
        self.fixed = {name: plan.layout(slot) for name, slot in codegen.static_slots.items()}
        self.regions = plan.regions
        self.setup = codegen.setup
        self.state = {b.index: b.array for b in plan.static_blocks.values()
                      if b.kind == "state"}
        self.state_tensors = [(b.tensor, b.array, b.index) for b in recorder.blocks
                              if b.kind == "state" and b.index in self.state]
        self._materialize()
        self.arg_paths = [b.path for b in codegen.arg_blocks]
        self.grad_sources = [(b.tensor, (b.shape, b.dtype.str, b.strides))
                             for b in codegen.grad_blocks]
        self.outputs = _without_slots(capture.outputs)
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
        self.groups = [(k.target, _group_params(k.target)) for k in recorder.kernels
                       if k.kind == "method" and isinstance(k.target, Optimizer)]
        self.python_values = _python_values(fn)

    def _materialize(self) -> None:
        for name, layout in self.fixed.items():
            self.namespace[name] = _fixed_array(layout, self.regions, self.state)
        for name, value in self.setup:
            np.copyto(self.namespace[name], value)

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
        for optimizer, groups in self.groups:
            if not _same_params(optimizer, groups):
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


def _group_params(optimizer: Optimizer) -> list[list[Tensor]]:
    return [list(group["params"]) for group in optimizer.param_groups]


def _same_params(optimizer: Optimizer, groups: list[list[Tensor]]) -> bool:
    """Whether ``optimizer`` updates the same tensors, in the same groups (checked without
    building anything per call)."""
    current = optimizer.param_groups
    if len(current) != len(groups):
        return False
    for group, params in zip(current, groups):
        now = group["params"]
        if len(now) != len(params) or not all(map(operator.is_, now, params)):
            return False
    return True


def _without_slots(template: Any) -> Any:
    """The output template with its slots let go (``_build`` needs only where a ``_Ref``
    stands, not the recording behind it)."""
    refs: list[_Ref] = []
    _output_refs(template, refs)
    for ref in refs:
        ref.slot = None  # type: ignore[assignment]  # read no more
    return template


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


