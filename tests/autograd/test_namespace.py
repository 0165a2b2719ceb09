"""The two array namespaces a backward formula runs on: NumPy (the training walk) and
abdou_torch's own ops (create_graph). Every function must give the same values in both,
so that a formula stated once means the same thing on either walk."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.autograd.namespace import ARRAYS, TENSORS
from abdou_torch.ops.elementwise import Exp
from abdou_torch.ops.linalg import MatMul

rng = np.random.default_rng(3)
X = rng.uniform(0.5, 2.0, (3, 4))
Y = rng.uniform(-1.0, 1.0, (4, 2))
MASK = rng.random((3, 4)) > 0.5

CALLS = {
    "matmul": lambda xp, x, y: xp.matmul(x, y),
    "where": lambda xp, x, y: xp.where(MASK, x, x * 2),
    "exp": lambda xp, x, y: xp.exp(x),
    "log": lambda xp, x, y: xp.log(x),
    "sqrt": lambda xp, x, y: xp.sqrt(x),
    "tanh": lambda xp, x, y: xp.tanh(x),
    "sin": lambda xp, x, y: xp.sin(x),
    "cos": lambda xp, x, y: xp.cos(x),
    "sum": lambda xp, x, y: xp.sum(x, (1,)),
    "sum_keepdim": lambda xp, x, y: xp.sum(x, (0, 1), True),
    "sum_to": lambda xp, x, y: xp.sum_to(x, (1, 4)),
    "expand": lambda xp, x, y: xp.expand(xp.sum(x, (0,), True), (5, 3, 4)),
    "permute": lambda xp, x, y: xp.permute(x, (1, 0)),
    "swapaxes": lambda xp, x, y: xp.swapaxes(x, 0, 1),
    "cast": lambda xp, x, y: xp.cast(x, np.float32),
    "apply_unary": lambda xp, x, y: xp.apply(Exp, x),
    "apply_with_options": lambda xp, x, y: xp.apply(MatMul, y, x, True, True),
}


def test_every_namespace_function_is_exercised():
    public = {name for name in dir(type(ARRAYS)) if not name.startswith("_")} - {"arrays",
                                                                                "value"}
    assert public <= {name.split("_")[0] if name.startswith("apply") else name
                      for name in CALLS} | {"apply"}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_arrays_and_tensors_agree(name):
    call = CALLS[name]
    on_arrays = call(ARRAYS, X, Y)
    on_tensors = call(TENSORS, at.tensor(X), at.tensor(Y))
    assert isinstance(on_arrays, np.ndarray) and isinstance(on_tensors, at.Tensor)
    assert on_arrays.dtype == on_tensors.dtype and on_arrays.shape == on_tensors.shape
    np.testing.assert_array_equal(on_arrays, on_tensors.numpy())


def test_tensor_namespace_records_the_graph():
    x = at.tensor(X, requires_grad=True)
    with at.enable_grad():
        y = TENSORS.exp(TENSORS.sum(x, (1,)))
    assert y.requires_grad and y.grad_fn is not None


def test_value_is_the_array_on_the_array_walk():
    t = at.tensor(X)
    assert ARRAYS.value(t) is t.data and TENSORS.value(t) is t
    assert ARRAYS.value(MASK) is MASK and TENSORS.value(MASK) is MASK
