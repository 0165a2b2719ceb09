"""Module backward hooks: ``register_full_backward_hook`` and
``register_full_backward_pre_hook``, as PyTorch runs them.

A call of a module with backward hooks passes its tensor inputs and outputs through
identity nodes of the graph (the forward values are untouched):

    x --[input identity]--> forward(...) --[output identity]--> y

Backward reaches the output identities first, with dL/dy: the pre-hooks run there,
``hook(module, grad_output)``, and may return replacements. Once every input identity
has its gradient dL/dx, the hooks run, ``hook(module, grad_input, grad_output)``; a
non-None result replaces grad_input. When no input requires grad, the hooks run at the
output identity with grad_input all None (PyTorch warns about it the same way).

The engine's nodes have one output each, so each input has its own identity node and the
hook runs at the last of them: a hook that replaces the gradient of a module with several
tensor inputs can only change the one reached last, and asking for more raises.
"""
from __future__ import annotations

import warnings
from typing import Any

from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ..tensor import Tensor

__all__ = ["BackwardHookCall"]


class BackwardHookCall:
    """One call of a module with backward hooks: what its identity nodes share."""

    def __init__(self, module: Any, hooks: list, pre_hooks: list) -> None:
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_inputs: list[Any] = []
        self.grad_outputs: list[Any] = []
        self.pending_inputs = 0
        self.pending_outputs = 0

    # -- the forward side ---------------------------------------------------------------
    def wrap_inputs(self, args: tuple) -> tuple:
        self.grad_inputs = [None] * len(args)
        if not GradMode.enabled:
            return args
        wrapped = []
        for position, arg in enumerate(args):
            if isinstance(arg, Tensor) and arg.requires_grad:
                self.pending_inputs += 1
                arg = _InputIdentity.apply(arg, self, position)
            wrapped.append(arg)
        return tuple(wrapped)

    def wrap_outputs(self, output: Any) -> Any:
        outputs = output if isinstance(output, tuple) else (output,)
        self.grad_outputs = [None] * len(outputs)
        wrapped = []
        for position, value in enumerate(outputs):
            if GradMode.enabled and isinstance(value, Tensor) and value.requires_grad:
                self.pending_outputs += 1
                value = _OutputIdentity.apply(value, self, position)
            wrapped.append(value)
        return tuple(wrapped) if isinstance(output, tuple) else wrapped[0]

    # -- the backward side --------------------------------------------------------------
    def output_grad(self, position: int, grad: Any) -> Any:
        self.grad_outputs[position] = grad
        self.pending_outputs -= 1
        for hook in self.pre_hooks:
            result = hook(self.module, tuple(self.grad_outputs))
            if result is not None:
                self.grad_outputs = list(result if isinstance(result, tuple) else (result,))
        grad = self.grad_outputs[position]
        if self.pending_inputs == 0 and self.pending_outputs == 0:
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients.",
                          UserWarning, stacklevel=2)
            self._run_hooks()
        return grad

    def input_grad(self, position: int, grad: Any) -> Any:
        self.grad_inputs[position] = grad
        self.pending_inputs -= 1
        if self.pending_inputs:
            return grad
        before = list(self.grad_inputs)
        self._run_hooks()
        for index, (old, new) in enumerate(zip(before, self.grad_inputs)):
            if index != position and new is not old:
                raise RuntimeError(
                    f"a full backward hook of {type(self.module).__name__} replaced the "
                    f"gradient of input {index}, which had already flowed back: abdou_torch "
                    f"can only replace the gradient of the input reached last ({position})")
        return self.grad_inputs[position]

    def _run_hooks(self) -> None:
        for hook in self.hooks:
            result = hook(self.module, tuple(self.grad_inputs), tuple(self.grad_outputs))
            if result is not None:
                result = result if isinstance(result, tuple) else (result,)
                if len(result) != len(self.grad_inputs):
                    raise RuntimeError(f"backward hook returned an invalid number of grad_input,"
                                       f" got {len(result)}, but expected "
                                       f"{len(self.grad_inputs)}")
                self.grad_inputs = list(result)


class _InputIdentity(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, call: BackwardHookCall, position: int) -> Tensor:
        ctx.call, ctx.position = call, position
        return x.detach()

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        return ctx.call.input_grad(ctx.position, grad), None, None


class _OutputIdentity(Function):
    @staticmethod
    def forward(ctx: Any, y: Tensor, call: BackwardHookCall, position: int) -> Tensor:
        ctx.call, ctx.position = call, position
        return y.detach()

    @staticmethod
    def backward(ctx: Any, grad: Any) -> tuple:
        return ctx.call.output_grad(ctx.position, grad), None, None
