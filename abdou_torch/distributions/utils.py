"""``torch.distributions.utils``: helpers the distributions share.

``broadcast_all`` turns numbers into tensors and broadcasts everything to one shape;
``logits_to_probs`` / ``probs_to_logits`` convert between the two parametrisations of a
discrete distribution; ``lazy_property`` computes a derived parameter (``probs`` from
``logits``) on first read and caches it on the instance.
"""
from __future__ import annotations

import numbers
from functools import update_wrapper
from typing import Any, Callable

import numpy as np

from .. import dtypes
from ..autograd import enable_grad
from ..ops import elementwise
from ..ops.common import softmax
from ..tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs",
           "lazy_property", "tril_matrix_to_vec", "vec_to_tril_matrix"]


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """The values as tensors of one broadcast shape: numbers become tensors of the first
    tensor's dtype (the default dtype if there is none); tensors are expanded (views)."""
    for value in values:
        if not isinstance(value, (Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number, "
                             "torch.Tensor or objects implementing __torch_function__.")
    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors else dtypes.get_default_dtype()
    as_tensors = [v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=dtype))
                  for v in values]
    try:
        shape = np.broadcast_shapes(*(tuple(t.shape) for t in as_tensors))
    except ValueError:
        shapes = ", ".join(str(tuple(t.shape)) for t in as_tensors)
        raise RuntimeError(f"broadcast_all: shapes {shapes} cannot be broadcast "
                           f"together") from None
    return tuple(t if tuple(t.shape) == shape else t.expand(shape) for t in as_tensors)


def _eps(dtype: Any) -> float:
    return float(np.finfo(dtypes.as_dtype(dtype)).eps)


def clamp_probs(probs: Tensor) -> Tensor:
    """probs clamped to [eps, 1 - eps] (eps of their dtype), so their logs stay finite."""
    eps = _eps(probs.dtype)
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """p = sigmoid(logits) for a binary variable, else softmax(logits) over the last dim."""
    if is_binary:
        return elementwise.sigmoid(logits)
    return softmax(logits, -1)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """logits = log p - log(1 - p) for a binary variable, else log p (p clamped first)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:  # noqa: N801 - PyTorch's name
    """A property computed on first read (with grad enabled, so the cached value stays
    differentiable) and then stored on the instance, replacing the descriptor there."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        self.wrapped = wrapped
        update_wrapper(self, wrapped)  # type: ignore[arg-type]

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The entries of the lower triangle (offset ``diag``) of the last two dims, row by
    row, as a vector."""
    n = mat.shape[-1]
    if not -n <= diag < n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = np.tril_indices(n, k=diag)
    flat = mat.reshape(tuple(mat.shape[:-2]) + (n * n,))
    index = Tensor(rows * n + cols)
    return flat.index_select(-1, index)


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """The inverse of :func:`tril_matrix_to_vec`: an n x n lower-triangular matrix (zeros
    elsewhere) from its vectorised lower triangle."""
    length = vec.shape[-1]
    n = int(round((-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * length
                                      + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2))
    rows, cols = np.tril_indices(n, k=diag)
    if len(rows) != length:
        raise ValueError(f"vec_to_tril_matrix: {length} entries do not fill the lower "
                         f"triangle of a square matrix with diag={diag}")
    matrix = Tensor(np.zeros(tuple(vec.shape[:-1]) + (n * n,), dtype=vec.dtype))
    index = Tensor(np.broadcast_to(rows * n + cols, tuple(vec.shape)).copy())
    return matrix.scatter(-1, index, vec).reshape(tuple(vec.shape[:-1]) + (n, n))
