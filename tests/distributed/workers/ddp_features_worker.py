"""Runs as 2 ranks: DistributedDataParallel's features and errors, each recorded to
OUT/features-RANK.npz (arrays) and OUT/features-RANK.json (messages, flags)."""
import json
import sys

import numpy as np

import abdou_torch as at
import abdou_torch.distributed as dist
from abdou_torch import nn
from abdou_torch.nn.parallel import DistributedDataParallel as DDP

RANK = WORLD = 0
arrays, facts = {}, {}


def data(seed, rows=8, features=6):
    return at.tensor(np.random.default_rng(seed).standard_normal((rows, features))
                     .astype(np.float32))


def error_of(build):
    try:
        build()
    except (RuntimeError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def construction_broadcasts():
    at.manual_seed(100 + RANK)  # different weights and buffers on each rank
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4))
    model[1].running_mean.data[...] = RANK + 1.0
    DDP(model)
    arrays["broadcast.weight"] = model[0].weight.data.copy()
    arrays["broadcast.running_mean"] = model[1].running_mean.data.copy()


def state_dict_keys():
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    ddp = DDP(model)
    facts["state_dict_keys"] = list(ddp.state_dict())
    facts["module_is_model"] = ddp.module is model


def buffers_follow_rank0():
    """Before each forward rank 0's buffers are copied to every rank."""
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4))
    ddp = DDP(model)
    model[1].running_var.data[...] = 10.0 * (RANK + 1)  # diverge after construction
    ddp(data(RANK)).sum().backward()
    arrays["buffers.running_var"] = model[1].running_var.data.copy()


def no_sync_accumulates():
    """Two micro-batches: the first under no_sync (local), the second synchronised: the
    result is the mean over ranks of the sum of both micro-batches' gradients."""
    at.manual_seed(0)
    model = nn.Linear(6, 3)
    ddp = DDP(model)
    with ddp.no_sync():
        ddp(data(10 + RANK)).pow(2).mean().backward()
    arrays["no_sync.local"] = model.weight.grad.data.copy()
    ddp(data(20 + RANK)).pow(2).mean().backward()
    arrays["no_sync.synced"] = model.weight.grad.data.copy()


def accumulate_without_zero_grad():
    """Two synchronised backwards without zero_grad: averages add up."""
    at.manual_seed(0)
    model = nn.Linear(6, 3)
    ddp = DDP(model)
    ddp(data(30 + RANK)).pow(2).mean().backward()
    ddp(data(40 + RANK)).pow(2).mean().backward()
    arrays["accumulate.grad"] = model.weight.grad.data.copy()


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk, self.left, self.right = nn.Linear(6, 4), nn.Linear(4, 2), nn.Linear(4, 2)
        self.never = nn.Linear(4, 2)

    def forward(self, x, use_right):
        h = self.trunk(x).tanh()
        return self.right(h) if use_right else self.left(h)


def unused_parameters():
    """Rank 0 uses the left head, rank 1 the right one; `never` is used by no rank."""
    at.manual_seed(0)
    model = TwoHeads()
    ddp = DDP(model, find_unused_parameters=True)
    ddp(data(50 + RANK), use_right=RANK == 1).pow(2).mean().backward()
    for name, p in model.named_parameters():
        arrays[f"unused.{name}"] = np.full(1, np.nan) if p.grad is None else p.grad.data.copy()


def unused_without_detection():
    """Without find_unused_parameters, the next forward says which parameters got no grad."""
    at.manual_seed(0)
    model = TwoHeads()
    ddp = DDP(model)
    ddp(data(60), use_right=False).pow(2).mean().backward()
    facts["unused_error"] = error_of(lambda: ddp(data(61), use_right=False))


def several_buckets():
    """Tiny buckets (several Allreduces) give the same gradients as one bucket."""
    grads = []
    for cap in (25, 1e-4):
        at.manual_seed(0)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(),
                              nn.Linear(16, 3))
        ddp = DDP(model, bucket_cap_mb=cap)
        ddp(data(70 + RANK)).pow(2).mean().backward()
        grads.append([p.grad.data.copy() for p in model.parameters()])
        facts[f"buckets.{cap}"] = len(ddp.reducer.buckets)
    facts["buckets.same"] = all(np.array_equal(a, b) for a, b in zip(*grads))


def float64_model():
    at.manual_seed(0)
    model = nn.Linear(6, 3).double()
    ddp = DDP(model)
    ddp(data(80 + RANK).double()).pow(2).mean().backward()
    arrays["float64.grad"] = model.weight.grad.data.copy()


def mismatched_models():
    """Each mismatch is the same error on every rank, raised at construction."""
    def shapes():
        return DDP(nn.Linear(6, 4 if RANK == 0 else 5))

    def order():
        layers = [nn.Linear(6, 6), nn.Linear(6, 6, bias=False)]
        return DDP(nn.Sequential(*(layers if RANK == 0 else layers[::-1])))

    def dtypes():
        model = nn.Linear(6, 4)
        return DDP(model if RANK == 0 else model.double())

    def counts():
        return DDP(nn.Sequential(*[nn.Linear(6, 6) for _ in range(2 + RANK)]))
    for name, build in (("shapes", shapes), ("order", order), ("dtypes", dtypes),
                        ("counts", counts)):
        facts[f"mismatch.{name}"] = error_of(build)
    facts["no_trainable"] = error_of(lambda: DDP(nn.Linear(2, 2).requires_grad_(False)))


def main(out):
    global RANK, WORLD
    dist.init_process_group("mpi")
    RANK, WORLD = dist.get_rank(), dist.get_world_size()
    for check in (construction_broadcasts, state_dict_keys, buffers_follow_rank0,
                  no_sync_accumulates, accumulate_without_zero_grad, unused_parameters,
                  unused_without_detection, several_buckets, float64_model,
                  mismatched_models):
        check()
    np.savez(f"{out}/features-{RANK}.npz", **arrays)
    with open(f"{out}/features-{RANK}.json", "w") as handle:
        json.dump(facts, handle)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
