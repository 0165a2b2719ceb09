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


def _median_us(function, comm, repeats=REPEATS) -> list[float]:
    """[median, minimum] microseconds of ``function`` over ``repeats`` calls, each after a
    barrier (the minimum: the cost when no other process took the core meanwhile)."""
    times = []
    for _ in range(repeats + 3):
        comm.Barrier()
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return [1e6 * statistics.median(times[3:]), 1e6 * min(times[3:])]


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


def _median_of(runs: list, *path: str):
    """The median over runs of the value at ``path`` in each run's results."""
    values = []
    for run in runs:
        for key in path:
            run = run[key]
        values.append(run)
    return statistics.median(values)


def measure(rounds: int = 3) -> dict:
    """``rounds`` runs of the 2-rank job and of the single process, alternating (the
    machine's load drifts); each figure is the median over the rounds."""
    from abdou_torch.distributed.launch import mpiexec_command
    command, env = mpiexec_command(2, ["benchmarks.ddp", "--rank"], module=True)
    job_runs, single_runs = [], []
    for _ in range(rounds):
        job_runs.append(json.loads(subprocess.run(
            command, env=env, capture_output=True, text=True, check=True,
            timeout=900).stdout.splitlines()[-1]))
        single_runs.append(json.loads(subprocess.run(
            [sys.executable, "-m", "benchmarks.ddp", "--single"], capture_output=True,
            text=True, check=True, timeout=900).stdout.splitlines()[-1]))
    first = job_runs[0]
    return {"ranks": {
        "allreduce_us": {n: [_median_of(job_runs, "allreduce_us", n, 0),
                             min(run["allreduce_us"][n][1] for run in job_runs)]
                         for n in first["allreduce_us"]},
        "sync": {name: {"numel": row["numel"],
                        **{key: [_median_of(job_runs, "sync", name, key, 0),
                                 min(run["sync"][name][key][1] for run in job_runs)]
                           for key in ("ddp_us", "raw_us")}}
                 for name, row in first["sync"].items()},
        "step_ms": {name: _median_of(job_runs, "step_ms", name) for name in first["step_ms"]}},
        "single": {name: _median_of(single_runs, name) for name in single_runs[0]},
        "rounds": rounds}


def markdown(results: dict) -> str:
    ranks, single = results["ranks"], results["single"]
    lines = ["| data parallel, 2 ranks | unit | DDP median (min) | reference median (min) "
             "| ratio of medians (of minimums) | goal |",
             "|---|---|---|---|---|---|"]
    for name, row in ranks["sync"].items():
        (ddp, ddp_min), (raw, raw_min) = row["ddp_us"], row["raw_us"]
        lines.append(f"| h_sync_{name} ({row['numel']:,} gradients) | us / step, DDP sync "
                     f"vs bare Allreduce | {ddp:.0f} ({ddp_min:.0f}) | {raw:.0f} "
                     f"({raw_min:.0f}) | **{ddp / raw:.2f}** ({ddp_min / raw_min:.2f}) "
                     f"| <= 1.1 |")
    for name in ("mlp", "cnn"):
        two, one = ranks["step_ms"][name], single[name]
        lines.append(f"| i_scaling_{name} | ms / step (batch 128): 2 ranks vs 1 process | "
                     f"{two:.2f} | {one:.2f} | **{one / (2 * two):.2f}** (efficiency) | - |")
    sizes = ", ".join(f"{int(n):,}: {us[0]:.0f} ({us[1]:.0f})"
                      for n, us in ranks["allreduce_us"].items())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines.append(f"\nMachine load average during the run (1, 5, 15 min): {load}.")
    lines.append(f"\nBare Allreduce of float32 buffers, 2 ranks, median of {REPEATS} after a "
                 f"barrier, median over {results['rounds']} jobs (minimum) (elements: us): {sizes}")
    return "\n".join(lines)


if __name__ == "__main__":
    if "--rank" in sys.argv:
        rank_main()
    elif "--single" in sys.argv:
        single_main()
    else:
        print(markdown(measure()))
