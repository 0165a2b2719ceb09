"""multilabel_margin_loss, composed from gathers, a broadcast difference and a masked hinge
(so its gradients come from those ops):

    loss(x, y) = Σ_{j < k} Σ_{i ∉ targets} max(0, 1 − (x[y_j] − x[i])) / C

where the targets y_0 .. y_{k−1} are the entries of y before its first −1."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .elementwise import _as_tensor

__all__ = ["multilabel_margin_loss"]


def _targets(labels: np.ndarray, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's target indices (−1 ends the list) as a validity mask, and the class
    membership mask (N, C)."""
    if labels.size and (labels.min() < -1 or labels.max() >= classes):
        raise RuntimeError(f"multilabel_margin_loss: target values must be in [-1, {classes}), "
                           f"got {labels.min()} to {labels.max()}")
    ended = np.cumsum(labels == -1, axis=1) > 0
    valid = ~ended
    member = np.zeros(labels.shape, bool)
    rows = np.nonzero(valid)[0]
    member[rows, labels[valid]] = True
    return valid, member


def multilabel_margin_loss(input: Any, target: Any, size_average: bool | None = None,  # noqa: A002
                           reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Multi-label hinge loss of (C,) or (N, C) scores against target class lists of the
    same shape (see the module docstring)."""
    from ..nn.functional import _reduce, _reduction
    reduction = _reduction(size_average, reduce, reduction, "multilabel_margin_loss")
    x = _as_tensor(input)
    labels = np.asarray(_as_tensor(target).data)
    if x.ndim not in (0, 1, 2) or labels.shape != tuple(x.shape):
        raise RuntimeError(f"multilabel_margin_loss: inconsistent target size: "
                           f"{list(labels.shape)} for input of size {list(x.shape)}")
    if labels.dtype.kind not in "iu":
        raise RuntimeError(f"multilabel_margin_loss: expected an integer target, got "
                           f"{labels.dtype}")
    rows = x.reshape(1, -1) if x.ndim < 2 else x
    labels = labels.reshape(rows.shape).astype(np.int64)
    n, classes = rows.shape
    valid, member = _targets(labels, classes)
    safe = np.where(valid, labels, 0)
    picked = rows.gather(1, Tensor(safe))                         # x[y_j]: (N, J)
    margins = 1 - picked.unsqueeze(2) + rows.unsqueeze(1)         # (N, J, C)
    counted = valid[:, :, None] & ~member[:, None, :]
    hinge = margins.clamp(min=0) * Tensor(counted.astype(x.data.dtype))
    loss = hinge.sum((1, 2)) / classes
    return _reduce(loss if x.ndim == 2 else loss.reshape(()), reduction)
