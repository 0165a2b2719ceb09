"""The arrays each recipe trains and tests on."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .recipes import Recipe

__all__ = ["Split", "load_splits"]


@dataclass
class Split:
    """Model-ready inputs, integer labels, and the raw images for plots (None for blobs)."""

    inputs: np.ndarray
    labels: np.ndarray
    images: np.ndarray | None


def load_splits(recipe: Recipe, seed: int, subset: int | None = None) -> tuple[Split, Split]:
    """(train, test) for the recipe's dataset; ``subset`` keeps the first N training items."""
    if recipe.dataset == "blobs":
        train, test = _blobs(seed)
    else:
        from ..data import MNIST, FashionMNIST
        source = MNIST if recipe.dataset == "mnist" else FashionMNIST
        train_set, test_set = source(train=True), source(train=False)
        train = Split(recipe.prepare_images(train_set.data), train_set.targets, train_set.data)
        test = Split(recipe.prepare_images(test_set.data), test_set.targets, test_set.data)
    if subset is not None:
        if subset <= 0:
            raise ValueError(f"--subset must be positive, got {subset}")
        train = Split(train.inputs[:subset], train.labels[:subset],
                      None if train.images is None else train.images[:subset])
    return train, test


def _blobs(seed: int) -> tuple[Split, Split]:
    """400 points in 2 blobs (std 1.4); the first 300 train, the last 100 test."""
    from ..data import make_blobs
    points, labels = make_blobs(n_samples=400, centers=2, cluster_std=1.4, random_state=seed)
    points = points.astype(np.float32)
    return (Split(points[:300], labels[:300], None), Split(points[300:], labels[300:], None))
