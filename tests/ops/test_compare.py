"""isclose, allclose, equal, all, any against PyTorch: NaN and infinities, dtypes, result
types, errors."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")
A = [1.0, NAN, INF, -INF, 1e-9, 100.0, 0.0, NAN]
B = [1.0 + 1e-6, NAN, INF, INF, 0.0, 100.001, -0.0, 1.0]


@pytest.mark.parametrize("options", [{}, dict(equal_nan=True), dict(rtol=0, atol=0),
                                     dict(rtol=1e-3), dict(atol=1e-8, rtol=0)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_isclose_and_allclose_like_torch(options, dtype):
    a, b = np.array(A, dtype=dtype), np.array(B, dtype=dtype)
    ours = at.isclose(at.tensor(a), at.tensor(b), **options)
    theirs = torch.isclose(torch.tensor(a), torch.tensor(b), **options)
    assert ours.dtype == np.bool_
    assert ours.tolist() == theirs.tolist()
    for part in (slice(0, 1), slice(4, 7), slice(None)):
        assert at.allclose(at.tensor(a[part]), at.tensor(b[part]), **options) is \
            torch.allclose(torch.tensor(a[part]), torch.tensor(b[part]), **options)
    assert at.tensor(a).isclose(at.tensor(b), **options).tolist() == theirs.tolist()


def test_isclose_of_integers_and_bools():
    for lib in (at, torch):
        assert lib.isclose(lib.tensor([1, 5]), lib.tensor([2, 5]), atol=1).tolist() == \
            [True, True]
    assert at.isclose(at.tensor([True, False]), at.tensor([True, True])).tolist() == \
        torch.isclose(torch.tensor([True, False]), torch.tensor([True, True])).tolist()


@pytest.mark.parametrize("a, b", [
    ([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 3.0]), ([1.0], [1.0, 1.0]),
    ([NAN], [NAN]), ([[1.0, 2.0]], [1.0, 2.0]), ([], []),
])
def test_equal_like_torch(a, b):
    assert at.equal(at.tensor(a), at.tensor(b)) is torch.equal(torch.tensor(a), torch.tensor(b))
    assert at.tensor(a).equal(at.tensor(b)) is torch.tensor(a).equal(torch.tensor(b))


def test_equal_ignores_dtypes_like_torch():
    assert at.equal(at.ones(2), at.ones(2, dtype=at.float64)) is True
    assert at.equal(at.ones(2), at.tensor([1, 1])) is torch.equal(torch.ones(2),
                                                                   torch.tensor([1, 1]))


@pytest.mark.parametrize("call", [
    lambda lib: lib.isclose(lib.ones(1), lib.ones(1, dtype=lib.float64)),
    lambda lib: lib.allclose(lib.ones(2), lib.ones(3)),
    lambda lib: lib.isclose(lib.ones(1), lib.ones(1), rtol=-1),
    lambda lib: lib.isclose(lib.ones(1), 1.0),
    lambda lib: lib.equal(lib.ones(1), [1.0]),
])
def test_errors_like_torch(call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)):
        call(at)


@pytest.mark.parametrize("name", ["all", "any"])
@pytest.mark.parametrize("values, dtype", [([[1, 0, 2], [3, 4, 5]], "uint8"),
                                           ([[1, 0, 2], [3, 4, 5]], "int32"),
                                           ([[0.5, 0.0, NAN], [1.0, -1.0, 2.0]], "float32"),
                                           ([[True, False, True], [True, True, True]], "bool")])
@pytest.mark.parametrize("dim, keepdim", [(None, False), (0, False), (1, True), (-1, False),
                                          ((0, 1), False), ((), False)])
def test_all_and_any_like_torch(name, values, dtype, dim, keepdim):
    data = np.array(values, dtype=dtype)
    kwargs = {} if dim is None else dict(dim=dim, keepdim=keepdim)
    ours = getattr(at, name)(at.tensor(data), **kwargs)
    theirs = getattr(torch, name)(torch.tensor(data), **kwargs)
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    assert ours.shape == tuple(theirs.shape) and ours.tolist() == theirs.tolist()
    method = getattr(at.tensor(data), name)(**kwargs)
    assert method.tolist() == theirs.tolist()


def test_all_and_any_of_0_d_and_empty_tensors():
    for lib in (at, torch):
        assert lib.all(lib.tensor(1.0), dim=0, keepdim=True).shape == ()
        assert bool(lib.all(lib.zeros(0))) and not bool(lib.any(lib.zeros(0)))
    with pytest.raises(IndexError):
        at.all(at.ones(2, 3), dim=2)
