"""LBFGS against PyTorch's, step for step: on Rosenbrock's function (an ill-conditioned
valley) and on a small regression, with and without the strong-Wolfe line search; its state
dict, validation, and schedulers."""
from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch.optim as optim  # noqa: E402
from abdou_torch import Tensor, nn  # noqa: E402
from abdou_torch.nn import Parameter  # noqa: E402

START = np.array([-1.5, 2.0, 0.5, -0.7, 1.2])


def rosenbrock(x: np.ndarray) -> tuple[float, np.ndarray]:
    """f = Σ (1 − xᵢ)² + 100 (xᵢ₊₁ − xᵢ²)² and its gradient, in NumPy, so that both
    libraries see exactly the same values and only the optimizers differ."""
    a, b = x[:-1], x[1:]
    f = np.sum((1 - a) ** 2) + np.sum(100 * (b - a * a) ** 2)
    g = np.zeros_like(x)
    g[:-1] += -2 * (1 - a) - 400 * a * (b - a * a)
    g[1:] += 200 * (b - a * a)
    return float(f), g


def _rosenbrock_pair(dtype=np.float64, **options):
    ours = Parameter(START.astype(dtype))
    theirs = torch.nn.Parameter(torch.tensor(START.astype(dtype)))
    opt_ours = optim.LBFGS([ours], **options)
    opt_theirs = torch.optim.LBFGS([theirs], **options)

    def closure_ours():
        f, g = rosenbrock(ours.data)
        ours.grad = Tensor(g.astype(dtype))
        return Tensor(np.array(f, dtype))

    def closure_theirs():
        f, g = rosenbrock(theirs.detach().numpy())
        theirs.grad = torch.tensor(g.astype(dtype))
        return torch.tensor(f, dtype=theirs.dtype)

    return (ours, opt_ours, closure_ours), (theirs, opt_theirs, closure_theirs)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("options", [dict(), dict(lr=0.1, history_size=3),
                                     dict(max_iter=50, tolerance_change=1e-12)],
                         ids=["defaults", "short-history", "long"])
def test_rosenbrock_same_path_as_torch(line_search_fn, options):
    """Every branch is taken alike (the same numbers of iterations and of closure calls after
    every step) and the iterates agree. Along the valley, rounding differences of 1e-16 in
    the update grow (to about 1e-7 over 60 iterations, in both directions), so the iterates
    are compared at 1e-6 and the losses at 1e-6 (relative)."""
    (ours, opt_ours, closure_ours), (theirs, opt_theirs, closure_theirs) = \
        _rosenbrock_pair(line_search_fn=line_search_fn, **options)
    for _ in range(5):
        loss_ours = opt_ours.step(closure_ours)
        loss_theirs = opt_theirs.step(closure_theirs)
        assert float(loss_ours) == pytest.approx(float(loss_theirs), rel=1e-6)
        state, expected = opt_ours.state[ours], opt_theirs.state[theirs]
        assert (state["n_iter"], state["func_evals"]) == \
            (expected["n_iter"], expected["func_evals"])
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=0, atol=1e-6)
    assert rosenbrock(ours.data)[0] == pytest.approx(rosenbrock(theirs.detach().numpy())[0],
                                                     rel=1e-6)
    assert rosenbrock(ours.data)[0] < rosenbrock(START)[0] / 10  # it made progress


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_rosenbrock_single_iterations_agree_to_rounding(line_search_fn):
    """One iteration per step: each iterate within a few units of rounding of PyTorch's."""
    (ours, opt_ours, closure_ours), (theirs, opt_theirs, closure_theirs) = \
        _rosenbrock_pair(max_iter=1, line_search_fn=line_search_fn)
    for _ in range(12):
        opt_ours.step(closure_ours)
        opt_theirs.step(closure_theirs)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=0, atol=1e-14)
        np.testing.assert_allclose(opt_ours.state[ours]["d"].data,
                                   opt_theirs.state[theirs]["d"].numpy(), rtol=1e-12,
                                   atol=1e-14)


def _regression_pair(dtype, seed=0, **options):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((64, 5)).astype(dtype)
    y = (x @ rng.standard_normal((5, 2)) + 0.1 * rng.standard_normal((64, 2))).astype(dtype)
    weight = (rng.standard_normal((2, 5)) * 0.1).astype(dtype)
    ours = nn.Linear(5, 2)
    ours.weight.data, ours.bias.data = weight.copy(), np.zeros(2, dtype)
    theirs = torch.nn.Linear(5, 2).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(weight))
        theirs.bias.zero_()
    opt_ours = optim.LBFGS(ours.parameters(), **options)
    opt_theirs = torch.optim.LBFGS(theirs.parameters(), **options)

    def closure_ours():
        opt_ours.zero_grad()
        diff = ours(Tensor(x)) - Tensor(y)
        loss = (diff * diff).mean()
        loss.backward()
        return loss

    def closure_theirs():
        opt_theirs.zero_grad()
        diff = theirs(torch.tensor(x)) - torch.tensor(y)
        loss = (diff * diff).mean()
        loss.backward()
        return loss

    return (ours, opt_ours, closure_ours), (theirs, opt_theirs, closure_theirs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_regression_like_torch(dtype, line_search_fn):
    """float64: the same path (closure calls) and iterates to 1e-12. float32: once converged,
    the two libraries' losses differ in their last bits (their sums run in different orders),
    which sends the line search different ways among equally good points; the weights agree
    to 1e-4 and the losses to 1e-5."""
    exact = dtype == np.float64
    (ours, opt_ours, closure_ours), (theirs, opt_theirs, closure_theirs) = \
        _regression_pair(dtype, max_iter=4, history_size=5, line_search_fn=line_search_fn)
    first_loss = None
    for _ in range(6):
        loss_ours = float(opt_ours.step(closure_ours))
        loss_theirs = float(opt_theirs.step(closure_theirs).detach())
        first_loss = first_loss or loss_ours
        assert loss_ours == pytest.approx(loss_theirs, rel=1e-12 if exact else 1e-5)
        for key in ("weight", "bias"):
            np.testing.assert_allclose(getattr(ours, key).data,
                                       getattr(theirs, key).detach().numpy(), rtol=0,
                                       atol=1e-12 if exact else 1e-4)
        if exact:
            assert opt_ours.state[ours.weight]["func_evals"] == \
                opt_theirs.state[theirs.weight]["func_evals"]
    assert loss_ours < first_loss / 100


def test_state_has_torch_names_and_resumes_exactly():
    """The history lives in the first parameter's state under PyTorch's names; a state dict
    taken mid-run and loaded into a new optimizer continues exactly as the first one."""
    (ours, opt_ours, closure_ours), (theirs, opt_theirs, closure_theirs) = \
        _regression_pair(np.float64, max_iter=3, history_size=4)
    for _ in range(2):
        opt_ours.step(closure_ours)
        opt_theirs.step(closure_theirs)
    assert list(opt_ours.state[ours.weight]) == list(opt_theirs.state[theirs.weight])
    assert ours.bias not in opt_ours.state or not opt_ours.state[ours.bias]
    saved = opt_ours.state_dict()
    assert saved["param_groups"] == opt_theirs.state_dict()["param_groups"]
    values = {k: v.data.copy() for k, v in ours.state_dict().items()}
    for _ in range(2):
        opt_ours.step(closure_ours)
    straight = [p.data.copy() for p in ours.parameters()]

    for key, value in values.items():
        getattr(ours, key).data[...] = value
    resumed = optim.LBFGS(ours.parameters(), lr=0.5)
    resumed.load_state_dict(copy.deepcopy(saved))
    assert resumed.param_groups[0]["lr"] == 1

    for _ in range(2):
        resumed.step(closure_ours)  # the closure zeroes the same parameters' gradients
    for a, b in zip(straight, (p.data for p in ours.parameters())):
        np.testing.assert_array_equal(a, b)


def test_torch_state_dict_loads_and_continues_like_torch():
    (ours, opt_ours, closure_ours), (theirs, opt_theirs, closure_theirs) = \
        _regression_pair(np.float64, max_iter=3, history_size=4, line_search_fn="strong_wolfe")
    for _ in range(2):
        opt_theirs.step(closure_theirs)
    with torch.no_grad():
        ours.weight.data[...] = theirs.weight.numpy()
        ours.bias.data[...] = theirs.bias.numpy()

    def to_numpy(value):
        if torch.is_tensor(value):
            return value.numpy().copy()
        if isinstance(value, list):
            return [to_numpy(v) for v in value]
        return value

    saved = opt_theirs.state_dict()
    opt_ours.load_state_dict({"state": {i: {k: to_numpy(v) for k, v in s.items()}
                                        for i, s in saved["state"].items()},
                              "param_groups": saved["param_groups"]})
    for _ in range(2):
        opt_ours.step(closure_ours)
        opt_theirs.step(closure_theirs)
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), atol=1e-12)


def test_zero_gradient_returns_after_one_evaluation():
    param = Parameter(np.ones(3))
    optimizer = optim.LBFGS([param])
    calls = []

    def closure():
        calls.append(1)
        param.grad = Tensor(np.zeros(3))
        return Tensor(np.array(2.5))

    assert float(optimizer.step(closure)) == 2.5
    assert calls == [1] and optimizer.state[param]["func_evals"] == 1
    np.testing.assert_array_equal(param.data, np.ones(3))


def test_validation_and_errors_like_torch():
    param, twin = Parameter(np.ones(3)), torch.nn.Parameter(torch.ones(3))
    for cls, p in ((optim.LBFGS, param), (torch.optim.LBFGS, twin)):
        with pytest.raises(ValueError, match="Invalid learning rate: -1"):
            cls([p], lr=-1.0)
        with pytest.raises(ValueError, match="doesn't support per-parameter options"):
            cls([{"params": [p]}, {"params": [torch.nn.Parameter(torch.ones(1))
                                              if cls is torch.optim.LBFGS
                                              else Parameter(np.ones(1))]}])
        assert cls([p], max_iter=8).param_groups[0]["max_eval"] == 10
        with pytest.raises(TypeError):
            cls([p]).step()  # a closure is required
    optimizer = optim.LBFGS([param], line_search_fn="wolfe")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        optimizer.step(lambda: Tensor(np.array(1.0)))


def test_schedulers_drive_lbfgs_like_torch():
    (ours, opt_ours, closure_ours), (theirs, opt_theirs, closure_theirs) = \
        _regression_pair(np.float64, max_iter=2, history_size=3, lr=0.5)
    sched_ours = optim.lr_scheduler.StepLR(opt_ours, step_size=2, gamma=0.5)
    sched_theirs = torch.optim.lr_scheduler.StepLR(opt_theirs, step_size=2, gamma=0.5)
    for _ in range(6):
        opt_ours.step(closure_ours)
        opt_theirs.step(closure_theirs)
        sched_ours.step()
        sched_theirs.step()
        assert sched_ours.get_last_lr() == sched_theirs.get_last_lr()
    np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), atol=1e-12)
