"""Runs as 2 ranks; rank 1 fails in the way MODE names while rank 0 trains with DDP. The
job must end on its own, with a message saying what happened (never a hang)."""
import os
import signal
import sys
import time
from datetime import timedelta

import numpy as np

import abdou_torch as at
import abdou_torch.distributed as dist
from abdou_torch import nn
from abdou_torch.nn.parallel import DistributedDataParallel


def fail(mode):
    if mode == "raise":
        raise ValueError("boom on rank 1")
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "hang":
        time.sleep(600)
    if mode == "exit":
        sys.exit(0)  # leaves early, without an error: rank 0 waits for it in vain
    if mode == "exit_status":
        sys.exit(4)


def main(mode, after_steps=3):
    # exit_status: rank 1 waits 3 s for the others to exit too (run.EXIT_GRACE) before it
    # aborts; rank 0's collective must not time out first
    timeout = 10 if mode == "exit_status" else 3
    dist.init_process_group("mpi", timeout=timedelta(seconds=timeout))
    at.manual_seed(0)
    model = DistributedDataParallel(nn.Sequential(nn.Linear(8, 16), nn.ReLU(),
                                                  nn.Linear(16, 2)))
    optimizer = at.optim.SGD(model.parameters(), lr=0.1)
    rng = np.random.default_rng(dist.get_rank())
    for step in range(1000):
        if dist.get_rank() == 1 and step == after_steps:
            fail(mode)
        loss = model(at.tensor(rng.standard_normal((4, 8)).astype(np.float32))).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    print("finished all steps: the failure went unnoticed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
