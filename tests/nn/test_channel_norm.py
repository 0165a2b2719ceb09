"""GroupNorm, InstanceNorm1d/2d/3d and LocalResponseNorm (and their functions) against
PyTorch: outputs, input and parameter gradients in float32 and float64, running statistics,
eval mode, second derivatives, reprs, state-dict keys and errors."""
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
@pytest.mark.parametrize("shape, groups", [((2, 6, 4, 5), 3), ((3, 4, 7), 2), ((3, 12), 3),
                                           ((2, 6, 2, 3, 2), 1), ((1, 4, 3, 3), 4)])
def test_group_norm_matches_torch(check, shape, groups, dtype):
    c = shape[1]
    x = rng.standard_normal(shape) * 3 + 1
    weight, bias = rng.standard_normal(c), rng.standard_normal(c)
    check(lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-3),
          lambda x, w, b: TF.group_norm(x, groups, w, b, eps=1e-3), [x, weight, bias], dtype)
    check(lambda x: F.group_norm(x, groups), lambda x: TF.group_norm(x, groups), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_group_norm_layer_matches_torch(dtype):
    ours, theirs = nn.GroupNorm(2, 6, dtype=dtype), torch.nn.GroupNorm(2, 6, dtype=getattr(
        torch, np.dtype(dtype).name))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x = rng.standard_normal((3, 6, 4)).astype(dtype)
    np.testing.assert_allclose(ours(at.tensor(x)).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert repr(nn.GroupNorm(3, 3, affine=False)) == repr(torch.nn.GroupNorm(3, 3, affine=False))
    assert nn.GroupNorm(3, 3, affine=False).weight is None
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError):
        TF.group_norm(torch.zeros(2, 6, 3), 4)
    with pytest.raises(RuntimeError):
        F.group_norm(at.zeros(2, 6, 3), 4)


def test_group_norm_second_derivative_matches_torch():
    x = rng.standard_normal((2, 4, 5))
    ours, theirs = at.Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    (g1,) = at.autograd.grad((F.group_norm(ours, 2) ** 3).sum(), [ours], create_graph=True)
    (g2,) = torch.autograd.grad((TF.group_norm(theirs, 2) ** 3).sum(), [theirs],
                                create_graph=True)
    (g1 ** 2).sum().backward()
    (g2 ** 2).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", [(2, 3, 7), (2, 3, 4, 5), (1, 2, 3, 2, 4)])
def test_instance_norm_function_matches_torch(check, shape, dtype):
    c = shape[1]
    x = rng.standard_normal(shape) * 2 - 1
    weight, bias = rng.standard_normal(c), rng.standard_normal(c)
    check(lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-4),
          lambda x, w, b: TF.instance_norm(x, weight=w, bias=b, eps=1e-4),
          [x, weight, bias], dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (4, 3, 6)), ("InstanceNorm1d", (3, 6)),
                                         ("InstanceNorm2d", (2, 3, 4, 5)),
                                         ("InstanceNorm2d", (3, 4, 5)),
                                         ("InstanceNorm3d", (2, 3, 2, 3, 4))])
@pytest.mark.parametrize("options", [dict(), dict(affine=True),
                                     dict(affine=True, track_running_stats=True),
                                     dict(track_running_stats=True, momentum=0.3)],
                         ids=["plain", "affine", "tracked", "tracked-m"])
def test_instance_norm_layers_match_torch(name, shape, options, dtype):
    torch_dtype = getattr(torch, np.dtype(dtype).name)
    ours = getattr(nn, name)(3, dtype=dtype, **options)
    theirs = getattr(torch.nn, name)(3, dtype=torch_dtype, **options)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    if options.get("affine"):
        w, b = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
        ours.weight.data[...], ours.bias.data[...] = w, b
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
            theirs.bias.copy_(torch.tensor(b))
    for mode in ("train", "train", "eval"):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
        a, t = at.Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(a), theirs(t)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
        r = rng.standard_normal(out.shape).astype(dtype)
        (out * at.Tensor(r)).sum().backward()
        (expected * torch.tensor(r)).sum().backward()
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), **tol)
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[key].data, value.numpy(), **tol)
        if options.get("affine"):
            np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), **tol)
            np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), **tol)


def test_instance_norm_errors_like_torch():
    for build, x in [(lambda m: m.InstanceNorm2d(3), (2, 3, 4)),  # unbatched 3D is fine
                     (lambda m: m.InstanceNorm2d(3), (3, 4)),
                     (lambda m: m.InstanceNorm1d(3, affine=True), (2, 4, 5)),
                     (lambda m: m.InstanceNorm1d(3), (2, 3, 1))]:
        try:
            build(torch.nn)(torch.zeros(x))
            raised = None
        except Exception as error:  # noqa: BLE001 - the type is what we compare
            raised = type(error)
        if raised is None:
            build(nn)(at.zeros(x))
        else:
            with pytest.raises(raised):
                build(nn)(at.zeros(x))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(4)(at.ones((2, 3, 5)))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape, kwargs", [((2, 6, 4, 5), dict(size=3)),
                                           ((2, 5, 7), dict(size=4, alpha=0.5, beta=0.6, k=2.0)),
                                           ((1, 7, 2, 3, 2), dict(size=2, alpha=1e-2)),
                                           ((2, 3, 4), dict(size=5))])
def test_local_response_norm_matches_torch(check, shape, kwargs, dtype):
    x = rng.standard_normal(shape) * 2
    check(lambda x: F.local_response_norm(x, **kwargs),
          lambda x: TF.local_response_norm(x, **kwargs), [x], dtype)
    ours, theirs = nn.LocalResponseNorm(**kwargs), torch.nn.LocalResponseNorm(**kwargs)
    assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError):
        TF.local_response_norm(torch.zeros(2, 3), 2)
    with pytest.raises(ValueError):
        F.local_response_norm(at.zeros(2, 3), 2)
