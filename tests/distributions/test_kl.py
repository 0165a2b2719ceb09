"""kl_divergence against torch.distributions.kl_divergence: values (with the infinite
cases), gradients in both distributions' parameters, dispatch and errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

R = np.random.default_rng(1)
A = np.array([[0.3, -1.2, 2.0], [0.0, 0.5, -0.7]])
B = np.array([0.5, 1.1, -0.3])
S1 = np.array([[0.5, 1.3, 2.0], [0.9, 0.2, 1.1]])
S2 = np.array([1.2, 0.4, 0.8])
P1 = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
P2 = np.array([0.3, 0.3, 0.4])
_M = R.normal(size=(2, 3, 3))
COV1 = _M @ _M.transpose(0, 2, 1) + np.eye(3)
COV2 = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.7]])

PAIRS = {
    "Normal": lambda d, p: (d.Normal(p["a"], p["s1"]), d.Normal(p["b"], p["s2"])),
    "Categorical": lambda d, p: (d.Categorical(p["p1"]), d.Categorical(logits=p["b"])),
    "OneHotCategorical": lambda d, p: (d.OneHotCategorical(p["p1"]),
                                       d.OneHotCategorical(p["p2"])),
    "Bernoulli": lambda d, p: (d.Bernoulli(p["p1"]), d.Bernoulli(logits=p["a"])),
    "Binomial": lambda d, p: (d.Binomial(4, p["p1"]), d.Binomial(4, p["p2"])),
    "Uniform": lambda d, p: (d.Uniform(p["a"], p["a"] + p["s1"]),
                             d.Uniform(p["a"] - 1, p["a"] + p["s1"] + p["s2"])),
    "Independent": lambda d, p: (d.Independent(d.Normal(p["a"], p["s1"]), 1),
                                 d.Independent(d.Normal(p["b"], p["s2"]), 1)),
    "MultivariateNormal": lambda d, p: (
        d.MultivariateNormal(p["a"], covariance_matrix=p["cov1"]),
        d.MultivariateNormal(p["b"], covariance_matrix=p["cov2"])),
    "MultivariateNormal scale_tril": lambda d, p: (
        d.MultivariateNormal(p["b"], covariance_matrix=p["cov2"]),
        d.MultivariateNormal(p["a"], scale_tril=p["tril1"])),
    "Exponential": lambda d, p: (d.Exponential(p["s1"]), d.Exponential(p["s2"])),
    "Laplace": lambda d, p: (d.Laplace(p["a"], p["s1"]), d.Laplace(p["b"], p["s2"])),
    "Poisson": lambda d, p: (d.Poisson(p["s1"]), d.Poisson(p["s2"])),
    "Gamma": lambda d, p: (d.Gamma(p["s1"], p["s2"]), d.Gamma(p["s2"], p["s1"])),
    "Dirichlet": lambda d, p: (d.Dirichlet(p["s1"]), d.Dirichlet(p["s2"])),
    "LogNormal": lambda d, p: (d.LogNormal(p["a"], p["s1"]), d.LogNormal(p["b"], p["s2"])),
    "Beta": lambda d, p: (d.Beta(p["s1"], p["s2"]), d.Beta(p["s2"], p["s1"] + 1)),
    "Gumbel": lambda d, p: (d.Gumbel(p["a"], p["s1"]), d.Gumbel(p["b"], p["s2"])),
    "Geometric": lambda d, p: (d.Geometric(p["p1"]), d.Geometric(logits=p["a"])),
    "HalfNormal": lambda d, p: (d.HalfNormal(p["s1"]), d.HalfNormal(p["s2"])),
    "Cauchy": lambda d, p: (d.Cauchy(p["a"], p["s1"]), d.Cauchy(p["b"], p["s2"])),
    "Pareto": lambda d, p: (d.Pareto(p["s1"] + 1, p["s1"]), d.Pareto(p["s2"], p["s2"] + 0.5)),
    "Chi2 (the Gamma rule)": lambda d, p: (d.Chi2(p["s1"]), d.Chi2(p["s2"])),
    "TransformedDistribution": lambda d, p: (
        d.TransformedDistribution(d.Normal(p["a"], p["s1"]),
                                  [d.transforms.TanhTransform()]),
        d.TransformedDistribution(d.Normal(p["b"], p["s2"]), d.transforms.TanhTransform())),
}
PARAMS = {"a": A, "b": B, "s1": S1, "s2": S2, "p1": P1, "p2": P2, "cov1": COV1,
          "cov2": COV2, "tril1": np.linalg.cholesky(COV1)}


@pytest.mark.parametrize("name", list(PAIRS))
def test_kl_values_and_gradients(name, both):
    ours_params, torch_params = both.leaves(PARAMS)
    results = []
    for lib, params in ((at, ours_params), (torch, torch_params)):
        p, q = PAIRS[name](lib.distributions, params)
        kl = lib.distributions.kl_divergence(p, q)
        (kl * lib.tensor(np.arange(1.0, 1.0 + kl.numel()).reshape(tuple(kl.shape)))
         ).sum().backward()
        results.append(kl)
    both.close(results[0], results[1])
    for key in PARAMS:
        if torch_params[key].grad is None:
            assert ours_params[key].grad is None
        else:
            both.close(ours_params[key].grad, torch_params[key].grad, rtol=1e-6, atol=1e-10)


INFINITE = {
    "Categorical zero in q": lambda lib, d: d.kl_divergence(
        d.Categorical(lib.tensor([0.5, 0.5, 0.0])), d.Categorical(lib.tensor([1.0, 0.0, 0.0]))),
    "Bernoulli": lambda lib, d: d.kl_divergence(d.Bernoulli(lib.tensor([0.0, 1.0, 0.5, 0.5])),
                                                d.Bernoulli(lib.tensor([0.5, 0.5, 0.0, 1.0]))),
    "Uniform not nested": lambda lib, d: d.kl_divergence(
        d.Uniform(lib.tensor([0.0, 0.0]), lib.tensor([1.0, 1.0])),
        d.Uniform(lib.tensor([-1.0, 0.5]), lib.tensor([2.0, 2.0]))),
}


@pytest.mark.parametrize("name", list(INFINITE))
def test_kl_infinite_and_zero_cases(name):
    ours = INFINITE[name](at, at.distributions).numpy()
    theirs = INFINITE[name](torch, torch.distributions).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_missing_pair_raises_pytorch_error():
    messages = []
    for lib in (at, torch):
        with pytest.raises(NotImplementedError) as info:
            d = lib.distributions
            d.kl_divergence(d.Independent(d.Normal(lib.zeros(2), 1.0), 1), d.Normal(0.0, 1.0))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_register_kl_dispatches_to_the_most_specific_rule():
    d = at.distributions

    class MyNormal(d.Normal):
        pass

    # a subclass uses its parent's rule until it registers its own
    base = d.kl_divergence(MyNormal(0.0, 1.0), d.Normal(1.0, 1.0))
    assert abs(base.item() - 0.5) < 1e-6

    @d.register_kl(MyNormal, d.Normal)
    def _kl(p, q):
        return p.loc * 0 + 42.0

    assert d.kl_divergence(MyNormal(0.0, 1.0), d.Normal(1.0, 1.0)).item() == 42.0
    assert d.kl_divergence(d.Normal(0.0, 1.0), d.Normal(1.0, 1.0)).item() == base.item()
    with pytest.raises(TypeError):
        d.register_kl(int, d.Normal)
    del at.distributions.kl._KL_REGISTRY[MyNormal, d.Normal]
    at.distributions.kl._KL_MEMOIZE.clear()


def test_kl_multivariate_normal_event_shapes_must_match():
    d = at.distributions
    p = d.MultivariateNormal(at.zeros(2), at.eye(2))
    q = d.MultivariateNormal(at.zeros(3), at.eye(3))
    with pytest.raises(ValueError, match="different event shapes"):
        d.kl_divergence(p, q)
