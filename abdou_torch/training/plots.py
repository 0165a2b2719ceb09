"""PNG plots of a run: loss and accuracy curves, predictions on test images, and the
decision boundary of a 2-D classifier. matplotlib is imported on first use (Agg backend,
no display needed). Each file is written atomically: a full disk never leaves half a PNG."""
from __future__ import annotations

import io
import os
from typing import Callable, Sequence

import numpy as np

__all__ = ["plot_curve", "plot_predictions", "plot_decision_boundary", "plot_losses"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(figure, path: str | os.PathLike) -> None:
    from .run_dir import write_bytes
    figure.tight_layout()
    png = io.BytesIO()
    try:
        figure.savefig(png, format="png", dpi=110)
    finally:
        _pyplot().close(figure)
    write_bytes(path, png.getvalue())


def plot_curve(values: Sequence[float], path: str | os.PathLike, title: str, ylabel: str,
               xlabel: str = "epoch", percent: bool = False) -> None:
    """One line plot of a per-epoch series."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    x = np.arange(1, len(values) + 1)
    y = np.asarray(values, dtype=float) * (100 if percent else 1)
    axes.plot(x, y, marker="o" if len(values) <= 50 else None)
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel + (" (%)" if percent else ""))
    axes.grid(alpha=0.3)
    _save(figure, path)


def plot_predictions(images: np.ndarray, labels: np.ndarray, predictions: np.ndarray,
                     class_names: Sequence[str], path: str | os.PathLike,
                     shown: int = 40, mistakes: int = 8) -> None:
    """A grid of test images titled with their predicted class; mistakes in red with the
    true class. The first ``shown`` images come first, then up to ``mistakes`` errors."""
    plt = _pyplot()
    wrong = np.flatnonzero(predictions != labels)
    order = list(range(min(shown, len(images))))
    order += [int(i) for i in wrong if i not in order][:mistakes]
    columns = 8
    rows = -(-len(order) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.5))
    for axis in np.ravel(axes):
        axis.axis("off")
    for axis, index in zip(np.ravel(axes), order):
        axis.imshow(images[index], cmap="gray")
        correct = predictions[index] == labels[index]
        title = class_names[predictions[index]]
        if not correct:
            title += f"\n(true {class_names[labels[index]]})"
        axis.set_title(title, fontsize=8, color="black" if correct else "red")
    figure.suptitle(f"test predictions: {len(wrong)} mistakes in {len(labels)} images",
                    fontsize=10)
    _save(figure, path)


def plot_decision_boundary(predict: Callable[[np.ndarray], np.ndarray], points: np.ndarray,
                           labels: np.ndarray, path: str | os.PathLike) -> None:
    """Shade the plane by the model's score and draw the points coloured by class."""
    plt = _pyplot()
    low, high = points.min(0) - 1, points.max(0) + 1
    xs, ys = np.meshgrid(np.linspace(low[0], high[0], 200), np.linspace(low[1], high[1], 200))
    grid = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float32)
    scores = np.clip(predict(grid).reshape(xs.shape), -2, 2)  # outliers would wash out the map
    figure, axes = plt.subplots(figsize=(6, 5))
    axes.contourf(xs, ys, scores, levels=np.linspace(-2, 2, 21), cmap="RdBu", alpha=0.6)
    axes.contour(xs, ys, scores, levels=[0], colors="black", linewidths=1.5)
    axes.scatter(points[:, 0], points[:, 1], c=labels, cmap="RdBu", edgecolors="black", s=18)
    axes.set(title="decision boundary", xlabel="x1", ylabel="x2")
    _save(figure, path)


def plot_losses(train_steps: Sequence[int], train_loss: Sequence[float],
                val_steps: Sequence[int], val_loss: Sequence[float],
                path: str | os.PathLike) -> None:
    """Training loss (each point the mean since the previous one) and validation loss
    against the step at which each was measured."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(train_steps, train_loss, label="train", alpha=0.8)
    axes.plot(val_steps, val_loss, marker="o", label="validation")
    axes.set(title="loss", xlabel="step", ylabel="cross-entropy (nats per character)")
    axes.grid(alpha=0.3)
    axes.legend()
    _save(figure, path)
