"""embedding_bag: the sum, mean or max of the embedding rows of each bag of indices, without
materialising a (bags, length, dim) tensor: the rows are gathered once, then added into
their bag (an index-add) or picked where each bag's maximum is (an index), so gradients
reach the weight (and ``per_sample_weights``) through those differentiable ops.

Bags: the rows of a 2-D input, or the runs input[offsets[i]:offsets[i+1]] of a 1-D input
(the last run to the end, unless ``include_last_offset``). Entries equal to
``padding_idx`` are left out (and not counted by the mean); an empty bag gives zeros."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import _as_tensor
from .shape import Index, IndexAdd

__all__ = ["embedding_bag"]


def _bags(indices: np.ndarray, offsets: Any, include_last_offset: bool) -> tuple:
    """The flat indices and the bag of each, and the number of bags."""
    if indices.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found "
                             "offsets of type Tensor")
        bags, length = indices.shape
        return indices.reshape(-1), np.repeat(np.arange(bags), length), bags
    if indices.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{indices.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    starts = np.asarray(offsets.data if isinstance(offsets, Tensor) else offsets)
    if starts.ndim != 1:
        raise ValueError(f"offsets has to be a 1D Tensor, but got Tensor of dimension "
                         f"{starts.ndim}")
    starts = starts.astype(np.int64)
    if starts.size and starts[0] != 0:
        raise RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                           f"mini-batch has to start from position 0. However, got "
                           f"{starts[0]}")
    if starts.size and (np.any(np.diff(starts) < 0) or starts[-1] > indices.size):
        raise RuntimeError(f"embedding_bag: offsets must be non-decreasing and at most the "
                           f"number of indices ({indices.size}), got {starts.tolist()}")
    bags = starts.size - 1 if include_last_offset else starts.size
    ends = np.append(starts[1:], indices.size)[:max(bags, 0)]
    bag_of = np.repeat(np.arange(max(bags, 0)), ends - starts[:max(bags, 0)])
    return indices[:bag_of.size], bag_of, max(bags, 0)


def embedding_bag(input: Any, weight: Any, offsets: Any = None,  # noqa: A002
                  max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Any = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """(bags, dim): per bag, Σ w_i·weight[i] ('sum'), their mean ('mean') or the
    elementwise max ('max') of its rows (see the module docstring)."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding_bag: max_norm, scale_grad_by_freq and sparse "
                                  "are not supported by abdou_torch")
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    table = _as_tensor(weight)
    indices = np.asarray(input.data if isinstance(input, Tensor) else input)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: indices must be an integer tensor, got "
                        f"{indices.dtype}")
    if table.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension "
                         f"{table.ndim}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                  f"per_sample_weights is only supported for mode='sum' (got "
                                  f"mode='{mode}'). Please open a feature request on GitHub.")
    flat, bag_of, bags = _bags(indices, offsets, include_last_offset)
    rows, dim = table.shape
    if flat.size and (flat.min() < 0 or flat.max() >= rows):
        bad = int(flat.max() if flat.max() >= rows else flat.min())
        raise IndexError(f"embedding_bag: index {bad} is out of range for {rows} embeddings")
    keep = np.ones(flat.size, bool) if padding_idx is None else flat != padding_idx % rows
    vectors = Index.apply(table, (flat[keep],))                  # (tokens kept, dim)
    bag_kept = bag_of[keep]
    if mode == "max":
        return _bag_max(vectors, bag_kept, bags, dim)
    if per_sample_weights is not None:
        weights = _as_tensor(per_sample_weights).reshape(-1)
        if tuple(weights.shape) != (indices.size,):
            raise ValueError(f"embedding_bag: per_sample_weights must have the shape of the "
                             f"input {tuple(indices.shape)}")
        vectors = vectors * Index.apply(weights, (np.nonzero(keep)[0],)).unsqueeze(1)
    total = IndexAdd.apply(vectors, (bags, dim), (bag_kept,))
    if mode == "sum":
        return total
    counts = np.bincount(bag_kept, minlength=bags).astype(table.data.dtype)
    return total / Tensor._wrap(np.maximum(counts, 1)[:, None], False)


def _bag_max(vectors: Tensor, bag_of: np.ndarray, bags: int, dim: int) -> Tensor:
    """y[b, d] = max over the bag's rows of vectors[:, d] (0 for an empty bag)."""
    values = vectors.data
    best = np.full((bags, dim), -np.inf, values.dtype)
    np.maximum.at(best, bag_of, values)
    winner = np.full((bags, dim), -1, np.int64)
    for token in range(values.shape[0] - 1, -1, -1):  # the first maximum wins, as in PyTorch
        hit = values[token] == best[bag_of[token]]
        winner[bag_of[token], hit] = token
    filled = winner >= 0
    picked = Index.apply(vectors, (np.where(filled, winner, 0), np.arange(dim)[None, :]))
    return picked * Tensor._wrap(filled.astype(values.dtype), False)
