"""transforms and TransformedDistribution against PyTorch: values, inverses, log-det
Jacobians and their gradients, caching, and SAC's tanh-squashed Gaussian policy."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

R = np.random.default_rng(3)
X = R.normal(size=(4, 3))
POSITIVE = R.uniform(0.2, 3.0, size=(4, 3))

TRANSFORMS = {
    "Exp": (lambda T, lib: T.ExpTransform(), X),
    "Power": (lambda T, lib: T.PowerTransform(lib.tensor([2.0, 0.5, -1.5])), POSITIVE),
    "Sigmoid": (lambda T, lib: T.SigmoidTransform(), X * 3),
    "Tanh": (lambda T, lib: T.TanhTransform(), X * 2),
    "Affine numbers": (lambda T, lib: T.AffineTransform(1.5, -2.0), X),
    "Affine tensors": (lambda T, lib: T.AffineTransform(lib.tensor([0.0, 1.0, 2.0]),
                                                        lib.tensor([0.5, -2.0, 3.0])), X),
    "Affine event_dim": (lambda T, lib: T.AffineTransform(0.5, lib.tensor([0.5, -2.0, 3.0]),
                                                          event_dim=1), X),
    "Compose": (lambda T, lib: T.ComposeTransform([T.AffineTransform(0.3, 2.0),
                                                   T.TanhTransform(), T.ExpTransform()]), X),
    "Inverse Exp": (lambda T, lib: T.ExpTransform().inv, POSITIVE),
    "Identity": (lambda T, lib: T.identity_transform, X),
    "Softplus": (lambda T, lib: T.SoftplusTransform(), X * 3),
    "Independent": (lambda T, lib: T.IndependentTransform(T.ExpTransform(), 1), X),
    "Independent affine": (lambda T, lib: T.IndependentTransform(
        T.AffineTransform(1.0, lib.tensor([0.5, -2.0, 3.0])), 2), X),
    "Reshape": (lambda T, lib: T.ReshapeTransform((3,), (3, 1)), X),
    "StickBreaking": (lambda T, lib: T.StickBreakingTransform(), X),
    "LowerCholesky": (lambda T, lib: T.LowerCholeskyTransform(), X[:3]),
}


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_transform_against_pytorch(name, both):
    make, points = TRANSFORMS[name]
    results = []
    for lib in (at, torch):
        transform = make(lib.distributions.transforms, lib)
        x = lib.tensor(points, requires_grad=True)
        y = transform(x)
        back = transform.inv(y.detach())
        log_det = transform.log_abs_det_jacobian(x, y) if transform.bijective else y * 0
        (y.sum() + log_det.sum()).backward()
        results.append((y, back, log_det, x.grad, repr(transform), transform.bijective,
                        transform.domain.event_dim, transform.codomain.event_dim))
    ours, theirs = results
    for mine, reference in zip(ours[:4], theirs[:4]):
        both.close(mine, reference, rtol=1e-6, atol=1e-9)
    assert ours[4:] == theirs[4:]


def test_softmax_and_abs_transforms():
    x = np.array([[0.5, -1.0, 2.0], [3.0, 3.0, 0.0]])
    for name in ("SoftmaxTransform", "AbsTransform"):
        ours = getattr(at.distributions.transforms, name)()(at.tensor(x))
        theirs = getattr(torch.distributions.transforms, name)()(torch.tensor(x))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_cache_returns_the_input_for_the_inverse():
    transform = at.distributions.transforms.TanhTransform(cache_size=1)
    x = at.tensor([30.0, -0.5])
    y = transform(x)
    assert transform.inv(y) is x
    assert transform(x) is y
    uncached = at.distributions.transforms.TanhTransform()
    x = at.tensor([3.0, -0.5])
    assert uncached.inv(uncached(x)) is not x
    with pytest.raises(ValueError, match="cache_size"):
        at.distributions.transforms.ExpTransform(cache_size=2)


def _tanh_policy(lib, loc, log_std):
    d = lib.distributions
    return d.TransformedDistribution(d.Normal(loc, log_std.exp()),
                                     [d.transforms.TanhTransform(cache_size=1)])


def test_sac_tanh_gaussian_policy_matches_pytorch():
    """SAC: action = tanh(u), u ~ N(mu, sigma) by rsample; log pi(a) and its gradients."""
    loc = np.array([[0.3, -1.0], [2.0, 0.1]])
    log_std = np.array([[-0.5, 0.2], [0.0, -1.0]])
    results = []
    for lib in (at, torch):
        lib.manual_seed(5)
        mu = lib.tensor(loc, requires_grad=True)
        ls = lib.tensor(log_std, requires_grad=True)
        policy = _tanh_policy(lib, mu, ls)
        action = policy.rsample()
        log_pi = policy.log_prob(action).sum(-1)
        (log_pi.sum() + (action ** 2).sum()).backward()
        results.append([action.detach().numpy(), log_pi.detach().numpy(), mu.grad.numpy(),
                        ls.grad.numpy(), tuple(policy.batch_shape), tuple(policy.event_shape)])
    ours, theirs = results
    for mine, reference in zip(ours[:4], theirs[:4]):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-9)
    assert ours[4:] == theirs[4:]


DISTRIBUTIONS = {
    "decreasing affine": (lambda d, lib: d.TransformedDistribution(
        d.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 0.5])),
        [d.transforms.AffineTransform(2.0, -3.0)]), np.array([[0.5, -1.0], [2.0, 0.0]])),
    "sigmoid of normal": (lambda d, lib: d.TransformedDistribution(
        d.Normal(lib.zeros(3), lib.ones(3)), d.transforms.SigmoidTransform()),
        np.array([0.2, 0.5, 0.9])),
    "event_dim affine": (lambda d, lib: d.TransformedDistribution(
        d.Normal(lib.zeros(2, 3), lib.ones(2, 3)),
        [d.transforms.AffineTransform(lib.zeros(3), lib.tensor([1.0, 2.0, 3.0]),
                                      event_dim=1)]), R.normal(size=(2, 3))),
    "LogNormal": (lambda d, lib: d.LogNormal(lib.tensor([0.0, 1.0]), 0.5),
                  np.array([0.5, 3.0])),
}


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_transformed_distribution_against_pytorch(name, both):
    make, values = DISTRIBUTIONS[name]
    ours, theirs = make(at.distributions, at), make(torch.distributions, torch)
    assert ours.batch_shape == theirs.batch_shape
    assert ours.event_shape == theirs.event_shape
    assert repr(ours.support) == repr(theirs.support)
    both.close(ours.log_prob(at.tensor(values)), theirs.log_prob(torch.tensor(values)))
    if not name.startswith("event_dim"):
        both.close(ours.cdf(at.tensor(values)), theirs.cdf(torch.tensor(values)))
        probabilities = np.full(values.shape, 0.3)
        both.close(ours.icdf(at.tensor(probabilities)),
                   theirs.icdf(torch.tensor(probabilities)))
    at.manual_seed(2)
    torch.manual_seed(2)
    both.close(ours.sample((3,)), theirs.sample((3,)), rtol=1e-5, atol=1e-6)
    expanded_ours = ours.expand((4,) + tuple(ours.batch_shape))
    expanded_theirs = theirs.expand((4,) + tuple(theirs.batch_shape))
    assert expanded_ours.batch_shape == expanded_theirs.batch_shape
    expanded_values = expanded_theirs.sample().numpy()
    both.close(expanded_ours.log_prob(at.tensor(expanded_values)),
               expanded_theirs.log_prob(torch.tensor(expanded_values)))


def test_transforms_argument_is_checked():
    d = at.distributions
    with pytest.raises(ValueError, match="Transform or a list of Transforms"):
        d.TransformedDistribution(d.Normal(0.0, 1.0), [d.transforms.ExpTransform(), 3])
    with pytest.raises(ValueError, match="Transform or list"):
        d.TransformedDistribution(d.Normal(0.0, 1.0), "exp")


def test_shapes_of_shape_changing_transforms():
    for lib in (at, torch):
        T = lib.distributions.transforms
        stick = T.StickBreakingTransform()
        assert tuple(stick.forward_shape((4, 3))) == (4, 4)
        assert tuple(stick.inverse_shape((4, 4))) == (4, 3)
        reshape = T.ReshapeTransform((2, 3), (6,))
        assert tuple(reshape.forward_shape((5, 2, 3))) == (5, 6)
        assert tuple(reshape.inverse_shape((5, 6))) == (5, 2, 3)
        with pytest.raises(ValueError):
            reshape.forward_shape((5, 3, 2))
        with pytest.raises(ValueError):
            T.ReshapeTransform((2, 3), (5,))


def test_dirichlet_through_stick_breaking_matches_pytorch(both):
    """A TransformedDistribution that changes the event shape (R^2 -> the 3-simplex)."""
    values = np.array([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    results = []
    for lib in (at, torch):
        d = lib.distributions
        dist = d.TransformedDistribution(d.Normal(lib.zeros(2, 2), lib.ones(2, 2)),
                                         d.transforms.StickBreakingTransform())
        results.append((dist.batch_shape, dist.event_shape, dist.log_prob(lib.tensor(values))))
    assert results[0][:2] == results[1][:2]
    both.close(results[0][2], results[1][2])
