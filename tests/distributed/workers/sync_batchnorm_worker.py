"""Runs as 2 ranks: SyncBatchNorm on each rank's rows of a batch (rank 0 the first
SPLIT rows, rank 1 the rest), saving outputs, input gradients, summed parameter gradients
and running statistics to OUT/syncbn-RANK.npz."""
import sys

import numpy as np

import abdou_torch as at
import abdou_torch.distributed as dist
from abdou_torch import nn

# name: (input shape, rows on rank 0, layer options)
CASES = {"2d": ((10, 3), 4, {}), "3d": ((6, 2, 5), 3, {"momentum": None}),
         "4d": ((8, 3, 4, 5), 5, {}), "4d_no_affine": ((6, 2, 3, 3), 3, {"affine": False})}


def inputs(shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 2 + 0.5).astype(np.float32), \
        rng.standard_normal(shape).astype(np.float32)


def configure(layer):
    if layer.affine:
        layer.weight.data[...] = np.linspace(0.5, 2.0, layer.num_features)
        layer.bias.data[...] = np.linspace(-0.3, 0.3, layer.num_features)
    return layer


def main(out):
    dist.init_process_group()
    rank = dist.get_rank()
    saved = {}
    for name, (shape, split, options) in CASES.items():
        layer = configure(nn.SyncBatchNorm(shape[1], **options))
        x, dy = inputs(shape, 0)
        rows = slice(0, split) if rank == 0 else slice(split, None)
        for step in range(2):  # twice: the running statistics move twice
            xs = at.tensor(x[rows] + step, requires_grad=True)
            y = layer(xs)
            (y * at.tensor(dy[rows])).sum().backward()
        saved[f"{name}.y"], saved[f"{name}.dx"] = y.data, xs.grad.data
        for param in ("weight", "bias"):
            if getattr(layer, param) is not None:
                total = at.tensor(getattr(layer, param).grad.data.copy())
                dist.all_reduce(total)
                saved[f"{name}.d{param}"] = total.data
        saved[f"{name}.running_mean"] = layer.running_mean.data
        saved[f"{name}.running_var"] = layer.running_var.data
        layer.eval()  # eval: the running statistics, no communication
        saved[f"{name}.eval"] = layer(at.tensor(x[rows])).data
    np.savez(f"{out}/syncbn-{rank}.npz", **saved)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
