"""DistributedDataParallel: one model replicated on every rank, gradients averaged.

    model = DistributedDataParallel(model)     # same parameters on every rank from here on
    loss = loss_fn(model(inputs), targets)     # inputs: this rank's share of the batch
    loss.backward()                            # p.grad: the mean over ranks, on every rank
    optimizer.step()                           # the same step everywhere

With a mean-reduced loss over B/N samples per rank, the averaged gradient is the gradient
of the mean loss over all B samples, so N ranks follow one process with batch B. With a
summed loss it is 1/N of the full batch's summed-loss gradient (PyTorch's rule too): scale
the loss by N, or the learning rate, to match one process.
"""
from __future__ import annotations

import contextlib
import json
from typing import Any, Iterator

from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...distributed.coalesced import all_gather_bytes, broadcast_arrays
from ...distributed.process_group import _default_group
from ..module import Module
from .reducer import DEFAULT_BUCKET_CAP_MB, Reducer

__all__ = ["DistributedDataParallel"]


def _describe(module: Module) -> list[list[Any]]:
    """What must match across ranks: every parameter and buffer, in order, with its name,
    shape, dtype and (for parameters) requires_grad."""
    entries = [["parameter", name, list(p.shape), str(p.dtype), p.requires_grad]
               for name, p in module.named_parameters()]
    entries += [["buffer", name, list(b.shape), str(b.dtype), False]
                for name, b in module.named_buffers()]
    return entries


def _first_difference(mine: list, theirs: list, rank: int) -> str:
    def entry(e: list) -> str:
        return f"{e[0]} '{e[1]}' of shape {tuple(e[2])}, {e[3]}" + \
            (", requires_grad" if e[4] else "")
    for position, (a, b) in enumerate(zip(mine, theirs)):
        if a != b:
            return f"entry {position} is {entry(a)} on rank 0 but {entry(b)} on rank {rank}"
    return (f"rank 0 has {len(mine)} parameters and buffers, rank {rank} has "
            f"{len(theirs)}")


def _verify_same_model(module: Module, group: Any) -> None:
    """Raise the same error on every rank if the ranks' models differ."""
    payload = json.dumps(_describe(module)).encode()
    descriptions = [json.loads(p) for p in all_gather_bytes(
        payload, group, "DistributedDataParallel model check")]
    for rank, theirs in enumerate(descriptions[1:], start=1):
        if theirs != descriptions[0]:
            raise RuntimeError(
                f"DistributedDataParallel: every rank must wrap the same model (the same "
                f"parameters and buffers, in the same order, with the same shapes and "
                f"dtypes), but rank {rank}'s differs from rank 0's: "
                f"{_first_difference(descriptions[0], theirs, rank)}")


class DistributedDataParallel(Module):
    """Data parallelism over the ranks of the default process group
    (``torch.nn.parallel.DistributedDataParallel``, CPU, one process per rank).

    At construction every rank must wrap the same model (checked: parameters and buffers,
    their order, shapes and dtypes); rank 0's parameters and buffers are then copied to the
    others. Before each forward (with grad enabled), rank 0's buffers are copied to the
    others when ``broadcast_buffers``. After each backward through an output of this
    module, every ``p.grad`` holds the mean over ranks (see ``reducer.py``).

    ``no_sync()`` skips the averaging for forwards run inside it (gradients accumulate
    locally; the next synchronised backward averages the sum). ``find_unused_parameters``
    allows forwards that leave some parameters without a gradient. The wrapped model is
    ``.module``; state dicts carry its names behind ``module.``, as PyTorch's.

    ``device_ids``, ``output_device`` and ``dim`` must be left at their defaults (CPU);
    ``gradient_as_bucket_view`` and ``static_graph`` are accepted: gradients are always
    views of the bucket they were averaged in (a fresh one each step).
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel expects a Module, got "
                            f"{type(module).__name__}")
        if device_ids not in (None, []) or output_device is not None or dim != 0:
            raise ValueError("DistributedDataParallel: device_ids, output_device and dim are "
                             "for GPU modules; abdou_torch runs on the CPU (leave them unset)")
        if bucket_cap_mb is not None and not bucket_cap_mb > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got "
                             f"{bucket_cap_mb}")
        group = _default_group(process_group)
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self.module = module
        self.process_group = group
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.static_graph = bool(static_graph)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        _verify_same_model(module, group)
        self._sync(list(module.parameters()) + list(module.buffers()),
                   "DistributedDataParallel initial broadcast")
        self.reducer = Reducer([p for _, p in named], [n for n, _ in named], group,
                               DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None
                               else bucket_cap_mb, self.find_unused_parameters)

    def _sync(self, tensors: list, name: str) -> None:
        """Copy rank 0's values of ``tensors`` to every rank, in place."""
        with no_grad():
            broadcast_arrays([t.data for t in tensors], self.process_group, 0, name)
        if self.process_group.size() > 1:
            for tensor in tensors:
                tensor._version += 1

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            self.reducer.check_finished()
        buffers = list(self.module.buffers())
        if self.require_forward_param_sync and self.broadcast_buffers and buffers:
            self._sync(buffers, "DistributedDataParallel buffer broadcast")
        output = self.module(*inputs, **kwargs)
        if sync:
            self.require_forward_param_sync = True
            self.reducer.prepare_for_backward(output)
        else:
            self.require_forward_param_sync = False
        return output

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Forwards inside this block are not averaged at backward: gradients accumulate
        locally until the first synchronised backward after it."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous
