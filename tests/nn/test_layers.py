"""Layers against PyTorch: Linear (layout, init, forward/backward), MLP and Sequential with
weights copied by name, containers, activation modules, reprs."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch import nn

DTYPES = [np.float32, np.float64]
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}
rng = np.random.default_rng(0)


def copy_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def run_both(ours, theirs, x, dtype):
    """Forward and backward of sum(out * r) in both; compare outputs, input and parameter
    gradients by name."""
    xo = at.Tensor(x.astype(dtype), requires_grad=True)
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    out, expected = ours(xo), theirs(xt)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **TOL[dtype])
    r = rng.standard_normal(out.shape).astype(dtype)
    (out * at.Tensor(r)).sum().backward()
    (expected * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), **TOL[dtype])
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad.data, theirs_params[name].grad.numpy(),
                                   err_msg=name, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("input_shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear_matches_torch(input_shape, bias, dtype):
    ours = nn.Linear(4, 3, bias=bias, dtype=dtype)
    theirs = torch.nn.Linear(4, 3, bias=bias, dtype=TORCH_DTYPE[dtype])
    assert ours.weight.shape == tuple(theirs.weight.shape) == (3, 4)
    assert ours.weight.dtype == dtype
    copy_from_torch(ours, theirs)
    run_both(ours, theirs, rng.standard_normal(input_shape), dtype)


def test_linear_init_bounds_and_statistics():
    at.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    for tensor in (layer.weight.data, layer.bias.data):
        assert np.abs(tensor).max() <= bound
        assert np.abs(tensor).max() > 0.97 * bound
    # U(-b, b): mean 0, variance b^2 / 3
    assert abs(layer.weight.data.mean()) < 0.01 * bound
    np.testing.assert_allclose(layer.weight.data.var(), bound ** 2 / 3, rtol=0.02)
    assert layer.weight.dtype == np.float32 and layer.weight.requires_grad
    theirs = torch.nn.Linear(400, 300)
    np.testing.assert_allclose(theirs.weight.detach().numpy().var(), bound ** 2 / 3, rtol=0.02)


def test_linear_init_is_seeded_and_validates():
    at.manual_seed(3)
    a = nn.Linear(5, 2).weight.data.copy()
    at.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(5, 2).weight.data, a)
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="in_features"):
            nn.Linear(bad, 2)
    with pytest.raises(at.ShapeError, match="linear"):
        nn.Linear(3, 2)(at.ones(2, 4))


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_mlp_matches_torch_twin(activation, dtype):
    class TorchMLP(torch.nn.Module):
        def __init__(self, nin, nouts):
            super().__init__()
            sizes = [nin] + nouts
            self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b)
                                              for a, b in zip(sizes, sizes[1:]))
            self.activation = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh,
                               "gelu": torch.nn.GELU}[activation]()

        def forward(self, x):
            for i, layer in enumerate(self.layers):
                x = layer(x)
                if i < len(self.layers) - 1:
                    x = self.activation(x)
            return x

    theirs = TorchMLP(6, [8, 8, 3]).to(TORCH_DTYPE[dtype])
    ours = nn.MLP(6, [8, 8, 3], activation=activation)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs).replace("TorchMLP", "MLP")
    if dtype == np.float64:
        ours.double()
    copy_from_torch(ours, theirs)
    run_both(ours, theirs, rng.standard_normal((7, 6)), dtype)


def test_mlp_loaded_from_torch_outputs_to_1e6():
    theirs = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.ReLU(),
                                 torch.nn.Linear(32, 4))
    ours = nn.MLP(10, [32, 4])
    ours.load_state_dict({k.replace("0.", "layers.0.").replace("2.", "layers.1."): v
                          for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((64, 10)).astype(np.float32)
    np.testing.assert_allclose(ours(at.Tensor(x)).data,
                               theirs(torch.tensor(x)).detach().numpy(), atol=1e-6)


def test_mlp_validation():
    with pytest.raises(ValueError, match="activation"):
        nn.MLP(2, [3], activation="swishy")
    with pytest.raises(ValueError, match="nouts"):
        nn.MLP(2, [])
    assert len(nn.MLP(2, 5).layers) == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_sequential_matches_torch(dtype):
    ours = nn.Sequential(nn.Linear(5, 6), nn.LeakyReLU(0.1), nn.Linear(6, 6), nn.Tanh(),
                         nn.Linear(6, 6), nn.Sigmoid(), nn.Linear(6, 6), nn.GELU(),
                         nn.Linear(6, 6), nn.SiLU(), nn.Linear(6, 4), nn.LogSoftmax(dim=1))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(5, 6), torch.nn.LeakyReLU(0.1), torch.nn.Linear(6, 6),
        torch.nn.Tanh(), torch.nn.Linear(6, 6), torch.nn.Sigmoid(), torch.nn.Linear(6, 6),
        torch.nn.GELU(), torch.nn.Linear(6, 6), torch.nn.SiLU(), torch.nn.Linear(6, 4),
        torch.nn.LogSoftmax(dim=1)).to(TORCH_DTYPE[dtype])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    ours.to(dtype)
    copy_from_torch(ours, theirs)
    run_both(ours, theirs, rng.standard_normal((3, 5)), dtype)


@pytest.mark.parametrize("make", [
    lambda m: m.Softmax(dim=-1), lambda m: m.LogSoftmax(dim=0), lambda m: m.Identity(),
    lambda m: m.Flatten(), lambda m: m.Flatten(0, 1), lambda m: m.Unflatten(1, (2, 6)),
    lambda m: m.ReLU(), lambda m: m.ReLU(inplace=True), lambda m: m.Softplus(2.0, 10.0),
    lambda m: m.GELU(approximate="tanh"), lambda m: m.LeakyReLU()])
def test_shape_and_activation_modules(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal((3, 12)) * 3
    xo, xt = at.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, expected = ours(xo), theirs(xt.clone() if "inplace=True" in repr(theirs) else xt)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_dropout_repr_and_eval_identity():
    assert repr(nn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25))
    layer = nn.Dropout().eval()
    x = at.randn(4, 4)
    assert layer(x) is x


def test_sequential_container_operations():
    a, b, c = nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    with pytest.raises(IndexError):
        seq[3]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail._modules) == ["1", "2"]  # as torch
    assert list(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.ReLU(), torch.nn.ReLU())[1:]
                ._modules) == ["1", "2"]
    seq.append(nn.Tanh())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is c
    seq.insert(0, nn.Identity())
    assert isinstance(seq[0], nn.Identity) and seq[1] is a
    seq[0] = nn.Sigmoid()
    assert isinstance(seq[0], nn.Sigmoid)
    named = nn.Sequential(OrderedDict([("first", a), ("second", c)]))
    assert named.first is a and list(named.state_dict()) == [
        "first.weight", "first.bias", "second.weight", "second.bias"]
    assert named(at.ones(5, 1)).shape == (5, 2)


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
    assert repr(layers) == repr(theirs)  # the compressed "(0-2): 3 x" form
    layers.append(nn.ReLU())
    theirs.append(torch.nn.ReLU())
    assert repr(layers) == repr(theirs)
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    assert len(layers) == 4 and isinstance(layers[-1], nn.ReLU)
    assert isinstance(layers[:2], nn.ModuleList) and len(layers[:2]) == 2
    layers += [nn.Tanh()]
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"]
    assert len(list(layers.parameters())) == 4
    layers.insert(1, nn.Identity())
    assert isinstance(layers[1], nn.Identity)
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.Linear(1, 2)
    heads.update([("c", nn.ReLU())])
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    heads.pop("a")
    assert list(heads.keys()) == ["b", "c"]


def _conv_bn_relu(dtype=np.float32, seed: int = 0) -> nn.Sequential:
    at.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, dtype=dtype),
                         nn.BatchNorm2d(3, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2))


def _graph_names(out) -> list:
    """The names of the nodes on the path from ``out`` back through first inputs."""
    names, node = [], out.grad_fn
    while node is not None:
        names.append(node.name)
        first = node.inputs[0] if node.inputs else None
        node = getattr(first, "grad_fn", None)
    return names


def _assert_close(got, expected, dtype, name=""):
    """Within the file's tolerances, relative to the array's largest value: a gradient
    summed over a batch loses float32 digits to cancellation in its smaller entries."""
    scale = max(float(np.abs(expected).max()), 1.0)
    np.testing.assert_allclose(got, expected, rtol=TOL[dtype]["rtol"],
                               atol=TOL[dtype]["atol"] * scale, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["train", "eval without running stats"])
def test_sequential_batch_norm_then_relu_as_one_op_matches_torch(mode, dtype):
    """Sequential's fast path (ops/normalization.BatchNormReLU) against PyTorch over two
    steps: outputs, input and parameter gradients, running statistics."""
    tracking = mode == "train"
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1, bias=False),
        torch.nn.BatchNorm2d(3, track_running_stats=tracking), torch.nn.ReLU(),
        torch.nn.MaxPool2d(2)).to(TORCH_DTYPE[dtype])
    ours = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, bias=False, dtype=dtype),
                         nn.BatchNorm2d(3, track_running_stats=tracking, dtype=dtype),
                         nn.ReLU(), nn.MaxPool2d(2))
    with torch.no_grad():  # a weight and bias that are not 1 and 0
        theirs[1].weight.uniform_(-2, 2)
        theirs[1].bias.uniform_(-1, 1)
    copy_from_torch(ours, theirs)
    if not tracking:
        ours.eval(), theirs.eval()
    for _ in range(2):
        x = (rng.standard_normal((4, 2, 6, 6)) * 2 + 0.5).astype(dtype)
        r = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
        ours.zero_grad(), theirs.zero_grad()
        xo, xt = at.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(xo), theirs(xt)
        assert "batch_norm_relu" in _graph_names(out)
        _assert_close(out.data, expected.detach().numpy(), dtype)
        (out * at.Tensor(r)).sum().backward()
        (expected * torch.tensor(r)).sum().backward()
        _assert_close(xo.grad.data, xt.grad.numpy(), dtype)
        for (name, param), theirs_param in zip(ours.named_parameters(), theirs.parameters()):
            _assert_close(param.grad.data, theirs_param.grad.numpy(), dtype, name)
    buffers = dict(theirs.named_buffers())
    assert sorted(buffers) == sorted(name for name, _ in ours.named_buffers())
    for name, buffer in ours.named_buffers():
        _assert_close(buffer.data, buffers[name].numpy(), dtype, name)


def test_sequential_fused_batch_norm_relu_gives_the_modules_results_exactly():
    """The fused primitive against the same modules called one at a time."""
    x, r = rng.standard_normal((4, 2, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    results = []
    for fused in (True, False):
        model, images = _conv_bn_relu(), at.Tensor(x.astype(np.float32), requires_grad=True)
        out = images
        if fused:
            out = model(out)
        else:
            for module in model:
                out = module(out)
        assert ("batch_norm_relu" in _graph_names(out)) == fused
        (out * at.Tensor(r.astype(np.float32))).sum().backward()
        results.append([out.data, images.grad.data] + [p.grad.data for p in model.parameters()]
                       + [b.data for b in model.buffers()])
    for fast, reference in zip(*results):
        np.testing.assert_array_equal(fast, reference)


@pytest.mark.parametrize("change", ["hook on relu", "pre-hook on batch norm", "eval",
                                    "relu subclass", "forward replaced", "order"])
def test_sequential_keeps_batch_norm_and_relu_apart_when_anything_could_watch(change):
    x = rng.standard_normal((4, 2, 6, 6))
    model = _conv_bn_relu()
    seen = []
    if change == "hook on relu":
        model[2].register_forward_hook(lambda m, args, out: seen.append(args[0]))
    elif change == "pre-hook on batch norm":
        model[1].register_forward_pre_hook(lambda m, args: seen.append(args[0]))
    elif change == "eval":
        model.eval()
    elif change == "relu subclass":
        class MyReLU(nn.ReLU):
            pass
        model[2] = MyReLU()
    elif change == "forward replaced":
        model[2].forward = lambda input: seen.append(input) or at.relu(input)
    elif change == "order":
        model = nn.Sequential(model[0], model[2], model[1])
    out = model(at.Tensor(x.astype(np.float32), requires_grad=True))
    names = _graph_names(out)
    assert "batch_norm" in names or "add" in names  # the batch norm ran, on its own
    assert "batch_norm_relu" not in names
    if change in ("hook on relu", "pre-hook on batch norm", "forward replaced"):
        assert len(seen) == 1
