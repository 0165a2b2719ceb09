"""Custom Functions with several outputs, on an engine whose nodes have one output each.

``forward`` may return a tuple, as in PyTorch. The differentiable outputs (floating
tensors not marked with ``ctx.mark_non_differentiable``) are joined into one flat tensor,
the node's single output ``packed``; each returned output is a slice of ``packed``
reshaped back, so the engine sums the gradients of all outputs into d(packed):

    packed = [vec(y_1), vec(y_2), ...],   y_k = packed[offset_k : offset_k + size_k]
    d(packed) = [vec(dy_1), vec(dy_2), ...]   (zeros where an output got no gradient)

The node's backward splits d(packed) again and calls the user's ``backward(ctx, dy_1,
dy_2, ...)`` with one gradient per returned output: the zeros of a non-differentiable or
unused output's shape (PyTorch's materialized gradients), or None after
``ctx.set_materialize_grads(False)``.
"""
from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["link_outputs", "split_gradient"]


class OutputLayout:
    """Where each returned output lives in ``packed``: (position, shape, offset, dtype)."""

    def __init__(self, outputs: tuple, differentiable: list[int]) -> None:
        self.count = len(outputs)
        self.slots: list[tuple[int, tuple, int]] = []
        self.others = {i: (tuple(o.shape), o.data.dtype) for i, o in enumerate(outputs)
                       if i not in differentiable and hasattr(o, "data")}
        offset = 0
        for i in differentiable:
            shape = tuple(outputs[i].shape)
            self.slots.append((i, shape, offset))
            offset += int(np.prod(shape, dtype=np.int64))


def _is_differentiable(value: Any, marked: set[int], tensor_type: Any) -> bool:
    return (isinstance(value, tensor_type) and value.dtype.kind in "fc"
            and id(value) not in marked)


def link_outputs(node: Any, args: tuple, outputs: tuple, linked: bool) -> tuple:
    """The outputs to hand back for a tuple-returning ``forward``: slices of one packed
    node output where they are differentiable (and ``linked``: grad mode on and an input
    requiring grad), fresh tensors outside the graph otherwise."""
    from ..ops.shape import reshape  # ops build on autograd
    from ..tensor import Tensor
    marked: set[int] = getattr(node, "_non_differentiable", set())
    fresh = [Tensor._wrap(o.data, False) if isinstance(o, Tensor) else o for o in outputs]
    differentiable = [i for i, o in enumerate(outputs) if _is_differentiable(o, marked, Tensor)]
    if not linked or not differentiable:
        return tuple(fresh)
    dtypes = {outputs[i].dtype for i in differentiable}
    if len(dtypes) > 1:
        raise NotImplementedError(f"{type(node).__name__}.forward returned differentiable "
                                  f"outputs of several dtypes ({sorted(map(str, dtypes))}): "
                                  f"abdou_torch joins them into one, so they must share one")
    layout = OutputLayout(outputs, differentiable)
    packed = Tensor._wrap(np.concatenate([outputs[i].data.reshape(-1) for i in differentiable]),
                          False)
    node._output_layout = layout
    node._link(args, packed)
    for i, shape, offset in layout.slots:
        size = int(np.prod(shape, dtype=np.int64))
        fresh[i] = reshape(packed[offset:offset + size], shape)
    return tuple(fresh)


def split_gradient(node: Any, grad: Any, wrap: Any) -> tuple:
    """The user backward's arguments from d(packed): one per returned output."""
    layout: OutputLayout = node._output_layout
    materialize = getattr(node, "materialize_grads", True)
    grads: list[Any] = [None] * layout.count
    for i, shape, offset in layout.slots:
        size = int(np.prod(shape, dtype=np.int64))
        grads[i] = wrap(grad[offset:offset + size].reshape(shape))
    if materialize:
        for i, (shape, dtype) in layout.others.items():
            grads[i] = wrap(np.zeros(shape, dtype=dtype))
    return tuple(grads)
