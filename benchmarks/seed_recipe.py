"""Accuracy of the seed recipe (README example: MSE on one-hot targets, WAdam lr 4e-4,
weight decay 1e-4, 4 epochs at batch 64, inputs scaled to [0, 1]) in abdou_torch and in
PyTorch, over several seeds.

    python -m benchmarks.seed_recipe [--seeds 0 1 2]
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import numpy as np


def pytorch_accuracy(seed: int) -> float:
    import torch
    from abdou_torch.data import MNIST
    torch.manual_seed(seed)
    train, test = MNIST(train=True), MNIST(train=False)
    x = torch.from_numpy(train.data.reshape(-1, 784).astype(np.float32) / 255)
    y = torch.eye(10)[torch.from_numpy(train.targets)]
    sizes = [784, 64, 64, 64, 10]
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.0004, weight_decay=1e-4)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(4):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 64):
            index = order[start:start + 64]
            loss = ((model(x[index]) - y[index]) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        scores = model(torch.from_numpy(test.data.reshape(-1, 784).astype(np.float32) / 255))
    return float((scores.argmax(1).numpy() == test.targets).mean())


def ours_accuracy(seed: int) -> float:
    script = Path(__file__).resolve().parents[1] / "examples" / "seed_mnist.py"
    output = subprocess.run([sys.executable, str(script), "--seed", str(seed)],
                            capture_output=True, text=True, check=True).stdout
    return float(re.search(r"test accuracy: ([\d.]+)%", output).group(1)) / 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    seeds = parser.parse_args().seeds
    for name, measure in (("abdou_torch", ours_accuracy), ("pytorch", pytorch_accuracy)):
        accuracies = [measure(seed) for seed in seeds]
        print(f"{name}: " + ", ".join(f"seed {s}: {100 * a:.2f}%"
                                      for s, a in zip(seeds, accuracies)))


if __name__ == "__main__":
    main()
