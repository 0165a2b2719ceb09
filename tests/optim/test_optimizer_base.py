"""The Optimizer base and its flat buffers: validation, zero_grad, closures, state dict round
trips (resume == uninterrupted), replaced parameter data, subnormal flushing."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import MLP, Tensor
from abdou_torch.nn import Parameter
from abdou_torch.optim import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, NAdam,
                               Optimizer, RAdam, RMSprop, WAdam)
from abdou_torch.optim._flat import flush_subnormals
from abdou_torch.optim.optimizer import FLUSH_EVERY

ALL = [(SGD, dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3)),
       (SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
       (Adam, dict(lr=1e-2, weight_decay=1e-2, amsgrad=True)),
       (WAdam, dict(lr=1e-2)),
       (RMSprop, dict(lr=1e-3, momentum=0.5, centered=True)),
       (Adagrad, dict(lr=0.05, lr_decay=1e-2, initial_accumulator_value=0.1)),
       (Adadelta, dict(lr=1.0, rho=0.8)),
       (Adamax, dict(lr=1e-2, weight_decay=1e-2)),
       (NAdam, dict(lr=1e-2, weight_decay=1e-2)),
       (RAdam, dict(lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True))]
IDS = ["sgd-damp", "sgd-nesterov", "adam-amsgrad", "wadam", "rmsprop-centered", "adagrad",
       "adadelta", "adamax", "nadam", "radam"]


def _model(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    model = MLP(5, [8, 8, 2], activation="tanh")
    for param in model.parameters():
        param.data = (rng.standard_normal(param.shape) * 0.4).astype(dtype)
    return model


def _data(seed=1, dtype=np.float32):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 5)).astype(dtype)
    return x, np.sin(x[:, :2]).astype(dtype)


def _train(model, optimizer, steps, x, y):
    for _ in range(steps):
        diff = model(Tensor(x)) - Tensor(y)
        loss = (diff * diff).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def _values(model):
    return [p.data.copy() for p in model.parameters()]


# -- validation ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs, message", [
    (SGD, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (SGD, dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    (SGD, dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    (SGD, dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (SGD, dict(nesterov=True, momentum=0.9, dampening=0.1),
     "Nesterov momentum requires a momentum and zero dampening"),
    (Adam, dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    (Adam, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (Adam, dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (Adam, dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (Adam, dict(weight_decay=-1e-2), "Invalid weight_decay value: -0.01"),
    (WAdam, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (WAdam, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (RMSprop, dict(lr=-0.01), "Invalid learning rate: -0.01"),
    (RMSprop, dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    (RMSprop, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (RMSprop, dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    (RMSprop, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
])
def test_invalid_hyperparameters_raise_value_error(cls, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        cls(_model().parameters(), **kwargs)


def test_invalid_value_in_a_param_group_is_reported():
    model = _model()
    with pytest.raises(ValueError, match="Invalid learning rate: -2"):
        Adam([{"params": model.layers[0].parameters()},
              {"params": model.layers[1].parameters(), "lr": -2}])


def test_params_must_be_tensors_in_one_group_each():
    model = _model()
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="got a Tensor"):
        SGD(model.layers[0].weight, lr=0.1)
    with pytest.raises(TypeError, match="can only optimize Tensors"):
        SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [model.layers[0].weight]}, {"params": [model.layers[0].weight]}],
            lr=0.1)
    with pytest.raises(TypeError, match="ordered"):
        SGD(set(model.parameters()), lr=0.1)


def test_defaults_are_pytorchs():
    params = list(_model().parameters())
    assert SGD(params).defaults["lr"] == 1e-3
    wadam = WAdam(params).defaults
    assert (wadam["lr"], wadam["betas"], wadam["eps"], wadam["weight_decay"]) == \
        (1e-3, (0.9, 0.999), 1e-8, 1e-2)
    assert Adam(params).defaults["weight_decay"] == 0
    rms = RMSprop(params).defaults
    assert (rms["lr"], rms["alpha"], rms["eps"], rms["momentum"], rms["centered"]) == \
        (1e-2, 0.99, 1e-8, 0, False)
    assert AdamW is WAdam and at.AdamW is WAdam and at.WAdam is WAdam


# -- basics ----------------------------------------------------------------------------------
def test_zero_grad_sets_to_none_or_zero():
    model = _model()
    x, y = _data()
    optimizer = SGD(model.parameters(), lr=0.1)
    ((model(Tensor(x)) - Tensor(y)) ** 2).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in model.parameters())
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_step_without_gradients_changes_nothing():
    model = _model()
    before = _values(model)
    optimizer = Adam(model.parameters(), lr=0.1)
    optimizer.step()
    assert all(np.array_equal(a, p.data) for a, p in zip(before, model.parameters()))
    assert optimizer.state_dict()["state"] == {}


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    model = _model()
    x, y = _data()
    optimizer = SGD(model.parameters(), lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = ((model(Tensor(x)) - Tensor(y)) ** 2).mean()
        loss.backward()
        return loss

    with at.no_grad():
        first = optimizer.step(closure)
    assert isinstance(first, Tensor)
    assert optimizer.step(closure).item() < first.item()


def test_parameters_stay_where_they_are_and_state_is_flat():
    """Building and stepping an optimizer never rebinds ``param.data``; the state of a group
    lives in one flat array per name, each parameter's entry a view of it."""
    model = _model()
    x, y = _data()
    params = list(model.parameters())
    arrays = [p.data for p in params]
    optimizer = Adam(model.parameters(), lr=1e-2)
    assert all(p.data is a for p, a in zip(params, arrays))
    _train(model, optimizer, 3, x, y)
    assert all(p.data is a for p, a in zip(params, arrays))
    exp_avgs = [optimizer.state[p]["exp_avg"].data for p in params]
    assert all(m.shape == p.shape for m, p in zip(exp_avgs, params))
    assert exp_avgs[0].base is not None and all(m.base is exp_avgs[0].base for m in exp_avgs)
    assert optimizer.state[params[0]]["step"].data.dtype == np.float32
    assert float(optimizer.state[params[0]]["step"]) == 3.0


def test_updates_bump_the_parameter_version():
    model = _model()
    x, y = _data()
    optimizer = SGD(model.parameters(), lr=0.1)
    out = (model(Tensor(x)) ** 2).sum()
    optimizer.zero_grad()
    out.backward()
    optimizer.step()
    stale = (model(Tensor(x)) ** 2).sum()
    optimizer.step()  # changes the weights `stale` saved for backward
    with pytest.raises(RuntimeError, match="version"):
        stale.backward()


# -- state dicts -----------------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", ALL, ids=IDS)
def test_resume_from_state_dict_equals_uninterrupted_training(cls, kwargs):
    x, y = _data()
    straight = _model()
    optimizer = cls(straight.parameters(), **kwargs)
    _train(straight, optimizer, 40, x, y)

    first = _model()
    optimizer = cls(first.parameters(), **kwargs)
    _train(first, optimizer, 15, x, y)
    saved_model = {k: v.data.copy() for k, v in first.state_dict().items()}
    saved = optimizer.state_dict()
    _train(first, optimizer, 5, x, y)  # must not leak into `saved`

    resumed = _model(seed=7)
    resumed.load_state_dict(saved_model)
    optimizer = cls(resumed.parameters(), **dict(kwargs, lr=123.0))
    optimizer.load_state_dict(copy.deepcopy(saved))
    assert optimizer.param_groups[0]["lr"] == kwargs["lr"]
    _train(resumed, optimizer, 25, x, y)
    for a, b in zip(_values(straight), _values(resumed)):
        np.testing.assert_array_equal(a, b)


def test_state_dict_values_are_copies_with_parameter_shapes():
    model = _model()
    x, y = _data()
    optimizer = RMSprop(model.parameters(), lr=1e-3, momentum=0.9, centered=True)
    _train(model, optimizer, 4, x, y)
    saved = optimizer.state_dict()
    assert sorted(saved["state"]) == list(range(6))
    assert saved["param_groups"][0]["params"] == list(range(6))
    for index, param in enumerate(model.parameters()):
        state = saved["state"][index]
        assert list(state) == ["step", "square_avg", "momentum_buffer", "grad_avg"]
        for name in ("square_avg", "momentum_buffer", "grad_avg"):
            assert state[name].shape == param.shape
            assert not np.shares_memory(state[name].data, optimizer.state[param][name].data)


def test_load_state_dict_copies_into_the_flat_buffers():
    model = _model()
    x, y = _data()
    optimizer = Adam(model.parameters(), lr=1e-2)
    _train(model, optimizer, 3, x, y)
    saved = optimizer.state_dict()
    optimizer.load_state_dict(saved)
    _train(model, optimizer, 1, x, y)
    params = list(model.parameters())
    views = [optimizer.state[p]["exp_avg_sq"].data for p in params]
    assert all(v.base is views[0].base for v in views)
    assert not any(np.shares_memory(v, saved["state"][i]["exp_avg_sq"].data)
                   for i, v in enumerate(views))


@pytest.mark.parametrize("mutate, message", [
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])),
     "different number of parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].pop(), "doesn't match the size"),
    (lambda sd: sd["state"].__setitem__(17, {}), "parameter 17"),
    (lambda sd: sd["state"][0].__setitem__("exp_avg", Tensor(np.zeros((3, 3)))), "shape"),
    (lambda sd: sd["state"][1].__setitem__("step", Tensor(np.zeros(3))), "step"),
    (lambda sd: sd["param_groups"][0].__setitem__("lr", -1.0), "Invalid learning rate"),
    (lambda sd: sd.pop("param_groups"), "param_groups"),
])
def test_bad_state_dict_is_refused_before_any_change(mutate, message):
    model = _model()
    x, y = _data()
    optimizer = Adam(model.parameters(), lr=1e-2)
    _train(model, optimizer, 2, x, y)
    before = optimizer.state_dict()
    bad = optimizer.state_dict()
    mutate(bad)
    with pytest.raises(ValueError, match=message):
        optimizer.load_state_dict(bad)
    after = optimizer.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for index, state in before["state"].items():
        for name, value in state.items():
            np.testing.assert_array_equal(after["state"][index][name].data, value.data)


# -- replaced data, dtype changes ------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs", ALL, ids=IDS)
def test_replacing_param_data_is_detected(cls, kwargs):
    x, y = _data()
    straight = _model()
    optimizer = cls(straight.parameters(), **kwargs)
    _train(straight, optimizer, 10, x, y)

    model = _model()
    optimizer = cls(model.parameters(), **kwargs)
    _train(model, optimizer, 4, x, y)
    for param in model.parameters():
        param.data = param.data.copy()  # same values, new arrays
    replaced = [p.data for p in model.parameters()]
    _train(model, optimizer, 6, x, y)
    for a, b in zip(_values(straight), _values(model)):
        np.testing.assert_array_equal(a, b)
    # the new arrays are the ones updated (and kept)
    assert all(p.data is r for p, r in zip(model.parameters(), replaced))


def test_model_to_float64_mid_training_continues_in_float64():
    x, y = _data()
    reference = _model()
    optimizer = WAdam(reference.parameters(), lr=1e-2)
    _train(reference, optimizer, 20, x, y)

    model = _model()
    optimizer = WAdam(model.parameters(), lr=1e-2)
    _train(model, optimizer, 10, x, y)
    model.to(np.float64)
    _train(model, optimizer, 10, x.astype(np.float64), y.astype(np.float64))
    for param in model.parameters():
        assert param.data.dtype == np.float64
        for name in ("exp_avg", "exp_avg_sq"):
            assert optimizer.state[param][name].data.dtype == np.float64
    for a, b in zip(_values(reference), _values(model)):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_mixed_dtypes_in_one_group():
    a = Parameter(np.ones(3, np.float32))
    b = Parameter(np.ones(2, np.float64))
    optimizer = Adam([a, b], lr=0.1)
    for _ in range(3):
        a.grad = Tensor(np.array([1, -1, 0], np.float32))
        b.grad = Tensor(np.array([2, -2], np.float64))
        optimizer.step()
    assert a.data.dtype == np.float32 and b.data.dtype == np.float64
    np.testing.assert_allclose(a.data, [0.7, 1.3, 1.0], rtol=1e-6)
    np.testing.assert_allclose(b.data, [0.7, 1.3], rtol=1e-8)  # eps: 1.5e-9


def test_float32_stays_float32():
    model = _model()
    x, y = _data()
    optimizer = Adam(model.parameters(), lr=1e-2, amsgrad=True)
    _train(model, optimizer, 2, x, y)
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    assert all(t.data.dtype == np.float32 for s in optimizer.state.values() for t in s.values())


# -- subnormals ------------------------------------------------------------------------------
def test_state_is_flushed_of_subnormals_and_matches_torch():
    """Column 1's gradient is so small that (1 − β2) g² is subnormal; column 2's gradient
    stops, so its exp_avg decays through the subnormal range. PyTorch keeps those values,
    we flush them to zero every FLUSH_EVERY steps, and the parameters still agree."""
    torch = pytest.importorskip("torch")
    tiny = np.finfo(np.float32).tiny
    weight = Parameter(np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
    twin = torch.nn.Parameter(torch.tensor(weight.data))
    ours = Adam([weight], lr=1e-2, betas=(0.5, 0.9))
    theirs = torch.optim.Adam([twin], lr=1e-2, betas=(0.5, 0.9))
    torch_had_subnormals = False
    for step in range(200):
        g = np.zeros((3, 4), np.float32)
        g[:, 0] = [1e-3, -2e-3, 5e-4]
        g[:, 1] = 1e-19
        g[:, 2] = 1e-3 if step < 5 else 0.0
        weight.grad, twin.grad = Tensor(g.copy()), torch.tensor(g)
        ours.step()
        theirs.step()
        for name in ("exp_avg", "exp_avg_sq"):
            state = np.abs(ours.state[weight][name].data)
            if (step + 1) % FLUSH_EVERY == 0:  # the steps that flush
                assert not np.any((state > 0) & (state < tiny)), (step, name)
            theirs_state = theirs.state[twin][name].abs().numpy()
            torch_had_subnormals |= bool(np.any((theirs_state > 0) & (theirs_state < tiny)))
    assert torch_had_subnormals
    np.testing.assert_allclose(weight.data, twin.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_flush_keeps_normal_values_nan_and_inf():
    tiny = np.finfo(np.float32).tiny
    values = np.array([1.0, -2.5, tiny, -tiny, tiny / 4, -tiny / 8, 0.0, np.nan, np.inf,
                       -np.inf], dtype=np.float32)
    flushed = values.copy()
    flush_subnormals(flushed, np.empty_like(values), np.empty(values.shape, bool))
    expected = values.copy()
    expected[4:6] = 0.0
    np.testing.assert_array_equal(flushed, expected)


def test_sgd_momentum_buffer_is_flushed():
    param = Parameter(np.ones(4, np.float32))
    optimizer = SGD([param], lr=0.1, momentum=0.5)
    param.grad = Tensor(np.full(4, 1e-30, np.float32))
    optimizer.step()
    param.grad = Tensor(np.zeros(4, np.float32))
    for _ in range(2 * FLUSH_EVERY - 1):  # 1e-30 · 0.5^k is subnormal from k = 27 on
        optimizer.step()
    buffer = optimizer.state[param]["momentum_buffer"].data
    assert np.all(buffer == 0)


def test_optimizer_is_abstract_base():
    model = _model()
    assert isinstance(SGD(model.parameters()), Optimizer)
    assert "Parameter Group 0" in repr(Adam(model.parameters()))
