"""Each optimizer against PyTorch: same MLP, same weights, same data, 200 steps; the
parameters must agree to float32 (1e-5) or float64 (1e-10) rounding."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import abdou_torch.optim as optim  # noqa: E402

TOL = {np.float32: 1e-5, np.float64: 1e-10}
STEPS = 200

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.02, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.02, momentum=0.8, dampening=0.3, weight_decay=1e-2)),
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=1e-3, maximize=True)),
    ("Adam", dict(lr=2e-3)),
    ("Adam", dict(lr=2e-3, weight_decay=1e-2)),
    ("Adam", dict(lr=2e-3, amsgrad=True)),
    ("Adam", dict(lr=1e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True,
                  maximize=True)),
    ("AdamW", dict(lr=2e-3)),
    ("AdamW", dict(lr=2e-3, weight_decay=0.1)),
    ("AdamW", dict(lr=2e-3, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=2e-3, betas=(0.8, 0.99), eps=1e-7, maximize=True)),
    ("RMSprop", dict(lr=5e-4)),
    ("RMSprop", dict(lr=5e-4, centered=True)),
    ("RMSprop", dict(lr=5e-4, momentum=0.9)),
    ("RMSprop", dict(lr=5e-4, alpha=0.98, momentum=0.5, centered=True, weight_decay=1e-2)),
    ("RMSprop", dict(lr=5e-4, eps=1e-4, maximize=True)),
    ("Adagrad", dict(lr=0.05)),
    ("Adagrad", dict(lr=0.05, lr_decay=1e-2, weight_decay=1e-2, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.02, eps=1e-6, maximize=True)),
    ("Adadelta", dict(lr=0.3)),  # at lr = 1 its late steps turn chaotic (see RAdam below)
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=1e-2, maximize=True)),
    ("Adamax", dict(lr=5e-3)),
    ("Adamax", dict(lr=5e-3, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2, maximize=True)),
    ("NAdam", dict(lr=5e-3)),
    ("NAdam", dict(lr=5e-3, weight_decay=1e-2, momentum_decay=1e-2)),
    ("NAdam", dict(lr=5e-3, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=5e-3)),
    ("RAdam", dict(lr=5e-3, weight_decay=1e-2)),
    # with β2 = 0.9 RAdam's late steps are chaotic: float64 rounding differences grow from
    # 1e-16 to 1e-7 in 200 steps, in both libraries; 0.98 keeps the comparison meaningful
    ("RAdam", dict(lr=5e-3, betas=(0.8, 0.98), weight_decay=0.1, decoupled_weight_decay=True,
                   maximize=True)),
    ("Adam", dict(lr=2e-3, weight_decay=0.1, decoupled_weight_decay=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.6, t0=50, weight_decay=1e-2)),
    ("ASGD", dict(lr=0.02, t0=0, maximize=True)),
    # Rprop moves by sign(g): where a gradient is near 0, the forward pass's float32
    # rounding flips signs and the runs part (identical bits given the same gradients:
    # test_asgd_rprop.py); small step-size bounds keep this comparison meaningful
    ("Rprop", dict(lr=1e-2, etas=(0.3, 1.5), step_sizes=(1e-4, 0.05), maximize=True)),
]


def _ids(case):
    name, options = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in options.items())


def _ours(name):
    return {"AdamW": optim.WAdam}.get(name, getattr(optim, name, None))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_matches_torch_after_many_steps(h, case, dtype):
    name, options = case
    ours, theirs = h.models(dtype=dtype)
    x, y = h.data(dtype=dtype)
    sign = -1.0 if options.get("maximize") else 1.0  # maximize(-loss) minimises the loss
    opt_ours = _ours(name)(ours.parameters(), **options)
    opt_theirs = getattr(torch.optim, name)(theirs.parameters(), **options)
    h.train_ours(ours, opt_ours, x, y, STEPS, sign)
    h.train_theirs(theirs, opt_theirs, x, y, STEPS, sign)
    h.assert_params_close(ours, theirs, TOL[dtype])
    loss_start = h.loss_theirs(h.models(dtype=dtype)[1], x, y).item()
    assert h.loss_ours(ours, x, y).item() < loss_start  # it trained


# one configuration per optimizer, for the tests of behaviour around the update
EACH = [
    ("SGD", dict(lr=0.02, momentum=0.9)),
    ("Adam", dict(lr=2e-3, amsgrad=True)),
    ("AdamW", dict(lr=2e-3)),
    ("RMSprop", dict(lr=5e-4, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.05, lr_decay=1e-3)),
    ("Adadelta", dict(lr=0.2)),
    ("Adamax", dict(lr=2e-3)),
    ("NAdam", dict(lr=2e-3)),  # at 3 x 5e-3 its late steps turn chaotic (see RAdam above)
    ("RAdam", dict(lr=2e-3)),
]
EACH_IDS = [name for name, _ in EACH]


@pytest.mark.parametrize("name, options", EACH, ids=EACH_IDS)
def test_param_groups_with_their_own_hyperparameters(h, name, options):
    ours, theirs = h.models()
    x, y = h.data()
    spec = {"layers.0": {"lr": options["lr"] * 3}, "layers.2.bias": {"lr": options["lr"] / 4,
                                                                    "weight_decay": 0.05}}
    opt_ours = _ours(name)(h.groups(ours, spec), **options)
    opt_theirs = getattr(torch.optim, name)(h.groups(theirs, spec), **options)
    assert [len(g["params"]) for g in opt_ours.param_groups] == [2, 1, 3]
    h.train_ours(ours, opt_ours, x, y, STEPS)
    h.train_theirs(theirs, opt_theirs, x, y, STEPS)
    h.assert_params_close(ours, theirs, 1e-5)


@pytest.mark.parametrize("name, options", EACH + [("SGD", dict(lr=0.02, momentum=0.9,
                                                                dampening=0.2))],
                         ids=EACH_IDS + ["SGD-dampening"])
def test_parameters_without_gradient_are_skipped_like_torch(h, name, options):
    """A frozen layer, and a bias whose gradient is missing every third step: its state
    and step count fall behind the others' (per-parameter bias correction)."""
    ours, theirs = h.models()
    x, y = h.data()

    def drop(step):
        return ["layers.0.weight"] + (["layers.1.bias"] if step % 3 == 1 else [])

    opt_ours = _ours(name)(ours.parameters(), **options)
    opt_theirs = getattr(torch.optim, name)(theirs.parameters(), **options)
    h.train_ours(ours, opt_ours, x, y, 60, drop=drop)
    h.train_theirs(theirs, opt_theirs, x, y, 60, drop=drop)
    h.assert_params_close(ours, theirs, 1e-5)
    first, twin = next(iter(ours.parameters())), next(iter(theirs.parameters()))
    assert list(opt_ours.state.get(first, {})) == list(opt_theirs.state.get(twin, {}))
    if name == "Adagrad":  # state made at construction, never advanced
        assert float(opt_ours.state[first]["step"]) == 0.0
    if "step" in opt_theirs.state[theirs.layers[1].bias]:
        assert float(opt_ours.state[ours.layers[1].bias]["step"]) == \
            float(opt_theirs.state[theirs.layers[1].bias]["step"]) == 40.0


@pytest.mark.parametrize("name, options", EACH, ids=EACH_IDS)
def test_state_dict_has_torch_structure_and_values(h, name, options):
    ours, theirs = h.models()
    x, y = h.data()
    opt_ours = _ours(name)(ours.parameters(), **options)
    opt_theirs = getattr(torch.optim, name)(theirs.parameters(), **options)
    h.train_ours(ours, opt_ours, x, y, 20)
    h.train_theirs(theirs, opt_theirs, x, y, 20)
    sd_ours, sd_theirs = opt_ours.state_dict(), opt_theirs.state_dict()
    assert sorted(sd_ours["state"]) == sorted(sd_theirs["state"]) == list(range(6))
    assert [g["params"] for g in sd_ours["param_groups"]] == \
        [g["params"] for g in sd_theirs["param_groups"]]
    assert sd_ours["param_groups"][0] == sd_theirs["param_groups"][0]
    for index, state in sd_theirs["state"].items():
        assert list(sd_ours["state"][index]) == list(state)
        for key, expected in state.items():
            got = sd_ours["state"][index][key]
            assert got.shape == tuple(expected.shape), key
            assert got.dtype == np.float32
            np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-4, atol=1e-7)


def test_loads_a_torch_state_dict_and_continues_like_torch(h):
    """A PyTorch Adam state dict (tensors converted to NumPy) resumes in abdou_torch."""
    ours, theirs = h.models()
    x, y = h.data()
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=1e-2, amsgrad=True)
    h.train_theirs(theirs, opt_theirs, x, y, 30)
    with torch.no_grad():
        for name, param in ours.named_parameters():
            param.data[...] = theirs.get_parameter(name).numpy()
    saved = opt_theirs.state_dict()
    converted = {"state": {i: {k: v.numpy().copy() for k, v in s.items()}
                           for i, s in saved["state"].items()},
                 "param_groups": [{k: v for k, v in g.items()
                                   if k in ("lr", "betas", "eps", "weight_decay", "amsgrad",
                                            "maximize", "params")}
                                  for g in saved["param_groups"]]}
    opt_ours = optim.Adam(ours.parameters(), lr=0.5)
    opt_ours.load_state_dict(converted)
    assert opt_ours.param_groups[0]["lr"] == 1e-2 and opt_ours.param_groups[0]["amsgrad"]
    h.train_ours(ours, opt_ours, x, y, 30)
    h.train_theirs(theirs, opt_theirs, x, y, 30)
    h.assert_params_close(ours, theirs, 1e-5)
