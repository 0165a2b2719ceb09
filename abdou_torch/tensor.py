"""Tensor: a NumPy array with a gradient and a place in the autograd graph.

- ``.data``: the values (an ndarray); ``.grad``: None until a backward pass reaches the
  tensor, then a Tensor of the same shape and dtype.
- ``._prev``: the tensors it was computed from; ``._op``: the op's name ('' for a leaf);
  ``._ctx``: the graph node that knows the backward formula.

Operators and methods are thin: each delegates to a function of ``abdou_torch.ops``, where
the op and its gradient live.
"""
from __future__ import annotations

from typing import Any, Iterator, Union

import numpy as np

from . import dtypes
from .autograd.grad_mode import GradMode, no_grad
from .errors import ShapeError

__all__ = ["Tensor", "TensorLike"]

#: what the operators accept besides a Tensor: Python numbers and NumPy arrays
TensorLike = Union["Tensor", float, int, bool, np.ndarray]


class Tensor:
    """An n-dimensional array that records how it was computed, for reverse-mode autograd.

    ``Tensor(data, requires_grad=False, dtype=None)``: Python scalars and lists become
    float32 (ints int64); NumPy arrays keep their dtype and are wrapped without a copy.
    """

    __slots__ = ("data", "grad", "_requires_grad", "_ctx", "_prev", "_version",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor defers to the Tensor's reflected op

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data = dtypes.to_array(data, dtype)
        self.grad: Tensor | None = None
        self._requires_grad = False
        self._ctx = None
        self._prev: tuple = ()
        self._version = 0
        self._retains_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool) -> "Tensor":
        """Fast internal constructor: ``array`` is already an ndarray of the right dtype."""
        tensor = object.__new__(Tensor)
        tensor.data = array
        tensor.grad = None
        tensor._requires_grad = requires_grad
        tensor._ctx = None
        tensor._prev = ()
        tensor._version = 0
        tensor._retains_grad = False
        return tensor

    # -- autograd state --------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if value and self.data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients; this tensor "
                            f"is {self.data.dtype} (convert it with .float() first)")
        if not value and self._ctx is not None:
            raise RuntimeError("requires_grad can only be switched off on leaf tensors; "
                               "use .detach() to get a tensor outside the graph")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def _op(self) -> str:
        """The name of the op that produced this tensor ('' for a leaf)."""
        return "" if self._ctx is None else self._ctx.name

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (their ``.grad`` is filled)."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The graph node that produced this tensor, or None for a leaf."""
        return self._ctx

    def register_hook(self, hook):
        """Call ``hook(grad)`` each time backward computes this tensor's gradient, before
        it is stored in ``.grad`` or passed on; a non-None result (same shape) replaces the
        gradient. Returns a handle whose ``remove()`` unregisters the hook."""
        from .autograd.hooks import register_tensor_hook
        return register_tensor_hook(self, hook)

    def retain_grad(self) -> None:
        """Ask backward to fill ``.grad`` on this non-leaf tensor too."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        self._retains_grad = self._ctx is not None

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        A non-scalar tensor needs ``gradient`` (the vector in the vector-Jacobian product).
        The graph's saved values are freed afterwards unless ``retain_graph=True``;
        ``create_graph=True`` records the backward pass itself, for higher derivatives.
        """
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> "Tensor":
        """The same values (shared memory), outside the graph."""
        return Tensor._wrap(self.data, False)

    def detach_(self) -> "Tensor":
        self._ctx, self._prev, self._requires_grad = None, (), False
        return self

    # -- shape and conversions ---------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def device(self) -> str:
        return "cpu"

    def size(self, dim: int | None = None) -> Any:
        return self.data.shape if dim is None else self.data.shape[dim]

    def dim(self) -> int:
        return self.data.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def element_size(self) -> int:
        return self.data.itemsize

    def is_floating_point(self) -> bool:
        return self.data.dtype.kind == "f"

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self) -> Iterator["Tensor"]:
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to Python "
                             f"scalars; this one has shape {self.data.shape}")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        return self.data.tolist()

    def numpy(self) -> np.ndarray:
        """The values as an ndarray (shared memory, like PyTorch's ``.numpy()``)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self.data, dtype=dtype, copy=True)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu":
            raise TypeError(f"only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"the truth value of a tensor with {self.data.size} elements is "
                               f"ambiguous; use .any() or .all()")
        return bool(self.data.reshape(()))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(", precision=4,
                               threshold=1000, edgeitems=3)
        extras = []
        if self.data.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype=abdou_torch.{self.data.dtype}")
        if self._ctx is not None:
            extras.append(f"grad_fn=<{type(self._ctx).__name__}Backward>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    def to(self, dtype: Any = None, *args: Any, **kwargs: Any) -> "Tensor":
        """A copy with another dtype (differentiable); a device string 'cpu' is accepted."""
        dtype = kwargs.get("dtype", dtype)
        if isinstance(dtype, Tensor):
            dtype = dtype.dtype
        if dtype is None or isinstance(dtype, str) and dtype == "cpu":
            return self
        dtype = dtypes.as_dtype(dtype)
        if dtype == self.data.dtype:
            return self
        if dtype.kind != "f":  # integers and bools carry no gradient: leave the graph
            return Tensor._wrap(self.data.astype(dtype), False)
        from .ops.elementwise import Cast
        return Cast.apply(self, dtype)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def float(self) -> "Tensor":
        return self.to(np.float32)

    def double(self) -> "Tensor":
        return self.to(np.float64)

    def half(self) -> "Tensor":
        return self.to(np.float16)

    def long(self) -> "Tensor":
        return self.to(np.int64)

    def int(self) -> "Tensor":
        return self.to(np.int32)

    def bool(self) -> "Tensor":
        return self.to(np.bool_)

    def cpu(self) -> "Tensor":
        return self

    def clone(self) -> "Tensor":
        """A copy with its own memory that stays in the graph."""
        from .ops.elementwise import Clone
        return Clone.apply(self)

    def contiguous(self) -> "Tensor":
        return self

    # -- in-place updates --------------------------------------------------------------------
    def _check_inplace(self, op: str, other: Any = None) -> None:
        if not GradMode.enabled:
            return
        if self._requires_grad and self._ctx is None:
            raise RuntimeError(f"{op}: a leaf tensor that requires grad cannot be changed in "
                               f"place while grad is enabled; wrap the update in "
                               f"`with abdou_torch.no_grad():` (as optimizers do)")
        if self._requires_grad or getattr(other, "requires_grad", False):
            raise RuntimeError(f"{op}: in-place changes to tensors in the autograd graph are "
                               f"not supported; use the out-of-place form (y = x + 1)")

    def _write(self, op: str, values: np.ndarray) -> "Tensor":
        """Store ``values`` into this tensor's memory and bump its version."""
        if values.shape != self.data.shape:
            try:
                values = np.broadcast_to(values, self.data.shape)
            except ValueError:
                raise ShapeError(f"{op}: result of shape {values.shape} does not fit the "
                                 f"tensor's shape {self.data.shape}") from None
        if not np.can_cast(values.dtype, self.data.dtype, casting="same_kind"):
            raise TypeError(f"{op}: result dtype {values.dtype} can't be cast to the tensor's "
                            f"dtype {self.data.dtype}")
        self.data[...] = values
        self._version += 1
        return self

    def _inplace(self, op: str, function: Any, *args: Any) -> "Tensor":
        self._check_inplace(op, args[0] if args else None)
        with no_grad():
            result = function(self, *args)
        return self._write(op, result.data)

    def add_(self, other: Any, alpha: float = 1) -> "Tensor":
        from .ops.elementwise import add
        return self._inplace("add_", add, other, alpha)

    def sub_(self, other: Any, alpha: float = 1) -> "Tensor":
        from .ops.elementwise import sub
        return self._inplace("sub_", sub, other, alpha)

    def mul_(self, other: Any) -> "Tensor":
        from .ops.elementwise import mul
        return self._inplace("mul_", mul, other)

    def div_(self, other: Any) -> "Tensor":
        from .ops.elementwise import div
        return self._inplace("div_", div, other)

    def clamp_(self, min: Any = None, max: Any = None) -> "Tensor":  # noqa: A002
        from .ops.elementwise import clamp
        return self._inplace("clamp_", clamp, min, max)

    def zero_(self) -> "Tensor":
        self._check_inplace("zero_")
        return self._write("zero_", np.zeros((), dtype=self.data.dtype))

    def fill_(self, value: Any) -> "Tensor":
        self._check_inplace("fill_")
        return self._write("fill_", np.asarray(value, dtype=self.data.dtype))

    def copy_(self, src: Any) -> "Tensor":
        self._check_inplace("copy_", src)
        values = np.asarray(src.data if isinstance(src, Tensor) else src)
        return self._write("copy_", values.astype(self.data.dtype, copy=False))

    # -- random fills (PyTorch's samplers, in abdou_torch.random_sampling) -----------------------
    def uniform_(self, from_: float = 0.0, to: float = 1.0, *, generator: Any = None) -> "Tensor":
        from .random_sampling import uniform_
        return uniform_(self, from_, to, generator=generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> "Tensor":
        from .random_sampling import normal_
        return normal_(self, mean, std, generator=generator)

    def random_(self, *bounds: Any, generator: Any = None, **to: Any) -> "Tensor":
        from .random_sampling import random_
        return random_(self, *bounds, generator=generator, **to)

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> "Tensor":
        from .random_sampling import exponential_
        return exponential_(self, lambd, generator=generator)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> "Tensor":
        from .random_sampling import bernoulli_
        return bernoulli_(self, p, generator=generator)

    def bernoulli(self, p: Any = None, *, generator: Any = None) -> "Tensor":
        from .random_sampling import bernoulli
        return bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: int, replacement: bool = False, *,
                    generator: Any = None) -> "Tensor":
        from .random_sampling import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)

    def _augmented(self, op: str, function: Any, other: Any) -> "Tensor":
        """``x op= y``: in place when no graph is involved, else out of place (so the graph
        stays correct), except on a leaf that requires grad, which PyTorch also refuses."""
        if GradMode.enabled and (self._requires_grad or getattr(other, "requires_grad", False)):
            if self._requires_grad and self._ctx is None:
                self._check_inplace(op)
            return function(self, other)
        with no_grad():
            result = function(self, other)
        return self._write(op, result.data)

    def __setitem__(self, key: Any, value: Any) -> None:
        from .ops.shape import _normalize_index
        self._check_inplace("setitem", value)
        values = value.data if isinstance(value, Tensor) else np.asarray(value)
        try:
            self.data[_normalize_index(key)] = values
        except ValueError as error:
            raise ShapeError(f"setitem: {error}") from None
        self._version += 1

    # -- arithmetic operators (broadcasting, PyTorch's type promotion) -----------------------
    def __add__(self, other: TensorLike) -> "Tensor":
        return _ew.add(self, other)

    def __radd__(self, other: TensorLike) -> "Tensor":
        return _ew.add(other, self)

    def __sub__(self, other: TensorLike) -> "Tensor":
        return _ew.sub(self, other)

    def __rsub__(self, other: TensorLike) -> "Tensor":
        return _ew.sub(other, self)

    def __mul__(self, other: TensorLike) -> "Tensor":
        return _ew.mul(self, other)

    def __rmul__(self, other: TensorLike) -> "Tensor":
        return _ew.mul(other, self)

    def __truediv__(self, other: TensorLike) -> "Tensor":
        return _ew.div(self, other)

    def __rtruediv__(self, other: TensorLike) -> "Tensor":
        return _ew.div(other, self)

    def __pow__(self, exponent: TensorLike) -> "Tensor":
        return _ew.pow(self, exponent)

    def __rpow__(self, base: TensorLike) -> "Tensor":
        return _ew.pow(base, self)

    def __matmul__(self, other: TensorLike) -> "Tensor":
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other: TensorLike) -> "Tensor":
        return _linalg.matmul(other, self)

    def __neg__(self) -> "Tensor":
        return _ew.neg(self)

    def __pos__(self) -> "Tensor":
        return self

    def __abs__(self) -> "Tensor":
        return _ew.abs(self)

    def __invert__(self) -> "Tensor":
        return _ew.logical_not(self)

    def __iadd__(self, other: TensorLike) -> "Tensor":
        return self._augmented("add_", _ew.add, other)

    def __isub__(self, other: TensorLike) -> "Tensor":
        return self._augmented("sub_", _ew.sub, other)

    def __imul__(self, other: TensorLike) -> "Tensor":
        return self._augmented("mul_", _ew.mul, other)

    def __itruediv__(self, other: TensorLike) -> "Tensor":
        return self._augmented("div_", _ew.div, other)

    # -- comparisons: boolean tensors, no gradient (``t == None`` is False, as in PyTorch) ----
    def __eq__(self, other: object) -> "Tensor":  # type: ignore[override]
        return False if other is None else _ew.eq(self, other)  # type: ignore[return-value]

    def __ne__(self, other: object) -> "Tensor":  # type: ignore[override]
        return True if other is None else _ew.ne(self, other)  # type: ignore[return-value]

    def __lt__(self, other: TensorLike) -> "Tensor":
        return _ew.lt(self, other)

    def __le__(self, other: TensorLike) -> "Tensor":
        return _ew.le(self, other)

    def __gt__(self, other: TensorLike) -> "Tensor":
        return _ew.gt(self, other)

    def __ge__(self, other: TensorLike) -> "Tensor":
        return _ew.ge(self, other)

    def eq(self, other: TensorLike) -> "Tensor":
        return _ew.eq(self, other)

    def ne(self, other: TensorLike) -> "Tensor":
        return _ew.ne(self, other)

    def lt(self, other: TensorLike) -> "Tensor":
        return _ew.lt(self, other)

    def le(self, other: TensorLike) -> "Tensor":
        return _ew.le(self, other)

    def gt(self, other: TensorLike) -> "Tensor":
        return _ew.gt(self, other)

    def ge(self, other: TensorLike) -> "Tensor":
        return _ew.ge(self, other)

    # -- elementwise methods ---------------------------------------------------------------
    def add(self, other: TensorLike, alpha: float = 1) -> "Tensor":
        return _ew.add(self, other, alpha)

    def sub(self, other: TensorLike, alpha: float = 1) -> "Tensor":
        return _ew.sub(self, other, alpha)

    subtract = sub

    def mul(self, other: TensorLike) -> "Tensor":
        return _ew.mul(self, other)

    multiply = mul

    def div(self, other: TensorLike) -> "Tensor":
        return _ew.div(self, other)

    divide = true_divide = div

    def pow(self, exponent: TensorLike) -> "Tensor":
        return _ew.pow(self, exponent)

    def neg(self) -> "Tensor":
        return _ew.neg(self)

    def abs(self) -> "Tensor":
        return _ew.abs(self)

    def exp(self) -> "Tensor":
        return _ew.exp(self)

    def log(self) -> "Tensor":
        return _ew.log(self)

    def sqrt(self) -> "Tensor":
        return _ew.sqrt(self)

    def tanh(self) -> "Tensor":
        return _ew.tanh(self)

    def sigmoid(self) -> "Tensor":
        return _ew.sigmoid(self)

    def relu(self) -> "Tensor":
        return _ew.relu(self)

    def sin(self) -> "Tensor":
        return _ew.sin(self)

    def cos(self) -> "Tensor":
        return _ew.cos(self)

    def erf(self) -> "Tensor":
        return _ew.erf(self)

    def square(self) -> "Tensor":
        return _ew.square(self)

    def sign(self) -> "Tensor":
        return _ew.sign(self)

    def clamp(self, min: Any = None, max: Any = None) -> "Tensor":  # noqa: A002
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other: TensorLike) -> "Tensor":
        return _ew.maximum(self, other)

    def minimum(self, other: TensorLike) -> "Tensor":
        return _ew.minimum(self, other)

    def logical_not(self) -> "Tensor":
        return _ew.logical_not(self)

    def isnan(self) -> "Tensor":
        return _ew.isnan(self)

    def isfinite(self) -> "Tensor":
        return _ew.isfinite(self)

    def masked_fill(self, mask: TensorLike, value: float) -> "Tensor":
        """Replace the values where ``mask`` is true by ``value`` (differentiable elsewhere)."""
        return _ew.where(mask, np.asarray(value, dtype=self.data.dtype), self)

    def softmax(self, dim: int | None = None, dtype: Any = None) -> "Tensor":
        from .nn import functional
        return functional.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int | None = None, dtype: Any = None) -> "Tensor":
        from .nn import functional
        return functional.log_softmax(self, dim, dtype=dtype)

    # -- reductions ------------------------------------------------------------------------
    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None, **numpy_names:
            Any) -> "Tensor":
        return _reduce.sum(self, dim, keepdim, dtype, **numpy_names)

    def mean(self, dim: Any = None, keepdim: bool = False, dtype: Any = None, **numpy_names:
             Any) -> "Tensor":
        return _reduce.mean(self, dim, keepdim, dtype, **numpy_names)

    def var(self, dim: Any = None, **options: Any) -> "Tensor":
        return _reduce.var(self, dim, **options)

    def std(self, dim: Any = None, **options: Any) -> "Tensor":
        return _reduce.std(self, dim, **options)

    def prod(self, dim: Any = None, keepdim: bool = False, **numpy_names: Any) -> "Tensor":
        return _reduce.prod(self, dim, keepdim, **numpy_names)

    def amax(self, dim: Any = (), keepdim: bool = False, **numpy_names: Any) -> "Tensor":
        return _reduce.amax(self, dim, keepdim, **numpy_names)

    def amin(self, dim: Any = (), keepdim: bool = False, **numpy_names: Any) -> "Tensor":
        return _reduce.amin(self, dim, keepdim, **numpy_names)

    def max(self, dim: Any = None, keepdim: bool = False, **numpy_names: Any) -> Any:
        return _reduce.max(self, dim, keepdim, **numpy_names)

    def min(self, dim: Any = None, keepdim: bool = False, **numpy_names: Any) -> Any:
        return _reduce.min(self, dim, keepdim, **numpy_names)

    def argmax(self, dim: int | None = None, keepdim: bool = False, **numpy_names: Any) \
            -> "Tensor":
        return _reduce.argmax(self, dim, keepdim, **numpy_names)

    def argmin(self, dim: int | None = None, keepdim: bool = False, **numpy_names: Any) \
            -> "Tensor":
        return _reduce.argmin(self, dim, keepdim, **numpy_names)

    def logsumexp(self, dim: Any = None, keepdim: bool = False, **numpy_names: Any) \
            -> "Tensor":
        return _reduce.logsumexp(self, dim, keepdim, **numpy_names)

    def all(self, dim: int | None = None) -> "Tensor":
        return Tensor._wrap(np.asarray(np.all(self.data, axis=dim)), False)

    def any(self, dim: int | None = None) -> "Tensor":
        return Tensor._wrap(np.asarray(np.any(self.data, axis=dim)), False)

    # -- matrix products -------------------------------------------------------------------
    def matmul(self, other: TensorLike) -> "Tensor":
        return _linalg.matmul(self, other)

    # -- shape -----------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> "Tensor":
        return _shape.index(self, key)

    def reshape(self, *shape: Any) -> "Tensor":
        return _shape.reshape(self, *shape)

    def view(self, *shape: Any) -> "Tensor":
        return _shape.view(self, *shape)

    def view_as(self, other: "Tensor") -> "Tensor":
        return _shape.reshape(self, other.shape)

    reshape_as = view_as

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> "Tensor":
        return _shape.flatten(self, start_dim, end_dim)

    def permute(self, *dims: Any) -> "Tensor":
        return _shape.permute(self, *dims)

    def transpose(self, dim0: int, dim1: int) -> "Tensor":
        return _shape.transpose(self, dim0, dim1)

    def t(self) -> "Tensor":
        return _shape.transpose(self, 0, 1) if self.ndim == 2 else self

    @property
    def T(self) -> "Tensor":  # noqa: N802 - PyTorch's name
        return _shape.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> "Tensor":  # noqa: N802 - PyTorch's name
        return _shape.transpose(self, -2, -1)

    def movedim(self, source: int, destination: int) -> "Tensor":
        return _shape.movedim(self, source, destination)

    def squeeze(self, dim: Any = None) -> "Tensor":
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> "Tensor":
        return _shape.unsqueeze(self, dim)

    def expand(self, *sizes: Any) -> "Tensor":
        return _shape.expand(self, *sizes)

    def expand_as(self, other: "Tensor") -> "Tensor":
        return _shape.expand(self, other.shape)

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple["Tensor", ...]:
        return _shape.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple["Tensor", ...]:
        return _shape.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple["Tensor", ...]:
        return _shape.unbind(self, dim)

    def gather(self, dim: int, index: Any) -> "Tensor":
        return _shape.gather(self, dim, index)

    def narrow(self, dim: int, start: int, length: int) -> "Tensor":
        return _shape.narrow(self, dim, start, length)


# Bound last: the ops and the engine import this module while they load. The methods above
# look these names up when they are called.
from .autograd import engine as _engine  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import shape as _shape  # noqa: E402
