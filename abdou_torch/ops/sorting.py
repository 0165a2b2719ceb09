"""Sorting: sort, argsort, msort, topk.

Each is a composite: the order is found on the array (no gradient flows through an
order), then the values are gathered along ``dim`` with those indices, so the gradient is
Gather's (each value's gradient goes back to the position it came from) and higher
derivatives come with it.

The order is PyTorch's: NaN counts as larger than every number (last in an ascending
sort, first in a descending one), and equal values keep their input order (a stable sort),
which is one of the orders PyTorch's ``stable=False`` may return and the one its
``stable=True`` promises.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import _as_tensor
from .reduce import MinMaxResult
from .shape import Gather, _dim

__all__ = ["sort", "argsort", "msort", "topk"]


class SortResult(MinMaxResult):
    """``(values, indices)`` with names, like ``torch.return_types.sort`` and ``topk``."""


def _stable_order(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Indices that sort ``data`` along ``axis``; ties keep their input order either way.

    NumPy sorts NaN last. A descending order is the ascending order of the reversed data,
    reversed again: ties then come out in input order and NaN first, as in PyTorch.
    """
    if not descending:
        return np.argsort(data, axis=axis, kind="stable")
    size = data.shape[axis]
    order = np.argsort(np.flip(data, axis), axis=axis, kind="stable")
    return size - 1 - np.flip(order, axis)


def _indices(array: np.ndarray) -> Tensor:
    return Tensor._wrap(array.astype(np.int64, copy=False), False)


def _sorted_along(x: Tensor, dim: int, order: np.ndarray) -> Tensor:
    """The values of ``x`` taken in ``order`` along ``dim``, differentiable."""
    return Gather.apply(x, dim, order)


def sort(input: Any, dim: int = -1, descending: bool = False, stable: bool = False):  # noqa: A002
    """(values, indices): ``input`` sorted along ``dim``; values[i] = input[indices[i]]."""
    x = _as_tensor(input)
    if x.ndim == 0:
        _dim(dim, 0, "sort")
        return SortResult((x.clone(), _indices(np.zeros((), np.int64))))
    axis = _dim(dim, x.ndim, "sort")
    order = _stable_order(x.data, axis, bool(descending))
    return SortResult((_sorted_along(x, axis, order), _indices(order)))


def argsort(input: Any, dim: int = -1, descending: bool = False,  # noqa: A002
            stable: bool = False) -> Tensor:
    """The indices that sort ``input`` along ``dim`` (int64)."""
    x = _as_tensor(input)
    if x.ndim == 0:
        _dim(dim, 0, "argsort")
        return _indices(np.zeros((), np.int64))
    return _indices(_stable_order(x.data, _dim(dim, x.ndim, "argsort"), bool(descending)))


def msort(input: Any) -> Tensor:  # noqa: A002
    """``input`` sorted along its first dim (ascending)."""
    return sort(input, dim=0).values


def topk(input: Any, k: int, dim: int = -1, largest: bool = True,  # noqa: A002
         sorted: bool = True):  # noqa: A002 - PyTorch's argument name
    """(values, indices) of the ``k`` largest (or smallest) elements along ``dim``.

    The results are always in sorted order (``sorted=False`` leaves the order unspecified
    in PyTorch; sorted is one such order). Among equal values the earlier index comes first.
    """
    x = _as_tensor(input)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"topk: k must be an int, got {k!r}")
    size = x.shape[_dim(dim, x.ndim, "topk")] if x.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError(f"topk: selected index k out of range: k = {k} for a dim of "
                           f"size {size} (tensor shape {tuple(x.shape)})")
    if x.ndim == 0:
        return SortResult((x.clone(), _indices(np.zeros((), np.int64))))
    axis = _dim(dim, x.ndim, "topk")
    order = _stable_order(x.data, axis, bool(largest))
    order = order[(slice(None),) * axis + (slice(0, int(k)),)]
    return SortResult((_sorted_along(x, axis, order), _indices(order)))
