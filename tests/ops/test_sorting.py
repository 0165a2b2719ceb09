"""sort, argsort, msort, topk beyond the op table: tie order, NaN, dtypes, named results,
errors, against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

TIES = [2.0, 1.0, 2.0, 1.0, 2.0, 0.5, 1.0]


@pytest.mark.parametrize("descending", [False, True])
def test_stable_sort_keeps_the_input_order_of_ties_like_torch(descending):
    values, indices = at.sort(at.tensor(TIES), descending=descending, stable=True)
    expected = torch.sort(torch.tensor(TIES), descending=descending, stable=True)
    assert values.tolist() == expected.values.tolist()
    assert indices.tolist() == expected.indices.tolist()


@pytest.mark.parametrize("descending", [False, True])
def test_stable_argsort_along_a_dim_with_ties(descending):
    data = np.array([[3, 1, 3, 1], [0, 0, 2, 2], [1, 1, 1, 0]])
    ours = at.argsort(at.tensor(data), dim=0, descending=descending, stable=True)
    theirs = torch.argsort(torch.tensor(data), dim=0, descending=descending, stable=True)
    assert ours.tolist() == theirs.tolist() and ours.dtype == np.int64


@pytest.mark.parametrize("descending", [False, True])
def test_nan_sorts_as_the_largest_value(descending):
    data = [3.0, float("nan"), 1.0, float("-inf"), float("nan"), 2.0]
    ours = at.tensor(data).sort(descending=descending)
    theirs = torch.tensor(data).sort(descending=descending)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    assert ours.indices.tolist() == theirs.indices.tolist()


@pytest.mark.parametrize("largest", [True, False])
def test_topk_with_nan_like_torch(largest):
    data = [3.0, float("nan"), 1.0, 2.0]
    ours = at.topk(at.tensor(data), 2, largest=largest)
    theirs = torch.topk(torch.tensor(data), 2, largest=largest)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    assert ours.indices.tolist() == theirs.indices.tolist()


def test_topk_of_ties_gives_the_tied_values_and_valid_indices():
    # which of the tied indices come first is unspecified in PyTorch; check what is fixed
    x = at.tensor(TIES)
    values, indices = x.topk(3)
    assert values.tolist() == torch.topk(torch.tensor(TIES), 3).values.tolist()
    assert sorted(indices.tolist()) == [0, 2, 4]
    np.testing.assert_array_equal(x.numpy()[indices.numpy()], values.numpy())


def test_gradient_goes_to_the_selected_positions():
    data = np.array([[0.3, -1.2, 2.5, 0.7], [1.1, 0.2, -0.4, 3.0]])
    weights = np.array([[1.0, 2.0], [3.0, 4.0]])
    x, xt = at.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    (x.topk(2, dim=1).values * at.tensor(weights)).sum().backward()
    (xt.topk(2, dim=1).values * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_results_are_named_tuples_with_torch_dtypes():
    x = at.tensor([[3, 1, 2]], dtype=at.int32)
    result = x.sort()
    values, indices = result
    assert result.values is values and result.indices is indices
    assert values.dtype == np.int32 and indices.dtype == np.int64
    assert values.tolist() == [[1, 2, 3]] and not values.requires_grad
    assert at.tensor([True, False]).sort().values.tolist() == [False, True]
    top = at.topk(at.tensor([1.0, 5.0, 3.0], requires_grad=True), 1)
    assert top.values.requires_grad and not top.indices.requires_grad


def test_zero_d_and_empty_inputs_like_torch():
    values, indices = at.sort(at.tensor(3.0))
    assert values.shape == () and values.item() == 3.0 and indices.item() == 0
    assert at.argsort(at.tensor(3.0)).shape == ()
    empty = at.topk(at.ones(2, 0), 0)
    assert empty.values.shape == (2, 0) == tuple(torch.topk(torch.ones(2, 0), 0).values.shape)
    assert at.msort(at.tensor([[2.0, 1.0], [0.0, 5.0]])).tolist() == [[0.0, 1.0], [2.0, 5.0]]


@pytest.mark.parametrize("call", [
    lambda lib: lib.topk(lib.ones(2, 3), 4),
    lambda lib: lib.topk(lib.ones(2, 3), -1),
    lambda lib: lib.topk(lib.ones(3), 2, dim=1),
    lambda lib: lib.sort(lib.ones(2, 3), dim=2),
    lambda lib: lib.argsort(lib.ones(2, 3), dim=-3),
    lambda lib: lib.topk(lib.ones(3), 2.0),
])
def test_errors_are_raised_where_torch_raises_them(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(at)
    assert any(word in str(ours.value) for word in ("topk", "sort", "k", "dim"))
