"""batch_norm / layer_norm / embedding / dropout2d (functional) against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import abdou_torch as at
from abdou_torch.autograd import gradcheck
from abdou_torch.errors import ShapeError
from abdou_torch.ops import normalization as F

rng = np.random.default_rng(2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
# (2, 3, 150, 150): per-channel planes too large to lay out in full (_channel_rows)
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (6, 3), (3, 3, 7), (1, 1, 2, 2),
                                   (2, 3, 150, 150)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_matches_torch(shape, affine, dtype, compare_with_torch):
    channels = shape[1]
    arrays = [rng.standard_normal(shape) * 3 + 1]
    if affine:
        arrays += [rng.standard_normal(channels), rng.standard_normal(channels)]
    running = [np.zeros(channels, dtype), np.ones(channels, dtype)]
    ours_stats = [at.Tensor(r.copy()) for r in running]
    theirs_stats = [torch.tensor(r.copy()) for r in running]
    compare_with_torch(
        lambda x, *wb: F.batch_norm(x, *ours_stats, *wb, training=True, momentum=0.3),
        lambda x, *wb: TF.batch_norm(x, *theirs_stats, *wb, training=True, momentum=0.3),
        arrays, dtype)
    for ours, theirs in zip(ours_stats, theirs_stats):  # running stats, unbiased variance
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-5, atol=1e-6)
        assert ours.dtype == dtype


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (6, 3)])
def test_batch_norm_eval_matches_torch(shape, compare_with_torch):
    channels = shape[1]
    mean, var = rng.standard_normal(channels), rng.random(channels) + 0.5
    arrays = [rng.standard_normal(shape), rng.standard_normal(channels),
              rng.standard_normal(channels)]
    compare_with_torch(
        lambda x, w, b: F.batch_norm(x, at.Tensor(mean), at.Tensor(var), w, b, eps=1e-3),
        lambda x, w, b: TF.batch_norm(x, torch.tensor(mean), torch.tensor(var), w, b, eps=1e-3),
        arrays)


def test_batch_norm_without_running_stats_and_gradcheck():
    x = at.Tensor(rng.standard_normal((3, 2, 2, 2)), requires_grad=True)
    w = at.Tensor(rng.standard_normal(2), requires_grad=True)
    b = at.Tensor(rng.standard_normal(2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                     (x, w, b))


def test_batch_norm_second_derivative_matches_torch():
    x0, w0 = rng.standard_normal((4, 2, 3)), rng.standard_normal(2)
    r = rng.standard_normal((4, 2, 3))
    x, w = at.Tensor(x0, requires_grad=True), at.Tensor(w0, requires_grad=True)
    loss = (at.tanh(F.batch_norm(x, None, None, w, None, training=True)) * at.Tensor(r)).sum()
    gx, gw = at.autograd.grad(loss, (x, w), create_graph=True)
    ((gx * gx).sum() + (gw * gw).sum()).backward()
    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    tloss = (torch.tanh(TF.batch_norm(tx, None, None, tw, None, training=True))
             * torch.tensor(r)).sum()
    tgx, tgw = torch.autograd.grad(tloss, (tx, tw), create_graph=True)
    ((tgx * tgx).sum() + (tgw * tgw).sum()).backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-8, atol=1e-9)


def test_batch_norm_errors():
    with pytest.raises(ShapeError, match=r"batch_norm: running_mean of shape \(3,\).*4 "
                                         r"channels.*\(2, 4, 5, 5\)"):
        F.batch_norm(at.zeros(2, 4, 5, 5), at.zeros(3), at.ones(3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(at.zeros(1, 4), at.zeros(4), at.ones(4), training=True)
    with pytest.raises(ShapeError, match=r"batch_norm.*\(4,\)"):
        F.batch_norm(at.zeros(4), None, None, training=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, normalized", [((3, 4, 5), (5,)), ((2, 3, 4), (3, 4)),
                                               ((6,), (6,))])
def test_layer_norm_matches_torch(shape, normalized, dtype, compare_with_torch):
    arrays = [rng.standard_normal(shape) * 2 + 1, rng.standard_normal(normalized),
              rng.standard_normal(normalized)]
    compare_with_torch(lambda x, w, b: F.layer_norm(x, normalized, w, b, eps=1e-4),
                       lambda x, w, b: TF.layer_norm(x, normalized, w, b, eps=1e-4),
                       arrays, dtype)
    compare_with_torch(lambda x: F.layer_norm(x, normalized), lambda x: TF.layer_norm(
        x, normalized), arrays[:1], dtype)


def test_layer_norm_errors():
    with pytest.raises(ShapeError, match=r"layer_norm: normalized_shape \(5,\).*\(2, 3, 4\)"):
        F.layer_norm(at.zeros(2, 3, 4), 5)


@pytest.mark.parametrize("padding_idx", [None, 2, -1])
def test_embedding_matches_torch(padding_idx, compare_with_torch):
    indices = np.array([[0, 2, 2, 9], [9, 1, 2, 0]])
    weight = rng.standard_normal((10, 3))
    compare_with_torch(lambda w: F.embedding(at.tensor(indices), w, padding_idx),
                       lambda w: TF.embedding(torch.tensor(indices), w, padding_idx), [weight])


def test_embedding_errors():
    with pytest.raises(IndexError, match="embedding: index 10 is out of range for 10"):
        F.embedding(at.tensor([1, 10]), at.zeros(10, 3))
    with pytest.raises(TypeError, match="integer"):
        F.embedding(at.tensor([1.0]), at.zeros(10, 3))


def test_dropout2d_zeroes_whole_channels():
    at.manual_seed(0)
    x = at.Tensor(np.ones((8, 16, 3, 4)), requires_grad=True)
    y = F.dropout2d(x, p=0.25)
    per_channel = y.data.reshape(8, 16, -1)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))  # a channel is all-or-nothing
    assert set(np.unique(per_channel)) <= {0.0, 1 / 0.75}
    assert 0.1 < (per_channel[..., 0] == 0).mean() < 0.4
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, y.data)  # the same mask scales the gradient
    assert F.dropout2d(x, 0.5, training=False) is x
    assert np.all(F.dropout2d(x, 1.0).data == 0)
    unbatched = F.dropout2d(at.ones(16, 3, 3), 0.5).data.reshape(16, -1)
    assert np.all(unbatched.min(-1) == unbatched.max(-1))
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout2d(x, 1.5)


def test_layer_norm_primitive_second_derivatives_and_composite():
    """The fused layer_norm against the same math written with ops, first and second
    derivatives (its recorded backward recomputes x_hat with Tensor ops)."""
    from abdou_torch.autograd.gradcheck import gradgradcheck
    rng = np.random.default_rng(0)
    x = at.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True)
    w = at.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    b = at.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    fused = F.layer_norm(x, (2, 4), w, b, eps=1e-3)
    assert fused._op == "layer_norm"
    centered = x - x.mean((1, 2), keepdim=True)
    composite = centered / ((centered * centered).mean((1, 2), keepdim=True) + 1e-3).sqrt() \
        * w + b
    np.testing.assert_allclose(fused.numpy(), composite.numpy(), rtol=1e-12, atol=1e-14)
    weights = at.tensor(rng.standard_normal(fused.shape))
    for a, c in zip(at.autograd.grad((fused * weights).sum(), (x, w, b)),
                    at.autograd.grad((composite * weights).sum(), (x, w, b))):
        np.testing.assert_allclose(a.numpy(), c.numpy(), rtol=1e-11, atol=1e-13)
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b, eps=1e-3), (x, w, b))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (6, 3), (64, 8, 28, 28)])
def test_batch_norm_relu_matches_torch(shape, dtype, compare_with_torch):
    channels = shape[1]
    arrays = [rng.standard_normal(shape) * 3 + 1, rng.standard_normal(channels),
              rng.standard_normal(channels)]
    ours_stats = [at.Tensor(np.zeros(channels, dtype)), at.Tensor(np.ones(channels, dtype))]
    theirs_stats = [torch.zeros(channels, dtype=torch.from_numpy(np.zeros(1, dtype)).dtype),
                    torch.ones(channels, dtype=torch.from_numpy(np.zeros(1, dtype)).dtype)]
    out = compare_with_torch(
        lambda x, w, b: F.batch_norm_relu(x, *ours_stats, w, b, training=True, momentum=0.2),
        lambda x, w, b: torch.relu(TF.batch_norm(x, *theirs_stats, w, b, training=True,
                                                 momentum=0.2)), arrays, dtype)
    assert isinstance(out.grad_fn, F.BatchNormReLU)
    for ours, theirs in zip(ours_stats, theirs_stats):
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-5, atol=1e-6)


def test_batch_norm_relu_in_evaluation_is_the_two_ops(compare_with_torch):
    mean, var = rng.standard_normal(3), rng.random(3) + 0.5
    arrays = [rng.standard_normal((4, 3, 5)), rng.standard_normal(3), rng.standard_normal(3)]
    compare_with_torch(
        lambda x, w, b: F.batch_norm_relu(x, at.Tensor(mean), at.Tensor(var), w, b),
        lambda x, w, b: torch.relu(TF.batch_norm(x, torch.tensor(mean), torch.tensor(var),
                                                 w, b)), arrays)


def test_batch_norm_relu_gradcheck_and_second_derivatives(second_derivative_check):
    x = at.Tensor(rng.standard_normal((3, 2, 2, 2)) + 0.3, requires_grad=True)
    w = at.Tensor(rng.standard_normal(2), requires_grad=True)
    b = at.Tensor(rng.standard_normal(2), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.batch_norm_relu(x, None, None, w, b, training=True),
                     (x, w, b))
    second_derivative_check(
        lambda x, w: at.tanh(F.batch_norm_relu(x, None, None, w, None, training=True)),
        (x, w))


def test_batch_norm_relu_second_derivative_matches_torch():
    x0, w0 = rng.standard_normal((4, 2, 3)), rng.standard_normal(2)
    r = rng.standard_normal((4, 2, 3))
    x, w = at.Tensor(x0, requires_grad=True), at.Tensor(w0, requires_grad=True)
    out = F.batch_norm_relu(x, None, None, w, None, training=True)
    loss = (at.tanh(out) * at.Tensor(r)).sum()
    gx, gw = at.autograd.grad(loss, (x, w), create_graph=True)
    ((gx * gx).sum() + (gw * gw).sum()).backward()
    tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    tout = torch.relu(TF.batch_norm(tx, None, None, tw, None, training=True))
    tloss = (torch.tanh(tout) * torch.tensor(r)).sum()
    tgx, tgw = torch.autograd.grad(tloss, (tx, tw), create_graph=True)
    ((tgx * tgx).sum() + (tgw * tgw).sum()).backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-8, atol=1e-9)


def test_batch_norm_relu_output_changed_in_place_raises_as_in_torch():
    """The gradient's mask is read from the output (as PyTorch's ReLU keeps its result)."""
    x = at.Tensor(rng.standard_normal((4, 3, 2)), requires_grad=True)
    out = F.batch_norm_relu(x, None, None, training=True)
    out.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()
    tx = torch.tensor(x.data, requires_grad=True)
    tout = torch.relu(TF.batch_norm(tx, None, None, training=True))
    tout.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        tout.sum().backward()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_relu_at_the_kink_matches_torch(dtype):
    """Where the normalised value is exactly 0 (the middle of 1, 2, 3), ReLU passes no
    gradient, as PyTorch's threshold_backward; a NaN passes it."""
    values = np.array([[1.0, 4.0, np.nan], [2.0, 4.5, 1.0], [3.0, 7.0, 2.0]], dtype)
    dy = np.array([[0.5, -1.0, 2.0], [3.0, 2.0, -1.0], [-2.0, 1.5, 0.25]], dtype)
    x = at.Tensor(values, requires_grad=True)
    w = at.Tensor(np.array([1.5, -0.5, 1.0], dtype), requires_grad=True)
    out = F.batch_norm_relu(x, None, None, w, None, training=True)
    assert out.data[1, 0] == 0
    out.backward(at.Tensor(dy))
    tx = torch.tensor(values, requires_grad=True)
    tw = torch.tensor(w.data, requires_grad=True)
    tout = torch.relu(TF.batch_norm(tx, None, None, tw, None, training=True))
    tout.backward(torch.tensor(dy))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12)
    for ours, theirs in ((out, tout), (x.grad, tx.grad), (w.grad, tw.grad)):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **tol)
