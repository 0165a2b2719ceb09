"""Searching sorted values and runs: bucketize, searchsorted, argwhere, unique_consecutive.
Their results are indices and counts: no gradient flows through them."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import _as_tensor, _values

__all__ = ["bucketize", "searchsorted", "argwhere", "unique_consecutive"]


def _index_tensor(values: np.ndarray, out_int32: bool) -> Tensor:
    return Tensor._wrap(np.asarray(values, dtype=np.int32 if out_int32 else np.int64), False)


def _side(right: bool, side: str | None, op: str) -> Any:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(f"{op}(): side can only be 'left' or 'right' but got {side}")
    if right and side == "left":
        raise RuntimeError(f"{op}(): side and right can't be set to opposites, got side of "
                           f"left while right was True")
    return side


def bucketize(input: Any, boundaries: Any, *, out_int32: bool = False,  # noqa: A002
              right: bool = False) -> Tensor:
    """The bucket of each value: i with boundaries[i-1] < x <= boundaries[i] (``right``:
    boundaries[i-1] <= x < boundaries[i]); ``boundaries`` 1-D and ascending."""
    edges = _values(_as_tensor(boundaries))
    if edges.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({edges.ndim})")
    values = _values(_as_tensor(input))
    found = np.searchsorted(edges, values, side="right" if right else "left")
    return _index_tensor(found, out_int32)


def searchsorted(sorted_sequence: Any, input: Any, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """Where each value would be inserted to keep the innermost dim of ``sorted_sequence``
    sorted (its leading dims match the values'; a 1-D sequence serves all values)."""
    sequence = _values(_as_tensor(sorted_sequence))
    scalar = not isinstance(input, Tensor) and np.ndim(input) == 0
    values = np.asarray(_values(_as_tensor(input)))
    where = _side(right, side, "torch.searchsorted")
    order = None if sorter is None else _values(_as_tensor(sorter)).astype(np.int64)
    if order is not None:
        if order.shape != sequence.shape:
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same "
                               f"size, but got boundary tensor {list(sequence.shape)}and "
                               f"got sorter tensor {list(order.shape)}")
        sequence = np.take_along_axis(sequence, order, axis=-1)
    if sequence.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if sequence.ndim == 1 or scalar:
        if scalar and sequence.ndim != 1:
            raise RuntimeError("torch.searchsorted(): input value can be a scalar only when "
                               "boundaries tensor dimension is 1")
        return _index_tensor(np.searchsorted(sequence, values, side=where), out_int32)
    if sequence.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           f"the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor "
                           f"{list(sequence.shape)} and input value tensor "
                           f"{list(values.shape)}")
    rows = sequence.reshape(-1, sequence.shape[-1])
    queries = values.reshape(-1, values.shape[-1])
    found = np.stack([np.searchsorted(r, q, side=where) for r, q in zip(rows, queries)]) \
        if rows.shape[0] else np.zeros(queries.shape, np.int64)
    return _index_tensor(found.reshape(values.shape), out_int32)


def argwhere(input: Any) -> Tensor:  # noqa: A002
    """The indices of the non-zero elements, one row each: (count, ndim), int64."""
    values = _values(_as_tensor(input))
    return Tensor._wrap(np.argwhere(values).astype(np.int64), False)


def unique_consecutive(input: Any, return_inverse: bool = False,  # noqa: A002
                       return_counts: bool = False, dim: int | None = None) -> Any:
    """The first of each run of equal consecutive values (slices along ``dim``), with the run
    each element belongs to and the run lengths when asked."""
    from .shape import _dim
    values = _values(_as_tensor(input))
    if dim is None:
        flat = values.reshape(-1)
        starts = np.concatenate([[True], flat[1:] != flat[:-1]]) if flat.size else \
            np.zeros(0, bool)
        kept = flat[starts]
        inverse_shape = values.shape
    else:
        axis = _dim(dim, values.ndim, "unique_consecutive")
        moved = np.moveaxis(values, axis, 0)
        rows = moved.reshape(moved.shape[0], -1)
        starts = np.concatenate([[True], np.any(rows[1:] != rows[:-1], axis=1)]) \
            if rows.shape[0] else np.zeros(0, bool)
        kept = np.moveaxis(moved[starts], 0, axis)
        inverse_shape = (values.shape[axis],)
    runs = np.cumsum(starts) - 1
    results: list[Tensor] = [Tensor._wrap(np.ascontiguousarray(kept), False)]
    if return_inverse:
        results.append(Tensor._wrap(runs.reshape(inverse_shape).astype(np.int64), False))
    if return_counts:
        edges = np.flatnonzero(starts)
        counts = np.diff(np.append(edges, starts.size)).astype(np.int64)
        results.append(Tensor._wrap(counts, False))
    return results[0] if len(results) == 1 else tuple(results)
