"""lgamma, digamma, polygamma and erfinv (distributions/_special.py) against PyTorch:
values, first and second derivatives, and the series used where SciPy is missing."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch.distributions import _special

POSITIVE = np.array([1e-3, 0.1, 0.5, 1.0, 1.5, 2.0, 3.7, 11.9, 12.0, 40.0, 300.0])
REALS = np.concatenate([POSITIVE, [-0.5, -2.5, -7.3, 0.0]])
UNIT = np.array([-0.999, -0.9, -0.3, 0.0, 0.2, 0.7, 0.99, 0.9999])

FUNCTIONS = {
    "lgamma": (lambda lib, x: lib.lgamma(x) if lib is torch else _special.lgamma(x), REALS),
    "digamma": (lambda lib, x: lib.digamma(x) if lib is torch else _special.digamma(x),
                REALS[REALS != 0]),
    "polygamma 1": (lambda lib, x: lib.polygamma(1, x) if lib is torch
                    else _special.polygamma(1, x), POSITIVE),
    "polygamma 2": (lambda lib, x: lib.polygamma(2, x) if lib is torch
                    else _special.polygamma(2, x), POSITIVE),
    "erfinv": (lambda lib, x: lib.erfinv(x) if lib is torch else _special.erfinv(x), UNIT),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_and_gradients(name, dtype):
    function, points = FUNCTIONS[name]
    results = []
    for lib in (at, torch):
        x = lib.tensor(points.astype(dtype), requires_grad=True)
        y = function(lib, x)
        (dx,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (ddx,) = lib.autograd.grad(dx.sum(), x)
        results.append((y.detach().numpy(), dx.detach().numpy(), ddx.numpy()))
    # PyTorch's trigamma (used in the derivative of digamma) is good to ~1e-9 relative
    rtol = 1e-5 if dtype == "float32" else 1e-8
    for ours, theirs in zip(*results):
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-6 * rtol)


def test_special_values_at_poles():
    x = at.tensor([0.0, -1.0, -2.0])
    expected = torch.digamma(torch.tensor([0.0, -1.0, -2.0])).numpy()
    np.testing.assert_array_equal(_special.digamma(x).numpy(), expected)
    np.testing.assert_array_equal(_special.lgamma(x).numpy(),
                                  torch.lgamma(torch.tensor([0.0, -1.0, -2.0])).numpy())
    np.testing.assert_array_equal(_special.erfinv(at.tensor([1.0, -1.0, 2.0])).numpy(),
                                  torch.erfinv(torch.tensor([1.0, -1.0, 2.0])).numpy())


def test_series_without_scipy_agree_with_scipy(monkeypatch):
    special = pytest.importorskip("scipy.special")
    np.testing.assert_allclose(_special.digamma_series(REALS[REALS != 0]),
                               special.digamma(REALS[REALS != 0]), rtol=1e-13)
    for n in (1, 2, 3):
        np.testing.assert_allclose(_special.polygamma_series(n, POSITIVE),
                                   special.polygamma(n, POSITIVE), rtol=1e-13)
    np.testing.assert_allclose(_special.erfinv_newton(UNIT), special.erfinv(UNIT),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_special.lgamma_series(REALS[REALS != 0]),
                               special.gammaln(REALS[REALS != 0]), rtol=1e-13)
    monkeypatch.setattr(_special, "_scipy_special", lambda: None)
    np.testing.assert_allclose(_special.digamma(at.tensor(POSITIVE)).numpy(),
                               special.digamma(POSITIVE), rtol=1e-13)


def test_integer_inputs_give_floats():
    assert _special.lgamma(at.tensor([1, 2, 3])).dtype == at.float32
    with pytest.raises(ValueError, match="polygamma"):
        _special.polygamma(-1, at.tensor([1.0]))


def test_xlogy_matches_torch_at_zeros_and_nan():
    from abdou_torch.distributions._math import xlogy
    x = np.array([0.0, 0.0, 1.0, 2.0, 0.0, 0.0])
    z = np.array([2.0, 0.0, 0.0, 3.0, float("nan"), -1.0])
    results = []
    for lib, function in ((at, xlogy), (torch, torch.xlogy)):
        a = lib.tensor(x, requires_grad=True)
        b = lib.tensor(z, requires_grad=True)
        out = function(a, b)
        out.sum().backward()
        results.append([out.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)
