"""The other learning-rate schedules against PyTorch: LambdaLR, MultiplicativeLR,
PolynomialLR, CyclicLR, CosineAnnealingWarmRestarts, SequentialLR, ChainedScheduler and
ReduceLROnPlateau give the same lr (and momentum) sequences exactly, step by step, over
50+ steps and two param groups, and resume identically from a JSON state dict."""
from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from abdou_torch.nn import Parameter  # noqa: E402
from abdou_torch.optim import SGD, Adam, lr_scheduler  # noqa: E402

LRS = (0.1, 0.03)


def _ours(optimizer_name="SGD", **kwargs):
    params = [Parameter(np.zeros(2, np.float32)), Parameter(np.zeros(3, np.float32))]
    cls = {"SGD": SGD, "Adam": Adam}[optimizer_name]
    return cls([{"params": [params[0]], "lr": LRS[0]},
                {"params": [params[1]], "lr": LRS[1]}], **kwargs)


def _theirs(optimizer_name="SGD", **kwargs):
    params = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))]
    return getattr(torch.optim, optimizer_name)([{"params": [params[0]], "lr": LRS[0]},
                                                 {"params": [params[1]], "lr": LRS[1]}],
                                                **kwargs)


def _snapshot(optimizer, scheduler):
    moms = [g.get("momentum", g.get("betas")) for g in optimizer.param_groups]
    return ([g["lr"] for g in optimizer.param_groups], list(scheduler.get_last_lr()),
            [tuple(m) if isinstance(m, (tuple, list)) else m for m in moms])


def _trace(optimizer, scheduler, steps, step_args=lambda i: ()):
    trace = [_snapshot(optimizer, scheduler)]
    for i in range(steps):
        optimizer.step()
        scheduler.step(*step_args(i))
        trace.append(_snapshot(optimizer, scheduler))
    return trace


class Halving:
    """A callable object: its state is saved in the scheduler's state dict."""

    def __init__(self, every):
        self.every = every

    def __call__(self, epoch):
        return 0.5 ** (epoch // self.every)


def _build(lib, name, optimizer):
    """One schedule (by test name) built with lib's lr_scheduler module."""
    mod = lib
    if name == "lambda":
        return mod.LambdaLR(optimizer, lambda e: 0.97 ** e)
    if name == "lambda-list":
        return mod.LambdaLR(optimizer, [lambda e: 1 / (1 + e), Halving(7)])
    if name == "multiplicative":
        return mod.MultiplicativeLR(optimizer, lambda e: 0.95 if e % 3 else 1.02)
    if name == "polynomial":
        return mod.PolynomialLR(optimizer, total_iters=30, power=2.0)
    if name == "polynomial-default":
        return mod.PolynomialLR(optimizer)
    if name == "cyclic-triangular":
        return mod.CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=7)
    if name == "cyclic-triangular2":
        return mod.CyclicLR(optimizer, base_lr=[0.01, 0.001], max_lr=[0.1, 0.05],
                            step_size_up=5, step_size_down=9, mode="triangular2",
                            base_momentum=0.7, max_momentum=0.95)
    if name == "cyclic-exp-range":
        return mod.CyclicLR(optimizer, base_lr=0.002, max_lr=0.2, step_size_up=6,
                            mode="exp_range", gamma=0.97)
    if name == "cyclic-no-momentum":
        return mod.CyclicLR(optimizer, base_lr=0.01, max_lr=0.3, step_size_up=4,
                            cycle_momentum=False)
    if name == "cyclic-scale-fn":
        return mod.CyclicLR(optimizer, base_lr=0.01, max_lr=0.3, step_size_up=4,
                            scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations")
    if name == "warm-restarts":
        return mod.CosineAnnealingWarmRestarts(optimizer, T_0=10)
    if name == "warm-restarts-mult":
        return mod.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2, eta_min=0.001)
    if name == "sequential":
        return mod.SequentialLR(optimizer, [
            mod.LinearLR(optimizer, start_factor=0.1, total_iters=5),
            mod.CosineAnnealingLR(optimizer, T_max=20, eta_min=0.001),
            mod.ExponentialLR(optimizer, gamma=0.9)], milestones=[5, 25])
    if name == "sequential-constant-step":
        return mod.SequentialLR(optimizer, [
            mod.ConstantLR(optimizer, factor=0.5, total_iters=3),
            mod.StepLR(optimizer, step_size=4, gamma=0.5)], milestones=[6])
    if name == "chained":
        return mod.ChainedScheduler([
            mod.LinearLR(optimizer, start_factor=0.2, total_iters=8),
            mod.ExponentialLR(optimizer, gamma=0.96),
            mod.MultiStepLR(optimizer, milestones=[20, 40])])
    raise KeyError(name)


NAMES = ["lambda", "lambda-list", "multiplicative", "polynomial", "polynomial-default",
         "cyclic-triangular", "cyclic-triangular2", "cyclic-exp-range", "cyclic-no-momentum",
         "cyclic-scale-fn", "warm-restarts", "warm-restarts-mult", "sequential",
         "sequential-constant-step", "chained"]
STEPS = 60


@pytest.mark.parametrize("optimizer_name, opt_kwargs", [
    ("SGD", dict(momentum=0.9)), ("Adam", dict())], ids=["sgd", "adam"])
@pytest.mark.parametrize("name", NAMES)
def test_sequence_equals_torch_exactly(name, optimizer_name, opt_kwargs):
    ours_opt = _ours(optimizer_name, **opt_kwargs)
    theirs_opt = _theirs(optimizer_name, **opt_kwargs)
    ours = _build(lr_scheduler, name, ours_opt)
    theirs = _build(torch.optim.lr_scheduler, name, theirs_opt)
    got = _trace(ours_opt, ours, STEPS)
    expected = _trace(theirs_opt, theirs, STEPS)
    assert got == expected  # exact floats
    assert len({tuple(lrs) for lrs, _, _ in got}) > 2  # the schedule moved


@pytest.mark.parametrize("name", NAMES)
def test_json_round_trip_resumes_identically(name):
    """State saved after k steps (through JSON), loaded into a fresh schedule: the rest of
    the sequence is the uninterrupted one, and PyTorch's resumed one."""
    k = 23
    straight_opt = _ours(momentum=0.9)
    expected = _trace(straight_opt, _build(lr_scheduler, name, straight_opt), STEPS)[k + 1:]
    first_opt = _ours(momentum=0.9)
    first = _build(lr_scheduler, name, first_opt)
    _trace(first_opt, first, k)
    text = json.dumps(first.state_dict())
    resumed_opt = _ours(momentum=0.9)
    resumed = _build(lr_scheduler, name, resumed_opt)
    resumed_opt.load_state_dict(first_opt.state_dict())
    resumed.load_state_dict(json.loads(text))
    got = _trace(resumed_opt, resumed, STEPS - k)[1:]
    assert got == expected

    theirs_opt = _theirs(momentum=0.9)
    theirs = _build(torch.optim.lr_scheduler, name, theirs_opt)
    _trace(theirs_opt, theirs, k)
    saved = (theirs_opt.state_dict(), theirs.state_dict())
    theirs_opt = _theirs(momentum=0.9)
    theirs = _build(torch.optim.lr_scheduler, name, theirs_opt)
    theirs_opt.load_state_dict(saved[0])
    theirs.load_state_dict(saved[1])
    assert got == _trace(theirs_opt, theirs, STEPS - k)[1:]


def test_lambda_state_saves_callable_objects_only():
    optimizer = _ours()
    scheduler = lr_scheduler.LambdaLR(optimizer, [lambda e: 1.0, Halving(7)])
    assert scheduler.state_dict()["lr_lambdas"] == [None, {"every": 7}]
    other = lr_scheduler.LambdaLR(_ours(), [lambda e: 1.0, Halving(3)])
    other.load_state_dict(scheduler.state_dict())
    assert other.lr_lambdas[1].every == 7


@pytest.mark.parametrize("T_0, T_mult", [(10, 1), (4, 2), (3, 3)])
def test_warm_restarts_with_fractional_epochs_like_torch(T_0, T_mult):  # noqa: N803
    ours_opt, theirs_opt = _ours(), _theirs()
    ours = lr_scheduler.CosineAnnealingWarmRestarts(ours_opt, T_0=T_0, T_mult=T_mult,
                                                    eta_min=0.002)
    theirs = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        theirs_opt, T_0=T_0, T_mult=T_mult, eta_min=0.002)
    iters = 7
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in range(25):
            for i in range(iters):
                ours_opt.step()
                theirs_opt.step()
                ours.step(epoch + i / iters)
                theirs.step(epoch + i / iters)
                assert ours.get_last_lr() == theirs.get_last_lr()
                assert (ours.T_cur, ours.T_i, ours.last_epoch) == \
                    (theirs.T_cur, theirs.T_i, theirs.last_epoch)
    with pytest.raises(ValueError, match="non-negative epoch"):
        ours.step(-1)


PLATEAUS = [
    dict(),
    dict(mode="max", factor=0.5, patience=2),
    dict(patience=1, threshold=0.1, threshold_mode="abs", cooldown=2, min_lr=[0.01, 0.001]),
    dict(mode="max", patience=0, threshold=0.05, threshold_mode="rel", min_lr=0.02,
         factor=0.3),
    dict(patience=3, factor=0.5, eps=0.01),
]


def _metrics(n=80):
    """A noisy loss that falls, stalls, rises and falls again."""
    rng = np.random.default_rng(0)
    base = np.concatenate([np.linspace(2.0, 1.0, 20), np.full(25, 1.0),
                           np.linspace(1.0, 1.3, 15), np.linspace(1.3, 0.5, n - 60)])
    return (base + 0.02 * rng.standard_normal(n)).tolist()


@pytest.mark.parametrize("kwargs", PLATEAUS)
def test_reduce_on_plateau_equals_torch(kwargs):
    ours_opt, theirs_opt = _ours(), _theirs()
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    metrics = _metrics()
    got = _trace(ours_opt, ours, len(metrics), lambda i: (metrics[i],))
    expected = _trace(theirs_opt, theirs, len(metrics), lambda i: (metrics[i],))
    assert got == expected
    assert got[-1][0] != list(LRS)  # it did reduce
    assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter, ours.last_epoch) == \
        (theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter, theirs.last_epoch)


def test_reduce_on_plateau_takes_a_tensor_metric_and_resumes():
    import abdou_torch
    metrics = _metrics()
    straight_opt = _ours()
    straight = lr_scheduler.ReduceLROnPlateau(straight_opt, patience=2, cooldown=1)
    expected = _trace(straight_opt, straight, 80, lambda i: (abdou_torch.tensor(metrics[i]),))
    first_opt = _ours()
    first = lr_scheduler.ReduceLROnPlateau(first_opt, patience=2, cooldown=1)
    _trace(first_opt, first, 30, lambda i: (metrics[i],))
    text = json.dumps(first.state_dict())
    resumed_opt = _ours()
    resumed_opt.load_state_dict(first_opt.state_dict())
    resumed = lr_scheduler.ReduceLROnPlateau(resumed_opt, mode="max")  # overwritten by load
    resumed.load_state_dict(json.loads(text))
    assert resumed.mode == "min" and resumed.patience == 2
    got = _trace(resumed_opt, resumed, 50, lambda i: (metrics[30 + i],))[1:]
    assert got == expected[31:]


def test_validation_like_torch():
    optimizer = _ours()
    cases = [
        (lambda m, o: m.ReduceLROnPlateau(o, factor=1.0), ValueError),
        (lambda m, o: m.ReduceLROnPlateau(o, mode="avg"), ValueError),
        (lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError),
        (lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError),
        (lambda m, o: m.LambdaLR(o, [lambda e: 1.0]), ValueError),
        (lambda m, o: m.MultiplicativeLR(o, 0.9), TypeError),
        (lambda m, o: m.CyclicLR(o, 0.01, 0.1, mode="sine"), ValueError),
        (lambda m, o: m.CyclicLR(o, [0.01], 0.1), ValueError),
        (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0), ValueError),
        (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2.5), ValueError),
        (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=0), ValueError),
        (lambda m, o: m.SequentialLR(o, [], milestones=[]), ValueError),
        (lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2)], milestones=[3]), ValueError),
        (lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], milestones=[]),
         ValueError),
        (lambda m, o: m.ChainedScheduler([]), ValueError),
    ]
    theirs_opt = _theirs()
    for build, error in cases:
        with pytest.raises(error):
            build(torch.optim.lr_scheduler, theirs_opt)
        with pytest.raises(error):
            build(lr_scheduler, optimizer)
    adam_without_momentum = torch.optim.Adagrad([torch.nn.Parameter(torch.zeros(1))])
    with pytest.raises(ValueError, match="momentum or beta1"):
        torch.optim.lr_scheduler.CyclicLR(adam_without_momentum, 0.01, 0.1)
    from abdou_torch.optim import Adagrad
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.CyclicLR(Adagrad([Parameter(np.zeros(1, np.float32))]), 0.01, 0.1)


def test_sequential_refuses_schedulers_of_another_optimizer():
    a, b = _ours(), _ours()
    with pytest.raises(ValueError, match="same optimizer"):
        lr_scheduler.SequentialLR(a, [lr_scheduler.StepLR(a, 2), lr_scheduler.StepLR(b, 2)],
                                  milestones=[3])


def test_cyclic_momentum_follows_the_lr_inversely():
    optimizer = _ours(momentum=0.9)
    scheduler = lr_scheduler.CyclicLR(optimizer, base_lr=0.01, max_lr=0.1, step_size_up=4)
    for _ in range(4):
        optimizer.step()
        scheduler.step()
    group = optimizer.param_groups[0]
    assert math.isclose(group["lr"], 0.1) and math.isclose(group["momentum"], 0.8)
