"""Learning-rate schedules against PyTorch: the same lr (and momentum) sequences, exactly,
over many steps and several param groups; JSON state dict round trips; validation."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from abdou_torch.nn import Parameter  # noqa: E402
from abdou_torch.optim import SGD, Adam, WAdam, lr_scheduler  # noqa: E402

LRS = (0.1, 0.03)  # two param groups with their own lr

SCHEDULES = [
    ("StepLR", dict(step_size=7), 60),
    ("StepLR", dict(step_size=3, gamma=0.5), 60),
    ("MultiStepLR", dict(milestones=[5, 12, 12, 40]), 60),
    ("MultiStepLR", dict(milestones=[3, 9], gamma=0.3), 60),
    ("ExponentialLR", dict(gamma=0.95), 100),
    ("CosineAnnealingLR", dict(T_max=25), 120),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001), 100),
    ("LinearLR", dict(), 30),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=20), 50),
    ("ConstantLR", dict(factor=0.5, total_iters=4), 20),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=100), 100),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], epochs=4, steps_per_epoch=25,
                        anneal_strategy="linear", pct_start=0.25), 100),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=90, three_phase=True, div_factor=10.0,
                        final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9), 90),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=50, cycle_momentum=False), 50),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(SCHEDULES)]


def _ours(optimizer_name, **kwargs):
    params = [Parameter(np.zeros(2, np.float32)), Parameter(np.zeros(3, np.float32))]
    cls = {"SGD": SGD, "Adam": Adam, "AdamW": WAdam}[optimizer_name]
    return cls([{"params": [params[0]], "lr": LRS[0]},
                {"params": [params[1]], "lr": LRS[1]}], **kwargs)


def _theirs(optimizer_name, **kwargs):
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    return getattr(torch.optim, optimizer_name)([{"params": [params[0]], "lr": LRS[0]},
                                                 {"params": [params[1]], "lr": LRS[1]}],
                                                **kwargs)


def _trace(optimizer, scheduler, steps):
    """lrs and momenta after construction and after each step (optimizer stepped first)."""
    def snapshot():
        return ([g["lr"] for g in optimizer.param_groups], scheduler.get_last_lr(),
                [g.get("momentum", g.get("betas")) for g in optimizer.param_groups])
    trace = [snapshot()]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        trace.append(snapshot())
    return trace


def _normalise(trace):
    return [(lrs, last, [tuple(m) if isinstance(m, (tuple, list)) else m for m in moms])
            for lrs, last, moms in trace]


@pytest.mark.parametrize("optimizer_name, opt_kwargs", [
    ("SGD", dict(momentum=0.9)), ("Adam", dict())], ids=["sgd", "adam"])
@pytest.mark.parametrize("name, kwargs, steps", SCHEDULES, ids=IDS)
def test_sequence_equals_torch_exactly(name, kwargs, steps, optimizer_name, opt_kwargs):
    ours_opt, theirs_opt = _ours(optimizer_name, **opt_kwargs), \
        _theirs(optimizer_name, **opt_kwargs)
    ours = getattr(lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    expected = _normalise(_trace(theirs_opt, theirs, steps))
    got = _normalise(_trace(ours_opt, ours, steps))
    assert got == expected  # exact floats, not approximately
    assert ours.last_epoch == theirs.last_epoch == steps


@pytest.mark.parametrize("name, kwargs, steps", SCHEDULES, ids=IDS)
def test_json_round_trip_resumes_identically(name, kwargs, steps):
    """Save optimizer + scheduler after k steps (the scheduler through JSON), rebuild both,
    load, continue: the same lrs as without the interruption, and as PyTorch's resume."""
    k = steps // 3
    straight_opt = _ours("SGD", momentum=0.9)
    straight = getattr(lr_scheduler, name)(straight_opt, **kwargs)
    expected = _trace(straight_opt, straight, steps)[k + 1:]

    first_opt = _ours("SGD", momentum=0.9)
    first = getattr(lr_scheduler, name)(first_opt, **kwargs)
    _trace(first_opt, first, k)
    text = json.dumps(first.state_dict())
    saved_opt = first_opt.state_dict()

    resumed_opt = _ours("SGD", momentum=0.9)
    resumed = getattr(lr_scheduler, name)(resumed_opt, **kwargs)
    resumed_opt.load_state_dict(saved_opt)
    resumed.load_state_dict(json.loads(text))
    assert resumed.state_dict() == json.loads(text)
    got = _trace(resumed_opt, resumed, steps - k)[1:]
    assert _normalise(got) == _normalise(expected)

    theirs_opt = _theirs("SGD", momentum=0.9)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    _trace(theirs_opt, theirs, k)
    saved_theirs = (theirs_opt.state_dict(), theirs.state_dict())
    theirs_opt = _theirs("SGD", momentum=0.9)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    theirs_opt.load_state_dict(saved_theirs[0])
    theirs.load_state_dict(saved_theirs[1])
    assert _normalise(got) == _normalise(_trace(theirs_opt, theirs, steps - k)[1:])


@pytest.mark.parametrize("name, kwargs", [
    ("StepLR", dict(step_size=4)), ("MultiStepLR", dict(milestones=[2, 5, 5, 9])),
    ("ExponentialLR", dict(gamma=0.9)), ("CosineAnnealingLR", dict(T_max=6, eta_min=0.01)),
    ("LinearLR", dict(start_factor=0.2, total_iters=5)),
])
def test_step_with_epoch_uses_the_closed_form_like_torch(name, kwargs):
    ours_opt, theirs_opt = _ours("SGD"), _theirs("SGD")
    ours = getattr(lr_scheduler, name)(ours_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (3, 7, 1, 12):
            ours.step(epoch)
            theirs.step(epoch)
            assert ours.get_last_lr() == theirs.get_last_lr()


def test_schedulers_chain_like_torch():
    ours_opt, theirs_opt = _ours("SGD"), _theirs("SGD")
    ours = [lr_scheduler.LinearLR(ours_opt, start_factor=0.1, total_iters=5),
            lr_scheduler.ExponentialLR(ours_opt, gamma=0.9)]
    theirs = [torch.optim.lr_scheduler.LinearLR(theirs_opt, start_factor=0.1, total_iters=5),
              torch.optim.lr_scheduler.ExponentialLR(theirs_opt, gamma=0.9)]
    for _ in range(20):
        ours_opt.step()
        theirs_opt.step()
        for scheduler in ours + theirs:
            scheduler.step()
        assert [g["lr"] for g in ours_opt.param_groups] == \
            [g["lr"] for g in theirs_opt.param_groups]


def test_scheduled_training_matches_torch(h):
    """WAdam + OneCycleLR (cycling betas[0]) and SGD + CosineAnnealingLR on the MLP."""
    ours, theirs = h.models()
    x, y = h.data()
    opt_ours = WAdam(ours.parameters(), lr=1e-3)
    opt_theirs = torch.optim.AdamW(theirs.parameters(), lr=1e-3)
    sched_ours = lr_scheduler.OneCycleLR(opt_ours, max_lr=5e-3, total_steps=100)
    sched_theirs = torch.optim.lr_scheduler.OneCycleLR(opt_theirs, max_lr=5e-3,
                                                       total_steps=100)
    h.train_ours(ours, opt_ours, x, y, 100, scheduler=sched_ours)
    h.train_theirs(theirs, opt_theirs, x, y, 100, scheduler=sched_theirs)
    h.assert_params_close(ours, theirs, 1e-5)
    assert opt_ours.param_groups[0]["betas"] == opt_theirs.param_groups[0]["betas"]

    ours, theirs = h.models(seed=3)
    opt_ours = SGD(ours.parameters(), lr=0.05, momentum=0.9)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    sched_ours = lr_scheduler.CosineAnnealingLR(opt_ours, T_max=30)
    sched_theirs = torch.optim.lr_scheduler.CosineAnnealingLR(opt_theirs, T_max=30)
    h.train_ours(ours, opt_ours, x, y, 100, scheduler=sched_ours)
    h.train_theirs(theirs, opt_theirs, x, y, 100, scheduler=sched_theirs)
    h.assert_params_close(ours, theirs, 1e-5)


def test_validation_errors():
    optimizer = _ours("SGD")
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="step_size"):
        lr_scheduler.StepLR(optimizer, step_size=0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(optimizer, start_factor=0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        lr_scheduler.LinearLR(optimizer, end_factor=1.5)
    with pytest.raises(ValueError, match="either total_steps OR"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=0.1)
    with pytest.raises(ValueError, match="positive integer total_steps"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=0)
    with pytest.raises(ValueError, match="pct_start"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=10, anneal_strategy="x")
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=[0.1], total_steps=10)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_ours("SGD"), step_size=2, last_epoch=3)
    scheduler = lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=3)
    for _ in range(3):
        optimizer.step()
        scheduler.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        scheduler.step()


def test_bad_state_dict_is_refused():
    scheduler = lr_scheduler.StepLR(_ours("SGD"), step_size=2)
    with pytest.raises(ValueError, match="must be a dict"):
        scheduler.load_state_dict([1, 2])
    with pytest.raises(ValueError, match="last_epoch"):
        scheduler.load_state_dict({"base_lrs": [0.1, 0.2]})
    with pytest.raises(ValueError, match="param groups"):
        scheduler.load_state_dict({"last_epoch": 3, "base_lrs": [0.1]})
    assert scheduler.last_epoch == 0


def test_warns_when_stepped_before_the_optimizer():
    optimizer = _ours("SGD")
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()
    optimizer = _ours("SGD")
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2)
    optimizer.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scheduler.step()


OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
              "RAdam", "LBFGS"]


def _pair(optimizer_name):
    """The same optimizer in both libraries over one parameter with a fixed gradient (LBFGS:
    one group, a quadratic closure)."""
    import abdou_torch.optim as optim
    ours_param = Parameter(np.ones(3, np.float32))
    theirs_param = torch.nn.Parameter(torch.ones(3))
    ours_cls = {"AdamW": WAdam}.get(optimizer_name, getattr(optim, optimizer_name))
    ours_opt = ours_cls([ours_param], lr=0.1)
    theirs_opt = getattr(torch.optim, optimizer_name)([theirs_param], lr=0.1)

    def step_ours():
        def closure():
            ours_opt.zero_grad()
            loss = (ours_param * ours_param).sum()
            loss.backward()
            return loss
        ours_opt.step(closure)

    def step_theirs():
        def closure():
            theirs_opt.zero_grad()
            loss = (theirs_param * theirs_param).sum()
            loss.backward()
            return loss
        theirs_opt.step(closure)

    return (ours_opt, step_ours, ours_param), (theirs_opt, step_theirs, theirs_param)


@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
@pytest.mark.parametrize("name, kwargs, steps", SCHEDULES, ids=IDS)
def test_every_optimizer_follows_the_schedule_like_torch(name, kwargs, steps, optimizer_name):
    """Schedules work with every optimizer (LBFGS included) as in PyTorch, and the
    optimizer's step uses the scheduled lr; where PyTorch refuses the pair (OneCycleLR's
    momentum cycling on an optimizer without momentum or betas), so do we."""
    if isinstance(kwargs.get("max_lr"), list):
        kwargs = dict(kwargs, max_lr=kwargs["max_lr"][0])  # one param group here
    (ours_opt, step_ours, ours_param), (theirs_opt, step_theirs, theirs_param) = \
        _pair(optimizer_name)
    try:
        theirs = getattr(torch.optim.lr_scheduler, name)(theirs_opt, **kwargs)
    except ValueError as error:
        with pytest.raises(ValueError, match="momentum or beta1"):
            getattr(lr_scheduler, name)(ours_opt, **kwargs)
        assert "momentum or beta1" in str(error)
        return
    ours = getattr(lr_scheduler, name)(ours_opt, **kwargs)
    for _ in range(min(steps, 30)):
        step_ours()
        step_theirs()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert ours_opt.param_groups[0]["lr"] == theirs_opt.param_groups[0]["lr"]
    np.testing.assert_allclose(ours_param.data, theirs_param.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
