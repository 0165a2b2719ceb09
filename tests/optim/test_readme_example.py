"""The README's training example, run exactly as written on a small synthetic loader, and the
same recipe in PyTorch from the same weights: the weights agree after 32 steps."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


def _loader(seed=0, batches=8, batch_size=16):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(batches):
        x = rng.random((batch_size, 784), dtype=np.float32)
        labels = rng.integers(0, 10, batch_size)
        out.append((x, np.eye(10, dtype=np.float32)[labels]))
    return out


def test_readme_example_runs_as_written_and_matches_torch():
    # A fixed seed makes the initial weights independent of the tests run before this one:
    # in a ReLU net a pre-activation within rounding of 0 can flip between the two
    # libraries (different BLAS sums) and move some weights by ~1e-4 after 32 steps, a
    # property of those weights, not of the optimizer (float64 runs agree to ~1e-13).
    import abdou_torch
    abdou_torch.manual_seed(0)
    train_loader = _loader()

    # ---- the README's example, verbatim ------------------------------------------------
    from abdou_torch import Tensor, MLP, WAdam
    model = MLP(784, [64, 64, 64, 10])
    optimizer = WAdam(model.parameters(), lr=0.0004, weight_decay=1e-4)
    initial = {name: p.data.copy() for name, p in model.named_parameters()}  # (not README)
    for epoch in range(4):
        for batch_x, batch_y in train_loader:
            inputs = Tensor(batch_x)
            targets = Tensor(batch_y, requires_grad=False)
            preds = model(inputs)
            loss = ((preds - targets)**2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    # -------------------------------------------------------------------------------------

    layers = [torch.nn.Linear(a, b) for a, b in [(784, 64), (64, 64), (64, 64), (64, 10)]]
    reference = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(),
                                    layers[2], torch.nn.ReLU(), layers[3])
    with torch.no_grad():
        for index, layer in enumerate(layers):
            layer.weight.copy_(torch.from_numpy(initial[f"layers.{index}.weight"]))
            layer.bias.copy_(torch.from_numpy(initial[f"layers.{index}.bias"]))
    torch_optimizer = torch.optim.AdamW(reference.parameters(), lr=0.0004, weight_decay=1e-4)
    torch_losses = []
    for epoch in range(4):
        for batch_x, batch_y in train_loader:
            preds = reference(torch.from_numpy(batch_x))
            torch_loss = ((preds - torch.from_numpy(batch_y))**2).sum()
            torch_optimizer.zero_grad()
            torch_loss.backward()
            torch_optimizer.step()
            torch_losses.append(torch_loss.item())

    assert torch_losses[-1] < torch_losses[0]  # the recipe trains
    np.testing.assert_allclose(loss.item(), torch_losses[-1], rtol=1e-4)
    for index, layer in enumerate(layers):
        for name, expected in (("weight", layer.weight), ("bias", layer.bias)):
            got = getattr(model.layers[index], name).data
            expected = expected.detach().numpy()
            assert got.dtype == np.float32
            error = np.max(np.abs(got - expected))
            assert error <= 1e-5 * np.max(np.abs(expected)), (index, name, error)
            assert not np.array_equal(got, initial[f"layers.{index}.{name}"])
