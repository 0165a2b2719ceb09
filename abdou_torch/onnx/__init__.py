"""``torch.onnx.export``: a model's forward pass as an ONNX file that onnxruntime runs.

How: the model runs once in eval mode on the example inputs while every op is recorded
(:mod:`.tracing`); the op table (:mod:`.symbolic`) turns each recorded op into ONNX nodes;
parameters and buffers become initializers named as in ``state_dict()``. A second forward
with other input values (or, for a batch-dynamic export, one more example) must run the
same ops with the same constants, so that nothing the recording cannot see (NumPy code
depending on the input, data-dependent branches) is silently frozen into the graph.

Covered: Linear, the activations (ReLU, LeakyReLU, Sigmoid, Tanh, GELU, SiLU, Softplus,
LogSigmoid), Softmax/LogSoftmax, Conv2d/Conv1d, max and average pooling (adaptive too),
BatchNorm in eval mode, Flatten, Dropout in eval mode, Embedding, and arithmetic, matmul,
reductions, reshapes, concatenation, padding and basic indexing between them. Anything
else raises :class:`UnsupportedOperatorError` naming the op.

Needs the optional ``onnx`` extra (``pip install 'abdou_torch[onnx]'``: onnx, onnxruntime).
"""
from __future__ import annotations

import enum
import io
import os
from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor
from .graph import GraphBuilder, UnsupportedOperatorError
from .symbolic import SYMBOLIC
from .tracing import check_same_program, outputs_of, recording

__all__ = ["export", "TrainingMode", "UnsupportedOperatorError", "DEFAULT_OPSET"]

DEFAULT_OPSET = 17
_OPSETS = range(13, 22)


class TrainingMode(enum.IntEnum):
    """``torch.onnx.TrainingMode``: only the eval-mode graph can be exported here."""

    EVAL = 0
    PRESERVE = 1
    TRAINING = 2


def export(model: Any, args: Any, f: Any, export_params: bool = True, verbose: bool = False,
           training: Any = None, input_names: Sequence[str] | None = None,
           output_names: Sequence[str] | None = None, opset_version: int | None = None,
           dynamic_axes: dict | None = None, do_constant_folding: bool = True,
           keep_initializers_as_inputs: bool | None = None, dynamo: bool = False,
           **kwargs: Any) -> None:
    """Export ``model(*args)`` to the ONNX file (path or binary file object) ``f``.

    ``args`` is a Tensor or a tuple of Tensors. ``input_names``/``output_names`` name the
    graph's inputs and outputs (default ``input``, ``input.1`` ... and ``output``,
    ``output.1`` ...). ``dynamic_axes`` may mark dim 0 (the batch) of inputs and outputs as
    free, as ``{"input": {0: "batch"}, "output": {0: "batch"}}`` or ``{"input": [0]}``.
    ``do_constant_folding``, ``verbose``, ``dynamo`` and ``keep_initializers_as_inputs``
    are accepted; there is nothing to fold (constants are already arrays) or to trace with
    another engine. ``export_params=False`` makes the parameters graph inputs instead of
    initializers.
    """
    onnx = _import_onnx()
    opset = DEFAULT_OPSET if opset_version is None else int(opset_version)
    if opset not in _OPSETS:
        raise ValueError(f"torch.onnx.export: opset_version {opset} is not supported here "
                         f"(supported: {_OPSETS.start}..{_OPSETS.stop - 1})")
    preserve_training = training == TrainingMode.PRESERVE and getattr(model, "training", False)
    if training == TrainingMode.TRAINING or preserve_training:
        raise NotImplementedError("torch.onnx.export: only the eval-mode graph can be exported "
                                  "(training=TrainingMode.EVAL, the default)")
    inputs = _as_inputs(args)
    input_names = _names(input_names, len(inputs), "input")
    dynamic = _dynamic_batch_names(dynamic_axes)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        data = _build(onnx, model, inputs, input_names, output_names, opset, dynamic,
                      export_params)
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    _write(f, data)


def _import_onnx() -> Any:
    try:
        import onnx
    except ModuleNotFoundError as error:
        if error.name != "onnx":
            raise
        raise ImportError("torch.onnx.export (abdou_torch.onnx) needs the onnx package: pip "
                          "install 'abdou_torch[onnx]' (or pip install onnx)") from None
    return onnx


def _as_inputs(args: Any) -> tuple[Tensor, ...]:
    args = args if isinstance(args, tuple) else (args,)
    if args and isinstance(args[-1], dict):
        raise NotImplementedError("torch.onnx.export: keyword arguments for forward (a dict "
                                  "as the last element of args) are not supported")
    for position, arg in enumerate(args):
        if not isinstance(arg, Tensor):
            raise TypeError(f"torch.onnx.export: args[{position}] is a {type(arg).__name__}; "
                            f"expected Tensors")
    return args


def _names(given: Sequence[str] | None, count: int, stem: str) -> list[str]:
    given = list(given or [])
    return given[:count] + [stem if i == 0 else f"{stem}.{i}" for i in range(len(given), count)]


def _dynamic_batch_names(dynamic_axes: dict | None) -> dict[str, str]:
    """``{value name: dim-0 symbol}``; only the batch dimension can be dynamic here."""
    result = {}
    for name, axes in (dynamic_axes or {}).items():
        axes = axes if isinstance(axes, dict) else {axis: f"{name}_dynamic_axes_{axis}"
                                                    for axis in axes}
        if set(axes) - {0}:
            raise NotImplementedError(f"torch.onnx.export: dynamic_axes[{name!r}] marks dims "
                                      f"{sorted(axes)}; only dim 0 (the batch) can be dynamic")
        if axes:
            result[name] = str(axes[0])
    return result


def _trace(model: Any, inputs: tuple[Tensor, ...]) -> tuple[list, Any]:
    from ..autograd.grad_mode import no_grad
    with no_grad(), recording() as recorder:
        outputs = model(*inputs)
    return recorder.calls, outputs


def _other_inputs(inputs: tuple[Tensor, ...], grow_batch: bool) -> tuple[Tensor, ...]:
    """Inputs with other values (floats moved, integers reversed), one longer in dim 0 for a
    batch-dynamic export."""
    others = []
    for x in inputs:
        array = x.data
        if grow_batch and array.ndim:
            array = np.concatenate([array, array[-1:]], axis=0)
        if array.dtype.kind == "f":
            array = (array * 1.25 + 0.375).astype(array.dtype)
        elif array.ndim:
            array = np.ascontiguousarray(array[::-1])
        others.append(Tensor(array))
    return tuple(others)


def _build(onnx: Any, model: Any, inputs: tuple[Tensor, ...], input_names: list[str],
           output_names: Sequence[str] | None, opset: int, dynamic: dict[str, str],
           export_params: bool) -> bytes:
    state = _named_state(model)
    calls, outputs = _trace(model, inputs)
    second_inputs = _other_inputs(inputs, grow_batch=bool(dynamic))
    second_calls, _ = _trace(model, second_inputs)
    check_same_program(calls, second_calls,
                       {id(x.data) for x in inputs} | set(state),
                       {id(x.data) for x in second_inputs} | set(state))
    batch_ops = _batch_dependent_shapes(calls, second_calls) if dynamic else {}
    graph = GraphBuilder(onnx, opset, batch_ops)
    declared_inputs = _declare_inputs(graph, inputs, input_names, dynamic)
    declared_params = _declare_state(graph, state, export_params)
    for position, call in enumerate(calls):
        graph.position = position
        emit = SYMBOLIC.get(call.kind)
        if emit is None:
            graph.unsupported(call)
        produced = outputs_of(call.output)
        if len(produced) != 1:
            graph.unsupported(call, "ops with several outputs")
        graph.bind(produced[0].data, emit(graph, call))
    declared_outputs = _declare_outputs(graph, outputs, output_names, dynamic)
    declared_params = _drop_unused(graph, declared_params)
    graph_proto = onnx.helper.make_graph(graph.nodes, "abdou_torch", declared_inputs
                                         + declared_params, declared_outputs,
                                         initializer=graph.initializers)
    model_proto = onnx.helper.make_model(
        graph_proto, opset_imports=[onnx.helper.make_opsetid("", opset)],
        producer_name="abdou_torch")
    model_proto.ir_version = min(model_proto.ir_version, 8)  # readable by older runtimes
    onnx.checker.check_model(model_proto)
    return model_proto.SerializeToString()


def _named_state(model: Any) -> dict[int, tuple[str, np.ndarray]]:
    """id(array) -> (state_dict name, array) for every parameter and buffer."""
    named: dict[int, tuple[str, np.ndarray]] = {}
    for getter in ("named_parameters", "named_buffers"):
        for name, tensor in getattr(model, getter, lambda: [])():
            named.setdefault(id(tensor.data), (name, tensor.data))
    return named


def _batch_dependent_shapes(first: list, second: list) -> dict[int, int]:
    """Ops whose shape argument differs between a batch of B and one of B + 1."""
    changed = {}
    for position, (a, b) in enumerate(zip(first, second)):
        if a.kind in ("Reshape", "Expand") and tuple(a.args[1]) != tuple(b.args[1]):
            changed[position] = a.args[1][0] if a.args[1] else -1
    return changed


def _drop_unused(graph: GraphBuilder, declared_params: list[Any]) -> list[Any]:
    """Leave out parameters and buffers no node reads (num_batches_tracked ...)."""
    used = {name for node in graph.nodes for name in node.input}
    graph.initializers = [i for i in graph.initializers if i.name in used]
    return [p for p in declared_params if p.name in used]


def _value_info(graph: GraphBuilder, name: str, array: np.ndarray, batch: str | None) -> Any:
    shape = list(array.shape)
    if batch is not None and shape:
        shape[0] = batch
    return graph.onnx.helper.make_tensor_value_info(name, graph.onnx_dtype(array.dtype), shape)


def _declare_inputs(graph: GraphBuilder, inputs: tuple[Tensor, ...], names: list[str],
                    dynamic: dict[str, str]) -> list[Any]:
    declared = []
    for tensor, name in zip(inputs, names):
        if id(tensor.data) in graph.names:
            raise ValueError(f"torch.onnx.export: input {name!r} is passed twice")
        graph.bind(tensor.data, name)
        declared.append(_value_info(graph, name, tensor.data, dynamic.get(name)))
    return declared


def _declare_state(graph: GraphBuilder, state: dict, export_params: bool) -> list[Any]:
    declared = []
    for name, array in state.values():
        graph.bind(array, name)
        if export_params:
            graph.initializer(name, array)
        else:
            declared.append(_value_info(graph, name, array, None))
    return declared


def _declare_outputs(graph: GraphBuilder, outputs: Any, names: Sequence[str] | None,
                     dynamic: dict[str, str]) -> list[Any]:
    tensors = outputs_of(outputs)
    if not tensors:
        raise TypeError("torch.onnx.export: the model returned no Tensor")
    declared = []
    for tensor, name in zip(tensors, _names(names, len(tensors), "output")):
        source = graph.value(tensor)
        graph.nodes.append(graph.onnx.helper.make_node("Identity", [source], [name]))
        declared.append(_value_info(graph, name, tensor.data, dynamic.get(name)))
    return declared


def _write(f: Any, data: bytes) -> None:
    """A path is written atomically (as checkpoints are); a file object gets the bytes."""
    if hasattr(f, "write") and not isinstance(f, (str, bytes, os.PathLike)):
        if isinstance(f, io.TextIOBase):
            raise TypeError("torch.onnx.export: open the file in binary mode ('wb')")
        f.write(data)
        return
    from ..serialization import _atomic_write, _as_path
    _atomic_write(_as_path(f), data)
