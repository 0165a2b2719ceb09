"""flip, fliplr, flipud, roll, tril, triu beyond the op table: results are copies, dtypes
kept, in-place forms, errors, against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

X = np.arange(24).reshape(2, 3, 4)


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.flip(x, (0, 2)), lambda lib, x: x.flip(1, 2),
    lambda lib, x: x.flip(dims=(0,)), lambda lib, x: lib.flip(x, ()),
    lambda lib, x: lib.fliplr(x), lambda lib, x: x.flipud(),
    lambda lib, x: lib.roll(x, 2), lambda lib, x: x.roll(-1, 2),
    lambda lib, x: lib.roll(x, (1, 7), (0, 1)), lambda lib, x: lib.roll(x, 0, 1),
    lambda lib, x: lib.roll(x, [1, 1], [2, 2]),
    lambda lib, x: lib.tril(x), lambda lib, x: x.triu(-1), lambda lib, x: lib.tril(x, 5),
    lambda lib, x: lib.triu(x, diagonal=-5), lambda lib, x: (x > 10).tril(),
])
def test_values_and_dtypes_like_torch(call):
    ours, theirs = call(at, at.tensor(X)), call(torch, torch.tensor(X))
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("call", [
    lambda lib, x: lib.flip(x, (0,)), lambda lib, x: lib.flip(x, ()),
    lambda lib, x: lib.roll(x, 0, 1), lambda lib, x: lib.roll(x, 3),
    lambda lib, x: lib.roll(x, 12), lambda lib, x: lib.tril(x, 5),
])
def test_results_are_copies_not_views(call):
    x = at.tensor(X.astype(np.float64))
    y = call(at, x)
    y += 1
    np.testing.assert_array_equal(x.numpy(), X)


def test_in_place_triangles_with_and_without_a_graph():
    x = at.tensor(X.astype(np.float64))
    x.tril_()
    np.testing.assert_array_equal(x.numpy(), np.tril(X))
    leaf = at.tensor(X.astype(np.float64), requires_grad=True)
    y = leaf * 2
    y.triu_(1)
    y.sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), 2 * np.triu(np.ones_like(X), 1))


@pytest.mark.parametrize("call", [
    lambda lib: lib.flip(lib.ones(2, 3), (0, 0)), lambda lib: lib.flip(lib.ones(2, 3), (2,)),
    lambda lib: lib.fliplr(lib.ones(3)), lambda lib: lib.flipud(lib.tensor(1.0)),
    lambda lib: lib.roll(lib.ones(2, 3), (1, 2), (0,)), lambda lib: lib.roll(lib.ones(2), 1, 1),
    lambda lib: lib.tril(lib.ones(3)), lambda lib: lib.triu(lib.tensor(1.0)),
])
def test_errors_are_raised_where_torch_raises_them(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)):
        call(at)


def test_roll_of_an_empty_tensor():
    assert at.roll(at.ones(0), 3).shape == (0,)
