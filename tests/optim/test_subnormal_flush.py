"""One subnormal policy for every optimizer: after every ``flush_every`` calls of ``step()``
the per-element state holds no subnormal value; parameters still agree with PyTorch's (which
keeps subnormals); ``flush_every = 0`` keeps them as PyTorch does; groups with eps = 0 are
left alone; a resumed run flushes on the same steps as the uninterrupted one."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch.optim as optim  # noqa: E402
from abdou_torch import Tensor  # noqa: E402
from abdou_torch.nn import Parameter  # noqa: E402
from abdou_torch.optim.optimizer import FLUSH_EVERY  # noqa: E402

TINY = np.finfo(np.float32).tiny
EACH = [("SGD", dict(lr=1e-2, momentum=0.5)),
        ("Adam", dict(lr=1e-2, betas=(0.5, 0.9), amsgrad=True)),
        ("AdamW", dict(lr=1e-2, betas=(0.5, 0.9))),
        ("RMSprop", dict(lr=1e-2, alpha=0.5, momentum=0.5)),
        ("Adagrad", dict(lr=1e-2)),
        ("Adadelta", dict(lr=1.0, rho=0.5)),
        ("Adamax", dict(lr=1e-2, betas=(0.5, 0.5))),
        ("NAdam", dict(lr=1e-2, betas=(0.5, 0.9))),
        ("RAdam", dict(lr=1e-2, betas=(0.5, 0.9)))]
IDS = [name for name, _ in EACH]


def _ours(name):
    return {"AdamW": optim.WAdam}.get(name, getattr(optim, name))


def _gradient(step):
    """Column 0: ordinary gradients; column 1: so small that g² is subnormal; column 2: tiny,
    then zero after 5 steps, so averages and momenta decay through the subnormal range."""
    g = np.zeros((3, 4), np.float32)
    g[:, 0] = np.random.default_rng(step).standard_normal(3) * 1e-3
    g[:, 1] = 1e-20
    g[:, 2] = 1e-30 if step < 5 else 0.0
    return g


def _subnormal(array):
    array = np.abs(np.asarray(array))
    return (array > 0) & (array < TINY)


def _run(name, options, steps, flush_every=None, foreach=None):
    weight = Parameter(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
    twin = torch.nn.Parameter(torch.tensor(weight.data))
    extra = {} if foreach is None else dict(foreach=foreach)
    ours = _ours(name)([weight], **options, **extra)
    if flush_every is not None:
        ours.flush_every = flush_every
    theirs = getattr(torch.optim, name)([twin], **options)
    flushed_on_schedule = True
    torch_had_subnormals = False
    for step in range(steps):
        g = _gradient(step)
        weight.grad, twin.grad = Tensor(g.copy()), torch.tensor(g)
        ours.step()
        theirs.step()
        for value in ours.state[weight].values():
            if np.asarray(value.data).shape == weight.shape and (step + 1) % FLUSH_EVERY == 0:
                flushed_on_schedule &= not _subnormal(value.data).any()
        torch_had_subnormals |= any(_subnormal(v.numpy()).any() for v in
                                    theirs.state[twin].values() if v.shape == twin.shape)
    return weight, twin, ours, theirs, flushed_on_schedule, torch_had_subnormals


@pytest.mark.parametrize("foreach", [None, False], ids=["flat", "reference"])
@pytest.mark.parametrize("name, options", EACH, ids=IDS)
def test_every_optimizer_flushes_on_the_same_schedule_and_still_matches_torch(
        name, options, foreach):
    weight, twin, *_, flushed, torch_had_subnormals = _run(name, options, 5 * FLUSH_EVERY,
                                                           foreach=foreach)
    assert flushed
    np.testing.assert_allclose(weight.data, twin.detach().numpy(), rtol=1e-6, atol=1e-7)
    if name != "Adagrad":  # Adagrad's sum only grows; the others decay into subnormals
        assert torch_had_subnormals


@pytest.mark.parametrize("name, options", EACH, ids=IDS)
def test_flush_every_zero_keeps_subnormals_like_torch(name, options):
    weight, twin, ours, theirs, *_ = _run(name, options, 3 * FLUSH_EVERY, flush_every=0)
    for key, expected in theirs.state[twin].items():
        if expected.shape == twin.shape:
            # subnormals carry few digits: a last-bit difference is 1.4e-45 absolute
            np.testing.assert_allclose(ours.state[weight][key].data, expected.numpy(),
                                       rtol=1e-5, atol=1e-44, err_msg=key)
            assert np.array_equal(_subnormal(ours.state[weight][key].data),
                                  _subnormal(expected.numpy())), key
    np.testing.assert_allclose(weight.data, twin.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_groups_with_zero_eps_are_not_flushed():
    """With eps = 0, flushing v (subnormal where g² is) would turn m / √v into m / 0 = inf;
    such groups keep their subnormals and stay finite, like PyTorch."""
    weight = Parameter(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
    twin = torch.nn.Parameter(torch.tensor(weight.data))
    ours = optim.Adam([weight], lr=1e-2, betas=(0.5, 0.9), eps=0.0)
    theirs = torch.optim.Adam([twin], lr=1e-2, betas=(0.5, 0.9), eps=0.0)
    for step in range(2 * FLUSH_EVERY):
        g = _gradient(step)
        g[:, 2:] = np.random.default_rng(100 + step).standard_normal((3, 2)) * 1e-3
        weight.grad, twin.grad = Tensor(g.copy()), torch.tensor(g)
        ours.step()
        theirs.step()
    assert _subnormal(ours.state[weight]["exp_avg_sq"].data)[:, 1].all()  # left in place
    assert np.isfinite(weight.data).all()
    np.testing.assert_allclose(weight.data, twin.detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype, eps, flushed", [
    (np.float32, 1e-12, True), (np.float32, 5e-13, False), (np.float64, 1e-100, True),
    (np.float64, 0.0, False)])
def test_flush_threshold_on_eps(dtype, eps, flushed):
    """A group is flushed where eps ≥ √tiny / machine epsilon of its dtype (9.1e-13 in
    float32, 6.7e-139 in float64)."""
    weight = Parameter(np.ones(4, dtype))
    optimizer = optim.Adam([weight], lr=1e-3, eps=eps)
    tiny = np.finfo(dtype).tiny
    for _ in range(FLUSH_EVERY):
        weight.grad = Tensor(np.full(4, np.sqrt(tiny) / 8, dtype))  # g² is subnormal
        optimizer.step()
    v = optimizer.state[weight]["exp_avg_sq"].data
    assert (v == 0).all() if flushed else ((v > 0) & (v < tiny)).all()


def test_a_resumed_run_flushes_on_the_same_steps():
    """The flush clock restarts from the saved step count, so a resumed Adam flushes on the
    same global steps as the uninterrupted run (bit-exact resume)."""
    def run(resume_at=None):
        weight = Parameter(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
        optimizer = optim.Adam([weight], lr=1e-2, betas=(0.5, 0.9))
        for step in range(2 * FLUSH_EVERY + 3):
            if step == resume_at:
                saved, values = optimizer.state_dict(), weight.data.copy()
                weight = Parameter(values)
                optimizer = optim.Adam([weight], lr=1e-2, betas=(0.5, 0.9))
                optimizer.load_state_dict(saved)
            weight.grad = Tensor(_gradient(step))
            optimizer.step()
        return weight.data, optimizer.state[weight]["exp_avg"].data
    straight = run()
    for resume_at in (FLUSH_EVERY - 3, FLUSH_EVERY + 1):
        resumed = run(resume_at)
        for a, b in zip(straight, resumed):
            np.testing.assert_array_equal(a, b)
