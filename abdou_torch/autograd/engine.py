"""The graph walk: reverse-mode differentiation over the recorded graph.

``backward`` orders the nodes that require grad topologically (iteratively, so a chain of
100,000 ops needs no recursion), then visits them from the output back to the leaves. Each
node's incoming gradients are summed before its backward formula runs; the engine alone
undoes broadcasting (sums a gradient back to its input's shape), casts it to the input's
dtype, and accumulates it.

There is one walk, over one of two array namespaces (``autograd/namespace.py``):

- ``ARRAYS`` (the training loop's case): the gradients are plain NumPy arrays, and a node's
  formula makes no Tensor and no graph node; only the gradients finally stored in ``.grad``
  become Tensors;
- ``TENSORS`` with ``create_graph=True``: the gradients are Tensors and the formulas run
  with grad mode on, so the backward pass is itself recorded (higher derivatives).
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from . import hooks as tensor_hooks
from .anomaly import AnomalyMode, check_gradients
from .grad_mode import set_grad_enabled
from .namespace import ARRAYS, TENSORS, Namespace

__all__ = ["backward", "grad"]


def topological_order(roots: Iterable) -> list:
    """Nodes reachable from ``roots`` that require grad, every parent before its children."""
    order: list = []
    visited: set[int] = set()
    stack = [(root, False) for root in roots if root._requires_grad]
    push, pop, visit, emit = stack.append, stack.pop, visited.add, order.append
    while stack:
        node, parents_done = pop()
        if parents_done:
            emit(node)
            continue
        if id(node) in visited:
            continue
        visit(id(node))
        push((node, True))
        for parent in node._prev:
            if parent._requires_grad and id(parent) not in visited:
                push((parent, False))
    return order


def _as_gradient(xp: Namespace, value, like: np.ndarray):
    """``value`` as a gradient of this walk's kind with the shape and dtype of ``like``."""
    kind = np.ndarray if xp.arrays else Tensor
    if type(value) is kind and value.shape == like.shape and value.dtype == like.dtype:
        return value
    if xp.arrays:
        value = np.asarray(value.data if isinstance(value, Tensor) else value)
    elif not isinstance(value, Tensor):
        value = Tensor(np.asarray(value))
    if value.shape != like.shape:
        value = xp.sum_to(value, like.shape)
    if value.dtype != like.dtype:
        value = xp.cast(value, like.dtype)
    return value


def _initial_gradient(root, gradient):
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; this output has "
                f"shape {tuple(root.shape)}. Reduce it first (out.sum().backward()) or pass "
                f"backward(gradient=...) with a tensor of that shape.")
        return Tensor._wrap(np.array(1, dtype=root.dtype).reshape(root.shape), False)
    if not isinstance(gradient, (Tensor, np.ndarray)):
        raise TypeError(f"backward: gradients can be Tensors (or None), but got "
                        f"{type(gradient).__name__}")
    gradient = gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient))
    if gradient.shape != root.shape:
        raise RuntimeError(f"backward: gradient has shape {tuple(gradient.shape)} but the "
                           f"output has shape {tuple(root.shape)}")
    return gradient if gradient.dtype == root.dtype else gradient.to(root.dtype)


def _accumulate(pending: dict, node, grad) -> None:
    previous = pending.get(id(node))
    pending[id(node)] = grad if previous is None else previous + grad


def _store_leaf_grad(node, grad, create_graph: bool) -> None:
    """Accumulate into ``node.grad``: a private copy on first write, in place afterwards.

    Under create_graph a gradient that is part of the graph is stored as is (later sums are
    out of place); any other is copied, so that the in-place sum never writes into a tensor
    shared with another gradient or into a read-only broadcast view.
    """
    current = node._grad
    if current is None:
        node._grad = grad if create_graph and grad.requires_grad else \
            Tensor._wrap(np.array(grad.data, copy=True), False)
        return
    if current.data.shape != grad.data.shape or current.data.dtype != grad.data.dtype:
        _check_accumulates(node, current.data, grad.data)
    if create_graph or current.requires_grad or not current.data.flags.writeable:
        node._grad = current + grad
    else:
        np.add(current.data, grad.data, out=current.data)


def _check_accumulates(node, current: np.ndarray, grad: np.ndarray) -> None:
    """A ``.grad`` changed through ``.grad.data`` may no longer hold the gradient: say so,
    naming the shapes and dtypes, before NumPy fails inside the sum."""
    try:
        fits = np.broadcast_shapes(current.shape, grad.shape) == current.shape
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"backward: the gradient of shape {tuple(grad.shape)} cannot be "
                           f"accumulated into the existing .grad of shape "
                           f"{tuple(current.shape)} (of a tensor of shape "
                           f"{tuple(node.shape)}); set .grad to None or zero it")
    if not np.can_cast(np.result_type(current, grad), current.dtype, casting="same_kind"):
        raise RuntimeError(f"backward: the {grad.dtype} gradient cannot be accumulated into "
                           f"the existing .grad of dtype {current.dtype} (of a {node.dtype} "
                           f"tensor); set .grad to None or zero it")


def run_backward(roots: Sequence, root_grads: Sequence, retain_graph: bool,
                 create_graph: bool, capture: Sequence | None = None) -> list | None:
    """Backpropagate ``root_grads`` from ``roots``.

    Without ``capture``, gradients accumulate into the ``.grad`` of leaves (and of tensors
    that called ``retain_grad()``). With ``capture``, the gradients of those tensors are
    returned instead and no ``.grad`` is touched (``autograd.grad``).
    """
    xp = TENSORS if create_graph else ARRAYS
    order = topological_order(roots)
    pending: dict[int, object] = {}
    for root, root_grad in zip(roots, root_grads):
        if root.requires_grad:
            _accumulate(pending, root, xp.value(root_grad))
    wanted = {id(t): i for i, t in enumerate(capture)} if capture is not None else None
    captured: list = [None] * len(capture) if capture is not None else []
    with set_grad_enabled(create_graph):
        for node in reversed(order):
            grad = pending.pop(id(node), None)
            if grad is None:
                continue
            if tensor_hooks.registered:  # only while some tensor has hooks
                hooks = tensor_hooks.hooks_of(node)
                if hooks:
                    grad = tensor_hooks.apply_hooks(hooks, node, grad, xp.arrays)
            if wanted is not None:
                if id(node) in wanted:
                    captured[wanted[id(node)]] = _owned(grad) if xp.arrays else grad
            elif node._ctx is None or node._retains_grad:
                _store_leaf_grad(node, _tensor(grad), create_graph)
            if node._ctx is not None:
                _propagate(xp, node._ctx, grad, pending, retain_graph)
    return captured if capture is not None else None


def _tensor(grad):
    return grad if type(grad) is Tensor else Tensor._wrap(grad, False)


def _owned(grad: np.ndarray):
    """A returned gradient as a Tensor with its own writable memory: an array from the
    walk may be a read-only broadcast view, or the same array given to another input."""
    return Tensor._wrap(np.array(grad, copy=True), False)


def _propagate(xp: Namespace, ctx, grad, pending: dict, retain_graph: bool) -> None:
    """Run one node's backward formula and queue the gradients for its inputs.

    A formula may return the gradient it was given, or one value for several inputs, so
    gradients are never added to in place here: a sum is a new value.
    """
    ctx.check_versions()
    input_grads = ctx.vjp(xp, grad)
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    if AnomalyMode.enabled:
        check_gradients(ctx.name, getattr(ctx, "_site", None), input_grads)
    # zip stops at the shorter sequence: missing trailing gradients count as None
    for parent, needs, input_grad in zip(ctx.inputs, ctx.needs_input_grad, input_grads):
        if needs and input_grad is not None:
            input_grad = _as_gradient(xp, input_grad, parent.data)
            key = id(parent)
            previous = pending.get(key)
            pending[key] = input_grad if previous is None else previous + input_grad
    if not retain_graph:
        ctx.release()


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs=None) -> None:
    """Accumulate into leaves' ``.grad`` the gradient of ``tensors`` (``Tensor.backward``)."""
    if grad_tensors is None and inputs is None and isinstance(tensors, Tensor) \
            and tensors._requires_grad:  # loss.backward(): the training loop's call
        retain = create_graph if retain_graph is None else retain_graph
        run_backward((tensors,), (_initial_gradient(tensors, None),), retain, create_graph)
        return
    roots = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, (Tensor, np.ndarray)):
        grad_tensors = [grad_tensors] * len(roots) if grad_tensors is None else [grad_tensors]
    for root in roots:
        if not root.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: "
                "backward() needs an output computed from a tensor with requires_grad=True "
                "(and outside no_grad)")
    grads = [_initial_gradient(r, g) for r, g in zip(roots, grad_tensors)]
    retain = create_graph if retain_graph is None else retain_graph
    if inputs is None:
        run_backward(roots, grads, retain, create_graph)
        return
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not inputs:
        raise RuntimeError("backward: the `inputs` argument cannot be empty (leave it out to "
                           "accumulate into every leaf)")
    for position, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"backward: inputs[{position}] does not require grad, so no "
                               f"gradient can be accumulated into it")
    results = run_backward(roots, grads, retain, create_graph, capture=inputs)
    for tensor, result in zip(inputs, results):
        if result is not None:
            _store_leaf_grad(tensor, result, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned, not accumulated.

    With ``create_graph=True`` the returned gradients are themselves differentiable, which
    gives second derivatives (Hessian-vector products, gradient penalties).

    >>> import abdou_torch as torch
    >>> x = torch.tensor(3.0, requires_grad=True)
    >>> (dy,) = torch.autograd.grad(x ** 3, x, create_graph=True)    # 3x² = 27
    >>> (d2y,) = torch.autograd.grad(dy, x)                          # 6x = 18
    >>> dy.item(), d2y
    (27.0, tensor(18.))
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single_input = isinstance(inputs, Tensor)
    inputs = [inputs] if single_input else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    for position, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(f"autograd.grad: input {position} does not require grad")
    grads = [_initial_gradient(o, g) for o, g in zip(outputs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    results = run_backward(outputs, grads, retain, create_graph, capture=inputs)
    for position, result in enumerate(results):
        if result is None and not allow_unused:
            raise RuntimeError(
                f"autograd.grad: input {position} was not used to compute the outputs; "
                f"pass allow_unused=True to get None for it")
    return tuple(results)


# Imported last: the tensor module imports this package while it loads.
from ..tensor import Tensor  # noqa: E402
