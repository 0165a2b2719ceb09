"""make_blobs: two Gaussian blobs, a small MLP, full-batch WAdam on ±1 targets.

400 samples (2 centers, std 1.4; 300 to train, 100 to test), MLP(2, [16, 16, 1]),
WAdam(lr=0.05, weight_decay=0.01), 1500 full-batch steps of MSE. Prints the test accuracy
and writes the decision boundary to blobs_boundary.png.

    python examples/blobs.py [--seed N] [--out blobs_boundary.png]
"""
import argparse

import numpy as np

import abdou_torch
from abdou_torch import MLP, Tensor, WAdam
from abdou_torch.data import make_blobs
from abdou_torch.training.plots import plot_decision_boundary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="blobs_boundary.png")
    args = parser.parse_args()
    abdou_torch.manual_seed(args.seed)
    points, labels = make_blobs(n_samples=400, centers=2, cluster_std=1.4,
                                random_state=args.seed)
    signs = (2 * labels - 1).astype(np.float32).reshape(-1, 1)   # ±1 targets
    x_train, y_train = Tensor(points[:300]), Tensor(signs[:300])

    model = MLP(2, [16, 16, 1])
    optimizer = WAdam(model.parameters(), lr=0.05, weight_decay=0.01)
    for step in range(1500):
        loss = ((model(x_train) - y_train) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 300 == 0 or step == 1499:
            print(f"step {step:4d}: loss {loss.item():.4f}")

    with abdou_torch.no_grad():
        scores = model(Tensor(points[300:])).numpy().reshape(-1)
    accuracy = float(np.mean((scores > 0) == (labels[300:] == 1)))
    print(f"test accuracy: {100 * accuracy:.2f}%")

    def predict(grid: np.ndarray) -> np.ndarray:
        with abdou_torch.no_grad():
            return model(Tensor(grid)).numpy().reshape(-1)

    plot_decision_boundary(predict, points, labels, args.out)
    print(f"decision boundary written to {args.out}")


if __name__ == "__main__":
    main()
