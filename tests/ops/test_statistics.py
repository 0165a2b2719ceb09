"""ops/statistics.py against PyTorch: values, indices among ties, dtypes, gradients."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

RNG = np.random.default_rng(1)
X = RNG.standard_normal((4, 7))
TIES = RNG.integers(0, 3, (6, 9)).astype(np.float64)
TIES_3D = RNG.integers(0, 4, (3, 5, 11)).astype(np.float64)


@pytest.mark.parametrize("values", [X, TIES, TIES_3D], ids=["distinct", "ties", "ties3d"])
def test_median_mode_kthvalue_pick_torchs_index(check, values):
    for dim in range(values.ndim):
        check(lambda lib, x, dim=dim: tuple(lib.median(x, dim)), values, grad2=False)
        check(lambda lib, x, dim=dim: tuple(x.median(dim, keepdim=True)), values, grad2=False)
        check(lambda lib, x, dim=dim: tuple(lib.nanmedian(x, dim)), values, grad2=False)
        check(lambda lib, x, dim=dim: tuple(lib.mode(x, dim)), values, grad2=False)
        for k in (1, 2, values.shape[dim] // 2 + 1, values.shape[dim]):
            check(lambda lib, x, dim=dim, k=k: tuple(lib.kthvalue(x, k, dim)), values, grad2=False)
    check(lambda lib, x: lib.median(x), values, grad2=False)
    check(lambda lib, x: x.nanmedian(), values, grad2=False)


def test_order_statistics_with_nan_and_integers(check):
    x = TIES.copy()
    x[1, 3] = x[1, 5] = x[4, 0] = np.nan
    for dim in (0, 1):
        check(lambda lib, t, dim=dim: tuple(lib.median(t, dim)), x, grad2=False)
        check(lambda lib, t, dim=dim: tuple(lib.nanmedian(t, dim)), x, grad2=False)
        check(lambda lib, t, dim=dim: tuple(lib.kthvalue(t, 3, dim)), x, grad2=False)
    check(lambda lib, t: lib.median(t), x, grad2=False)
    check(lambda lib, t: lib.nanmedian(t), x, grad2=False)
    ints = TIES.astype(np.int64)
    check(lambda lib, t: tuple(lib.median(t, 1)), ints, grad=False)
    check(lambda lib, t: tuple(lib.mode(t, 0)), ints, grad=False)
    check(lambda lib, t: tuple(lib.kthvalue(t, 4, 1)), ints, grad=False)
    check(lambda lib, t: lib.median(t), ints, grad=False)
    check(lambda lib, t: tuple(lib.median(t, 0)), np.array(2.5))
    with pytest.raises(RuntimeError):
        at.kthvalue(at.tensor(X), 8, 1)
    with pytest.raises(IndexError):
        at.median(at.tensor(X), 2)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint",
                                           "nearest"])
def test_quantile(check, interpolation):
    for values in (X, X[:3, :4] * 2 + 1):
        for q in (0.3, [0.0, 0.25, 0.5, 1.0]):
            kwargs = dict(interpolation=interpolation)

            def quantile(lib, x, q=q, kwargs=kwargs):
                qs = lib.tensor(q, dtype=x.dtype) if isinstance(q, list) else q
                return (lib.quantile(x, qs, **kwargs), lib.quantile(x, qs, 1, **kwargs),
                        x.quantile(qs, dim=0, keepdim=True, **kwargs))
            check(quantile, values)
    # among equal values PyTorch's unstable sort decides which element the gradient reaches
    # (abdou_torch's sort is stable): values agree, gradients are compared without ties
    check(lambda lib, t: lib.quantile(t, 0.35), TIES, grad=False)
    x = X.copy()
    x[0, 2] = np.nan
    check(lambda lib, t: (lib.quantile(t, 0.4, 1), lib.nanquantile(t, 0.4, 1),
                          lib.nanquantile(t, 0.7)), x, grad2=False)
    with pytest.raises(RuntimeError):
        at.quantile(at.tensor(X), 1.5)
    with pytest.raises(RuntimeError):
        at.quantile(at.tensor([1, 2]), 0.5)


def test_running_extremes_and_logcumsumexp(check):
    for values in (X, TIES, TIES_3D):
        for dim in range(values.ndim):
            check(lambda lib, x, dim=dim: tuple(lib.cummax(x, dim)), values)
            check(lambda lib, x, dim=dim: tuple(x.cummin(dim)), values)
    nan = TIES.copy()
    nan[2, 3] = nan[2, 6] = np.nan
    check(lambda lib, x: (*lib.cummax(x, 1), *lib.cummin(x, 1)), nan, grad2=False)
    check(lambda lib, x: tuple(lib.cummax(x, 0)), np.array([[3, 1], [2, 5]]), grad=False)
    check(lambda lib, x: lib.logcumsumexp(x, 1), X)
    check(lambda lib, x: x.logcumsumexp(0), X * 300)
    check(lambda lib, x: lib.logcumsumexp(x, -1), TIES_3D, dtype="float32")


def test_diff(check):
    check(lambda lib, x: lib.diff(x), X)
    check(lambda lib, x: lib.diff(x, n=2, dim=0), X)
    check(lambda lib, x, p, a: lib.diff(x, 1, 1, p, a), X, X[:, :2], X[:, :1])
    check(lambda lib, x: x.diff(n=3), X)
    check(lambda lib, x: lib.diff(x), np.array([[1, 4, 2]]), grad=False)
    check(lambda lib, x: lib.diff(x), np.array([True, False, False, True]), grad=False)
    with pytest.raises(RuntimeError):
        at.diff(at.tensor(1.0))


def test_cov_corrcoef(check):
    check(lambda lib, x: lib.cov(x), X)
    check(lambda lib, x: lib.cov(x, correction=0), X)
    check(lambda lib, x: x.cov(), X[0])
    check(lambda lib, x: lib.corrcoef(x), X)
    fweights, aweights = np.array([1, 2, 1, 3, 1, 1, 2]), RNG.uniform(0.5, 2, 7)
    check(lambda lib, x, a: lib.cov(x, fweights=lib.tensor(fweights), aweights=a), X,
          aweights)
    check(lambda lib, x, a: lib.cov(x, correction=0, aweights=a), X, aweights)
    check(lambda lib, x: lib.cov(x), np.array([[1, 2, 4], [3, 1, 0]]))


def test_summaries(check):
    check(lambda lib, x: lib.std_mean(x), X)
    check(lambda lib, x: lib.var_mean(x, 1, keepdim=True), X)
    check(lambda lib, x: lib.var_mean(x, dim=0, correction=0), X)
    check(lambda lib, x: tuple(lib.aminmax(x)), X)
    check(lambda lib, x: tuple(x.aminmax(dim=1, keepdim=True)), TIES, grad2=False)
    result = at.aminmax(at.tensor(X), dim=0)
    np.testing.assert_array_equal(result.min.numpy(), X.min(0))
    np.testing.assert_array_equal(result.max.numpy(), X.max(0))


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf"), 0.5])
def test_cdist_dist(check, p):
    a, b = RNG.standard_normal((5, 3)), RNG.standard_normal((4, 3))
    # PyTorch has no second derivative of cdist (_cdist_backward is not differentiable)
    check(lambda lib, x, y, p=p: lib.cdist(x, y, p=p), a, b, grad2=False)
    check(lambda lib, x, y, p=p: lib.cdist(x, y, p=p), RNG.standard_normal((2, 5, 3)), b,
          grad2=False)
    check(lambda lib, x, y, p=p: lib.dist(x, y, p), a, b[0], grad2=False)
    check(lambda lib, x, y, p=p: x.dist(y, p=p), a, b[:1], grad2=False)


def test_cdist_at_zero_distance(check):
    a = RNG.standard_normal((3, 2))
    for p in (2.0, 1.0, 3.0):
        check(lambda lib, x, y, p=p: lib.cdist(x, y, p=p), a, a.copy(), grad2=False)


def test_renorm(check):
    values = X * 3
    check(lambda lib, x: lib.renorm(x, 2, 0, 2.5), values)
    check(lambda lib, x: x.renorm(1, 1, 3.0), values)
    ours, theirs = at.tensor(values.copy()), torch.tensor(values.copy())
    ours.renorm_(2, 0, 2.5)
    theirs.renorm_(2, 0, 2.5)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
