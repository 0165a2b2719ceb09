"""Seeded draws equal PyTorch's where the draw path is the same (torch.normal, randn,
rand, multinomial, bernoulli), and rsample is differentiable in the parameters."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

DRAWS = {
    "Normal sample": lambda lib, d: d.Normal(lib.tensor([0.0, 1.0, -2.0]),
                                             lib.tensor([1.0, 0.5, 3.0])).sample((4,)),
    "Normal rsample": lambda lib, d: d.Normal(lib.tensor([[0.0], [1.0]]),
                                              lib.tensor([1.0, 0.5, 3.0])).rsample((2,)),
    "Normal floats": lambda lib, d: d.Normal(0.0, 1.0).sample((5, 2)),
    "Categorical probs": lambda lib, d: d.Categorical(lib.tensor([0.2, 0.3, 0.5])).sample(),
    "Categorical batched": lambda lib, d: d.Categorical(
        logits=lib.tensor([[0.0, 1.0, 2.0], [2.0, 0.0, -1.0]])).sample((6,)),
    "Categorical many": lambda lib, d: d.Categorical(lib.tensor([0.1, 0.6, 0.3])).sample(
        (50,)),
    "Bernoulli": lambda lib, d: d.Bernoulli(lib.tensor([0.1, 0.5, 0.9])).sample((3,)),
    "Uniform": lambda lib, d: d.Uniform(lib.tensor([0.0, -1.0]), 2.0).sample((3,)),
    "Independent Normal": lambda lib, d: d.Independent(
        d.Normal(lib.zeros(2, 3), lib.ones(2, 3)), 1).rsample((2,)),
    "Exponential": lambda lib, d: d.Exponential(lib.tensor([0.5, 2.0])).rsample((3,)),
    "Laplace": lambda lib, d: d.Laplace(lib.tensor([0.0, 1.0]), 2.0).rsample((3,)),
    "Poisson": lambda lib, d: d.Poisson(lib.tensor([0.5, 4.0, 30.0])).sample((3,)),
    "LogNormal": lambda lib, d: d.LogNormal(lib.tensor([0.0, 1.0]), 0.5).sample((3,)),
    "OneHotCategorical": lambda lib, d: d.OneHotCategorical(
        lib.tensor([[0.2, 0.8], [0.6, 0.4]])).sample((4,)),
    "MultivariateNormal": lambda lib, d: d.MultivariateNormal(
        lib.tensor([1.0, -1.0]), lib.tensor([[2.0, 0.3], [0.3, 0.5]])).rsample((3,)),
    "Gumbel": lambda lib, d: d.Gumbel(lib.tensor([0.0, 1.0]), 2.0).sample((3,)),
    "Geometric": lambda lib, d: d.Geometric(lib.tensor([0.2, 0.7])).sample((4,)),
    "HalfNormal": lambda lib, d: d.HalfNormal(lib.tensor([1.0, 2.0])).rsample((3,)),
    "Multinomial": lambda lib, d: d.Multinomial(
        10, lib.tensor([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])).sample((2,)),
    "Cauchy": lambda lib, d: d.Cauchy(lib.tensor([0.0, 1.0]), 1.5).rsample((3,)),
    "Cauchy float64": lambda lib, d: d.Cauchy(lib.tensor([0.0, 1.0], dtype=lib.float64),
                                              1.5).sample((3,)),
    "MixtureSameFamily": lambda lib, d: d.MixtureSameFamily(
        d.Categorical(lib.tensor([0.3, 0.7])),
        d.Normal(lib.tensor([-2.0, 2.0]), lib.tensor([0.5, 1.0]))).sample((5,)),
    "MixtureSameFamily vectors": lambda lib, d: d.MixtureSameFamily(
        d.Categorical(lib.tensor([0.3, 0.7])),
        d.Independent(d.Normal(lib.zeros(2, 3), lib.ones(2, 3)), 1)).sample((2,)),
    "Pareto": lambda lib, d: d.Pareto(lib.tensor([1.0, 2.0]), 3.0).rsample((3,)),
    "Weibull": lambda lib, d: d.Weibull(lib.tensor([1.0, 2.0]), 1.5).rsample((3,)),
    "HalfCauchy": lambda lib, d: d.HalfCauchy(lib.tensor([1.0, 2.0])).rsample((3,)),
    "RelaxedBernoulli": lambda lib, d: d.RelaxedBernoulli(
        lib.tensor(0.5), lib.tensor([0.2, 0.7])).rsample((3,)),
    "RelaxedOneHotCategorical": lambda lib, d: d.RelaxedOneHotCategorical(
        lib.tensor(0.3), logits=lib.tensor([[0.0, 1.0, -1.0], [2.0, 0.0, 0.0]])).rsample((2,)),
    "MultivariateNormal float64": lambda lib, d: d.MultivariateNormal(
        lib.zeros(2, 3, dtype=lib.float64),
        scale_tril=lib.eye(3, dtype=lib.float64) * 2).sample((2,)),
}


@pytest.mark.parametrize("name", list(DRAWS))
@pytest.mark.parametrize("seed", [0, 7])
def test_seeded_draws_equal_pytorch(name, seed):
    at.manual_seed(seed)
    ours = DRAWS[name](at, at.distributions)
    torch.manual_seed(seed)
    theirs = DRAWS[name](torch, torch.distributions)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-6)


def test_rsample_gradients_equal_pytorch():
    grads = []
    for lib in (at, torch):
        lib.manual_seed(3)
        loc = lib.tensor([0.5, -1.0], requires_grad=True)
        scale = lib.tensor([1.5, 0.3], requires_grad=True)
        x = lib.distributions.Normal(loc, scale).rsample((5,))
        (x ** 2).sum().backward()
        grads.append((loc.grad.numpy(), scale.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_sample_is_outside_the_graph():
    loc = at.tensor([0.0, 1.0], requires_grad=True)
    dist = at.distributions.Normal(loc, 1.0)
    assert dist.sample().requires_grad is False
    assert dist.rsample().requires_grad is True


def test_categorical_frequencies():
    at.manual_seed(0)
    probs = np.array([0.1, 0.6, 0.3])
    draws = at.distributions.Categorical(at.tensor(probs)).sample((20000,)).numpy()
    assert draws.dtype == np.int64
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, probs, atol=0.015)


def test_enumerate_support_matches_pytorch():
    for lib in (at, torch):
        d = lib.distributions
        cat = d.Categorical(lib.ones(2, 3))
        bern = d.Bernoulli(lib.full((2,), 0.3))
        result = [cat.enumerate_support().numpy(), cat.enumerate_support(False).numpy(),
                  bern.enumerate_support().numpy(), bern.enumerate_support(False).numpy()]
        if lib is at:
            ours = result
        else:
            for a, b in zip(ours, result):
                assert a.shape == b.shape and a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)


STATISTICS = {
    # name: (constructor, mean, variance)
    "Gamma": (lambda d: d.Gamma(at.tensor([0.4, 3.0]), at.tensor([2.0, 0.5])),
              [0.2, 6.0], [0.1, 12.0]),
    "Binomial": (lambda d: d.Binomial(at.tensor([4.0, 10.0]), at.tensor([0.3, 0.8])),
                 [1.2, 8.0], [0.84, 1.6]),
    "Dirichlet": (lambda d: d.Dirichlet(at.tensor([0.5, 1.0, 2.5])),
                  [0.125, 0.25, 0.625], [1.75 / 80, 3.0 / 80, 3.75 / 80]),
    "Beta": (lambda d: d.Beta(at.tensor([0.5, 2.0]), at.tensor([1.5, 2.0])),
             [0.25, 0.5], [0.75 / 12, 4 / 80]),
    "Chi2": (lambda d: d.Chi2(at.tensor([1.0, 5.0])), [1.0, 5.0], [2.0, 10.0]),
    "InverseGamma": (lambda d: d.InverseGamma(at.tensor([5.0, 8.0]), at.tensor([2.0, 7.0])),
                     [0.5, 1.0], [0.25 / 3, 1.0 / 6]),
    "NegativeBinomial": (lambda d: d.NegativeBinomial(at.tensor([3.0, 10.0]),
                                                      at.tensor([0.4, 0.2])),
                         [2.0, 2.5], [2.0 / 0.6, 2.5 / 0.8]),
    "StudentT": (lambda d: d.StudentT(at.tensor([30.0, 8.0]), at.tensor([1.0, -2.0]),
                                      at.tensor([0.5, 2.0])),
                 [1.0, -2.0], [0.25 * 30 / 28, 4 * 8 / 6]),
}


@pytest.mark.parametrize("name", list(STATISTICS))
def test_sample_statistics(name):
    build, mean, variance = STATISTICS[name]
    at.manual_seed(1)
    dist = build(at.distributions)
    samples = dist.sample((40000,)).numpy()
    assert bool(dist.support.check(at.tensor(samples)).all())
    np.testing.assert_allclose(samples.mean(0), mean, rtol=0.03, atol=0.005)
    np.testing.assert_allclose(samples.var(0), variance, rtol=0.06, atol=0.002)
    np.testing.assert_allclose(dist.mean.numpy(), mean, rtol=1e-6)
    np.testing.assert_allclose(dist.variance.numpy(), variance, rtol=1e-6)


def test_gamma_rsample_gradient_equals_pytorch_at_the_same_draws():
    from abdou_torch.distributions._gamma_sampling import standard_gamma_grad
    at.manual_seed(0)
    alpha = at.tensor([0.2, 0.9, 1.0, 3.5, 40.0], dtype=at.float64, requires_grad=True)
    x = at.distributions.Gamma(alpha, 1.0).rsample((50,))
    x.sum().backward()
    expected = torch._standard_gamma_grad(torch.tensor(alpha.detach().numpy()).expand(50, 5),
                                          torch.tensor(x.detach().numpy()))
    # PyTorch approximates dx/dalpha (to ~1e-4); here it is the exact series
    np.testing.assert_allclose(alpha.grad.numpy(), expected.sum(0).numpy(), rtol=5e-4)
    np.testing.assert_allclose(standard_gamma_grad(np.array([2.0]), np.array([1.5])),
                               torch._standard_gamma_grad(torch.tensor([2.0], dtype=torch.float64),
                                                          torch.tensor([1.5], dtype=torch.float64)
                                                          ).numpy(), rtol=5e-4)


def test_gamma_and_dirichlet_rsample_gradients_are_unbiased():
    at.manual_seed(2)
    concentration = at.tensor([0.7, 2.5], dtype=at.float64, requires_grad=True)
    rate = at.tensor([1.5, 0.5], dtype=at.float64, requires_grad=True)
    at.distributions.Gamma(concentration, rate).rsample((20000,)).mean(0).sum().backward()
    # E[x] = a / rate: d/da = 1 / rate, d/drate = -a / rate^2
    np.testing.assert_allclose(concentration.grad.numpy(), [1 / 1.5, 2.0], rtol=0.03)
    np.testing.assert_allclose(rate.grad.numpy(), [-0.7 / 2.25, -10.0], rtol=0.03)
    alpha = at.tensor([1.0, 2.0, 3.0], dtype=at.float64, requires_grad=True)
    at.distributions.Dirichlet(alpha).rsample((20000,))[:, 0].mean().backward()
    # E[x_0] = a_0 / a0: d/da_0 = (a0 - a_0) / a0^2, d/da_j = -a_0 / a0^2
    np.testing.assert_allclose(alpha.grad.numpy(), [5 / 36, -1 / 36, -1 / 36], rtol=0.1,
                               atol=0.004)


def test_one_hot_straight_through_gradients_equal_pytorch():
    results = []
    for lib in (at, torch):
        lib.manual_seed(6)
        logits = lib.tensor([[0.5, -1.0, 2.0], [0.0, 0.3, 0.1]], requires_grad=True)
        dist = lib.distributions.OneHotCategoricalStraightThrough(logits=logits)
        sample = dist.rsample((4,))
        (sample * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        results.append((sample.detach().numpy(), logits.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6, atol=1e-7)


def test_gamma_cdf_against_pytorch():
    concentration = np.array([0.5, 2.0, 7.5])
    rate = np.array([1.0, 0.5, 2.0])
    values = np.array([[0.3, 4.0, 3.0], [2.0, 0.1, 5.5]])
    results = []
    for lib in (at, torch):
        r = lib.tensor(rate, requires_grad=True)
        x = lib.tensor(values, requires_grad=True)
        dist = lib.distributions.Gamma(lib.tensor(concentration), r)
        cdf = dist.cdf(x)
        cdf.sum().backward()
        chi2 = lib.distributions.Chi2(lib.tensor(concentration)).cdf(lib.tensor(values))
        results.append([cdf.detach().numpy(), r.grad.numpy(), x.grad.numpy(), chi2.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    a = at.tensor(concentration, requires_grad=True)
    with pytest.raises(NotImplementedError, match="first argument"):
        at.distributions.Gamma(a, 1.0).cdf(at.tensor(values)).sum().backward()


def test_gammainc_series_without_scipy(monkeypatch):
    special = pytest.importorskip("scipy.special")
    from abdou_torch.distributions import _special
    a = np.array([0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 3.0, 0.7, 50.0])
    x = np.array([0.01, 2.0, 0.3, 2.5, 30.0, 95.0, 1e-8, 40.0, 49.0])
    np.testing.assert_allclose(_special.gammainc_series(a, x), special.gammainc(a, x),
                               rtol=1e-12, atol=1e-14)
    monkeypatch.setattr(_special, "_scipy_special", lambda: None)
    np.testing.assert_allclose(_special.gammainc(at.tensor(a), at.tensor(x)).numpy(),
                               special.gammainc(a, x), rtol=1e-12, atol=1e-14)
