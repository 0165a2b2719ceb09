"""The gradient step of ``abdou-torch train``: loss, ``zero_grad()``, backward (and gradient
clipping), compiled with :func:`abdou_torch.compile` for the models where that was measured
faster (benchmarks/RESULTS.md), eager with ``--no-compile`` or for the others.

The optimizer's step stays outside, after the caller has checked that the loss is finite, so
a diverging step still leaves the weights as they were. Compiled, every value is eager's bit
for bit: the runs' losses, weights and checkpoints are the same either way.
"""
from __future__ import annotations

from typing import Callable

from ..compile import compile as _compile
from ..nn.utils import clip_grad_norm_
from ..optim.optimizer import Optimizer
from ..tensor import Tensor

__all__ = ["COMPILED_MODELS", "gradient_step"]

#: the models whose training step abdou_torch.compile makes faster, capture included
#: (benchmarks/RESULTS.md): the CNN's capture costs about 20 eager steps, which an epoch of
#: its recipe (469 steps) repays; the LSTM's, about 1.8 s, repaid after some 160 of its
#: recipe's 2000 steps
COMPILED_MODELS = frozenset({"mlp", "cnn", "gpt", "lstm"})


def gradient_step(loss_of: Callable[..., Tensor], optimizer: Optimizer, compiled: bool,
                  clip: tuple[list[Tensor], float] | None = None) -> Callable[..., Tensor]:
    """``step(*batch)``: ``loss = loss_of(*batch)``, the gradients of ``optimizer``'s
    parameters set to those of ``loss`` (with ``clip = (parameters, max_norm)``, the norm of
    those parameters' gradients clipped to ``max_norm``); returns ``loss``. Compiled when
    ``compiled``."""

    def step(*batch: Tensor) -> Tensor:
        loss = loss_of(*batch)
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            clip_grad_norm_(*clip)
        return loss

    return _compile(step) if compiled else step
