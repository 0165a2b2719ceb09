"""The workspace pool: large outputs are reused between steps, never while referenced."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.nn import functional as F
from abdou_torch.ops import workspace as ws

rng = np.random.default_rng(4)


@pytest.fixture(name="pool_everything")
def pool_everything_fixture(monkeypatch):
    monkeypatch.setattr(ws.workspace, "min_bytes", 0)
    monkeypatch.setattr(ws.workspace, "buffers", [])


def test_held_outputs_are_never_handed_out_again(pool_everything):
    x1, x2 = rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 4, 4))
    y1 = at.relu(at.tensor(x1))
    view = y1.data[0]  # a view also keeps the buffer
    y2 = at.relu(at.tensor(x2))
    assert not np.shares_memory(y1.data, y2.data)
    np.testing.assert_array_equal(y1.numpy(), np.maximum(x1, 0))
    del y1
    y3 = at.relu(at.tensor(x2 * 2))
    assert not np.shares_memory(view, y3.data)
    np.testing.assert_array_equal(view, np.maximum(x1, 0)[0])


def test_freed_outputs_are_reused(pool_everything):
    x = at.tensor(rng.standard_normal((2, 3, 4, 4)))
    first = at.relu(x)
    address = first.data.__array_interface__["data"][0]
    del first
    assert at.relu(x).data.__array_interface__["data"][0] == address


def test_training_steps_with_pooled_arrays_match_fresh_ones(pool_everything, monkeypatch):
    """Batch norm and ReLU forward and backward, twice, through the pool and without it."""
    x0 = rng.standard_normal((4, 3, 5, 5))
    w0, b0 = rng.standard_normal(3), rng.standard_normal(3)

    def two_steps():
        grads = []
        for scale in (1.0, 2.0):
            x = at.tensor(x0 * scale, requires_grad=True)
            w, b = at.tensor(w0, requires_grad=True), at.tensor(b0, requires_grad=True)
            y = at.relu(F.batch_norm(x, None, None, w, b, training=True))
            (y * at.tensor(x0)).sum().backward()
            grads += [x.grad.numpy().copy(), w.grad.numpy().copy(), y.numpy().copy()]
        return grads

    pooled = two_steps()
    assert ws.workspace.buffers
    monkeypatch.setattr(ws.workspace, "min_bytes", 1 << 62)
    for mine, fresh in zip(pooled, two_steps()):
        np.testing.assert_array_equal(mine, fresh)
