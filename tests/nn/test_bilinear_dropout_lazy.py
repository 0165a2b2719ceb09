"""Bilinear / F.bilinear, LazyLinear, Softmax2d and the dropout variants (Dropout1d,
AlphaDropout, FeatureAlphaDropout) against PyTorch: values, gradients, initialisation
from the same seed, masks from the same seed, reprs and errors."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch as at  # noqa: E402
import abdou_torch.nn as nn  # noqa: E402
import abdou_torch.nn.functional as F  # noqa: E402

TF = torch.nn.functional
DTYPES = [np.float32, np.float64]
rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("batch", [(5,), (2, 3), ()])
def test_bilinear_function_matches_torch(check, batch, dtype):
    x1, x2 = rng.standard_normal(batch + (4,)), rng.standard_normal(batch + (3,))
    w, b = rng.standard_normal((6, 4, 3)), rng.standard_normal(6)
    check(F.bilinear, TF.bilinear, [x1, x2, w, b], dtype)
    check(lambda a, c, d: F.bilinear(a, c, d), lambda a, c, d: TF.bilinear(a, c, d),
          [x1, x2, w], dtype)


def test_bilinear_layer_initialises_and_prints_like_torch():
    at.manual_seed(7)
    torch.manual_seed(7)
    ours, theirs = nn.Bilinear(4, 3, 5), torch.nn.Bilinear(4, 3, 5)
    assert repr(ours) == repr(theirs)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key].data, value.numpy())
    assert nn.Bilinear(2, 2, 2, bias=False).bias is None
    x1, x2 = rng.standard_normal((2, 4)), rng.standard_normal((2, 3))
    with pytest.raises(RuntimeError):
        TF.bilinear(torch.tensor(x1), torch.tensor(x2[:1]), theirs.weight.double())
    with pytest.raises(RuntimeError):
        F.bilinear(at.tensor(x1), at.tensor(x2[:1]), ours.weight.double())
    with pytest.raises(RuntimeError):
        F.bilinear(at.tensor(x2), at.tensor(x2), ours.weight.double())


def test_lazy_linear_becomes_a_linear_like_torch():
    ours, theirs = nn.LazyLinear(5), torch.nn.LazyLinear(5)
    assert repr(ours) == repr(theirs)
    x = rng.standard_normal((3, 7)).astype(np.float32)
    at.manual_seed(11)
    torch.manual_seed(11)
    out, expected = ours(at.tensor(x)), theirs(torch.tensor(x))
    assert type(ours) is nn.Linear and type(theirs) is torch.nn.Linear
    assert repr(ours) == repr(theirs) and ours.in_features == 7
    np.testing.assert_array_equal(ours.weight.data, theirs.weight.detach().numpy())
    np.testing.assert_array_equal(ours.bias.data, theirs.bias.detach().numpy())
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-6, atol=1e-6)
    out.sum().backward()
    assert ours.weight.grad.shape == (5, 7)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_softmax2d_matches_torch(check, dtype):
    check(nn.Softmax2d(), torch.nn.Softmax2d(), [rng.standard_normal((2, 3, 4, 5))], dtype)
    check(nn.Softmax2d(), torch.nn.Softmax2d(), [rng.standard_normal((3, 4, 5))], dtype)
    with pytest.raises(ValueError):
        torch.nn.Softmax2d()(torch.zeros(2, 3))
    with pytest.raises(ValueError):
        nn.Softmax2d()(at.zeros(2, 3))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name, layer, shape, p", [
    ("dropout1d", "Dropout1d", (4, 5, 6), 0.3), ("dropout1d", "Dropout1d", (5, 6), 0.5),
    ("alpha_dropout", "AlphaDropout", (4, 5, 6), 0.2),
    ("feature_alpha_dropout", "FeatureAlphaDropout", (3, 4, 2, 2), 0.4),
])
def test_dropout_variants_draw_torchs_masks(name, layer, shape, p, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    ours, theirs = at.Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    at.manual_seed(5)
    torch.manual_seed(5)
    out = getattr(F, name)(ours, p, training=True)
    expected = getattr(TF, name)(theirs, p, training=True)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=0)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=0)
    module, reference = getattr(nn, layer)(p), getattr(torch.nn, layer)(p)
    assert repr(module) == repr(reference)
    at.manual_seed(9)
    torch.manual_seed(9)
    np.testing.assert_array_equal(module(at.tensor(x)).data, reference(torch.tensor(x)).numpy())
    module.eval()
    np.testing.assert_array_equal(module(ours).data, x)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            getattr(nn, layer)(bad)
        with pytest.raises(ValueError):
            getattr(F, name)(ours, bad)


def test_dropout1d_rejects_other_ranks_like_torch():
    with pytest.raises(RuntimeError):
        TF.dropout1d(torch.zeros(2, 3, 4, 5))
    with pytest.raises(RuntimeError):
        F.dropout1d(at.zeros(2, 3, 4, 5))
