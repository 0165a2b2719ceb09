"""ASGD and Rprop against PyTorch: fed the same gradients, the parameters and every state
entry agree to the bit, step after step, in float32 and float64, flat step and reference
step alike (the MLP training comparison is in test_optim_vs_torch.py); and the same
hyperparameters are refused."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from abdou_torch import Tensor  # noqa: E402
from abdou_torch.nn import Parameter  # noqa: E402
from abdou_torch.optim import ASGD, Rprop  # noqa: E402

CONFIGS = [
    (Rprop, dict()),
    (Rprop, dict(lr=1e-3)),
    (Rprop, dict(lr=1e-2, etas=(0.3, 1.5), step_sizes=(1e-4, 0.05), maximize=True)),
    (ASGD, dict()),
    (ASGD, dict(lr=0.05, lambd=1e-2, t0=5, weight_decay=1e-2)),
    (ASGD, dict(lr=0.1, alpha=0.5, t0=0, maximize=True)),
]
IDS = [f"{cls.__name__}-{i}" for i, (cls, _) in enumerate(CONFIGS)]


@pytest.mark.parametrize("foreach", [None, False], ids=["flat", "reference"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=IDS)
def test_same_bits_as_torch_given_the_same_gradients(cls, kwargs, dtype, foreach):
    rng = np.random.default_rng(0)
    shapes = [(5, 4), (3,), ()]
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [Parameter(a.copy()) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a.copy())) for a in arrays]
    opt_ours = cls(ours, foreach=foreach, **kwargs)
    opt_theirs = getattr(torch.optim, cls.__name__)(theirs, foreach=foreach, **kwargs)
    for step in range(120):
        for index, (p, q) in enumerate(zip(ours, theirs)):
            g = rng.standard_normal(p.shape).astype(dtype)
            if step % 3 == 0:
                g[...] = 0 if g.ndim == 0 else g
                if g.ndim:
                    g[0] = 0  # a zero gradient: Rprop's sign(0) branch
            if index == 1 and step % 5 == 4:  # sometimes without a gradient
                p.grad, q.grad = None, None
                continue
            p.grad, q.grad = Tensor(g.copy()), torch.tensor(g.copy())
        opt_ours.step()
        opt_theirs.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_array_equal(p.data, q.detach().numpy())
    for p, q in zip(ours, theirs):
        assert list(opt_ours.state[p]) == list(opt_theirs.state[q])
        for name, value in opt_ours.state[p].items():
            np.testing.assert_array_equal(np.asarray(value.data), opt_theirs.state[q][name])
    assert not np.array_equal(ours[0].data, arrays[0])  # it moved


@pytest.mark.parametrize("cls, kwargs", [
    (Rprop, dict(lr=-1.0)), (Rprop, dict(etas=(1.0, 1.2))), (Rprop, dict(etas=(0.5, 1.0))),
    (Rprop, dict(etas=(0.0, 1.2))), (ASGD, dict(lr=-0.1)), (ASGD, dict(weight_decay=-1.0)),
])
def test_bad_hyperparameters_raise_like_torch(cls, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, cls.__name__)([torch.nn.Parameter(torch.zeros(2))], **kwargs)
    with pytest.raises(ValueError) as ours:
        cls([Parameter(np.zeros(2, np.float32))], **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_state_dict_round_trip_resumes_identically():
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(4).astype(np.float32) for _ in range(20)]
    for cls in (ASGD, Rprop):
        straight = Parameter(np.ones(4, np.float32))
        opt = cls([straight], lr=0.05)
        for g in grads:
            straight.grad = Tensor(g)
            opt.step()
        first = Parameter(np.ones(4, np.float32))
        opt = cls([first], lr=0.05)
        for g in grads[:8]:
            first.grad = Tensor(g)
            opt.step()
        resumed = Parameter(first.data.copy())
        opt2 = cls([resumed], lr=0.05)
        opt2.load_state_dict(opt.state_dict())
        for g in grads[8:]:
            resumed.grad = Tensor(g)
            opt2.step()
        np.testing.assert_array_equal(resumed.data, straight.data)
