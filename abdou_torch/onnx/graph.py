"""Building the ONNX graph from a recorded forward pass.

Values are tracked by the identity of their NumPy arrays (``id(tensor.data)``): a
``detach()`` shares its array, so it is the same value; the model's inputs, parameters and
buffers are named first; any other array an op receives becomes a constant initializer.
"""
from __future__ import annotations

from typing import Any, NoReturn, Sequence

import numpy as np

from ..tensor import Tensor
from .tracing import Call

__all__ = ["GraphBuilder", "UnsupportedOperatorError"]


class UnsupportedOperatorError(RuntimeError):
    """An op of the model has no ONNX translation here (as ``torch.onnx.errors``)."""


class GraphBuilder:
    """Collects ONNX nodes, initializers and names; ``onnx`` is the imported package."""

    def __init__(self, onnx: Any, opset: int, dynamic_batch: dict[int, int]) -> None:
        self.onnx = onnx
        self.opset = opset
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.names: dict[int, str] = {}      # id(array) -> ONNX value name
        self.arrays: list[np.ndarray] = []   # keeps named arrays alive (ids stay unique)
        self.counter = 0
        # ops (by position) whose shape argument has the batch size in dim 0, for batch-
        # dynamic exports: position -> the traced batch size
        self.dynamic_batch = dynamic_batch
        self.position = 0

    # -- names ----------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"/{hint}_{self.counter}"

    def bind(self, array: np.ndarray, name: str) -> None:
        self.names[id(array)] = name
        self.arrays.append(array)

    def value(self, x: Any) -> str:
        """The ONNX name of a Tensor or array argument (a constant if nothing made it)."""
        array = x.data if isinstance(x, Tensor) else np.asarray(x)
        name = self.names.get(id(array))
        if name is None:
            name = self.constant(array)
            self.bind(array, name)
        return name

    def constant(self, array: np.ndarray, hint: str = "Constant") -> str:
        name = self.fresh(hint)
        self.initializer(name, np.asarray(array))
        return name

    def initializer(self, name: str, array: np.ndarray) -> None:
        from onnx import numpy_helper
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))

    def onnx_dtype(self, dtype: np.dtype) -> int:
        return self.onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    # -- nodes ----------------------------------------------------------------------------
    def node(self, op_type: str, inputs: list[str], **attributes: Any) -> str:
        output = self.fresh(op_type)
        self.nodes.append(self.onnx.helper.make_node(op_type, inputs, [output], **attributes))
        return output

    def reduce(self, op_type: str, x: str, axes: list[int], keepdims: bool) -> str:
        """ReduceSum takes its axes as an input from opset 13, the others from opset 18."""
        if op_type == "ReduceSum" or self.opset >= 18:
            axes_name = self.constant(np.asarray(axes, dtype=np.int64))
            return self.node(op_type, [x, axes_name], keepdims=int(keepdims))
        return self.node(op_type, [x], axes=axes, keepdims=int(keepdims))

    def shape_constant(self, call: Call, shape: Sequence[int]) -> str:
        """A target shape; in a batch-dynamic export, dim 0 copied from the input (0)."""
        shape = list(shape)
        if self.position in self.dynamic_batch:
            if not shape or shape[0] != self.dynamic_batch[self.position] \
                    or np.shape(call.args[0])[:1] != (shape[0],):
                self.unsupported(call, "its shape follows the batch size in a way only "
                                       "dim 0 to dim 0 can be exported")
            shape[0] = 0  # ONNX Reshape/Expand: 0 copies the input's dimension
        return self.constant(np.asarray(shape, dtype=np.int64))

    def index(self, x: str, ndim: int, index: tuple) -> str:
        """Basic indexing (ints, slices with positive steps, None, Ellipsis) and integer
        arrays on one axis, as Slice, Gather, Squeeze and Unsqueeze nodes."""
        if sum(part is Ellipsis for part in index) > 1:
            raise UnsupportedOperatorError("torch.onnx.export: an index with two '...'")
        if Ellipsis in index:
            at = index.index(Ellipsis)
            fill = ndim - (len(index) - 1 - sum(part is None for part in index))
            index = index[:at] + (slice(None),) * fill + index[at + 1:]
        squeeze: list[int]  # axes, as the Squeeze and Unsqueeze nodes take them
        unsqueeze: list[int]
        axis, squeeze, unsqueeze = 0, [], []
        for part in index:
            if part is None:
                unsqueeze.append(axis + len(unsqueeze) - len(squeeze))
                continue
            x = self._index_axis(x, axis, part, squeeze)
            axis += 1
        if squeeze:
            x = self.node("Squeeze", [x, self.constant(np.asarray(squeeze, np.int64))])
        if unsqueeze:
            x = self.node("Unsqueeze", [x, self.constant(np.asarray(unsqueeze, np.int64))])
        return x

    def _index_axis(self, x: str, axis: int, part: Any, squeeze: list[int]) -> str:
        if isinstance(part, (int, np.integer)):
            squeeze.append(axis)
            return self._slice(x, axis, int(part), int(part) + 1 if part != -1 else 2**62, 1)
        if isinstance(part, slice):
            if part == slice(None):
                return x
            step = 1 if part.step is None else part.step
            if step <= 0:
                raise UnsupportedOperatorError("torch.onnx.export: slices with a step <= 0")
            start = 0 if part.start is None else part.start
            stop = 2**62 if part.stop is None else part.stop
            return self._slice(x, axis, start, stop, step)
        if isinstance(part, np.ndarray) and part.dtype.kind in "iu":
            return self.node("Gather", [x, self.value(part)], axis=axis)
        raise UnsupportedOperatorError(f"torch.onnx.export: indexing with "
                                       f"{type(part).__name__} cannot be exported")

    def _slice(self, x: str, axis: int, start: int, stop: int, step: int) -> str:
        values = [self.constant(np.asarray([v], dtype=np.int64))
                  for v in (start, stop, axis, step)]
        return self.node("Slice", [x, *values])

    def unsupported(self, call: Call, why: str = "") -> NoReturn:
        detail = f" ({why})" if why else ""
        raise UnsupportedOperatorError(
            f"torch.onnx.export: the op {call.kind!r} has no ONNX translation in abdou_torch"
            f"{detail}; supported: see abdou_torch/onnx/symbolic.py")
