"""Tensor: construction and dtypes, conversions, repr, in-place updates."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import Tensor


@pytest.mark.parametrize("data, dtype", [
    ([1.0, 2.0], np.float32), ([1, 2.5], np.float32), (3.5, np.float32), ([1, 2], np.int64),
    (7, np.int64), ([True, False], np.bool_), (np.ones(2), np.float64),
    (np.ones(2, np.int32), np.int32), (np.float16(1), np.float16), (np.float64(2.0), np.float64),
])
def test_tensor_factory_dtypes_follow_pytorch(data, dtype):
    """``tensor(data)`` infers the dtype as ``torch.tensor`` does."""
    t = at.tensor(data)
    assert t.dtype == dtype and isinstance(t.data, np.ndarray)
    assert t.grad is None and t._prev == () and t._op == "" and not t.requires_grad


@pytest.mark.parametrize("args", [([1, 2],), ([True, False],), ([[1.5, 2]],), (2, 3), (5,),
                                  (np.ones(2, np.int32),), (np.float64(2.0),)])
def test_tensor_class_constructor_follows_torch_Tensor(args):
    """``Tensor(...)`` is PyTorch's legacy constructor: Python data becomes float32, ints
    are a shape, NumPy data keeps its dtype (ours wraps it; PyTorch's torch.Tensor copies)."""
    torch = pytest.importorskip("torch")
    ours = Tensor(*args)
    expected = torch.Tensor(*[torch.from_numpy(np.asarray(a)) if isinstance(
        a, (np.ndarray, np.generic)) else a for a in args]) if not isinstance(
        args[0], (np.ndarray, np.generic)) else torch.from_numpy(np.asarray(args[0]))
    assert str(ours.dtype) == str(expected.dtype)
    assert tuple(ours.shape) == tuple(expected.shape)
    if isinstance(args[0], list):
        np.testing.assert_array_equal(ours.numpy(), expected.numpy())


def test_numpy_array_is_wrapped_without_copy_and_dtype_argument_converts():
    array = np.arange(3.0)
    assert Tensor(array).data is array
    converted = Tensor(array, dtype=at.float32)
    assert converted.dtype == np.float32 and converted.tolist() == [0.0, 1.0, 2.0]
    assert Tensor([1, 2], dtype="float64").dtype == np.float64


def test_float64_works_end_to_end():
    x = Tensor(np.array([1e-3, 2.0]), requires_grad=True)
    y = (x.exp() * 2 + x ** 2).sum()
    assert y.dtype == np.float64
    y.backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1e-3, 2.0]) + 2 * np.array([1e-3, 2]),
                               rtol=1e-14)


@pytest.mark.parametrize("bad", ["text", None, {"a": 1}, [1, "a"], 1 + 2j])
def test_constructor_rejects_non_numbers_with_type_error(bad):
    with pytest.raises(TypeError, match="tensor"):
        Tensor(bad)


def test_requires_grad_on_integer_tensor_is_type_error():
    with pytest.raises(TypeError, match="floating"):
        at.tensor([1, 2], requires_grad=True)
    assert Tensor([1.0], requires_grad=True).requires_grad


def test_conversions():
    t = Tensor([[1.5, 2.0], [3.0, 4.0]])
    assert t.shape == (2, 2) and t.ndim == 2 and t.dtype == at.float32
    assert t.size() == (2, 2) and t.size(-1) == 2 and t.dim() == 2 and t.numel() == 4
    assert len(t) == 2 and t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert t.numpy() is t.data
    assert Tensor([[2.5]]).item() == 2.5 and isinstance(Tensor([[2.5]]).item(), float)
    assert isinstance(at.tensor(3).item(), int)
    assert float(Tensor([0.5])) == 0.5 and int(at.tensor(3)) == 3
    assert [10, 20, 30][at.tensor(2)] == 30
    assert [row.tolist() for row in t] == [[1.5, 2.0], [3.0, 4.0]]


def test_item_and_len_errors():
    with pytest.raises(ValueError, match=r"one-element.*\(2,\)"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="integer"):
        [1, 2][Tensor(1.0)]


def test_array_protocol_numpy2_signature():
    t = Tensor([1.0, 2.0])
    assert np.asarray(t).dtype == np.float32 and np.asarray(t) is t.data
    as64 = np.asarray(t, dtype=np.float64)
    assert as64.dtype == np.float64 and as64.tolist() == [1.0, 2.0]
    copied = np.array(t, copy=True)
    copied[0] = 9
    assert t.tolist() == [1.0, 2.0]
    assert t.__array__(None, None) is t.data


def test_repr_is_readable():
    assert repr(Tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(at.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(Tensor([1.0], dtype=at.float64)) == "tensor([1.], dtype=torch.float64)"
    assert repr(Tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert "grad_fn=<MulBackward0>" in repr(Tensor([1.0], requires_grad=True) * 2)
    assert repr(Tensor(2.5)) == "tensor(2.5000)"  # as torch.tensor(2.5) prints


def test_equality_with_none_and_membership():
    t = Tensor([1.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711
    assert t in [Tensor([2.0]), t]
    assert hash(t) == id(t)


def test_dtype_conversions():
    t = Tensor([1.7, -2.5])
    assert t.double().dtype == np.float64 and t.half().dtype == np.float16
    assert t.long().tolist() == [1, -2] and t.int().dtype == np.int32
    assert t.bool().tolist() == [True, True]
    assert t.to(at.float32) is t and t.to("cpu") is t
    assert t.to(dtype=at.float64).dtype == np.float64
    assert t.type_as(at.tensor([1])).dtype == np.int64
    assert t.is_floating_point() and not t.long().is_floating_point()


def test_clone_copies_memory_and_keeps_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert not np.shares_memory(c.data, x.data) and c._op == "clone"
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_inplace_methods_change_values_and_bump_version():
    t = Tensor([1.0, 2.0, 3.0])
    t.add_(1).mul_(2).sub_(Tensor([1.0, 1.0, 1.0]), alpha=2).div_(2)
    assert t.tolist() == [1.0, 2.0, 3.0] and t._version == 4
    t.clamp_(min=1.5, max=2.5)
    assert t.tolist() == [1.5, 2.0, 2.5]
    t.fill_(7)
    assert t.tolist() == [7.0] * 3
    t.zero_()
    assert t.tolist() == [0.0] * 3
    t.copy_(np.array([4.0, 5.0, 6.0]))
    assert t.tolist() == [4.0, 5.0, 6.0] and t.dtype == np.float32
    t[1:] = 0
    assert t.tolist() == [4.0, 0.0, 0.0] and t._version == 9


def test_augmented_assignment_without_graph_is_in_place():
    t = Tensor([1.0, 2.0])
    data = t.data
    t += 1
    t *= Tensor([2.0, 3.0])
    t -= 1
    t /= 2
    assert t.data is data and t.tolist() == [1.5, 4.0]


def test_inplace_shape_and_dtype_errors_change_nothing():
    t = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"add_.*\(2, 3\).*\(3,\)"):
        t.add_(Tensor(np.ones((2, 3), np.float32)))
    with pytest.raises(RuntimeError, match=r"add: shapes \(3,\) and \(2,\)"):
        t.add_(Tensor([1.0, 2.0]))
    i = at.tensor([1, 2])
    with pytest.raises(TypeError, match="int64"):
        i += 1.5
    with pytest.raises(ValueError, match="setitem"):
        t[0] = Tensor([1.0, 2.0])
    assert t.tolist() == [1.0, 2.0, 3.0] and t._version == 0 and i.tolist() == [1, 2]


def test_misc_properties():
    t = Tensor(np.zeros((2, 3)))
    assert t.T.shape == (3, 2) and t.mT.shape == (3, 2) and t.t().shape == (3, 2)
    assert t.device == at.device("cpu") and str(t.device) == "cpu" and t.cpu() is t
    assert t.contiguous() is t and t.T.contiguous() is not t and t.T.contiguous().is_contiguous()
    assert t.element_size() == 8
    assert t.view_as(Tensor(np.zeros(6))).shape == (6,)
    assert Tensor([1.0, 0.0]).all().item() is False and Tensor([1.0, 0.0]).any().item() is True
    masked = Tensor([1.0, 2.0, 3.0]).masked_fill(at.tensor([True, False, True]), -1.0)
    assert masked.tolist() == [-1.0, 2.0, -1.0]


# -- the methods of the wider API (issue 11) ----------------------------------------------------

ISSUE_11_METHODS = [
    "tril", "triu", "tril_", "triu_", "topk", "sort", "argsort", "msort", "cumsum", "cumprod",
    "flip", "fliplr", "flipud", "roll", "masked_fill", "masked_fill_", "masked_select",
    "scatter", "scatter_", "scatter_add", "scatter_add_", "index_select", "index_add",
    "index_add_", "log1p", "expm1", "log2", "log10", "norm", "all", "any", "isclose",
    "allclose", "equal", "histc", "bincount", "mm", "bmm", "dot", "outer", "addmm", "baddbmm",
    "clamp_min", "clamp_max", "clamp_min_", "clamp_max_", "exp_", "log_", "log1p_", "expm1_",
    "sqrt_", "abs_", "neg_", "pow_", "square_", "sin_", "cos_", "tanh_", "sigmoid_", "relu_",
]


def test_the_methods_pytorch_scripts_use_exist_under_pytorchs_names():
    torch = pytest.importorskip("torch")
    for name in ISSUE_11_METHODS:
        assert hasattr(torch.Tensor, name), f"not a PyTorch method: {name}"
        assert callable(getattr(Tensor, name, None)), f"Tensor.{name} is missing"


ISSUE_11_FUNCTIONS = [
    "tril", "triu", "topk", "sort", "argsort", "msort", "cumsum", "cumprod", "roll", "flip",
    "fliplr", "flipud", "einsum", "masked_fill", "masked_select", "scatter", "scatter_add",
    "index_select", "index_add", "log1p", "expm1", "log2", "log10", "all", "any", "allclose",
    "isclose", "equal", "histc", "histogram", "bincount", "outer", "mm", "bmm", "addmm",
    "addmv", "baddbmm", "addbmm", "norm", "gather",
]


def test_the_functions_pytorch_scripts_use_exist_under_pytorchs_names():
    torch = pytest.importorskip("torch")
    for name in ISSUE_11_FUNCTIONS:
        assert callable(getattr(torch, name)) and callable(getattr(at, name)), name
    for name in ("norm", "vector_norm", "matrix_norm", "svdvals", "matmul"):
        assert callable(getattr(torch.linalg, name)) and callable(getattr(at.linalg, name))
