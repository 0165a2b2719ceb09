"""cholesky and solve_triangular (distributions/_linalg.py) against torch.linalg: values,
gradients and second derivatives, with broadcast batch dims."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch.distributions._linalg import cholesky, solve_triangular

R = np.random.default_rng(0)
_M = R.normal(size=(2, 3, 3))
SPD = _M @ _M.transpose(0, 2, 1) + np.eye(3)
RHS = R.normal(size=(4, 2, 3, 2))
WEIGHT = R.normal(size=(2, 3, 3))


def _run(lib, chol, solve, dtype):
    a = lib.tensor(SPD.astype(dtype), requires_grad=True)
    b = lib.tensor(RHS.astype(dtype), requires_grad=True)
    lower = chol(a)
    x = solve(lower, b, False)
    y = solve(lower.mT, b, True)
    loss = (lower * lib.tensor(WEIGHT.astype(dtype))).sum() + (x ** 2).sum() + (y * x).sum()
    grad_a, grad_b = lib.autograd.grad(loss, (a, b), create_graph=True)
    (second,) = lib.autograd.grad((grad_a ** 2).sum() + (grad_b ** 3).sum(), (a,))
    return [v.detach().numpy() for v in (lower, x, y, grad_a, grad_b, second)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_against_torch_linalg(dtype):
    ours = _run(at, cholesky, lambda a, b, upper: solve_triangular(a, b, upper=upper), dtype)
    theirs = _run(torch, torch.linalg.cholesky,
                  lambda a, b, upper: torch.linalg.solve_triangular(a, b, upper=upper), dtype)
    rtol = 2e-3 if dtype == "float32" else 1e-9
    for a, b in zip(ours, theirs):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2 * np.abs(b).max())


def test_solve_triangular_reads_one_triangle_only():
    a = np.array([[2.0, 99.0], [1.0, 4.0]])
    x = solve_triangular(at.tensor(a), at.tensor([[2.0], [9.0]]), upper=False)
    np.testing.assert_allclose(x.numpy(), [[1.0], [2.0]])


def test_errors():
    with pytest.raises(ValueError, match="not positive-definite"):
        cholesky(at.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="must be square"):
        solve_triangular(at.ones(2, 3), at.ones(2, 1), upper=False)
