"""Run with plain python (no launcher): MPI is a world of one process, and the same code
runs unchanged. Prints one JSON line of facts; exits 3 if a check fails."""
import json
import os
import sys

import numpy as np

import abdou_torch as at
import abdou_torch.distributed as dist
from abdou_torch import nn
from abdou_torch.nn.parallel import DistributedDataParallel


def train(wrap):
    at.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2))
    trained = DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(model)) \
        if wrap else model
    optimizer = at.optim.SGD(trained.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    for _ in range(5):
        loss = trained(at.tensor(rng.standard_normal((16, 5)).astype(np.float32))).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [p.data.copy() for p in model.parameters()] + [b.data for b in model.buffers()]


def main():
    if len(sys.argv) > 1:  # a launcher's variables that do not match MPI's world
        os.environ.update(WORLD_SIZE=sys.argv[1], RANK="0")
        try:
            dist.init_process_group("mpi")
        except RuntimeError as error:
            print(json.dumps({"error": str(error)}))
            return
        sys.exit(3)
    dist.init_process_group()
    facts = {"rank": dist.get_rank(), "world": dist.get_world_size()}
    tensor = at.tensor([1.0, 2.0])
    dist.all_reduce(tensor)
    dist.broadcast(tensor, 0)
    facts["all_reduce"] = tensor.tolist()
    facts["ddp_same_as_plain"] = all(np.array_equal(a, b)
                                     for a, b in zip(train(True), train(False)))
    sampler = at.data.DistributedSampler(range(5), shuffle=False)
    facts["sampler"] = list(sampler)
    dist.destroy_process_group()
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
