"""Constructor options against PyTorch, case by case: the speed-only keywords (``foreach``,
``fused``) are accepted and change nothing in the result; ``capturable`` and
``differentiable`` are accepted, and the step refuses them on a CPU the way PyTorch does; the
combinations PyTorch refuses at construction are refused with the same exception and message;
invalid hyperparameters raise PyTorch's ValueError and message."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch.optim as optim  # noqa: E402
from abdou_torch import Tensor  # noqa: E402
from abdou_torch.nn import Parameter  # noqa: E402

NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
         "RAdam"]
KEYWORDS = {"foreach": (None, False, True), "fused": (None, False, True),
            "capturable": (False, True), "differentiable": (False, True)}


def _ours(name):
    return {"AdamW": optim.WAdam}.get(name, getattr(optim, name))


def _outcome(make, step):
    """(None, None) when it works, else (phase, exception type name and message)."""
    try:
        optimizer = make()
    except Exception as error:  # noqa: BLE001 - the outcome is what we compare
        return "construct", type(error).__name__, str(error)
    try:
        step(optimizer)
    except Exception as error:  # noqa: BLE001
        return "step", type(error).__name__, None  # step messages name devices differently
    return None


def _cases():
    for name in NAMES:
        for values in itertools.product(*KEYWORDS.values()):
            options = dict(zip(KEYWORDS, values))
            yield pytest.param(name, options, id=name + "-" + "-".join(
                f"{k}={v}" for k, v in options.items()))


@pytest.mark.parametrize("name, options", list(_cases()))
def test_keyword_combinations_behave_like_torch(name, options):
    value = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    grad = np.full((2, 3), 0.25, np.float32)
    ours, theirs = Parameter(value.copy()), torch.nn.Parameter(torch.tensor(value))

    def step_ours(optimizer):
        ours.grad = Tensor(grad.copy())
        optimizer.step()

    def step_theirs(optimizer):
        theirs.grad = torch.tensor(grad)
        optimizer.step()

    expected = _outcome(lambda: getattr(torch.optim, name)([theirs], lr=0.1, **options),
                        step_theirs)
    got = _outcome(lambda: _ours(name)([ours], lr=0.1, **options), step_ours)
    if expected is not None and expected[1] == "TypeError":  # a keyword it doesn't have
        assert got is not None and got[:2] == expected[:2]
        return
    assert got == expected
    if expected is None:  # the same update, whichever keywords
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6, atol=1e-7)


BAD = [
    ("SGD", dict(lr=-0.1)), ("SGD", dict(lr=0.1, momentum=-0.5)),
    ("SGD", dict(lr=0.1, weight_decay=-1.0)), ("SGD", dict(lr=0.1, nesterov=True)),
    ("SGD", dict(lr=0.1, nesterov=True, momentum=0.9, dampening=0.1)),
    ("Adam", dict(lr=-1e-3)), ("Adam", dict(eps=-1e-8)), ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))), ("Adam", dict(weight_decay=-1e-2)),
    ("Adam", dict(lr=float("nan"))), ("Adam", dict(betas=(0, 0.9))),
    ("AdamW", dict(lr=-1.0)), ("AdamW", dict(betas=(0.9, 1.0))),
    ("RMSprop", dict(lr=-0.01)), ("RMSprop", dict(alpha=-0.5)), ("RMSprop", dict(eps=-1.0)),
    ("RMSprop", dict(momentum=-0.1)), ("RMSprop", dict(weight_decay=-0.1)),
    ("Adagrad", dict(lr=-0.1)), ("Adagrad", dict(lr_decay=-1.0)),
    ("Adagrad", dict(weight_decay=-1.0)), ("Adagrad", dict(initial_accumulator_value=-1.0)),
    ("Adagrad", dict(eps=-1.0)),
    ("Adadelta", dict(lr=-0.1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1.0)),
    ("Adadelta", dict(weight_decay=-1.0)),
    ("Adamax", dict(lr=-0.1)), ("Adamax", dict(eps=-1.0)), ("Adamax", dict(betas=(1.0, 0.9))),
    ("Adamax", dict(betas=(0.9, 1.5))), ("Adamax", dict(weight_decay=-1.0)),
    ("NAdam", dict(lr=-0.1)), ("NAdam", dict(betas=(0.9, 1.0))),
    ("NAdam", dict(momentum_decay=-1.0)), ("NAdam", dict(weight_decay=-1.0)),
    ("RAdam", dict(lr=-0.1)), ("RAdam", dict(eps=-1.0)), ("RAdam", dict(betas=(-0.1, 0.9))),
    ("RAdam", dict(weight_decay=-1.0)),
]


@pytest.mark.parametrize("name, options", BAD,
                         ids=[f"{n}-{list(o.items())[-1]}" for n, o in BAD])
def test_invalid_hyperparameters_raise_like_torch(name, options):
    with pytest.raises(Exception) as expected:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(3))], **options)
    with pytest.raises(Exception) as got:
        _ours(name)([Parameter(np.ones(3, np.float32))], **options)
    assert (type(got.value), str(got.value)) == (type(expected.value), str(expected.value))


def test_speed_keywords_give_the_same_bits():
    """foreach=True, fused=True and the default run the same flat step; foreach=False runs
    the reference step, which the reference tests show to be the same bits."""
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4)
              .astype(np.float32)]
    runs = []
    for options in (dict(), dict(foreach=True), dict(fused=True), dict(foreach=False)):
        params = [Parameter(v.copy()) for v in values]
        optimizer = optim.Adam(params, lr=1e-2, weight_decay=1e-2, **options)
        grads = np.random.default_rng(1)
        for _ in range(10):
            for p in params:
                p.grad = Tensor(grads.standard_normal(p.shape).astype(np.float32))
            optimizer.step()
        runs.append([p.data.copy() for p in params])
    for run in runs[1:]:
        for a, b in zip(runs[0], run):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("betas", [(0, 1.5), (1, 0.9), (0, 0.9), (0.9, 0)])
def test_adam_checks_beta_ranges_before_their_types_like_torch(betas):
    with pytest.raises(ValueError) as expected:
        torch.optim.Adam([torch.nn.Parameter(torch.ones(3))], betas=betas)
    with pytest.raises(ValueError) as got:
        optim.Adam([Parameter(np.ones(3, np.float32))], betas=betas)
    assert str(got.value) == str(expected.value)
