"""nn.functional: activations, softmax / log_softmax, one_hot, dropout, re-exports."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import abdou_torch as at
from abdou_torch import ops
from abdou_torch.nn import functional as F

DTYPES = [np.float32, np.float64]
rng = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", [
    ("relu", {}), ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}),
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("sigmoid", {}), ("tanh", {}),
    ("silu", {}), ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 5.0}),
    ("logsigmoid", {})])
def test_activations_match_torch(check, name, kwargs, dtype):
    # drawn here, not from the module's generator, so the values do not depend on which
    # tests ran before in this process (with a draw near x = -5.3 the float32 tanh form
    # of gelu differs from PyTorch's, which rounds 1 + tanh to 0, by 1.2e-6)
    x = np.random.default_rng(1).standard_normal((4, 7)) * 4
    x[0, :3] = [0.0, 40.0, -40.0]  # the kink, and saturation both ways
    theirs = getattr(TF, name) if hasattr(TF, name) else getattr(torch, name)
    check(lambda t: getattr(F, name)(t, **kwargs), lambda t: theirs(t, **kwargs), [x], dtype)


def test_reexports_are_the_ops():
    assert F.linear is ops.linalg.linear
    assert F.pad is ops.shape.pad
    assert F.relu is ops.elementwise.relu
    # convolution and normalisation functions written in their own ops families
    assert F.conv2d is ops.conv.conv2d
    assert F.max_pool2d is ops.pooling.max_pool2d
    assert F.batch_norm is ops.normalization.batch_norm
    assert at.nn.functional is F


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((5,), 0), ((3, 6), 1), ((3, 6), 0), ((3, 6), -1),
                                        ((2, 3, 4), 1), ((2, 3, 4), -1)])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_matches_torch(check, name, shape, dim, dtype):
    x = rng.standard_normal(shape) * 3
    check(lambda t: getattr(F, name)(t, dim), lambda t: getattr(TF, name)(t, dim), [x], dtype)


def test_softmax_rows_sum_to_one_and_tensor_methods():
    x = at.randn(4, 9)
    np.testing.assert_allclose(F.softmax(x, 1).sum(1).data, np.ones(4), rtol=1e-6)
    np.testing.assert_allclose(x.softmax(1).data, F.softmax(x, 1).data)
    np.testing.assert_allclose(x.log_softmax(-1).data, F.log_softmax(x, -1).data)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_large_logits_finite_and_match_torch(check, name, dtype):
    x = rng.standard_normal((4, 6)) * 1e4
    x[0] = [1e4, -1e4, 1e4, 0, 5e3, -3e3]
    out, _ = check(lambda t: getattr(F, name)(t, 1), lambda t: getattr(TF, name)(t, 1), [x],
                   dtype, tol=dict(rtol=1e-6, atol=1e-6))
    assert np.isfinite(out.data).all()


def test_log_softmax_with_minus_inf_entries():
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]])
    ours, theirs = F.log_softmax(at.Tensor(x), 1), TF.log_softmax(torch.tensor(x), 1)
    np.testing.assert_allclose(ours.data, theirs.numpy())
    np.testing.assert_allclose(F.softmax(at.Tensor(x), 1).data, TF.softmax(torch.tensor(x), 1))


def test_softmax_implicit_dim_warns_like_torch():
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        ours = F.softmax(at.Tensor(x))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = TF.softmax(torch.tensor(x))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


def test_softmax_dtype_argument_and_errors():
    x = at.Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    assert F.softmax(x, 1, dtype=at.float64).dtype == np.float64
    with pytest.raises(IndexError, match="softmax"):
        F.softmax(x, 2)
    with pytest.raises(TypeError, match="floating"):
        F.log_softmax(at.Tensor(np.arange(3)), 0)


def test_softmax_gradient_of_a_composite_is_twice_differentiable():
    from abdou_torch.autograd.gradcheck import gradcheck, gradgradcheck
    x = at.Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.log_softmax(t, 1), (x,))
    assert gradgradcheck(lambda t: F.softmax(t, 1), (x,))


# -- one_hot ----------------------------------------------------------------------------------

@pytest.mark.parametrize("values, num_classes", [([0, 2, 1, 2], -1), ([[0, 3], [1, 1]], 5),
                                                 (3, 4), ([], 3)])
def test_one_hot_matches_torch(values, num_classes):
    values = np.asarray(values, dtype=np.int64)
    ours = F.one_hot(at.Tensor(values), num_classes)
    theirs = TF.one_hot(torch.tensor(values), num_classes)
    assert ours.dtype == np.int64
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("values, num_classes, error", [
    ([0, 3], 3, ValueError), ([-1, 0], -1, ValueError), ([], -1, ValueError),
    (np.array([0.0, 1.0]), -1, TypeError)])
def test_one_hot_errors(values, num_classes, error):
    values = np.asarray(values) if isinstance(values, np.ndarray) else \
        np.asarray(values, dtype=np.int64)
    with pytest.raises(error):
        F.one_hot(at.Tensor(values), num_classes)


# -- dropout ----------------------------------------------------------------------------------

def test_dropout_statistics_and_scaling():
    at.manual_seed(0)
    x = at.ones(200, 500)
    y = F.dropout(x, 0.3)
    kept = y.data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.7, rtol=1e-6)
    assert abs(y.data.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_dropout_gradient_is_the_mask():
    at.manual_seed(1)
    x = at.Tensor(rng.standard_normal((6, 8)), requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, (y.data != 0) * 2.0)
    np.testing.assert_allclose(y.data, x.data * (y.data != 0) * 2.0)


def test_dropout_reproducible_from_the_default_generator_and_a_given_one():
    x = at.ones(10, 10)
    at.manual_seed(7)
    first = F.dropout(x, 0.5).data
    at.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, first)
    a = F.dropout(x, 0.5, generator=at.Generator(3)).data
    b = F.dropout(x, 0.5, generator=at.Generator(3)).data
    np.testing.assert_array_equal(a, b)


def test_dropout_eval_edges_and_validation():
    x = at.Tensor(rng.standard_normal((3, 4)).astype(np.float32))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    zeros = F.dropout(x, 1.0)
    assert zeros.dtype == np.float32 and not zeros.data.any()
    for p in (-0.1, 1.5, True):
        with pytest.raises(ValueError, match="between 0 and 1"):
            F.dropout(x, p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        TF.dropout(torch.ones(2), 1.5)  # torch says the same


ISSUE_11_FUNCTIONAL = [
    "hardtanh", "hardtanh_", "relu6", "elu", "elu_", "selu", "celu", "mish", "hardswish",
    "hardsigmoid", "softsign", "tanhshrink", "threshold", "threshold_", "glu", "logsigmoid",
    "softmin", "hardshrink", "softshrink", "prelu", "relu_", "leaky_relu_", "normalize",
    "cosine_similarity", "pairwise_distance", "smooth_l1_loss", "huber_loss", "kl_div",
    "soft_margin_loss", "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
    "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss", "multi_margin_loss",
    "triplet_margin_loss", "one_hot", "softplus",
]
ISSUE_11_MODULES = [
    "ELU", "Hardtanh", "ReLU6", "SELU", "CELU", "Mish", "Hardswish", "Hardsigmoid", "Softsign",
    "Tanhshrink", "Threshold", "GLU", "LogSigmoid", "Softmin", "Hardshrink", "Softshrink",
    "PReLU", "CosineSimilarity", "PairwiseDistance", "SmoothL1Loss", "HuberLoss", "KLDivLoss",
    "SoftMarginLoss", "MultiLabelSoftMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
    "MarginRankingLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "MultiMarginLoss",
    "TripletMarginLoss",
]


def test_the_functional_names_and_modules_of_issue_11_exist():
    for name in ISSUE_11_FUNCTIONAL:
        assert callable(getattr(TF, name)) and callable(getattr(F, name)), name
        assert name in F.__all__, name
    for name in ISSUE_11_MODULES:
        assert isinstance(getattr(torch.nn, name), type), name
        assert issubclass(getattr(at.nn, name), at.nn.Module), name


def test_cosine_similarity_with_an_infinite_norm_and_mixed_dtypes_like_torch():
    """The eps clamp of the norms must leave an infinite norm alone (inf - inf made NaN);
    float16 with int64 computes in float16."""
    a = np.array([[3e38, 2.6, 1.9, -3.0], [1.0, 2.0, 3.0, 4.0]], dtype=np.float32)
    b = np.array([[0.3, -2.8, 1.5, 0.2], [0.0, 0.0, 0.0, 0.0]], dtype=np.float32)
    ours = at.nn.functional.cosine_similarity(at.tensor(a), at.tensor(b)).numpy()
    theirs = torch.nn.functional.cosine_similarity(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    half, ints = np.ones((3, 4), np.float16), np.arange(12).reshape(3, 4)
    assert str(at.nn.functional.cosine_similarity(at.tensor(half), at.tensor(ints)).dtype) == \
        str(torch.nn.functional.cosine_similarity(torch.tensor(half), torch.tensor(ints)).dtype)


def test_gaussian_nll_loss_with_an_infinite_variance_like_torch():
    x, t, var = np.zeros(3), np.ones(3), np.array([np.inf, 1e-9, 2.0])
    ours = at.nn.functional.gaussian_nll_loss(at.tensor(x), at.tensor(t), at.tensor(var),
                                              reduction="none").numpy()
    theirs = torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(t),
                                                   torch.tensor(var), reduction="none").numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
