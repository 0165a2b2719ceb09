"""Recurrent layers and cells against PyTorch: parameter names, shapes and initialisation;
outputs, final states and every gradient with PyTorch's weights loaded by name (float64
tight, float32 loose); unbatched and batch-first inputs, initial states, projections,
dropout between layers, packed sequences; and the errors PyTorch raises."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import abdou_torch as at
from abdou_torch import nn
from abdou_torch.autograd.gradcheck import gradcheck, gradgradcheck
from abdou_torch.nn.utils import rnn as rnn_utils

# PyTorch's note that projections skip its oneDNN kernel, not about the results
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}
LAYERS = {"RNN": (nn.RNN, torch.nn.RNN), "LSTM": (nn.LSTM, torch.nn.LSTM),
          "GRU": (nn.GRU, torch.nn.GRU)}

# what PyTorch raises for bad arguments (its C++ checks raise RuntimeError)
PYTORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, AssertionError)


def pair(mode, *args, dtype=np.float64, **kwargs):
    """The same layer in both libraries, PyTorch's weights loaded into ours by name."""
    ours_class, theirs_class = LAYERS[mode]
    theirs = theirs_class(*args, dtype=TORCH_DTYPE[dtype], **kwargs)
    ours = ours_class(*args, dtype=dtype, **kwargs)
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert not result.missing_keys and not result.unexpected_keys
    return ours, theirs


def tensors(array, requires_grad=True):
    return (at.Tensor(array.copy(), requires_grad=requires_grad),
            torch.tensor(array.copy(), requires_grad=requires_grad))


def flatten_outputs(output, hidden):
    """(output, h_n) or (output, (h_n, c_n)) as a list of tensors."""
    return [output] + (list(hidden) if isinstance(hidden, tuple) else [hidden])


def backward_both(ours_outputs, theirs_outputs, seed=0):
    """Backpropagate the same random weighting of every output in both libraries."""
    rng = np.random.default_rng(seed)
    ours_loss = theirs_loss = 0
    for mine, reference in zip(ours_outputs, theirs_outputs):
        weight = rng.standard_normal(tuple(reference.shape))
        ours_loss = ours_loss + (mine * at.Tensor(weight.astype(mine.dtype))).sum()
        theirs_loss = theirs_loss + (reference * torch.tensor(weight).to(reference.dtype)).sum()
    ours_loss.backward()
    theirs_loss.backward()


def assert_parameter_grads(ours, theirs, tol):
    reference = dict(theirs.named_parameters())
    for name, parameter in ours.named_parameters():
        np.testing.assert_allclose(parameter.grad.data, reference[name].grad.numpy(),
                                   err_msg=name, **tol)


def run_and_compare(ours, theirs, x, states=None, dtype=np.float64, packed=None, tol=None):
    tol = tol or TOL[dtype]
    x_ours, x_theirs = tensors(x.astype(dtype))
    state_pairs = [tensors(s.astype(dtype)) for s in states] if states is not None else None
    hx_ours = hx_theirs = None
    if state_pairs is not None:
        hx_ours = [p[0] for p in state_pairs]
        hx_theirs = [p[1] for p in state_pairs]
        if len(state_pairs) == 1:
            hx_ours, hx_theirs = hx_ours[0], hx_theirs[0]
        else:
            hx_ours, hx_theirs = tuple(hx_ours), tuple(hx_theirs)
    out_ours, hidden_ours = ours(x_ours, hx_ours)
    out_theirs, hidden_theirs = theirs(x_theirs, hx_theirs)
    ours_list = flatten_outputs(out_ours, hidden_ours)
    theirs_list = flatten_outputs(out_theirs, hidden_theirs)
    for mine, reference in zip(ours_list, theirs_list):
        assert tuple(mine.shape) == tuple(reference.shape)
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine.data, reference.detach().numpy(), **tol)
    backward_both(ours_list, theirs_list)
    np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), **tol)
    for mine, reference in state_pairs or []:
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), **tol)
    assert_parameter_grads(ours, theirs, tol)


# -- parameters -----------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_parameter_names_shapes_and_order_match_pytorch(mode):
    kwargs = dict(num_layers=2, bidirectional=True)
    if mode == "LSTM":
        kwargs["proj_size"] = 3
    ours, theirs = pair(mode, 4, 6, **kwargs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [[p.shape for p in layer] for layer in ours.all_weights] == \
        [[tuple(p.shape) for p in layer] for layer in theirs.all_weights]


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_bias_false_has_no_bias_parameters(mode):
    ours, theirs = pair(mode, 3, 5, bias=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight_ih_l0",
                                                                    "weight_hh_l0"]


def test_default_initialisation_is_uniform_within_one_over_sqrt_hidden():
    at.manual_seed(0)
    layer = nn.LSTM(30, 100, num_layers=2)
    bound = 1 / np.sqrt(100)
    values = np.concatenate([p.data.ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.99 * bound
    assert abs(values.mean()) < 0.01 * bound
    np.testing.assert_allclose(values.var(), bound ** 2 / 3, rtol=0.02)
    cell_values = np.concatenate([p.data.ravel() for p in nn.GRUCell(7, 16).parameters()])
    assert np.abs(cell_values).max() <= 0.25


def test_reprs_match_pytorch():
    for ours, theirs in [
            (nn.LSTM(4, 6, 2, batch_first=True, dropout=0.2, bidirectional=True, proj_size=3),
             torch.nn.LSTM(4, 6, 2, batch_first=True, dropout=0.2, bidirectional=True,
                           proj_size=3)),
            (nn.RNN(4, 6, nonlinearity="relu", bias=False),
             torch.nn.RNN(4, 6, nonlinearity="relu", bias=False)),
            (nn.GRUCell(4, 6), torch.nn.GRUCell(4, 6)),
            (nn.RNNCell(4, 6, nonlinearity="relu"), torch.nn.RNNCell(4, 6, nonlinearity="relu")),
            (nn.LSTMCell(3, 4, bias=False), torch.nn.LSTMCell(3, 4, bias=False))]:
        assert repr(ours) == repr(theirs)


# -- forward and backward against PyTorch ---------------------------------------------------------

CONFIGS = [
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("RNN", dict(bidirectional=True, bias=False)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=3, num_layers=2, bidirectional=True)),
    ("LSTM", dict(bias=False, batch_first=True)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=3, bidirectional=True)),
    ("GRU", dict(bias=False, batch_first=True)),
]


def _state_shapes(mode, kwargs, batch, hidden=5):
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    shapes = [(layers, batch, kwargs.get("proj_size") or hidden)]
    if mode == "LSTM":
        shapes.append((layers, batch, hidden))
    return shapes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode,kwargs", CONFIGS)
def test_layer_matches_pytorch(mode, kwargs, dtype):
    rng = np.random.default_rng(1)
    ours, theirs = pair(mode, 4, 5, dtype=dtype, **kwargs)
    shape = (3, 6, 4) if kwargs.get("batch_first") else (6, 3, 4)
    run_and_compare(ours, theirs, rng.standard_normal(shape), dtype=dtype)


@pytest.mark.parametrize("mode,kwargs", CONFIGS)
def test_layer_with_initial_states_matches_pytorch(mode, kwargs):
    rng = np.random.default_rng(2)
    ours, theirs = pair(mode, 4, 5, **kwargs)
    shape = (3, 6, 4) if kwargs.get("batch_first") else (6, 3, 4)
    states = [rng.standard_normal(s) for s in _state_shapes(mode, kwargs, 3)]
    run_and_compare(ours, theirs, rng.standard_normal(shape), states)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("with_states", [False, True])
def test_unbatched_input_matches_pytorch(mode, with_states):
    rng = np.random.default_rng(3)
    kwargs = dict(num_layers=2, bidirectional=True)
    ours, theirs = pair(mode, 4, 5, **kwargs)
    states = None
    if with_states:
        states = [rng.standard_normal((s[0], s[2])) for s in _state_shapes(mode, kwargs, 1)]
    run_and_compare(ours, theirs, rng.standard_normal((7, 4)), states)


def test_output_shapes_as_pytorch():
    lstm = nn.LSTM(4, 6, num_layers=3, bidirectional=True, proj_size=2, batch_first=True)
    output, (h_n, c_n) = lstm(at.randn(5, 7, 4))
    assert output.shape == (5, 7, 4) and h_n.shape == (6, 5, 2) and c_n.shape == (6, 5, 6)
    gru = nn.GRU(4, 6)
    output, h_n = gru(at.randn(7, 4))
    assert output.shape == (7, 6) and h_n.shape == (1, 6)


def test_long_sequence_lstm_gradients_match_pytorch():
    """Backpropagation through 60 steps of two layers matches PyTorch to float64 precision."""
    rng = np.random.default_rng(4)
    ours, theirs = pair("LSTM", 3, 8, num_layers=2)
    run_and_compare(ours, theirs, rng.standard_normal((60, 2, 3)))


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_of_the_benchmark_size_matches_pytorch(mode, dtype):
    """Hidden 256 and batch 32 as in benchmark (h): the recurrent products large enough for
    ops/step_product.py to time its candidates, here each layout in turn."""
    from abdou_torch.ops import step_product
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 32, 16))
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode]
    layouts = step_product._candidates(32, 256, gates * 256)
    assert len(layouts) == 3
    key = (32, 256, gates * 256, np.dtype(dtype).str)
    saved = step_product._plans.get(key)
    try:
        for layout in layouts:
            step_product._plans[key] = layout
            ours, theirs = pair(mode, 16, 256, num_layers=2, dtype=dtype)
            # float32 gradients of order 10 summed over 160 rows: absolute rounding ~1e-5
            tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else None
            run_and_compare(ours, theirs, x, dtype=dtype, tol=tol)
    finally:
        step_product._plans.pop(key)
        if saved is not None:
            step_product._plans[key] = saved


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_gradcheck_through_fifty_steps(mode):
    """Every input, initial state and weight against central differences, 50 steps back."""
    rng = np.random.default_rng(13)
    layer = LAYERS[mode][0](2, 2, dtype=np.float64)
    x = at.Tensor(rng.standard_normal((50, 1, 2)), requires_grad=True)
    h0 = at.Tensor(rng.standard_normal((1, 1, 2)) * 0.5, requires_grad=True)

    def run(x, h0, *weights):  # the weights are the layer's own parameters
        output, _ = layer(x, (h0, h0 * h0) if mode == "LSTM" else h0)
        return output

    assert gradcheck(run, (x, h0, *layer.parameters()))


@pytest.mark.parametrize("mode", ["RNN", "GRU"])
def test_changing_the_output_in_place_keeps_the_gradient_right(mode):
    """The output does not share memory with the states the backward reads (it did once:
    output.mul_(2) then changed the gradient)."""
    rng = np.random.default_rng(14)
    ours, theirs = pair(mode, 3, 4)
    ours_x, theirs_x = tensors(rng.standard_normal((5, 2, 3)))
    ours_out, _ = ours(ours_x)
    theirs_out, _ = theirs(theirs_x)
    ours_out.mul_(2)
    theirs_out.mul_(2)
    (ours_out * ours_out).sum().backward()
    (theirs_out * theirs_out).sum().backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), **TOL[np.float64])


def test_dropout_between_layers_only_in_training():
    rng = np.random.default_rng(5)
    x = at.Tensor(rng.standard_normal((6, 3, 4)).astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layer = nn.GRU(4, 5, num_layers=2, dropout=1.0)
    reference = nn.GRU(4, 5, num_layers=2)
    reference.load_state_dict(layer.state_dict())
    # p = 1 zeros the first layer's output: the second layer then sees only zeros
    zeros_in = at.zeros(6, 3, 5)
    out_train, h_train = layer(x)
    second = nn.GRU(5, 5)
    second.load_state_dict({k.replace("l1", "l0"): v for k, v in layer.state_dict().items()
                            if "l1" in k})
    expected, _ = second(zeros_in)
    np.testing.assert_allclose(out_train.data, expected.data, rtol=1e-6, atol=1e-7)
    layer.eval()
    out_eval, _ = layer(x)
    np.testing.assert_allclose(out_eval.data, reference(x)[0].data, rtol=1e-6, atol=1e-7)


def test_dropout_on_a_single_layer_warns_as_pytorch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(4, 5, dropout=0.5)


def test_loads_a_pytorch_state_dict_and_gives_the_same_output_in_float32():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(10, 20, num_layers=2)
    ours = nn.LSTM(10, 20, num_layers=2)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(6).standard_normal((12, 4, 10)).astype(np.float32)
    out_ours, (h_ours, c_ours) = ours(at.Tensor(x))
    out_theirs, (h_theirs, c_theirs) = theirs(torch.tensor(x))
    for mine, reference in ((out_ours, out_theirs), (h_ours, h_theirs), (c_ours, c_theirs)):
        np.testing.assert_allclose(mine.data, reference.detach().numpy(), rtol=1e-5, atol=1e-6)


# -- packed sequences -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode,kwargs", [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=2, bidirectional=True)),
    ("GRU", dict(num_layers=2, bidirectional=True)),
    ("RNN", dict(bidirectional=True, nonlinearity="relu")),
])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequence_input_matches_pytorch(mode, kwargs, enforce_sorted):
    rng = np.random.default_rng(7)
    ours, theirs = pair(mode, 3, 4, batch_first=True, **kwargs)
    lengths = [6, 4, 4, 1] if enforce_sorted else [4, 6, 1, 4]
    x = rng.standard_normal((4, 6, 3))
    x_ours, x_theirs = tensors(x)
    states = [tensors(rng.standard_normal(s))
              for s in _state_shapes(mode, kwargs, 4, hidden=4)]
    hx_ours = tuple(s[0] for s in states) if mode == "LSTM" else states[0][0]
    hx_theirs = tuple(s[1] for s in states) if mode == "LSTM" else states[0][1]
    packed_ours = rnn_utils.pack_padded_sequence(x_ours, lengths, batch_first=True,
                                                 enforce_sorted=enforce_sorted)
    packed_theirs = torch.nn.utils.rnn.pack_padded_sequence(x_theirs, lengths, batch_first=True,
                                                            enforce_sorted=enforce_sorted)
    out_ours, hidden_ours = ours(packed_ours, hx_ours)
    out_theirs, hidden_theirs = theirs(packed_theirs, hx_theirs)
    assert isinstance(out_ours, rnn_utils.PackedSequence)
    np.testing.assert_array_equal(out_ours.batch_sizes.data, out_theirs.batch_sizes.numpy())
    padded_ours, _ = rnn_utils.pad_packed_sequence(out_ours, batch_first=True)
    padded_theirs, _ = torch.nn.utils.rnn.pad_packed_sequence(out_theirs, batch_first=True)
    ours_list = [padded_ours] + flatten_outputs(out_ours.data, hidden_ours)[1:]
    theirs_list = [padded_theirs] + flatten_outputs(out_theirs.data, hidden_theirs)[1:]
    for mine, reference in zip(ours_list, theirs_list):
        np.testing.assert_allclose(mine.data, reference.detach().numpy(), **TOL[np.float64])
    backward_both(ours_list, theirs_list)
    np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), **TOL[np.float64])
    for mine, reference in states:
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), **TOL[np.float64])
    assert_parameter_grads(ours, theirs, TOL[np.float64])
    # the padding positions of the input get no gradient
    shortest = lengths.index(1)
    assert np.any(x_ours.grad.data[shortest, 0])
    assert not np.any(x_ours.grad.data[shortest, 1:])


# -- cells ----------------------------------------------------------------------------------------

CELLS = {"RNNCell": (nn.RNNCell, torch.nn.RNNCell), "LSTMCell": (nn.LSTMCell, torch.nn.LSTMCell),
         "GRUCell": (nn.GRUCell, torch.nn.GRUCell)}


def cell_pair(name, *args, dtype=np.float64, **kwargs):
    ours_class, theirs_class = CELLS[name]
    theirs = theirs_class(*args, dtype=TORCH_DTYPE[dtype], **kwargs)
    ours = ours_class(*args, dtype=dtype, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kwargs", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                                         ("LSTMCell", {}), ("LSTMCell", {"bias": False}),
                                         ("GRUCell", {}), ("GRUCell", {"bias": False})])
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_pytorch_over_several_steps(name, kwargs, batched, dtype):
    rng = np.random.default_rng(8)
    ours, theirs = cell_pair(name, 4, 5, dtype=dtype, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    shape = (3, 4) if batched else (4,)
    xs = [tensors(rng.standard_normal(shape).astype(dtype)) for _ in range(4)]
    state_shape = (3, 5) if batched else (5,)
    first = [tensors(rng.standard_normal(state_shape).astype(dtype))
             for _ in range(2 if name == "LSTMCell" else 1)]
    h_ours = tuple(s[0] for s in first) if name == "LSTMCell" else first[0][0]
    h_theirs = tuple(s[1] for s in first) if name == "LSTMCell" else first[0][1]
    outputs_ours, outputs_theirs = [], []
    for x_ours, x_theirs in xs:
        h_ours, h_theirs = ours(x_ours, h_ours), theirs(x_theirs, h_theirs)
        outputs_ours += list(h_ours) if name == "LSTMCell" else [h_ours]
        outputs_theirs += list(h_theirs) if name == "LSTMCell" else [h_theirs]
    for mine, reference in zip(outputs_ours, outputs_theirs):
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(mine.data, reference.detach().numpy(), **TOL[dtype])
    backward_both(outputs_ours, outputs_theirs)
    for mine, reference in xs + first:
        np.testing.assert_allclose(mine.grad.data, reference.grad.numpy(), **TOL[dtype])
    assert_parameter_grads(ours, theirs, TOL[dtype])


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_without_state_starts_from_zeros(name):
    ours, theirs = cell_pair(name, 4, 5)
    x = np.random.default_rng(9).standard_normal((2, 4))
    out_ours, out_theirs = ours(at.Tensor(x)), theirs(torch.tensor(x))
    for mine, reference in zip(out_ours if name == "LSTMCell" else [out_ours],
                               out_theirs if name == "LSTMCell" else [out_theirs]):
        np.testing.assert_allclose(mine.data, reference.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_second_derivatives(name):
    rng = np.random.default_rng(10)
    cell = CELLS[name][0](3, 2, dtype=np.float64)
    x = at.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = at.Tensor(rng.standard_normal((2, 2)), requires_grad=True)
    c = at.Tensor(rng.standard_normal((2, 2)), requires_grad=True)

    def step(x, h, c):
        if name == "LSTMCell":
            return cell(x, (h, c))
        return cell(x, h) * c  # c only to keep one signature

    assert gradcheck(step, (x, h, c))
    assert gradgradcheck(step, (x, h, c))


def test_layer_second_derivatives_through_the_sequence_kernel():
    rng = np.random.default_rng(11)
    layer = nn.LSTM(2, 3, bidirectional=True, dtype=np.float64)
    x = at.Tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
    h0 = at.Tensor(rng.standard_normal((2, 2, 3)), requires_grad=True)
    assert gradgradcheck(lambda x, h0: layer(x, (h0, h0 * 0.5))[0], (x, h0))


def test_gradient_penalty_through_a_gru_matches_pytorch():
    """create_graph through the fused kernel: d/dx of |dL/dx|^2 as in PyTorch."""
    rng = np.random.default_rng(12)
    ours, theirs = pair("GRU", 3, 4, num_layers=2)
    x_ours, x_theirs = tensors(rng.standard_normal((5, 2, 3)))
    grad_ours, = at.autograd.grad(ours(x_ours)[0].pow(2).sum(), x_ours, create_graph=True)
    grad_theirs, = torch.autograd.grad(theirs(x_theirs)[0].pow(2).sum(), x_theirs,
                                       create_graph=True)
    (grad_ours * grad_ours).sum().backward()
    (grad_theirs * grad_theirs).sum().backward()
    np.testing.assert_allclose(x_ours.grad.data, x_theirs.grad.numpy(), rtol=1e-9, atol=1e-11)
    assert_parameter_grads(ours, theirs, dict(rtol=1e-9, atol=1e-11))


# -- errors ---------------------------------------------------------------------------------------

def raises_like_pytorch(ours_call, theirs_call, ours_error, match):
    with pytest.raises(PYTORCH_ERRORS):
        theirs_call()
    with pytest.raises(ours_error, match=match):
        ours_call()


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_wrong_input_rank_is_a_clear_error(mode):
    ours, theirs = pair(mode, 4, 5, dtype=np.float32)
    raises_like_pytorch(lambda: ours(at.zeros(2, 3, 4, 4)), lambda: theirs(torch.zeros(2, 3, 4, 4)),
                        ValueError, "Expected input to be 2D or 3D, got 4D")
    raises_like_pytorch(lambda: ours(at.zeros(4)), lambda: theirs(torch.zeros(4)),
                        ValueError, "got 1D")


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_wrong_input_size_is_a_clear_error(mode):
    ours, theirs = pair(mode, 4, 5, dtype=np.float32)
    raises_like_pytorch(lambda: ours(at.zeros(3, 2, 6)), lambda: theirs(torch.zeros(3, 2, 6)),
                        RuntimeError, "input.size\\(-1\\) must be equal to input_size. "
                                      "Expected 4, got 6")


def test_hidden_state_of_the_wrong_shape_is_a_clear_error():
    ours, theirs = pair("GRU", 4, 5, num_layers=2, dtype=np.float32)
    x = np.zeros((3, 2, 4), np.float32)
    raises_like_pytorch(lambda: ours(at.Tensor(x), at.zeros(2, 3, 5)),
                        lambda: theirs(torch.tensor(x), torch.zeros(2, 3, 5)),
                        RuntimeError, r"Expected hidden size \(2, 2, 5\), got \[2, 3, 5\]")
    raises_like_pytorch(lambda: ours(at.Tensor(x), at.zeros(2, 5)),
                        lambda: theirs(torch.tensor(x), torch.zeros(2, 5)),
                        RuntimeError, "hx should also be 3-D but got 2-D")
    raises_like_pytorch(lambda: ours(at.zeros(3, 4), at.zeros(2, 1, 5)),
                        lambda: theirs(torch.zeros(3, 4), torch.zeros(2, 1, 5)),
                        RuntimeError, "hx should also be 2-D but got 3-D")
    lstm, lstm_theirs = pair("LSTM", 4, 5, dtype=np.float32)
    raises_like_pytorch(lambda: lstm(at.Tensor(x), (at.zeros(1, 2, 5), at.zeros(1, 3, 5))),
                        lambda: lstm_theirs(torch.tensor(x), (torch.zeros(1, 2, 5),
                                                              torch.zeros(1, 3, 5))),
                        RuntimeError, r"Expected hidden\[1\] size \(1, 2, 5\), got \[1, 3, 5\]")
    with pytest.raises(TypeError, match="tuple \\(h_0, c_0\\)"):
        lstm(at.Tensor(x), at.zeros(1, 2, 5))


def test_input_dtype_other_than_the_weights_is_a_clear_error():
    ours, theirs = pair("LSTM", 4, 5, dtype=np.float32)
    x = np.zeros((3, 2, 4))
    raises_like_pytorch(lambda: ours(at.Tensor(x)), lambda: theirs(torch.tensor(x)),
                        ValueError, "RNN input dtype \\(torch.float64\\) does not match weight "
                                    "dtype \\(torch.float32\\)")


def test_hidden_state_dtype_other_than_the_weights_is_a_clear_error():
    ours, theirs = pair("GRU", 3, 4, dtype=np.float32)
    raises_like_pytorch(lambda: ours(at.zeros(2, 1, 3), at.zeros(1, 1, 4).double()),
                        lambda: theirs(torch.zeros(2, 1, 3), torch.zeros(1, 1, 4).double()),
                        RuntimeError, "hidden state 0 is torch.float64; input, hidden state "
                                      "and weights must all be torch.float32")


def test_empty_sequence_is_a_clear_error():
    ours, theirs = pair("LSTM", 4, 5, dtype=np.float32)
    raises_like_pytorch(lambda: ours(at.zeros(0, 2, 4)), lambda: theirs(torch.zeros(0, 2, 4)),
                        RuntimeError, "sequence length to be larger than 0")


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(dropout=1.5), ValueError, "dropout should be a number in range"),
    (dict(proj_size=5), ValueError, "proj_size has to be smaller than hidden_size"),
    (dict(num_layers=0), ValueError, "num_layers must be greater than zero"),
    (dict(bias=1), TypeError, "bias should be of type bool"),
])
def test_bad_constructor_arguments_raise_as_pytorch(kwargs, error, match):
    with pytest.raises(error):
        torch.nn.LSTM(4, 5, **kwargs)
    with pytest.raises(error, match=match):
        nn.LSTM(4, 5, **kwargs)


def test_unknown_nonlinearity_and_projection_on_gru_raise():
    with pytest.raises(ValueError, match="Unknown nonlinearity 'gelu'"):
        nn.RNN(4, 5, nonlinearity="gelu")
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(4, 5, proj_size=2)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_errors_as_pytorch(name):
    ours, theirs = cell_pair(name, 4, 6, dtype=np.float32)
    two = name == "LSTMCell"

    def state(*shape):
        return ((at.zeros(*shape), at.zeros(*shape)) if two else at.zeros(*shape),
                (torch.zeros(*shape), torch.zeros(*shape)) if two else torch.zeros(*shape))

    raises_like_pytorch(lambda: ours(at.zeros(3, 3, 4)), lambda: theirs(torch.zeros(3, 3, 4)),
                        ValueError, "Expected input to be 1D or 2D, got 3D")
    raises_like_pytorch(lambda: ours(at.zeros(3, 5)), lambda: theirs(torch.zeros(3, 5)),
                        RuntimeError, "input has inconsistent input_size: got 5 expected 4")
    mine, reference = state(2, 6)
    raises_like_pytorch(lambda: ours(at.zeros(3, 4), mine), lambda: theirs(torch.zeros(3, 4),
                                                                           reference),
                        RuntimeError, "Input batch size 3 doesn't match hidden0 batch size 2")
    mine, reference = state(3, 7)
    raises_like_pytorch(lambda: ours(at.zeros(3, 4), mine), lambda: theirs(torch.zeros(3, 4),
                                                                           reference),
                        RuntimeError, "hidden0 has inconsistent hidden_size: got 7, expected 6")
