"""The benchmark workloads, each in two versions (abdou_torch and PyTorch eager) that
start from the same weights and consume the same data.

Each ``make_*`` function returns ``{"abdou_torch": callable, "pytorch": callable}``; one
call of a callable is one timed repetition.
"""
from __future__ import annotations

import numpy as np

SEED_SIZES = [784, 64, 64, 64, 10]
BLAS_SIZES = [784, 1024, 1024, 10]


def _weights(sizes: list[int], seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch-style uniform initial weights, shared by both libraries."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        bound = 1 / np.sqrt(fan_in)
        layers.append((rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32),
                       rng.uniform(-bound, bound, fan_out).astype(np.float32)))
    return layers


def _batches(sizes: list[int], batch: int, count: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.random((count, batch, sizes[0]), dtype=np.float32)
    y = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], (count, batch))]
    return x, y


def _ours_mlp(sizes, weights):
    import abdou_torch as at
    model = at.MLP(sizes[0], sizes[1:])
    for layer, (w, b) in zip(model.layers, weights):
        layer.weight.data[...] = w
        layer.bias.data[...] = b
    return model


def _torch_mlp(sizes, weights):
    import torch
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    with torch.no_grad():
        for layer, (w, b) in zip(model[::2], weights):
            layer.weight.copy_(torch.from_numpy(w))
            layer.bias.copy_(torch.from_numpy(b))
    return model


def make_training_steps(sizes: list[int], batch: int, steps: int, lr: float = 4e-4,
                        weight_decay: float = 1e-4,
                        libraries: tuple[str, ...] = ("abdou_torch", "pytorch")) -> dict:
    """``steps`` training steps (forward, MSE sum, backward, AdamW) per repetition.

    Only the listed libraries are imported (the memory benchmark measures one at a time).
    """
    weights = _weights(sizes)
    xs, ys = _batches(sizes, batch, steps)
    runs = {}
    if "abdou_torch" in libraries:
        runs["abdou_torch"] = _ours_steps(sizes, weights, xs, ys, lr, weight_decay)
    if "pytorch" in libraries:
        runs["pytorch"] = _torch_steps(sizes, weights, xs, ys, lr, weight_decay)
    return runs


def _ours_steps(sizes, weights, xs, ys, lr, weight_decay):
    import abdou_torch as at
    ours = _ours_mlp(sizes, weights)
    ours_opt = at.WAdam(ours.parameters(), lr=lr, weight_decay=weight_decay)

    def run_ours():
        for x, y in zip(xs, ys):
            loss = ((ours(at.Tensor(x)) - at.Tensor(y)) ** 2).sum()
            ours_opt.zero_grad()
            loss.backward()
            ours_opt.step()

    return run_ours


def _torch_steps(sizes, weights, xs, ys, lr, weight_decay):
    import torch
    theirs = _torch_mlp(sizes, weights)
    theirs_opt = torch.optim.AdamW(theirs.parameters(), lr=lr, weight_decay=weight_decay)
    txs, tys = torch.from_numpy(xs), torch.from_numpy(ys)

    def run_torch():
        for x, y in zip(txs, tys):
            loss = ((theirs(x) - y) ** 2).sum()
            theirs_opt.zero_grad()
            loss.backward()
            theirs_opt.step()

    return run_torch


def make_tiny_ops(repeats: int = 200) -> dict:
    """Forward + backward of add, mul, matmul, relu and sum on 4x4 tensors."""
    import abdou_torch as at
    import torch
    rng = np.random.default_rng(2)
    a_np, b_np = rng.random((4, 4), dtype=np.float32), rng.random((4, 4), dtype=np.float32)
    a, b = at.tensor(a_np, requires_grad=True), at.tensor(b_np, requires_grad=True)
    ta = torch.tensor(a_np, requires_grad=True)
    tb = torch.tensor(b_np, requires_grad=True)

    def step(x, y, relu):
        return relu(((x + y) * y) @ x).sum()

    def run_ours():
        for _ in range(repeats):
            a.grad = b.grad = None
            step(a, b, at.relu).backward()

    def run_torch():
        for _ in range(repeats):
            ta.grad = tb.grad = None
            step(ta, tb, torch.relu).backward()

    return {"abdou_torch": run_ours, "pytorch": run_torch}


def make_random_draws(kind: str, size: int = 1 << 20) -> dict:
    """One ``randn(size)`` or ``rand(size)`` (float32) per repetition: the same numbers in
    both libraries (abdou_torch replays PyTorch's mt19937 and samplers)."""
    import abdou_torch as at
    import torch
    ours, theirs = at.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    at_draw, torch_draw = getattr(at, kind), getattr(torch, kind)
    return {"abdou_torch": lambda: at_draw(size, generator=ours),
            "pytorch": lambda: torch_draw(size, generator=theirs)}


def make_model_init() -> dict:
    """Building, with default initialisation, the CNN of ``abdou_torch.models`` and an
    MLP(784, [64, 64, 64, 10]), as the command line's recipes do."""
    import abdou_torch as at
    import torch
    from abdou_torch.models import CNN

    def torch_models():
        c1, c2, c3 = 32, 32, 64
        nn = torch.nn
        nn.Sequential(nn.Conv2d(1, c1, 3, padding=1, bias=False), nn.BatchNorm2d(c1),
                      nn.Conv2d(c1, c2, 3, bias=False), nn.BatchNorm2d(c2),
                      nn.Conv2d(c2, c3, 3, bias=False), nn.BatchNorm2d(c3),
                      nn.Linear(c3 * 25, 128), nn.Linear(128, 10))
        nn.Sequential(*[nn.Linear(a, b) for a, b in zip(SEED_SIZES, SEED_SIZES[1:])])

    def ours_models():
        CNN()
        at.MLP(SEED_SIZES[0], SEED_SIZES[1:])

    return {"abdou_torch": ours_models, "pytorch": torch_models}
