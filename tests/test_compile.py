"""abdou_torch.compile: a compiled step gives eager's results bit for bit, step after step
(losses, parameters, buffers, optimizer state, random streams), recaptures when a guard
fails, and runs eagerly, with one warning, where it cannot replay."""
from __future__ import annotations

import io
import textwrap
import warnings

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch import nn
from abdou_torch.compile import CompiledFunction
from abdou_torch.models import CNN
from abdou_torch.models.char_lstm import CharLSTM, CharLSTMConfig
from abdou_torch.models.gpt import GPT, GPTConfig
from abdou_torch.nn import functional as F
from tests.compat.conftest import abdou_run


# ---------------------------------------------------------------------------------------------
# helpers: two identical setups, one run eagerly and one compiled
# ---------------------------------------------------------------------------------------------

def _state(model, optimizer=None, generator=None) -> list:
    """Everything a step may change, as (name, bytes) pairs to compare bit for bit."""
    marks = [(name, t.detach().numpy().tobytes()) for name, t in model.state_dict().items()]
    if optimizer is not None:
        for index, state in optimizer.state_dict()["state"].items():
            for key, value in state.items():
                raw = value.detach().numpy().tobytes() if isinstance(value, at.Tensor) \
                    else repr(value)
                marks.append((f"opt.{index}.{key}", raw))
    if generator is not None:
        marks.append(("generator", repr(generator.get_state())))
    return marks


def _run_twins(build, batches):
    """``build()`` -> (model, optimizer, step, generator); from the same seed twice: one copy
    run eagerly and then one compiled, on the same batches (one after the other, since both
    may draw from the default generator). Returns both runs' outputs and states."""
    outputs = {}
    states = []
    compiled = None
    for kind in ("eager", "compiled"):
        at.manual_seed(0)
        setup = build()
        step = setup[2] if kind == "eager" else at.compile(setup[2])
        compiled = step if kind == "compiled" else None
        outputs[kind] = [step(*batch).numpy().copy() for batch in batches]
        states.append(_state(*_pick(setup)))
    return outputs, states[0], states[1], compiled


def _pick(setup):
    model, optimizer, _, generator = setup
    return model, optimizer, generator


def _assert_bit_identical(outputs, eager_state, compiled_state):
    for step, (a, b) in enumerate(zip(outputs["eager"], outputs["compiled"])):
        assert a.tobytes() == b.tobytes(), f"step {step}: eager {a} compiled {b}"
    assert [n for n, _ in eager_state] == [n for n, _ in compiled_state]
    for (name, a), (_, b) in zip(eager_state, compiled_state):
        assert a == b, f"{name} differs after the steps"


def _replayed(compiled: CompiledFunction) -> bool:
    return bool(compiled._recent) and "def replay" in compiled.code


def _mlp_setup():
    model = at.MLP(20, [16, 16, 5])
    optimizer = at.WAdam(model.parameters(), lr=1e-2, weight_decay=1e-2)

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss
    return model, optimizer, step, None


def _mlp_batches(count=4, batch=8, seed=1, features=20, classes=5):
    rng = np.random.default_rng(seed)
    return [(at.tensor(rng.standard_normal((batch, features), dtype=np.float32)),
             at.tensor(rng.integers(0, classes, batch))) for _ in range(count)]


# ---------------------------------------------------------------------------------------------
# bit-identical training
# ---------------------------------------------------------------------------------------------

def test_mlp_with_wadam_is_bit_identical_step_after_step():
    outputs, eager, compiled_state, compiled = _run_twins(_mlp_setup, _mlp_batches(6))
    _assert_bit_identical(outputs, eager, compiled_state)
    assert _replayed(compiled)
    assert "matmul" in compiled.code and "wadam.step()" in compiled.code
    # relu's zeros (forward and backward) and the loss's seed gradient are the same at every
    # replay: filled once when the schedule is built, not at each replay
    lines = compiled.code.splitlines()
    fills = [i for i, line in enumerate(lines) if "np_copyto(" in line]
    assert "setitem" not in compiled.code and len(fills) == 1  # cross-entropy's add.at target
    target = lines[fills[0]].split("(")[1].split(",")[0]
    assert lines[fills[0] + 1].strip().startswith(f"add_at({target},")
    # the losses move: the optimizer really ran in the replays
    assert len({o.tobytes() for o in outputs["compiled"]}) == 6


def test_seed_recipe_mse_sum_mlp_is_bit_identical():
    def build():
        model = at.MLP(784, [64, 64, 64, 10])
        optimizer = at.WAdam(model.parameters(), lr=4e-4, weight_decay=1e-4)

        def step(x, y):
            loss = ((model(x) - y) ** 2).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss
        return model, optimizer, step, None
    rng = np.random.default_rng(3)
    batches = [(at.tensor(rng.random((64, 784), dtype=np.float32)),
                at.tensor(np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64)]))
               for _ in range(4)]
    outputs, eager, compiled_state, compiled = _run_twins(build, batches)
    _assert_bit_identical(outputs, eager, compiled_state)
    assert _replayed(compiled)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_mlp_is_bit_identical(momentum):
    def build():
        model = at.MLP(20, [16, 5])
        optimizer = at.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            return loss
        return model, optimizer, step, None
    outputs, eager, compiled_state, compiled = _run_twins(build, _mlp_batches(4))
    _assert_bit_identical(outputs, eager, compiled_state)
    assert _replayed(compiled)


def _cnn_setup(train: bool, optimizer: str = "sgd", channels=(4, 4, 8)):
    def build():
        model = CNN(channels=channels, hidden=16, dropout=0.3)  # masks: default generator
        model.train(train)
        if optimizer == "sgd":
            opt = at.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        else:
            opt = at.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)

        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return model, opt, step, at.default_generator
    return build


def _cnn_batches(count: int, batch: int = 6, seed: int = 4) -> list:
    rng = np.random.default_rng(seed)
    return [(at.tensor(rng.standard_normal((batch, 1, 28, 28), dtype=np.float32)),
             at.tensor(rng.integers(0, 10, batch))) for _ in range(count)]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_cnn_with_batch_norm_and_dropout_is_bit_identical(train):
    batches = _cnn_batches(3)
    outputs, eager, compiled_state, compiled = _run_twins(_cnn_setup(train), batches)
    _assert_bit_identical(outputs, eager, compiled_state)
    assert _replayed(compiled)
    names = [name for name, _ in eager]
    assert any("running_mean" in name for name in names)
    if train:  # the running statistics moved, and the dropout masks were drawn each step
        start = CNN(channels=(4, 4, 8), hidden=16).state_dict()
        moved = dict(compiled_state)
        assert moved["features.1.running_mean"] != start["features.1.running_mean"].numpy() \
            .tobytes()


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_winograd_cnn_with_adamw_is_bit_identical(train):
    """The default CNN's 32->32 convolution goes Winograd's way when its values are finite:
    the choice is one kernel of the schedule, made again at each replay."""
    build = _cnn_setup(train, "adamw", channels=(32, 32, 64))
    outputs, eager, compiled_state, compiled = _run_twins(build, _cnn_batches(4, batch=3))
    _assert_bit_identical(outputs, eager, compiled_state)
    assert _replayed(compiled)
    assert "_winograd_conv_or_direct" in compiled.code
    assert "_winograd_backward_or_direct" in compiled.code
    assert len({o.tobytes() for o in outputs["compiled"]}) == 4  # the steps moved


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_winograd_cnn_replays_a_batch_with_inf_and_nan_as_eager(train):
    """A later batch holding inf and NaN reaches the convolutions at a replay: they take the
    direct methods there as eager does (bit for bit), and Winograd again afterwards."""
    batches = _cnn_batches(4, batch=3, seed=5)
    dirty = batches[2][0].numpy().copy()
    dirty[0, 0, 3, 5], dirty[1, 0, 10, 10], dirty[2, 0, 20, 7] = np.inf, -np.inf, np.nan
    batches[2] = (at.tensor(dirty), batches[2][1])
    build = _cnn_setup(train, "adamw", channels=(32, 32, 64))
    outputs, eager, compiled_state, compiled = _run_twins(build, batches)
    _assert_bit_identical(outputs, eager, compiled_state)
    assert _replayed(compiled) and "_winograd_conv_or_direct" in compiled.code
    assert np.isfinite(outputs["compiled"][1]) and not np.isfinite(outputs["compiled"][2])


def test_convolution_chooses_its_method_again_at_each_replay():
    """A 32->32 3x3 convolution at 28x28 goes through Winograd when its input and weight are
    finite; an infinity there gives NaN in Winograd's transforms where the direct sum gives
    +-inf: replays of a batch with inf, and of an infinite weight, match eager bit for bit."""
    def make():
        at.manual_seed(0)
        conv = at.nn.Conv2d(32, 32, 3)

        def fn(x):
            y = conv(x)
            conv.zero_grad()
            (y * 0.5).sum().backward()
            return y.detach(), conv.weight.grad.clone(), x.grad.clone()
        return conv, fn
    (eager_conv, eager), (compiled_conv, compiled_fn) = make(), make()
    compiled = at.compile(compiled_fn, fullgraph=True)
    rng = np.random.default_rng(9)
    clean = rng.standard_normal((2, 32, 28, 28)).astype(np.float32)
    dirty = clean.copy()
    dirty[0, 3, 4, 5], dirty[1, 7, 0, 0] = np.inf, -np.inf
    results = []
    for step, values in enumerate((clean, dirty, clean, clean)):
        if step == 3:  # an infinite weight: the input gradient's safe method (col2im)
            for conv in (eager_conv, compiled_conv):
                conv.weight.data[1, 2, 0, 0] = np.inf
        expected = eager(at.tensor(values, requires_grad=True))
        got = compiled(at.tensor(values, requires_grad=True))
        for a, b in zip(expected, got):
            assert a.numpy().tobytes() == b.numpy().tobytes()
        results.append(got)
    assert _replayed(compiled) and "_winograd_conv_or_direct" in compiled.code
    assert "_winograd_backward_or_direct" in compiled.code
    # the direct sum: +-inf around the infinities, no NaN (Winograd's would hold NaN)
    y_dirty = results[1][0].numpy()
    assert np.isinf(y_dirty).any() and not np.isnan(y_dirty).any()
    assert np.isfinite(results[2][0].numpy()).all() and np.isfinite(results[2][1].numpy()).all()
    assert np.isinf(results[3][0].numpy()).any()


def test_dropout_masks_are_drawn_again_at_each_replay():
    at.manual_seed(0)
    dropout = nn.Dropout(0.5)
    layer = at.nn.Linear(8, 8)

    def forward(x):
        return dropout(layer(x)).sum().detach()  # the graph is not returned: replayable
    compiled = at.compile(forward)
    x = at.ones(4, 8)
    at.manual_seed(7)
    eager_values = [forward(x).item() for _ in range(4)]
    at.manual_seed(7)
    compiled_values = [compiled(x).item() for _ in range(4)]
    assert compiled_values == eager_values
    assert len(set(compiled_values)) > 1  # different masks: the draw is replayed
    assert _replayed(compiled)


@pytest.mark.parametrize("length, layers", [(7, 1), (24, 2)])
def test_lstm_is_bit_identical(length, layers):
    """Also past 16 time steps: the steps' empty slices once hid the state buffer holding
    them from the recorder, and the replay differed from eager."""
    def build():
        model = CharLSTM(CharLSTMConfig(vocab_size=11, block_size=length, n_embd=8,
                                        hidden_size=12, num_layers=layers))
        optimizer = at.optim.Adam(model.parameters(), lr=1e-2)

        def step(tokens, targets):
            logits = model(tokens)
            loss = F.cross_entropy(logits.reshape(-1, 11), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss
        return model, optimizer, step, None
    rng = np.random.default_rng(5)
    batches = []
    for _ in range(3):
        tokens = rng.integers(0, 11, (3, length))
        batches.append((at.tensor(tokens), at.tensor(np.roll(tokens, -1, axis=1))))
    outputs, eager, compiled_state, compiled = _run_twins(build, batches)
    _assert_bit_identical(outputs, eager, compiled_state)
    assert _replayed(compiled)


def _gpt_setup(dropout=0.0, clip=None):
    def build():
        model = GPT(GPTConfig(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=16,
                              dropout=dropout))
        optimizer = at.optim.AdamW(model.parameters(), lr=1e-2)

        def step(tokens, targets):
            logits = model(tokens)
            loss = F.cross_entropy(logits.reshape(-1, 13), targets.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            if clip is not None:
                at.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            return loss
        return model, optimizer, step, at.default_generator
    return build


@pytest.mark.parametrize("dropout, clip", [(0.0, None), (0.1, 0.5)])
def test_small_gpt_is_bit_identical(dropout, clip):
    rng = np.random.default_rng(6)
    batches = []
    for _ in range(3):  # strided views of one array, as a language model's batches are
        window = rng.integers(0, 13, (2, 9))
        batches.append((at.from_numpy(window[:, :-1]), at.from_numpy(window[:, 1:])))
    assert not batches[0][0].numpy().flags.c_contiguous
    outputs, eager, compiled_state, compiled = _run_twins(_gpt_setup(dropout, clip), batches)
    _assert_bit_identical(outputs, eager, compiled_state)
    assert _replayed(compiled)


def test_a_checkpoint_taken_from_a_compiled_run_resumes_bit_exact():
    batches = _mlp_batches(6)
    at.manual_seed(0)
    model, optimizer, step, _ = _mlp_setup()
    compiled = at.compile(step)
    for batch in batches[:3]:
        compiled(*batch)
    buffer = io.BytesIO()
    at.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    reference = [compiled(*batch).item() for batch in batches[3:]]
    reference_state = _state(model, optimizer)

    at.manual_seed(1)  # other initial weights: everything must come from the checkpoint
    resumed_model, resumed_optimizer, resumed_step, _ = _mlp_setup()
    buffer.seek(0)
    checkpoint = at.load(buffer)
    resumed_model.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    resumed = at.compile(resumed_step)
    assert [resumed(*batch).item() for batch in batches[3:]] == reference
    assert _state(resumed_model, resumed_optimizer) == reference_state


def test_a_scheduler_changing_the_learning_rate_is_honoured_at_replay():
    def build(with_scheduler_inside):
        model = at.MLP(20, [16, 5])
        optimizer = at.optim.SGD(model.parameters(), lr=0.5)
        scheduler = at.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)

        def step(x, y):
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if with_scheduler_inside:
                scheduler.step()
            return loss
        return model, optimizer, step, scheduler
    batches = _mlp_batches(5)
    for inside in (True, False):
        at.manual_seed(0)
        model_a, opt_a, step_a, sched_a = build(inside)
        at.manual_seed(0)
        model_b, opt_b, step_b, sched_b = build(inside)
        compiled = at.compile(step_b)
        for batch in batches:
            assert step_a(*batch).item() == compiled(*batch).item()
            if not inside:
                sched_a.step()
                sched_b.step()
        assert opt_b.param_groups[0]["lr"] == 0.5 * 0.5 ** 5
        assert _state(model_a, opt_a) == _state(model_b, opt_b)
        assert _replayed(compiled)


# ---------------------------------------------------------------------------------------------
# guards
# ---------------------------------------------------------------------------------------------

def test_a_new_batch_shape_recaptures_and_the_old_schedule_is_kept():
    at.manual_seed(0)
    model, _, _, _ = _mlp_setup()

    def forward(x):
        with at.no_grad():
            return model(x).sum()
    compiled = at.compile(forward)
    small, large = at.randn(3, 20), at.randn(9, 20)
    for x in (small, large, small, large):
        assert compiled(x).item() == forward(x).item()
    assert compiled._captures == 2
    assert sum(len(s) for s in compiled._schedules.values()) == 2


def test_a_new_dtype_recaptures():
    at.manual_seed(0)
    layer = at.nn.Linear(4, 3)

    def forward(x):
        with at.no_grad():
            return (layer(x) * 2).sum()
    compiled = at.compile(forward)
    x32 = at.randn(5, 4)
    compiled(x32)
    layer.double()  # parameters move to float64 arrays: the guard on their layout fails
    x64 = x32.double()
    assert compiled(x64).item() == forward(x64).item()
    assert compiled(x64).dtype == at.float64
    assert compiled._captures == 2


def test_switching_between_train_and_eval_recaptures():
    at.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 6), nn.BatchNorm1d(6), nn.Dropout(0.5))

    def forward(x):
        with at.no_grad():
            return model(x)
    compiled = at.compile(forward)
    x = at.randn(8, 6)
    at.manual_seed(3)
    train_eager = [forward(x).numpy().copy() for _ in range(2)]
    eager_stats = model[1].running_mean.numpy().copy()
    model.eval()
    eval_eager = forward(x).numpy().copy()

    at.manual_seed(0)
    model[0].reset_parameters()
    model[1].reset_running_stats()
    model.train()
    at.manual_seed(0)
    model_again = nn.Sequential(nn.Linear(6, 6), nn.BatchNorm1d(6), nn.Dropout(0.5))
    model.load_state_dict(model_again.state_dict())
    at.manual_seed(3)
    train_compiled = [compiled(x).numpy().copy() for _ in range(2)]
    np.testing.assert_array_equal(model[1].running_mean.numpy(), eager_stats)
    model.eval()
    eval_compiled = compiled(x).numpy()
    for a, b in zip(train_eager, train_compiled):
        assert a.tobytes() == b.tobytes()
    assert eval_eager.tobytes() == eval_compiled.tobytes()
    assert compiled._captures == 2
    model.train()
    compiled(x)
    assert compiled._captures == 2  # back to the training schedule: no third capture


def test_grad_mode_is_a_guard():
    layer = at.nn.Linear(3, 2)
    compiled = at.compile(lambda x: layer(x).detach())
    x = at.randn(4, 3)
    with at.no_grad():
        first = compiled(x)
    second = compiled(x)
    assert first.numpy().tobytes() == second.numpy().tobytes()
    assert compiled._captures == 2 and len(compiled._schedules) == 2


def test_a_global_python_number_the_step_reads_is_a_guard():
    compiled = at.compile(_scaled)
    x = at.ones(3)
    assert compiled(x).tolist() == [2.0, 2.0, 2.0]
    global _SCALE
    _SCALE = 5.0
    try:
        assert compiled(x).tolist() == [5.0, 5.0, 5.0]
    finally:
        _SCALE = 2.0


_SCALE = 2.0


def _scaled(x):
    return x * _SCALE


def test_past_the_cache_size_it_warns_once_and_runs_eagerly():
    compiled = at.compile(lambda x: x * 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for size in range(1, 13):
            assert compiled(at.ones(size)).tolist() == [2.0] * size
    assert sum("captured 8 times" in str(w.message) for w in caught) == 1
    quiet = at.compile(lambda x: x * 2, dynamic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for size in range(1, 13):
            assert quiet(at.ones(size)).tolist() == [2.0] * size


# ---------------------------------------------------------------------------------------------
# eager fallbacks: one warning that says why, eager's results
# ---------------------------------------------------------------------------------------------

def _fallback_twins(make_fn, calls, match):
    """The fallback warns once (saying ``match``) and gives eager's results on every call."""
    eager_fn, compiled_source = make_fn(), make_fn()
    compiled = at.compile(compiled_source)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for args in calls:
            expected = eager_fn(*args)
            got = compiled(*args)
            assert got.numpy().tobytes() == expected.numpy().tobytes()
    messages = [str(w.message) for w in caught if "abdou_torch.compile" in str(w.message)]
    assert len(messages) == 1, messages
    assert match in messages[0]
    assert not compiled._schedules
    return compiled


def test_item_branching_falls_back_to_eager():
    def make():
        layer = at.nn.Linear(3, 3)
        layer.weight.data[...] = np.eye(3, dtype=np.float32)
        layer.bias.data[...] = 0

        def fn(x):
            with at.no_grad():
                y = layer(x)
                return y * 2 if y.sum().item() > 0 else y * -1
        return fn
    calls = [(at.ones(2, 3),), (-at.ones(2, 3),), (at.ones(2, 3) * 3,)]
    _fallback_twins(make, calls, "decides what the step does next")


def test_numpy_random_inside_the_step_falls_back_to_eager():
    def make():
        np.random.seed(1)

        def fn(x):
            return x * at.tensor(np.random.rand(*x.shape).astype(np.float32))
        return fn
    eager, compiled_fn = make(), make()
    compiled = at.compile(compiled_fn)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np.random.seed(1)
        expected = [eager(at.ones(4)).tolist() for _ in range(3)]
        np.random.seed(1)
        got = [compiled(at.ones(4)).tolist() for _ in range(3)]
    assert got == expected
    messages = [str(w.message) for w in caught if "abdou_torch.compile" in str(w.message)]
    assert len(messages) == 1 and "numpy.random" in messages[0]


def test_a_tensor_hook_falls_back_to_eager():
    def make():
        weight = at.ones(3, requires_grad=True)
        weight.register_hook(lambda g: g * 10)

        def fn(x):
            weight.grad = None
            (weight * x).sum().backward()
            return weight.grad.clone()
        return fn
    compiled = _fallback_twins(make, [(at.arange(3.0),), (at.ones(3),)], "hook")
    assert compiled(at.ones(3)).tolist() == [10.0, 10.0, 10.0]


def test_a_forward_hook_falls_back_to_eager():
    def make():
        layer = at.nn.Linear(3, 3)
        layer.register_forward_hook(lambda module, inputs, output: output * 0 + 1)
        return lambda x: layer(x)
    _fallback_twins(make, [(at.ones(2, 3),), (at.zeros(2, 3),)], "hooks")


def test_a_backward_hook_falls_back_to_eager():
    def make():
        layer = at.nn.Linear(3, 3)
        layer.weight.data[...] = np.arange(9, dtype=np.float32).reshape(3, 3)
        layer.register_full_backward_hook(lambda module, gi, go: (gi[0] * 10,))

        def fn(x):
            x = x.clone().requires_grad_(True)
            layer(x).sum().backward()
            return x.grad.clone()
        return fn
    _fallback_twins(make, [(at.ones(2, 3),), (at.zeros(2, 3),)], "backward hooks")


def test_fullgraph_raises_where_the_step_would_run_eagerly():
    layer = at.nn.Linear(3, 3)

    def fn(x):
        with at.no_grad():
            y = layer(x)
            return y * 2 if y.sum().item() > 0 else y
    compiled = at.compile(fn, fullgraph=True)
    with pytest.raises(RuntimeError, match="fullgraph=True"):
        compiled(at.ones(3))


def test_a_step_that_raises_raises_as_eager():
    layer = at.nn.Linear(3, 2)
    compiled = at.compile(lambda x: layer(x))
    with pytest.raises(Exception) as eager_error:
        layer(at.ones(2, 4))
    with pytest.raises(type(eager_error.value)):
        compiled(at.ones(2, 4))


# ---------------------------------------------------------------------------------------------
# the API: modules, decorators, options; torch.compile through the compat runner
# ---------------------------------------------------------------------------------------------

def test_compiling_a_module_keeps_its_parameters_and_state_dict():
    at.manual_seed(0)
    model = at.MLP(5, [4, 3])
    compiled = at.compile(model)
    assert isinstance(compiled, nn.Module)
    assert compiled._orig_mod is model
    assert [id(p) for p in compiled.parameters()] == [id(p) for p in model.parameters()]
    x = at.randn(2, 5)
    with at.no_grad():
        for _ in range(3):
            assert compiled(x).numpy().tobytes() == model(x).numpy().tobytes()
    assert _replayed(compiled._compiled)
    # with a graph to return (backward outside), it runs eagerly, once warned, as eager
    with pytest.warns(UserWarning, match="graph is still needed"):
        out = compiled(x)
    out.sum().backward()
    assert model.layers[0].weight.grad is not None
    assert compiled.layers is model.layers
    assert set(compiled.state_dict()) == {f"_orig_mod.{k}" for k in model.state_dict()}


def test_decorator_forms_and_disable():
    @at.compile
    def double(x):
        return x * 2

    @at.compile(mode="reduce-overhead", fullgraph=True, dynamic=False)
    def triple(x):
        return x * 3
    for _ in range(2):
        assert double(at.ones(2)).tolist() == [2.0, 2.0]
        assert triple(at.ones(2)).tolist() == [3.0, 3.0]
    assert isinstance(double, CompiledFunction) and triple.fullgraph
    function = lambda x: x  # noqa: E731
    assert at.compile(function, disable=True) is function
    with pytest.raises(TypeError, match="function or a Module"):
        at.compile(3)


def test_torch_compile_through_the_compat_runner(tmp_path):
    """A PyTorch program's ``torch.compile(model, mode=..., fullgraph=..., dynamic=...)`` and
    ``@torch.compile(...)`` run under ``abdou-torch run`` as this library's compile, with
    the results of an eager twin."""
    source = textwrap.dedent('''
        import torch
        def build():
            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(),
                                        torch.nn.Linear(8, 2))
            return model, torch.optim.SGD(model.parameters(), lr=0.1)
        model, opt = build()
        twin, twin_opt = build()
        compiled_model = torch.compile(model, mode="max-autotune", fullgraph=False,
                                       dynamic=False)

        def train_step(net, optimizer, x, y):
            loss = torch.nn.functional.mse_loss(net(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss

        @torch.compile(mode="reduce-overhead", dynamic=True)
        def step(x, y):
            return train_step(compiled_model, opt, x, y)

        x, y = torch.ones(3, 4), torch.zeros(3, 2)
        print(type(compiled_model).__name__, type(step).__name__)
        ours = [step(x, y).item() for _ in range(4)]
        eager = [train_step(twin, twin_opt, x, y).item() for _ in range(4)]
        print(ours == eager, ours[0] > ours[-1], "def replay" in step.code)
    ''')
    path = tmp_path / "program.py"
    path.write_text(source)
    result = abdou_run([str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["OptimizedModule", "CompiledFunction", "True", "True",
                                     "True"]


# ---------------------------------------------------------------------------------------------
# abdou_torch.compiler: kernels whose branches are taken at each replay
# ---------------------------------------------------------------------------------------------

@at.compiler.kernel
def _doubled_if_positive(a):
    return a * 2 if a.sum() > 0 else a * -1


def test_a_kernel_keeps_its_branch_on_values_at_each_replay():
    seen = []

    def fn(x):
        seen.append(at.compiler.is_compiling())
        return at.tensor(_doubled_if_positive(x.data))
    compiled = at.compile(fn, fullgraph=True)  # no fallback: it would raise
    assert compiled(at.ones(3)).tolist() == [2.0, 2.0, 2.0]
    assert compiled(-at.ones(3)).tolist() == [1.0, 1.0, 1.0]  # the other branch, replayed
    assert compiled(at.full((3,), 4.0)).tolist() == [8.0, 8.0, 8.0]
    assert "_doubled_if_positive" in compiled.code
    assert seen[0] and not at.compiler.is_compiling()


def test_nan_and_inf_reaching_max_pool_and_relu_at_replay_give_eager_results():
    def make():
        at.manual_seed(0)
        conv = at.nn.Conv2d(1, 8, 3, padding=1)  # a (4, 8, 96, 96) output: over 1 MiB, so
        # relu's backward takes its pooled fast path, which checks dy for inf

        def fn(x):
            y = F.max_pool2d(F.relu(conv(x)), 2)
            conv.zero_grad()
            (y * y).sum().backward()
            return y.detach(), conv.weight.grad.clone()
        return fn
    eager, compiled = make(), at.compile(make(), fullgraph=True)
    rng = np.random.default_rng(8)
    clean = rng.standard_normal((4, 1, 96, 96)).astype(np.float32)
    dirty = clean.copy()
    dirty[0, 0, 3, 5], dirty[1, 0, 10, 10] = np.nan, np.inf
    dirty[2, 0, 40, 40] = -np.inf
    outputs = []
    for values in (clean, dirty, clean):
        expected, got = eager(at.tensor(values)), compiled(at.tensor(values))
        for a, b in zip(expected, got):
            assert a.numpy().tobytes() == b.numpy().tobytes()
        outputs.append(got)
    assert np.isnan(outputs[1][0].numpy()).any() and np.isfinite(outputs[2][1].numpy()).all()
    assert "_relu_backward_pooled" in compiled.code and "_nan_positions" in compiled.code


def test_fullgraph_takes_a_forward_whose_graph_is_returned_eagerly_as_pytorch_compiles_it():
    layer = at.nn.Linear(3, 2)
    compiled = at.compile(layer, fullgraph=True)
    x = at.ones(4, 3)
    with pytest.warns(UserWarning, match="graph is still needed"):
        out = compiled(x)
    out.sum().backward()
    assert out.numpy().tobytes() == layer(x).numpy().tobytes()
    assert layer.weight.grad is not None


def test_a_replay_that_fails_its_verification_leaves_eager_results(monkeypatch):
    """The capture replays the first call from the saved state and compares with eager's
    marks; a replay that differs (here: made to corrupt a weight) is not used: the step runs
    eagerly again from the saved state, with the warning, and stays eager."""
    from abdou_torch.compile import replay

    original = replay._Schedule.run

    def corrupting_run(self, leaves):
        result = original(self, leaves)
        for _tensor, array, _ in self.state_tensors[:1]:
            array.flat[0] += 1.0
        return result
    monkeypatch.setattr(replay._Schedule, "run", corrupting_run)
    batches = _mlp_batches(3)
    with pytest.warns(UserWarning, match="did not reproduce eager's results"):
        outputs, eager, compiled_state, compiled = _run_twins(_mlp_setup, batches)
    _assert_bit_identical(outputs, eager, compiled_state)
    assert not _replayed(compiled)


# ---------------------------------------------------------------------------------------------
# memory: the capture frees what eager frees; arguments are copied only when written
# ---------------------------------------------------------------------------------------------

def _temporaries_step(x):
    """Forty 1 MiB temporaries, each dead once the next is made (eager holds two or three
    at a time)."""
    y = x
    for _ in range(40):
        y = y * 1.5 - 0.25
    return y.sum()


def test_the_capture_lets_the_step_s_temporaries_die_as_eager_does():
    import tracemalloc
    x = at.tensor(np.linspace(-1, 1, 2**18, dtype=np.float32))  # 1 MiB
    step = at.compile(_temporaries_step)
    tracemalloc.start()
    try:
        first = step(x)  # the capture (a perturbed run, the real run, the verification)
        _, capture_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first.item() == _temporaries_step(x).item()
    assert _replayed(step)
    # eager's own peak is about 3 MiB; a recorder keeping every array would pass 40 MiB
    assert capture_peak < 10 * 2**20, f"capture peak {capture_peak / 2**20:.1f} MiB"


def test_memory_numpy_reuses_during_the_capture_is_recorded_as_new_arrays():
    """Small temporaries freed and made again at the same addresses: each is its own array
    of the schedule, so replays on new values give eager's results bit for bit."""
    def step(x):
        total = x.sum()
        for scale in range(1, 30):
            total = total + (x * float(scale)).exp().sum()  # dead at once: addresses reused
        return total
    rng = np.random.default_rng(3)
    inputs = [at.tensor(rng.standard_normal(64, dtype=np.float32)) for _ in range(4)]
    compiled = at.compile(step)
    for x in inputs:
        assert compiled(x).numpy().tobytes() == step(x).numpy().tobytes()
    assert _replayed(compiled)


def test_a_step_writing_its_argument_in_place_is_bit_identical():
    def step(x):
        with at.no_grad():
            x.mul_(1.5).add_(0.25)
        return x.sum()
    rng = np.random.default_rng(4)
    values = [rng.standard_normal(16, dtype=np.float32) for _ in range(3)]
    compiled = at.compile(step)
    for value in values:
        eager_x, compiled_x = at.tensor(value.copy()), at.tensor(value.copy())
        assert compiled(compiled_x).item() == step(eager_x).item()
        assert compiled_x.numpy().tobytes() == eager_x.numpy().tobytes()
    assert _replayed(compiled)


def test_a_parameter_passed_as_the_argument_is_restored_between_the_capture_s_runs():
    """The optimizer updates the very tensor given as the argument: its values, saved only
    when the recorded ``step()`` reaches it, must be put back before the real run."""
    def build():
        weight = at.nn.Parameter(at.tensor(np.linspace(-1, 1, 12, dtype=np.float32)))
        optimizer = at.WAdam([weight], lr=0.1, weight_decay=0.1)

        def step(w):
            loss = (w * w * w).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss
        return weight, optimizer, step
    weight, optimizer, step = build()
    eager = [step(weight).item() for _ in range(4)]
    weight_c, optimizer_c, step_c = build()
    compiled = at.compile(step_c)
    assert [compiled(weight_c).item() for _ in range(4)] == eager
    assert weight_c.numpy().tobytes() == weight.numpy().tobytes()
    assert _replayed(compiled)


def _peak_of(call) -> int:
    import tracemalloc
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_replay_frees_the_arrays_it_makes_after_their_last_use():
    """np.where makes a new array at each replay (no ``out=``): each goes when eager's
    would, not when the replay returns (ten 1 MiB arrays held to the end before)."""
    def step(x):
        total = x.sum()
        for index in range(10):
            total = total + at.where(x > 0.1 * index, x, -x).sum()
        return total
    x = at.tensor(np.linspace(-1, 1, 2**18, dtype=np.float32))
    compiled = at.compile(step)
    compiled(x)
    assert _replayed(compiled)
    eager_peak = _peak_of(lambda: step(x))
    replay_peak = _peak_of(lambda: compiled(x))
    assert compiled(x).item() == step(x).item()
    assert replay_peak <= eager_peak + 2**20, (replay_peak / 2**20, eager_peak / 2**20)


def test_a_library_cache_filled_during_the_capture_holds_plain_arrays(monkeypatch):
    """relu's block of zeros is made on first use, which here is inside the capture: it is
    NumPy's own array, not one of the recording (that would keep the recording alive and
    make the check's run and the real run differ)."""
    from abdou_torch.ops import elementwise
    from abdou_torch.compile.recorder import _Traced
    monkeypatch.setattr(elementwise, "_zero_blocks", {})
    x = at.tensor(np.linspace(-1, 1, 48, dtype=np.float32).reshape(6, 8))
    step = at.compile(lambda t: at.relu(t).sum())
    assert step(x).item() == at.relu(x).sum().item()
    assert _replayed(step)
    block = elementwise._zero_blocks[np.dtype(np.float32)]
    assert type(block) is np.ndarray and not isinstance(block, _Traced)
    assert block.size == 64  # grown to the next power of two of the 48 elements used


def test_work_the_library_does_untraced_during_a_capture_is_not_recorded(monkeypatch):
    """The LSTM's recurrent product times its layouts on first use (ops/step_product.py)
    and its gate constants are cached on first use (ops/rnn.py), here inside the capture:
    under ``compiler.untraced()`` none of it is recorded, so the perturbed run and the real
    run record the same step (no third run is captured)."""
    from abdou_torch.ops import rnn, step_product
    compile_module = __import__("sys").modules["abdou_torch.compile"]
    monkeypatch.setattr(step_product, "_plans", {})
    rnn._gate_rows.cache_clear()
    captures = []
    original = compile_module._capture
    monkeypatch.setattr(compile_module, "_capture",
                        lambda *args: captures.append(1) or original(*args))
    at.manual_seed(0)
    lstm = nn.LSTM(256, 1024 // 4, batch_first=True)  # a (32, 256) @ (256, 1024) product
    x = at.tensor(np.random.default_rng(0).standard_normal((32, 3, 256), dtype=np.float32))
    def forward(inputs):
        with at.no_grad():
            return lstm(inputs)[0].sum()
    step = at.compile(forward)
    assert step(x).item() == forward(x).item()
    assert _replayed(step) and len(captures) == 2
    assert step_product._plans  # the layouts were timed, inside the capture


def test_captures_leave_no_watch_on_the_arrays_that_outlive_them():
    """The recorder watches each array's death during a capture only: recapturing a step
    for thirty shapes leaves no watch behind on the parameters or anything else."""
    import gc
    import weakref

    def watches() -> int:
        gc.collect()
        return sum(isinstance(o, weakref.finalize) and o.alive for o in gc.get_objects())
    layer = nn.Linear(4, 3)
    optimizer = at.optim.SGD(layer.parameters(), lr=0.1)

    def step(x):
        loss = layer(x).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss
    compiled = at.compile(step, dynamic=True)
    before = watches()
    for rows in range(1, 31):
        compiled(at.tensor(np.ones((rows, 4), np.float32)))
    assert _replayed(compiled)
    assert watches() == before
