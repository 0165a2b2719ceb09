"""ops/search.py against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

RNG = np.random.default_rng(7)
EDGES = np.array([-1.0, 0.0, 0.5, 2.0])
VALUES = np.array([[-3.0, -1.0, 0.0, 0.2], [0.5, 1.0, 2.0, 9.0]])


@pytest.mark.parametrize("right", [False, True])
def test_bucketize(check, right):
    check(lambda lib, x, b: lib.bucketize(x, b, right=right), VALUES, EDGES, grad=False)
    check(lambda lib, x, b: lib.bucketize(x, b, out_int32=True), VALUES, EDGES, grad=False)
    check(lambda lib, x, b: lib.bucketize(x, b), np.array([np.nan, 1.0]), EDGES, grad=False)
    check(lambda lib, b: lib.bucketize(lib.tensor(0.3), b, right=right), EDGES, grad=False)


@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted(check, side):
    check(lambda lib, s, x: lib.searchsorted(s, x, side=side), EDGES, VALUES, grad=False)
    rows = np.sort(RNG.integers(0, 5, (2, 6)), axis=1)
    queries = RNG.integers(-1, 6, (2, 3))
    check(lambda lib, s, x: lib.searchsorted(s, x, side=side), rows, queries, grad=False)
    check(lambda lib, s, x: lib.searchsorted(s, x, right=side == "right", out_int32=True),
          rows, queries, grad=False)
    unsorted = np.array([3.0, 1.0, 2.0])
    check(lambda lib, s, x, o: lib.searchsorted(s, x, sorter=o, side=side), unsorted,
          np.array([1.5, 3.0]), np.array([1, 2, 0]), grad=False)
    with pytest.raises(RuntimeError):
        at.searchsorted(at.tensor(rows), at.tensor(np.zeros((3, 2))))


def test_argwhere(check):
    values = RNG.integers(0, 2, (3, 4))
    check(lambda lib, x: lib.argwhere(x), values, grad=False)
    check(lambda lib, x: x.argwhere(), values[0], grad=False)
    check(lambda lib, x: lib.argwhere(x), np.array(2.0), grad=False)
    check(lambda lib, x: lib.argwhere(x), np.zeros((2, 0)), grad=False)


def test_unique_consecutive(check):
    values = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    check(lambda lib, x: lib.unique_consecutive(x), values, grad=False)
    check(lambda lib, x: lib.unique_consecutive(x, return_inverse=True, return_counts=True),
          values, grad=False)
    matrix = np.array([[1, 1, 2], [1, 1, 2], [0, 0, 5], [1, 1, 2]])
    check(lambda lib, x: x.unique_consecutive(return_counts=True, return_inverse=True,
                                              dim=0), matrix, grad=False)
    check(lambda lib, x: lib.unique_consecutive(x, return_counts=True, dim=1), matrix,
          grad=False)
    check(lambda lib, x: lib.unique_consecutive(x, return_inverse=True), matrix, grad=False)
