"""Runs as N ranks: trains each case of ddp_cases.py with DistributedDataParallel and
saves every rank's parameters, buffers and first-step gradients to OUT/CASE-RANK.npz."""
import sys

import numpy as np

import abdou_torch.distributed as dist
from abdou_torch import nn
from abdou_torch.nn.parallel import DistributedDataParallel

import ddp_cases

CASES = ["mlp_sgd", "mlp_adamw", "mlp_sgd_sum", "cnn_sgd", "cnn_adamw"]


def first_gradients(case, rank, world_size):
    """The averaged gradients of the first batch, before any step."""
    model = ddp_cases.build_model(case)
    if case.startswith("cnn"):
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = DistributedDataParallel(model)
    inputs, labels = next(ddp_cases.batches(case))
    import abdou_torch as at
    loss = ddp_cases.loss_of(case, ddp(at.tensor(ddp_cases.shard(inputs, rank, world_size))),
                             ddp_cases.shard(labels, rank, world_size))
    loss.backward()
    return {f"grad.{n}": p.grad.data.copy() for n, p in model.named_parameters()}


def main(out):
    dist.init_process_group("mpi")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    for case in CASES:
        model = ddp_cases.build_model(case)
        if case.startswith("cnn"):
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        ddp = DistributedDataParallel(model)
        optimizer = ddp_cases.optimizer_for(case, ddp.parameters(), world_size)
        params = ddp_cases.train(case, ddp, optimizer, rank, world_size)
        saved = {f"param.{k[len('module.'):]}": v for k, v in params.items()}
        saved.update({f"buffer.{k}": b.data.copy() for k, b in model.named_buffers()})
        saved.update(first_gradients(case, rank, world_size))
        np.savez(f"{out}/{case}-{rank}.npz", **saved)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
