"""Argument validation: out-of-support parameters and values raise ValueError with
PyTorch's messages; validate_args=False and set_default_validate_args turn it off."""
from __future__ import annotations

import pytest
import torch

import abdou_torch as at

BAD_PARAMETERS = {
    "Normal scale": lambda lib: lib.distributions.Normal(lib.tensor([0.0, 1.0]),
                                                         lib.tensor([1.0, -1.0])),
    "Normal nan loc": lambda lib: lib.distributions.Normal(lib.tensor(float("nan")), 1.0),
    "Categorical probs": lambda lib: lib.distributions.Categorical(lib.tensor([0.5, -0.1])),
    "Bernoulli probs": lambda lib: lib.distributions.Bernoulli(lib.tensor([0.5, 1.5])),
    "Uniform low >= high": lambda lib: lib.distributions.Uniform(lib.tensor([0.0, 2.0]),
                                                                 lib.tensor([1.0, 1.0])),
    "Exponential rate": lambda lib: lib.distributions.Exponential(lib.tensor([0.0, 1.0])),
    "Laplace scale": lambda lib: lib.distributions.Laplace(0.0, lib.tensor(-2.0)),
    "Poisson rate": lambda lib: lib.distributions.Poisson(lib.tensor([-1.0])),
    "Binomial count": lambda lib: lib.distributions.Binomial(lib.tensor([2.5]),
                                                             lib.tensor([0.5])),
    "Gamma concentration": lambda lib: lib.distributions.Gamma(lib.tensor([0.0, 1.0]), 1.0),
    "Dirichlet concentration": lambda lib: lib.distributions.Dirichlet(
        lib.tensor([[1.0, 2.0], [0.5, -0.5]])),
    "LogNormal scale": lambda lib: lib.distributions.LogNormal(0.0, lib.tensor(0.0)),
    "OneHotCategorical probs": lambda lib: lib.distributions.OneHotCategorical(
        lib.tensor([0.5, -0.1])),
    "MultivariateNormal covariance": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    "MultivariateNormal scale_tril": lambda lib: lib.distributions.MultivariateNormal(
        lib.zeros(2), scale_tril=lib.tensor([[1.0, 0.5], [0.0, 1.0]])),
    "Beta": lambda lib: lib.distributions.Beta(lib.tensor([1.0, -1.0]), 2.0),
    "Chi2": lambda lib: lib.distributions.Chi2(lib.tensor([-1.0])),
    "Cauchy": lambda lib: lib.distributions.Cauchy(0.0, lib.tensor([0.0])),
    "HalfNormal": lambda lib: lib.distributions.HalfNormal(lib.tensor([-1.0])),
    "Gumbel": lambda lib: lib.distributions.Gumbel(lib.tensor([0.0]), lib.tensor([-1.0])),
    "Geometric zero": lambda lib: lib.distributions.Geometric(lib.tensor([0.5, 0.0])),
    "Geometric above one": lambda lib: lib.distributions.Geometric(lib.tensor([1.5])),
    "StudentT": lambda lib: lib.distributions.StudentT(lib.tensor([-1.0, 2.0])),
    "Multinomial": lambda lib: lib.distributions.Multinomial(3, lib.tensor([0.5, -0.5])),
    "Pareto": lambda lib: lib.distributions.Pareto(lib.tensor([1.0]), lib.tensor([-1.0])),
    "Weibull": lambda lib: lib.distributions.Weibull(lib.tensor([-1.0]), 1.0),
    "NegativeBinomial probs": lambda lib: lib.distributions.NegativeBinomial(
        2.0, lib.tensor([1.0])),
    "InverseGamma": lambda lib: lib.distributions.InverseGamma(lib.tensor([0.0]), 1.0),
    "RelaxedBernoulli": lambda lib: lib.distributions.RelaxedBernoulli(
        lib.tensor(0.5), lib.tensor([1.5])),
}


def _error(build, lib):
    with pytest.raises(ValueError) as info:
        build(lib)
    return str(info.value)


@pytest.mark.parametrize("name", list(BAD_PARAMETERS))
def test_bad_parameters_raise_pytorch_message(name):
    build = BAD_PARAMETERS[name]
    assert _error(build, at) == _error(build, torch)


BAD_VALUES = {
    "Categorical out of range": (lambda d, lib: d.Categorical(lib.tensor([0.5, 0.5])),
                                 lambda lib: lib.tensor([0, 2])),
    "Bernoulli not 0/1": (lambda d, lib: d.Bernoulli(lib.tensor(0.3)),
                          lambda lib: lib.tensor(0.5)),
    "Uniform outside": (lambda d, lib: d.Uniform(0.0, 1.0), lambda lib: lib.tensor([0.5, 1.5])),
    "Normal shape": (lambda d, lib: d.Normal(lib.zeros(3), 1.0), lambda lib: lib.zeros(2)),
    "Poisson fraction": (lambda d, lib: d.Poisson(lib.tensor(2.0)), lambda lib: lib.tensor(1.5)),
    "Binomial above count": (lambda d, lib: d.Binomial(3, lib.tensor(0.5)),
                             lambda lib: lib.tensor([1.0, 4.0])),
    "Dirichlet off simplex": (lambda d, lib: d.Dirichlet(lib.ones(3)),
                              lambda lib: lib.tensor([0.5, 0.5, 0.5])),
    "OneHotCategorical not one-hot": (lambda d, lib: d.OneHotCategorical(lib.ones(3)),
                                      lambda lib: lib.tensor([1.0, 1.0, 0.0])),
    "MultivariateNormal event": (lambda d, lib: d.MultivariateNormal(lib.zeros(3), lib.eye(3)),
                                 lambda lib: lib.zeros(2)),
    "Gamma negative": (lambda d, lib: d.Gamma(lib.tensor(2.0), 1.0),
                       lambda lib: lib.tensor(-1.0)),
    "Pareto below scale": (lambda d, lib: d.Pareto(lib.tensor(2.0), 1.0),
                           lambda lib: lib.tensor([3.0, 1.0])),
    "NegativeBinomial fraction": (lambda d, lib: d.NegativeBinomial(2.0, lib.tensor(0.5)),
                                  lambda lib: lib.tensor(0.5)),
    "Beta outside": (lambda d, lib: d.Beta(2.0, 2.0), lambda lib: lib.tensor([0.5, 1.5])),
    "Multinomial too many": (lambda d, lib: d.Multinomial(3, lib.ones(2)),
                             lambda lib: lib.tensor([2.0, 2.0])),
    "Geometric negative": (lambda d, lib: d.Geometric(lib.tensor(0.5)),
                           lambda lib: lib.tensor(-1.0)),
    "MixtureSameFamily": (lambda d, lib: d.MixtureSameFamily(
        d.Categorical(lib.ones(2)), d.Gamma(lib.ones(2), lib.ones(2))),
        lambda lib: lib.tensor([1.0, -1.0])),
    "Independent event shape": (lambda d, lib: d.Independent(d.Normal(lib.zeros(2, 3), 1.0),
                                                             1),
                                lambda lib: lib.zeros(2)),
}


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_bad_values_raise_pytorch_message(name):
    build, value = BAD_VALUES[name]
    messages = []
    for lib in (at, torch):
        dist = build(lib.distributions, lib)
        with pytest.raises(ValueError) as info:
            dist.log_prob(value(lib))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_value_must_be_a_tensor():
    with pytest.raises(ValueError, match="must be a Tensor"):
        at.distributions.Normal(0.0, 1.0).log_prob(0.5)


def test_validation_can_be_turned_off():
    dist = at.distributions.Normal(at.tensor(0.0), at.tensor(-1.0), validate_args=False)
    assert dist.scale.item() == -1.0
    at.distributions.Distribution.set_default_validate_args(False)
    at.distributions.Bernoulli(at.tensor(2.0))  # no error
    at.distributions.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        at.distributions.Bernoulli(at.tensor(2.0))
    with pytest.raises(ValueError):
        at.distributions.Distribution.set_default_validate_args("yes")


def test_constructor_errors():
    d = at.distributions
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        d.Categorical(at.ones(2), logits=at.ones(2))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        d.Categorical(at.tensor(1.0))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        d.Independent(d.Normal(at.zeros(3), 1.0), 2)


def _multivariate_normal_errors(lib):
    mvn = lib.distributions.MultivariateNormal
    builds = (lambda: mvn(lib.tensor(0.0), lib.eye(1)), lambda: mvn(lib.zeros(2)),
              lambda: mvn(lib.zeros(2), lib.eye(2), scale_tril=lib.eye(2)),
              lambda: mvn(lib.zeros(2), lib.ones(2)))
    errors = []
    for build in builds:
        with pytest.raises(ValueError) as info:
            build()
        errors.append(str(info.value))
    return errors


def test_multivariate_normal_constructor_errors():
    assert _multivariate_normal_errors(at) == _multivariate_normal_errors(torch)
    with pytest.raises(ValueError, match="positive-definite"):
        at.distributions.MultivariateNormal(at.zeros(2), at.tensor([[1.0, 2.0], [2.0, 1.0]]),
                                            validate_args=False)


def _mixture_errors(lib):
    d = lib.distributions
    builds = (lambda: d.MixtureSameFamily(d.Normal(0.0, 1.0), d.Normal(lib.zeros(2), 1.0)),
              lambda: d.MixtureSameFamily(d.Categorical(lib.ones(2)), "normal"),
              lambda: d.MixtureSameFamily(d.Categorical(lib.ones(3, 2)),
                                          d.Normal(lib.zeros(4, 2), 1.0)),
              lambda: d.MixtureSameFamily(d.Categorical(lib.ones(3)),
                                          d.Normal(lib.zeros(2), 1.0)))
    errors = []
    for build in builds:
        with pytest.raises(ValueError) as info:
            build()
        errors.append(str(info.value))
    return errors


def test_mixture_constructor_errors():
    assert _mixture_errors(at) == _mixture_errors(torch)


def test_multinomial_needs_an_int_count():
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        at.distributions.Multinomial(at.tensor([3, 4]), at.ones(2))
