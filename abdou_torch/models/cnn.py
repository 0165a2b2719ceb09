"""A small VGG-style CNN for 28x28 images (``abdou-torch train mnist --model cnn``)."""
from __future__ import annotations

from typing import Sequence

from .. import nn
from ..tensor import Tensor

__all__ = ["CNN"]


class CNN(nn.Module):
    """A small VGG-style network for 1x28x28 images (MNIST, Fashion-MNIST):

        features:   conv3x3(1->c1, pad 1)-BN-ReLU - conv3x3(c1->c2)-BN-ReLU - maxpool 2
                    - conv3x3(c2->c3)-BN-ReLU - maxpool 2          -> c3 x 5 x 5
        classifier: flatten - Linear(c3*25, hidden) - ReLU - Dropout(dropout)
                    - Linear(hidden, num_classes)

    Convolutions have no bias (the batch norm after each one has it). With the defaults,
    ``channels=(32, 32, 64)`` and ``hidden=128``, it has about 235k parameters.
    """

    def __init__(self, num_classes: int = 10, channels: Sequence[int] = (32, 32, 64),
                 hidden: int = 128, dropout: float = 0.3, in_channels: int = 1) -> None:
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, bias=False), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, bias=False), nn.BatchNorm2d(c3), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c3 * 5 * 5, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 3:  # (N, 28, 28): add the channel dim
            x = x.unsqueeze(1)
        return self.classifier(self.features(x))
