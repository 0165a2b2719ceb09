"""Shared helpers for the nn tests: run one computation in abdou_torch and in PyTorch on the
same arrays and compare the outputs and the gradients."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402

TOLERANCES = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def as_pair(array, requires_grad=True):
    """The same values as an abdou_torch tensor and a torch tensor (separate memory)."""
    array = np.asarray(array)
    grad = requires_grad and array.dtype.kind == "f"
    return (at.Tensor(array.copy(), requires_grad=grad),
            torch.tensor(array.copy(), requires_grad=grad))


def compare(ours, theirs, arrays, dtype=np.float64, tol=None, seed=0):
    """Call ``ours`` and ``theirs`` on the same float ``arrays`` (cast to ``dtype``; integer
    arrays pass unchanged); compare the outputs and the gradients of sum(output * r)."""
    arrays = [a.astype(dtype) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
              for a in arrays]
    pairs = [as_pair(a) for a in arrays]
    out = ours(*[p[0] for p in pairs])
    expected = theirs(*[p[1] for p in pairs])
    tol = tol or TOLERANCES[dtype]
    assert tuple(out.shape) == tuple(expected.shape)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
    weights = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    (out * at.Tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for (mine, reference), array in zip(pairs, arrays):
        if array.dtype.kind != "f":
            continue
        if reference.grad is None:
            assert mine.grad is None or not np.any(mine.grad.data)
            continue
        assert mine.grad is not None
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), **tol)
    return out, expected


@pytest.fixture
def check():
    return compare
