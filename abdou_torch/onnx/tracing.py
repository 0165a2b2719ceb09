"""Recording one forward pass: every op the model runs, with what it received.

While :func:`recording` is active, each ``Primitive.apply`` (the library's ops) and each
custom ``Function.apply`` is logged as a :class:`Call` with its arguments and its output,
whatever the grad mode. A few ``nn.functional`` ops (softplus, logsigmoid, batch_norm)
are logged as one call each, with the primitives inside them left
out: they compute masks, shifts or scales with NumPy, which no primitive records, and ONNX
has one operator for each of them.

A tensor that no recorded op produced is the model's input, a parameter or buffer, or a
constant. A constant computed from the input by code the recording cannot see would be
baked into the graph with this input's values; :func:`check_same_program` catches that by
comparing two traces made with different inputs.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

from ..autograd.function import Function, Primitive
from ..tensor import Tensor

__all__ = ["Call", "recording", "check_same_program", "FUNCTIONAL_OPS"]

#: functions recorded as one call each, by module: their emitters are in symbolic.py
FUNCTIONAL_OPS = {
    "abdou_torch.nn.functional": ("softplus", "logsigmoid", "batch_norm"),
    "abdou_torch.ops.normalization": ("batch_norm",),  # what nn.BatchNorm* calls
}


@dataclass
class Call:
    """One op of the forward pass: ``kind`` is the Primitive's class name (``"Linear"``),
    ``"function:<Name>"`` for a custom Function, or an nn.functional name (``"softplus"``)."""

    kind: str
    args: tuple
    kwargs: dict
    output: Any


class _Recorder:

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.inside_functional = 0

    def record(self, kind: str, args: tuple, kwargs: dict, output: Any) -> None:
        if not self.inside_functional:
            self.calls.append(Call(kind, args, kwargs, output))


@contextmanager
def recording() -> Iterator[_Recorder]:
    """Log every op run inside the block (the patches are undone on exit)."""
    import importlib
    recorder = _Recorder()
    primitive_apply, function_apply = Primitive.__dict__["apply"], Function.__dict__["apply"]
    patched = [(importlib.import_module(module), name) for module, names in
               FUNCTIONAL_OPS.items() for name in names]
    originals = [getattr(module, name) for module, name in patched]

    def record_primitive(cls: type[Primitive], *args: Any, **kwargs: Any) -> Any:
        out = primitive_apply.__func__(cls, *args, **kwargs)
        recorder.record(cls.__name__, args, kwargs, out)
        return out

    def record_function(cls: type[Function], *args: Any, **kwargs: Any) -> Any:
        recorder.inside_functional += 1  # its forward's own ops are not the graph
        try:
            out = function_apply.__func__(cls, *args, **kwargs)
        finally:
            recorder.inside_functional -= 1
        recorder.record(f"function:{cls.__name__}", args, kwargs, out)
        return out

    def functional_op(name: str, original: Any) -> Any:
        def op(*args: Any, **kwargs: Any) -> Any:
            recorder.inside_functional += 1
            try:
                out = original(*args, **kwargs)
            finally:
                recorder.inside_functional -= 1
            recorder.record(name, args, kwargs, out)
            return out
        return op

    # apply patched for the export, restored below (mypy forbids assigning to a method)
    Primitive.apply = classmethod(record_primitive)  # type: ignore[method-assign, assignment]
    Function.apply = classmethod(record_function)  # type: ignore[method-assign, assignment]
    for (module, name), original in zip(patched, originals):
        setattr(module, name, functional_op(name, original))
    try:
        yield recorder
    finally:
        Primitive.apply = primitive_apply  # type: ignore[method-assign]
        Function.apply = function_apply  # type: ignore[method-assign]
        for (module, name), original in zip(patched, originals):
            setattr(module, name, original)


def arrays_of(value: Any) -> list[np.ndarray]:
    """The arrays an argument carries (a Tensor's, an ndarray, or those in a list/tuple)."""
    if isinstance(value, Tensor):
        return [value.data]
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for item in value for a in arrays_of(item)]
    return []


def outputs_of(value: Any) -> list[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in outputs_of(item)]
    return []


def check_same_program(first: list[Call], second: list[Call], known_first: set[int],
                       known_second: set[int]) -> None:
    """Two traces of the same model with different inputs must run the same ops, and every
    array that is a constant in them (neither produced by a recorded op nor a known input,
    parameter or buffer, by ``id``) must be equal: else it was computed from the input by
    code the recording cannot see, and exporting it as a constant would be wrong."""
    if [c.kind for c in first] != [c.kind for c in second]:
        raise RuntimeError("torch.onnx.export: the model ran different ops for two inputs "
                           "(data-dependent control flow cannot be exported)")
    for position, (a, b) in enumerate(zip(first, second)):
        for index, (x, y) in enumerate(zip(_all_arrays(a), _all_arrays(b))):
            constant_x, constant_y = id(x) not in known_first, id(y) not in known_second
            if constant_x != constant_y or (constant_x and not _same(x, y)):
                raise RuntimeError(
                    f"torch.onnx.export: operand {index} of op #{position} ({a.kind}) changes "
                    f"with the input but was not computed by a recorded op (NumPy code "
                    f"inside the model?); it cannot be exported as a constant")
        for known, call in ((known_first, a), (known_second, b)):
            known.update(id(t.data) for t in outputs_of(call.output))


def _all_arrays(call: Call) -> list[np.ndarray]:
    return [a for value in (*call.args, *call.kwargs.values()) for a in arrays_of(value)]


def _same(x: np.ndarray, y: np.ndarray) -> bool:
    return x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
