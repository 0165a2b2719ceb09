"""Runs as 2 ranks: every collective, its results saved to OUT/collectives-RANK.npz and
the errors it raises to OUT/collectives-RANK.json."""
import json
import sys

import numpy as np

import abdou_torch as at
import abdou_torch.distributed as dist
from abdou_torch.distributed import ReduceOp

arrays, facts = {}, {}


def values(rank, dtype):
    return at.tensor((np.arange(6).reshape(2, 3) * (rank + 2) - 3).astype(dtype))


def error_of(call):
    try:
        call()
    except (TypeError, ValueError, RuntimeError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def main(out):
    facts["initialized_before"] = dist.is_initialized()
    dist.init_process_group("gloo")  # PyTorch's CPU backend name, served by MPI
    rank, world = dist.get_rank(), dist.get_world_size()
    facts.update(rank=rank, world=world, backend=dist.get_backend(),
                 initialized=dist.is_initialized())
    for dtype in ("float32", "float64", "int64", "int32", "float16"):
        for op in ("SUM", "PRODUCT", "MIN", "MAX") + (("AVG",) if dtype[0] == "f" else ()):
            tensor = values(rank, dtype)
            dist.all_reduce(tensor, op=getattr(ReduceOp, op))
            arrays[f"all_reduce.{op}.{dtype}"] = tensor.data
    for op in ("BAND", "BOR", "BXOR"):
        tensor = at.tensor(np.array([5, 6, 12], dtype=np.int64) + rank)
        dist.all_reduce(tensor, op=getattr(ReduceOp, op))
        arrays[f"all_reduce.{op}"] = tensor.data
    flags = at.tensor(np.array([rank == 0, False, True]))
    dist.all_reduce(flags, op=ReduceOp.MAX)
    arrays["all_reduce.bool"] = flags.data
    strided = at.tensor(np.arange(12.0).reshape(3, 4) * (rank + 1))
    view = at.Tensor(strided.data[:, ::2])  # not contiguous: a view of every other column
    dist.all_reduce(view)
    arrays["all_reduce.view"], arrays["all_reduce.base"] = view.data, strided.data
    scalar = at.tensor(float(rank + 1))
    work = dist.all_reduce(scalar, async_op=True)
    facts["work_wait"] = work.wait()
    facts["work_completed"] = work.is_completed()
    arrays["all_reduce.scalar"] = scalar.data

    tensor = values(rank, "float32")
    dist.broadcast(tensor, src=1)
    arrays["broadcast"] = tensor.data
    gathered = [at.zeros(2, 3) for _ in range(world)]
    dist.all_gather(gathered, values(rank, "float32"))
    arrays["all_gather"] = np.stack([t.data for t in gathered])
    tensor = values(rank, "float32")
    dist.reduce(tensor, dst=1, op=ReduceOp.SUM)
    arrays["reduce"] = tensor.data
    dist.barrier()
    work = dist.barrier(async_op=True)
    facts["barrier_async"] = work.wait()

    facts["errors"] = {
        "avg_int": error_of(lambda: dist.all_reduce(at.tensor([1, 2]), op=ReduceOp.AVG)),
        "band_float": error_of(lambda: dist.all_reduce(at.tensor([1.0]), op=ReduceOp.BAND)),
        "bad_op": error_of(lambda: dist.all_reduce(at.tensor([1.0]), op="sum")),
        "bad_src": error_of(lambda: dist.broadcast(at.tensor([1.0]), src=2)),
        "bad_list": error_of(lambda: dist.all_gather([at.zeros(1)], at.zeros(1))),
        "bad_shape": error_of(lambda: dist.all_gather([at.zeros(2)] * world, at.zeros(1))),
        "not_tensor": error_of(lambda: dist.all_reduce(np.zeros(2))),
        "twice": error_of(lambda: dist.init_process_group("mpi")),
    }
    dist.destroy_process_group()
    facts["initialized_after"] = dist.is_initialized()
    facts["after_destroy"] = error_of(lambda: dist.all_reduce(at.tensor([1.0])))
    np.savez(f"{out}/collectives-{rank}.npz", **arrays)
    with open(f"{out}/collectives-{rank}.json", "w") as handle:
        json.dump(facts, handle)


if __name__ == "__main__":
    main(sys.argv[1])
