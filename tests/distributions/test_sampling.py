"""Seeded draws equal PyTorch's where the draw path is the same (torch.normal, randn,
rand, multinomial, bernoulli), and rsample is differentiable in the parameters."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

DRAWS = {
    "Normal sample": lambda lib, d: d.Normal(lib.tensor([0.0, 1.0, -2.0]),
                                             lib.tensor([1.0, 0.5, 3.0])).sample((4,)),
    "Normal rsample": lambda lib, d: d.Normal(lib.tensor([[0.0], [1.0]]),
                                              lib.tensor([1.0, 0.5, 3.0])).rsample((2,)),
    "Normal floats": lambda lib, d: d.Normal(0.0, 1.0).sample((5, 2)),
    "Categorical probs": lambda lib, d: d.Categorical(lib.tensor([0.2, 0.3, 0.5])).sample(),
    "Categorical batched": lambda lib, d: d.Categorical(
        logits=lib.tensor([[0.0, 1.0, 2.0], [2.0, 0.0, -1.0]])).sample((6,)),
    "Categorical many": lambda lib, d: d.Categorical(lib.tensor([0.1, 0.6, 0.3])).sample(
        (50,)),
    "Bernoulli": lambda lib, d: d.Bernoulli(lib.tensor([0.1, 0.5, 0.9])).sample((3,)),
    "Uniform": lambda lib, d: d.Uniform(lib.tensor([0.0, -1.0]), 2.0).sample((3,)),
    "Independent Normal": lambda lib, d: d.Independent(
        d.Normal(lib.zeros(2, 3), lib.ones(2, 3)), 1).rsample((2,)),
}


@pytest.mark.parametrize("name", list(DRAWS))
@pytest.mark.parametrize("seed", [0, 7])
def test_seeded_draws_equal_pytorch(name, seed):
    at.manual_seed(seed)
    ours = DRAWS[name](at, at.distributions)
    torch.manual_seed(seed)
    theirs = DRAWS[name](torch, torch.distributions)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_rsample_gradients_equal_pytorch():
    grads = []
    for lib in (at, torch):
        lib.manual_seed(3)
        loc = lib.tensor([0.5, -1.0], requires_grad=True)
        scale = lib.tensor([1.5, 0.3], requires_grad=True)
        x = lib.distributions.Normal(loc, scale).rsample((5,))
        (x ** 2).sum().backward()
        grads.append((loc.grad.numpy(), scale.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_sample_is_outside_the_graph():
    loc = at.tensor([0.0, 1.0], requires_grad=True)
    dist = at.distributions.Normal(loc, 1.0)
    assert dist.sample().requires_grad is False
    assert dist.rsample().requires_grad is True


def test_categorical_frequencies():
    at.manual_seed(0)
    probs = np.array([0.1, 0.6, 0.3])
    draws = at.distributions.Categorical(at.tensor(probs)).sample((20000,)).numpy()
    assert draws.dtype == np.int64
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, probs, atol=0.015)


def test_enumerate_support_matches_pytorch():
    for lib in (at, torch):
        d = lib.distributions
        cat = d.Categorical(lib.ones(2, 3))
        bern = d.Bernoulli(lib.full((2,), 0.3))
        result = [cat.enumerate_support().numpy(), cat.enumerate_support(False).numpy(),
                  bern.enumerate_support().numpy(), bern.enumerate_support(False).numpy()]
        if lib is at:
            ours = result
        else:
            for a, b in zip(ours, result):
                assert a.shape == b.shape and a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)
