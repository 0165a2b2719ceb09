"""index_select, index_add, scatter, scatter_add, masked_fill, masked_select, gather beyond
the op table: PyTorch's index checks (negative indices raise), in-place forms with and
without a graph, dtypes, the gradient of a src larger than its index."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.autograd.gradcheck import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

X = np.arange(1.0, 7.0).reshape(2, 3)


def _both(call):
    """The call's result in abdou_torch and in PyTorch (as arrays), or their exceptions."""
    results = []
    for lib in (at, torch):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                results.append(call(lib, lib.tensor(X)))
        except Exception as error:  # noqa: BLE001 - compared below
            results.append(error)
    return results


ERRORS = [
    lambda lib, x: lib.index_select(x, 1, lib.tensor([-1])),
    lambda lib, x: lib.index_select(x, 1, lib.tensor([3])),
    lambda lib, x: lib.index_select(x, 1, lib.tensor([1.0])),
    lambda lib, x: lib.index_select(x, 1, lib.tensor([[1]])),
    lambda lib, x: lib.index_select(x, 2, lib.tensor([0])),
    lambda lib, x: lib.index_add(x, 1, lib.tensor([2, 0, 2]), lib.ones(2, 2, dtype=x.dtype)),
    lambda lib, x: lib.index_add(x, 1, lib.tensor([3]), lib.ones(2, 1, dtype=x.dtype)),
    lambda lib, x: lib.index_add(x, 1, lib.tensor([-1]), lib.ones(2, 1, dtype=x.dtype)),
    lambda lib, x: lib.index_add(x, 0, lib.tensor([0]), lib.ones(1, 2, dtype=x.dtype)),
    lambda lib, x: lib.index_add(x, 1, lib.tensor([1]), lib.ones(2, 1, dtype=lib.float32)),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([[2, 0, 0]]), 9.0),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([[-1, 0, 0]]), 9.0),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([0, 0, 0]), 9.0),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([[0, 0, 0, 0]]), 9.0),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([[0, 1, 0]]), lib.ones(1, 2, dtype=x.dtype)),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([[0, 1, 0]]), lib.ones(1, 3, dtype=lib.float32)),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([[0, 1, 0]]).to(lib.int16), 1.0),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([[0, 1, 0]]).float(), 1.0),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([[0, 1, 0]]), 1.0, reduce="mean"),
    lambda lib, x: lib.scatter_add(x, 0, lib.tensor([[0, 1, 0]]), 1.0),
    lambda lib, x: lib.scatter_add(x, 0, lib.tensor([[0, 3, 0]]), lib.ones(1, 3, dtype=x.dtype)),
    lambda lib, x: lib.gather(x, 1, lib.tensor([[-1]])),
    lambda lib, x: lib.gather(x, 1, lib.tensor([[3]])),
    lambda lib, x: x.masked_fill(lib.tensor([1, 0, 1]), 0.5),
    lambda lib, x: x.masked_fill(lib.tensor([True, False, True]), lib.tensor([0.5])),
    lambda lib, x: x.clone().masked_fill_(lib.ones(3, 2, 3).bool(), 1.0),
]


@pytest.mark.parametrize("call", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_bad_indices_and_operands_raise_like_torch(call):
    ours, theirs = _both(call)
    assert isinstance(theirs, Exception), "the case should fail in PyTorch"
    assert isinstance(ours, type(theirs)), (ours, theirs)


VALUES = [
    lambda lib, x: lib.index_select(x, 1, lib.tensor([1, 2]).int()),
    lambda lib, x: lib.index_select(x, 0, lib.tensor(1)),
    lambda lib, x: lib.index_select(lib.tensor(5.0), 0, lib.tensor([0])),
    lambda lib, x: lib.index_add(x, 1, lib.tensor([1]).int(), lib.ones(2, 1, dtype=x.dtype)),
    lambda lib, x: lib.index_add(x, 0, lib.tensor(0), lib.ones(1, 3, dtype=x.dtype)),
    lambda lib, x: lib.index_add(x.long(), 0, lib.tensor([0]), lib.ones(1, 3).long(), alpha=2),
    lambda lib, x: lib.scatter(x, 0, lib.tensor([[0, 1, 0]]).int(), 9.0),
    lambda lib, x: lib.scatter(x.long(), 0, lib.tensor([[0, 1, 0]]), 1.5),
    lambda lib, x: lib.scatter(x, 0, lib.zeros(0, 3, dtype=lib.int64), 1.0),
    lambda lib, x: lib.scatter(x, 1, lib.tensor([[0, 0], [2, 1]]), 2.0, reduce="multiply"),
    lambda lib, x: lib.scatter(x, 1, lib.tensor([[0, 0], [2, 1]]),
                               lib.full((2, 2), 3.0, dtype=x.dtype), reduce="multiply"),
    lambda lib, x: lib.scatter(x, 1, lib.tensor([[0, 0], [2, 1]]),
                               lib.full((2, 2), 3.0, dtype=x.dtype), reduce="add"),
    lambda lib, x: lib.scatter(lib.tensor(1.0), 0, lib.tensor(0), lib.tensor(2.0)),
    lambda lib, x: lib.scatter_add(x, 0, lib.tensor([[0, 0, 0], [0, 0, 0]]),
                                   lib.ones(2, 4, dtype=x.dtype)),
    lambda lib, x: x.long().masked_fill(x > 2, 2.5),
    lambda lib, x: x.masked_fill(x > 2, lib.tensor(7)),
    lambda lib, x: lib.masked_fill(x, x > 2, float("-inf")),
    lambda lib, x: x.masked_fill(lib.ones(3, 2, 3).bool(), 1.0),
    lambda lib, x: lib.masked_select(x, lib.tensor([True, False, True])),
    lambda lib, x: lib.gather(x, 0, lib.tensor([[1, 0, 1]]).int()),
]


@pytest.mark.parametrize("call", VALUES, ids=[str(i) for i in range(len(VALUES))])
def test_values_and_dtypes_like_torch(call):
    ours, theirs = _both(call)
    assert not isinstance(theirs, Exception), theirs
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


IN_PLACE = [
    lambda lib, y, s: y.scatter_(1, lib.tensor([[2, 0], [1, 2]]), s[:, :2]),
    lambda lib, y, s: y.scatter_(0, lib.tensor([[1, 0, 1]]), value=-1.0),
    lambda lib, y, s: y.scatter_add_(0, lib.tensor([[1, 1, 0], [0, 1, 1]]), s),
    lambda lib, y, s: y.index_add_(1, lib.tensor([2, 2, 0]), s, alpha=-0.5),
    lambda lib, y, s: y.masked_fill_(y > 4, 0.0),
    lambda lib, y, s: y.clamp_min_(2.5),
    lambda lib, y, s: y.exp_(),
    lambda lib, y, s: y.pow_(s),
    lambda lib, y, s: y.sigmoid_(), lambda lib, y, s: y.tanh_(),
    lambda lib, y, s: y.neg_(), lambda lib, y, s: y.abs_(), lambda lib, y, s: y.sqrt_(),
    lambda lib, y, s: y.relu_(), lambda lib, y, s: y.log1p_(), lambda lib, y, s: y.log_(),
    lambda lib, y, s: y.expm1_(), lambda lib, y, s: y.square_(), lambda lib, y, s: y.sin_(),
    lambda lib, y, s: y.tril_(), lambda lib, y, s: y.clamp_max_(3.5),
]


@pytest.mark.parametrize("call", IN_PLACE, ids=[str(i) for i in range(len(IN_PLACE))])
def test_in_place_forms_with_a_graph_match_torch(call):
    source = np.array([[0.5, 1.5, -2.0], [3.0, 0.25, 1.0]])
    grads = []
    for lib in (at, torch):
        leaf = lib.tensor(X, requires_grad=True)
        src = lib.tensor(source, requires_grad=True)
        y = leaf * 1.0
        result = call(lib, y, src)
        assert result is y
        (y * lib.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
        grads.append((y.detach().numpy(), leaf.grad.numpy(),
                      None if src.grad is None else src.grad.numpy()))
    (ours, ours_leaf, ours_src), (theirs, theirs_leaf, theirs_src) = grads
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours_leaf, theirs_leaf, rtol=1e-12)
    if theirs_src is None:
        assert ours_src is None or not ours_src.any()
    else:
        np.testing.assert_allclose(ours_src, theirs_src, rtol=1e-12)


def test_in_place_forms_without_a_graph_write_the_memory():
    x = at.tensor(X.copy())
    memory, version = x.numpy(), x._version
    x.scatter_(0, at.tensor([[1, 0, 1]]), 0.0).index_add_(1, at.tensor([0]),
                                                          at.ones(2, 1, dtype=at.float64))
    x.masked_fill_(x > 5, -1.0)
    assert x.numpy() is memory and x._version == version + 3
    expected = torch.tensor(X).scatter_(0, torch.tensor([[1, 0, 1]]), 0.0)
    expected.index_add_(1, torch.tensor([0]), torch.ones(2, 1, dtype=torch.float64))
    expected.masked_fill_(expected > 5, -1.0)
    np.testing.assert_array_equal(x.numpy(), expected.numpy())


def test_integer_tensors_refuse_float_results_in_place_like_torch():
    for name in ("exp_", "sqrt_", "log1p_"):
        with pytest.raises(RuntimeError):
            getattr(torch.tensor([1, 2]), name)()
        with pytest.raises(TypeError, match="can't be cast"):
            getattr(at.tensor([1, 2]), name)()
    assert at.tensor([-1, 2]).abs_().tolist() == [1, 2]


def test_a_src_larger_than_its_index_gets_zero_gradient_where_unused():
    # PyTorch's own backward fails on this case (it returns the gathered shape)
    index = at.tensor([[2, 0, 1]])
    src = at.tensor(np.arange(8.0).reshape(2, 4), requires_grad=True)
    x = at.tensor(np.ones((3, 3)), requires_grad=True)
    (at.scatter(x, 0, index, src) * at.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
    np.testing.assert_array_equal(src.grad.numpy(), [[6, 1, 5, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0, 2], [3, 4, 0], [0, 7, 8]])
    x2 = at.tensor(np.ones((3, 3)), requires_grad=True)
    src2 = at.tensor(np.arange(8.0).reshape(2, 4) + 1, requires_grad=True)
    assert gradcheck(lambda a, b: at.scatter_add(a, 0, index, b) ** 2, (x2, src2))
    assert gradgradcheck(lambda a, b: at.scatter(a, 0, index, b) ** 2, (x2, src2))


def test_scatter_multiply_refuses_a_graph():
    x = at.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="multiply"):
        at.scatter(x, 1, at.tensor([[0], [1]]), 2.0, reduce="multiply")
    with at.no_grad():
        y = at.scatter(x, 1, at.tensor([[0], [1]]), 2.0, reduce="multiply")
    assert y.tolist() == [[2.0, 2.0, 3.0], [4.0, 10.0, 6.0]]


def test_masked_fill_value_tensor_receives_the_gradient():
    value = at.tensor(0.5, requires_grad=True)
    x = at.tensor(X, requires_grad=True)
    x.masked_fill(x > 2, value).sum().backward()
    assert value.grad.item() == 4.0
    assert x.grad.tolist() == [[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]


@pytest.mark.parametrize("op", ["scatter_add", "scatter_reduce", "index_add"])
def test_adding_at_places_keeps_the_others_signed_zeros_like_torch(op):
    """x + (src scattered into zeros) would turn an untouched -0.0 into +0.0."""
    def run(lib):
        x = lib.tensor([[-0.0, -0.0, 1.0], [-0.0, 2.0, -0.0]])
        index = lib.tensor([[0, 0], [2, 2]])
        src = lib.tensor([[-0.0, -0.0], [3.0, -3.0]])
        if op == "scatter_add":
            return lib.scatter_add(x, 1, index, src)
        if op == "scatter_reduce":
            return x.scatter(1, index, src, reduce="add")
        return lib.index_add(x, 1, lib.tensor([0, 2]), src)
    ours, theirs = run(at).numpy(), run(torch).numpy()
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))
