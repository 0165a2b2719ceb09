"""Norms against PyTorch: torch.norm's and linalg.norm's choice of norm over a grid of ord,
dim and keepdim; gradients at zero and at ties; dtype; errors; what create_graph cannot do."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

INF = float("inf")
rng = np.random.default_rng(0)
X3 = rng.standard_normal((2, 3, 4))


def _compare(ours_call, theirs_call, data, rtol=1e-10):
    x, xt = at.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ours, theirs = ours_call(x), theirs_call(xt)
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol,
                               atol=1e-12)
    weights = rng.standard_normal(ours.shape)
    (ours * at.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    if xt.grad is None:  # ord 0, a count: PyTorch leaves no gradient, we give zeros
        assert x.grad is None or not x.grad.numpy().any()
        return
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=1e-12)


TORCH_NORM = [dict(p=p, dim=dim, keepdim=keepdim) for p, dim, keepdim in itertools.product(
    ["fro", 2, 1, 3, 0.5, INF, -INF, None], [None, 1, (0, 2), -1], [False, True])]


@pytest.mark.parametrize("kwargs", TORCH_NORM, ids=str)
def test_torch_norm_and_the_method_like_torch(kwargs):
    _compare(lambda x: at.norm(x, **kwargs), lambda x: torch.norm(x, **kwargs), X3)
    _compare(lambda x: x.norm(**kwargs), lambda x: x.norm(**kwargs), X3)


LINALG_NORM = [dict(ord=o, dim=d, keepdim=k) for o, d, k in itertools.product(
    [None, "fro", "nuc", 1, -1, 2, -2, INF, -INF], [(0, 2), (2, 1)], [False, True])] + \
    [dict(ord=o, dim=d) for o, d in itertools.product([None, 0, 1, 3, -1.5, INF], [1, (2,)])]


@pytest.mark.parametrize("kwargs", LINALG_NORM, ids=str)
def test_linalg_norm_like_torch(kwargs):
    _compare(lambda x: at.linalg.norm(x, **kwargs), lambda x: torch.linalg.norm(x, **kwargs),
             X3, rtol=1e-9)


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, INF, -INF])
def test_linalg_norm_of_a_matrix_without_dim(ord):
    _compare(lambda x: at.linalg.norm(x, ord), lambda x: torch.linalg.norm(x, ord), X3[0],
             rtol=1e-9)


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, INF])
def test_matrix_norm_defaults_and_batches(ord):
    _compare(lambda x: at.linalg.matrix_norm(x, ord), lambda x: torch.linalg.matrix_norm(x, ord),
             X3, rtol=1e-9)


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, 1.5, INF, -INF, 0])
def test_gradient_where_the_norm_or_elements_are_zero_like_torch(ord):
    data = np.array([[0.0, 0.0, 0.0], [0.0, 1.5, -2.0], [3.0, 0.0, 0.0]])
    _compare(lambda x: at.linalg.vector_norm(x, ord, dim=1),
             lambda x: torch.linalg.vector_norm(x, ord, dim=1), data)


@pytest.mark.parametrize("ord", [INF, -INF])
def test_tied_extremes_share_the_gradient_like_torch(ord):
    data = np.array([[2.0, -2.0, 1.0], [0.5, 3.0, -0.5]])
    _compare(lambda x: at.linalg.vector_norm(x, ord, dim=1),
             lambda x: torch.linalg.vector_norm(x, ord, dim=1), data)
    _compare(lambda x: at.linalg.matrix_norm(x, ord), lambda x: torch.linalg.matrix_norm(x, ord),
             np.array([[1.0, -2.0], [2.0, 1.0]]))


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_second_derivatives_of_vector_norms_like_torch():
    # on a row of zeros the 2-norm's second derivative is NaN in PyTorch and 0 here (the
    # subgradient); everything else agrees, NaN where both are undefined (1 < ord < 2)
    data = np.array([[0.0, 0.0, 0.0], [0.3, 1.5, -2.0]])
    for ord in (2, 1.5, 3, INF):
        results = []
        for lib in (at, torch):
            x = lib.tensor(data, requires_grad=True)
            (g,) = lib.autograd.grad(lib.linalg.vector_norm(x, ord, dim=1).sum(), [x],
                                     create_graph=True)
            projection = (g * lib.tensor(X3[0, :2, :3])).sum()
            if not projection.requires_grad:  # the inf norm's gradient is constant here
                results.append(np.zeros(data.shape))
                continue
            (h,) = lib.autograd.grad(projection, [x], allow_unused=True)
            results.append(np.zeros(data.shape) if h is None else
                           h.numpy(force=True) if lib is torch else h.numpy())
        ours, theirs = results
        if ord == 2:
            assert np.all(ours[0] == 0) and np.all(np.isnan(theirs[0]))
            ours, theirs = ours[1:], theirs[1:]
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_dtype_argument_and_result_dtypes():
    x = at.tensor(X3.astype(np.float32))
    assert at.linalg.vector_norm(x, dtype=at.float64).dtype == np.float64
    assert at.norm(x, 3, 1, True, dtype=at.float64).dtype == np.float64
    assert at.linalg.norm(x).dtype == np.float32
    assert at.linalg.vector_norm(at.zeros(0)).item() == 0.0


def test_singular_value_norms_refuse_create_graph():
    x = at.tensor(X3[0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="second derivatives"):
        at.autograd.grad(at.linalg.matrix_norm(x, "nuc"), [x], create_graph=True)
    np.testing.assert_allclose(at.linalg.svdvals(x).detach().numpy(),
                               torch.linalg.svdvals(torch.tensor(X3[0])).numpy(), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib: lib.norm(lib.tensor([1, 2])),
    lambda lib: lib.linalg.vector_norm(lib.tensor([1, 2])),
    lambda lib: lib.linalg.vector_norm(lib.ones(2, 3), ord="fro"),
    lambda lib: lib.linalg.vector_norm(lib.zeros(0), ord=INF),
    lambda lib: lib.linalg.vector_norm(lib.ones(2, 3), dim=2),
    lambda lib: lib.norm(lib.ones(2, 3), p="nuc", dim=1),
    lambda lib: lib.norm(lib.ones(2, 3, 4), p="nuc"),
    lambda lib: lib.linalg.norm(lib.ones(2, 3), ord=3),
    lambda lib: lib.linalg.norm(lib.ones(2, 3), ord="fro", dim=1),
    lambda lib: lib.linalg.norm(lib.ones(2, 3, 4), ord=1),
    lambda lib: lib.linalg.norm(lib.ones(2, 3), dim=(0, 1, 2)),
    lambda lib: lib.linalg.matrix_norm(lib.ones(3)),
    lambda lib: lib.linalg.matrix_norm(lib.ones(2, 3), dim=(1, 1)),
    lambda lib: lib.linalg.matrix_norm(lib.ones(2, 3), dim=(0,)),
    lambda lib: lib.linalg.matrix_norm(lib.ones(2, 3), ord=3),
])
def test_errors_like_torch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(at)
    assert "norm" in str(ours.value) or "dim" in str(ours.value) or "ord" in str(ours.value)


@pytest.mark.parametrize("ord", [1, math.inf, -math.inf, 2, 3])
def test_vector_norm_gradient_at_a_nan_like_torch(ord):
    """sign(NaN) is 0 in PyTorch: the 1- and inf-norms give a NaN element no gradient."""
    x = np.array([[np.nan, 1.0, -2.0, 0.0], [0.5, -0.5, 3.0, 1.0]])
    grads = []
    for lib in (at, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.linalg.vector_norm(xt, ord, dim=1)
        grads.append(lib.autograd.grad(y, xt, lib.tensor([0.0, 1.0], dtype=lib.float64))[0]
                     .numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_sign_of_nan_is_zero_like_torch():
    x = np.array([np.nan, -0.0, 2.0, -3.0])
    np.testing.assert_array_equal(at.sign(at.tensor(x)).numpy(), torch.sign(torch.tensor(x)))
