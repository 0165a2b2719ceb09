"""Data-parallel training over MPI, 2 ranks (one BLAS thread each):

- gradient synchronisation: DistributedDataParallel's whole work per step (every hook,
  the Allreduce, the averaged gradients put in place) against a bare mpi4py Allreduce of
  a buffer of the same size, both right after a barrier (goal: at most 1.1x);
- Allreduce time by buffer size (the latency and bandwidth of this machine's MPI);
- scaling of the MNIST MLP and CNN training steps: one process with batch 128 against 2
  ranks with 64 each (DDP, SyncBatchNorm for the CNN); efficiency = T1 / (2 T2).

    python -m benchmarks.ddp             # starts the 2 ranks itself; prints a table
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import numpy as np  # noqa: E402

REPEATS = 40
SIZES = [1, 1_000, 10_000, 100_000, 1_000_000, 4_000_000]


def _models():
    import abdou_torch as at
    from abdou_torch.models import CNN
    at.manual_seed(0)
    return {"mlp": (at.MLP(784, [64, 64, 64, 10]), (784,)),
            "cnn": (CNN(num_classes=10), (1, 28, 28)),
            "wide_mlp": (at.MLP(784, [1024, 1024, 10]), (784,))}


def _median_us(function, comm, repeats=REPEATS) -> float:
    times = []
    for _ in range(repeats + 3):
        comm.Barrier()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1e6 * statistics.median(times[3:])


def _ddp_sync_us(model, comm) -> float:
    """The reducer's path for one backward: each parameter's hook in backward order (the
    last one waits for the Allreduce and puts the averaged gradients in place)."""
    import abdou_torch as at
    from abdou_torch.nn.parallel import DistributedDataParallel
    ddp = DistributedDataParallel(model)
    reducer = ddp.reducer
    rng = np.random.default_rng(comm.Get_rank())
    grads = [at.Tensor(rng.standard_normal(p.shape).astype(p.dtype)) for p in reducer.params]
    hooks = [reducer._hook(i) for i in range(len(grads))]

    def sync():
        for p in reducer.params:
            p.grad = None
        reducer.prepare_for_backward(None)
        for index in reversed(range(len(grads))):
            result = hooks[index](grads[index])
        reducer.params[0].grad = result  # what the walk stores for the last parameter
    return _median_us(sync, comm)


def _raw_allreduce_us(numel: int, comm) -> float:
    from mpi4py import MPI
    buffer = np.ones(numel, dtype=np.float32)
    return _median_us(lambda: comm.Allreduce(MPI.IN_PLACE, buffer), comm)


def _step(model, shape, batch, wrap):
    import abdou_torch as at
    from abdou_torch import nn
    from abdou_torch.nn import functional as F
    if wrap:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        trained = nn.parallel.DistributedDataParallel(model)
    else:
        trained = model
    optimizer = at.optim.AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    inputs = at.tensor(rng.standard_normal((batch,) + shape).astype(np.float32))
    labels = at.tensor(rng.integers(0, 10, batch))

    def step():
        loss = F.cross_entropy(trained(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def _step_ms(name, batch, wrap, comm=None, repeats=20) -> float:
    model, shape = _models()[name]
    step = _step(model, shape, batch, wrap)
    times = []
    for _ in range(repeats + 3):
        if comm is not None:
            comm.Barrier()
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return 1e3 * statistics.median(times[3:])


def rank_main() -> None:
    import abdou_torch.distributed as dist
    dist.init_process_group("mpi")
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    results = {"allreduce_us": {n: _raw_allreduce_us(n, comm) for n in SIZES}, "sync": {}}
    for name, (model, _) in _models().items():
        numel = sum(p.data.size for p in model.parameters())
        results["sync"][name] = {"numel": numel, "ddp_us": _ddp_sync_us(model, comm),
                                 "raw_us": _raw_allreduce_us(numel, comm)}
    results["step_ms"] = {name: _step_ms(name, 64, True, comm) for name in ("mlp", "cnn")}
    if comm.Get_rank() == 0:
        print(json.dumps(results))


def single_main() -> None:
    print(json.dumps({name: _step_ms(name, 128, False) for name in ("mlp", "cnn")}))


def measure() -> dict:
    from abdou_torch.distributed.launch import mpiexec_command
    command, env = mpiexec_command(2, ["benchmarks.ddp", "--rank"], module=True)
    ranks = json.loads(subprocess.run(command, env=env, capture_output=True, text=True,
                                      check=True, timeout=900).stdout.splitlines()[-1])
    single = json.loads(subprocess.run([sys.executable, "-m", "benchmarks.ddp", "--single"],
                                       capture_output=True, text=True, check=True,
                                       timeout=900).stdout.splitlines()[-1])
    return {"ranks": ranks, "single": single}


def markdown(results: dict) -> str:
    ranks, single = results["ranks"], results["single"]
    lines = ["| data parallel, 2 ranks | unit | DDP | reference | ratio | goal |",
             "|---|---|---|---|---|---|"]
    for name, row in ranks["sync"].items():
        lines.append(f"| h_sync_{name} ({row['numel']:,} gradients) | us / step, DDP sync "
                     f"vs bare Allreduce | {row['ddp_us']:.0f} | {row['raw_us']:.0f} | "
                     f"**{row['ddp_us'] / row['raw_us']:.2f}** | <= 1.1 |")
    for name in ("mlp", "cnn"):
        two, one = ranks["step_ms"][name], single[name]
        lines.append(f"| i_scaling_{name} | ms / step (batch 128): 2 ranks vs 1 process | "
                     f"{two:.2f} | {one:.2f} | **{one / (2 * two):.2f}** efficiency | - |")
    sizes = ", ".join(f"{int(n):,}: {us:.0f}" for n, us in ranks["allreduce_us"].items())
    lines.append(f"\nAllreduce of float32 buffers, 2 ranks (elements: us): {sizes}")
    return "\n".join(lines)


if __name__ == "__main__":
    if "--rank" in sys.argv:
        rank_main()
    elif "--single" in sys.argv:
        single_main()
    else:
        print(markdown(measure()))
