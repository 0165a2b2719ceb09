"""F.gumbel_softmax (soft and hard, PyTorch's draws from the same seed, the straight-through
gradient) and MultiLabelMarginLoss / F.multilabel_margin_loss against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402
import abdou_torch.nn as nn  # noqa: E402
import abdou_torch.nn.functional as F  # noqa: E402

TF = torch.nn.functional
rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("shape, dim, tau", [((4, 6), -1, 0.5), ((3, 5, 2), 1, 2.0),
                                             ((7,), 0, 1.0)])
def test_gumbel_softmax_matches_torch(shape, dim, tau, hard, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    ours, theirs = at.Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    at.manual_seed(4)
    torch.manual_seed(4)
    out = F.gumbel_softmax(ours, tau=tau, hard=hard, dim=dim)
    expected = TF.gumbel_softmax(theirs, tau=tau, hard=hard, dim=dim)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
    if hard:
        assert set(np.unique(out.data)) <= {0.0, 1.0}
        assert np.all(out.data.sum(axis=dim) == 1)
    weights = rng.standard_normal(shape).astype(dtype)
    (out * at.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), **tol)


TARGETS = [
    (np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 0, 1, 1, 1]]), (3, 5)),
    (np.array([[0, 0, -1, 2], [2, -1, 3, 3]]), (2, 4)),
    (np.array([2, 1, -1, 0]), (4,)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target, shape", TARGETS, ids=["batch", "repeats", "single"])
def test_multilabel_margin_loss_matches_torch(check, target, shape, reduction, dtype):
    check(lambda x: F.multilabel_margin_loss(x, at.tensor(target), reduction=reduction),
          lambda x: TF.multilabel_margin_loss(x, torch.tensor(target), reduction=reduction),
          [rng.standard_normal(shape) * 0.7], dtype)
    ours = nn.MultiLabelMarginLoss(reduction=reduction)
    theirs = torch.nn.MultiLabelMarginLoss(reduction=reduction)
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal(shape).astype(dtype)
    np.testing.assert_allclose(ours(at.tensor(x), at.tensor(target)).data,
                               theirs(torch.tensor(x), torch.tensor(target)).numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("target", [np.array([[0, 5, -1]]), np.array([[0, 1]]),
                                    np.array([[0.0, 1.0, 2.0]])])
def test_multilabel_margin_loss_errors_like_torch(target):
    x = np.zeros((1, 3))
    with pytest.raises(RuntimeError):
        TF.multilabel_margin_loss(torch.tensor(x), torch.tensor(target))
    with pytest.raises(RuntimeError):
        F.multilabel_margin_loss(at.tensor(x), at.tensor(target))
