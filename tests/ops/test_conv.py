"""conv1d / conv2d / conv_transpose2d against PyTorch: forward, gradients, gradcheck,
second derivatives, error messages."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import abdou_torch as at
from abdou_torch.autograd import gradcheck
from abdou_torch.errors import ShapeError
from abdou_torch.ops import conv as F

rng = np.random.default_rng(0)

# (input shape, weight shape, keyword arguments)
CONV2D_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 3), {}),
    ((1, 1, 5, 5), (1, 1, 3, 3), {}),
    ((2, 3, 8, 9), (5, 3, 3, 2), dict(stride=2, padding=1)),
    ((2, 4, 9, 7), (6, 2, 3, 3), dict(stride=(2, 1), padding=(2, 0), dilation=(1, 2),
                                      groups=2)),
    ((1, 6, 7, 7), (6, 1, 3, 3), dict(padding=1, groups=6)),  # depthwise
    ((3, 2, 6, 5), (4, 2, 2, 3), dict(padding="same")),       # even kernel: uneven padding
    ((2, 2, 9, 9), (3, 2, 3, 3), dict(padding="same", dilation=2)),
    ((2, 3, 5, 6), (2, 3, 1, 1), {}),
    ((2, 2, 6, 6), (3, 2, 3, 3), dict(padding="valid", stride=3)),
    ((2, 2, 5, 5), (3, 2, 2, 2), dict(padding=3)),             # padding beyond the kernel
    ((1, 2, 11, 4), (2, 2, 4, 1), dict(stride=(3, 1), dilation=(2, 1), padding=(1, 0))),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("input_shape, weight_shape, kwargs", CONV2D_CASES)
def test_conv2d_matches_torch(input_shape, weight_shape, kwargs, dtype, compare_with_torch):
    arrays = [rng.standard_normal(input_shape), rng.standard_normal(weight_shape),
              rng.standard_normal(weight_shape[0])]
    compare_with_torch(lambda x, w, b: F.conv2d(x, w, b, **kwargs),
                       lambda x, w, b: TF.conv2d(x, w, b, **kwargs), arrays, dtype)


def test_conv2d_without_bias_and_unbatched_input(compare_with_torch):
    arrays = [rng.standard_normal((3, 6, 6)), rng.standard_normal((2, 3, 3, 3))]
    compare_with_torch(lambda x, w: F.conv2d(x, w, stride=2),
                       lambda x, w: TF.conv2d(x, w, stride=2), arrays)


CONV1D_CASES = [
    ((2, 3, 10), (4, 3, 3), {}),
    ((1, 1, 5), (1, 1, 5), {}),
    ((2, 4, 11), (6, 2, 3), dict(stride=2, padding=2, dilation=2, groups=2)),
    ((3, 2, 7), (2, 2, 4), dict(padding="same")),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("input_shape, weight_shape, kwargs", CONV1D_CASES)
def test_conv1d_matches_torch(input_shape, weight_shape, kwargs, dtype, compare_with_torch):
    arrays = [rng.standard_normal(input_shape), rng.standard_normal(weight_shape),
              rng.standard_normal(weight_shape[0])]
    compare_with_torch(lambda x, w, b: F.conv1d(x, w, b, **kwargs),
                       lambda x, w, b: TF.conv1d(x, w, b, **kwargs), arrays, dtype)


@pytest.mark.parametrize("input_shape, weight_shape, kwargs", [
    ((2, 4, 5, 5), (4, 3, 3, 3), {}),
    ((1, 4, 4, 3), (4, 2, 3, 2), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ((2, 2, 3, 4), (2, 3, 2, 2), dict(stride=(2, 3), dilation=2, output_padding=(1, 0))),
])
def test_conv_transpose2d_matches_torch(input_shape, weight_shape, kwargs, compare_with_torch):
    arrays = [rng.standard_normal(input_shape), rng.standard_normal(weight_shape),
              rng.standard_normal(weight_shape[1] * kwargs.get("groups", 1))]
    compare_with_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, **kwargs),
                       lambda x, w, b: TF.conv_transpose2d(x, w, b, **kwargs), arrays)


@pytest.mark.parametrize("kwargs", [dict(), dict(stride=2, padding=1, groups=2),
                                    dict(padding="same", dilation=(2, 1))])
def test_conv2d_gradcheck(kwargs):
    x = at.Tensor(rng.standard_normal((2, 2, 5, 4)), requires_grad=True)
    w = at.Tensor(rng.standard_normal((4, 2 // kwargs.get("groups", 1), 3, 2)),
                  requires_grad=True)
    b = at.Tensor(rng.standard_normal(4), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kwargs), (x, w, b))


@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(stride=2), dict(padding=(0, 1),
                                    dilation=(1, 2), groups=2)])
def test_conv2d_second_derivatives(kwargs, second_derivative_check):
    # tanh makes the second derivative depend on x; conv alone is bilinear in (x, w)
    x = at.Tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    w = at.Tensor(rng.standard_normal((2, 2 // kwargs.get("groups", 1), 2, 2)),
                  requires_grad=True)
    second_derivative_check(lambda x, w: at.tanh(F.conv2d(x, w, **kwargs)), (x, w))


def test_conv2d_second_derivative_matches_torch():
    """Gradient penalty: d/d(x, w) of sum(dL/dx ** 2), with L = sum(tanh(conv2d) * r)."""
    x0, w0 = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    r = rng.standard_normal((2, 3, 3, 3))

    x, w = at.Tensor(x0, requires_grad=True), at.Tensor(w0, requires_grad=True)
    loss = (at.tanh(F.conv2d(x, w, stride=1)) * at.Tensor(r)).sum()
    gx, gw = at.autograd.grad(loss, (x, w), create_graph=True)
    ((gx * gx).sum() + (gw * gw).sum()).backward()

    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    tloss = (torch.tanh(TF.conv2d(tx, tw)) * torch.tensor(r)).sum()
    tgx, tgw = torch.autograd.grad(tloss, (tx, tw), create_graph=True)
    ((tgx * tgx).sum() + (tgw * tgw).sum()).backward()

    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-9, atol=1e-10)


def test_conv2d_float32_stays_float32():
    x = at.Tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    w = at.Tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    b = at.Tensor(rng.standard_normal(4).astype(np.float32), requires_grad=True)
    y = F.conv2d(x, w, b, padding=1)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == b.grad.dtype == np.float32


@pytest.mark.parametrize("call, words", [
    (lambda: F.conv2d(at.zeros(2, 3, 5, 5), at.zeros(4, 2, 3, 3)),
     ["conv2d", "(2, 3, 5, 5)", "(4, 2, 3, 3)", "3 channels"]),
    (lambda: F.conv2d(at.zeros(2, 3, 2, 2), at.zeros(4, 3, 3, 3)),
     ["conv2d", "(2, 3, 2, 2)", "(4, 3, 3, 3)", "smaller"]),
    (lambda: F.conv2d(at.zeros(5, 5), at.zeros(4, 3, 3, 3)), ["conv2d", "(5, 5)"]),
    (lambda: F.conv2d(at.zeros(1, 3, 5, 5), at.zeros(4, 3, 3)), ["conv2d", "(4, 3, 3)"]),
    (lambda: F.conv2d(at.zeros(1, 4, 5, 5), at.zeros(3, 2, 3, 3), groups=2),
     ["conv2d", "(3, 2, 3, 3)", "groups=2"]),
    (lambda: F.conv2d(at.zeros(1, 3, 5, 5), at.zeros(4, 3, 3, 3), at.zeros(3)),
     ["conv2d", "bias", "(3,)", "(4,)"]),
    (lambda: F.conv1d(at.zeros(2, 3, 5), at.zeros(4, 2, 3)),
     ["conv1d", "(2, 3, 5)", "(4, 2, 3)"]),
])
def test_conv_shape_errors_name_op_and_shapes(call, words):
    with pytest.raises(ShapeError) as error:
        call()
    for word in words:
        assert word in str(error.value)


def test_conv_argument_errors():
    x, w = at.zeros(1, 3, 5, 5), at.zeros(4, 3, 3, 3)
    with pytest.raises(ValueError, match="same"):
        F.conv2d(x, w, padding="same", stride=2)
    with pytest.raises(ValueError, match="padding"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="stride"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="groups"):
        F.conv2d(x, w, groups=0)


def test_pooled_columns_are_not_reused_while_a_graph_holds_them(monkeypatch):
    monkeypatch.setattr(F._workspace, "min_bytes", 0)  # pool even these small arrays
    x1, x2 = rng.standard_normal((2, 3, 6, 6)), rng.standard_normal((2, 3, 6, 6))
    w0, r = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((2, 4, 4, 4))
    w = at.Tensor(w0, requires_grad=True)
    y = F.conv2d(at.Tensor(x1), w)
    with at.no_grad():  # same shapes: would take the held buffer if it were free
        F.conv2d(at.Tensor(x2), at.Tensor(w0))
    F.conv2d(at.Tensor(x2), w).sum().backward()
    w.grad = None
    (y * at.Tensor(r)).sum().backward()
    tw = torch.tensor(w0, requires_grad=True)
    (TF.conv2d(torch.tensor(x1), tw) * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10)
    assert F._workspace.buffers  # the pool was used


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("x_shape, w_shape", [((1, 1, 3, 3), (1, 1, 3, 3)),
                                              ((2, 8, 6, 6), (8, 8, 3, 3)),
                                              ((2, 3, 5, 5), (4, 3, 3, 3))])
def test_input_gradient_leaves_the_padding_out_like_torch(dtype, x_shape, w_shape):
    """An infinite weight meets only real dy in the input's gradient (no 0 * inf = NaN
    from the zeros around dy), in every path: wide, full correlation, col2im."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    w[0, 0, 2, 2] = np.inf
    grads = []
    for lib in (at, torch):
        xt = lib.tensor(x, requires_grad=True)
        y = lib.nn.functional.conv2d(xt, lib.tensor(w), padding=1)
        dy = np.random.default_rng(4).standard_normal(tuple(y.shape)).astype(dtype)
        grads.append(lib.autograd.grad(y, [xt], lib.tensor(dy))[0].numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-5,
                               atol=1e-5 if dtype == "float32" else 0)


@pytest.mark.parametrize("op, x_shape, w_shape", [
    ("conv2d", (0, 1, 3, 3), (2, 1, 2, 2)), ("conv1d", (0, 1, 3), (2, 1, 2)),
    ("conv_transpose2d", (0, 2, 3, 3), (2, 1, 2, 2))])
@pytest.mark.parametrize("x_dtype, w_dtype", [("float64", "float32"), ("float16", "float32"),
                                              ("int64", "float32"), ("float32", "float64")])
def test_empty_batch_keeps_the_inputs_dtype_like_torch(op, x_shape, w_shape, x_dtype, w_dtype):
    """PyTorch returns an empty batch in the input's (floating) dtype without checking the
    weight's; the gradients keep each tensor's own dtype."""
    results = []
    for lib in (at, torch):
        x = lib.zeros(x_shape, dtype=getattr(lib, x_dtype))
        w = lib.zeros(w_shape, dtype=getattr(lib, w_dtype), requires_grad=True)
        y = getattr(lib.nn.functional, op)(x, w)
        (gw,) = lib.autograd.grad(y.sum(), [w])
        results.append((str(y.dtype), tuple(y.shape), str(gw.dtype)))
    assert results[0] == results[1]


def test_empty_batch_bias_must_match_the_input_like_torch():
    x, w = at.zeros(0, 1, 3, 3), at.zeros(2, 1, 2, 2)
    with pytest.raises(RuntimeError, match="bias dtype"):
        at.nn.functional.conv2d(x, w, at.zeros(2, dtype=at.float64))
    with pytest.raises(RuntimeError):
        TF.conv2d(torch.zeros(0, 1, 3, 3), torch.zeros(2, 1, 2, 2),
                  torch.zeros(2, dtype=torch.float64))
