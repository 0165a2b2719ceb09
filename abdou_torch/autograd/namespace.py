"""The array namespace a backward formula is written against.

Each primitive states its gradient once, as ``backward(self, xp, dy)``. The engine passes
one of two namespaces with the same names:

- ``ARRAYS`` on the training walk: ``dy`` is a NumPy array, ``xp.value(t)`` is ``t.data``
  and ``xp.exp`` is ``np.exp``. No Tensor and no graph node is made.
- ``TENSORS`` under ``create_graph=True``: ``dy`` is a Tensor, ``xp.value(t)`` is ``t``
  itself and ``xp.exp`` is ``abdou_torch.exp``, so the backward pass is recorded and can be
  differentiated again (Hessian-vector products, gradient penalties).

Arithmetic operators (``dy * b``, ``-dy / (b * b)``) and ``.reshape`` work on arrays and
Tensors alike; everything else a formula needs goes through the namespace. A formula may
also use another primitive as a function with ``xp.apply(Primitive, *args)``: on arrays
that is the primitive's ``forward``, on Tensors its recorded ``apply`` (the convolution and
indexing families are closed under differentiation this way).

This is HIPS autograd's idea (its gradient rules are written in ``autograd.numpy``, which
serves raw arrays and traced values alike), reduced to the few functions the formulas use.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .function import Primitive

__all__ = ["Namespace", "ARRAYS", "TENSORS"]


class Namespace:
    """The functions a backward formula may call; see the module docstring."""

    #: True on the training walk (NumPy arrays), False under create_graph (Tensors)
    arrays: bool = True

    def value(self, x: Any) -> Any:
        """A node input as this walk sees it: a Tensor's array, or the Tensor itself."""
        raise NotImplementedError

    def apply(self, primitive: type[Primitive], *args: Any, **kwargs: Any) -> Any:
        """``primitive`` used as a function of this walk's values."""
        raise NotImplementedError

    def sum_to(self, x: Any, shape: tuple[int, ...]) -> Any:
        """``x`` summed down to ``shape`` (broadcasting undone: the engine's call)."""
        raise NotImplementedError

    def cast(self, x: Any, dtype: np.dtype) -> Any:
        """``x`` converted to ``dtype`` (the engine's call)."""
        raise NotImplementedError


class _Arrays(Namespace):
    """NumPy: the training walk."""

    arrays = True

    @staticmethod
    def value(x: Any) -> Any:
        return x.data if isinstance(x, Tensor) else x

    @staticmethod
    def apply(primitive: type[Primitive], *args: Any, **kwargs: Any) -> np.ndarray:
        node = primitive.__new__(primitive)  # holds what forward saves; never linked
        return node.forward(*[a.data if isinstance(a, Tensor) else a for a in args], **kwargs)

    @staticmethod
    def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.matmul(a, b)

    @staticmethod
    def where(condition: np.ndarray, a: Any, b: Any) -> np.ndarray:
        return np.where(condition, a, b)

    exp, log, sqrt, tanh = staticmethod(np.exp), staticmethod(np.log), \
        staticmethod(np.sqrt), staticmethod(np.tanh)
    sin, cos = staticmethod(np.sin), staticmethod(np.cos)

    @staticmethod
    def sum(x: np.ndarray, dims: tuple[int, ...], keepdim: bool = False) -> np.ndarray:
        # the ufunc's own reduce: np.sum is a Python wrapper around it, run for every bias
        # gradient (same dtype rules, same result)
        return np.asarray(np.add.reduce(x, axis=dims,  # type: ignore[call-overload]
                                        keepdims=keepdim))  # (stubs: literal bools only)

    @staticmethod
    def sum_to(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return sum_to_shape(x, shape)

    @staticmethod
    def expand(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return expand_array(x, shape)

    @staticmethod
    def permute(x: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        return np.transpose(x, dims)

    @staticmethod
    def swapaxes(x: np.ndarray, dim0: int, dim1: int) -> np.ndarray:
        return np.swapaxes(x, dim0, dim1)

    @staticmethod
    def cast(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
        return x.astype(dtype)


class _Tensors(Namespace):
    """abdou_torch's own ops: the recorded walk (create_graph)."""

    arrays = False

    @staticmethod
    def value(x: Any) -> Any:
        return x

    @staticmethod
    def apply(primitive: type[Primitive], *args: Any, **kwargs: Any) -> Any:
        return primitive.apply(*args, **kwargs)

    @staticmethod
    def matmul(a: Any, b: Any) -> Any:
        return linalg.matmul(a, b)

    @staticmethod
    def where(condition: np.ndarray, a: Any, b: Any) -> Any:
        return elementwise.where(condition, a, b)

    @staticmethod
    def exp(x: Any) -> Any:
        return elementwise.exp(x)

    @staticmethod
    def log(x: Any) -> Any:
        return elementwise.log(x)

    @staticmethod
    def sqrt(x: Any) -> Any:
        return elementwise.sqrt(x)

    @staticmethod
    def tanh(x: Any) -> Any:
        return elementwise.tanh(x)

    @staticmethod
    def sin(x: Any) -> Any:
        return elementwise.sin(x)

    @staticmethod
    def cos(x: Any) -> Any:
        return elementwise.cos(x)

    @staticmethod
    def sum(x: Any, dims: tuple[int, ...], keepdim: bool = False) -> Any:
        return reduce.sum(x, dims, keepdim)

    @staticmethod
    def sum_to(x: Any, shape: tuple[int, ...]) -> Any:
        return reduce.sum_to(x, shape)

    @staticmethod
    def expand(x: Any, shape: tuple[int, ...]) -> Any:
        return shape_ops.expand(x, shape)

    @staticmethod
    def permute(x: Any, dims: tuple[int, ...]) -> Any:
        return shape_ops.permute(x, dims)

    @staticmethod
    def swapaxes(x: Any, dim0: int, dim1: int) -> Any:
        return shape_ops.transpose(x, dim0, dim1)

    @staticmethod
    def cast(x: Any, dtype: np.dtype) -> Any:
        return x.to(dtype)


ARRAYS: Namespace = _Arrays()
TENSORS: Namespace = _Tensors()

# Imported last: the ops import the autograd package while they load.
from ..ops import elementwise, linalg, reduce  # noqa: E402
from ..ops import shape as shape_ops  # noqa: E402
from ..ops.reduce import expand_array, sum_to_shape  # noqa: E402
from ..tensor import Tensor  # noqa: E402
