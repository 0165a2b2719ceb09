"""Recipes: the data, model and hyperparameters behind ``abdou-torch train DATASET``.

A recipe is the default; every hyperparameter can be overridden on the command line.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import nn

__all__ = ["Recipe", "RECIPES", "recipe_for", "DATASETS", "MODELS"]

DATASETS = ("mnist", "fashion-mnist", "blobs")
MODELS = ("mlp", "cnn")

#: per-pixel mean and standard deviation of the training images, for normalisation
_PIXEL_STATS = {"mnist": (0.1307, 0.3081), "fashion-mnist": (0.2860, 0.3530)}

#: class names shown on the prediction grid
CLASS_NAMES = {
    "mnist": [str(d) for d in range(10)],
    "fashion-mnist": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Boot"],
    "blobs": ["-1", "+1"],
}


@dataclass(frozen=True)
class Recipe:
    """How to train one model on one dataset."""

    dataset: str
    model: str
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    loss: str = "cross_entropy"            # or "mse_pm1" (MSE on ±1 targets, for blobs)
    schedule: str = "onecycle"             # or "constant"
    label_smoothing: float = 0.0
    extra: dict = field(default_factory=dict)

    def with_overrides(self, **overrides: Any) -> "Recipe":
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    def build_model(self) -> nn.Module:
        if self.dataset == "blobs":
            return nn.MLP(2, [16, 16, 1])
        if self.model == "mlp":
            return nn.MLP(784, [64, 64, 64, 10])
        from ..models import CNN
        return CNN(num_classes=10)

    def prepare_images(self, images: np.ndarray) -> np.ndarray:
        """uint8 (N, 28, 28) images as normalised float32: (N, 784) for an MLP, (N, 1, 28, 28)
        for a CNN."""
        mean, std = _PIXEL_STATS[self.dataset]
        scaled = (images.astype(np.float32) * np.float32(1 / 255) - np.float32(mean)) \
            * np.float32(1 / std)
        if self.model == "mlp":
            return scaled.reshape(len(images), -1)
        return scaled.reshape(len(images), 1, 28, 28)


RECIPES: dict[tuple[str, str], Recipe] = {
    ("mnist", "mlp"): Recipe("mnist", "mlp", epochs=20, batch_size=128, lr=3e-3,
                             weight_decay=1e-2),
    ("fashion-mnist", "mlp"): Recipe("fashion-mnist", "mlp", epochs=20, batch_size=128,
                                     lr=3e-3, weight_decay=1e-2),
    ("mnist", "cnn"): Recipe("mnist", "cnn", epochs=4, batch_size=128, lr=3e-3,
                             weight_decay=1e-2),
    ("fashion-mnist", "cnn"): Recipe("fashion-mnist", "cnn", epochs=6, batch_size=128,
                                     lr=3e-3, weight_decay=1e-2),
    # examples/blobs.py: 400 samples, MLP(2, [16, 16, 1]), WAdam(lr=0.05, weight_decay=0.01),
    # 1500 full-batch steps of MSE on ±1 targets
    ("blobs", "mlp"): Recipe("blobs", "mlp", epochs=1500, batch_size=300, lr=0.05,
                             weight_decay=0.01, loss="mse_pm1", schedule="constant"),
}


def recipe_for(dataset: str, model: str) -> Recipe:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {', '.join(DATASETS)}")
    key = (dataset, model)
    if key not in RECIPES:
        raise ValueError(f"no recipe for --model {model} on {dataset}; available: "
                         + ", ".join(m for d, m in RECIPES if d == dataset))
    return RECIPES[key]


