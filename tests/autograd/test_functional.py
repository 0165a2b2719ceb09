"""torch.autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

RNG = np.random.default_rng(5)
X, Y, V = RNG.standard_normal(3), RNG.standard_normal((2, 2)), RNG.standard_normal(3)


def _single(lib, x):
    return lib.tanh(x) * x.sum() + x ** 3


def _pair(lib, x, y):
    return (x.exp() * y.sum(), (y * y).sum(1))


def _scalar(lib, x):
    return (x.sin() * x).sum() + x.prod()


def _scalar_pair(lib, x, y):
    return (x.cos() * x).sum() * y.sum() + (y ** 3).sum()


def _both(name, fn, arrays, **kwargs):
    results = []
    for lib in (at, torch):
        functional = lib.autograd.functional
        tensors = [lib.tensor(a) for a in arrays]
        inputs = tensors[0] if len(tensors) == 1 else tuple(tensors)
        extra = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else
                     tuple(lib.tensor(w) for w in v) if isinstance(v, tuple) else v)
                 for k, v in kwargs.items()}
        results.append(getattr(functional, name)(lambda *xs, lib=lib: fn(lib, *xs), inputs,
                                                    **extra))
    return results


def _compare(ours, theirs):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _compare(a, b)
        return
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10,
                               atol=1e-12)


def test_jacobian():
    _compare(*_both("jacobian", _single, [X]))
    _compare(*_both("jacobian", _pair, [X, Y]))
    _compare(*_both("jacobian", lambda lib, x: (x * 2, x.sum()), [X]))
    _compare(*_both("jacobian", _single, [X], vectorize=True))


def test_hessian():
    _compare(*_both("hessian", _scalar, [X]))
    _compare(*_both("hessian", _scalar_pair, [X, Y]))
    _compare(*_both("hessian", _scalar, [Y]))


def test_vector_products():
    _compare(*_both("vjp", _single, [X], v=V))
    _compare(*_both("vjp", _pair, [X, Y], v=(RNG.standard_normal((3,)),
                                              RNG.standard_normal(2))))
    _compare(*_both("jvp", _single, [X], v=V))
    _compare(*_both("jvp", _pair, [X, Y], v=(V, RNG.standard_normal((2, 2)))))
    _compare(*_both("vhp", _scalar, [X], v=V))
    _compare(*_both("hvp", _scalar, [X], v=V))
    _compare(*_both("hvp", _scalar_pair, [X, Y], v=(V, RNG.standard_normal((2, 2)))))
    _compare(*_both("vjp", _scalar, [X]))


def test_create_graph_keeps_the_graph_to_the_inputs():
    values = []
    for lib in (at, torch):
        x = lib.tensor(X, requires_grad=True)
        h = lib.autograd.functional.hessian(lambda t: (t ** 4).sum(), x, create_graph=True)
        assert h.requires_grad
        (third,) = lib.autograd.grad(h.sum(), x)
        values.append(third.numpy())
        jac = lib.autograd.functional.jacobian(lambda t: t.sin(), x)
        assert not jac.requires_grad
    np.testing.assert_allclose(*values, rtol=1e-12)


def test_unused_inputs_and_strict():
    def ours(x, y):
        return x * 2

    jac = at.autograd.functional.jacobian(ours, (at.tensor(X), at.tensor(X)))
    expected = torch.autograd.functional.jacobian(lambda x, y: x * 2,
                                                  (torch.tensor(X), torch.tensor(X)))
    _compare(jac, expected)
    with pytest.raises(RuntimeError):
        at.autograd.functional.jacobian(ours, (at.tensor(X), at.tensor(X)), strict=True)
    with pytest.raises(RuntimeError):
        at.autograd.functional.vjp(lambda x: x * 2, at.tensor(X))  # v needed
    with pytest.raises(RuntimeError):
        at.autograd.functional.hessian(lambda x: x * 2, at.tensor(X))  # not a scalar
    with pytest.raises(TypeError):
        at.autograd.functional.jacobian(lambda x: x, [1.0, 2.0])
