"""User mistakes get exceptions that name the op and the values involved."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import ShapeError

ones = at.ones

# (call, exception, fragments that must all appear in the message)
ERRORS = [
    (lambda: ones(64, 784) @ ones(10, 64), ShapeError, ["matmul", "(64, 784)", "(10, 64)"]),
    (lambda: at.matmul(ones(2, 3, 4), ones(3, 4, 5)), ShapeError,
     ["matmul", "(2, 3, 4)", "(3, 4, 5)"]),
    (lambda: ones(3) @ at.tensor(2.0), ShapeError, ["matmul", "(3,)", "()"]),
    (lambda: at.mm(ones(3), ones(3, 3)), ShapeError, ["mm", "(3,)", "(3, 3)"]),
    (lambda: at.bmm(ones(2, 3, 4), ones(3, 4, 5)), ShapeError, ["bmm", "(2, 3, 4)", "(3, 4, 5)"]),
    (lambda: at.dot(ones(3), ones(3, 1)), ShapeError, ["dot", "(3,)", "(3, 1)"]),
    (lambda: at.linear(ones(5, 4), ones(3, 5)), ShapeError, ["linear", "(5, 4)", "(3, 5)"]),
    (lambda: at.linear(ones(5, 4), ones(3, 4), ones(4)), ShapeError, ["linear", "(4,)", "(3, 4)"]),
    (lambda: ones(2, 3) + ones(4), ShapeError, ["add", "(2, 3)", "(4,)"]),
    (lambda: ones(2, 3) - ones(4), ShapeError, ["sub", "(2, 3)", "(4,)"]),
    (lambda: ones(2, 3) * ones(4), ShapeError, ["mul", "(2, 3)", "(4,)"]),
    (lambda: ones(2, 3) / ones(4), ShapeError, ["div", "(2, 3)", "(4,)"]),
    (lambda: ones(2, 3) ** ones(4), ShapeError, ["pow", "(2, 3)", "(4,)"]),
    (lambda: at.maximum(ones(2, 3), ones(4)), ShapeError, ["maximum", "(2, 3)", "(4,)"]),
    (lambda: at.minimum(ones(2, 3), ones(4)), ShapeError, ["minimum", "(2, 3)", "(4,)"]),
    (lambda: ones(2, 3) < ones(4), ShapeError, ["lt", "(2, 3)", "(4,)"]),
    (lambda: ones(2, 3) == ones(4), ShapeError, ["eq", "(2, 3)", "(4,)"]),
    (lambda: at.where(ones(2).bool(), ones(3), ones(4)), ShapeError,
     ["where", "(2,)", "(3,)", "(4,)"]),
    (lambda: ones(2, 3).reshape(4, 2), ShapeError, ["reshape", "(4, 2)", "(2, 3)"]),
    (lambda: ones(2, 3).view(5), ShapeError, ["(5,)", "(2, 3)"]),
    (lambda: ones(2, 3).expand(4, 3), ShapeError, ["expand", "(2, 3)", "(4, 3)"]),
    (lambda: ones(2, 3).expand(3), ShapeError, ["expand", "(2, 3)", "(3,)"]),
    (lambda: at.cat([ones(2, 3), ones(2, 4)]), ShapeError, ["cat", "(2, 3)", "(2, 4)"]),
    (lambda: at.cat([ones(2, 3), ones(3)]), ShapeError, ["cat", "(2, 3)", "(3,)"]),
    (lambda: at.stack([ones(2, 3), ones(2, 4)]), ShapeError, ["stack", "(2, 3)", "(2, 4)"]),
    (lambda: at.gather(ones(2, 3), 1, at.tensor([1])), ShapeError, ["gather", "1", "2"]),
    (lambda: ones(2, 3)[5], IndexError, ["getitem", "5", "(2, 3)"]),
    (lambda: ones(2, 3)[at.tensor([True, False, True])], IndexError, ["getitem", "(2, 3)"]),
    (lambda: ones(2, 3).transpose(0, 5), IndexError, ["transpose", "5"]),
    (lambda: ones(2, 3).sum(5), IndexError, ["sum", "5", "2 dims"]),
    (lambda: ones(2, 3).mean(-3), IndexError, ["mean", "-3"]),
    (lambda: ones(2, 3).squeeze(4), IndexError, ["squeeze", "4"]),
    (lambda: ones(2, 3).sum(dim=(0, 0)), ValueError, ["sum", "repeats"]),
    (lambda: ones(2, 3).permute(0, 0), ValueError, ["permute", "(0, 0)"]),
    (lambda: ones(4).split([1, 2]), ValueError, ["split", "[1, 2]", "4"]),
    (lambda: at.pad(ones(2), (1, 1, 1, 1)), ValueError, ["pad", "[1, 1, 1, 1]"]),
    (lambda: ones(0).max(), ShapeError, ["empty"]),
    (lambda: ones(0).argmax(), IndexError, ["argmax", "empty"]),  # PyTorch: IndexError
    (lambda: ones(2, 0).argmax(1), IndexError, ["argmax", "dim 1", "empty"]),
    (lambda: ones(2, 0).amax(1), IndexError, ["amax", "dim 1", "empty"]),
    (lambda: at.tensor([1.0, 2.0]).item(), ValueError, ["item", "(2,)"]),
    # wrong argument types or dtypes: TypeError saying what was expected
    (lambda: ones(2) + "a", TypeError, ["str", "expected"]),
    (lambda: ones(2) @ "a", TypeError, ["str", "expected"]),
    (lambda: at.where(ones(2), 1.0, 2.0), TypeError, ["where", "boolean", "float32"]),
    (lambda: at.tensor([1, 2]).mean(), TypeError, ["mean", "floating", "int64"]),
    (lambda: at.tensor([1, 2]).var(), TypeError, ["var", "floating", "int64"]),
    (lambda: ones(2, 3).sum("a"), TypeError, ["sum", "dim", "'a'"]),
    (lambda: ones(2, 3).max(1.5), TypeError, ["max", "dim", "1.5"]),
    (lambda: ones(2, 3).reshape(3, 2.0), TypeError, ["ints", "2.0"]),
    (lambda: ones(2, 3)[at.tensor([0.5])], IndexError, ["integer or boolean", "float32"]),
    (lambda: at.gather(ones(2, 3), 1, at.tensor([[0.5]])), TypeError, ["gather", "integer"]),
    (lambda: at.zeros(2.5), TypeError, ["sizes", "ints", "2.5"]),
    (lambda: ones(2).to("cuda"), AssertionError, ["CUDA", "'cuda'", "CPU only"]),
    (lambda: at.tensor([1, 2], requires_grad=True), TypeError, ["floating", "int64"]),
    (lambda: at.set_default_dtype(at.int64), TypeError, ["floating", "int64"]),
    (lambda: at.manual_seed(1.5), TypeError, ["int", "float"]),
]


@pytest.mark.parametrize("call, error, fragments", ERRORS,
                         ids=[f"{i}-{e[1].__name__}" for i, e in enumerate(ERRORS)])
def test_error_names_op_and_values(call, error, fragments):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from: {message}"


def test_shape_error_is_runtime_and_value_error():
    assert issubclass(ShapeError, RuntimeError) and issubclass(ShapeError, ValueError)


def test_failed_op_leaves_tensors_untouched_and_records_nothing():
    x = at.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ShapeError):
        x * ones(2)
    with pytest.raises(ShapeError):
        x.reshape(2, 2)
    assert x._version == 0 and x.grad is None and x.tolist() == [1.0, 2.0, 3.0]
    (x * 2).sum().backward()  # the graph is usable afterwards
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    with at.no_grad():
        with pytest.raises(ShapeError):
            x.add_(np.ones((2, 3)))
    assert x.tolist() == [1.0, 2.0, 3.0] and x._version == 0


@pytest.mark.parametrize("call", [
    lambda lib, a: a @ a, lambda lib, a: lib.mm(a, a), lambda lib, a: lib.dot(a[0], a[0]),
    lambda lib, a: lib.nn.functional.linear(a, a),
])
def test_boolean_matrix_products_are_not_implemented_as_in_pytorch(call):
    """NumPy would compute a logical product; PyTorch has none (found by the random hunt)."""
    import torch
    with pytest.raises(NotImplementedError):
        call(torch, torch.ones(2, 2, dtype=torch.bool))
    with pytest.raises(NotImplementedError, match="Bool"):
        call(at, at.ones(2, 2, dtype=at.bool))
