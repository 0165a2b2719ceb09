"""Weights move between abdou_torch and PyTorch by name: a file saved here loads into the
same PyTorch model with safetensors.torch and load_state_dict(strict=True), and back; the
outputs then agree to 1e-6."""
import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

import abdou_torch as at
from abdou_torch import nn


class TorchMLP(torch.nn.Module):
    """What a PyTorch user writes for abdou_torch's MLP(784, [64, 64, 64, 10])."""

    def __init__(self, sizes):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:]))

    def forward(self, x):
        for index, layer in enumerate(self.layers):
            x = layer(x)
            if index < len(self.layers) - 1:
                x = torch.relu(x)
        return x


def _inputs(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_mlp_saved_here_loads_into_pytorch(tmp_path):
    at.manual_seed(0)
    ours = at.MLP(784, [64, 64, 64, 10])
    at.save(ours.state_dict(), tmp_path / "mlp.safetensors")
    theirs = TorchMLP([784, 64, 64, 64, 10])
    theirs.load_state_dict(load_file(tmp_path / "mlp.safetensors"), strict=True)
    x = _inputs((32, 784))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(at.Tensor(x)).numpy(), expected, atol=1e-6, rtol=1e-6)


def test_mlp_saved_by_pytorch_loads_here(tmp_path):
    torch.manual_seed(1)
    theirs = TorchMLP([784, 64, 64, 64, 10])
    save_file(theirs.state_dict(), tmp_path / "mlp.safetensors")
    ours = at.MLP(784, [64, 64, 64, 10])
    result = ours.load_state_dict(at.load(tmp_path / "mlp.safetensors"), strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = _inputs((16, 784), seed=2)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(at.Tensor(x)).numpy(), expected, atol=1e-6, rtol=1e-6)


def test_sequential_keys_and_layouts_match_pytorch(tmp_path):
    ours = nn.Sequential(nn.Linear(20, 30), nn.ReLU(), nn.Linear(30, 5))
    theirs = torch.nn.Sequential(torch.nn.Linear(20, 30), torch.nn.ReLU(),
                                 torch.nn.Linear(30, 5))
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    at.save(ours.state_dict(), tmp_path / "seq.safetensors")
    theirs.load_state_dict(load_file(tmp_path / "seq.safetensors"), strict=True)
    x = _inputs((8, 20))
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(at.Tensor(x)).numpy(), expected, atol=1e-6, rtol=1e-6)


def test_cnn_weights_move_both_ways(tmp_path):
    from abdou_torch.models import CNN
    ours = CNN(num_classes=10)
    ours.eval()
    names = list(ours.state_dict())
    assert any(name.endswith("running_mean") for name in names)
    at.save(ours.state_dict(), tmp_path / "cnn.safetensors")
    loaded = load_file(tmp_path / "cnn.safetensors")
    assert set(loaded) == set(names)
    back = CNN(num_classes=10)
    back.load_state_dict(at.load(tmp_path / "cnn.safetensors"))
    back.eval()
    x = _inputs((4, 1, 28, 28))
    np.testing.assert_array_equal(back(at.Tensor(x)).numpy(), ours(at.Tensor(x)).numpy())


def test_mis_shaped_and_unknown_keys_are_named(tmp_path):
    theirs = TorchMLP([784, 32, 10])
    save_file(theirs.state_dict(), tmp_path / "small.safetensors")
    ours = at.MLP(784, [64, 64, 10])
    before = ours.layers[0].weight.numpy().copy()
    with pytest.raises(RuntimeError) as error:
        ours.load_state_dict(at.load(tmp_path / "small.safetensors"))
    message = str(error.value)
    assert "layers.0.weight" in message and "(32, 784)" in message and "(64, 784)" in message
    assert "Missing key(s)" in message and "layers.2.weight" in message
    np.testing.assert_array_equal(ours.layers[0].weight.numpy(), before)
