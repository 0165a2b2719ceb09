"""``abdou-torch train ... --nproc N``: one recipe trained by N ranks over MPI.

Run from a shell, ``--nproc N`` starts the job itself (``abdou-torch launch``) and waits for
it; each rank then joins the process group and trains with:

- the model wrapped in DistributedDataParallel, its BatchNorm layers made SyncBatchNorm;
- the single-process run's batches: every rank draws the same epoch order from the same
  generator, and each takes its share of each batch of ``--batch-size`` samples (so the
  batch size stays the global one, and N ranks train the same model as one process, up
  to float rounding and dropout masks, which differ per rank). A rank reads only its
  share. Each rank's mean loss is weighted by ``N * share / batch``, which makes the
  averaged gradient the whole batch's mean-loss gradient even when the shares differ by one;
- sharded evaluation (each rank predicts its share of the test set);
- Ctrl-C agreed by all ranks after each step, so they checkpoint at the same step;
- rank 0 alone showing progress and writing checkpoints, metrics, plots and the model,
  while the others wait at a barrier. A checkpoint holds every rank's random generator
  state, and ``--resume`` needs the same ``--nproc``; it continues bit for bit.
"""
from __future__ import annotations

import os
import sys
from datetime import timedelta
from typing import Any

import numpy as np

from .. import random as _random
from ..data import DataLoader, TensorDataset
from ..tensor import Tensor
from .checkpoint import CheckpointError
from .trainer import Interrupted, TrainingRun

__all__ = ["join_or_relaunch", "Parallel", "ParallelTrainingRun", "ShardedBatches"]

#: How long a rank waits in a collective for the others (rank 0's evaluation, plots and
#: checkpoints included) before the job is declared broken.
COLLECTIVE_TIMEOUT = timedelta(minutes=10)


def join_or_relaunch(nproc: int, argv: list[str] | None = None) -> "Parallel | int":
    """In an MPI job: join it and return a :class:`Parallel`. Otherwise start ``nproc``
    ranks running this same command line, wait for them and return their exit status."""
    from ..distributed.launch import launched_by_mpi, mpiexec_command, run_job
    if launched_by_mpi():
        return Parallel(nproc)
    arguments = list(sys.argv[1:] if argv is None else argv)
    return run_job(*mpiexec_command(nproc, ["abdou_torch"] + arguments, module=True))


class Parallel:
    """This rank's place in the job, and the few collectives the training loop needs."""

    def __init__(self, nproc: int) -> None:
        from .. import distributed as dist
        if not dist.is_initialized():
            dist.init_process_group("mpi", timeout=COLLECTIVE_TIMEOUT)
        self.dist = dist
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        if self.world_size != nproc:
            raise ValueError(f"--nproc {nproc} but the MPI job has {self.world_size} ranks: "
                             f"start it with the same number (or without mpiexec)")
        if self.rank != 0:  # one voice: rank 0 prints, the others' output is discarded
            sys.stdout = open(os.devnull, "w")

    def training_run(self, *args: Any, **kwargs: Any) -> "ParallelTrainingRun":
        return ParallelTrainingRun(self, *args, **kwargs)

    def reduce(self, values: list[float], op: str = "SUM") -> np.ndarray:
        tensor = Tensor(np.asarray(values, dtype=np.float64))
        self.dist.all_reduce(tensor, getattr(self.dist.ReduceOp, op))
        return tensor.data

    def barrier(self) -> None:
        self.dist.barrier()

    def gather_json(self, value: Any) -> list[Any]:
        import json
        from ..distributed.coalesced import all_gather_bytes
        from ..distributed.process_group import GroupMember
        assert GroupMember.WORLD is not None  # initialised by __init__
        payloads = all_gather_bytes(json.dumps(value).encode(), GroupMember.WORLD)
        return [json.loads(p) for p in payloads]

    def share(self, count: int) -> slice:
        """This rank's rows of ``count`` rows (shares differ by at most one)."""
        base, extra = divmod(count, self.world_size)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (self.rank < extra))


class ShardedBatches:
    """Each global batch of the single-process loader, as this rank's share.

    Batches of indices come from a DataLoader over ``range(n)`` with the single-process
    run's batch size and generator (its ``state_dict`` resumes it); the rank fetches only
    its rows. ``weight`` is ``N * share / batch`` for the batch last yielded.
    """

    def __init__(self, parallel: Parallel, inputs: np.ndarray, labels: np.ndarray,
                 batch_size: int, generator: _random.Generator) -> None:
        self.parallel, self.inputs, self.labels = parallel, inputs, labels
        tail = len(inputs) % batch_size
        if 0 < tail < parallel.world_size:
            raise ValueError(f"the last batch of each epoch has {tail} samples, fewer than "
                             f"the {parallel.world_size} ranks: change --batch-size or "
                             f"--subset")
        self.indices = DataLoader(TensorDataset(np.arange(len(inputs))), batch_size=batch_size,
                                  shuffle=True, generator=generator)
        self.weight = 1.0

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self):
        for (batch,) in self.indices:
            rows = batch.data[self.parallel.share(len(batch.data))]
            self.weight = self.parallel.world_size * len(rows) / len(batch.data)
            yield Tensor(self.inputs[rows]), Tensor(self.labels[rows])

    def state_dict(self) -> dict[str, Any]:
        return self.indices.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.indices.load_state_dict(state)


class ParallelTrainingRun(TrainingRun):
    """A TrainingRun on one rank of a data-parallel job (see the module docstring)."""

    def __init__(self, parallel: Parallel, recipe: Any, out_dir: Any, seed: int = 0,
                 checkpoint_every: int = 0, subset: int | None = None,
                 progress: bool = True, log: Any = print) -> None:
        self.parallel = parallel
        super().__init__(recipe, out_dir, seed=seed, checkpoint_every=checkpoint_every,
                         subset=subset, progress=progress and parallel.rank == 0, log=log)
        from ..nn import SyncBatchNorm
        from ..nn.parallel import DistributedDataParallel
        self.model = SyncBatchNorm.convert_sync_batchnorm(self.model)
        self.train_model = DistributedDataParallel(self.model)
        if parallel.rank > 0:  # dropout masks of their own; rank 0 keeps the seed's stream
            _random.manual_seed(seed + 1_000_003 * parallel.rank)
        base_loss = self.loss_fn
        self.loss_fn = lambda output, labels: base_loss(output, labels) * self.loader.weight

    def fit(self) -> dict[str, Any]:
        try:
            return super().fit()
        except Interrupted as stop:
            if self.parallel.rank == 0:  # rank 0 says where the checkpoint is
                raise
            raise SystemExit(128 + stop.signum) from None

    def _make_loader(self) -> ShardedBatches:
        return ShardedBatches(self.parallel, self.train_split.inputs, self.train_split.labels,
                              self.recipe.batch_size, _random.Generator(self.seed))

    # -- agreement between the ranks ---------------------------------------------------
    def _stop_now(self) -> bool:
        return bool(self.parallel.reduce([float(self.stop.requested)], "MAX")[0])

    def _epoch_mean_loss(self) -> float:
        """The mean over the whole batches: each rank's losses are weighted shares."""
        total = self.parallel.reduce([self.state["epoch_loss_sum"]])[0]
        return float(total) / self.parallel.world_size / max(self.state["epoch_batches"], 1)

    def evaluate(self) -> float:
        inputs, labels = self.test_split.inputs, self.test_split.labels
        rows = self.parallel.share(len(inputs))
        correct = np.sum(self.predict(inputs[rows]) == labels[rows])
        return float(self.parallel.reduce([float(correct)])[0]) / len(inputs)

    # -- rank 0 writes, the others wait ----------------------------------------------------
    def _rng_state(self) -> dict[str, Any]:
        """Every rank's generator state (dropout draws differ between ranks)."""
        states = self.parallel.gather_json(_random.get_rng_state())
        return {"world_size": len(states), "ranks": states}

    def _set_rng_state(self, state: dict[str, Any]) -> None:
        size = state.get("world_size") if isinstance(state, dict) else None
        if size != self.parallel.world_size:
            raise CheckpointError(f"{self.checkpoint_path}: the checkpoint was made by "
                                  f"{size or 1} process(es); resume it with --nproc "
                                  f"{size or 1}")
        _random.set_rng_state(state["ranks"][self.parallel.rank])

    def save_checkpoint(self) -> None:
        if self.parallel.rank == 0:
            super().save_checkpoint()
        else:
            self._rng_state()  # the gather that rank 0's save makes
        self.parallel.barrier()

    def _finish(self) -> dict[str, Any]:
        if self.parallel.rank == 0:
            metrics = super()._finish()
        else:
            metrics = {"test_accuracy": self.state["test_accuracy"][-1],
                       "seconds": self.state["seconds"]}
        self.parallel.barrier()
        return metrics
