"""Optimizers write every update into each parameter's own array: NumPy views, ``detach()``,
``.numpy()`` and ``.data`` ties taken before (or after) the optimizer was built keep tracking
the parameters; tied, overlapping and non-contiguous parameters are updated as PyTorch does."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch.optim as optim  # noqa: E402
from abdou_torch import MLP, Tensor, nn  # noqa: E402
from abdou_torch.nn import Parameter  # noqa: E402

ALL = [("SGD", dict(lr=0.05, momentum=0.9, weight_decay=1e-2)),
       ("Adam", dict(lr=1e-2, weight_decay=1e-2)),
       ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
       ("RMSprop", dict(lr=1e-2, momentum=0.5, weight_decay=1e-2)),
       ("Adagrad", dict(lr=0.1, weight_decay=1e-2)),
       ("Adadelta", dict(lr=1.0, weight_decay=1e-2)),
       ("Adamax", dict(lr=1e-2, weight_decay=1e-2)),
       ("NAdam", dict(lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True)),
       ("RAdam", dict(lr=1e-2, weight_decay=1e-2))]
IDS = [name for name, _ in ALL]


def _ours(name):
    return {"AdamW": optim.WAdam}.get(name, getattr(optim, name))


def _step_both(pairs, opt_ours, opt_theirs, rng, steps=8):
    """Random gradients, the same on both sides; ``pairs`` are (ours, theirs) parameters."""
    for _ in range(steps):
        for p, q in pairs:
            grad = rng.standard_normal(p.shape).astype(p.data.dtype)
            p.grad, q.grad = Tensor(grad.copy()), torch.tensor(grad)
        opt_ours.step()
        opt_theirs.step()


@pytest.mark.parametrize("name, options", ALL, ids=IDS)
def test_views_taken_before_the_optimizer_see_every_update(h, name, options):
    model = MLP(4, [8, 3], activation="tanh")
    weight = model.layers[0].weight
    array, row, numpy_view, detached = weight.data, weight.data[1], weight.numpy(), \
        weight.detach()
    before = array.copy()
    optimizer = _ours(name)(model.parameters(), **options)
    x, y = h.data(n=8, nin=4, nout=3)
    h.train_ours(model, optimizer, x, y, 3)
    assert weight.data is array  # never rebound
    assert not np.array_equal(array, before)
    np.testing.assert_array_equal(row, weight.data[1])
    assert numpy_view is weight.data and detached.data is weight.data


@pytest.mark.parametrize("name, options", ALL, ids=IDS)
def test_data_tie_between_two_layers_is_kept_and_updated_like_torch(name, options):
    """``b.weight.data = a.weight.data``: two Parameters, one array. Each Parameter is
    updated with its own gradient and state, one after the other (PyTorch's order), and the
    tie holds."""
    rng = np.random.default_rng(0)
    ours_a, ours_b = nn.Linear(3, 4), nn.Linear(3, 4)
    theirs_a, theirs_b = torch.nn.Linear(3, 4), torch.nn.Linear(3, 4)
    for ours, theirs in ((ours_a, theirs_a), (ours_b, theirs_b)):
        for key in ("weight", "bias"):
            value = rng.standard_normal(getattr(ours, key).shape).astype(np.float32)
            getattr(ours, key).data[...] = value
            getattr(theirs, key).data.copy_(torch.tensor(value))
    ours_b.weight.data = ours_a.weight.data
    theirs_b.weight.data = theirs_a.weight.data
    tied = ours_a.weight.data
    opt_ours = _ours(name)(list(ours_a.parameters()) + list(ours_b.parameters()), **options)
    opt_theirs = getattr(torch.optim, name)(list(theirs_a.parameters()) +
                                            list(theirs_b.parameters()), **options)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    for _ in range(8):
        for a, b, optimizer, wrap in ((ours_a, ours_b, opt_ours, Tensor),
                                      (theirs_a, theirs_b, opt_theirs, torch.tensor)):
            optimizer.zero_grad()
            loss = (a(wrap(x)) ** 2).sum() + (b(wrap(x)) * 3).sum()
            loss.backward()
            optimizer.step()
    assert ours_a.weight.data is tied and ours_b.weight.data is tied
    for ours, theirs in ((ours_a, theirs_a), (ours_b, theirs_b)):
        for key in ("weight", "bias"):
            np.testing.assert_allclose(getattr(ours, key).data,
                                       getattr(theirs, key).detach().numpy(),
                                       rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("name, options", ALL[:3], ids=IDS[:3])
def test_shared_parameter_is_updated_once_per_step_like_torch(name, options):
    """``b.weight = a.weight``: one Parameter in two places; ``parameters()`` lists it once,
    its gradient sums both uses, and it takes one step."""
    rng = np.random.default_rng(1)
    ours_a, ours_b = nn.Linear(4, 4), nn.Linear(4, 4)
    theirs_a, theirs_b = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)
    for ours, theirs in ((ours_a, theirs_a), (ours_b, theirs_b)):
        for key in ("weight", "bias"):
            value = rng.standard_normal(getattr(ours, key).shape).astype(np.float32)
            getattr(ours, key).data[...] = value
            getattr(theirs, key).data.copy_(torch.tensor(value))
    ours_b.weight, theirs_b.weight = ours_a.weight, theirs_a.weight
    ours_model, theirs_model = nn.Sequential(ours_a, ours_b), torch.nn.Sequential(theirs_a,
                                                                                   theirs_b)
    assert len(list(ours_model.parameters())) == len(list(theirs_model.parameters())) == 3
    opt_ours = _ours(name)(ours_model.parameters(), **options)
    opt_theirs = getattr(torch.optim, name)(theirs_model.parameters(), **options)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    for _ in range(8):
        for model, optimizer, wrap in ((ours_model, opt_ours, Tensor),
                                       (theirs_model, opt_theirs, torch.tensor)):
            optimizer.zero_grad()
            (model(wrap(x)) ** 2).mean().backward()
            optimizer.step()
    np.testing.assert_allclose(ours_a.weight.data, theirs_a.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert ours_b.weight is ours_a.weight
    if "step" in opt_theirs.state[theirs_a.weight]:
        assert float(opt_ours.state[ours_a.weight]["step"]) == 8.0


@pytest.mark.parametrize("name, options", ALL, ids=IDS)
@pytest.mark.parametrize("layout", ["transposed", "strided", "overlapping", "interleaved"])
def test_non_contiguous_and_overlapping_parameters_like_torch(name, options, layout):
    """Parameters that are views of one buffer: a transposed block and a row, two strided
    slices (both laid out flat), two windows that overlap, and two interleaved halves (disjoint,
    but with overlapping bounds: both updated one at a time, which is exact either way)."""
    rng = np.random.default_rng(2)
    base = rng.standard_normal((6, 4)).astype(np.float32)
    ours_base, theirs_base = base.copy(), torch.tensor(base)
    pick = {"transposed": lambda b: [b[:4].T, b[5]],
            "strided": lambda b: [b[:3, ::2], b[4:, 1]],
            "overlapping": lambda b: [b[0:4], b[2:6]],
            "interleaved": lambda b: [b[::2], b[1::2]]}[layout]
    ours = [Parameter(v) for v in pick(ours_base)]
    theirs = [torch.nn.Parameter(v) for v in pick(theirs_base)]
    assert all(np.shares_memory(p.data, ours_base) for p in ours)
    opt_ours = _ours(name)(ours, **options)
    opt_theirs = getattr(torch.optim, name)(theirs, **options)
    _step_both(list(zip(ours, theirs)), opt_ours, opt_theirs, rng)
    np.testing.assert_allclose(ours_base, theirs_base.numpy(), rtol=1e-5, atol=1e-6)
    for p, q in zip(ours, theirs):
        assert np.shares_memory(p.data, ours_base)
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-6)
    single = [p for layout_ in opt_ours._layouts.values() for p in layout_.single]
    assert len(single) == (2 if layout in ("overlapping", "interleaved") else 0)


def test_replacing_data_by_a_view_of_another_parameter_switches_to_one_at_a_time():
    """A tie made after some steps is noticed at the next step: the two parameters leave the
    flat layout and are updated one after the other."""
    a, b = Parameter(np.ones(3, np.float32)), Parameter(np.zeros(3, np.float32))
    twin_a, twin_b = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.zeros(3))
    opt_ours = optim.Adam([a, b], lr=0.1, weight_decay=0.1)
    opt_theirs = torch.optim.Adam([twin_a, twin_b], lr=0.1, weight_decay=0.1)
    rng = np.random.default_rng(3)
    _step_both([(a, twin_a), (b, twin_b)], opt_ours, opt_theirs, rng, steps=3)
    b.data = a.data
    twin_b.data = twin_a.data
    _step_both([(a, twin_a), (b, twin_b)], opt_ours, opt_theirs, rng, steps=5)
    assert b.data is a.data
    np.testing.assert_allclose(a.data, twin_a.detach().numpy(), rtol=1e-6, atol=1e-7)
    assert [p for layout in opt_ours._layouts.values() for p in layout.single] == [a, b]
