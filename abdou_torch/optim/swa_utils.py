"""``torch.optim.swa_utils``: averaged copies of a model (SWA and EMA), the SWA learning-rate
schedule, and recomputing batch-norm statistics for an averaged model.

- :class:`AveragedModel` keeps a copy of a model whose parameters are an average of the
  model's along training. ``update_parameters(model)`` after each step (or epoch) folds
  the model's current values in; the first call copies them. The default average is
  SWA's equal-weight running mean, ``avg <- avg + (p - avg) / (n + 1)`` after n updates;
  :func:`get_ema_multi_avg_fn` gives the exponential moving average
  ``avg <- avg + (1 - decay) (p - avg)``. Buffers are averaged too with ``use_buffers``;
  otherwise they stay as copied and :func:`update_bn` recomputes batch norm's.
- :class:`SWALR` anneals each group's lr from its value when the schedule starts to
  ``swa_lr`` over ``anneal_epochs`` steps (cosine or linear), then holds it.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..tensor import Tensor
from .lr_scheduler import LRScheduler
from .optimizer import Optimizer

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def get_ema_avg_fn(decay: float = 0.999) -> Callable:
    """avg + (1 - decay) (p - avg), one tensor at a time."""
    def ema_update(averaged: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        return decay * averaged + (1 - decay) * current
    return ema_update


def get_swa_avg_fn() -> Callable:
    """avg + (p - avg) / (n + 1), one tensor at a time."""
    def swa_update(averaged: Tensor, current: Tensor, num_averaged: Any) -> Tensor:
        return averaged + (current - averaged) / (_number(num_averaged) + 1)
    return swa_update


def get_ema_multi_avg_fn(decay: float = 0.999) -> Callable:
    """The EMA update of a list of averaged tensors in place (PyTorch's lerp form)."""
    def ema_update(averaged: list, current: list, num_averaged: Any) -> None:
        for a, p in zip(averaged, current):
            a.data += (1 - decay) * (p.data - a.data)
    return ema_update


def get_swa_multi_avg_fn() -> Callable:
    """The SWA update of a list of averaged tensors in place."""
    def swa_update(averaged: list, current: list, num_averaged: Any) -> None:
        for a, p in zip(averaged, current):
            a.data += (p.data - a.data) / (_number(num_averaged) + 1)
    return swa_update


def _number(value: Any) -> float:
    return float(value.item()) if isinstance(value, Tensor) else float(value)


class AveragedModel(Module):
    """A copy of ``model`` holding averaged parameters (see the module's text); calling it
    runs the copy. Its state dict holds ``n_averaged`` and the copy under ``module.``."""

    def __init__(self, model: Module, device: Any = None, avg_fn: Callable | None = None,
                 multi_avg_fn: Callable | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", Tensor(np.array(0, dtype=np.int64)))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _tensors(self, model: Module) -> list[Tensor]:
        tensors: list[Tensor] = list(model.parameters())
        return tensors + list(model.buffers()) if self.use_buffers else tensors

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current values into the average (the first call copies)."""
        averaged, current = self._tensors(self.module), self._tensors(model)
        if len(averaged) != len(current):
            raise ValueError(f"update_parameters: the model has {len(current)} tensors to "
                             f"average, the averaged copy {len(averaged)}")
        count = int(self.n_averaged.item())
        with no_grad():
            floating = [(a, p) for a, p in zip(averaged, current) if a.dtype.kind == "f"]
            if count == 0:
                for a, p in zip(averaged, current):
                    a.data[...] = p.data
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn([a for a, _ in floating], [p for _, p in floating],
                                  self.n_averaged)
            else:
                update = self.avg_fn or get_swa_avg_fn()
                for a, p in floating:
                    a.data[...] = update(a.detach(), p.detach(), self.n_averaged).data
        if not self.use_buffers:  # PyTorch keeps the buffers in step with the model's
            for a, p in zip(self.module.buffers(), model.buffers()):
                a.data[...] = p.data
        self.n_averaged.data[...] = count + 1


@no_grad()
def update_bn(loader: Iterable, model: Module, device: Any = None) -> None:
    """Recompute every batch norm's running mean and variance with one pass over
    ``loader`` (cumulative averages: momentum None), in training mode; the model's mode
    and momenta are restored afterwards."""
    momenta = {}
    for module in model.modules():
        if hasattr(module, "running_mean") and hasattr(module, "momentum") and \
                module.running_mean is not None:
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr to ``swa_lr`` in ``anneal_epochs`` steps, then hold it."""

    def __init__(self, optimizer: Optimizer, swa_lr: float | list[float],
                 anneal_epochs: int = 10, anneal_strategy: str = "cos",
                 last_epoch: int = -1) -> None:
        swa_lrs = swa_lr if isinstance(swa_lr, (list, tuple)) else \
            [swa_lr] * len(optimizer.param_groups)
        if len(swa_lrs) != len(optimizer.param_groups):
            raise ValueError(f"swa_lr must have the same length as optimizer.param_groups: "
                             f"swa_lr has {len(swa_lrs)}, optimizer.param_groups has "
                             f"{len(optimizer.param_groups)}")
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must by one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if not isinstance(anneal_epochs, int) or isinstance(anneal_epochs, bool) or \
                anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs, self.anneal_strategy = anneal_epochs, anneal_strategy
        super().__init__(optimizer, last_epoch)

    def _alpha(self, t: float) -> float:
        """The annealing's progress at fraction t of the anneal epochs."""
        return (1 - math.cos(math.pi * t)) / 2 if self.anneal_strategy == "cos" else t

    def get_lr(self) -> list[float]:
        """Each step moves from the lr the previous step set toward swa_lr: the lr before
        annealing is solved from the previous value, so a changed lr is followed."""
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        span = max(1, self.anneal_epochs)
        previous_alpha = self._alpha(max(0.0, min(1.0, (step - 1) / span)))
        alpha = self._alpha(max(0.0, min(1.0, step / span)))
        lrs = []
        for group in self.optimizer.param_groups:
            swa_lr = group["swa_lr"]
            lr = _number(group["lr"])
            start = swa_lr if previous_alpha == 1 else \
                (lr - previous_alpha * swa_lr) / (1 - previous_alpha)
            lrs.append(swa_lr * alpha + start * (1 - alpha))
        return lrs

