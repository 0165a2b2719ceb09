"""Winograd F(2x2, 3x3) (ops/winograd.py): its three convolutions against PyTorch and
against the direct methods on many shapes (odd sizes, so partial tiles; padding 0, 1, 2 and
uneven; batches that end in a partial block), its float32 error against float64, gradients
of every order through conv2d, and where the choice sends a convolution."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import abdou_torch as at
from abdou_torch.autograd import gradcheck
from abdou_torch.ops import conv as F
from abdou_torch.ops import conv_wide as CW
from abdou_torch.ops import winograd as WG

rng = np.random.default_rng(14)


def window(padding=((0, 0), (0, 0)), stride=1, dilation=1, groups=1, kernel=(3, 3)):
    if isinstance(padding, int):
        padding = ((padding, padding), (padding, padding))
    return F._Window(kernel, (stride, stride), padding, (dilation, dilation), groups)


def torch_reference(x, weight, padding, dy):
    """(y, dx, dw) of the padded correlation in float64, from PyTorch."""
    (top, bottom), (left, right) = padding
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tw = torch.tensor(weight, dtype=torch.float64, requires_grad=True)
    y = TF.conv2d(TF.pad(tx, (left, right, top, bottom)), tw)
    y.backward(torch.tensor(dy, dtype=torch.float64))
    return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()


# (batch, channels, out_channels, (H, W), padding ((top, bottom), (left, right)))
CASES = [
    (3, 5, 4, (7, 7), ((1, 1), (1, 1))),     # 7x7 'same': 4x4 tiles, the last ones half used
    (2, 3, 2, (8, 9), ((1, 1), (1, 1))),     # even height, odd width
    (5, 3, 2, (6, 5), ((0, 0), (0, 0))),     # valid: 4x3 output
    (4, 2, 3, (5, 8), ((2, 2), (2, 2))),     # padding 2 (the full correlation's)
    (7, 3, 5, (9, 4), ((1, 0), (2, 1))),     # uneven padding on every side
    (1, 1, 1, (3, 3), ((0, 0), (0, 0))),     # a single output
    (2, 4, 6, (3, 10), ((0, 1), (0, 0))),    # one tile row, half used
]


@pytest.mark.parametrize("chunk_bytes", [1, 1 << 20])  # one image per block, or all
@pytest.mark.parametrize("batch, channels, out_channels, size, padding", CASES)
def test_the_three_convolutions_match_torch(batch, channels, out_channels, size, padding,
                                            chunk_bytes, monkeypatch):
    monkeypatch.setattr(WG, "_CHUNK_BYTES", chunk_bytes)
    x = rng.standard_normal((batch, channels) + size)
    weight = rng.standard_normal((out_channels, channels, 3, 3))
    win = window(padding)
    dy = rng.standard_normal((batch, out_channels) + win.output_size(size))
    y, dx, dw = torch_reference(x, weight, padding, dy)
    tol = dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(WG.winograd_conv(x, weight, win), y, **tol)
    np.testing.assert_allclose(WG.winograd_adjoint(dy, weight, win, size), dx, **tol)
    np.testing.assert_allclose(WG.winograd_weight(x, dy, win), dw, **tol)
    both = WG.winograd_backward(x, dy, weight, win)
    np.testing.assert_allclose(both[0], dx, **tol)
    np.testing.assert_allclose(both[1], dw, **tol)


def test_blocks_of_several_images_end_in_a_partial_block(monkeypatch):
    """Three images per block over a batch of 7: blocks of 3, 3, 1, the last one reusing
    buffers laid out for three."""
    x, weight = rng.standard_normal((7, 4, 9, 7)), rng.standard_normal((5, 4, 3, 3))
    win = window(1)
    tiling = WG._Tiling(7, (9, 7), win.padding, 5, 8)
    monkeypatch.setattr(WG, "_CHUNK_BYTES", 3 * 16 * 5 * tiling.plane * 8)
    assert [last - first for first, last in
            WG._Tiling(7, (9, 7), win.padding, 5, 8).chunks()] == [3, 3, 1]
    dy = rng.standard_normal((7, 5, 9, 7))
    y, dx, dw = torch_reference(x, weight, win.padding, dy)
    np.testing.assert_allclose(WG.winograd_conv(x, weight, win), y, rtol=1e-12, atol=1e-12)
    got_dx, got_dw = WG.winograd_backward(x, dy, weight, win)
    np.testing.assert_allclose(got_dx, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got_dw, dw, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", [0, 1])
def test_float32_error_against_float64_is_that_of_the_direct_method(padding):
    """At the CNN's 32 channels, F(2x2, 3x3) in float32 stays within twice the direct
    method's error against the float64 result (measured: about 1.0-1.5x; F(4x4, 3x3)'s
    larger transforms would lose more)."""
    x = rng.standard_normal((4, 32, 14, 13)).astype(np.float32)
    weight = (rng.standard_normal((32, 32, 3, 3)) / 17).astype(np.float32)
    win = window(padding)
    dy = rng.standard_normal((4, 32) + win.output_size((14, 13))).astype(np.float32)
    exact = torch_reference(x, weight, win.padding, dy)
    wide = CW._wide_input(x, win)
    direct = (CW._wide_conv(wide, weight, win), CW._wide_adjoint(dy, weight, win, (14, 13))
              if CW._adjoint_applies(win, (14, 13), 32, 32)
              else F._full_correlation(dy, weight, win, (14, 13)),
              CW._wide_weight(wide, dy, win))
    ours = (WG.winograd_conv(x, weight, win),) + WG.winograd_backward(x, dy, weight, win)
    for name, got, reference, expected in zip(("y", "dx", "dw"), ours, direct, exact):
        assert got.dtype == np.float32
        scale = np.abs(expected).max()
        error = np.abs(got - expected).max() / scale
        direct_error = np.abs(reference - expected).max() / scale
        assert error < 2e-6, name
        assert error <= 2 * direct_error, (name, error, direct_error)


@pytest.fixture(name="force_winograd")
def force_winograd_fixture(monkeypatch):
    """Every 3x3 stride-1 convolution without groups or dilation goes Winograd's way, one
    image per block."""
    monkeypatch.setattr(WG, "_WINOGRAD_MIN_CHANNELS", 1)
    monkeypatch.setattr(WG, "_WINOGRAD_MAX_WASTE", ((1, float("inf")),))
    monkeypatch.setattr(WG, "_CHUNK_BYTES", 1)
    calls = {"conv": 0, "adjoint": 0, "weight": 0, "backward": 0}
    for name in calls:
        function = getattr(F, f"winograd_{name}")

        def counted(*args, _function=function, _name=name, **kwargs):
            calls[_name] += 1
            return _function(*args, **kwargs)

        monkeypatch.setattr(F, f"winograd_{name}", counted)
    return calls


@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(padding=0), dict(padding="same"),
                                    dict(padding=(2, 0))])
def test_conv2d_through_winograd_matches_torch(kwargs, force_winograd, compare_with_torch):
    arrays = [rng.standard_normal((3, 4, 7, 6)), rng.standard_normal((5, 4, 3, 3)),
              rng.standard_normal(5)]
    compare_with_torch(lambda x, w, b: F.conv2d(x, w, b, **kwargs),
                       lambda x, w, b: TF.conv2d(x, w, b, **kwargs), arrays)
    assert force_winograd["conv"] == 1 and force_winograd["backward"] == 1


def test_conv2d_through_winograd_float32(force_winograd, compare_with_torch):
    arrays = [rng.standard_normal((5, 8, 9, 9)), rng.standard_normal((8, 8, 3, 3))]
    compare_with_torch(lambda x, w: F.conv2d(x, w, padding=1),
                       lambda x, w: TF.conv2d(x, w, padding=1), arrays, np.float32)
    assert force_winograd["conv"] == 1


def test_one_gradient_alone_takes_its_own_winograd_kernel(force_winograd):
    x0, w0 = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    r = rng.standard_normal((2, 4, 6, 5))
    for needs_x in (True, False):
        x = at.Tensor(x0, requires_grad=needs_x)
        w = at.Tensor(w0, requires_grad=not needs_x)
        (F.conv2d(x, w, padding=1) * at.Tensor(r)).sum().backward()
        tx = torch.tensor(x0, requires_grad=needs_x)
        tw = torch.tensor(w0, requires_grad=not needs_x)
        (TF.conv2d(tx, tw, padding=1) * torch.tensor(r)).sum().backward()
        ours, theirs = (x, tx) if needs_x else (w, tw)
        np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10)
    assert force_winograd["adjoint"] == 1 and force_winograd["weight"] == 1
    assert force_winograd["backward"] == 0


def test_conv_transpose2d_at_stride_1_is_the_winograd_adjoint(force_winograd,
                                                              compare_with_torch):
    arrays = [rng.standard_normal((3, 4, 6, 5)), rng.standard_normal((4, 6, 3, 3)),
              rng.standard_normal(6)]
    compare_with_torch(lambda y, w, b: F.conv_transpose2d(y, w, b, padding=1),
                       lambda y, w, b: TF.conv_transpose2d(y, w, b, padding=1), arrays)
    assert force_winograd["adjoint"] >= 1


def test_winograd_gradcheck(force_winograd):
    x = at.Tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = at.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = at.Tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1), (x, w, b))
    assert force_winograd["conv"] > 0


def test_winograd_second_derivatives(force_winograd, second_derivative_check):
    x = at.Tensor(rng.standard_normal((2, 2, 4, 5)), requires_grad=True)
    w = at.Tensor(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    second_derivative_check(lambda x, w: at.tanh(F.conv2d(x, w, padding=1)), (x, w))
    assert force_winograd["adjoint"] > 0 and force_winograd["weight"] > 0


def test_winograd_gradient_penalty_matches_torch(force_winograd):
    """d/d(x, w) of |dL/dx|^2 + |dL/dw|^2: every primitive's backward, each a Winograd
    kernel (the create_graph walk takes the formulas, which apply the primitives)."""
    x0, w0 = rng.standard_normal((3, 3, 6, 7)), rng.standard_normal((4, 3, 3, 3))
    r = rng.standard_normal((3, 4, 6, 7))
    x, w = at.Tensor(x0, requires_grad=True), at.Tensor(w0, requires_grad=True)
    loss = (at.tanh(F.conv2d(x, w, padding=1)) * at.Tensor(r)).sum()
    gx, gw = at.autograd.grad(loss, (x, w), create_graph=True)
    ((gx * gx).sum() + (gw * gw).sum()).backward()
    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    tloss = (torch.tanh(TF.conv2d(tx, tw, padding=1)) * torch.tensor(r)).sum()
    tgx, tgw = torch.autograd.grad(tloss, (tx, tw), create_graph=True)
    ((tgx * tgx).sum() + (tgw * tgw).sum()).backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-9, atol=1e-10)
    assert force_winograd["adjoint"] > 0 and force_winograd["weight"] > 0


@pytest.mark.parametrize("special", [np.inf, -np.inf, np.nan])
def test_inputs_with_infinities_keep_the_direct_methods(special, force_winograd):
    """A tile's transform mixes its values (inf - inf is NaN where the direct sum gives
    inf): such inputs go the direct way, and the result is PyTorch's."""
    x0, w0 = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    x0[1, 2, 3, 3] = special
    x = at.Tensor(x0, requires_grad=True)
    w = at.Tensor(w0, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    expected = TF.conv2d(torch.tensor(x0), torch.tensor(w0), padding=1).numpy()
    np.testing.assert_array_equal(np.isnan(y.data), np.isnan(expected))
    np.testing.assert_allclose(y.data, expected, rtol=1e-10)
    assert force_winograd["conv"] == 0


def test_pooled_buffers_full_of_nan_leave_no_trace(monkeypatch):
    """The pool hands back an earlier array's memory (NaN here) for y and dx."""
    x, weight = rng.standard_normal((3, 4, 7, 6)), rng.standard_normal((5, 4, 3, 3))
    win = window(1)
    dy = rng.standard_normal((3, 5, 7, 6))
    expected = torch_reference(x, weight, win.padding, dy)
    monkeypatch.setattr(F._workspace, "min_bytes", 0)
    monkeypatch.setattr(F._workspace, "buffers", [])
    for shape in [(3, 5, 7, 6), (3, 4, 7, 6)]:
        F._workspace.empty(shape, np.float64).fill(np.nan)
    got = (WG.winograd_conv(x, weight, win),) + WG.winograd_backward(x, dy, weight, win)
    assert len(F._workspace.buffers) == 2
    for value, reference in zip(got, expected):
        np.testing.assert_allclose(value, reference, rtol=1e-12, atol=1e-12)


def test_the_choice_sends_only_wide_enough_3x3_convolutions_to_winograd():
    """The CNN's 32->32 layer at 28x28 (waste 1.16) and its gradients go Winograd's way;
    its 13x13 layer (waste 1.62) and its first (one channel) do not, nor do strided,
    dilated, grouped, non-3x3, half-precision or empty convolutions; 64 channels pay for
    the waste of a padded 14x14 image (1.31), 32 do not."""
    def applies(win, size, channels, out_channels, batch=64, dtype=np.float32):
        return WG.winograd_applies(win, size, channels, out_channels, batch, dtype)

    assert applies(window(0), (28, 28), 32, 32)
    assert applies(window(0), (28, 28), 32, 32, dtype=np.float64)
    assert not applies(window(0), (13, 13), 32, 64)
    assert not applies(window(1), (28, 28), 1, 32)
    assert not applies(window(1), (28, 28), 16, 16)
    assert applies(window(1), (14, 14), 64, 64)
    assert not applies(window(1), (14, 14), 32, 32)
    assert not applies(window(1), (7, 7), 128, 128)
    assert not applies(window(1, stride=2), (28, 28), 32, 32)
    assert not applies(window(2, dilation=2), (28, 28), 32, 32)
    assert not applies(window(1, groups=2), (28, 28), 64, 64)
    assert not applies(window(2, kernel=(5, 5)), (28, 28), 32, 32)
    assert not applies(window(0), (28, 28), 32, 32, dtype=np.float16)
    assert not applies(window(0), (28, 28), 32, 32, batch=0)


def test_the_cnn_step_runs_its_32_channel_layer_through_winograd(monkeypatch):
    """One training step of the CNN of ``abdou-torch train mnist --model cnn``: the second
    convolution's forward and both its gradients (in one pass) go Winograd's way, and the
    loss and gradients match PyTorch's."""
    from abdou_torch.models import CNN
    calls = []
    for name in ("conv", "backward"):
        function = getattr(F, f"winograd_{name}")

        def counted(*args, _function=function, _name=name, **kwargs):
            calls.append(_name)
            return _function(*args, **kwargs)

        monkeypatch.setattr(F, f"winograd_{name}", counted)
    at.manual_seed(0)
    model = CNN()
    images = rng.standard_normal((8, 1, 28, 28)).astype(np.float32)
    loss = at.nn.functional.cross_entropy(model.eval()(at.Tensor(images)),
                                          at.tensor(np.arange(8) % 10))
    loss.backward()
    assert calls == ["conv", "backward"]
    from benchmarks.cnn_step import torch_cnn
    theirs = torch_cnn().eval()
    with torch.no_grad():
        for name, value in model.state_dict().items():
            theirs.state_dict()[name].copy_(torch.from_numpy(np.array(value.data)))
    tloss = TF.cross_entropy(theirs(torch.from_numpy(images)), torch.arange(8) % 10)
    tloss.backward()
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-5)
    grads = dict(theirs.named_parameters())
    for name, parameter in model.named_parameters():
        np.testing.assert_allclose(parameter.grad.data, grads[name].grad.numpy(),
                                   rtol=2e-3, atol=2e-5, err_msg=name)
