"""ExponentialFamily: the generic entropy and the Bregman-divergence KL agree with each
family's closed forms (and PyTorch's), and cross-family pairs raise PyTorch's error."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

FAMILIES = {
    "Normal": (lambda d, lib: d.Normal(lib.tensor([0.3, -1.0]), lib.tensor([1.2, 0.5])),
               lambda d, lib: d.Normal(lib.tensor([1.0, 0.0]), lib.tensor([2.0, 0.7]))),
    "Bernoulli": (lambda d, lib: d.Bernoulli(lib.tensor([0.3, 0.9])),
                  lambda d, lib: d.Bernoulli(lib.tensor([0.6, 0.2]))),
    "Exponential": (lambda d, lib: d.Exponential(lib.tensor([2.0, 0.3])),
                    lambda d, lib: d.Exponential(lib.tensor([0.5, 1.0]))),
    "Gamma": (lambda d, lib: d.Gamma(lib.tensor([2.0, 0.5]), lib.tensor([3.0, 1.0])),
              lambda d, lib: d.Gamma(lib.tensor([1.5, 2.0]), lib.tensor([0.5, 2.0]))),
    "Poisson": (lambda d, lib: d.Poisson(lib.tensor([2.0, 5.0])),
                lambda d, lib: d.Poisson(lib.tensor([0.7, 6.0]))),
    "Beta": (lambda d, lib: d.Beta(lib.tensor([2.0, 0.5]), lib.tensor([3.0, 1.0])),
             lambda d, lib: d.Beta(lib.tensor([1.5, 2.0]), lib.tensor([0.5, 2.0]))),
    "Dirichlet": (lambda d, lib: d.Dirichlet(lib.tensor([[2.0, 0.5, 1.0]])),
                  lambda d, lib: d.Dirichlet(lib.tensor([[1.0, 1.5, 3.0]]))),
}


@pytest.mark.parametrize("name", list(FAMILIES))
def test_bregman_kl_equals_the_closed_form_and_pytorch(name):
    make_p, make_q = FAMILIES[name]
    d = at.distributions
    p, q = make_p(d, at), make_q(d, at)
    assert isinstance(p, d.ExponentialFamily)
    bregman = d.kl._kl_expfamily_expfamily(p, q).detach().numpy()
    closed = d.kl_divergence(p, q).numpy()
    theirs = torch.distributions.kl._kl_expfamily_expfamily(
        make_p(torch.distributions, torch), make_q(torch.distributions, torch))
    np.testing.assert_allclose(bregman, closed, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(bregman, theirs.detach().numpy(), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["Normal", "Bernoulli", "Exponential", "Gamma"])
def test_generic_entropy_equals_the_closed_form(name):
    p = FAMILIES[name][0](at.distributions, at)
    generic = at.distributions.ExponentialFamily.entropy(p).detach().numpy()
    np.testing.assert_allclose(generic, p.entropy().numpy(), rtol=1e-5, atol=1e-6)


def test_poisson_entropy_is_not_implemented_as_in_pytorch():
    for lib in (at, torch):
        with pytest.raises(NotImplementedError):
            lib.distributions.Poisson(lib.tensor([2.0])).entropy()


def test_cross_family_kl_raises_pytorch_error():
    messages = []
    for lib in (at, torch):
        d = lib.distributions
        with pytest.raises(NotImplementedError) as info:
            d.kl_divergence(d.Poisson(1.0), d.Gamma(1.0, 2.0))
        messages.append(str(info.value))
    assert messages[0] == messages[1]
