"""In-place changes to tensors that take part in the autograd graph.

Without a graph (grad mode off, or nothing involved requires grad) an in-place op writes
the new values into the tensor's memory and bumps its version; that is ``Tensor._write``.
With a graph, PyTorch's semantics are kept by giving the changed tensor a new history:

    t.op_(other)   is   t <- op(t_before, other), recorded

``t`` keeps its identity and its memory: its values are overwritten, and its node becomes
the op's node, whose input ``t_before`` is a snapshot: a copy of the old values that takes
over t's old history. When ``t`` is a view of a base (``base[i]``, ``base.T``,
``base.view(...)``), the base's values change too, so the base gets the new history:

    base <- ViewPut(base_before, op(view(base_before), other))
    t    <- view(base)

``base[index] = value`` is the same, with ``base[index]`` as the view.

Refused as PyTorch refuses: changing in place, while grad is enabled, a leaf that requires
grad or a view of one. Refused here where PyTorch would look further: changing a tensor
that requires grad after another recorded op (other than a view) used it; that op's
gradient would flow through the new history. The error says to make the change out of
place.
"""
from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

from ..errors import ShapeError
from .namespace import TENSORS

__all__ = ["rebase_inplace"]


def rebase_inplace(tensor: Any, op: str, compute: Callable[[Any], Any],
                   extra_step: tuple = ()) -> Any:
    """Change ``tensor`` in place to ``compute(tensor_before)`` (a recorded computation),
    or, with ``extra_step`` (``(Index, index)`` for ``tensor[index] = ...``), change that
    view of it. Returns ``tensor``."""
    base, chain = view_chain(tensor)
    _check_can_rebase(tensor, base, op)
    chain += extra_step
    before = _snapshot(base)
    view_before = take_view(TENSORS, before, chain)
    result = _fitted(op, compute(view_before), view_before)
    new_base = ViewPut.apply(before, result, chain) if chain else result
    put_view(base.data, chain, result.data)
    base._version_counter[0] += 1
    _take_history(base, new_base)
    if tensor is not base:
        _take_history(tensor, take_view(TENSORS, base, chain[:len(chain) - len(extra_step)]))
    return tensor


def view_chain(tensor: Any) -> tuple[Any, tuple]:
    """The tensor whose memory ``tensor`` views through recorded view ops, and the chain of
    those ops (``ViewPut`` steps) from it to ``tensor``."""
    steps = []
    while tensor._ctx is not None and type(tensor._ctx).returns_view:
        node = tensor._ctx
        if node.released:
            raise RuntimeError("an in-place change through a view whose graph was already "
                               "freed by backward(); take the view again after backward")
        parent = node.inputs[0]
        if not np.shares_memory(tensor.data, parent.data):
            break
        steps.append(node.view_step(tensor.shape))
        tensor = parent
    return tensor, tuple(reversed(steps))


def _check_can_rebase(tensor: Any, base: Any, op: str) -> None:
    if tensor._requires_grad and tensor._ctx is None:
        raise RuntimeError(f"{op}: a leaf tensor that requires grad is being used in an "
                           f"in-place operation; wrap the update in "
                           f"`with abdou_torch.no_grad():` (as optimizers do)")
    if base is not tensor and base._requires_grad and base._ctx is None:
        raise RuntimeError(f"{op}: a view of a leaf tensor that requires grad is being used "
                           f"in an in-place operation; change the leaf under "
                           f"`with abdou_torch.no_grad():`, or work on a copy (.clone())")
    for used in (tensor, base):
        if used._requires_grad and used._used:
            raise RuntimeError(
                f"{op}: this tensor (or the tensor it is a view of) was already used by "
                f"another recorded op, whose gradient would then go through this in-place "
                f"change; make the change out of place (y = x + 1 rather than x += 1)")


def _snapshot(tensor: Any) -> Any:
    """A copy of ``tensor``'s values that takes over its history: what the graph calls
    ``tensor`` before the in-place change."""
    before = Tensor._wrap(tensor.data.copy(), tensor._requires_grad)
    before._ctx, before._prev = tensor._ctx, tensor._prev
    return before


def _fitted(op: str, result: Any, region: Any) -> Any:
    """``result`` broadcast to the changed region's shape and cast to its dtype, as an
    in-place write requires."""
    if result.shape != region.shape:
        try:
            np.broadcast_shapes(result.shape, region.shape)
        except ValueError:
            raise ShapeError(f"{op}: a value of shape {tuple(result.shape)} does not fit a "
                             f"tensor of shape {tuple(region.shape)}") from None
        result = result.expand(region.shape)
    if result.dtype != region.dtype:
        if not np.can_cast(result.dtype, region.dtype, casting="same_kind"):
            raise TypeError(f"{op}: result type {result.dtype} can't be cast to the tensor's "
                            f"dtype {region.dtype}")
        result = result.to(region.dtype)
    return result


def _take_history(target: Any, source: Any) -> None:
    """Make ``target`` the output of ``source``'s node (its values are already in place)."""
    target._ctx, target._prev = source._ctx, source._prev
    target._requires_grad = source._requires_grad
    node = source._ctx
    if node is not None and node.saves_output:
        node._output_ref = weakref.ref(target)
        node._output_version = target._version_counter[0]


# Imported last: the ops import the autograd package while they load.
from ..ops.shape import ViewPut, put_view, take_view  # noqa: E402
from ..tensor import Tensor  # noqa: E402
