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


# -- bit for bit against PyTorch -------------------------------------------------------------
def _same_bits(ours, theirs):
    ours, theirs = np.asarray(ours), theirs.detach().numpy()
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours.view(f"i{ours.itemsize}"),
                                  theirs.view(f"i{theirs.itemsize}"))


def _pair(seed, shape, dtype=np.float32):
    at.manual_seed(seed)
    torch.manual_seed(seed)
    return _empty(*shape, dtype=dtype), torch.empty(shape, dtype=getattr(torch,
                                                                          np.dtype(dtype).name))


INITIALISERS = [
    ("uniform_", {"a": -0.3, "b": 0.8}), ("normal_", {"mean": 0.2, "std": 0.02}),
    ("xavier_uniform_", {"gain": 1.3}), ("xavier_normal_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}), ("kaiming_uniform_", {"nonlinearity": "relu"}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("trunc_normal_", {"std": 0.02}), ("trunc_normal_", {"mean": 0.5, "a": -0.5, "b": 2.0}),
    ("trunc_normal_", {"mean": 0.0, "std": 1.0, "a": 1.5, "b": 1.7}),  # narrow window
]


@pytest.mark.parametrize("name, kwargs", INITIALISERS)
@pytest.mark.parametrize("shape", [(3, 4), (64, 27), (16, 8, 3, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initialisers_match_torch_bit_for_bit(name, kwargs, shape, dtype):
    ours, theirs = _pair(7, shape, dtype)
    getattr(init, name)(ours, **kwargs)
    getattr(torch.nn.init, name)(theirs, **kwargs)
    _same_bits(ours.data, theirs)
    assert at.random.default_generator.torch_state().tolist() == \
        torch.get_rng_state().tolist()


def test_initialisers_take_a_generator():
    ours, theirs = at.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    _same_bits(init.kaiming_uniform_(_empty(5, 6), a=1.0, generator=ours).data,
               torch.nn.init.kaiming_uniform_(torch.empty(5, 6), a=1.0, generator=theirs))
    _same_bits(init.trunc_normal_(_empty(40), std=0.5, generator=ours).data,
               torch.nn.init.trunc_normal_(torch.empty(40), std=0.5, generator=theirs))


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 2, 3)])
def test_orthogonal_draws_as_torch_and_agrees_to_rounding(shape):
    ours, theirs = _pair(4, shape)
    init.orthogonal_(ours, gain=1.5)
    torch.nn.init.orthogonal_(theirs, gain=1.5)
    np.testing.assert_allclose(ours.data, theirs.numpy(), atol=2e-6)
    assert at.random.default_generator.torch_state().tolist() == \
        torch.get_rng_state().tolist()


def _default_layers(nn):
    """The same layers built in the same order, in either library."""
    return [nn.Linear(20, 30), nn.Linear(7, 3, bias=False), nn.Conv1d(3, 5, 4),
            nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(4, 6, (3, 5), groups=2),
            nn.ConvTranspose2d(4, 6, 3, stride=2), nn.Embedding(50, 16),
            nn.Embedding(10, 3, padding_idx=2), nn.LayerNorm(12), nn.BatchNorm2d(5),
            nn.Linear(5, 1)]


def test_default_initialisation_of_layers_matches_torch():
    at.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = _default_layers(at.nn), _default_layers(torch.nn)
    for mine, reference in zip(ours, theirs):
        mine_state, reference_state = mine.state_dict(), reference.state_dict()
        for name, tensor in reference_state.items():
            if name == "num_batches_tracked":
                continue
            _same_bits(mine_state[name].data, tensor)


def test_default_initialisation_of_the_models_matches_torch():
    from abdou_torch.models import CNN
    at.manual_seed(1)
    torch.manual_seed(1)
    mlp = at.MLP(784, [64, 64, 64, 10])
    reference = [torch.nn.Linear(a, b) for a, b in [(784, 64), (64, 64), (64, 64), (64, 10)]]
    for index, layer in enumerate(reference):
        _same_bits(mlp.state_dict()[f"layers.{index}.weight"].data, layer.weight)
        _same_bits(mlp.state_dict()[f"layers.{index}.bias"].data, layer.bias)
    cnn = CNN()
    c1, c2, c3 = 32, 32, 64
    torch_cnn = torch.nn.Sequential(
        torch.nn.Sequential(
            torch.nn.Conv2d(1, c1, 3, padding=1, bias=False), torch.nn.BatchNorm2d(c1),
            torch.nn.ReLU(), torch.nn.Conv2d(c1, c2, 3, bias=False), torch.nn.BatchNorm2d(c2),
            torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(c2, c3, 3, bias=False),
            torch.nn.BatchNorm2d(c3), torch.nn.ReLU(), torch.nn.MaxPool2d(2)),
        torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(c3 * 25, 128), torch.nn.ReLU(),
                            torch.nn.Dropout(0.3), torch.nn.Linear(128, 10)))
    names = {"0": "features", "1": "classifier"}
    for name, tensor in torch_cnn.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        head, rest = name.split(".", 1)
        _same_bits(cnn.state_dict()[f"{names[head]}.{rest}"].data, tensor)
