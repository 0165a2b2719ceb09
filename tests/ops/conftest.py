"""Fixtures for the convolution tests: ``compare_with_torch`` runs one function in both
libraries on the same arrays and compares outputs and gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

TOLERANCES = {np.float64: dict(rtol=1e-9, atol=1e-10), np.float32: dict(rtol=1e-4, atol=1e-4)}


def compare_with_torch(ours, theirs, arrays, dtype=np.float64, grad_of=None, seed=0):
    """Call ``ours`` on abdou_torch tensors and ``theirs`` on torch tensors made from the same
    ``arrays``; compare the outputs, then the gradients of sum(output * r) for a random r."""
    arrays = [a.astype(dtype) for a in arrays]
    grad_of = range(len(arrays)) if grad_of is None else grad_of
    ours_in = [at.Tensor(a.copy(), requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    theirs_in = [torch.tensor(a.copy(), requires_grad=i in grad_of)
                 for i, a in enumerate(arrays)]
    out, expected = ours(*ours_in), theirs(*theirs_in)
    tol = TOLERANCES[dtype]
    assert out.shape == tuple(expected.shape), (out.shape, expected.shape)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
    weights = np.random.default_rng(seed).standard_normal(out.shape).astype(dtype)
    (out * at.Tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for i in grad_of:
        assert ours_in[i].grad is not None, f"no gradient for input {i}"
        np.testing.assert_allclose(ours_in[i].grad.data, theirs_in[i].grad.numpy(), **tol,
                                   err_msg=f"gradient of input {i}")
    return out


@pytest.fixture(name="compare_with_torch")
def compare_with_torch_fixture():
    return compare_with_torch


def second_derivative_check(func, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=1):
    """Check d/d(inputs) of <grad of <func(inputs), w>, v> (a create_graph backward) against
    central differences of the first gradient, recomputed with autograd at each point."""
    rng = np.random.default_rng(seed)
    weights = at.Tensor(rng.standard_normal(func(*inputs).shape))

    def first_gradient():
        loss = (func(*inputs) * weights).sum()
        return at.autograd.grad(loss, inputs, create_graph=True, allow_unused=True)

    grads = first_gradient()
    directions = [rng.standard_normal(x.shape) for x in inputs]

    def contract(gradients):
        return sum((g * at.Tensor(d)).sum() for g, d in zip(gradients, directions)
                   if g is not None)

    analytic = at.autograd.grad(contract(grads), inputs, allow_unused=True)
    for position, x in enumerate(inputs):
        estimate = np.zeros(x.shape)
        for index in np.ndindex(x.shape):
            original = x.data[index]
            x.data[index] = original + eps
            upper = float(contract(first_gradient()).item())
            x.data[index] = original - eps
            lower = float(contract(first_gradient()).item())
            x.data[index] = original
            estimate[index] = (upper - lower) / (2 * eps)
        exact = np.zeros(x.shape) if analytic[position] is None else analytic[position].data
        np.testing.assert_allclose(exact, estimate, atol=atol, rtol=rtol,
                                   err_msg=f"second derivative for input {position}")
    return True


@pytest.fixture(name="second_derivative_check")
def second_derivative_check_fixture():
    return second_derivative_check


def _load_sibling(name: str):
    """A helper module of this folder (test files are not importable by name under
    --import-mode=importlib)."""
    import importlib.util
    import pathlib
    import sys
    path = pathlib.Path(__file__).parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"ops_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(name="check")
def check_fixture():
    """``check(fn, *arrays, ...)`` of tests/ops/torch_compare.py: values, dtypes, first and
    second derivatives of fn(lib, *tensors) in abdou_torch and PyTorch."""
    return _load_sibling("torch_compare").check
