"""``torch.utils.checkpoint``: trade compute for memory by recomputing a segment in backward.

``checkpoint(segment, *args)`` runs ``segment`` and keeps none of its intermediate values:
only its inputs and output enter the graph, through one node. When backward reaches that
node, it runs ``segment`` again on the saved inputs (with the random-number state of the
first run, so dropout draws the same masks) and takes the gradients of the recomputed
output with respect to the inputs and to every tensor the segment reads that requires
grad (its parameters):

    d loss / d theta = (d output / d theta)^T (d loss / d output),  theta = inputs, parameters

Memory: a segment's activations live only while it is first run and while it is
recomputed, instead of from forward to backward. Gradients equal the plain run's (the same
ops on the same values). Both of PyTorch's modes (``use_reentrant`` True or False) give
these gradients here, including when no input requires grad (the parameters are found by
walking the segment's graph once, in the first run).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from ..autograd.engine import grad
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Any = None, determinism_check: str = "default",
               debug: bool = False, preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, recomputed in backward instead of stored (see the
    module's text). Returns what ``function`` returns (a Tensor, or a tuple of them)."""
    rng_state = get_rng_state() if preserve_rng_state else None
    with enable_grad():  # one run with a graph, to find what the segment differentiates
        result = function(*args, **kwargs)
    outputs = result if isinstance(result, tuple) else (result,)
    boundary = _differentiable_sources(outputs, args)
    if not boundary:  # nothing to differentiate: the values, outside any graph
        return _detached(result)
    segment = _Segment(function, args, kwargs, rng_state, boundary)
    wrapped = tuple(_CheckpointOutput.apply(segment, index, output.detach(), *boundary)
                    if isinstance(output, Tensor) else output
                    for index, output in enumerate(outputs))
    return wrapped if isinstance(result, tuple) else wrapped[0]


def checkpoint_sequential(functions: Any, segments: int, input: Any,  # noqa: A002
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """Run ``functions`` (a Sequential or a list of modules) in ``segments`` checkpointed
    chunks; the last chunk runs normally, as PyTorch's does."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(
        functions)
    size = max(1, len(functions) // segments)
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_run_chunk(functions[start:end + 1]), input,  # noqa: A001
                           use_reentrant=use_reentrant, **kwargs)
    return _run_chunk(functions[end + 1:])(input)


def _run_chunk(chunk: list) -> Callable:
    def run(x: Any) -> Any:
        for function in chunk:
            x = function(x)
        return x
    return run


class _Segment:
    """What the backward needs to run the segment again."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict,
                 rng_state: Any, boundary: list[Tensor]) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.rng_state, self.boundary = rng_state, boundary

    def recompute(self) -> tuple[tuple, list[Tensor]]:
        """The outputs again, on fresh leaves standing for the tensor inputs; returns them
        and the tensors to differentiate with respect to, in the order of ``boundary``."""
        fresh = {id(a): a.detach().requires_grad_(a.requires_grad) for a in self.args
                 if isinstance(a, Tensor)}
        args = tuple(fresh.get(id(a), a) for a in self.args)
        saved_state = get_rng_state() if self.rng_state is not None else None
        try:
            if self.rng_state is not None:
                set_rng_state(self.rng_state)
            with enable_grad():
                result = self.function(*args, **self.kwargs)
        finally:
            if saved_state is not None:
                set_rng_state(saved_state)
        outputs = result if isinstance(result, tuple) else (result,)
        return outputs, [fresh.get(id(t), t) for t in self.boundary]


class _CheckpointOutput(Function):
    """One output of a checkpointed segment; its parents are the segment's boundary."""

    @staticmethod
    def forward(ctx: Any, segment: _Segment, index: int, output: Tensor,
                *boundary: Tensor) -> Tensor:
        ctx.segment, ctx.index = segment, index
        return output.detach()

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple:
        outputs, sources = ctx.segment.recompute()
        wanted = [s for s in sources if s.requires_grad]
        found = iter(grad(outputs[ctx.index], wanted, grad_output, allow_unused=True))
        grads = [next(found) if s.requires_grad else None for s in sources]
        return (None, None, None, *grads)


def _differentiable_sources(outputs: Iterable[Any], args: tuple) -> list[Tensor]:
    """The tensors requiring grad that the segment's outputs were computed from: its tensor
    inputs (where they require grad) and the leaves it read (parameters, captured
    tensors), found by walking the graph of the first run back to them."""
    inputs = {id(a): a for a in args if isinstance(a, Tensor)}
    found: dict[int, Tensor] = {}
    seen: set[int] = set()
    stack = [o for o in outputs if isinstance(o, Tensor)]
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if id(tensor) in inputs or tensor._ctx is None:
            if tensor.requires_grad:
                found[id(tensor)] = tensor
            continue
        stack.extend(tensor._prev)
    ordered = [a for a in inputs.values() if id(a) in found]
    return ordered + [t for key, t in found.items() if key not in inputs]


def _detached(result: Any) -> Any:
    with no_grad():
        if isinstance(result, tuple):
            return tuple(r.detach() if isinstance(r, Tensor) else r for r in result)
        return result.detach() if isinstance(result, Tensor) else result
