"""Tensor: a NumPy array with a gradient and a place in the autograd graph.

- ``.data``: the values (an ndarray); ``.grad``: None until a backward pass reaches the
  tensor, then a Tensor of the same shape and dtype.
- ``._prev``: the tensors it was computed from; ``._op``: the op's name ('' for a leaf);
  ``._ctx``: the graph node that knows the backward formula.

Operators and methods are thin: they delegate to the functions in ``abdou_torch.ops``.
"""
from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from . import dtypes
from .autograd.grad_mode import GradMode, no_grad
from .errors import ShapeError

__all__ = ["Tensor"]


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


_engine: Any = None  # abdou_torch.autograd.engine, bound once the package has loaded


def _none_is(answer: bool, compare):
    """``t == None`` is False and ``t != None`` True, as in PyTorch (not a TypeError)."""
    return lambda self, other: answer if other is None else compare(self, other)


def _bind_ops() -> None:
    """Attach the operators and methods that delegate to ``abdou_torch.ops``."""
    from .ops import elementwise as ew, linalg, reduce, shape
    from .autograd import engine
    global _engine
    _engine = engine

    def reflected(function):
        return lambda self, other: function(other, self)

    operators = {
        "__add__": ew.add, "__radd__": reflected(ew.add), "__sub__": ew.sub,
        "__rsub__": reflected(ew.sub), "__mul__": ew.mul, "__rmul__": reflected(ew.mul),
        "__truediv__": ew.div, "__rtruediv__": reflected(ew.div), "__pow__": ew.pow,
        "__rpow__": reflected(ew.pow), "__matmul__": linalg.matmul,
        "__rmatmul__": reflected(linalg.matmul), "__neg__": ew.neg, "__abs__": ew.abs,
        "__pos__": lambda self: self, "__eq__": _none_is(False, ew.eq),
        "__ne__": _none_is(True, ew.ne), "__lt__": ew.lt,
        "__le__": ew.le, "__gt__": ew.gt, "__ge__": ew.ge, "__getitem__": shape.index,
        "__invert__": ew.logical_not,
        "__iadd__": lambda s, o: s._augmented("add_", ew.add, o),
        "__isub__": lambda s, o: s._augmented("sub_", ew.sub, o),
        "__imul__": lambda s, o: s._augmented("mul_", ew.mul, o),
        "__itruediv__": lambda s, o: s._augmented("div_", ew.div, o),
    }
    methods = {name: getattr(ew, name) for name in (
        "add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "sqrt", "tanh",
        "sigmoid", "relu", "sin", "cos", "erf", "clamp", "maximum", "minimum", "eq", "ne",
        "lt", "le", "gt", "ge", "square", "sign", "logical_not", "isnan", "isfinite")}
    methods.update({name: getattr(reduce, name) for name in (
        "sum", "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin",
        "logsumexp", "prod")})
    methods.update({name: getattr(shape, name) for name in (
        "reshape", "view", "flatten", "permute", "transpose", "squeeze", "unsqueeze",
        "expand", "split", "chunk", "gather", "narrow", "movedim", "unbind")})
    methods.update({"matmul": linalg.matmul, "clip": ew.clamp, "multiply": ew.mul,
                    "divide": ew.div, "subtract": ew.sub, "true_divide": ew.div})
    for name, function in {**operators, **methods}.items():
        setattr(Tensor, name, function)


def _tensor_properties() -> None:
    """Shape shortcuts and composites that read better as methods."""
    from .ops import shape

    Tensor.T = property(lambda self: shape.permute(self, tuple(reversed(range(self.ndim)))))
    Tensor.mT = property(lambda self: shape.transpose(self, -2, -1))
    Tensor.t = lambda self: shape.transpose(self, 0, 1) if self.ndim == 2 else self
    Tensor.view_as = lambda self, other: shape.reshape(self, other.shape)
    Tensor.reshape_as = Tensor.view_as
    Tensor.expand_as = lambda self, other: shape.expand(self, other.shape)
    Tensor.all = lambda self, dim=None: Tensor._wrap(np.asarray(np.all(self.data, axis=dim)),
                                                     False)
    Tensor.any = lambda self, dim=None: Tensor._wrap(np.asarray(np.any(self.data, axis=dim)),
                                                     False)


def _masked_fill(self: Tensor, mask: Any, value: float) -> Tensor:
    """Replace the values where ``mask`` is true by ``value`` (differentiable elsewhere)."""
    from .ops.elementwise import where
    return where(mask, np.asarray(value, dtype=self.dtype), self)


def _functional_method(name: str):
    def method(self, *args: Any, **kwargs: Any):
        from .nn import functional
        return getattr(functional, name)(self, *args, **kwargs)
    method.__name__ = name
    return method


_bind_ops()
_tensor_properties()
Tensor.masked_fill = _masked_fill
Tensor.softmax = _functional_method("softmax")
Tensor.log_softmax = _functional_method("log_softmax")
