"""Conv, pooling, normalisation and embedding modules against torch.nn: state-dict keys and
shapes, outputs after loading torch's weights by name, running statistics, reprs, init."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn as tnn

import abdou_torch as at
import abdou_torch.nn as nn
from abdou_torch.models import CNN

rng = np.random.default_rng(3)


def load_from_torch(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def assert_same_state(ours, theirs, rtol=1e-6, atol=1e-7):
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert list(ours_state) == list(theirs_state)
    for key, value in theirs_state.items():
        assert ours_state[key].shape == tuple(value.shape), key
        assert ours_state[key].dtype == value.numpy().dtype, key
        np.testing.assert_allclose(ours_state[key].data, value.numpy(), rtol=rtol, atol=atol,
                                   err_msg=key)


MODULE_PAIRS = [
    ("Conv2d", (3, 8, 3), {}, (2, 3, 7, 7)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=1, dilation=(1, 2), groups=2,
                                     bias=False), (1, 4, 8, 9)),
    ("Conv2d", (2, 4, 4), dict(padding="same"), (2, 2, 6, 6)),
    ("Conv1d", (3, 5, 3), dict(stride=2, padding=1), (2, 3, 10)),
    ("ConvTranspose2d", (3, 4, 3), {}, (2, 3, 5, 5)),
    ("ConvTranspose2d", (4, 6, (3, 2)), dict(stride=2, padding=1, output_padding=1,
                                              groups=2, dilation=(2, 1), bias=False),
     (1, 4, 4, 5)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", ((3, 2),), dict(stride=1, padding=1, ceil_mode=True), (1, 2, 5, 5)),
    ("AvgPool2d", (3, 2, 1), dict(count_include_pad=False), (2, 2, 7, 7)),
    ("AdaptiveAvgPool2d", ((2, 3),), {}, (2, 2, 7, 8)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 2, 5, 5)),
    ("AdaptiveMaxPool2d", ((3, None),), {}, (2, 2, 7, 8)),
    ("AdaptiveMaxPool2d", (4,), {}, (3, 7, 5)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 9)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 8)),
    ("MaxPool1d", (3,), dict(stride=2), (2, 3, 9)),
    ("AvgPool1d", (2,), {}, (2, 3, 9)),
    ("BatchNorm2d", (3,), {}, (4, 3, 5, 5)),
    ("BatchNorm2d", (3,), dict(momentum=None, affine=False), (4, 3, 2, 2)),
    ("BatchNorm2d", (3,), dict(track_running_stats=False), (4, 3, 2, 2)),
    ("BatchNorm1d", (3,), dict(eps=1e-3, momentum=0.3), (5, 3)),
    ("BatchNorm1d", (3,), dict(bias=False), (5, 3, 4)),
    ("LayerNorm", ((3, 4),), {}, (2, 3, 4)),
    ("LayerNorm", (4,), dict(elementwise_affine=False), (2, 4)),
    ("LayerNorm", (4,), dict(bias=False), (2, 4)),
    ("Dropout2d", (0.3,), {}, (2, 3, 4, 4)),
]


@pytest.mark.parametrize("name, args, kwargs, input_shape", MODULE_PAIRS)
def test_module_matches_torch(name, args, kwargs, input_shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(tnn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert [(k, v.shape) for k, v in ours_state.items()] == \
        [(k, tuple(v.shape)) for k, v in theirs_state.items()]
    with torch.no_grad():  # non-trivial affine parameters
        for parameter in theirs.parameters():
            parameter.copy_(torch.randn(parameter.shape))
    load_from_torch(ours, theirs)
    for mode in ("train", "train", "train", "eval"):  # running stats move, then are used
        ours.train(mode == "train"), theirs.train(mode == "train")
        x = rng.standard_normal(input_shape).astype(np.float32)
        if name == "Dropout2d" and mode == "train":
            continue  # random masks differ between the libraries
        xt = torch.tensor(x, requires_grad=True)
        xo = at.Tensor(x, requires_grad=True)
        out, expected = ours(xo), theirs(xt)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-4, atol=1e-5)
        weights = rng.standard_normal(out.shape).astype(np.float32)
        (out * at.Tensor(weights)).sum().backward()
        (expected * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), rtol=1e-4, atol=1e-4)
        for (key, p), tp in zip(ours.named_parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-4, atol=1e-4,
                                       err_msg=key)
            p.grad, tp.grad = None, None
        assert_same_state(ours, theirs, rtol=1e-5, atol=1e-6)


def test_batch_norm_num_batches_tracked_and_cumulative_momentum():
    ours, theirs = nn.BatchNorm2d(2, momentum=None), tnn.BatchNorm2d(2, momentum=None)
    for _ in range(3):
        x = rng.standard_normal((4, 2, 3, 3)).astype(np.float32) * 2 + 1
        ours(at.Tensor(x)), theirs(torch.tensor(x))
    assert ours.num_batches_tracked.dtype == np.int64 and ours.num_batches_tracked.ndim == 0
    assert int(ours.num_batches_tracked.item()) == 3
    assert_same_state(ours, theirs, rtol=1e-5)
    ours.eval()
    with at.no_grad():
        ours(at.Tensor(x))
    assert int(ours.num_batches_tracked.item()) == 3  # eval leaves the statistics alone


def test_batch_norm_module_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input"):
        nn.BatchNorm2d(3)(at.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r"BatchNorm1d.*\(2, 4\).*expected 3"):
        nn.BatchNorm1d(3)(at.zeros(2, 4))


def test_conv_init_follows_pytorch():
    at.manual_seed(0)
    conv = nn.Conv2d(16, 8, 3)
    fan_in = 16 * 9
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5)) gives the same bound
    assert np.abs(conv.weight.data).max() <= bound and np.abs(conv.bias.data).max() <= bound
    assert np.abs(conv.weight.data).max() > 0.9 * bound
    assert abs(conv.weight.data.std() - bound / math.sqrt(3)) < 0.1 * bound
    assert conv.weight.dtype == np.float32
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)


def test_conv_transpose2d_output_size_and_init_match_torch():
    ours, theirs = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1), \
        tnn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)
    assert ours.weight.shape == tuple(theirs.weight.shape) == (2, 3, 3, 3)
    bound = 1 / math.sqrt(3 * 9)  # fan_in of a transposed weight: out/groups * kH * kW
    assert np.abs(ours.weight.data).max() <= bound and np.abs(ours.bias.data).max() <= bound
    load_from_torch(ours, theirs)
    x = rng.standard_normal((1, 2, 4, 4)).astype(np.float32)
    for size in ((7, 7), (8, 8), (1, 3, 8, 7)):
        out, expected = ours(at.Tensor(x), output_size=size), \
            theirs(torch.tensor(x), output_size=size)
        assert out.shape == tuple(expected.shape)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"output_size \(9, 9\).*7 to 8"):
        ours(at.Tensor(x), output_size=(9, 9))


def test_embedding_module():
    at.manual_seed(0)
    ours, theirs = nn.Embedding(20, 4, padding_idx=3), tnn.Embedding(20, 4, padding_idx=3)
    assert repr(ours) == repr(theirs) and repr(nn.Embedding(5, 2)) == repr(tnn.Embedding(5, 2))
    assert np.all(ours.weight.data[3] == 0)
    assert abs(float(ours.weight.data.std()) - 1) < 0.3  # N(0, 1)
    load_from_torch(ours, theirs)
    indices = rng.integers(0, 20, (5, 6))
    indices[0, :3] = 3
    out, expected = ours(at.tensor(indices)), theirs(torch.tensor(indices))
    np.testing.assert_allclose(out.data, expected.detach().numpy())
    out.sum().backward(), expected.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy())
    assert np.all(ours.weight.grad.data[3] == 0)


def test_cnn_matches_torch_after_loading_weights():
    ours = CNN()
    c1, c2, c3 = 32, 32, 64

    class TorchCNN(tnn.Module):
        def __init__(self):
            super().__init__()
            self.features = tnn.Sequential(
                tnn.Conv2d(1, c1, 3, padding=1, bias=False), tnn.BatchNorm2d(c1), tnn.ReLU(),
                tnn.Conv2d(c1, c2, 3, bias=False), tnn.BatchNorm2d(c2), tnn.ReLU(),
                tnn.MaxPool2d(2), tnn.Conv2d(c2, c3, 3, bias=False), tnn.BatchNorm2d(c3),
                tnn.ReLU(), tnn.MaxPool2d(2))
            self.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(c3 * 25, 128),
                                             tnn.ReLU(), tnn.Dropout(0.3), tnn.Linear(128, 10))

        def forward(self, x):
            return self.classifier(self.features(x))

    theirs = TorchCNN()
    load_from_torch(ours, theirs)
    assert_same_state(ours, theirs)
    x = rng.standard_normal((3, 1, 28, 28)).astype(np.float32)
    ours.eval(), theirs.eval()
    with at.no_grad():
        out = ours(at.Tensor(x))
    assert out.shape == (3, 10)
    np.testing.assert_allclose(out.data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4,
                               atol=1e-4)
    ours.train()
    loss = ours(at.Tensor(x[:, 0])).sum()  # (N, 28, 28) images are accepted too
    loss.backward()
    assert all(p.grad is not None for p in ours.parameters())
