"""Tensor methods for the op families added with the wider ``torch.*`` API (ops/special.py,
ops/statistics.py, ops/arrange.py, ops/search.py, linalg): ``x.atan2(y)`` is
``torch.atan2(x, y)``, and ``x.atan2_(y)`` its in-place form (``Tensor._inplace``: a plain
write without a graph, a new history with one).

Kept apart from tensor.py's class body, which holds the core methods, so that this list of
PyTorch's names can grow without touching the class.
"""
from __future__ import annotations

from typing import Any, Callable

from ..tensor import Tensor
from . import matrix, search, special, statistics

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
