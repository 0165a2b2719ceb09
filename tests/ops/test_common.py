"""ops/common.py against PyTorch: values, dtypes, and gradients where there are any."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

X = np.array([[1.5, -2.5, 0.5, 2.49], [3.0, -0.7, 2.2, -1.5], [0.0, 7.25, -3.5, 0.3]],
             dtype=np.float32)
Y = np.array([[0.7, 1.5, -2.0, 0.4], [2.0, -0.3, 1.1, 3.0], [1.0, 2.5, 0.9, -0.6]],
             dtype=np.float32)

DIFFERENTIABLE = {
    "floor": lambda lib, x, y: lib.floor(x), "ceil": lambda lib, x, y: x.ceil(),
    "round": lambda lib, x, y: lib.round(x),
    "round decimals": lambda lib, x, y: x.round(decimals=1),
    "trunc": lambda lib, x, y: lib.trunc(x), "frac": lambda lib, x, y: x.frac(),
    "sign": lambda lib, x, y: lib.sign(x), "reciprocal": lambda lib, x, y: x.reciprocal(),
    "rsqrt": lambda lib, x, y: lib.rsqrt(y.abs() + 0.5), "lerp": lambda lib, x, y: x.lerp(y, 0.3),
    "lerp tensor weight": lambda lib, x, y: lib.lerp(x, y, y.sigmoid()),
    "fmod": lambda lib, x, y: lib.fmod(x, y), "remainder": lambda lib, x, y: x.remainder(y),
    "remainder scalar": lambda lib, x, y: x % 1.25,
    "repeat": lambda lib, x, y: x.repeat(2, 3),
    "repeat new dims": lambda lib, x, y: x.repeat(2, 1, 2),
    "tile": lambda lib, x, y: lib.tile(x, (2,)),
    "repeat_interleave": lambda lib, x, y: x.repeat_interleave(2, dim=1),
    "repeat_interleave counts": lambda lib, x, y: lib.repeat_interleave(
        x, lib.tensor([1, 0, 3]), dim=0),
    "repeat_interleave flat": lambda lib, x, y: x.repeat_interleave(2),
    "swapaxes": lambda lib, x, y: lib.swapaxes(x, 0, 1),
    "diagonal": lambda lib, x, y: x.diagonal(), "diagonal offset": lambda lib, x, y: x.diagonal(1),
    "diagonal below": lambda lib, x, y: lib.diagonal(x, -1),
    "diagonal 3-d": lambda lib, x, y: lib.diagonal(x.reshape(2, 2, 3), 0, 2, 0),
    "diag of a vector": lambda lib, x, y: lib.diag(x[0]),
    "diag above": lambda lib, x, y: lib.diag(x[1], 2),
    "diag below": lambda lib, x, y: x[2].diag(-1),
    "diag of a matrix": lambda lib, x, y: lib.diag(x, 1), "trace": lambda lib, x, y: lib.trace(x),
    "hstack": lambda lib, x, y: lib.hstack([x, y]),
    "vstack": lambda lib, x, y: lib.vstack([x[0], y]),
    "column_stack": lambda lib, x, y: lib.column_stack([x[0], y[1]]),
    "meshgrid ij": lambda lib, x, y: lib.stack(lib.meshgrid(x[0], y[1, :3], indexing="ij")),
    "meshgrid xy": lambda lib, x, y: lib.stack(lib.meshgrid(x[0], y[1, :3], indexing="xy")),
    "nan_to_num": lambda lib, x, y: lib.nan_to_num(lib.log(x) * 1e30, posinf=5.0),
    "softmax": lambda lib, x, y: lib.softmax(x, 1),
    "log_softmax": lambda lib, x, y: lib.log_softmax(x, 0),
}


def _run(lib, case, requires_grad=True):
    x = lib.tensor(X, requires_grad=requires_grad)
    y = lib.tensor(Y, requires_grad=requires_grad)
    return x, y, case(lib, x, y)


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_values_and_gradients_match_pytorch(name):
    case = DIFFERENTIABLE[name]
    ox, oy, ours = _run(at, case)
    tx, ty, theirs = _run(torch, case)
    assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6,
                               atol=1e-6, equal_nan=True)
    assert ours.requires_grad == theirs.requires_grad
    weights = np.random.default_rng(0).standard_normal(theirs.shape).astype(np.float32)
    (ours * at.tensor(weights)).sum().backward()
    (theirs * torch.tensor(weights)).sum().backward()
    for mine, reference in ((ox, tx), (oy, ty)):
        expected = np.zeros(X.shape, np.float32) if reference.grad is None else \
            reference.grad.numpy()
        got = np.zeros(X.shape, np.float32) if mine.grad is None else mine.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


NO_GRADIENT = {
    "nonzero": lambda lib, x: lib.nonzero(x > 0.4),
    "nonzero as tuple": lambda lib, x: lib.stack(lib.nonzero(x > 0.4, as_tuple=True)),
    "unique": lambda lib, x: lib.unique(lib.tensor([3, 1, 3, 2, 1])),
    "unique inverse": lambda lib, x: lib.stack(lib.unique(
        lib.tensor([3, 1, 3, 2, 1]), return_inverse=True, return_counts=False)[1:]),
    "unique counts": lambda lib, x: lib.unique(lib.tensor([3, 1, 3, 2, 1]),
                                               return_counts=True)[1],
    "count_nonzero": lambda lib, x: lib.count_nonzero(x.floor()),
    "count_nonzero dim": lambda lib, x: x.floor().count_nonzero(dim=1),
    "isinf": lambda lib, x: lib.isinf(x / (x - 0.5)),
    "logical_and": lambda lib, x: lib.logical_and(x > 0, x < 2),
    "logical_or": lambda lib, x: (x > 2).logical_or(x < -1),
    "logical_xor": lambda lib, x: lib.logical_xor(x > 0, x < 2),
    "floor of ints": lambda lib, x: lib.floor(lib.tensor([3, -2])),
    "sign of ints": lambda lib, x: lib.sign(lib.tensor([3, 0, -2])),
    "fmod of ints": lambda lib, x: lib.fmod(lib.tensor([7, -7]), 3),
    "remainder of ints": lambda lib, x: lib.remainder(lib.tensor([7, -7]), 3),
    "numel": lambda lib, x: lib.tensor(lib.numel(x)),
    "is_tensor": lambda lib, x: lib.tensor([lib.is_tensor(x), lib.is_tensor(X)]),
}


@pytest.mark.parametrize("name", list(NO_GRADIENT))
def test_results_without_gradient_match_pytorch(name):
    ours = NO_GRADIENT[name](at, at.tensor(X))
    theirs = NO_GRADIENT[name](torch, torch.tensor(X))
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_sign_of_nan_is_zero_and_results_join_the_graph():
    x = at.tensor([float("nan"), -0.0, 2.0], requires_grad=True)
    y = at.sign(x)
    assert y.tolist()[0] == 0.0 and y.requires_grad and "SignBackward0" in repr(y)
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("call, error", [
    (lambda lib: lib.zeros(2, 3).repeat(2), RuntimeError),
    (lambda lib: lib.zeros(3).diagonal(), IndexError),
    (lambda lib: lib.repeat_interleave(lib.zeros(3), lib.tensor([1, 2])), RuntimeError),
    (lambda lib: lib.trace(lib.zeros(3)), RuntimeError),
])
def test_bad_arguments_raise_as_in_pytorch(call, error):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error):
        call(at)


def test_where_with_the_condition_alone_is_nonzero_as_tuple_like_torch():
    for values in ([0, 1, 1], [[True, False], [False, True]], [[0.0, -1.5, 0.0]]):
        ours = at.where(at.tensor(values))
        theirs = torch.where(torch.tensor(values))
        assert len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs):
            np.testing.assert_array_equal(mine.data, reference.numpy())
            assert mine.dtype == at.int64
    with pytest.raises(TypeError):
        at.where(at.tensor([True]), at.ones(1))
