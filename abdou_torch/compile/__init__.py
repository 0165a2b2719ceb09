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
made once, arrays that one call fills with a constant and nothing else writes (relu's
zeros) are filled once, and calls whose results nothing uses are dropped. Results come back
as Tensors.

**Memory.** The capture holds what the step holds: an array of the run dies when eager's
would (its block leaves the recorder's address index when the ndarray owning its memory
dies, so memory NumPy hands out again is a new block), the arguments' values are copied only
if something writes them, and the released graph of what the step returns is let go before
the schedule is built. The replay deletes each array it makes after its last use, and a
schedule keeps plain layouts of its fixed arrays, not the recording. What the capture needs
beyond eager's step is the saved state (a copy of the parameters and optimizer state) and
the compiler's transient memory for the replay's source (about 5 KiB a line).

**Checks: results are eager's, bit for bit, or the step runs eagerly.** A recorded
constant might secretly depend on the data (an array that left the tracer through
``np.asarray`` and was computed on), so the first call captures twice: on the real inputs
and on perturbed ones (floats moved by noise, integers rolled along each axis), with the
model's state saved and put back in between. A constant that differs between the two runs
means ``fn`` cannot be replayed. Then the schedule replays the real call once from the
saved state, and its outputs and every array and state it touched must equal eager's bit
for bit (eager's results are kept as digests, not copies; a replay that differs is not
used: the call runs eagerly again from the saved state). If a check fails, or ``fn`` does
something the recorder cannot replay, ``fn`` runs eagerly from then on, with a one-time
warning that says why:

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

**Branches on values inside the library.** An op that takes a faster path when the data
allow it (no inf in a gradient, no NaN under a pooling window) marks that function
``@abdou_torch.compiler.kernel``: it is recorded as one call, and its branch is taken again
at each replay, on the replay's data (the convolutions choose Winograd's method or a direct
one for non-finite values this way, ``ops/conv.py``).

**Where things are.** ``recorder.py``: traced arrays, blocks, slots, kernels and the
recorder; ``sandbox.py``: saving and restoring the state a capture touches; ``capture.py``:
the observers a capture installs, one traced run, and the comparison of two runs;
``replay.py``: the plan (live kernels, memory), the generated function and its guards; this
file: ``compile`` and the driver that captures, checks, replays or falls back.
"""
from __future__ import annotations

import collections
import warnings
from typing import Any, Callable

import numpy as np

from .. import compiler
from ..autograd.grad_mode import GradMode
from ..nn.module import Module
from ..tensor import Tensor
from . import recorder as _recording
from .capture import _Capture, _capture, _difference, _flatten, _leaf_key
from .recorder import NotReplayable, _record_kernel
from .replay import _FAILED, _Schedule
from .sandbox import _value_mark

__all__ = ["compile", "CompiledFunction", "OptimizedModule"]

#: how many schedules one compiled function keeps (PyTorch's ``cache_size_limit``)
CACHE_SIZE = 8



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
        if _recording._RECORDER is not None:  # called inside another capture: part of that step
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
        check.recorder.forget()  # only what ``_difference`` compares is kept
        check.result = None
        real = _capture(self.fn, args, kwargs, leaves, structure, None)
        if real.error is not None:
            raise real.error
        failure = real.recorder.failure or check.recorder.failure
        transient = real.recorder.transient or check.recorder.transient
        compilable = real.recorder.compilable or check.recorder.compilable
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
                check.recorder.discard()
                check = _capture(self.fn, args, kwargs, leaves, structure,
                                 np.random.default_rng(0))
                check.recorder.sandbox.restore()
                check.recorder.forget()
                after.restore()
                del after
                failure = check.recorder.failure or (
                    None if check.error is None else f"on perturbed inputs the step raised "
                    f"{type(check.error).__name__}: {check.error}") or _difference(real, check)
        check.recorder.discard()
        del check
        try:
            return self._schedule_or_eager(key, args, kwargs, leaves, real, failure, transient,
                                           compilable)
        finally:
            real.recorder.discard()

    def _schedule_or_eager(self, key: Any, args: tuple, kwargs: dict, leaves: list,
                           real: _Capture, failure: str | None, transient: bool,
                           compilable: bool) -> Any:
        """With the real run recorded (and ``failure`` the checks' verdict): build its
        schedule and verify it, keeping it if it replays eager's results bit for bit."""
        if failure is not None:
            self._give_up(key, failure, transient, compilable)
            return real.result
        # eager's outputs and state, as marks: the replay below must reproduce them
        sandbox = real.recorder.sandbox
        expected = sandbox.fingerprint() + [_value_mark(_leaf_values(real.result))]
        _cut_released_graphs(real.result)  # the run's activations die before the schedule
        schedule = result = None
        try:
            schedule = _Schedule(real, self.fn)
        except NotReplayable as error:
            failure = str(error)
        if failure is not None:  # the state is still eager's
            self._give_up(key, failure, transient, compilable)
            return real.result
        assert schedule is not None  # built above, or failure would be set
        real.recorder.forget(keep_sandbox=True)
        real.result = None
        failure, result = _verify(schedule, sandbox, leaves, expected)
        if failure is not None:
            # eager's results again: from the state before the call, the step run eagerly
            sandbox.restore()
            del sandbox
            real.recorder.forget()
            result = self.fn(*args, **kwargs)
            self._give_up(key, failure, transient, compilable)
            return result
        self._schedules.setdefault(key, []).append(schedule)
        self._recent[id(schedule)] = (key, schedule)
        if len(self._recent) > CACHE_SIZE:
            _, (old_key, old) = self._recent.popitem(last=False)
            self._schedules[old_key].remove(old)
        return result

    def _give_up(self, key: Any, failure: str, transient: bool, compilable: bool) -> None:
        """Calls with this key run eagerly from now on (this time only if ``transient``)."""
        if not transient:
            self._eager[key] = failure
        self._fallback(failure, transient, compilable)

    def _fallback(self, reason: str, transient: bool = False, compilable: bool = False) -> None:
        if self.fullgraph and not transient and not compilable:
            raise RuntimeError(f"abdou_torch.compile(fullgraph=True): {self.__qualname__} "
                               f"cannot be replayed: {reason}")
        if reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"abdou_torch.compile: {self.__qualname__} runs eagerly"
                          f"{' this time' if transient else ''}: {reason}", stacklevel=3)


def _verify(schedule: _Schedule, sandbox: Any, leaves: list,
            expected: list) -> tuple[str | None, Any]:
    """Replay the real call from the state before it (``sandbox`` puts it back); it must
    give eager's outputs and leave eager's state (``expected``: their marks), bit for bit.
    Returns (failure or None, the replay's result). Only marks of eager's results are kept,
    not a copy: after a failure the caller runs the step eagerly again."""
    sandbox.restore()
    try:
        result = schedule.run(leaves)
    except Exception as error:  # noqa: BLE001 - reported, and eager's results made again
        return f"the replay raised {type(error).__name__}: {error} (a bug: please report)", None
    if result is _FAILED or \
            sandbox.fingerprint() + [_value_mark(_leaf_values(result))] != expected:
        return "the replay did not reproduce eager's results bit for bit (a bug: please " \
               "report)", None
    return None, result


def _cut_released_graphs(value: Any) -> None:
    """Forget the inputs of returned tensors whose graph the backward already released
    (a loss): they hold every activation of the run, and nothing can use them any more.
    A replay's result has no inputs either (its ``grad_fn`` is the released node)."""
    leaves: list = []
    _flatten(value, leaves)
    for leaf in leaves:
        if isinstance(leaf, Tensor) and leaf._ctx is not None and leaf._ctx.released:
            leaf._prev = ()


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
    where the step would run eagerly for a reason PyTorch's compile also stops at (a value
    read that decides what happens next, a hook, other random numbers), not for a forward
    whose graph is returned (that runs eagerly, with the warning); ``dynamic=True`` keeps
    capturing new shapes without a warning; ``disable=True`` returns ``model`` itself."""
    settings: dict[str, Any] = dict(fullgraph=fullgraph, dynamic=dynamic, backend=backend,
                                    mode=mode, options=options, disable=disable)
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
compiler._pause = _recording.paused_recording

