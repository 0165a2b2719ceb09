"""Reductions beyond the table: argument spellings, dtypes, empty and tied inputs."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

X = np.arange(24.0).reshape(2, 3, 4) % 7


def test_numpy_spellings_axis_and_keepdims_are_accepted():
    x = at.tensor(X)
    for name in ("sum", "mean", "var", "std", "amax", "amin", "logsumexp", "prod"):
        by_dim = getattr(at, name)(x, dim=1, keepdim=True)
        by_axis = getattr(at, name)(x, axis=1, keepdims=True)
        assert by_axis.shape == (2, 1, 4)
        np.testing.assert_array_equal(by_dim.numpy(), by_axis.numpy())
    values, indices = x.max(axis=2, keepdims=True)
    assert values.shape == indices.shape == (2, 3, 1)
    assert x.argmin(axis=0).tolist() == torch.tensor(X).argmin(dim=0).tolist()


def test_empty_dim_tuple_reduces_everything_like_torch():
    x = at.tensor(X)
    assert x.sum(dim=()).item() == X.sum()
    np.testing.assert_allclose(x.mean(dim=()).item(), X.mean())
    np.testing.assert_allclose(x.var(dim=()).item(), torch.tensor(X).var(dim=()).item())


def test_sum_of_integers_and_bools_is_int64():
    assert at.tensor([1, 2], dtype=at.int32).sum().dtype == np.int64
    assert at.tensor([True, True, False]).sum().item() == 2
    assert at.tensor([1, 2]).sum(dtype=at.float64).dtype == np.float64
    assert at.tensor([1, 2]).mean(dtype=at.float32).item() == 1.5


def test_reductions_of_empty_tensors_match_torch():
    assert np.isnan(at.zeros(0).mean().item()) and np.isnan(torch.zeros(0).mean().item())
    assert at.zeros(0).sum().item() == 0.0
    assert at.zeros(2, 0).sum(1).tolist() == [0.0, 0.0]


def test_var_with_too_few_elements_is_nan_like_torch():
    with pytest.warns(UserWarning):
        reference = torch.tensor([1.0]).var().item()
    assert np.isnan(at.tensor([1.0]).var().item()) and np.isnan(reference)
    assert at.tensor([1.0]).var(correction=0).item() == 0.0
    assert at.tensor([1.0, 3.0]).var(unbiased=False).item() == 1.0


def test_max_with_dim_returns_named_values_and_indices():
    x = at.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]], requires_grad=True)
    result = x.max(dim=1)
    assert result.values.tolist() == [5.0, 7.0] and result.indices.tolist() == [1, 0]
    values, indices = result
    assert values is result[0] and indices.dtype == np.int64 and not indices.requires_grad
    values.sum().backward()   # the gradient goes to the selected index only
    assert x.grad.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_whole_tensor_max_shares_gradient_among_ties_like_torch():
    for lib in (at, torch):
        x = lib.tensor([[1.0, 5.0], [5.0, 5.0]], requires_grad=True)
        (x.max() * 3).backward()
        np.testing.assert_allclose(x.grad.numpy(), [[0.0, 1.0], [1.0, 1.0]])


def test_max_of_two_tensors_is_maximum():
    assert at.max(at.tensor([1.0, 4.0]), at.tensor([3.0, 2.0])).tolist() == [3.0, 4.0]
    assert at.min(at.tensor([1.0, 4.0]), at.tensor([3.0, 2.0])).tolist() == [1.0, 2.0]


def test_argmax_returns_first_occurrence_like_torch():
    values = [[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]
    assert at.tensor(values).argmax(1).tolist() == torch.tensor(values).argmax(1).tolist()
    assert at.tensor(values).argmax().item() == 1
    assert at.tensor(values).argmax(1, keepdim=True).shape == (2, 1)


def test_prod_gradient_with_zeros_matches_torch():
    values = [[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]]
    grads = []
    for lib in (at, torch):
        x = lib.tensor(values, requires_grad=True)
        x.prod(1).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def test_mean_keeps_float32():
    x = at.ones(3, 4)
    assert x.mean().dtype == np.float32 and x.var(0).dtype == np.float32
    assert x.std(1).dtype == np.float32 and at.logsumexp(x, 1).dtype == np.float32


@pytest.mark.parametrize("shape, correction, dim", [((), 0, None), ((1,), 0, None),
                                                    ((2, 3), 1, 1), ((3, 1), 0, 1)])
def test_std_gradient_is_zero_where_std_is_zero_like_torch(shape, correction, dim):
    """dy / (2 std) is inf at std = 0; PyTorch's subgradient there is 0."""
    data = np.ones(shape)
    if len(shape) == 2:
        data[0] = [1.0, 2.0, 4.0][:shape[1]]  # one row that varies, one that does not
    grads = []
    for lib in (at, torch):
        x = lib.tensor(data, requires_grad=True)
        y = x.std(dim, correction=correction)
        grads.append(lib.autograd.grad(y, x, lib.ones_like(y))[0].numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim, correction", [(None, 4), (None, 5), ((0, 1), 4), ((0, 1), 5),
                                             (1, 2), (1, 3), (0, 2)])
def test_variance_without_degrees_of_freedom_like_torch(name, dim, correction):
    """N <= correction: the value is inf (NaN for a zero sum); the gradient is PyTorch's,
    2 dy (x - mean) / (N - correction) over given dims, dy * inf (NaN at the mean) over
    all of them."""
    results = []
    for lib in (at, torch):
        x = lib.tensor([[1.0, 2.0], [3.0, 3.0]], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = getattr(x, name)(dim, correction=correction)
        results.append((y.detach().numpy(),
                        lib.autograd.grad(y, x, -lib.ones_like(y))[0].numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
