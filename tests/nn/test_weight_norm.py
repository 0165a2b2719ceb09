"""nn.utils.weight_norm / remove_weight_norm against PyTorch: the g and v parameters and
their state-dict keys, forward values, gradients of g and v, and the weight restored."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402
import abdou_torch.nn as nn  # noqa: E402

rng = np.random.default_rng(0)


def _pair(kind):
    if kind == "linear":
        return nn.Linear(4, 3).double(), torch.nn.Linear(4, 3).double(), (5, 4)
    return nn.Conv2d(2, 3, 3).double(), torch.nn.Conv2d(2, 3, 3).double(), (2, 2, 5, 5)


@pytest.mark.parametrize("kind", ["linear", "conv"])
@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_matches_torch(kind, dim):
    ours, theirs, shape = _pair(kind)
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nn.utils.weight_norm(ours, dim=dim)
        torch.nn.utils.weight_norm(theirs, dim=dim)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].data, value.numpy(), rtol=1e-12)
    x = rng.standard_normal(shape)
    for _ in range(2):  # the weight is recomputed at each call
        out, expected = ours(at.tensor(x)), theirs(torch.tensor(x))
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        (out ** 2).sum().backward()
        (expected ** 2).sum().backward()
    for name in ("weight_g", "weight_v", "bias"):
        np.testing.assert_allclose(getattr(ours, name).grad.data,
                                   getattr(theirs, name).grad.numpy(), rtol=1e-9, atol=1e-12)
    with torch.no_grad():
        theirs.weight_g.mul_(2)
    ours.weight_g.data *= 2
    nn.utils.remove_weight_norm(ours)
    torch.nn.utils.remove_weight_norm(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.weight, nn.Parameter)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="not found"):
        nn.utils.remove_weight_norm(ours)


def test_weight_norm_warns_and_refuses_twice():
    layer = nn.Linear(2, 2)
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(layer)
    with pytest.raises(RuntimeError, match="two weight_norm"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nn.utils.weight_norm(layer)
