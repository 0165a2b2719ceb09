"""Workloads of ``abdou_torch.compile`` (issue 14): the seed step and the tiny-op chain,
compiled, against PyTorch eager; and the floor of the seed step, its matrix products alone.

Each ``make_*`` returns ``{"abdou_torch": callable, "pytorch": callable}`` as in
``workloads.py``; one call is one timed repetition.
"""
from __future__ import annotations

import numpy as np

from .workloads import _batches, _ours_mlp, _torch_steps, _weights


def make_compiled_training_steps(sizes: list[int], batch: int, steps: int, lr: float = 4e-4,
                                 weight_decay: float = 1e-4,
                                 libraries: tuple[str, ...] = ("abdou_torch", "pytorch")
                                 ) -> dict:
    """``make_training_steps``'s epoch with abdou_torch's step compiled (captured on the
    first call, replayed afterwards)."""
    weights = _weights(sizes)
    xs, ys = _batches(sizes, batch, steps)
    runs = {}
    if "abdou_torch" in libraries:
        runs["abdou_torch"] = _compiled_steps(sizes, weights, xs, ys, lr, weight_decay)
    if "pytorch" in libraries:
        runs["pytorch"] = _torch_steps(sizes, weights, xs, ys, lr, weight_decay)
    return runs


def _compiled_steps(sizes, weights, xs, ys, lr, weight_decay):
    import abdou_torch as at
    model = _ours_mlp(sizes, weights)
    optimizer = at.WAdam(model.parameters(), lr=lr, weight_decay=weight_decay)

    @at.compile
    def step(x, y):
        loss = ((model(x) - y) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    def run_ours():
        for x, y in zip(xs, ys):
            step(at.Tensor(x), at.Tensor(y))

    return run_ours


def make_matmul_floor(sizes: list[int], batch: int, steps: int) -> dict:
    """The matrix products of ``steps`` seed steps alone, in NumPy with preallocated outputs:
    per layer the forward ``x @ W.T``, the weight gradient ``dy.T @ x`` and (but for the
    first layer) the input gradient ``dy @ W``. Against PyTorch's whole eager step."""
    weights = [w for w, _ in _weights(sizes)]
    xs, ys = _batches(sizes, batch, steps)
    theirs = _torch_steps(sizes, _weights(sizes), xs, ys, 4e-4, 1e-4)
    activations = [np.empty((batch, n), np.float32) for n in sizes]
    weight_grads = [np.empty_like(w) for w in weights]

    def products():
        for x in xs:
            activations[0][...] = x
            for i, w in enumerate(weights):
                np.matmul(activations[i], w.T, out=activations[i + 1])
            dy = activations[-1]
            for i in range(len(weights) - 1, -1, -1):
                np.matmul(dy.T, activations[i], out=weight_grads[i])
                if i:
                    np.matmul(dy, weights[i], out=activations[i])
                    dy = activations[i]

    return {"abdou_torch": products, "pytorch": theirs}


def make_compiled_tiny_ops(repeats: int = 200) -> dict:
    """``workloads.make_tiny_ops``'s op chain, forward and backward, compiled."""
    import abdou_torch as at
    import torch
    rng = np.random.default_rng(2)
    a_np, b_np = rng.random((4, 4), dtype=np.float32), rng.random((4, 4), dtype=np.float32)
    a, b = at.tensor(a_np, requires_grad=True), at.tensor(b_np, requires_grad=True)
    ta = torch.tensor(a_np, requires_grad=True)
    tb = torch.tensor(b_np, requires_grad=True)

    def chain(x, y, relu):
        return relu(((x + y) * y) @ x).sum()

    @at.compile
    def step():
        a.grad = b.grad = None
        chain(a, b, at.relu).backward()

    def run_ours():
        for _ in range(repeats):
            step()

    def run_torch():
        for _ in range(repeats):
            ta.grad = tb.grad = None
            chain(ta, tb, torch.relu).backward()

    return {"abdou_torch": run_ours, "pytorch": run_torch}
