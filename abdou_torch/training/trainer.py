"""The training loop behind ``abdou-torch train``: progress bars, evaluation each epoch,
checkpoints that resume bit for bit, metrics and plots.

What keeps a run safe, from :mod:`.signals`, :mod:`.nan_guard` and :mod:`.run_dir`:
Ctrl-C or SIGTERM saves a checkpoint and raises :class:`Interrupted`; a loss or weights
that stop being finite raise :class:`~.nan_guard.NonFiniteError` before anything is saved,
so the last good checkpoint stays; every file is written atomically, and a failed write
is a :class:`~.run_dir.RunDirectoryError` saying what to do.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import random as _random
from .. import serialization
from ..autograd.grad_mode import no_grad
from ..data import DataLoader, TensorDataset
from ..nn import Module
from ..optim import WAdam
from ..tensor import Tensor
from . import nan_guard, run_dir
from .compiled_step import COMPILED_MODELS, gradient_step
from .checkpoint import CheckpointError, load_training_checkpoint, save_training_checkpoint
from .data import load_splits
from .recipes import CLASS_NAMES, Recipe
from .signals import DeferredStop, Interrupted

__all__ = ["TrainingRun", "Interrupted"]


def _loss_function(recipe: Recipe) -> Callable[[Tensor, Tensor], Tensor]:
    from ..nn import functional as F
    if recipe.loss == "mse_pm1":
        return lambda output, labels: F.mse_loss(output.reshape(-1),
                                                 labels.to(output.dtype) * 2 - 1)
    return lambda output, labels: F.cross_entropy(output, labels,
                                                  label_smoothing=recipe.label_smoothing)


class TrainingRun:
    """One training run of a recipe, writing everything into ``out_dir``."""

    def __init__(self, recipe: Recipe, out_dir: str | os.PathLike, seed: int = 0,
                 checkpoint_every: int = 0, subset: int | None = None,
                 progress: bool = True, log: Callable[[str], None] = print,
                 compile: bool = True) -> None:  # noqa: A002 - the CLI's --no-compile
        self.recipe, self.seed, self.checkpoint_every = recipe, seed, checkpoint_every
        self.compile = compile and recipe.model in COMPILED_MODELS
        self.out_dir = Path(out_dir)
        self.progress, self.log = progress, log
        self.checkpoint_path = self.out_dir / "checkpoint.safetensors"
        started = time.perf_counter()
        self.train_split, self.test_split = load_splits(recipe, seed, subset)
        self.load_seconds = time.perf_counter() - started
        _random.manual_seed(seed)
        self.model: Module = recipe.build_model()
        self.optimizer = WAdam(self.model.parameters(), lr=recipe.lr,
                               weight_decay=recipe.weight_decay)
        self.train_model: Module = self.model  # what the training step calls (DDP: a wrapper)
        self.loader = self._make_loader()
        self.scheduler = self._scheduler()
        self.loss_fn = _loss_function(recipe)
        # the progress saved with each checkpoint (counters, sums and the curves so far)
        self.state: dict[str, Any] = {
            "epoch": 0, "step": 0, "epoch_loss_sum": 0.0, "epoch_batches": 0, "seconds": 0.0,
            "train_loss": [], "test_accuracy": []}
        self.stop = DeferredStop()
        self._step: Callable[[Tensor, Tensor], Tensor] | None = None

    def _gradient_step(self) -> Callable[[Tensor, Tensor], Tensor]:
        """Loss, zero_grad and backward of one batch; compiled unless --no-compile, or the
        model is wrapped (data parallel: its hooks run in the backward)."""
        if self._step is None:
            compiled = self.compile and self.train_model is self.model
            self._step = gradient_step(
                lambda inputs, labels: self.loss_fn(self.train_model(inputs), labels),
                self.optimizer, compiled)
        return self._step

    def _make_loader(self) -> Any:
        return DataLoader(TensorDataset(self.train_split.inputs, self.train_split.labels),
                          batch_size=self.recipe.batch_size, shuffle=True,
                          generator=_random.Generator(self.seed))

    def _scheduler(self):
        if self.recipe.schedule == "constant":
            return None
        from ..optim.lr_scheduler import OneCycleLR
        return OneCycleLR(self.optimizer, max_lr=self.recipe.lr,
                          total_steps=self.recipe.epochs * len(self.loader))

    # -- checkpoints ---------------------------------------------------------------------
    def save_checkpoint(self) -> None:
        """Write the checkpoint atomically; refuse (NonFiniteError) to save diverged weights
        over the last good ones."""
        model_state = self.model.state_dict()
        nan_guard.check_state(model_state, "parameter", step=self.state["step"])
        try:
            save_training_checkpoint(
                self.checkpoint_path, model_state=model_state,
                optimizer_state=self.optimizer.state_dict(),
                scheduler_state=None if self.scheduler is None else self.scheduler.state_dict(),
                loader_state=self.loader.state_dict(), rng_state=self._rng_state(),
                progress=dict(self.state, recipe=self.recipe.__dict__, seed=self.seed))
        except OSError as error:
            raise run_dir.write_error(self.checkpoint_path, error) from error

    def resume(self) -> None:
        """Continue from ``out_dir/checkpoint.safetensors``.

        Raises FileNotFoundError when there is none, and CheckpointError (one line naming
        the file) when it is corrupt, from another version, edited by hand or made with
        another recipe or seed; the run's state is unchanged then.
        """
        if not self.checkpoint_path.exists():
            raise FileNotFoundError(f"--resume: no checkpoint at {self.checkpoint_path}")
        saved = load_training_checkpoint(self.checkpoint_path)
        progress = saved["progress"]
        if progress.get("recipe") != self.recipe.__dict__ or progress.get("seed") != self.seed:
            raise CheckpointError(f"{self.checkpoint_path}: the checkpoint was made with another "
                                  f"recipe or seed ({progress.get('recipe')}, seed "
                                  f"{progress.get('seed')}); resume with the same options")
        try:
            self._restore(saved)
        except CheckpointError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as error:
            raise CheckpointError(
                f"{self.checkpoint_path}: cannot resume from this checkpoint ("
                f"{' '.join(str(error).split())}); it was made by another version of "
                f"abdou_torch or edited") from None
        self.state = {k: progress[k] for k in self.state}
        self.log(f"resuming from {self.checkpoint_path}: epoch {self.state['epoch'] + 1}, "
                 f"step {self.state['step']}")

    def _restore(self, saved: dict[str, Any]) -> None:
        """Load every part; when one is refused, put the model, optimizer and default
        generator back as they were."""
        model_backup = self.model.state_dict()
        optimizer_backup = self.optimizer.state_dict()
        rng_backup = _random.get_rng_state()
        try:
            self.model.load_state_dict(saved["model_state"])
            self.optimizer.load_state_dict(saved["optimizer_state"])
            if self.scheduler is not None:
                self.scheduler.load_state_dict(saved["scheduler_state"])
            self.loader.load_state_dict(saved["loader_state"])
            self._set_rng_state(saved["rng_state"])
        except BaseException:
            self.model.load_state_dict(model_backup)
            self.optimizer.load_state_dict(optimizer_backup)
            _random.set_rng_state(rng_backup)
            raise

    def _rng_state(self) -> dict[str, Any]:
        return _random.get_rng_state()

    def _set_rng_state(self, state: dict[str, Any]) -> None:
        if isinstance(state, dict) and "ranks" in state:  # see training/parallel.py
            raise CheckpointError(f"{self.checkpoint_path}: the checkpoint was made by "
                                  f"{state.get('world_size')} processes; resume it with "
                                  f"--nproc {state.get('world_size')}")
        _random.set_rng_state(state)

    # -- the loop ------------------------------------------------------------------------
    def fit(self) -> dict[str, Any]:
        """Train to the last epoch, then write the model, metrics and plots.

        SIGINT or SIGTERM: checkpoint, then :class:`Interrupted` (a second signal raises
        :class:`~.signals.Stopped` at once). A non-finite loss or weights:
        :class:`~.nan_guard.NonFiniteError`, with nothing saved after the last good
        checkpoint.
        """
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise run_dir.write_error(self.out_dir, error, "create the directory") from None
        with self.stop:
            self._train()
        return self._finish()

    def _train(self) -> None:
        single_step_epochs = len(self.loader) == 1
        bar = self._bar(self.recipe.epochs, self.state["epoch"], "steps") \
            if single_step_epochs else None
        while self.state["epoch"] < self.recipe.epochs:
            self._train_epoch(bar)
        if bar is not None:
            bar.close()
            # one-step epochs checkpoint every N steps only: keep the end, so that the
            # outputs can be written again (--resume) if writing them fails
            self._checkpoint(time.perf_counter())

    def _bar(self, total: int, initial: int, unit: str, desc: str | None = None):
        from tqdm import tqdm
        return tqdm(total=total, initial=initial, unit=unit, desc=desc, leave=True,
                    disable=not self.progress, dynamic_ncols=True, file=sys.stderr)

    def _train_epoch(self, run_bar: Any) -> None:
        state, started = self.state, time.perf_counter()
        epoch_number = state["epoch"] + 1
        bar = run_bar or self._bar(len(self.loader), state["epoch_batches"], "batch",
                                   f"epoch {epoch_number}/{self.recipe.epochs}")
        self.model.train()
        step = self._gradient_step()
        for inputs, labels in self.loader:
            loss_value = step(inputs, labels).item()
            # before the update: the weights stay the last good ones
            nan_guard.check_loss(loss_value, step=state["step"] + 1, epoch=epoch_number)
            self.optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
            state["step"] += 1
            state["epoch_loss_sum"] += loss_value
            state["epoch_batches"] += 1
            if run_bar is None:
                bar.update(1)
                if state["epoch_batches"] % 25 == 0:
                    bar.set_postfix(loss=f"{state['epoch_loss_sum'] / state['epoch_batches']:.4f}")
            stopping = self._stop_now()
            if stopping or (self.checkpoint_every and state["step"] % self.checkpoint_every == 0):
                started = self._checkpoint(started)
            if stopping:
                bar.close()
                raise Interrupted(self.stop.signum or signal.SIGINT)
        state["train_loss"].append(self._epoch_mean_loss())
        state["test_accuracy"].append(self.evaluate())
        state["epoch"] += 1
        state["epoch_loss_sum"], state["epoch_batches"] = 0.0, 0
        if run_bar is None:
            bar.set_postfix(loss=f"{state['train_loss'][-1]:.4f}",
                            test_acc=f"{100 * state['test_accuracy'][-1]:.2f}%")
            bar.close()
            self._checkpoint(started)
        else:  # one-step epochs (full-batch blobs): checkpoint only every N steps
            run_bar.update(1)
            state["seconds"] += time.perf_counter() - started

    def _stop_now(self) -> bool:
        """Whether to checkpoint and stop after this step (Ctrl-C was pressed)."""
        return self.stop.requested

    def _epoch_mean_loss(self) -> float:
        return self.state["epoch_loss_sum"] / max(self.state["epoch_batches"], 1)

    def _checkpoint(self, started: float) -> float:
        """Count the time since ``started`` and save; returns the new start time."""
        now = time.perf_counter()
        self.state["seconds"] += now - started
        self.save_checkpoint()
        return time.perf_counter()

    # -- evaluation and results --------------------------------------------------------------
    def predict(self, inputs: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Class predictions (or ±1 scores' signs for blobs) in eval mode."""
        self.model.eval()
        outputs = []
        with no_grad():
            for start in range(0, len(inputs), batch_size):
                outputs.append(self.model(Tensor(inputs[start:start + batch_size])).data)
        self.model.train()
        scores = np.concatenate(outputs)
        if self.recipe.loss == "mse_pm1":
            return (scores.reshape(-1) > 0).astype(np.int64)
        return scores.argmax(1)

    def evaluate(self) -> float:
        return float(np.mean(self.predict(self.test_split.inputs) == self.test_split.labels))

    def _finish(self) -> dict[str, Any]:
        state = self.state
        model_path = self.out_dir / "model.safetensors"
        try:
            serialization.save(self.model.state_dict(), model_path)
        except OSError as error:
            raise run_dir.write_error(model_path, error) from error
        metrics = {"dataset": self.recipe.dataset, "model": self.recipe.model,
                   "test_accuracy": state["test_accuracy"][-1], "epochs": self.recipe.epochs,
                   "steps": state["step"], "seconds": round(state["seconds"], 3),
                   "data_load_seconds": round(self.load_seconds, 3),
                   "batch_size": self.recipe.batch_size, "lr": self.recipe.lr,
                   "weight_decay": self.recipe.weight_decay, "seed": self.seed,
                   "history": {"train_loss": state["train_loss"],
                               "test_accuracy": state["test_accuracy"]}}
        run_dir.write_json(self.out_dir / "metrics.json", metrics)
        self._plots()
        return metrics

    def _plots(self) -> None:
        from . import plots
        history, out = self.state, self.out_dir
        plots.plot_curve(history["train_loss"], out / "loss.png", "training loss", "loss")
        plots.plot_curve(history["test_accuracy"], out / "accuracy.png", "test accuracy",
                         "accuracy", percent=True)
        test = self.test_split
        if test.images is not None:
            plots.plot_predictions(test.images, test.labels, self.predict(test.inputs),
                                   CLASS_NAMES[self.recipe.dataset], out / "predictions.png")
        else:
            plots.plot_decision_boundary(self._scores, np.concatenate(
                [self.train_split.inputs, test.inputs]), np.concatenate(
                [self.train_split.labels, test.labels]), out / "decision_boundary.png")

    def _scores(self, points: np.ndarray) -> np.ndarray:
        with no_grad():
            return self.model(Tensor(points)).data.reshape(-1)


