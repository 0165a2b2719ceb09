"""max_pool2d / avg_pool2d / adaptive_avg_pool2d / adaptive_max_pool2d (and the 1-D forms)
against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import abdou_torch as at
from abdou_torch.autograd import gradcheck
from abdou_torch.errors import ShapeError
from abdou_torch.ops import pooling as F

rng = np.random.default_rng(1)

MAX_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((1, 1, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 2, 9, 7), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2))),
    ((2, 2, 7, 7), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ((1, 2, 6, 6), dict(kernel_size=3, stride=1)),                 # overlapping windows
    ((2, 1, 5, 8), dict(kernel_size=2, stride=3, padding=1, ceil_mode=True)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, kwargs", MAX_CASES)
def test_max_pool2d_matches_torch(shape, kwargs, dtype, compare_with_torch):
    x = rng.standard_normal(shape)
    compare_with_torch(lambda x: F.max_pool2d(x, **kwargs), lambda x: TF.max_pool2d(x, **kwargs),
                       [x], dtype)


@pytest.mark.parametrize("shape, kwargs", MAX_CASES)
def test_max_pool2d_indices_and_ties_match_torch(shape, kwargs, compare_with_torch):
    # after a ReLU whole windows tie at 0: the gradient must go to the first one only
    x = np.maximum(rng.standard_normal(shape), 0)
    out, indices = F.max_pool2d(at.Tensor(x), return_indices=True, **kwargs)
    expected, expected_indices = TF.max_pool2d(torch.tensor(x), return_indices=True, **kwargs)
    np.testing.assert_array_equal(out.data, expected.numpy())
    np.testing.assert_array_equal(indices.data, expected_indices.numpy())
    assert indices.dtype == np.int64
    compare_with_torch(lambda x: F.max_pool2d(x, **kwargs), lambda x: TF.max_pool2d(x, **kwargs),
                       [x])


AVG_CASES = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((1, 1, 7, 5), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 2, 7, 6), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((2, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 2, 6, 7), dict(kernel_size=(2, 3), stride=(3, 2), padding=(1, 1), ceil_mode=True,
                        count_include_pad=False)),
    ((1, 2, 5, 5), dict(kernel_size=2, stride=1, divisor_override=3)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, kwargs", AVG_CASES)
def test_avg_pool2d_matches_torch(shape, kwargs, dtype, compare_with_torch):
    x = rng.standard_normal(shape)
    compare_with_torch(lambda x: F.avg_pool2d(x, **kwargs), lambda x: TF.avg_pool2d(x, **kwargs),
                       [x], dtype)


@pytest.mark.parametrize("output_size", [1, 3, (4, 3), (None, 2), (7, 5), (2, 5)])
def test_adaptive_avg_pool2d_matches_torch(output_size, compare_with_torch):
    x = rng.standard_normal((2, 3, 7, 5))
    compare_with_torch(lambda x: F.adaptive_avg_pool2d(x, output_size),
                       lambda x: TF.adaptive_avg_pool2d(x, output_size), [x])


@pytest.mark.parametrize("output_size", [1, 3, (4, 3), (None, 2), (7, 5), (5, 4), (2, 5)])
def test_adaptive_max_pool2d_matches_torch(output_size, compare_with_torch):
    """Overlapping bins (7 -> 5, 5 -> 4) add up their gradients; ties at 0 (a ReLU's
    output) pick the first position in row-major order, as PyTorch."""
    x = np.maximum(rng.standard_normal((2, 3, 7, 5)), 0)
    compare_with_torch(lambda x: F.adaptive_max_pool2d(x, output_size),
                       lambda x: TF.adaptive_max_pool2d(x, output_size), [x])
    out, indices = F.adaptive_max_pool2d(at.Tensor(x), output_size, return_indices=True)
    expected, expected_indices = TF.adaptive_max_pool2d(torch.tensor(x), output_size,
                                                        return_indices=True)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    assert indices.dtype == at.int64
    layer_out, layer_indices = at.nn.AdaptiveMaxPool2d(output_size, return_indices=True)(
        at.Tensor(x))
    np.testing.assert_array_equal(layer_indices.numpy(), expected_indices.numpy())


@pytest.mark.parametrize("output_size", [1, 4, 9, (3,)])
def test_adaptive_pool1d_matches_torch(output_size, compare_with_torch):
    for shape in [(2, 3, 9), (3, 9)]:  # batched and not
        x = rng.standard_normal(shape)
        compare_with_torch(lambda x: F.adaptive_avg_pool1d(x, output_size),
                           lambda x: TF.adaptive_avg_pool1d(x, output_size), [x])
        compare_with_torch(lambda x: F.adaptive_max_pool1d(x, output_size),
                           lambda x: TF.adaptive_max_pool1d(x, output_size), [x])
        _, indices = F.adaptive_max_pool1d(at.Tensor(x), output_size, return_indices=True)
        _, expected = TF.adaptive_max_pool1d(torch.tensor(x), output_size, return_indices=True)
        np.testing.assert_array_equal(indices.numpy(), expected.numpy())


def test_pool_unbatched_and_1d_forms(compare_with_torch):
    x3 = rng.standard_normal((3, 6, 6))
    compare_with_torch(lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), [x3])
    compare_with_torch(lambda x: F.avg_pool2d(x, 3, 1, 1), lambda x: TF.avg_pool2d(x, 3, 1, 1),
                       [x3])
    x1 = rng.standard_normal((2, 3, 9))
    compare_with_torch(lambda x: F.max_pool1d(x, 3, 2, 1), lambda x: TF.max_pool1d(x, 3, 2, 1),
                       [x1])
    compare_with_torch(lambda x: F.avg_pool1d(x, 2), lambda x: TF.avg_pool1d(x, 2), [x1])


def test_pool_gradcheck_and_second_derivatives(second_derivative_check):
    x = at.Tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    assert gradcheck(lambda x: F.max_pool2d(x, 2, 1), (x,))
    assert gradcheck(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), (x,))
    assert gradcheck(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (x,))
    # pooling is piecewise linear: the second derivative through it must be exact
    second_derivative_check(lambda x: F.max_pool2d(x * x, 2, 1), (x,))
    second_derivative_check(lambda x: F.avg_pool2d(x * x, 3, 2, 1), (x,))
    second_derivative_check(lambda x: F.adaptive_avg_pool2d(x * x, (3, 2)), (x,))
    assert gradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 4)), (x,))
    second_derivative_check(lambda x: F.adaptive_max_pool2d(x * x, (3, 4)), (x,))


def test_pool_errors_name_op_and_shapes():
    with pytest.raises(ShapeError, match=r"max_pool2d.*\(2, 5\)"):
        F.max_pool2d(at.zeros(2, 5), 2)
    with pytest.raises(ShapeError, match=r"avg_pool2d.*\(1, 1, 2, 2\).*smaller"):
        F.avg_pool2d(at.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="half of kernel"):
        F.max_pool2d(at.zeros(1, 1, 6, 6), 2, padding=2)
    with pytest.raises(ValueError, match="adaptive_avg_pool2d"):
        F.adaptive_avg_pool2d(at.zeros(1, 1, 6, 6), 0)
    with pytest.raises(ValueError, match=r"adaptive_max_pool2d.*\(3, 0\)"):
        F.adaptive_max_pool2d(at.zeros(1, 1, 6, 6), (3, 0))
    with pytest.raises(ShapeError, match=r"adaptive_max_pool2d.*\(6, 6\)"):
        F.adaptive_max_pool2d(at.zeros(6, 6), 2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool1d: output_size must be an int"):
        F.adaptive_avg_pool1d(at.zeros(1, 2, 6), (2, 3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("shape, kwargs", [
    ((2, 3, 8, 8), dict(kernel_size=2)),                              # windows tile exactly
    ((2, 3, 7, 9), dict(kernel_size=2)),                              # a row and column left
    ((2, 1, 5, 8), dict(kernel_size=2, stride=3, padding=1, ceil_mode=True)),
])
def test_max_pool2d_backward_routes_gradients_bit_for_bit_as_torch(shape, kwargs, dtype):
    """Disjoint windows: the gradient reaches each window's maximum unchanged, inf and NaN
    included, and every other position is +0 (no NaN from inf * 0, no -0)."""
    x = rng.standard_normal(shape).astype(dtype)
    ours = at.Tensor(x, requires_grad=True)
    out = F.max_pool2d(ours, **kwargs)
    dy = rng.standard_normal(out.shape).astype(dtype)
    dy.reshape(-1)[:3] = [np.inf, -np.inf, np.nan]
    out.backward(at.Tensor(dy))
    theirs = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(theirs, **kwargs).backward(torch.tensor(dy))
    expected = theirs.grad.numpy()
    assert ours.grad.dtype == dtype
    np.testing.assert_array_equal(ours.grad.data, expected)
    np.testing.assert_array_equal(np.signbit(ours.grad.data), np.signbit(expected))


def test_adaptive_avg_pool2d_sums_each_bin_before_dividing_like_torch():
    """A bin whose float32 sum overflows is infinite in PyTorch (sum, then divide); the
    mean of column means was finite."""
    x = np.full((1, 1, 5, 7), 3e38, dtype=np.float32)
    x[0, 0, ::2, 1::2] = 1.0
    ours = at.nn.functional.adaptive_avg_pool2d(at.tensor(x), (3, 2)).numpy()
    theirs = torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), (3, 2)).numpy()
    assert np.isinf(theirs).any()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("shape", [(2, 0, 5, 7), (0, 5, 7), (0, 0, 5, 7)])
def test_adaptive_avg_pool2d_takes_an_input_without_channels_like_torch(shape):
    ours = at.nn.functional.adaptive_avg_pool2d(at.zeros(shape), (3, 2))
    theirs = torch.nn.functional.adaptive_avg_pool2d(torch.zeros(shape), (3, 2))
    assert tuple(ours.shape) == tuple(theirs.shape)
    with pytest.raises(RuntimeError):
        at.nn.functional.adaptive_avg_pool2d(at.zeros(2, 3, 0, 7), (3, 2))
