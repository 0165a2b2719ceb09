"""The activation modules of nn/activation.py and their functions against PyTorch: values
and gradients in both float dtypes, reprs, inplace=True with and without a graph, errors."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import abdou_torch as at
from abdou_torch import nn
from abdou_torch.nn import functional as F

DTYPES = [np.float32, np.float64]
rng = np.random.default_rng(0)
X = rng.uniform(-4, 4, (3, 4, 6))

MODULES = [
    ("ELU", (), {}), ("ELU", (0.5,), dict(inplace=False)), ("CELU", (2.0,), {}),
    ("SELU", (), {}), ("Hardtanh", (-2.0, 1.5), {}), ("ReLU6", (), {}), ("Mish", (), {}),
    ("Hardswish", (), {}), ("Hardsigmoid", (), {}), ("Softsign", (), {}),
    ("Tanhshrink", (), {}), ("Threshold", (0.5, -2.0), {}), ("GLU", (), {}),
    ("GLU", (1,), {}), ("LogSigmoid", (), {}), ("Softmin", (1,), {}), ("Hardshrink", (), {}),
    ("Softshrink", (0.3,), {}), ("ReLU", (), dict(inplace=True)), ("SiLU", (), {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs", MODULES, ids=[m[0] + str(m[1]) for m in MODULES])
def test_module_matches_torch(check, name, args, kwargs, dtype):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-7, atol=1e-12)
    check(lambda x: ours(x * 1.0), lambda x: theirs(x * 1.0), [X], dtype, tol=tol)


def test_reprs_of_options():
    cases = [("ELU", (0.5, True)), ("Hardtanh", (-2, 2, True)), ("ReLU6", (True,)),
             ("Mish", (True,)), ("Threshold", (0.1, 2.0, True)), ("Softmin", ()),
             ("PReLU", (3, 0.1)), ("CosineSimilarity", ()), ("PairwiseDistance", ())]
    for name, args in cases:
        ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("num_parameters, shape", [(1, (3, 4, 5)), (4, (3, 4, 5)), (4, (2, 4)),
                                                   (1, (5,)), (1, ())])
def test_prelu_learns_its_slopes_like_torch(num_parameters, shape):
    ours, theirs = nn.PReLU(num_parameters, 0.2), torch.nn.PReLU(num_parameters, 0.2)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    data = rng.standard_normal(shape).astype(np.float32)
    x, xt = at.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ours(x).sum().backward()
    theirs(xt).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    assert list(ours.state_dict()) == ["weight"]


@pytest.mark.parametrize("module", [("CosineSimilarity", (), {}),
                                    ("CosineSimilarity", (-1, 0.1), {}),
                                    ("PairwiseDistance", (), {}),
                                    ("PairwiseDistance", (1.0,), dict(keepdim=True))])
def test_distance_modules_match_torch(check, module):
    name, args, kwargs = module
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    a[0] = 0.0  # a zero vector: the clamped norm of cosine_similarity
    check(lambda u, v: ours(u, v), lambda u, v: theirs(u, v), [a, b])


FUNCTIONS = [
    ("relu", {}), ("leaky_relu", dict(negative_slope=0.2)), ("elu", dict(alpha=0.7)),
    ("selu", {}), ("celu", dict(alpha=1.5)), ("hardtanh", dict(min_val=-0.5, max_val=2.0)),
    ("relu6", {}), ("mish", {}), ("hardswish", {}), ("hardsigmoid", {}), ("silu", {}),
    ("threshold", dict(threshold=1.0, value=0.5)),
]


@pytest.mark.parametrize("name, kwargs", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_inplace_overwrites_the_input_like_torch(name, kwargs):
    data = X[0].copy()
    x, xt = at.tensor(data), torch.tensor(data)
    result = getattr(F, name)(x, inplace=True, **kwargs)
    getattr(TF, name)(xt, inplace=True, **kwargs)
    assert result is x
    np.testing.assert_allclose(x.numpy(), xt.numpy(), rtol=1e-12)
    # in a graph: the gradient goes through the new history
    leaf, leaft = at.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y, yt = leaf * 2, leaft * 2
    getattr(F, name)(y, inplace=True, **kwargs).sum().backward()
    getattr(TF, name)(yt, inplace=True, **kwargs).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), leaft.grad.numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name, args", [("relu_", ()), ("elu_", (0.5,)),
                                        ("leaky_relu_", (0.3,)), ("hardtanh_", (-1.0, 0.5)),
                                        ("threshold_", (0.2, 9.0))])
def test_underscore_functions(name, args):
    x, xt = at.tensor(X[1].copy()), torch.tensor(X[1].copy())
    assert getattr(F, name)(x, *args) is x
    getattr(TF, name)(xt, *args)
    np.testing.assert_allclose(x.numpy(), xt.numpy(), rtol=1e-12)


def test_elu_family_has_finite_gradients_for_large_inputs():
    for function in (F.elu, F.selu, F.celu, F.mish):
        x = at.tensor([1000.0, -1000.0, 0.0], requires_grad=True)
        function(x).sum().backward()
        assert np.all(np.isfinite(x.grad.numpy())), function.__name__


def test_kinks_take_torchs_side():
    points = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0])
    for name in ("hardtanh", "relu6", "hardswish", "elu", "selu", "hardshrink", "softshrink"):
        x, xt = at.tensor(points, requires_grad=True), torch.tensor(points, requires_grad=True)
        getattr(F, name)(x).sum().backward()
        getattr(TF, name)(xt).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, err_msg=name)


def test_softmin_without_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="softmin"):
        ours = F.softmin(at.tensor(X[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = TF.softmin(torch.tensor(X[0]))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda lib, F: F.glu(lib.ones(2, 3)), lambda lib, F: F.glu(lib.tensor(1.0)),
    lambda lib, F: F.hardtanh(lib.ones(2), 2.0, 1.0),
    lambda lib, F: F.softshrink(lib.ones(2), -1.0),
    lambda lib, F: F.prelu(lib.ones(2, 3), lib.ones(2)),
    lambda lib, F: F.prelu(lib.ones(5), lib.ones(5)),
])
def test_errors_like_torch(call):
    with pytest.raises(Exception) as theirs:
        call(torch, TF)
    with pytest.raises(type(theirs.value)):
        call(at, F)


def test_logsigmoid_keeps_the_digits_of_tiny_results_like_torch():
    """log(1 + 1e-9) rounds 1 + 1e-9 first; log1p does not."""
    x = np.array([18.8, 25.0, 30.0, -40.0])
    ours = F.logsigmoid(at.tensor(x)).numpy()
    theirs = TF.logsigmoid(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


def test_softsign_gradient_does_not_overflow_for_a_large_upstream_gradient():
    x = np.array([1.6061630249023438, -0.5, 3.0], dtype=np.float32)
    dy = np.array([3e38, -3e38, 1e38], dtype=np.float32)
    grads = []
    for lib, fn in ((at, F.softsign), (torch, TF.softsign)):
        xt = lib.tensor(x, requires_grad=True)
        grads.append(lib.autograd.grad(fn(xt), [xt], lib.tensor(dy))[0].numpy())
    assert np.isfinite(grads[1]).all()
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("values, dim", [(3, 1), ([3], 0), ([True], 3)])
def test_softmax_family_checks_dim_before_dtype_like_torch(name, values, dim):
    with pytest.raises(Exception) as theirs:
        getattr(TF, name)(torch.tensor(values), dim)
    with pytest.raises(Exception) as ours:
        getattr(F, name)(at.tensor(values), dim)
    expected = IndexError if isinstance(theirs.value, IndexError) else RuntimeError
    assert isinstance(ours.value, expected) or (expected is RuntimeError and
                                                isinstance(ours.value, TypeError))


def test_softmin_negates_before_casting_like_torch():
    x = np.array([0, 1, 2], dtype=np.uint8)  # -x wraps in uint8 (0, 255, 254), then the cast
    ours = F.softmin(at.tensor(x), 0, dtype=at.float32).numpy()
    theirs = TF.softmin(torch.tensor(x), 0, dtype=torch.float32).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_softshrink_zeros_keep_the_sign_and_nan_passes_like_torch():
    x = np.array([np.nan, -0.3, 0.3, -0.0, 0.7, -0.7, np.inf])
    dy = np.array([1.0, np.inf, 2.0, 3.0, 4.0, 5.0, 6.0])
    results = []
    for lib, fn in ((at, F.softshrink), (torch, TF.softshrink)):
        xt = lib.tensor(x, requires_grad=True)
        y = fn(xt)
        results.append((y.detach().numpy(), lib.autograd.grad(y, xt, lib.tensor(dy))[0].numpy()))
    (y, g), (y_ref, g_ref) = results
    np.testing.assert_array_equal(y, y_ref)
    assert np.array_equal(np.signbit(y), np.signbit(y_ref))
    np.testing.assert_array_equal(g, g_ref)


def test_logsigmoid_of_half_rounds_once_like_torch():
    x = np.array([0.82, -2.75, 2.9, -0.1, 8.0, -12.0], dtype=np.float16)
    np.testing.assert_array_equal(F.logsigmoid(at.tensor(x)).numpy(),
                                  TF.logsigmoid(torch.tensor(x)).numpy())


def test_hardshrink_passes_nan_like_torch():
    x = np.array([np.nan, -0.3, 0.5, -0.0, 0.7, -0.7, np.inf])
    np.testing.assert_array_equal(F.hardshrink(at.tensor(x)).numpy(),
                                  TF.hardshrink(torch.tensor(x)).numpy())
