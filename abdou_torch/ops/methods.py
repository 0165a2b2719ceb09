"""Tensor methods for the op families added with the wider ``torch.*`` API (ops/special.py,
ops/statistics.py, ops/arrange.py, ops/search.py, linalg): ``x.atan2(y)`` is
``torch.atan2(x, y)``, and ``x.atan2_(y)`` its in-place form (``Tensor._inplace``: a plain
write without a graph, a new history with one).

Kept apart from tensor.py's class body, which holds the core methods, so that this list of
PyTorch's names can grow without touching the class.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import Tensor
from . import arrange, common, matrix, search, special, statistics
from .elementwise import _as_tensor

__all__ = ["register", "register_inplace"]


def register(names: str, module: Any) -> None:
    """``Tensor.<name>`` for each name: the module's function of the same name."""
    for name in names.split():
        setattr(Tensor, name, getattr(module, name))


def _inplace_method(name: str, function: Callable) -> Callable:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if kwargs:
            return self._inplace(f"{name}_", lambda x, *a: function(x, *a, **kwargs), *args)
        return self._inplace(f"{name}_", function, *args)
    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In-place ``{name}``: ``self`` becomes ``{name}(self, ...)``."
    return method


def register_inplace(names: str, module: Any) -> None:
    """``Tensor.<name>_``: ``self <- module.<name>(self, ...)`` in place."""
    for name in names.split():
        setattr(Tensor, f"{name}_", _inplace_method(name, getattr(module, name)))


_SPECIAL = ("tan asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan arcsinh "
            "arccosh arctanh atan2 arctan2 hypot deg2rad rad2deg exp2 erfc erfinv digamma "
            "lgamma sinc logit xlogy heaviside sgn copysign fmax fmin clamp_min "
            "clamp_max addcmul addcdiv nansum nanmean bitwise_and bitwise_or bitwise_xor "
            "bitwise_not float_power true_divide multiply subtract negative absolute")
register(_SPECIAL, special)
register("signbit", special)
register_inplace("tan asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan "
                 "arcsinh arccosh arctanh arctan2 atan2 hypot deg2rad "
                 "rad2deg exp2 erfc erfinv digamma lgamma sinc logit xlogy sgn copysign "
                 "clamp_min clamp_max addcmul addcdiv bitwise_and bitwise_or bitwise_xor "
                 "bitwise_not float_power true_divide multiply subtract negative absolute",
                 special)


def _polygamma(self: Tensor, n: int) -> Tensor:
    """``x.polygamma(n)`` is ``torch.polygamma(n, x)`` (the order comes first there)."""
    return special.polygamma(n, self)


def _polygamma_(self: Tensor, n: int) -> Tensor:
    return self._inplace("polygamma_", lambda x: special.polygamma(n, x))


for _name, _method in {"polygamma": _polygamma, "polygamma_": _polygamma_}.items():
    setattr(Tensor, _name, _method)
register("median nanmedian mode kthvalue quantile nanquantile cummax cummin logcumsumexp diff "
         "cov corrcoef aminmax renorm dist", statistics)
register_inplace("renorm", statistics)


register("det logdet slogdet cholesky matrix_exp matrix_power", matrix)
for _name, _function in {"inverse": matrix.inv, "pinverse": matrix.pinv,
                         "cross": matrix.torch_cross, "svd": matrix.torch_svd,
                         "qr": matrix.torch_qr}.items():
    setattr(Tensor, _name, _function)
register("argwhere unique_consecutive", search)

register("kron tensordot mv addr diag_embed diagflat index_copy index_fill take put index_put "
         "masked_scatter scatter_reduce tensor_split unflatten unfold moveaxis is_complex conj "
         "real imag", arrange)
register_inplace("index_copy index_fill put index_put masked_scatter scatter_reduce addr",
                 arrange)
register_inplace("lerp sign floor ceil trunc frac round reciprocal rsqrt fmod remainder", common)
register_inplace("cholesky", matrix)


def _rot90(self: Tensor, k: int = 1, dims: Any = (0, 1)) -> Tensor:
    return arrange.rot90(self, k, dims)


def _addmm_(self: Tensor, mat1: Any, mat2: Any, *, beta: float = 1,
            alpha: float = 1) -> Tensor:
    from .linalg import addmm
    return self._inplace("addmm_", lambda x: addmm(x, mat1, mat2, beta=beta, alpha=alpha))


def _as_dtype_method(dtype: str) -> Callable:
    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        return self.to(np.dtype(dtype))
    method.__name__ = method.__qualname__ = {"uint8": "byte", "int8": "char",
                                             "int16": "short"}[dtype]
    method.__doc__ = f"``self.to(torch.{dtype})``."
    return method


def _apply_(self: Tensor, callable: Callable) -> Tensor:  # noqa: A002 - PyTorch's name
    """Each element replaced by ``callable(element)`` in place (no autograd, as PyTorch)."""
    _refuse_leaf("apply_", self)
    values = np.array([callable(v) for v in self.data.reshape(-1).tolist()],
                      dtype=self.data.dtype).reshape(self.shape)
    return self._write("apply_", values)


def _map_(self: Tensor, tensor: Any, callable: Callable) -> Tensor:  # noqa: A002
    """self[i] = callable(self[i], tensor[i]) in place (``tensor`` broadcast to self)."""
    _refuse_leaf("map_", self)
    other = np.broadcast_to(_as_tensor(tensor).data, self.shape)
    values = np.array([callable(a, b) for a, b in zip(self.data.reshape(-1).tolist(),
                                                      other.reshape(-1).tolist())],
                      dtype=self.data.dtype).reshape(self.shape)
    return self._write("map_", values)


def _refuse_leaf(op: str, tensor: Tensor) -> None:
    if tensor.requires_grad:
        raise RuntimeError(f"{op}: cannot be used on a tensor that requires grad (it bypasses "
                           f"autograd)")


def _reshaping_inplace(op: str, function: Callable) -> Callable:
    """An in-place change of shape (squeeze_, t_ ...): the tensor becomes a view with the
    new shape; in a graph it takes the out-of-place op's history, as PyTorch."""
    def method(self: Tensor, *args: Any) -> Tensor:
        from ..autograd.grad_mode import GradMode
        if GradMode.enabled and self.requires_grad and self.is_leaf:
            raise RuntimeError(f"{op}: a leaf Variable that requires grad is being used in "
                               f"an in-place operation.")
        if not (GradMode.enabled and self.requires_grad):
            self._data = function(self, *args).data
            return self
        from ..autograd.inplace import _take_history
        before = Tensor._wrap(self._data, False)  # the tensor as it was, with its history
        before._version_counter = self._version_counter
        _take_history(before, self)
        result = function(before, *args)
        self._data = result.data
        _take_history(self, result)
        return self
    method.__name__ = method.__qualname__ = op
    method.__doc__ = f"In-place ``{op[:-1]}``: this tensor takes the new shape."
    return method


def _storage_offset(self: Tensor) -> int:
    """The offset of this tensor's first element in its memory block, in elements."""
    data, root = self.data, self.data
    while isinstance(root.base, np.ndarray):
        root = root.base
    if root is data or root.size == 0 or data.size == 0:
        return 0
    start = data.__array_interface__["data"][0]
    return (start - root.__array_interface__["data"][0]) // data.itemsize


def _conjugate_transpose(self: Tensor) -> Tensor:
    """``x.H``: the conjugate transpose of a matrix (a 0-d tensor is itself)."""
    if self.ndim not in (0, 2):
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{self.ndim}-D tensor.")
    return self if self.ndim == 0 else arrange.conj(self.t())


def _random_fill(name: str) -> Callable:
    def method(self: Tensor, *args: Any, generator: Any = None) -> Tensor:
        from .. import random_sampling
        return getattr(random_sampling, name)(self, *args, generator=generator)
    method.__name__ = method.__qualname__ = name
    return method


_METHODS: dict[str, Any] = {
    "rot90": _rot90, "addmm_": _addmm_, "byte": _as_dtype_method("uint8"),
    "char": _as_dtype_method("int8"), "short": _as_dtype_method("int16"), "apply_": _apply_,
    "map_": _map_, "storage_offset": _storage_offset, "H": property(_conjugate_transpose),
    "squeeze_": _reshaping_inplace("squeeze_", lambda x, *dim: x.squeeze(*dim)),
    "unsqueeze_": _reshaping_inplace("unsqueeze_", lambda x, dim: x.unsqueeze(dim)),
    "t_": _reshaping_inplace("t_", lambda x: x.t()),
    "transpose_": _reshaping_inplace("transpose_", lambda x, a, b: x.transpose(a, b)),
    "swapaxes_": _reshaping_inplace("swapaxes_", lambda x, a, b: x.transpose(a, b)),
    "geometric_": _random_fill("geometric_"), "log_normal_": _random_fill("log_normal_"),
    "cauchy_": _random_fill("cauchy_"),
}
for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
