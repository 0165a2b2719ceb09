"""nn.utils: gradient clipping against PyTorch, parameters <-> vector."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import abdou_torch as at
import abdou_torch.nn as nn
from abdou_torch.nn.utils import (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
                                  vector_to_parameters)

rng = np.random.default_rng(0)


def _pairs(scale, dtype=np.float32, shapes=((4, 3), (3,), (2, 2, 2))):
    ours, theirs = [], []
    for shape in shapes:
        value = rng.standard_normal(shape).astype(dtype)
        grad = (rng.standard_normal(shape) * scale).astype(dtype)
        p = nn.Parameter(at.Tensor(value))
        p.grad = at.Tensor(grad.copy())
        q = torch.nn.Parameter(torch.tensor(value))
        q.grad = torch.tensor(grad.copy())
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("scale", [10.0, 0.01])  # clipped, and left alone
def test_clip_grad_norm_matches_torch(scale, norm_type, dtype):
    ours, theirs = _pairs(scale, dtype)
    total = clip_grad_norm_(ours, max_norm=1.0, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.0, norm_type=norm_type)
    assert isinstance(total, at.Tensor) and total.shape == ()
    assert total.dtype == dtype
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-6)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-6, atol=1e-12)
    if scale == 10.0:
        after = clip_grad_norm_(ours, max_norm=1e9, norm_type=norm_type)
        assert after.item() == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_scales_in_place_and_skips_missing_grads():
    ours, _ = _pairs(10.0)
    grads = [p.grad for p in ours]
    arrays = [g.data for g in grads]
    ours.append(nn.Parameter(at.ones(2)))  # no grad
    clip_grad_norm_(iter(ours), 0.5)
    assert all(p.grad is g and p.grad.data is a for p, g, a in zip(ours, grads, arrays))
    norm = math.sqrt(sum((g.data.astype(np.float64) ** 2).sum() for g in grads))
    assert norm == pytest.approx(0.5, rel=1e-5)
    assert ours[-1].grad is None


def test_clip_grad_norm_single_tensor_no_grads_and_nonfinite():
    p = nn.Parameter(at.Tensor([3.0, 4.0]))
    p.grad = at.Tensor([3.0, 4.0])
    assert clip_grad_norm_(p, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.data, [0.6, 0.8], rtol=1e-5)
    assert clip_grad_norm_([nn.Parameter(at.ones(2))], 1.0).item() == 0.0
    p.grad = at.Tensor([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert np.isinf(clip_grad_norm_(p, 1.0).item())


def test_clip_grad_norm_on_a_model_after_backward():
    model = nn.MLP(4, [8, 2])
    model(at.randn(16, 4)).pow(2).sum().backward()
    before = math.sqrt(sum((p.grad.data.astype(np.float64) ** 2).sum()
                           for p in model.parameters()))
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    assert total.item() == pytest.approx(before, rel=1e-5)


def test_clip_grad_value_matches_torch():
    ours, theirs = _pairs(3.0)
    clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, q.grad.numpy())
        assert np.abs(p.grad.data).max() <= 1.5


def test_parameters_to_vector_and_back():
    model = nn.Linear(3, 2)
    theirs = torch.nn.Linear(3, 2)
    model.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    vector = parameters_to_vector(model.parameters())
    np.testing.assert_array_equal(
        vector.data, torch.nn.utils.parameters_to_vector(theirs.parameters()).detach().numpy())
    vector_to_parameters(at.arange(8).float(), model.parameters())
    np.testing.assert_array_equal(model.weight.data, np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(model.bias.data, [6, 7])
    with pytest.raises(ValueError):
        vector_to_parameters(at.zeros(5), model.parameters())
