"""Runs as 2 ranks: rank 0 saves a 16 MB checkpoint again and again, as the trainer does,
while rank 1 kills itself after a while; mpiexec then kills rank 0 wherever it is,
usually in the middle of a save. The file at PATH must still be a whole checkpoint."""
import os
import signal
import sys
import time

import numpy as np

import abdou_torch as at
import abdou_torch.distributed as dist


def main(path):
    dist.init_process_group()
    if dist.get_rank() == 1:
        time.sleep(1.5)
        os.kill(os.getpid(), signal.SIGKILL)
    for version in range(10_000):
        state = {f"layer{i}.weight": np.full((1000, 1000), version, dtype=np.float32)
                 for i in range(4)}
        at.save(state, path, metadata={"version": str(version)})
        print(f"saved {version}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
