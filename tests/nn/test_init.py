"""nn.init: bounds and statistics of every initialiser, gains and fans as PyTorch's."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch.nn import init


def _empty(*shape, dtype=np.float32):
    return at.Tensor(np.empty(shape, dtype=dtype), requires_grad=True)


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)])
def test_calculate_gain_matches_torch(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12)


def test_calculate_gain_rejects_unknown():
    with pytest.raises(ValueError, match="unsupported"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3, 3), (6, 2, 5)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(_empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    with pytest.raises(ValueError):
        init._calculate_fan_in_and_fan_out(_empty(4))


def test_uniform_and_normal_statistics():
    at.manual_seed(0)
    t = _empty(300, 300)
    assert init.uniform_(t, -2.0, 3.0) is t
    assert t.data.min() >= -2 and t.data.max() < 3
    np.testing.assert_allclose([t.data.mean(), t.data.var()], [0.5, 25 / 12], rtol=0.02)
    init.normal_(t, 1.5, 0.5)
    np.testing.assert_allclose([t.data.mean(), t.data.std()], [1.5, 0.5], rtol=0.01)
    assert t.dtype == np.float32 and t.requires_grad and t.is_leaf


def test_constant_zeros_ones_eye():
    t = _empty(3, 4)
    np.testing.assert_array_equal(init.constant_(t, 2.5).data, np.full((3, 4), 2.5))
    np.testing.assert_array_equal(init.zeros_(t).data, np.zeros((3, 4)))
    np.testing.assert_array_equal(init.ones_(t).data, np.ones((3, 4)))
    np.testing.assert_array_equal(init.eye_(t).data, np.eye(3, 4))
    with pytest.raises(ValueError):
        init.eye_(_empty(2, 2, 2))


@pytest.mark.parametrize("shape", [(200, 300), (64, 32, 3, 3)])
def test_xavier(shape):
    at.manual_seed(1)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(_empty(*shape))
    gain = 1.7
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    t = init.xavier_uniform_(_empty(*shape), gain=gain)
    assert np.abs(t.data).max() <= bound and np.abs(t.data).max() > 0.98 * bound
    np.testing.assert_allclose(t.data.var(), bound ** 2 / 3, rtol=0.03)
    t = init.xavier_normal_(_empty(*shape), gain=gain)
    np.testing.assert_allclose(t.data.std(), gain * math.sqrt(2 / (fan_in + fan_out)),
                               rtol=0.02)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity, a", [("relu", 0), ("leaky_relu", math.sqrt(5)),
                                             ("leaky_relu", 0.1)])
def test_kaiming(mode, nonlinearity, a):
    at.manual_seed(2)
    shape = (128, 64, 3, 3)
    fan = 64 * 9 if mode == "fan_in" else 128 * 9
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    t = init.kaiming_uniform_(_empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    bound = math.sqrt(3) * std
    assert np.abs(t.data).max() <= bound * (1 + 1e-6) and np.abs(t.data).max() > 0.99 * bound
    np.testing.assert_allclose(t.data.std(), std, rtol=0.02)
    t = init.kaiming_normal_(_empty(*shape), a=a, mode=mode, nonlinearity=nonlinearity)
    np.testing.assert_allclose(t.data.std(), std, rtol=0.02)
    assert abs(t.data.mean()) < 0.02 * std


def test_kaiming_rejects_bad_mode_and_skips_empty_tensors():
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(_empty(3, 3), mode="fan_avg")
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(_empty(0, 3))


def test_trunc_normal_bounds_and_moments():
    at.manual_seed(3)
    t = init.trunc_normal_(_empty(200, 200), mean=0.5, std=1.0, a=-0.5, b=2.0)
    assert t.data.min() >= -0.5 and t.data.max() <= 2.0
    assert t.data.min() < -0.49 and t.data.max() > 1.99
    # the mean of N(0.5, 1) truncated to [-0.5, 2]: mu + (phi(alpha) - phi(beta)) / Z sigma
    phi = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    alpha, beta = -1.0, 1.5
    expected = 0.5 + (phi(alpha) - phi(beta)) / (cdf(beta) - cdf(alpha))
    assert abs(t.data.mean() - expected) < 0.01


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 2, 3)])
def test_orthogonal(shape):
    at.manual_seed(4)
    t = init.orthogonal_(_empty(*shape, dtype=np.float64), gain=2.0)
    flat = t.data.reshape(shape[0], -1)
    rows, cols = flat.shape
    gram = flat @ flat.T if rows <= cols else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-10)


def test_generator_argument_and_seeding():
    a = init.normal_(_empty(5, 5), generator=at.Generator(9)).data.copy()
    b = init.normal_(_empty(5, 5), generator=at.Generator(9)).data
    np.testing.assert_array_equal(a, b)
    at.manual_seed(5)
    c = init.xavier_uniform_(_empty(4, 4)).data.copy()
    at.manual_seed(5)
    np.testing.assert_array_equal(init.xavier_uniform_(_empty(4, 4)).data, c)
