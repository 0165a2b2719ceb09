"""Tensor.register_hook against PyTorch: when hooks run, what their results change, how
they are removed, and the errors."""
from __future__ import annotations

import gc

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch.autograd import hooks as tensor_hooks


def _run(lib, x0, create_graph=False):
    """The same graph and hooks in either library: (x.grad, the gradients hooks saw)."""
    x = lib.tensor(x0, requires_grad=True)
    y = x * 2
    z = y.exp()
    seen = []
    y.register_hook(lambda g: seen.append(("y", g.detach().numpy().copy())) or g * 10)
    y.register_hook(lambda g: seen.append(("y again", g.detach().numpy().copy())))
    x.register_hook(lambda g: seen.append(("x", g.detach().numpy().copy())) or g + 1)
    loss = (z * z).sum() + y.sum()
    if create_graph:
        (grad,) = lib.autograd.grad(loss, x, create_graph=True)
        (grad * grad).sum().backward()
    else:
        loss.backward()
    return x.grad.detach().numpy(), seen


@pytest.mark.parametrize("create_graph", [False, True])
def test_hooks_see_and_replace_gradients_as_in_torch(create_graph):
    x0 = np.array([0.5, -1.0, 0.25])
    ours, ours_seen = _run(at, x0, create_graph)
    theirs, theirs_seen = _run(torch, x0, create_graph)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert [name for name, _ in ours_seen] == [name for name, _ in theirs_seen]
    for (_, mine), (_, expected) in zip(ours_seen, theirs_seen):
        np.testing.assert_allclose(mine, expected, rtol=1e-12)


def test_hooks_run_for_autograd_grad_inputs_and_removal_stops_them():
    x = at.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1) or g * 3)
    (grad,) = at.autograd.grad((x * x).sum(), x)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    tx.register_hook(lambda g: g * 3)
    (expected,) = torch.autograd.grad((tx * tx).sum(), tx)
    np.testing.assert_array_equal(grad.numpy(), expected.numpy())
    handle.remove()
    (grad,) = at.autograd.grad((x * x).sum(), x)
    np.testing.assert_array_equal(grad.numpy(), [2.0, 4.0])
    assert calls == [1]
    with x.register_hook(lambda g: g * 0):
        (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    x.grad = None
    (x * x).sum().backward()  # the with block removed it
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_hook_errors_and_read_only_gradients():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        at.tensor([1.0]).register_hook(lambda g: g)
    x = at.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)
    handle = x.register_hook(lambda g: at.ones(3))
    with pytest.raises(RuntimeError, match=r"shape from \(2,\) to \(3,\)"):
        (x * 2).sum().backward()
    handle.remove()

    def in_place(grad):
        grad.data[0] = 100.0  # the walk may share this array with other gradients

    x.register_hook(in_place)
    with pytest.raises(ValueError, match="read-only"):
        (x * 2).sum().backward()


def test_hooks_go_with_their_tensor():
    x = at.tensor([1.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g)
    assert tensor_hooks.hooks_of(y) is not None
    key = id(y)
    del y
    gc.collect()
    assert key not in tensor_hooks.registered
