"""Behaviour around the update, each optimizer against PyTorch: a param group added after some
steps, zero_grad(set_to_none=False), a learning rate given as a 0-d tensor (and a scheduler
changing it in place), named parameters, a parameter listed twice, and a PyTorch state dict
loaded to continue a run."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch.optim as optim  # noqa: E402
from abdou_torch import Tensor  # noqa: E402
from abdou_torch.nn import Parameter  # noqa: E402

EACH = [
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=2e-3, amsgrad=True)),
    ("AdamW", dict(lr=2e-3, weight_decay=0.1)),
    ("RMSprop", dict(lr=5e-4, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.05, lr_decay=1e-3, initial_accumulator_value=0.1)),
    ("Adadelta", dict(lr=0.5, weight_decay=1e-2)),
    ("Adamax", dict(lr=2e-3, weight_decay=1e-2)),
    ("NAdam", dict(lr=2e-3, weight_decay=1e-2)),
    ("RAdam", dict(lr=2e-3, weight_decay=1e-2, decoupled_weight_decay=True)),
]
IDS = [name for name, _ in EACH]


def _ours(name):
    return {"AdamW": optim.WAdam}.get(name, getattr(optim, name, None))


@pytest.mark.parametrize("name, options", EACH, ids=IDS)
def test_add_param_group_after_some_steps(h, name, options):
    """The last layer joins after 15 steps, with its own lr; it starts its own state."""
    ours, theirs = h.models()
    x, y = h.data()
    opt_ours = _ours(name)(list(ours.layers[0].parameters()) +
                           list(ours.layers[1].parameters()), **options)
    opt_theirs = getattr(torch.optim, name)(list(theirs.layers[0].parameters()) +
                                            list(theirs.layers[1].parameters()), **options)
    h.train_ours(ours, opt_ours, x, y, 15)
    h.train_theirs(theirs, opt_theirs, x, y, 15)
    lr = options["lr"] / 2
    opt_ours.add_param_group({"params": ours.layers[2].parameters(), "lr": lr})
    opt_theirs.add_param_group({"params": theirs.layers[2].parameters(), "lr": lr})
    assert {k: v for k, v in opt_ours.param_groups[1].items() if k != "params"} == \
        {k: v for k, v in opt_theirs.param_groups[1].items() if k != "params"}
    h.train_ours(ours, opt_ours, x, y, 25)
    h.train_theirs(theirs, opt_theirs, x, y, 25)
    h.assert_params_close(ours, theirs, 1e-5)
    late_ours, late_theirs = ours.layers[2].bias, theirs.layers[2].bias
    assert list(opt_ours.state[late_ours]) == list(opt_theirs.state[late_theirs])
    if "step" in opt_theirs.state[late_theirs]:
        assert float(opt_ours.state[late_ours]["step"]) == \
            float(opt_theirs.state[late_theirs]["step"]) == 25.0


@pytest.mark.parametrize("name, options", EACH, ids=IDS)
def test_zero_grad_to_zeros_keeps_updating_like_torch(h, name, options):
    """With set_to_none=False a frozen layer's gradient is zeros, not None: it still takes
    steps (momentum and weight decay keep moving it, step counts advance), as in PyTorch."""
    ours, theirs = h.models()
    x, y = h.data()
    opt_ours = _ours(name)(ours.parameters(), **options)
    opt_theirs = getattr(torch.optim, name)(theirs.parameters(), **options)
    for step in range(30):
        for model, optimizer, loss in ((ours, opt_ours, h.loss_ours),
                                       (theirs, opt_theirs, h.loss_theirs)):
            value = loss(model, x, y)
            optimizer.zero_grad(set_to_none=False)
            if step < 10:
                value.backward()  # then no backward: the gradients stay zero
            optimizer.step()
    h.assert_params_close(ours, theirs, 1e-5)
    assert all(p.grad is not None and not p.grad.data.any() for p in ours.parameters())
    first_ours, first_theirs = next(iter(ours.parameters())), next(iter(theirs.parameters()))
    if "step" in opt_theirs.state[first_theirs]:
        assert float(opt_ours.state[first_ours]["step"]) == 30.0


@pytest.mark.parametrize("name, options", EACH, ids=IDS)
def test_learning_rate_as_a_zero_dim_tensor(h, name, options):
    """PyTorch accepts lr=tensor(0.01) (with foreach off); a scheduler then fills the tensor
    in place instead of replacing it."""
    ours, theirs = h.models()
    x, y = h.data()
    lr = options["lr"]
    ours_lr, theirs_lr = Tensor(np.float32(lr)), torch.tensor(lr)
    opt_ours = _ours(name)(ours.parameters(), **dict(options, lr=ours_lr))
    opt_theirs = getattr(torch.optim, name)(theirs.parameters(), **dict(options, lr=theirs_lr))
    sched_ours = optim.lr_scheduler.ExponentialLR(opt_ours, gamma=0.95)
    sched_theirs = torch.optim.lr_scheduler.ExponentialLR(opt_theirs, gamma=0.95)
    h.train_ours(ours, opt_ours, x, y, 20, scheduler=sched_ours)
    h.train_theirs(theirs, opt_theirs, x, y, 20, scheduler=sched_theirs)
    h.assert_params_close(ours, theirs, 1e-5)
    assert opt_ours.param_groups[0]["lr"] is ours_lr
    assert float(ours_lr) == pytest.approx(float(theirs_lr), rel=1e-6)
    assert float(ours_lr) == pytest.approx(lr * 0.95 ** 20, rel=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad"])
def test_tensor_lr_must_hold_one_value(name):
    params = [Parameter(np.ones(3, np.float32))]
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        _ours(name)(params, lr=Tensor(np.array([0.1, 0.2], np.float32)))
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(3))],
                                   lr=torch.tensor([0.1, 0.2]))


def test_adam_refuses_a_tensor_lr_with_foreach_like_torch():
    for ours, theirs in ((optim.Adam, torch.optim.Adam), (optim.AdamW, torch.optim.AdamW)):
        message = "lr as a Tensor is not supported for capturable=False and foreach=True"
        with pytest.raises(ValueError, match=message):
            ours([Parameter(np.ones(3, np.float32))], lr=Tensor(np.float32(0.1)), foreach=True)
        with pytest.raises(ValueError, match=message):
            theirs([torch.nn.Parameter(torch.ones(3))], lr=torch.tensor(0.1), foreach=True)


def test_named_parameters_give_param_names_like_torch(h):
    ours, theirs = h.models()
    opt_ours = optim.Adam(ours.named_parameters(), lr=1e-3)
    opt_theirs = torch.optim.Adam(theirs.named_parameters(), lr=1e-3)
    assert opt_ours.param_groups[0]["param_names"] == \
        opt_theirs.param_groups[0]["param_names"] == [n for n, _ in theirs.named_parameters()]
    assert opt_ours.state_dict()["param_groups"] == opt_theirs.state_dict()["param_groups"]
    with pytest.raises(ValueError, match="with/without names"):
        opt_ours.add_param_group({"params": [Parameter(np.ones(2, np.float32))]})
    with pytest.raises(ValueError, match="with/without names"):
        opt_theirs.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))]})
    x, y = h.data()
    h.train_ours(ours, opt_ours, x, y, 10)
    h.train_theirs(theirs, opt_theirs, x, y, 10)
    h.assert_params_close(ours, theirs, 1e-5)


@pytest.mark.parametrize("name, options", EACH[:4], ids=IDS[:4])
def test_a_parameter_listed_twice_is_updated_twice_like_torch(name, options):
    """PyTorch warns and updates the parameter once per listing, with one state."""
    rng = np.random.default_rng(0)
    value = rng.standard_normal((3, 2)).astype(np.float32)
    ours, theirs = Parameter(value.copy()), torch.nn.Parameter(torch.tensor(value))
    other, other_twin = Parameter(value[0].copy()), torch.nn.Parameter(torch.tensor(value[0]))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt_ours = _ours(name)([ours, other, ours], **options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt_theirs = getattr(torch.optim, name)([theirs, other_twin, theirs], **options)
    for _ in range(10):
        grad = rng.standard_normal((3, 2)).astype(np.float32)
        ours.grad, theirs.grad = Tensor(grad.copy()), torch.tensor(grad)
        other.grad, other_twin.grad = Tensor(grad[1].copy()), torch.tensor(grad[1])
        opt_ours.step()
        opt_theirs.step()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(other.data, other_twin.detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name, options", EACH, ids=IDS)
def test_loads_a_torch_state_dict_and_continues_like_torch(h, name, options):
    """A PyTorch state dict (tensors converted to NumPy) resumes here, step for step."""
    ours, theirs = h.models()
    x, y = h.data()
    opt_theirs = getattr(torch.optim, name)(theirs.parameters(), **options)
    h.train_theirs(theirs, opt_theirs, x, y, 20)
    for param_name, param in ours.named_parameters():
        param.data[...] = theirs.get_parameter(param_name).detach().numpy()
    saved = opt_theirs.state_dict()
    converted = {"state": {i: {k: v.numpy().copy() if torch.is_tensor(v) else v
                               for k, v in s.items()} for i, s in saved["state"].items()},
                 "param_groups": saved["param_groups"]}
    opt_ours = _ours(name)(ours.parameters(), **dict(options, lr=0.5))
    opt_ours.load_state_dict(converted)
    assert opt_ours.param_groups[0]["lr"] == options["lr"]
    h.train_ours(ours, opt_ours, x, y, 20)
    h.train_theirs(theirs, opt_theirs, x, y, 20)
    h.assert_params_close(ours, theirs, 1e-5)
    resaved = opt_ours.state_dict()
    for index, state in opt_theirs.state_dict()["state"].items():
        assert list(resaved["state"][index]) == list(state)
        for key, expected in state.items():
            np.testing.assert_allclose(np.asarray(resaved["state"][index][key].data),
                                       expected.numpy(), rtol=1e-4, atol=1e-6, err_msg=key)
