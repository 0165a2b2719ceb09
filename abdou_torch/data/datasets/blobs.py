"""Synthetic Gaussian blobs for quick experiments: a thin wrapper over scikit-learn."""
from __future__ import annotations

from typing import Any

import numpy as np

from abdou_torch import random as _random

__all__ = ["make_blobs"]


def make_blobs(n_samples: int | list[int] = 100, centers: int | Any = 2,
               cluster_std: float | list[float] = 1.0,
               random_state: int | _random.Generator | None = None, *,
               n_features: int = 2, center_box: tuple[float, float] = (-10.0, 10.0),
               shuffle: bool = True, return_centers: bool = False) -> tuple[np.ndarray, ...]:
    """Isotropic Gaussian clusters: ``(X, y)`` as float32 (n, n_features) and int64 (n,).

    Arguments are those of ``sklearn.datasets.make_blobs``. ``random_state`` may be an int,
    an :class:`abdou_torch.random.Generator`, or None, in which case the seed is drawn from
    ``abdou_torch.random.default_generator`` so ``manual_seed`` makes the result
    reproducible. With ``return_centers=True`` the float32 centers come third.
    """
    try:
        from sklearn import datasets as sk_datasets
    except ImportError as error:
        raise ImportError("make_blobs needs scikit-learn: pip install 'abdou_torch[train]'") \
            from error
    if random_state is None or isinstance(random_state, _random.Generator):
        random_state = int(_random.resolve(random_state).integers(0, 2**31 - 1))
    result = sk_datasets.make_blobs(n_samples=n_samples, n_features=n_features,
                                    centers=centers, cluster_std=cluster_std,
                                    center_box=center_box, shuffle=shuffle,
                                    random_state=random_state, return_centers=return_centers)
    features, labels = result[0].astype(np.float32), result[1].astype(np.int64)
    if return_centers:
        return features, labels, result[2].astype(np.float32)
    return features, labels
