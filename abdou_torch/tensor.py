"""Tensor: a NumPy array with a gradient and a place in the autograd graph.

- ``.data``: the values (an ndarray); ``.grad``: None until a backward pass reaches the
  tensor, then a Tensor of the same shape and dtype.
- ``._prev``: the tensors it was computed from; ``._op``: the op's name ('' for a leaf);
  ``._ctx``: the graph node that knows the backward formula.

Operators and methods are thin: each delegates to a function of ``abdou_torch.ops``, where
the op and its gradient live.
"""
from __future__ import annotations

import builtins  # Tensor has methods named bool, int and float
from operator import attrgetter
from typing import Any, Iterator, Union

import numpy as np

from . import dtypes
from .autograd.grad_mode import GradMode, no_grad
from .devices import CPU, check_device, device
from .errors import ShapeError
from .size import Size

__all__ = ["Tensor", "TensorLike"]

#: what the operators accept besides a Tensor: Python numbers, NumPy arrays and scalars
TensorLike = Union["Tensor", float, int, bool, np.ndarray, np.generic]
#: what ``<``, ``<=``, ``>``, ``>=`` are typed to accept (as in PyTorch's stubs): no ndarray,
#: since NumPy types ``ndarray > tensor`` as an ndarray (at run time it defers to the Tensor)
Comparand = Union["Tensor", float, int, bool]


class Tensor:
    """An n-dimensional array that records how it was computed, for reverse-mode autograd.

    ``Tensor(data, requires_grad=False, dtype=None)``: Python scalars and lists become
    float32 (ints int64); NumPy arrays keep their dtype and are wrapped without a copy.
    As PyTorch's legacy constructor, ``Tensor(2, 3)`` or ``Tensor(torch.Size([2, 3]))`` is
    a float tensor of that shape (zeros here; PyTorch leaves it uninitialised).
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "_ctx", "_prev", "_version_counter",
                 "_retains_grad", "_used", "__weakref__")

    def __init__(self, *data: Any, requires_grad: bool = False, dtype: Any = None,
                 device: Any = None) -> None:
        check_device(device, "Tensor")
        self._data = _construct(data, dtype)
        self._grad: Tensor | None = None
        self._requires_grad = False
        self._ctx = None
        self._prev: tuple = ()
        self._version_counter = [0]
        self._retains_grad = False
        self._used = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool) -> "Tensor":
        """Fast internal constructor: ``array`` is already an ndarray of the right dtype (a
        NumPy scalar, which NumPy returns for 0-d results, becomes a 0-d array)."""
        tensor = object.__new__(Tensor)
        tensor._data = array if isinstance(array, np.ndarray) else np.asarray(array)
        tensor._grad = None
        tensor._requires_grad = requires_grad
        tensor._ctx = None
        tensor._prev = ()
        tensor._version_counter = [0]
        tensor._retains_grad = False
        tensor._used = False
        return tensor

    # -- the values and the gradient ---------------------------------------------------------
    def _set_data(self, value: Any) -> None:
        """``t.data = array`` rebinds the values; a Tensor stores its array (so the
        lectures' ``p.data = p.data - lr * p.grad`` keeps ``.data`` an array)."""
        if isinstance(value, Tensor):
            value = value._data
        if not isinstance(value, np.ndarray):
            raise TypeError(f"Tensor.data must be a NumPy array or a Tensor, got "
                            f"{type(value).__name__}")
        self._data = value

    #: The values: a NumPy array (reading is as fast as a plain attribute).
    data = property(attrgetter("_data"), _set_data)

    def _set_grad(self, value: Any) -> None:
        """``t.grad = g``: None, or a Tensor of this tensor's shape and dtype (PyTorch's
        checks, made at the assignment)."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad "
                                f"of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"assigned grad has data of a different size: "
                                   f"{tuple(value._data.shape)} for a tensor of shape "
                                   f"{tuple(self._data.shape)}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: "
                                   f"{value._data.dtype} for a tensor of dtype "
                                   f"{self._data.dtype}")
        self._grad = value

    #: The gradient the last backward passes accumulated, or None.
    grad = property(attrgetter("_grad"), _set_grad)

    # -- versions: how autograd notices in-place changes to values it saved -----------------
    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has seen. A view (``x[0]``,
        ``x.T``, ``x.view(...)``, ``x.detach()``) shares its base's counter, so a change
        made through either is seen by the graph that saved the other."""
        return self._version_counter[0]

    @_version.setter
    def _version(self, value: int) -> None:
        self._version_counter[0] = value

    def _share_version(self, base: "Tensor") -> "Tensor":
        """Make this tensor, a view of ``base``'s memory, count versions with ``base``."""
        self._version_counter = base._version_counter
        return self

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
        """The same values (shared memory and version counter), outside the graph."""
        return Tensor._wrap(self.data, False)._share_version(self)

    def detach_(self) -> "Tensor":
        self._ctx, self._prev, self._requires_grad = None, (), False
        return self

    # -- shape and conversions ---------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.wrap(self._data.dtype)

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        ndim = self._data.ndim
        if not -max(ndim, 1) <= dim < max(ndim, 1):
            raise IndexError(f"size: dim {dim} is out of range for a tensor of {ndim} dims")
        return self._data.shape[dim]

    def stride(self, dim: int | None = None) -> Any:
        """Steps between neighbours along each dim, in elements (PyTorch's strides)."""
        steps = tuple(s // self._data.itemsize for s in self._data.strides)
        return steps if dim is None else steps[dim]

    def nelement(self) -> int:
        return int(self._data.size)

    def ndimension(self) -> int:
        return self._data.ndim

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return int(self._data.__array_interface__["data"][0])

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
                             f"scalars; this one has shape {tuple(self.data.shape)}")
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

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs with Tensor operands (``array + tensor``, ``p.data += -lr * p.grad``).

        - With ``out=`` (NumPy's in-place arithmetic, ``array += tensor``), the Tensors'
          arrays take part and the result is written into ``out``, as NumPy would.
        - A ufunc that is an abdou_torch op (``array * tensor``, ``np.exp(tensor)``) runs
          as that op, so the graph records it.
        - Any other ufunc runs on the arrays and gives a Tensor outside the graph; on a
          tensor that requires grad that would silently drop the gradient, so it raises.
        """
        outputs = kwargs.get("out")
        if outputs is None and method == "__call__":
            op = _ufunc_ops().get(ufunc.__name__)
            if op is not None and not kwargs:
                return op(*inputs)
            if GradMode.enabled and any(getattr(x, "_requires_grad", False) for x in inputs):
                raise TypeError(f"numpy.{ufunc.__name__} on a tensor that requires grad would "
                                f"drop its gradient: use the abdou_torch op, or .detach() first")
        arrays = [x._data if isinstance(x, Tensor) else x for x in inputs]
        if outputs is not None:
            kwargs["out"] = tuple(o._data if isinstance(o, Tensor) else o for o in outputs)
        result = getattr(ufunc, method)(*arrays, **kwargs)
        if outputs is not None:
            for out in outputs:
                if isinstance(out, Tensor):
                    out._version_counter[0] += 1
            return outputs[0] if len(outputs) == 1 else outputs
        if isinstance(result, tuple):
            return tuple(Tensor._wrap(np.asarray(r), False) for r in result)
        return Tensor._wrap(np.asarray(result), False) if method == "__call__" else result

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
        """PyTorch's layout (abdou_torch/printing.py): ``tensor([1.5000, 2.0000])``."""
        from .printing import tensor_repr
        grad_fn = None if self._ctx is None else self._ctx.grad_fn_name
        return tensor_repr(self._data, dtypes.get_default_dtype(), grad_fn,
                           self._requires_grad)

    def to(self, *args: Any, **kwargs: Any) -> "Tensor":
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``: this tensor,
        or a copy with another dtype (differentiable). The device must be the CPU;
        ``non_blocking`` is accepted, ``copy=True`` always copies."""
        dtype, where, copy = to_arguments(args, kwargs, "to")
        check_device(where, "to")
        result = self if dtype is None else self._cast(dtypes.as_dtype(dtype))
        return result.clone() if copy and result is self else result

    def _cast(self, dtype: np.dtype) -> "Tensor":
        if dtype == self._data.dtype:
            return self
        if dtype.kind != "f":  # integers and bools carry no gradient: leave the graph
            return Tensor._wrap(self._data.astype(dtype), False)
        return _ew.Cast.apply(self, dtype)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """Without an argument, the legacy type name (``'torch.FloatTensor'``); with a dtype
        or such a name, this tensor converted to it."""
        if dtype is None:
            return f"torch.{_legacy_type_name(self._data.dtype)}"
        if isinstance(dtype, str) and dtype.startswith("torch."):
            dtype = _legacy_dtype(dtype[len("torch."):])
        elif (isinstance(dtype, type)  # a legacy type (tensor_types.py)
              and (legacy := getattr(dtype, "_legacy_dtype", None)) is not None):
            dtype = legacy
        return self.to(dtype)

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

    def cuda(self, device: Any = None, non_blocking: builtins.bool = False) -> "Tensor":
        check_device("cuda" if device is None else device, "cuda")
        return self

    def pin_memory(self) -> "Tensor":
        return self

    def share_memory_(self) -> "Tensor":
        return self

    def clone(self) -> "Tensor":
        """A copy with its own memory that stays in the graph."""
        from .ops.elementwise import Clone
        return Clone.apply(self)

    def contiguous(self, memory_format: Any = None) -> "Tensor":
        """This tensor if its values are laid out in row-major order, else a copy that is."""
        return self if self._data.flags.c_contiguous else _ew.Clone.apply(self, "C")

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a one-element 0-d tensor formats as its number, as PyTorch."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    # -- new tensors like this one -----------------------------------------------------------
    def new_tensor(self, data: Any, dtype: Any = None, device: Any = None,
                   requires_grad: builtins.bool = False) -> "Tensor":
        check_device(device, "new_tensor")
        array = np.array(data.data if isinstance(data, Tensor) else data,
                         dtype=self._data.dtype if dtype is None else dtypes.as_dtype(dtype))
        return Tensor(array, requires_grad=requires_grad)

    def _new(self, make: Any, size: tuple, dtype: Any, device: Any,
             requires_grad: builtins.bool) -> "Tensor":
        check_device(device)
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = tuple(size[0])
        array = make(tuple(int(n) for n in size),
                     self._data.dtype if dtype is None else dtypes.as_dtype(dtype))
        return Tensor(array, requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: builtins.bool = False) -> "Tensor":
        return self._new(np.zeros, size, dtype, device, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: builtins.bool = False) -> "Tensor":
        return self._new(np.ones, size, dtype, device, requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: builtins.bool = False) -> "Tensor":
        return self._new(np.empty, size, dtype, device, requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, device: Any = None,
                 requires_grad: builtins.bool = False) -> "Tensor":
        return self._new(lambda shape, kind: np.full(shape, fill_value, dtype=kind), (size,),
                         dtype, device, requires_grad)

    # -- in-place updates --------------------------------------------------------------------
    def _write(self, op: str, values: np.ndarray) -> "Tensor":
        """Store ``values`` into this tensor's memory and bump its version (no graph)."""
        if values.shape != self.data.shape:
            try:
                values = np.broadcast_to(values, self.data.shape)
            except ValueError:
                raise ShapeError(f"{op}: result of shape {tuple(values.shape)} does not fit the "
                                 f"tensor's shape {tuple(self.data.shape)}") from None
        if not np.can_cast(values.dtype, self.data.dtype, casting="same_kind"):
            raise TypeError(f"{op}: result dtype {values.dtype} can't be cast to the tensor's "
                            f"dtype {self.data.dtype}")
        if not self.data.flags.writeable:
            raise RuntimeError(f"{op}: this tensor's memory is read-only (an expanded "
                               f"tensor shares one value among several elements); "
                               f"use .clone() first")
        self.data[...] = values
        self._version_counter[0] += 1
        return self

    def _records_inplace(self, *operands: Any) -> builtins.bool:
        """Whether an in-place change here takes part in the graph (autograd/inplace.py)."""
        return GradMode.enabled and (self._requires_grad or any(
            getattr(x, "_requires_grad", False) for x in operands))

    def _inplace(self, op: str, function: Any, *args: Any) -> "Tensor":
        """``self <- function(self, *args)`` in place: a plain write without a graph, a new
        history for ``self`` with one."""
        if self._records_inplace(*args):
            return _inplace.rebase_inplace(self, op, lambda before: function(before, *args))
        with no_grad():
            result = function(self, *args)
        return self._write(op, result.data)

    def _assign(self, op: str, value: Any) -> "Tensor":
        """``self <- value`` (broadcast) in place; in the graph, the gradient goes to
        ``value`` and none to the old values."""
        return self._inplace(op, _replaced_by, value)

    def add_(self, other: Any, alpha: builtins.float = 1) -> "Tensor":
        return self._inplace("add_", _ew.add, other, alpha)

    def sub_(self, other: Any, alpha: builtins.float = 1) -> "Tensor":
        return self._inplace("sub_", _ew.sub, other, alpha)

    def mul_(self, other: Any) -> "Tensor":
        return self._inplace("mul_", _ew.mul, other)

    def div_(self, other: Any) -> "Tensor":
        return self._inplace("div_", _ew.div, other)

    def clamp_(self, min: Any = None, max: Any = None) -> "Tensor":  # noqa: A002
        return self._inplace("clamp_", _ew.clamp, min, max)

    def zero_(self) -> "Tensor":
        return self._assign("zero_", np.zeros((), dtype=self.data.dtype))

    def fill_(self, value: Any) -> "Tensor":
        return self._assign("fill_", value if isinstance(value, Tensor) else
                            np.asarray(value, dtype=self.data.dtype))

    def copy_(self, src: Any) -> "Tensor":
        if not isinstance(src, Tensor):
            src = np.asarray(src)
        return self._assign("copy_", src)

    # -- random fills (PyTorch's samplers, in abdou_torch.random_sampling) -----------------------
    def uniform_(self, from_: builtins.float = 0.0, to: builtins.float = 1.0, *,
                 generator: Any = None) -> "Tensor":
        from .random_sampling import uniform_
        return uniform_(self, from_, to, generator=generator)

    def normal_(self, mean: builtins.float = 0.0, std: builtins.float = 1.0, *,
                generator: Any = None) -> "Tensor":
        from .random_sampling import normal_
        return normal_(self, mean, std, generator=generator)

    def random_(self, *bounds: Any, generator: Any = None, **to: Any) -> "Tensor":
        from .random_sampling import random_
        return random_(self, *bounds, generator=generator, **to)

    def exponential_(self, lambd: builtins.float = 1.0, *, generator: Any = None) -> "Tensor":
        from .random_sampling import exponential_
        return exponential_(self, lambd, generator=generator)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> "Tensor":
        from .random_sampling import bernoulli_
        return bernoulli_(self, p, generator=generator)

    def bernoulli(self, p: Any = None, *, generator: Any = None) -> "Tensor":
        from .random_sampling import bernoulli
        return bernoulli(self, p, generator=generator)

    def multinomial(self, num_samples: builtins.int, replacement: builtins.bool = False, *,
                    generator: Any = None) -> "Tensor":
        from .random_sampling import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)

    def __setitem__(self, key: Any, value: Any) -> None:
        """``self[key] = value``: a plain write, or, when the graph is involved, a new
        history for ``self`` in which the gradient of ``self[key]`` goes to ``value``."""
        index = _shape._normalize_index(key)
        if self._records_inplace(value):
            if not _shape.same_region(value, self.data, index):  # not x[k] += v's write-back
                _inplace.rebase_inplace(self, "setitem", lambda region: _replaced_by(
                    region, value), extra_step=((_shape.Index, index),))
            return
        values = value.data if isinstance(value, Tensor) else np.asarray(value)
        try:
            self.data[index] = values
        except ValueError as error:
            raise ShapeError(f"setitem: {error}") from None
        self._version_counter[0] += 1

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
        return _special.bitwise_not(self)

    # &, | and ^ are the bitwise functions (logical ones on bool tensors), as in PyTorch
    def __and__(self, other: Any) -> "Tensor":
        return _special.bitwise_and(self, other)

    def __or__(self, other: Any) -> "Tensor":
        return _special.bitwise_or(self, other)

    def __xor__(self, other: Any) -> "Tensor":
        return _special.bitwise_xor(self, other)

    def __rand__(self, other: Any) -> "Tensor":
        return _special.bitwise_and(other, self)

    def __ror__(self, other: Any) -> "Tensor":
        return _special.bitwise_or(other, self)

    def __rxor__(self, other: Any) -> "Tensor":
        return _special.bitwise_xor(other, self)

    def __iand__(self, other: Any) -> "Tensor":
        return self._inplace("bitwise_and_", _special.bitwise_and, other)

    def __ior__(self, other: Any) -> "Tensor":
        return self._inplace("bitwise_or_", _special.bitwise_or, other)

    def __ixor__(self, other: Any) -> "Tensor":
        return self._inplace("bitwise_xor_", _special.bitwise_xor, other)

    def __iadd__(self, other: TensorLike) -> "Tensor":
        return self._inplace("add_", _ew.add, other)

    def __isub__(self, other: TensorLike) -> "Tensor":
        return self._inplace("sub_", _ew.sub, other)

    def __imul__(self, other: TensorLike) -> "Tensor":
        return self._inplace("mul_", _ew.mul, other)

    def __itruediv__(self, other: TensorLike) -> "Tensor":
        return self._inplace("div_", _ew.div, other)

    # -- comparisons: boolean tensors, no gradient (``t == None`` is False, as in PyTorch) ----
    # elementwise, so a Tensor rather than object's bool (PyTorch's stubs say the same); with
    # None, False as PyTorch gives
    def __eq__(self, other: object) -> "Tensor":  # type: ignore[override]
        return False if other is None else _ew.eq(self, other)  # type: ignore[return-value]

    def __ne__(self, other: object) -> "Tensor":  # type: ignore[override]
        return True if other is None else _ew.ne(self, other)  # type: ignore[return-value]

    def __lt__(self, other: Comparand) -> "Tensor":
        return _ew.lt(self, other)

    def __le__(self, other: Comparand) -> "Tensor":
        return _ew.le(self, other)

    def __gt__(self, other: Comparand) -> "Tensor":
        return _ew.gt(self, other)

    def __ge__(self, other: Comparand) -> "Tensor":
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
    def add(self, other: TensorLike, alpha: builtins.float = 1) -> "Tensor":
        return _ew.add(self, other, alpha)

    def sub(self, other: TensorLike, alpha: builtins.float = 1) -> "Tensor":
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

    # -- ops/common.py: rounding, repeating, diagonals, masks -------------------------------
    def sign(self) -> "Tensor":
        return _common.sign(self)

    def floor(self) -> "Tensor":
        return _common.floor(self)

    def ceil(self) -> "Tensor":
        return _common.ceil(self)

    def round(self, *, decimals: builtins.int = 0) -> "Tensor":
        return _common.round(self, decimals=decimals)

    def trunc(self) -> "Tensor":
        return _common.trunc(self)

    def frac(self) -> "Tensor":
        return _common.frac(self)

    def reciprocal(self) -> "Tensor":
        return _common.reciprocal(self)

    def rsqrt(self) -> "Tensor":
        return _common.rsqrt(self)

    def lerp(self, end: Any, weight: Any) -> "Tensor":
        return _common.lerp(self, end, weight)

    def fmod(self, other: Any) -> "Tensor":
        return _common.fmod(self, other)

    def remainder(self, other: Any) -> "Tensor":
        return _common.remainder(self, other)

    def __mod__(self, other: Any) -> "Tensor":
        return _common.remainder(self, other)

    def __rmod__(self, other: Any) -> "Tensor":
        return _common.remainder(other, self)

    def repeat(self, *sizes: Any) -> "Tensor":
        return _common.repeat(self, *sizes)

    def tile(self, dims: Any) -> "Tensor":
        return _common.tile(self, dims)

    def repeat_interleave(self, repeats: Any, dim: builtins.int | None = None) -> "Tensor":
        return _common.repeat_interleave(self, repeats, dim)

    def swapaxes(self, axis0: builtins.int, axis1: builtins.int) -> "Tensor":
        return _common.swapaxes(self, axis0, axis1)

    def diagonal(self, offset: builtins.int = 0, dim1: builtins.int = 0,
                 dim2: builtins.int = 1) -> "Tensor":
        return _common.diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal: builtins.int = 0) -> "Tensor":
        return _common.diag(self, diagonal)

    def trace(self) -> "Tensor":
        return _common.trace(self)

    def nonzero(self, *, as_tuple: builtins.bool = False) -> Any:
        return _common.nonzero(self, as_tuple=as_tuple)

    def unique(self, sorted: builtins.bool = True, return_inverse: builtins.bool = False,
               return_counts: builtins.bool = False, dim: builtins.int | None = None) -> Any:
        return _common.unique(self, sorted, return_inverse, return_counts, dim)

    def count_nonzero(self, dim: Any = None) -> "Tensor":
        return _common.count_nonzero(self, dim)

    def isinf(self) -> "Tensor":
        return _common.isinf(self)

    def nan_to_num(self, nan: builtins.float = 0.0, posinf: builtins.float | None = None,
                   neginf: builtins.float | None = None) -> "Tensor":
        return _common.nan_to_num(self, nan, posinf, neginf)

    def logical_and(self, other: Any) -> "Tensor":
        return _common.logical_and(self, other)

    def logical_or(self, other: Any) -> "Tensor":
        return _common.logical_or(self, other)

    def logical_xor(self, other: Any) -> "Tensor":
        return _common.logical_xor(self, other)

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

    def softmax(self, dim: builtins.int | None = None, dtype: Any = None) -> "Tensor":
        from .nn import functional
        return functional.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: builtins.int | None = None, dtype: Any = None) -> "Tensor":
        from .nn import functional
        return functional.log_softmax(self, dim, dtype=dtype)

    # -- reductions ------------------------------------------------------------------------
    def sum(self, dim: Any = None, keepdim: builtins.bool = False, dtype: Any = None, **numpy_names:
            Any) -> "Tensor":
        return _reduce.sum(self, dim, keepdim, dtype, **numpy_names)

    def mean(self, dim: Any = None, keepdim: builtins.bool = False, dtype: Any = None,
             **numpy_names: Any) -> "Tensor":
        return _reduce.mean(self, dim, keepdim, dtype, **numpy_names)

    def var(self, dim: Any = None, **options: Any) -> "Tensor":
        return _reduce.var(self, dim, **options)

    def std(self, dim: Any = None, **options: Any) -> "Tensor":
        return _reduce.std(self, dim, **options)

    def prod(self, dim: Any = None, keepdim: builtins.bool = False, **numpy_names: Any) -> "Tensor":
        return _reduce.prod(self, dim, keepdim, **numpy_names)

    def amax(self, dim: Any = (), keepdim: builtins.bool = False, **numpy_names: Any) -> "Tensor":
        return _reduce.amax(self, dim, keepdim, **numpy_names)

    def amin(self, dim: Any = (), keepdim: builtins.bool = False, **numpy_names: Any) -> "Tensor":
        return _reduce.amin(self, dim, keepdim, **numpy_names)

    def max(self, dim: Any = None, keepdim: builtins.bool = False, **numpy_names: Any) -> Any:
        return _reduce.max(self, dim, keepdim, **numpy_names)

    def min(self, dim: Any = None, keepdim: builtins.bool = False, **numpy_names: Any) -> Any:
        return _reduce.min(self, dim, keepdim, **numpy_names)

    def argmax(self, dim: builtins.int | None = None, keepdim: builtins.bool = False,
               **numpy_names: Any) -> "Tensor":
        return _reduce.argmax(self, dim, keepdim, **numpy_names)

    def argmin(self, dim: builtins.int | None = None, keepdim: builtins.bool = False,
               **numpy_names: Any) -> "Tensor":
        return _reduce.argmin(self, dim, keepdim, **numpy_names)

    def logsumexp(self, dim: Any = None, keepdim: builtins.bool = False, **numpy_names: Any) \
            -> "Tensor":
        return _reduce.logsumexp(self, dim, keepdim, **numpy_names)

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

    def flatten(self, start_dim: builtins.int = 0, end_dim: builtins.int = -1) -> "Tensor":
        return _shape.flatten(self, start_dim, end_dim)

    def permute(self, *dims: Any) -> "Tensor":
        return _shape.permute(self, *dims)

    def transpose(self, dim0: builtins.int, dim1: builtins.int) -> "Tensor":
        return _shape.transpose(self, dim0, dim1)

    def t(self) -> "Tensor":
        return _shape.transpose(self, 0, 1) if self.ndim == 2 else self

    @property
    def T(self) -> "Tensor":  # noqa: N802 - PyTorch's name
        return _shape.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> "Tensor":  # noqa: N802 - PyTorch's name
        if self.ndim == 1:  # 0-d: the identity, as in PyTorch
            raise RuntimeError("tensor.mT is only supported on matrices or batches of "
                               "matrices. Got 1-D tensor.")
        return _shape.transpose(self, -2, -1) if self.ndim else _shape.reshape(self, ())

    def movedim(self, source: builtins.int, destination: builtins.int) -> "Tensor":
        return _shape.movedim(self, source, destination)

    def squeeze(self, dim: Any = None) -> "Tensor":
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim: builtins.int) -> "Tensor":
        return _shape.unsqueeze(self, dim)

    def expand(self, *sizes: Any) -> "Tensor":
        return _shape.expand(self, *sizes)

    def expand_as(self, other: "Tensor") -> "Tensor":
        return _shape.expand(self, other.shape)

    def select(self, dim: builtins.int, index: builtins.int) -> "Tensor":
        return _shape.select(self, dim, index)

    def take_along_dim(self, indices: Any, dim: builtins.int | None = None) -> "Tensor":
        return _shape.take_along_dim(self, indices, dim)

    def split(self, split_size_or_sections: Any, dim: builtins.int = 0) -> tuple["Tensor", ...]:
        return _shape.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: builtins.int, dim: builtins.int = 0) -> tuple["Tensor", ...]:
        return _shape.chunk(self, chunks, dim)

    def unbind(self, dim: builtins.int = 0) -> tuple["Tensor", ...]:
        return _shape.unbind(self, dim)

    def gather(self, dim: builtins.int, index: Any) -> "Tensor":
        return _shape.gather(self, dim, index)

    def narrow(self, dim: builtins.int, start: builtins.int, length: builtins.int) -> "Tensor":
        return _shape.narrow(self, dim, start, length)

    # -- ops of the wider API (issue 11) --------------------------------------------------
    # unary maths, and the in-place forms scripts use
    def log1p(self) -> "Tensor":
        return _ew.log1p(self)

    def expm1(self) -> "Tensor":
        return _ew.expm1(self)

    def log2(self) -> "Tensor":
        return _ew.log2(self)

    def log10(self) -> "Tensor":
        return _ew.log10(self)

    def clamp_min(self, min: Any) -> "Tensor":  # noqa: A002
        return _ew.clamp(self, min=min)

    def clamp_max(self, max: Any) -> "Tensor":  # noqa: A002
        return _ew.clamp(self, max=max)

    def clamp_min_(self, min: Any) -> "Tensor":  # noqa: A002
        return self._inplace("clamp_min_", _ew.clamp, min, None)

    def clamp_max_(self, max: Any) -> "Tensor":  # noqa: A002
        return self._inplace("clamp_max_", _ew.clamp, None, max)

    clip_ = clamp_

    def exp_(self) -> "Tensor":
        return self._inplace("exp_", _ew.exp)

    def log_(self) -> "Tensor":
        return self._inplace("log_", _ew.log)

    def log1p_(self) -> "Tensor":
        return self._inplace("log1p_", _ew.log1p)

    def expm1_(self) -> "Tensor":
        return self._inplace("expm1_", _ew.expm1)

    def sqrt_(self) -> "Tensor":
        return self._inplace("sqrt_", _ew.sqrt)

    def abs_(self) -> "Tensor":
        return self._inplace("abs_", _ew.abs)

    def neg_(self) -> "Tensor":
        return self._inplace("neg_", _ew.neg)

    def pow_(self, exponent: TensorLike) -> "Tensor":
        return self._inplace("pow_", _ew.pow, exponent)

    def square_(self) -> "Tensor":
        return self._inplace("square_", _ew.square)

    def sin_(self) -> "Tensor":
        return self._inplace("sin_", _ew.sin)

    def cos_(self) -> "Tensor":
        return self._inplace("cos_", _ew.cos)

    def tanh_(self) -> "Tensor":
        return self._inplace("tanh_", _ew.tanh)

    def sigmoid_(self) -> "Tensor":
        return self._inplace("sigmoid_", _ew.sigmoid)

    def relu_(self) -> "Tensor":
        return self._inplace("relu_", _ew.relu)

    # reductions and comparisons
    def all(self, dim: Any = None, keepdim: builtins.bool = False) -> "Tensor":
        return _reduce.all(self, dim, keepdim)

    def any(self, dim: Any = None, keepdim: builtins.bool = False) -> "Tensor":
        return _reduce.any(self, dim, keepdim)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: builtins.bool = False,
             dtype: Any = None) -> "Tensor":
        from .ops import norm
        return norm.torch_norm(self, p, dim, keepdim, dtype=dtype)

    def isclose(self, other: "Tensor", rtol: builtins.float = 1e-05, atol: builtins.float = 1e-08,
                equal_nan: builtins.bool = False) -> "Tensor":
        from .ops import compare
        return compare.isclose(self, other, rtol, atol, equal_nan)

    def allclose(self, other: "Tensor", rtol: builtins.float = 1e-05, atol: builtins.float = 1e-08,
                 equal_nan: builtins.bool = False) -> builtins.bool:
        from .ops import compare
        return compare.allclose(self, other, rtol, atol, equal_nan)

    def equal(self, other: "Tensor") -> builtins.bool:
        from .ops import compare
        return compare.equal(self, other)

    def histc(self, bins: builtins.int = 100, min: builtins.float = 0,
              max: builtins.float = 0) -> "Tensor":  # noqa: A002
        from .ops import histogram
        return histogram.histc(self, bins, min, max)

    def bincount(self, weights: Any = None, minlength: builtins.int = 0) -> "Tensor":
        from .ops import histogram
        return histogram.bincount(self, weights, minlength)

    # sorting and scans
    def sort(self, dim: builtins.int = -1, descending: builtins.bool = False,
             stable: builtins.bool = False) -> Any:
        from .ops import sorting
        return sorting.sort(self, dim, descending, stable)

    def argsort(self, dim: builtins.int = -1, descending: builtins.bool = False,
                stable: builtins.bool = False) -> "Tensor":
        from .ops import sorting
        return sorting.argsort(self, dim, descending, stable)

    def msort(self) -> "Tensor":
        from .ops import sorting
        return sorting.msort(self)

    def topk(self, k: builtins.int, dim: builtins.int = -1, largest: builtins.bool = True,
             sorted: builtins.bool = True) -> Any:
        from .ops import sorting
        return sorting.topk(self, k, dim, largest, sorted)

    def cumsum(self, dim: builtins.int, dtype: Any = None) -> "Tensor":
        from .ops import scan
        return scan.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim: builtins.int, dtype: Any = None) -> "Tensor":
        from .ops import scan
        return scan.cumprod(self, dim, dtype=dtype)

    # moving and masking by position
    def flip(self, *args: Any, dims: Any = None) -> "Tensor":
        from .ops import movement
        return movement.flip(self, _shape._shape_arg(args) if dims is None else dims)

    def fliplr(self) -> "Tensor":
        from .ops import movement
        return movement.fliplr(self)

    def flipud(self) -> "Tensor":
        from .ops import movement
        return movement.flipud(self)

    def roll(self, shifts: Any, dims: Any = None) -> "Tensor":
        from .ops import movement
        return movement.roll(self, shifts, dims)

    def tril(self, diagonal: builtins.int = 0) -> "Tensor":
        from .ops import movement
        return movement.tril(self, diagonal)

    def triu(self, diagonal: builtins.int = 0) -> "Tensor":
        from .ops import movement
        return movement.triu(self, diagonal)

    def tril_(self, diagonal: builtins.int = 0) -> "Tensor":
        from .ops import movement
        return self._inplace("tril_", movement.tril, diagonal)

    def triu_(self, diagonal: builtins.int = 0) -> "Tensor":
        from .ops import movement
        return self._inplace("triu_", movement.triu, diagonal)

    # indexed reads and writes
    def masked_fill(self, mask: TensorLike, value: Any) -> "Tensor":
        """Replace the values where ``mask`` is true by ``value`` (differentiable elsewhere)."""
        from .ops import indexing
        return indexing.masked_fill(self, mask, value)

    def masked_fill_(self, mask: TensorLike, value: Any) -> "Tensor":
        from .ops import indexing
        return self._inplace("masked_fill_", indexing.masked_fill, mask, value)

    def masked_select(self, mask: TensorLike) -> "Tensor":
        from .ops import indexing
        return indexing.masked_select(self, mask)

    def index_select(self, dim: builtins.int, index: Any) -> "Tensor":
        from .ops import indexing
        return indexing.index_select(self, dim, index)

    def index_add(self, dim: builtins.int, index: Any, source: Any, *,
                  alpha: builtins.float = 1) -> "Tensor":
        from .ops import indexing
        return indexing.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim: builtins.int, index: Any, source: Any, *,
                   alpha: builtins.float = 1) -> "Tensor":
        from .ops import indexing
        return self._inplace("index_add_", _with_keywords(indexing.index_add, alpha=alpha),
                             dim, index, source)

    def scatter(self, dim: builtins.int, index: Any, src: Any = None, value: Any = None, *,
                reduce: str | None = None) -> "Tensor":
        from .ops import indexing
        return indexing.scatter(self, dim, index, src, value, reduce=reduce)

    def scatter_(self, dim: builtins.int, index: Any, src: Any = None, value: Any = None, *,
                 reduce: str | None = None) -> "Tensor":
        from .ops import indexing
        return self._inplace("scatter_", _with_keywords(indexing.scatter, reduce=reduce),
                             dim, index, src, value)

    def scatter_add(self, dim: builtins.int, index: Any, src: "Tensor") -> "Tensor":
        from .ops import indexing
        return indexing.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: builtins.int, index: Any, src: "Tensor") -> "Tensor":
        from .ops import indexing
        return self._inplace("scatter_add_", indexing.scatter_add, dim, index, src)

    # matrix products
    def mm(self, mat2: "Tensor") -> "Tensor":
        return _linalg.mm(self, mat2)

    def bmm(self, mat2: "Tensor") -> "Tensor":
        return _linalg.bmm(self, mat2)

    def dot(self, other: "Tensor") -> "Tensor":
        return _linalg.dot(self, other)

    def outer(self, vec2: "Tensor") -> "Tensor":
        return _linalg.outer(self, vec2)

    def addmm(self, mat1: "Tensor", mat2: "Tensor", *, beta: builtins.float = 1,
              alpha: builtins.float = 1) -> "Tensor":
        return _linalg.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1: "Tensor", batch2: "Tensor", *, beta: builtins.float = 1,
                alpha: builtins.float = 1) -> "Tensor":
        return _linalg.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)


def _with_keywords(function: Any, **keywords: Any) -> Any:
    """``function`` with keyword arguments bound (for the in-place forms of ops whose
    options are keyword-only)."""
    return lambda *args: function(*args, **keywords)


def to_arguments(args: tuple, kwargs: dict, op: str) -> tuple[Any, Any, bool]:
    """(dtype, device, copy) from the arguments of ``Tensor.to`` / ``Module.to``: a dtype,
    a device (a string, a ``device`` or an index), both, or a tensor whose dtype to take,
    positionally or as keywords; ``non_blocking`` and ``memory_format`` are accepted."""
    dtype, where = kwargs.pop("dtype", None), kwargs.pop("device", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kwargs)}")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (str, device)) or isinstance(arg, int) and \
                not isinstance(arg, bool):
            where = arg
        elif arg is not None:
            dtype = arg
    return dtype, where, copy


def _construct(data: tuple, dtype: Any) -> np.ndarray:
    """The array behind ``Tensor(*data)``: the values given, or zeros of a shape given as
    ints (PyTorch's ``torch.Tensor(2, 3)``)."""
    if len(data) == 1 and not isinstance(data[0], Size) and not (
            isinstance(data[0], int) and not isinstance(data[0], bool)):
        value = data[0]
        if isinstance(value, Tensor):
            return dtypes.to_array(value._data, dtype)
        if dtype is None and not isinstance(value, (np.ndarray, np.generic)):
            dtype = dtypes.get_default_dtype()  # Tensor([1, 2]) is float, as in PyTorch
        return dtypes.to_array(value, dtype)
    sizes = tuple(data[0]) if len(data) == 1 and isinstance(data[0], Size) else data
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in sizes):
        raise TypeError(f"Tensor(): expected data, or non-negative ints for a shape, got "
                        f"{data!r}")
    return np.zeros(sizes, dtype=dtypes.get_default_dtype() if dtype is None else
                    dtypes.as_dtype(dtype))


_LEGACY_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                 "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor",
                 "int8": "CharTensor", "uint8": "ByteTensor", "bool": "BoolTensor"}


def _legacy_type_name(dtype: np.dtype) -> str:
    """``'FloatTensor'`` for float32 ... (what ``Tensor.type()`` names)."""
    return _LEGACY_NAMES.get(np.dtype(dtype).name, f"{np.dtype(dtype).name}Tensor")


def _legacy_dtype(name: str) -> np.dtype:
    """The dtype of a legacy type name (``'FloatTensor'`` is float32)."""
    for dtype, legacy in _LEGACY_NAMES.items():
        if legacy == name:
            return np.dtype(dtype)
    raise ValueError(f"invalid type: 'torch.{name}'")


def _replaced_by(before: Tensor, value: Any) -> Tensor:
    """``value`` broadcast over ``before``: the result of an assignment, recorded so that
    the gradient goes to ``value`` and none to ``before``."""
    return _ew.where(np.ones(before.shape, dtype=np.bool_), value, before)


def _ufunc_ops() -> dict[str, Any]:
    """NumPy ufunc names that are abdou_torch ops (used by ``Tensor.__array_ufunc__``)."""
    global _UFUNC_OPS
    if _UFUNC_OPS is None:
        _UFUNC_OPS = {
            "add": _ew.add, "subtract": _ew.sub, "multiply": _ew.mul, "divide": _ew.div,
            "true_divide": _ew.div, "power": _ew.pow, "matmul": _linalg.matmul,
            "negative": _ew.neg, "absolute": _ew.abs, "exp": _ew.exp, "log": _ew.log,
            "sqrt": _ew.sqrt, "tanh": _ew.tanh, "sin": _ew.sin, "cos": _ew.cos,
            "maximum": _ew.maximum, "minimum": _ew.minimum, "equal": _ew.eq,
            "not_equal": _ew.ne, "less": _ew.lt, "less_equal": _ew.le, "greater": _ew.gt,
            "greater_equal": _ew.ge, "logical_not": _ew.logical_not, "square": _ew.square,
            "sign": _common.sign, "isnan": _ew.isnan, "isfinite": _ew.isfinite}
    return _UFUNC_OPS


_UFUNC_OPS: dict[str, Any] | None = None

# Bound last: the ops and the engine import this module while they load. The methods above
# look these names up when they are called.
from .autograd import engine as _engine  # noqa: E402
from .autograd import inplace as _inplace  # noqa: E402
from .ops import common as _common  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import reduce as _reduce  # noqa: E402
from .ops import shape as _shape  # noqa: E402
from .ops import special as _special  # noqa: E402
