"""``torch.autograd.functional``: Jacobians, Hessians and their products with vectors, built
on reverse-mode ``grad``.

- ``vjp(f, x, v)`` = v^T J: one backward pass with ``grad_outputs = v``.
- ``jvp(f, x, v)`` = J v, by the double-backward trick PyTorch uses: g(u) = u^T J is linear
  in u, so J v = d(g(u) . v)/du, whatever u is (zeros here).
- ``jacobian`` stacks one vjp per output element (``vectorize`` is accepted and loops).
- ``hessian(f, x)`` is the Jacobian of the gradient; ``vhp`` = v^T H and ``hvp`` = H v
  (equal for the symmetric Hessians of twice-differentiable functions; ``hvp`` is computed
  as a jvp of the gradient, as in PyTorch).

As in PyTorch, the inputs are detached copies inside (the results carry no graph unless
``create_graph=True``, which keeps the graph back to the original inputs), and an output
that does not depend on an input gives zeros, or raises with ``strict=True``.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from .engine import grad as _grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(op: str, what: str, value: Any) -> tuple[bool, tuple]:
    """(was a tuple, the tensors as a tuple); refuses anything but Tensors."""
    is_tuple = isinstance(value, (tuple, list))
    values = tuple(value) if is_tuple else (value,)
    for i, v in enumerate(values):
        if not isinstance(v, Tensor):
            raise TypeError(f"The {what} given to {op} must be either a Tensor or a tuple of "
                            f"Tensors but the value at index {i} has type {type(v).__name__}.")
    return is_tuple, values


def _prepare_inputs(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs that require grad: views of the originals when the caller wants a graph back
    to them, detached copies otherwise."""
    prepared = []
    for x in inputs:
        if create_graph and x.requires_grad:
            prepared.append(x.view_as(x))
        else:
            prepared.append(x.detach().requires_grad_(True))
    return tuple(prepared)


def _finish(values: tuple, create_graph: bool) -> tuple:
    return tuple(v if create_graph else v.detach() for v in values)


def _grads(op: str, outputs: tuple, inputs: tuple, grad_outputs: tuple, create_graph: bool,
           strict: bool, retain_graph: bool = True) -> tuple:
    """d(sum_i <outputs_i, grad_outputs_i>)/d(inputs), zeros where unused (strict: raise)."""
    wanted = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    if wanted:
        found = _grad([o for o, _ in wanted], list(inputs), [g for _, g in wanted],
                      retain_graph=retain_graph, create_graph=create_graph,
                      allow_unused=True)
    else:
        found = (None,) * len(inputs)
    results = []
    for i, (g, x) in enumerate(zip(found, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent "
                                   f"of input {i}. This is not allowed in strict mode.")
            g = Tensor._wrap(np.zeros(x.shape, dtype=x.data.dtype), False)
        results.append(g)
    return tuple(results)


def _outputs_of(op: str, func: Callable, inputs: tuple) -> tuple[bool, tuple]:
    with enable_grad():
        result = func(*inputs)
    return _as_tuple(op, "outputs of the user-provided function", result)


def _vectors(op: str, v: Any, like: tuple, what: str) -> tuple:
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the {what} of the "
                               f"user-provided function is a single Tensor with a single "
                               f"element.")
        return (Tensor._wrap(np.ones(like[0].shape, dtype=like[0].data.dtype), False),)
    _, vectors = _as_tuple(op, "v", v)
    if len(vectors) != len(like):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got "
                           f"{len(vectors)}.")
    for i, (vec, ref) in enumerate(zip(vectors, like)):
        if tuple(vec.shape) != tuple(ref.shape):
            raise RuntimeError(f"Mismatch in size between the {what} ({tuple(ref.shape)}) "
                               f"and the vector v ({tuple(vec.shape)}) at index {i}.")
    return vectors


def _shaped(is_tuple: bool, values: tuple) -> Any:
    return values if is_tuple else values[0]


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T J): the vector-Jacobian product at ``inputs``."""
    inputs_tuple, xs = _as_tuple("vjp", "inputs", inputs)
    xs = _prepare_inputs(xs, create_graph)
    outputs_tuple, outs = _outputs_of("vjp", func, xs)
    vectors = _vectors("vjp", v, outs, "output")
    grads = _grads("vjp", outs, xs, vectors, create_graph, strict)
    return (_shaped(outputs_tuple, _finish(outs, create_graph)),
            _shaped(inputs_tuple, _finish(grads, create_graph)))


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by the double-backward trick."""
    inputs_tuple, xs = _as_tuple("jvp", "inputs", inputs)
    xs = _prepare_inputs(xs, create_graph)
    vectors = _vectors("jvp", v, xs, "input")
    outputs_tuple, outs = _outputs_of("jvp", func, xs)
    dummies = tuple(Tensor._wrap(np.zeros(o.shape, dtype=o.data.dtype), False)
                    .requires_grad_(True) for o in outs)
    with enable_grad():
        g = _grads("jvp", outs, xs, dummies, create_graph=True, strict=strict)
    paired = [(gi, vi) for gi, vi in zip(g, vectors) if gi.requires_grad]
    if paired:
        found = _grad([gi for gi, _ in paired], list(dummies), [vi for _, vi in paired],
                      retain_graph=True, create_graph=create_graph, allow_unused=True)
    else:
        found = (None,) * len(dummies)
    results = []
    for i, (r, o) in enumerate(zip(found, outs)):
        if r is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function at index {i} "
                                   f"is independent of the inputs. This is not allowed in "
                                   f"strict mode.")
            r = Tensor._wrap(np.zeros(o.shape, dtype=o.data.dtype), False)
        results.append(r)
    return (_shaped(outputs_tuple, _finish(outs, create_graph)),
            _shaped(outputs_tuple, _finish(tuple(results), create_graph)))


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """J[i][j] = d outputs[i] / d inputs[j], each of shape output.shape + input.shape (a
    Tensor for one output and one input, tuples otherwise)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         'Hint: If your function has a single input, "forward-mode" may '
                         'be more efficient.')
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("torch.autograd.functional.jacobian: `strategy=\"forward-"
                                  "mode\"` is only implemented together with `vectorize=True`.")
    inputs_tuple, xs = _as_tuple("jacobian", "inputs", inputs)
    xs = _prepare_inputs(xs, create_graph)
    outputs_tuple, outs = _outputs_of("jacobian", func, xs)
    rows = []
    for out in outs:
        per_input: list[list[Tensor]] = [[] for _ in xs]
        for index in range(out.numel()):
            basis = np.zeros(out.numel(), dtype=out.data.dtype)
            basis[index] = 1
            seed = Tensor._wrap(basis.reshape(out.shape), False)
            grads = _grads("jacobian", (out,), xs, (seed,), create_graph, strict)
            for position, g in enumerate(grads):
                per_input[position].append(g)
        blocks = []
        for x, column in zip(xs, per_input):
            if column:
                from ..ops.shape import stack
                block = stack(column).reshape(tuple(out.shape) + tuple(x.shape))
            else:
                block = Tensor._wrap(np.zeros(tuple(out.shape) + tuple(x.shape),
                                              dtype=x.data.dtype), False)
            blocks.append(block if create_graph else block.detach())
        rows.append(_shaped(inputs_tuple, tuple(blocks)))
    return _shaped(outputs_tuple, tuple(rows))


def _scalar_output(op: str, func: Callable) -> Callable:
    def checked(*xs: Tensor) -> Tensor:
        out = func(*xs)
        is_tuple, outs = _as_tuple(op, "outputs of the user-provided function", out)
        if is_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"The function given to {op} should return a single Tensor "
                               f"with a single element.")
        return outs[0]
    return checked


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """H[i][j] = d^2 f / d inputs[i] d inputs[j] of a scalar function, each of shape
    inputs[i].shape + inputs[j].shape."""
    inputs_tuple, xs = _as_tuple("hessian", "inputs", inputs)
    scalar = _scalar_output("hessian", func)

    def gradient(*ys: Tensor) -> tuple:
        with enable_grad():
            out = scalar(*ys)
            return _grads("hessian", (out,), ys, (Tensor._wrap(np.ones(out.shape,
                                                                        out.data.dtype),
                                                                False),),
                          create_graph=True, strict=strict)

    result = jacobian(gradient, xs, create_graph=create_graph, strict=strict,
                      vectorize=vectorize, strategy=outer_jacobian_strategy)
    if not inputs_tuple:
        return result[0][0]
    return result


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), v^T H): a vector-Hessian product of a scalar function."""
    inputs_tuple, xs = _as_tuple("vhp", "inputs", inputs)
    xs = _prepare_inputs(xs, create_graph)
    vectors = _vectors("vhp", v, xs, "input")
    with enable_grad():
        out = _scalar_output("vhp", func)(*xs)
        ones = Tensor._wrap(np.ones(out.shape, out.data.dtype), False)
        first = _grads("vhp", (out,), xs, (ones,), create_graph=True, strict=strict)
    products = _grads("vhp", first, xs, vectors, create_graph, strict)
    return (_finish((out,), create_graph)[0],
            _shaped(inputs_tuple, _finish(products, create_graph)))


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H v): a Hessian-vector product of a scalar function (the jvp of its
    gradient, by the double-backward trick)."""
    inputs_tuple, xs = _as_tuple("hvp", "inputs", inputs)
    xs = _prepare_inputs(xs, create_graph)
    vectors = _vectors("hvp", v, xs, "input")
    with enable_grad():
        out = _scalar_output("hvp", func)(*xs)
        ones = Tensor._wrap(np.ones(out.shape, out.data.dtype), False)
        first = _grads("hvp", (out,), xs, (ones,), create_graph=True, strict=strict)
        dummies = tuple(Tensor._wrap(np.zeros(x.shape, x.data.dtype), False)
                        .requires_grad_(True) for x in xs)
        transposed = _grads("hvp", first, xs, dummies, create_graph=True, strict=strict)
    products = _grads("hvp", transposed, dummies, vectors, create_graph, strict)
    return (_finish((out,), create_graph)[0],
            _shaped(inputs_tuple, _finish(products, create_graph)))
