"""The per-parameter reference step (``foreach=False``: the numbered algorithm as plain NumPy
expressions, one parameter at a time) and the flat step (in place, every parameter of a group
at once) give the same bits, for every optimizer, over many steps: parameters and state."""
from __future__ import annotations

import numpy as np
import pytest

from abdou_torch import Tensor
from abdou_torch.nn import Parameter
from abdou_torch.optim import (ASGD, SGD, Adadelta, Adagrad, Adam, Adamax, NAdam, RAdam,
                               RMSprop, Rprop, WAdam)
from abdou_torch.optim.optimizer import FLUSH_EVERY

CONFIGS = [
    (SGD, dict(lr=0.05)),
    (SGD, dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=1e-2)),
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    (Adam, dict(lr=1e-2)),
    (Adam, dict(lr=1e-2, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True, maximize=True)),
    (Adam, dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True)),
    (WAdam, dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
    (RMSprop, dict(lr=1e-2)),
    (RMSprop, dict(lr=1e-2, momentum=0.9, centered=True, weight_decay=1e-2, maximize=True)),
    (Adagrad, dict(lr=0.1, lr_decay=1e-2, weight_decay=1e-2, initial_accumulator_value=0.1)),
    (Adagrad, dict(lr=0.1, maximize=True)),
    (Adadelta, dict(lr=1.0, rho=0.8, weight_decay=1e-2, maximize=True)),
    (Adamax, dict(lr=1e-2, weight_decay=1e-2)),
    (Adamax, dict(lr=1e-2, betas=(0.5, 0.9), maximize=True)),
    (NAdam, dict(lr=1e-2, weight_decay=1e-2)),
    (NAdam, dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    (RAdam, dict(lr=1e-2, weight_decay=1e-2)),
    (RAdam, dict(lr=1e-2, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    (ASGD, dict(lr=0.05, lambd=1e-2, t0=3, weight_decay=1e-2)),
    (ASGD, dict(lr=0.05, maximize=True)),
    (Rprop, dict(lr=1e-2, etas=(0.3, 1.5), step_sizes=(1e-4, 0.05))),
    (Rprop, dict(lr=1e-2, maximize=True)),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(CONFIGS)]
SHAPES = [(4, 3), (3,), (), (2, 0), (2, 3, 2), (1,)]


def _twins(dtype, seed=0):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    return [Parameter(v.copy()) for v in values], [Parameter(v.copy()) for v in values]


def _groups(params):
    """Two groups, the second with its own lr."""
    return [{"params": params[:3]}, {"params": params[3:], "lr": 0.003}]


def _assert_same_bits(ours, reference, opt_ours, opt_reference):
    for p, q in zip(ours, reference):
        np.testing.assert_array_equal(p.data, q.data)
        assert p.data.dtype == q.data.dtype
        state, expected = opt_ours.state.get(p, {}), opt_reference.state.get(q, {})
        assert list(state) == list(expected)
        for name, value in expected.items():
            np.testing.assert_array_equal(np.asarray(state[name].data),
                                          np.asarray(value.data), err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("cls, options", CONFIGS, ids=IDS)
def test_reference_and_flat_steps_give_the_same_bits(cls, options, dtype):
    """Some parameters miss some steps (their step counts fall behind, so the flat step splits
    into per-parameter segments), the gradients shrink into the subnormal range for a while
    (so the shared flush has something to do), and both runs cross several flushes."""
    ours, reference = _twins(dtype)
    opt_ours = cls(_groups(ours), **options)
    opt_reference = cls(_groups(reference), foreach=False, **options)
    rng = np.random.default_rng(1)
    for step in range(3 * FLUSH_EVERY + 5):
        scale = 1e-25 if 20 <= step < 40 else 1.0
        for index, (p, q) in enumerate(zip(ours, reference)):
            if (index == 1 and step % 3 == 2) or (index == 4 and 10 <= step < 14):
                p.grad = q.grad = None
                continue
            grad = (rng.standard_normal(p.shape) * scale).astype(dtype)
            p.grad, q.grad = Tensor(grad.copy()), Tensor(grad.copy())
        opt_ours.step()
        opt_reference.step()
        _assert_same_bits(ours, reference, opt_ours, opt_reference)
    # the two runs took the two paths
    assert all(layout.buckets and not layout.single for layout in opt_ours._layouts.values())
    assert all(layout.single and not layout.buckets
               for layout in opt_reference._layouts.values())


@pytest.mark.parametrize("cls, options", CONFIGS[:1] + CONFIGS[3:4] + CONFIGS[13:14],
                         ids=["SGD", "Adam", "NAdam"])
def test_reference_step_after_loading_a_flat_state(cls, options):
    """A state dict saved by the flat step and loaded into a foreach=False optimizer (and the
    other way round) continues with the same bits."""
    ours, reference = _twins(np.float32)
    opt_ours = cls(ours, **options)
    rng = np.random.default_rng(2)
    grads = [[rng.standard_normal(p.shape).astype(np.float32) for p in ours]
             for _ in range(12)]
    for step in range(6):
        for p, g in zip(ours, grads[step]):
            p.grad = Tensor(g.copy())
        opt_ours.step()
    for p, q in zip(ours, reference):
        q.data[...] = p.data
    opt_reference = cls(reference, foreach=False, **options)
    opt_reference.load_state_dict(opt_ours.state_dict())
    for step in range(6, 12):
        for p, q, g in zip(ours, reference, grads[step]):
            p.grad, q.grad = Tensor(g.copy()), Tensor(g.copy())
        opt_ours.step()
        opt_reference.step()
    _assert_same_bits(ours, reference, opt_ours, opt_reference)
