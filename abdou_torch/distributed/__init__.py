"""Data-parallel training over MPI, with ``torch.distributed``'s names and semantics.

One script runs as N processes (ranks), started by ``abdou-torch launch --nproc N script.py``
or ``mpiexec -n N python script.py``; each calls ``init_process_group()`` and then talks to
the others through collectives on tensors::

    import abdou_torch as at
    import abdou_torch.distributed as dist

    dist.init_process_group("mpi")
    t = at.tensor([float(dist.get_rank())])
    dist.all_reduce(t)                  # in place: every rank now holds 0 + 1 + ... + N-1
    dist.destroy_process_group()

``abdou_torch.nn.parallel.DistributedDataParallel`` averages gradients over the ranks after
each ``backward()``, and ``abdou_torch.data.DistributedSampler`` gives each rank its share of
the data. Started with plain ``python``, the job is a world of one process, so the same
script runs unchanged. MPI comes from the optional extra ``abdou_torch[mpi]`` (mpi4py and the
MPICH wheel); a cluster's own MPI works too, through mpi4py built against it.
"""
from .collectives import (DistBackendError, ReduceOp, Work, all_gather, all_reduce, barrier,
                          broadcast, reduce)
from .process_group import (GroupMember, ProcessGroup, default_pg_timeout,
                            destroy_process_group, get_backend, get_rank, get_world_size,
                            init_process_group, is_available, is_initialized,
                            is_mpi_available)

group = GroupMember  # dist.group.WORLD, as in PyTorch

__all__ = ["is_available", "is_mpi_available", "init_process_group", "is_initialized",
           "destroy_process_group", "get_rank", "get_world_size", "get_backend", "barrier",
           "broadcast", "all_reduce", "all_gather", "reduce", "ReduceOp", "Work",
           "DistBackendError", "ProcessGroup", "GroupMember", "group", "default_pg_timeout"]
