"""Function: a differentiable operation, and the graph node it leaves behind.

Calling ``SomeOp.apply(*inputs)`` runs ``forward`` and, when grad mode is on and an input
requires grad, links the output to its inputs: ``out._ctx`` is the Function instance (the
node), ``out._prev`` the Tensor inputs, ``out._op`` the op's name. The engine later calls
``node.vjp(xp, grad_output)`` (the vector-Jacobian product), which returns one gradient per
input (None where an input has none).

Two flavours share this machinery:

- :class:`Primitive`, the library's own ops: ``forward(self, *arrays)`` works on NumPy
  arrays; ``backward(self, xp, dy)`` states the gradient once, against the array namespace
  ``xp`` (``autograd/namespace.py``): NumPy on the training walk, abdou_torch's own ops
  under ``create_graph``, so one formula gives speed and higher derivatives.
- :class:`Function`, PyTorch's public API for user-defined ops: ``forward(ctx, *tensors)``
  and ``backward(ctx, *grads)`` as static methods, on Tensors, with
  ``ctx.save_for_backward`` and ``ctx.saved_tensors``.
"""
from __future__ import annotations

import functools
import weakref
from typing import Any, Callable, Sequence

from .anomaly import AnomalyMode, creation_site
from .grad_mode import GradMode, no_grad

__all__ = ["Function", "Primitive", "once_differentiable"]


class Function:
    """Base of every differentiable op; subclass it for a custom op (PyTorch style).

    Example::

        class Square(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad

        y = Square.apply(x)
    """

    #: Record the inputs' versions, so backward can detect in-place changes to them.
    saves_inputs: bool = True
    #: Which inputs the backward formula reads, given ``needs_input_grad`` (None: all of
    #: them). Only those are guarded, as PyTorch saves only what the gradient needs: in
    #: ``x * w`` with only ``w`` requiring grad, a later change to ``w`` is harmless.
    reads_inputs: Any = None
    #: The output may be a view of the first input's memory (reshape, permute, indexing):
    #: then the two share a version counter, so in-place changes through either are seen.
    returns_view: bool = False
    #: Keep a (weak) handle on the output, for formulas written with it (exp, tanh ...).
    saves_output: bool = False
    name: str = ""
    released: bool = False  # set on the instance by release()
    # defaults for what _link / save_for_backward record (cleared again by release())
    _input_versions: Sequence[tuple[Any, int]] = ()
    _saved_tensors: tuple = ()
    #: the op itself, each subclass's: ``forward(ctx, *tensors)`` (a staticmethod) for a
    #: Function, ``forward(self, *arrays, **options)`` on arrays for a Primitive
    forward: Callable[..., Any]

    def __init__(self) -> None:
        self.inputs: tuple = ()
        self.needs_input_grad: tuple = ()
        self.released = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__.lower()

    @property
    def grad_fn_name(self) -> str:
        """The name PyTorch shows for this node (``grad_fn=<MyFunctionBackward>``)."""
        return f"{type(self).__name__}Backward"

    def __repr__(self) -> str:
        return f"<{self.grad_fn_name} object at {id(self):#x}>"

    # -- the PyTorch-style public API ---------------------------------------------------
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any):
        """Run ``forward`` on Tensors without recording, then link the result to ``args``.
        ``forward(ctx, *args)``, or ``forward(*args)`` with a ``setup_context(ctx, inputs,
        output)`` (PyTorch's two styles); a tuple of outputs is linked through one packed
        output (autograd/function_outputs.py)."""
        node = cls()
        linked = GradMode.enabled and _any_requires_grad(args)
        if linked:  # PyTorch lets forward read ctx.needs_input_grad
            node.needs_input_grad = tuple(getattr(a, "requires_grad", False) for a in args)
        with no_grad():
            if cls.setup_context is not Function.setup_context:
                out = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, out)
            else:
                out = cls.forward(node, *args, **kwargs)
        if isinstance(out, tuple):
            return link_outputs(node, args, out, linked)
        out = out if isinstance(out, Tensor) else Tensor(out)
        if id(out) in getattr(node, "_non_differentiable", ()):
            linked = False
        out = Tensor._wrap(out.data, False)  # a fresh node, whatever forward returned
        if linked:
            node._link(args, out)
        return out

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
        """Overridden by Functions whose ``forward`` takes no ``ctx`` (PyTorch 2's style)."""

    def save_for_backward(self, *tensors: Any) -> None:
        self._saved_tensors = tuple((t, getattr(t, "_version", 0)) for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        self._check_alive()
        return tuple(t for t, _ in self._saved_tensors)

    def mark_non_differentiable(self, *tensors: Any) -> None:
        """These outputs leave the graph (requires_grad False); backward still receives a
        gradient for each, zeros of its shape."""
        marked = self.__dict__.setdefault("_non_differentiable", set())
        marked.update(id(t) for t in tensors)

    def set_materialize_grads(self, value: bool) -> None:
        """With False, outputs without a gradient give backward None instead of zeros."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Any) -> None:
        """Accepted for PyTorch compatibility (in-place custom Functions)."""

    # -- graph bookkeeping shared with Primitive ----------------------------------------
    def _link(self, args: tuple, out: Any) -> None:
        """Make ``out`` a node of the graph, remembering what backward will need."""
        parents, needs = [], []
        marks_use = not self.returns_view
        for a in args:  # one pass: this runs for every recorded op
            if isinstance(a, Tensor):
                parents.append(a)
                needs.append(a._requires_grad)
                if marks_use and a._requires_grad:
                    a._used = True  # see autograd/inplace.py: no in-place rebase after this
            else:
                needs.append(False)
        self.inputs = args
        self.needs_input_grad = tuple(needs)
        if self.saves_inputs:
            if self.reads_inputs is None:
                self._input_versions = [(a, a._version_counter[0]) for a in parents]
            else:
                reads = self.reads_inputs(self.needs_input_grad)
                self._input_versions = [(a, a._version_counter[0]) for a, read in
                                        zip(args, reads) if read and isinstance(a, Tensor)]
        if self.saves_output:
            self._output_ref = weakref.ref(out)
            self._output_version = out._version_counter[0]
        if AnomalyMode.enabled:
            self._site = creation_site()
        out._requires_grad = True  # inputs that require grad are floating, so is out
        out._ctx = self
        out._prev = tuple(parents)

    @property
    def output(self):
        """The Tensor this node produced (alive for as long as backward can reach it)."""
        out = self._output_ref()
        if out is None:
            raise RuntimeError(f"{self.name}: the output tensor needed for backward is gone")
        return out

    def _check_alive(self) -> None:
        if self.released:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (through '{self.name}'), "
                "or to use its saved values after they were freed. Pass retain_graph=True to "
                "the first backward() if you need to backward twice.")

    def check_versions(self) -> None:
        """Raise if a tensor this node saved was modified in place after the forward."""
        if self.released:
            self._check_alive()
        for tensor, version in self._input_versions:
            if tensor._version_counter[0] != version:
                self._raise_modified(tensor, version)
        for tensor, version in self._saved_tensors:
            if getattr(tensor, "_version", version) != version:
                self._raise_modified(tensor, version)
        if self.saves_output:
            out = self._output_ref()
            if out is not None and out._version_counter[0] != self._output_version:
                self._raise_modified(out, self._output_version)

    def _raise_modified(self, tensor: Any, version: int) -> None:
        raise RuntimeError(
            f"one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: a tensor of shape {tuple(tensor.shape)} saved by "
            f"'{self.name}' is at version {tensor._version}; expected version {version}. "
            f"Make the change out of place (y = x + 1 rather than x += 1).")

    def release(self) -> None:
        """Drop everything saved for backward; a later backward through here raises."""
        self.__dict__.clear()
        self.released = True

    def backward(self, *grad_outputs: Any):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    def vjp(self, xp: Any, grad_output: Any) -> Any:
        """The gradients of the inputs, given the output's (the engine's one call).

        A user Function's ``backward`` works on Tensors: on the training walk (``xp`` is
        ``ARRAYS``) the gradient is wrapped for it, grad mode being off there, and the
        results unwrapped again.
        """
        if "_output_layout" in self.__dict__:  # several outputs, packed into one
            wrap = (lambda a: _wrap(a, False)) if xp.arrays else _as_graph_tensor
            grads = type(self).backward(self, *split_gradient(self, grad_output, wrap))
        elif not xp.arrays:
            return type(self).backward(self, grad_output)
        else:
            grads = type(self).backward(self, _wrap(grad_output, False))
        if not xp.arrays:
            return grads
        if type(grads) is not tuple:
            return grads.data if isinstance(grads, Tensor) else grads
        return tuple(g.data if isinstance(g, Tensor) else g for g in grads)


class Primitive(Function):
    """A library op: ``forward`` on arrays, ``backward`` on Tensors.

    Subclasses write ``forward(self, *arrays, **options) -> ndarray`` and
    ``backward(self, xp, dy) -> gradient or tuple of gradients`` (one per input), the
    formula written once against the namespace ``xp`` (see ``autograd/namespace.py``).
    """

    #: PyTorch's name for the op's backward node where it differs from ``<Class>Backward0``
    torch_grad_fn: str = ""

    @property
    def grad_fn_name(self) -> str:
        """PyTorch's name for this node (``grad_fn=<MulBackward0>`` in a tensor's repr)."""
        return self.torch_grad_fn or f"{type(self).__name__}Backward0"

    def vjp(self, xp: Any, grad_output: Any) -> Any:
        return self.backward(xp, grad_output)

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any):
        # The hot path of every op: keep it to one pass over the arguments.
        node = cls.__new__(cls)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        out = _wrap(node.forward(*arrays, **kwargs), False)
        if cls.returns_view and _is_view_of(out.data, arrays[0]):
            out._version_counter = args[0]._version_counter
        if GradMode.enabled:
            for a in args:
                if isinstance(a, Tensor) and a._requires_grad:
                    node._link(args, out)
                    break
        return out


def _is_view_of(array: Any, base: Any) -> bool:
    """True when ``array`` views memory that ``base`` also views or owns."""
    owner = array.base
    return owner is not None and (owner is base or owner is base.base)


def _any_requires_grad(args: tuple) -> bool:
    for a in args:
        if getattr(a, "requires_grad", False):
            return True
    return False


def once_differentiable(function: Callable) -> Callable:
    """PyTorch's decorator for a backward that cannot itself be differentiated: it runs
    without recording (abdou_torch's training walk already does)."""
    @functools.wraps(function)
    def run(ctx: Any, *args: Any) -> Any:
        with no_grad():
            return function(ctx, *args)
    return run


# Imported last: tensor.py imports the ops, which subclass Primitive defined above.
from ..tensor import Tensor  # noqa: E402
from .function_outputs import link_outputs, split_gradient  # noqa: E402

_wrap = Tensor._wrap


def _as_graph_tensor(value: Any) -> Any:
    return value if isinstance(value, Tensor) else _wrap(value, False)
