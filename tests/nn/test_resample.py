"""interpolate / Upsample, pixel and channel shuffles, unfold / fold against PyTorch:
outputs and gradients in float32 and float64, second derivatives, the errors PyTorch
raises, and the layers' reprs."""
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
IMAGE = rng.standard_normal((2, 3, 5, 7))
SIGNAL = rng.standard_normal((2, 3, 6))
VOLUME = rng.standard_normal((1, 2, 3, 4, 5))

INTERPOLATIONS = [
    (IMAGE, dict(scale_factor=2)),
    (IMAGE, dict(size=(8, 11))),
    (IMAGE, dict(scale_factor=1.7)),
    (IMAGE, dict(size=(3, 4))),
    (IMAGE, dict(scale_factor=(0.5, 3))),
    (IMAGE, dict(scale_factor=1.7, mode="nearest-exact")),
    (IMAGE, dict(size=(9, 4), mode="nearest-exact")),
    (IMAGE, dict(scale_factor=2, mode="bilinear")),
    (IMAGE, dict(scale_factor=2, mode="bilinear", align_corners=True)),
    (IMAGE, dict(size=(8, 11), mode="bilinear", align_corners=True)),
    (IMAGE, dict(size=(8, 11), mode="bilinear", align_corners=False)),
    (IMAGE, dict(scale_factor=0.6, mode="bilinear")),
    (IMAGE, dict(size=(1, 1), mode="bilinear", align_corners=True)),
    (IMAGE, dict(scale_factor=(1.5, 2.3), mode="bilinear", recompute_scale_factor=True)),
    (IMAGE, dict(size=(2, 3), mode="area")),
    (SIGNAL, dict(scale_factor=2.5, mode="linear")),
    (SIGNAL, dict(size=13, mode="linear", align_corners=True)),
    (SIGNAL, dict(size=4)),
    (SIGNAL, dict(size=4, mode="area")),
    (VOLUME, dict(scale_factor=2)),
    (VOLUME, dict(size=(4, 6, 3), mode="trilinear")),
    (VOLUME, dict(scale_factor=1.5, mode="trilinear", align_corners=True)),
    (IMAGE, dict(size=(9, 4), mode="bicubic")),
    (IMAGE, dict(size=(9, 4), mode="bicubic", align_corners=True)),
    (IMAGE, dict(scale_factor=2.5, mode="bicubic")),
    (IMAGE, dict(scale_factor=(1.3, 0.7), mode="bicubic", align_corners=True)),
    (IMAGE, dict(size=(1, 1), mode="bicubic", align_corners=True)),
    (IMAGE[:, :, :1, :2], dict(size=(3, 5), mode="bicubic")),  # every tap clamped
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("array, kwargs", INTERPOLATIONS,
                         ids=[str(i) for i in range(len(INTERPOLATIONS))])
def test_interpolate_matches_torch(check, array, kwargs, dtype):
    check(lambda x: F.interpolate(x, **kwargs), lambda x: TF.interpolate(x, **kwargs),
          [array], dtype)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
def test_interpolate_second_derivative_matches_torch(mode):
    kwargs = dict(size=(7, 9), mode=mode, align_corners=False)
    ours = at.Tensor(IMAGE.copy(), requires_grad=True)
    theirs = torch.tensor(IMAGE.copy(), requires_grad=True)
    (g_ours,) = at.autograd.grad((F.interpolate(ours, **kwargs) ** 3).sum(), [ours],
                                 create_graph=True)
    (g_theirs,) = torch.autograd.grad((TF.interpolate(theirs, **kwargs) ** 3).sum(),
                                      [theirs], create_graph=True)
    (g_ours ** 2).sum().backward()
    (g_theirs ** 2).sum().backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("array, kwargs", [
    (IMAGE, dict()),
    (IMAGE, dict(size=4, scale_factor=2)),
    (IMAGE, dict(size=4, mode="nearest", align_corners=True)),
    (IMAGE, dict(size=4, mode="linear")),
    (SIGNAL, dict(size=4, mode="bilinear")),
    (SIGNAL, dict(size=4, mode="bicubic")),
    (VOLUME, dict(size=4, mode="bicubic")),
    (IMAGE, dict(size=(4, 5, 6))),
    (IMAGE, dict(scale_factor=(2, 2, 2))),
    (IMAGE, dict(size=(0, 4))),
])
def test_interpolate_errors_like_torch(array, kwargs):
    with pytest.raises(Exception) as theirs:
        TF.interpolate(torch.tensor(array), **kwargs)
    with pytest.raises(type(theirs.value)):
        F.interpolate(at.tensor(array), **kwargs)


def test_upsample_layers_match_torch_and_print_alike():
    x = IMAGE.astype(np.float32)
    for ours, theirs in [
            (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
            (nn.Upsample(size=(6, 9), mode="bilinear"),
             torch.nn.Upsample(size=(6, 9), mode="bilinear")),
            (nn.UpsamplingNearest2d(scale_factor=3), torch.nn.UpsamplingNearest2d(scale_factor=3)),
            (nn.UpsamplingBilinear2d(size=(4, 4)), torch.nn.UpsamplingBilinear2d(size=(4, 4)))]:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(ours(at.tensor(x)).data, theirs(torch.tensor(x)).numpy(),
                                   rtol=1e-6, atol=1e-6)


def test_upsample_functions_warn_and_match_torch():
    x = IMAGE.astype(np.float32)
    for name, kwargs in [("upsample", dict(scale_factor=2, mode="bilinear")),
                         ("upsample_nearest", dict(size=(6, 8))),
                         ("upsample_bilinear", dict(scale_factor=2))]:
        with pytest.warns(UserWarning, match="deprecated"):
            ours = getattr(F, name)(at.tensor(x), **kwargs)
        with pytest.warns(UserWarning):
            theirs = getattr(TF, name)(torch.tensor(x), **kwargs)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6, atol=1e-6)


SHUFFLES = [
    ("pixel_shuffle", rng.standard_normal((2, 8, 3, 4)), 2),
    ("pixel_shuffle", rng.standard_normal((9, 2, 3)), 3),
    ("pixel_shuffle", rng.standard_normal((2, 1, 4, 2, 3)), 2),
    ("pixel_unshuffle", rng.standard_normal((2, 3, 4, 6)), 2),
    ("pixel_unshuffle", rng.standard_normal((3, 6, 9)), 3),
    ("channel_shuffle", rng.standard_normal((2, 6, 3, 2)), 3),
    ("channel_shuffle", rng.standard_normal((2, 8, 5)), 2),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name, array, factor", SHUFFLES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(SHUFFLES)])
def test_shuffles_match_torch(check, name, array, factor, dtype):
    if name == "channel_shuffle":  # torch's channel_shuffle has no autograd formula
        out = F.channel_shuffle(at.tensor(array.astype(dtype)), factor).data
        np.testing.assert_array_equal(
            out, TF.channel_shuffle(torch.tensor(array.astype(dtype)), factor).numpy())
        return
    check(lambda x: getattr(F, name)(x, factor), lambda x: getattr(TF, name)(x, factor),
          [array], dtype)


@pytest.mark.parametrize("name, shape, factor", [
    ("pixel_shuffle", (2, 6, 3, 3), 2), ("pixel_shuffle", (4, 4), 2),
    ("pixel_unshuffle", (2, 2, 5, 4), 2), ("pixel_unshuffle", (2, 2, 4, 5), 2),
    ("channel_shuffle", (2, 5, 3), 2), ("channel_shuffle", (2, 4), 2),
])
def test_shuffle_errors_like_torch(name, shape, factor):
    with pytest.raises(RuntimeError):
        getattr(TF, name)(torch.zeros(shape), factor)
    with pytest.raises(RuntimeError):
        getattr(F, name)(at.zeros(shape), factor)


def test_shuffle_layers():
    y = rng.standard_normal((1, 8, 2, 2)).astype(np.float32)
    for ours, theirs in [(nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
                         (nn.PixelUnshuffle(2), torch.nn.PixelUnshuffle(2)),
                         (nn.ChannelShuffle(4), torch.nn.ChannelShuffle(4))]:
        assert repr(ours) == repr(theirs)
        np.testing.assert_array_equal(ours(at.tensor(y)).data, theirs(torch.tensor(y)).numpy())


UNFOLDS = [
    (IMAGE, dict(kernel_size=2)),
    (IMAGE, dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))),
    (IMAGE, dict(kernel_size=3, padding=(0, 2), stride=2)),
    (IMAGE[0], dict(kernel_size=(3, 2))),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("array, kwargs", UNFOLDS, ids=[str(i) for i in range(len(UNFOLDS))])
def test_unfold_and_fold_match_torch(check, array, kwargs, dtype):
    check(lambda x: F.unfold(x, **kwargs), lambda x: TF.unfold(x, **kwargs), [array], dtype)
    columns = TF.unfold(torch.tensor(array), **kwargs).numpy()
    size = array.shape[-2:]
    check(lambda c: F.fold(c, size, **kwargs), lambda c: TF.fold(c, size, **kwargs),
          [columns * 1.5], dtype)


def test_fold_of_unfold_counts_overlaps_like_torch():
    ones = np.ones((1, 2, 4, 5))
    kwargs = dict(kernel_size=3, padding=1)
    ours = F.fold(F.unfold(at.tensor(ones), **kwargs), (4, 5), **kwargs).data
    theirs = TF.fold(TF.unfold(torch.tensor(ones), **kwargs), (4, 5), **kwargs).numpy()
    np.testing.assert_array_equal(ours, theirs)
    assert ours.max() == 9 and ours.min() == 4


@pytest.mark.parametrize("call", [
    lambda F_, t: F_.unfold(t((2, 3)), 2),
    lambda F_, t: F_.unfold(t((1, 1, 2, 2)), 3),
    lambda F_, t: F_.fold(t((1, 5, 4)), (3, 3), 2),
    lambda F_, t: F_.fold(t((1, 4, 5)), (3, 3), 2),
    lambda F_, t: F_.fold(t((4,)), (3, 3), 2),
    lambda F_, t: F_.unfold(t((1, 1, 2, 2, 2)), 2),
])
def test_unfold_fold_errors_like_torch(call):
    with pytest.raises((RuntimeError, IndexError)) as theirs:
        call(TF, torch.zeros)
    with pytest.raises(type(theirs.value)):
        call(F, at.zeros)


def test_unfold_fold_layers():
    x = IMAGE.astype(np.float32)
    unfold, fold = nn.Unfold(kernel_size=(2, 3), stride=2), nn.Fold((5, 7), (2, 3), stride=2)
    t_unfold = torch.nn.Unfold(kernel_size=(2, 3), stride=2)
    t_fold = torch.nn.Fold((5, 7), (2, 3), stride=2)
    assert repr(unfold) == repr(t_unfold) and repr(fold) == repr(t_fold)
    np.testing.assert_array_equal(fold(unfold(at.tensor(x))).data,
                                  t_fold(t_unfold(torch.tensor(x))).numpy())
