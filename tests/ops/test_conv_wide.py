"""The wide (stride-1, no im2col) convolution kernels: against PyTorch with padding,
dilation, groups and ragged batch chunks, through gradients of every order; and the
choice between the wide method and im2col."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import abdou_torch as at
from abdou_torch.autograd import gradcheck
from abdou_torch.ops import conv as F
from abdou_torch.ops import conv_wide as W

rng = np.random.default_rng(1)


@pytest.fixture(name="force_wide")
def force_wide_fixture(monkeypatch):
    """Every stride-1 convolution goes the wide way, a couple of images per chunk (so the
    batch ends in a partial chunk), and im2col may only run for strided ones."""
    monkeypatch.setattr(W, "_WIDE_MIN_CHANNELS", 1)
    monkeypatch.setattr(W, "_WIDE_MAX_WASTE", float("inf"))
    monkeypatch.setattr(W, "_WIDE_CHUNK_BYTES", 1)  # one image per chunk
    im2col = F._im2col

    def strided_only(x, window, out_size):
        assert window.stride != (1, 1), "im2col ran for a stride-1 convolution"
        return im2col(x, window, out_size)

    monkeypatch.setattr(F, "_im2col", strided_only)


# (input shape, weight shape, keyword arguments), all stride 1
WIDE_CASES = [
    ((3, 4, 7, 6), (5, 4, 3, 3), {}),
    ((2, 3, 6, 7), (4, 3, 3, 2), dict(padding=(2, 1))),
    ((3, 4, 9, 8), (6, 2, 3, 3), dict(padding=1, dilation=(2, 1), groups=2)),
    ((2, 6, 8, 8), (6, 1, 3, 3), dict(padding=2, dilation=2, groups=6)),   # depthwise
    ((2, 4, 7, 9), (4, 4, 2, 3), dict(padding="same", dilation=(1, 2))),
    ((2, 3, 5, 5), (2, 3, 1, 1), dict(padding=1)),
    ((1, 2, 4, 5), (3, 2, 2, 2), dict(padding=3)),                          # beyond the kernel
    ((2, 4, 11, 4), (4, 2, 4, 1), dict(dilation=(2, 1), padding=(1, 0), groups=2)),
    # less padding than 'same' and no groups: the input gradient goes _wide_adjoint's way
    ((2, 3, 9, 8), (4, 3, 3, 2), dict(dilation=(2, 1))),
    ((3, 4, 8, 7), (5, 4, 3, 3), dict(padding=(1, 0))),
    ((2, 5, 10, 9), (3, 5, 4, 3), dict(padding=((1, 0)), dilation=(1, 2))),
]


@pytest.mark.parametrize("chunk_bytes", [1, 1 << 20])  # one image per chunk, or all
@pytest.mark.parametrize("input_shape, weight_shape, kwargs", WIDE_CASES)
def test_wide_conv2d_matches_torch(input_shape, weight_shape, kwargs, chunk_bytes,
                                   force_wide, compare_with_torch, monkeypatch):
    monkeypatch.setattr(W, "_WIDE_CHUNK_BYTES", chunk_bytes)
    arrays = [rng.standard_normal(input_shape), rng.standard_normal(weight_shape),
              rng.standard_normal(weight_shape[0])]
    compare_with_torch(lambda x, w, b: F.conv2d(x, w, b, **kwargs),
                       lambda x, w, b: TF.conv2d(x, w, b, **kwargs), arrays)


@pytest.mark.parametrize("kwargs", [dict(stride=1, padding=1, dilation=(1, 2), groups=2),
                                    dict(stride=1, padding=(0, 2), output_padding=0)])
def test_wide_conv_transpose2d_matches_torch(kwargs, force_wide, compare_with_torch):
    groups = kwargs.get("groups", 1)
    arrays = [rng.standard_normal((3, 4, 6, 5)), rng.standard_normal((4, 6 // groups, 3, 3)),
              rng.standard_normal(6)]
    compare_with_torch(lambda y, w, b: F.conv_transpose2d(y, w, b, **kwargs),
                       lambda y, w, b: TF.conv_transpose2d(y, w, b, **kwargs), arrays)


def test_wide_conv2d_float32(force_wide, compare_with_torch):
    arrays = [rng.standard_normal((5, 8, 9, 9)), rng.standard_normal((8, 4, 3, 3))]
    compare_with_torch(lambda x, w: F.conv2d(x, w, padding=1, groups=2),
                       lambda x, w: TF.conv2d(x, w, padding=1, groups=2), arrays, np.float32)


@pytest.mark.parametrize("kwargs", [dict(padding=1, groups=2), dict(padding=(2, 0),
                                                                    dilation=(2, 1))])
def test_wide_conv2d_gradcheck(kwargs, force_wide):
    x = at.Tensor(rng.standard_normal((3, 2, 5, 4)), requires_grad=True)
    w = at.Tensor(rng.standard_normal((4, 2 // kwargs.get("groups", 1), 3, 2)),
                  requires_grad=True)
    b = at.Tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), (x, w, b))


@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(padding=(0, 1), dilation=(1, 2),
                                                          groups=2)])
def test_wide_conv2d_second_derivatives(kwargs, force_wide, second_derivative_check):
    x = at.Tensor(rng.standard_normal((2, 2, 4, 5)), requires_grad=True)
    w = at.Tensor(rng.standard_normal((2, 2 // kwargs.get("groups", 1), 2, 2)),
                  requires_grad=True)
    second_derivative_check(lambda x, w: at.tanh(F.conv2d(x, w, **kwargs)), (x, w))


def test_wide_gradient_penalty_matches_torch(force_wide):
    """d/d(x, w) of |dL/dx|^2 + |dL/dw|^2: every primitive's backward, wide."""
    x0, w0 = rng.standard_normal((3, 3, 6, 6)), rng.standard_normal((4, 3, 3, 3))
    r = rng.standard_normal((3, 4, 6, 6))
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


def test_wide_input_is_not_reused_while_a_graph_holds_it(monkeypatch, force_wide):
    monkeypatch.setattr(F._workspace, "min_bytes", 0)  # pool even these small arrays
    x1, x2 = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((2, 3, 6, 6))
    w0, r = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((2, 4, 6, 6))
    w = at.Tensor(w0, requires_grad=True)
    y = F.conv2d(at.Tensor(x1), w, padding=1)
    with at.no_grad():  # same shapes: would take the held buffer if it were free
        F.conv2d(at.Tensor(x2), at.Tensor(w0), padding=1)
    (y * at.Tensor(r)).sum().backward()
    tw = torch.tensor(w0, requires_grad=True)
    (TF.conv2d(torch.tensor(x1), tw, padding=1) * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10)
    assert F._workspace.buffers  # the pool was used


def test_the_cnn_layers_take_the_faster_method():
    """32->32 at 28x28 (16% waste) and 32->64 at 13x13 (40% waste for 64 outputs) go
    wide rather than im2col (the first is Winograd's before either, tests/ops/
    test_winograd.py), 1->32 (one channel) stays on im2col; so does every strided
    convolution, and one whose dropped positions outweigh the copy (64 outputs at 50%
    waste, 7x7 -> 5x5)."""
    def window(padding, stride=1):
        return F._Window((3, 3), (stride, stride), ((padding, padding),) * 2, (1, 1))

    assert W._wide_applies(window(0), (28, 28), 32, 32)
    assert W._wide_applies(window(2), (26, 26), 32, 32)  # its input gradient
    assert W._wide_applies(window(0), (13, 13), 32, 64)
    assert not W._wide_applies(window(1), (28, 28), 1, 32)
    assert not W._wide_applies(window(0), (7, 7), 32, 64)  # (49 / 25 - 1) * 64 = 61
    assert not W._wide_applies(window(1, stride=2), (28, 28), 32, 32)


@pytest.mark.parametrize("kwargs", [dict(), dict(padding=1, groups=2)])
def test_default_choice_matches_torch_at_many_channels(kwargs, compare_with_torch):
    """Enough channels for the wide method by default, at float32 as in training."""
    groups = kwargs.get("groups", 1)
    arrays = [rng.standard_normal((3, 16, 12, 12)), rng.standard_normal((16, 16 // groups, 3,
                                                                         3))]
    compare_with_torch(lambda x, w: F.conv2d(x, w, **kwargs),
                       lambda x, w: TF.conv2d(x, w, **kwargs), arrays, np.float32)


def test_wide_input_stacks_shifted_copies_only_without_groups():
    x = rng.standard_normal((2, 3, 5, 6))
    window = F._Window((3, 3), (1, 1), ((1, 1), (2, 2)), (1, 2), 1)
    stacked = W._wide_input(x, window)
    assert stacked.shape == (3, 3, 2, 7, 10)  # kW copies of (C, N, Hp, Wp)
    flat = stacked.reshape(3, 3, -1)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2))).transpose(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_array_equal(flat[0], padded)
    for j in (1, 2):  # shifted left by j * dilation
        np.testing.assert_array_equal(flat[j, :, :-2 * j], padded[:, 2 * j:])
    grouped = F._Window((3, 3), (1, 1), ((1, 1), (2, 2)), (1, 2), 3)
    assert W._wide_input(x, grouped).shape == (3, 2, 7, 10)


def test_the_input_gradient_of_a_valid_convolution_is_computed_in_its_wide_layout():
    """Without 'same' padding the padded input's plane is the smaller one to compute over:
    the CNN's two valid 3x3 convolutions take _wide_adjoint, 'same' padding, groups and
    strides keep the full correlation."""
    def window(padding, stride=1, groups=1):
        return F._Window((3, 3), (stride, stride), ((padding, padding),) * 2, (1, 1), groups)

    assert W._adjoint_applies(window(0), (28, 28), 32, 32)
    assert W._adjoint_applies(window(0), (13, 13), 32, 64)
    assert not W._adjoint_applies(window(1), (28, 28), 1, 32)       # 'same': equal planes
    assert not W._adjoint_applies(window(0, groups=2), (28, 28), 32, 32)
    assert not W._adjoint_applies(window(0, stride=2), (28, 28), 32, 32)


@pytest.mark.parametrize("padding, dilation", [((0, 0), (1, 1)), ((1, 0), (2, 1)),
                                               ((0, 2), (1, 2))])
def test_wide_adjoint_reads_nothing_left_over_in_pooled_memory(padding, dilation,
                                                                monkeypatch):
    """The pool hands back buffers full of an earlier array's values (NaN here): the
    adjoint must write every position it reads, including its leading zeros."""
    size, weight = (7, 9), rng.standard_normal((4, 3, 3, 3))
    window = F._Window((3, 3), (1, 1), ((padding[0],) * 2, (padding[1],) * 2), dilation, 1)
    dy = rng.standard_normal((2, 4) + window.output_size(size))
    expected = F._full_correlation(dy, weight, window, size)  # small: not pooled
    monkeypatch.setattr(F._workspace, "min_bytes", 0)
    monkeypatch.setattr(F._workspace, "buffers", [])
    monkeypatch.setattr(W, "_WIDE_CHUNK_BYTES", 1)
    hp, wp = window.padded_size(size)
    margin = 2 * dilation[0] * wp + 2 * dilation[1]
    for shape in [(3, 4, margin + 2 * hp * wp), (2, 3) + size]:  # stacked dy, dx
        F._workspace.empty(shape, dy.dtype).fill(np.nan)
    got = W._wide_adjoint(dy, weight, window, size)
    assert len(F._workspace.buffers) == 2  # both taken from the pool, not fresh
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding, dilation", [((0, 0), (1, 1)), ((1, 2), (2, 1))])
def test_stacked_kernels_match_the_plain_ones_on_uneven_blocks(padding, dilation,
                                                               monkeypatch):
    """Two images per block over a batch of 5 (blocks of 2, 2, 1): the one-product kernels
    (stacked input or stacked dy) against the plain wide ones, whose kH*kW products are
    written independently, and against PyTorch."""
    x, weight = rng.standard_normal((5, 3, 7, 8)), rng.standard_normal((4, 3, 3, 3))
    window = F._Window((3, 3), (1, 1), ((padding[0],) * 2, (padding[1],) * 2), dilation, 1)
    hp, wp = window.padded_size((7, 8))
    monkeypatch.setattr(W, "_WIDE_CHUNK_BYTES", 2 * 4 * hp * wp * 8)
    dy = rng.standard_normal((5, 4) + window.output_size((7, 8)))
    stacked = W._wide_input(x, window)
    assert [last - first for first, last, _, _ in
            W._wide_chunks(5, hp * wp, 4, 8, 5 * hp * wp)] == [2, 2, 1]
    monkeypatch.setattr(F._workspace, "min_bytes", 0)
    monkeypatch.setattr(F._workspace, "buffers", [])
    # the pool hands the stacked dy an earlier array's values (NaN): all must be written
    F._workspace.empty((3, 4, 2 * hp * wp + 2 * dilation[0] * wp), dy.dtype).fill(np.nan)
    plain_y = W._wide_conv(stacked[0], weight, window)
    np.testing.assert_allclose(W._stacked_conv(stacked, weight, window), plain_y, rtol=1e-12)
    np.testing.assert_allclose(W._stacked_weight(stacked, dy, window),
                               W._wide_weight(stacked[0], dy, window), rtol=1e-12)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(weight, requires_grad=True)
    kwargs = dict(padding=padding, dilation=dilation)
    TF.conv2d(tx, tw, **kwargs).backward(torch.tensor(dy))
    np.testing.assert_allclose(plain_y, TF.conv2d(tx, tw, **kwargs).detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W._stacked_weight(stacked, dy, window), tw.grad.numpy(),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(W._wide_adjoint(dy, weight, window, (7, 8)),
                               tx.grad.numpy(), rtol=1e-10, atol=1e-12)
