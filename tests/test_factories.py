"""Tensor factories: shapes, dtypes, values, seeding."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at


def test_zeros_ones_full_take_ints_or_a_tuple():
    assert at.zeros(2, 3).shape == (2, 3) and at.zeros((2, 3)).shape == (2, 3)
    assert at.ones([4]).tolist() == [1.0] * 4 and at.zeros().shape == ()
    assert at.zeros(2).dtype == np.float32 and at.ones(2, dtype=at.float64).dtype == np.float64
    assert at.full((2,), 1.5).tolist() == [1.5, 1.5] and at.full((2,), 1.5).dtype == np.float32
    assert at.full((1,), 7).dtype == np.int64 and at.full((1,), True).dtype == np.bool_
    assert at.ones(2, requires_grad=True).requires_grad


def test_size_errors():
    with pytest.raises(TypeError, match="ints"):
        at.zeros(2.5)
    with pytest.raises(ValueError, match="non-negative"):
        at.ones(-1)
    with pytest.raises(TypeError, match="floating"):
        at.zeros(2, dtype=at.int64, requires_grad=True)


def test_tensor_copies_and_as_tensor_shares():
    array = np.arange(3.0)
    copied = at.tensor(array)
    shared = at.as_tensor(array)
    array[0] = 9
    assert copied.tolist() == [0.0, 1.0, 2.0] and shared.tolist() == [9.0, 1.0, 2.0]
    assert at.from_numpy(array).data is array
    assert at.tensor([1, 2], dtype=at.float64).dtype == np.float64
    assert at.tensor([1.0, 2.0], requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="ndarray"):
        at.from_numpy([1, 2])


def test_arange_matches_torch_rules():
    assert at.arange(5).tolist() == [0, 1, 2, 3, 4] and at.arange(5).dtype == np.int64
    assert at.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert at.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert at.arange(1.0, 4.0).dtype == np.float32
    assert at.arange(3, dtype=at.float64).dtype == np.float64
    assert at.arange(5, 0, -2).tolist() == [5, 3, 1]
    with pytest.raises(ValueError, match="step"):
        at.arange(0, 3, 0)


def test_linspace_and_eye():
    np.testing.assert_allclose(at.linspace(-1, 1, 5).numpy(), [-1, -0.5, 0, 0.5, 1])
    assert at.linspace(0, 1, 3).dtype == np.float32
    assert at.eye(3).tolist() == np.eye(3).tolist()
    assert at.eye(2, 3, dtype=at.float64).tolist() == [[1, 0, 0], [0, 1, 0]]


def test_like_factories_keep_shape_and_dtype():
    ref = at.tensor(np.ones((2, 3), np.float64))
    assert at.zeros_like(ref).shape == (2, 3) and at.zeros_like(ref).dtype == np.float64
    assert at.ones_like(at.tensor([1, 2])).dtype == np.int64
    assert at.ones_like(ref, dtype=at.float32).dtype == np.float32
    assert at.zeros_like(ref).tolist() == [[0.0] * 3] * 2
    assert at.full_like(ref, 2.5).tolist() == [[2.5] * 3] * 2
    assert at.zeros_like(ref, requires_grad=True).requires_grad


def test_manual_seed_makes_rand_and_randn_reproducible():
    at.manual_seed(123)
    a, b = at.rand(4, 5), at.randn(3)
    at.manual_seed(123)
    assert at.rand(4, 5).tolist() == a.tolist() and at.randn(3).tolist() == b.tolist()
    at.manual_seed(124)
    assert at.rand(4, 5).tolist() != a.tolist()
    generator = at.Generator(5)
    assert at.randn(3, generator=generator).tolist() == \
        at.randn(3, generator=at.Generator(5)).tolist()


def test_random_distributions_and_dtypes():
    at.manual_seed(0)
    u = at.rand(200_000)
    n = at.randn(200_000, dtype=at.float64)
    assert u.dtype == np.float32 and n.dtype == np.float64
    assert 0 <= u.numpy().min() and u.numpy().max() < 1
    assert abs(u.numpy().mean() - 0.5) < 0.01 and abs(n.numpy().std() - 1) < 0.01
    assert at.rand(2, 3, requires_grad=True).requires_grad
    r = at.randint(0, 3, (1000,))
    assert r.dtype == np.int64 and set(r.tolist()) == {0, 1, 2}
    assert sorted(at.randperm(5).tolist()) == [0, 1, 2, 3, 4]


def test_python_floats_convert_straight_to_a_requested_dtype():
    """tensor([0.1], dtype=float64) holds float64's 0.1, not float32's 0.1 widened."""
    assert at.tensor([0.1], dtype=at.float64).data[0] == 0.1
    assert at.Tensor([[0.1, 1e-40]], dtype="float64").data.tolist() == [[0.1, 1e-40]]
    assert at.tensor([0.1]).dtype == at.float32


def test_as_tensor_infers_dtypes_like_torch_and_shares_ndarrays():
    import torch
    for value in ([1, 2], [1.5, 2], [True, False], 3, 2.5, [[1, 2], [3, 4]]):
        assert at.as_tensor(value).dtype == getattr(at, str(torch.as_tensor(value).dtype)[6:])
        np.testing.assert_array_equal(at.as_tensor(value).numpy(),
                                      torch.as_tensor(value).numpy())
    array = np.arange(3.0)
    shared = at.as_tensor(array)
    array[0] = 7.0
    assert shared.data[0] == 7.0
    assert at.as_tensor([1, 2], dtype=at.float64).dtype == at.float64
