"""In-place changes inside the graph, against PyTorch: the changed tensor (and the base a
view of it belongs to) gets a new history, so gradients flow as if the change had been
written out of place; leaves that require grad (and views of them) are refused.

Each program runs with ``lib = torch`` and ``lib = abdou_torch``; results must agree: the
values returned, the gradients, and whether (not how) it raises.
"""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")


def _plain(value):
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    array = value.detach().numpy() if hasattr(value, "detach") else value.numpy()
    return np.asarray(array, dtype=np.float64)


def _outcome(lib, program):
    try:
        return "ok", _plain(program(lib))
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        return "raised", type(error).__name__


def _assert_close(ours, theirs):
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_close(a, b)
    elif isinstance(theirs, np.ndarray):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    else:
        assert ours == theirs


def buffer_iadd(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    buf = lib.zeros(3)
    same = buf
    buf += w * 2
    (buf * buf).sum().backward()
    return same is buf, buf.requires_grad, w.grad


def setitem_in_a_loop(lib):
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = lib.zeros(4, 3)
    for i in range(4):
        out[i] = w * (i + 1)
    (out * out).sum().backward()
    return w.grad, out


def non_leaf_chain_of_inplace(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = x * 2
    h += 1
    h *= x
    h.sub_(x, alpha=0.5)
    h.div_(2)
    h.sum().backward()
    return x.grad, h


def augmented_assignment_through_a_slice(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 1
    y[:, 0] += 5
    (y * y).sum().backward()
    return x.grad, y


def method_on_a_row_view(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 3
    y[0].mul_(2)
    (y * y).sum().backward()
    return x.grad


def through_a_transpose(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x + 0
    y.T[0].add_(x[1])
    (y * y).sum().backward()
    return x.grad, y


def masked_assignment(lib):
    x = lib.tensor([-1.0, 2.0, -3.0, 4.0], requires_grad=True)
    y = x * 2
    y[y < 0] = 0.0
    (y * x).sum().backward()
    return x.grad, y


def setitem_with_tensor_index_and_broadcast(lib):
    w = lib.tensor([1.0, -1.0], requires_grad=True)
    a = lib.ones(3, 2)
    a[lib.tensor([0, 2])] = w
    (a * a * 3).sum().backward()
    return w.grad, a


def copy_and_fill_and_zero(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    v = lib.tensor([5.0, 7.0], requires_grad=True)
    a = w * 2
    a.copy_(v * v)
    b = w * 3
    b.zero_()
    c = w * 4
    c.fill_(2.0)
    (a + b + c * w).sum().backward()
    return w.grad, v.grad


def leaf_changed_in_place(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x.add_(1)


def view_of_leaf_changed_in_place(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    x[0].mul_(2)


def saved_output_changed(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


def scalar_view_of_a_plain_tensor(lib):
    x = lib.tensor([1.0, 2.0])
    y = x[0]
    y += 1
    return x


def inplace_under_no_grad_on_a_parameter(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with lib.no_grad():
        w -= 0.1 * w.grad
    return w, w.requires_grad, w.is_leaf


def integer_tensor_plus_float_in_place(lib):
    x = lib.tensor([1, 2])
    x += 0.5


PROGRAMS = [buffer_iadd, setitem_in_a_loop, non_leaf_chain_of_inplace,
            augmented_assignment_through_a_slice, method_on_a_row_view, through_a_transpose,
            masked_assignment, setitem_with_tensor_index_and_broadcast,
            copy_and_fill_and_zero, leaf_changed_in_place, view_of_leaf_changed_in_place,
            saved_output_changed, scalar_view_of_a_plain_tensor,
            inplace_under_no_grad_on_a_parameter, integer_tensor_plus_float_in_place]


@pytest.mark.parametrize("program", PROGRAMS, ids=[p.__name__ for p in PROGRAMS])
def test_inplace_in_the_graph_matches_torch(program):
    ours, theirs = _outcome(at, program), _outcome(torch, program)
    assert ours[0] == theirs[0], (ours, theirs)
    if ours[0] == "ok":
        _assert_close(ours[1], theirs[1])


def test_a_tensor_used_by_another_op_is_not_rebased_silently():
    """PyTorch routes the earlier use's gradient to the old history; here that is refused
    with an explanation rather than computed wrongly."""
    x = at.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    s = h * 3  # a use of h that saved nothing of h's
    with pytest.raises(RuntimeError, match="already used by another recorded op"):
        h *= 2
    (s.sum()).backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
