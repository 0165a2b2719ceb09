"""The graph walk: deep graphs, accumulation, retain_graph, errors that say what to do,
autograd.grad and higher derivatives, retain_grad/detach, and the gradient dtype/shape rule."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import autograd


def leaf(values, dtype=np.float64):
    return at.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# -- structure of the graph ------------------------------------------------------------------

def test_graph_records_parents_and_op_names():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = x * w
    z = y.sum()
    assert x._op == "" and x._prev == () and x.is_leaf and x.grad_fn is None
    assert y._op == "mul" and y._prev == (x, w) and not y.is_leaf
    assert z._op == "sum" and z._prev == (y,)
    assert (x @ w)._op == "matmul" and x[0]._op == "getitem"
    assert x.grad is None


def test_deep_chain_of_100000_ops_backpropagates_iteratively():
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.00001 ** 100_000, rtol=1e-9)


def test_shared_subgraph_is_visited_once_and_paths_add_up():
    x = leaf([1.0, -2.0, 3.0])
    a = x * x          # used by two consumers
    b = a + a * 3      # d/dx = 4 * 2x
    c = (b + a).sum()  # d/dx += 2x
    c.backward()
    np.testing.assert_allclose(x.grad.numpy(), 10 * x.numpy())


# -- accumulation and retain_graph -----------------------------------------------------------

def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5, 5])


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = leaf([1.0, 2.0, 3.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first)
    np.testing.assert_allclose(first, np.exp(x.numpy()) * (1 + x.numpy()))


def test_second_backward_through_freed_graph_says_retain_graph():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()
    assert x.grad.numpy().tolist() == [2.0, 4.0]  # the failed call added nothing


def test_backward_frees_saved_values():
    x = leaf([1.0, 2.0])
    y = x * x
    node = y.grad_fn
    y.sum().backward()
    assert node.released and "inputs" not in node.__dict__


def test_first_gradient_stored_is_a_private_copy():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()      # add's backward hands the same tensor to both inputs
    (a * 2).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [3, 3])
    np.testing.assert_allclose(b.grad.numpy(), [1, 1])


def test_create_graph_gradient_then_plain_backward_accumulates():
    x = leaf([1.0, 2.0, 3.0])
    x.sum().backward(create_graph=True)    # gradient is a broadcast view of ones
    x.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])


def test_create_graph_does_not_alias_the_gradient_argument():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    upstream = at.tensor([1.0, 1.0], dtype=at.float64)
    (a + b).backward(upstream, create_graph=True)
    (a * 1).sum().backward()
    assert upstream.tolist() == [1.0, 1.0]
    assert b.grad.tolist() == [1.0, 1.0] and a.grad.tolist() == [2.0, 2.0]


# -- non-scalar outputs and explicit gradients -----------------------------------------------

def test_backward_on_non_scalar_needs_a_gradient_and_says_so():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2, 2\).*gradient="):
        y.backward()
    y.backward(gradient=at.tensor([[1.0, 0.0], [0.5, 2.0]]))
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 0.0], [1.0, 4.0]])
    assert x.grad.dtype == np.float64  # float32 upstream cast to the output's dtype


def test_backward_gradient_of_wrong_shape_names_both_shapes():
    y = leaf([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        y.backward(at.ones(3))


def test_backward_on_tensor_without_grad_says_why():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (at.ones(2) * 2).sum().backward()


def test_one_element_non_scalar_backward_is_allowed():
    x = leaf([3.0])
    (x * x).backward()
    assert x.grad.tolist() == [6.0]


def test_backward_inputs_restricts_accumulation():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    assert w.grad.tolist() == [1.0, 2.0]


# -- autograd.grad and higher derivatives -----------------------------------------------------

def test_grad_returns_without_touching_dot_grad():
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad((x ** 3).sum(), x)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    assert x.grad is None and not g.requires_grad


def test_grad_with_grad_outputs_and_several_inputs():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = x * w
    gx, gw = autograd.grad(y, [x, w], grad_outputs=at.tensor([10.0, 20.0]))
    np.testing.assert_allclose(gx.numpy(), [30, 80])
    np.testing.assert_allclose(gw.numpy(), [10, 40])


def test_grad_of_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_grad_unused_input_raises_or_gives_none():
    x, unused = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad((x * 2).sum(), [x, unused], retain_graph=True)
    gx, gu = autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_create_graph_gives_second_and_third_derivatives():
    x = leaf([0.5, -1.0, 2.0])
    y = (x.sin() * x ** 2).sum()
    (g,) = autograd.grad(y, x, create_graph=True)
    (h,) = autograd.grad(g.sum(), x, create_graph=True)
    (t,) = autograd.grad(h.sum(), x)
    v = x.numpy()
    np.testing.assert_allclose(g.numpy(), np.cos(v) * v ** 2 + 2 * v * np.sin(v))
    np.testing.assert_allclose(h.numpy(), -np.sin(v) * v ** 2 + 4 * v * np.cos(v) + 2 * np.sin(v))
    np.testing.assert_allclose(t.numpy(), -np.cos(v) * v ** 2 - 6 * v * np.sin(v) + 6 * np.cos(v))


def test_backward_create_graph_makes_dot_grad_differentiable():
    x = leaf([1.0, 2.0])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    penalty = (x.grad ** 2).sum()        # gradient penalty: sum (3x^2)^2 -> d/dx = 36 x^3
    x.grad = None
    penalty.backward()
    np.testing.assert_allclose(x.grad.numpy(), 36 * np.array([1.0, 8.0]))


def test_hessian_vector_product_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    a, b, v = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 4))

    def hvp(lib):
        x = lib.tensor(a, requires_grad=True)
        w = lib.tensor(b)
        loss = lib.tanh(x @ w).pow(2).sum() + lib.logsumexp(x, dim=1).sum()
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(v)).sum(), x)
        return h.detach().numpy()

    np.testing.assert_allclose(hvp(at), hvp(torch), rtol=1e-10, atol=1e-12)


# -- retain_grad, detach, requires_grad --------------------------------------------------------

def test_retain_grad_fills_non_leaf_grad():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.retain_grad()
    other = x * 2
    (h * h + other).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), 2 * h.numpy())
    assert other.grad is None


def test_retain_grad_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        at.ones(2).retain_grad()


def test_detach_shares_memory_and_stops_gradient():
    x = leaf([1.0, 2.0])
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf and d._prev == ()
    y = x * 2
    z = (y.detach() * y).sum()
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * y.numpy())   # only through the 2nd factor
    e = x.detach()
    assert np.shares_memory(e.numpy(), x.numpy())


def test_requires_grad_only_for_floating_tensors():
    with pytest.raises(TypeError, match="floating"):
        at.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        at.tensor([True]).requires_grad_()
    x = at.tensor([1.0]).requires_grad_()
    assert x.requires_grad and x.is_leaf
    assert not x.requires_grad_(False).requires_grad
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_integer_cast_of_grad_tensor_leaves_the_graph():
    x = leaf([1.7, -2.2])
    i = x.long()
    assert i.dtype == np.int64 and not i.requires_grad and i.tolist() == [1, -2]
    assert not x.bool().requires_grad


# -- dtype and shape of gradients ----------------------------------------------------------------

def test_gradient_has_dtype_and_shape_of_its_tensor():
    w = at.tensor(np.ones((1, 3), np.float32), requires_grad=True)
    b = at.tensor(np.zeros(3, np.float32), requires_grad=True)
    x = at.tensor(np.arange(6.0).reshape(2, 3))             # float64 data flows through
    loss = (x * w + b).sum()
    assert loss.dtype == np.float64
    loss.backward()
    assert w.grad.dtype == np.float32 and w.grad.shape == (1, 3)
    assert b.grad.dtype == np.float32 and b.grad.shape == (3,)
    np.testing.assert_allclose(w.grad.numpy(), [[3, 5, 7]])
    np.testing.assert_allclose(b.grad.numpy(), [2, 2, 2])


def test_scalar_broadcast_gradient_is_summed():
    s = leaf(2.0)
    x = leaf(np.ones((2, 3)))
    (s * x).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 6.0


def test_float32_to_float64_cast_is_differentiable():
    x = at.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    y = x.double() * at.tensor(np.array([0.1, 0.2]))
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [0.1, 0.2], rtol=1e-7)


# -- in-place changes ------------------------------------------------------------------------------

def test_inplace_change_of_saved_input_raises_at_backward():
    w = leaf([1.0, 2.0])
    x = at.tensor([3.0, 4.0], dtype=at.float64)
    y = w * x
    with at.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*'mul'"):
        y.sum().backward()


def test_inplace_change_without_no_grad_also_detected():
    w = leaf([1.0, 2.0])
    x = at.tensor([3.0, 4.0], dtype=at.float64)
    y = (w * x).sum()
    x += 1
    x[0] = 7.0
    assert x._version == 2
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()


def test_inplace_change_after_a_cast_leaves_the_saved_copy_intact():
    w = leaf([1.0, 2.0])
    x = at.tensor([3.0, 4.0])     # float32: mul saves a float64 copy, not x
    y = (w * x).sum()
    x.mul_(2)
    y.backward()
    assert w.grad.tolist() == [3.0, 4.0]


def test_inplace_change_of_saved_output_raises_at_backward():
    x = leaf([1.0, 2.0])
    y = x.exp()
    with at.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match=r"inplace.*'exp'"):
        y.sum().backward()


def test_inplace_change_of_unsaved_input_is_fine():
    w = leaf([1.0, 2.0])
    x = at.tensor([3.0, 4.0])
    y = (w + x).sum()     # add needs neither input
    x.zero_()
    y.backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_inplace_on_leaf_requiring_grad_refused_under_grad_mode():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="no_grad"):
        w += 1
    with at.no_grad():
        w.sub_(at.tensor([1.0, 1.0]), alpha=2)
    assert w.tolist() == [-1.0, 0.0] and w._version == 1


def test_augmented_assignment_on_non_leaf_stays_in_graph():
    x = leaf([1.0, 2.0])
    y = x * 2
    y += x          # out of place: the graph stays correct
    y *= 3
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [9, 9])


def test_autograd_grad_returns_writable_gradients_of_their_own():
    x = at.tensor(np.ones((100, 100), dtype=np.float32), requires_grad=True)
    y = at.tensor(np.ones((100, 100), dtype=np.float32), requires_grad=True)
    gx, gy = at.autograd.grad((x + y).sum(), (x, y))
    assert gx.data.flags.writeable and not np.shares_memory(gx.data, gy.data)
    gx += 1  # a broadcast view of the scalar gradient would refuse this
    np.testing.assert_array_equal(gx.numpy(), np.full((100, 100), 2, dtype=np.float32))
    np.testing.assert_array_equal(gy.numpy(), np.ones((100, 100), dtype=np.float32))


def test_a_preset_grad_of_the_wrong_shape_or_dtype_is_a_clear_error():
    """A .grad changed through .grad.data no longer fits: say so, naming shapes and dtypes,
    and leave it as it was (NumPy's broadcast error would come from deep inside)."""
    w = at.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (w * 2).sum().backward()
    w.grad.data = np.zeros((2, 2), dtype=np.float32)
    with pytest.raises(RuntimeError, match=r"shape \(3,\).*shape \(2, 2\)|\(2, 2\).*\(3,\)"):
        (w * 2).sum().backward()
    assert w.grad.shape == (2, 2)
    w.grad.data = np.zeros(3, dtype=np.int64)
    with pytest.raises(RuntimeError, match="float32 gradient cannot be accumulated.*int64"):
        (w * 2).sum().backward()
