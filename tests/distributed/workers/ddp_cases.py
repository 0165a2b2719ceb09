"""Training cases shared by the DDP worker (N ranks, B/N samples each) and the test's
single-process reference (one process, all B samples): same models, data and steps."""
import numpy as np

import abdou_torch as at
from abdou_torch import nn
from abdou_torch.nn import functional as F

STEPS = 30
BATCH = 32


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
            nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, bias=False), nn.BatchNorm2d(6), nn.ReLU())
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(6 * 3 * 3, 5))

    def forward(self, x):
        return self.head(self.features(x))


def build_model(case):
    at.manual_seed(0)
    if case.startswith("cnn"):
        return SmallCNN()
    return nn.Sequential(nn.Linear(12, 24), nn.Tanh(), nn.Linear(24, 24), nn.ReLU(),
                         nn.Linear(24, 5))


def optimizer_for(case, params, world_size=1):
    if "adamw" in case:
        return at.optim.AdamW(params, lr=3e-3, weight_decay=1e-2)
    # with a summed loss, DDP's gradient is 1/N of the full batch's: scale lr by N to match
    lr = 0.01 * (world_size if case.endswith("sum") else 1)
    return at.optim.SGD(params, lr=lr, momentum=0.9)


def batches(case):
    """STEPS batches of (inputs, labels) of BATCH samples each."""
    rng = np.random.default_rng(7)
    shape = (BATCH, 1, 10, 10) if case.startswith("cnn") else (BATCH, 12)
    for _ in range(STEPS):
        yield (rng.standard_normal(shape).astype(np.float32) * 1.5 + 0.3,
               rng.integers(0, 5, BATCH))


def loss_of(case, output, labels):
    return F.cross_entropy(output, at.tensor(labels), reduction="sum" if case.endswith("sum")
                           else "mean")


def shard(array, rank, world_size):
    """Rank ``rank``'s contiguous share of a batch."""
    size = len(array) // world_size
    return array[rank * size:(rank + 1) * size]


def train(case, model, optimizer, rank=0, world_size=1):
    """Train STEPS steps on this rank's share of each batch; returns the parameters."""
    for inputs, labels in batches(case):
        loss = loss_of(case, model(at.tensor(shard(inputs, rank, world_size))),
                       shard(labels, rank, world_size))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {name: p.data.copy() for name, p in model.named_parameters()}
