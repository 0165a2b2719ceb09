"""The fused sequence kernels against composites: a loop of the cell functions, and the
kernels' own forward run on Tensors and differentiated op by op by the engine (values,
gradients of every input, second derivatives); packed (frozen-row) semantics; checks."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.autograd.gradcheck import gradcheck, gradgradcheck
from abdou_torch.ops import rnn
from abdou_torch.ops.shape import stack

TIGHT = dict(rtol=1e-11, atol=1e-13)


def random_tensors(rng, *shapes, scale=0.5):
    return [at.Tensor(rng.standard_normal(s) * scale, requires_grad=True) for s in shapes]


def gradients(outputs, inputs, seed=0):
    """d(sum_k w_k * outputs_k)/d(inputs) for fixed random weights w."""
    rng = np.random.default_rng(seed)
    loss = sum((o * at.Tensor(rng.standard_normal(o.shape))).sum() for o in outputs)
    present = [x for x in inputs if x is not None]
    return at.autograd.grad(loss, present, allow_unused=True)


def assert_same(first, second):
    for a, b in zip(first, second):
        np.testing.assert_allclose(np.asarray(a.data), np.asarray(b.data), **TIGHT)


# -- against a loop of cells ----------------------------------------------------------------------

@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_kernel_equals_a_loop_of_lstm_cells(reverse):
    rng = np.random.default_rng(0)
    x, w_ih, w_hh, b, h0, c0 = random_tensors(rng, (5, 3, 2), (16, 2), (16, 4), (16,), (3, 4),
                                              (3, 4))
    gx = at.linear(x, w_ih, b)
    states, h_last, c_last = rnn.lstm_sequence(gx, h0, c0, w_hh, reverse=reverse)
    h, c, loop = h0, c0, [None] * 5
    for t in (reversed(range(5)) if reverse else range(5)):
        h, c = rnn.lstm_cell(x[t], (h, c), w_ih, w_hh, b)
        loop[t] = h
    loop = stack(loop)
    assert_same([states, h_last, c_last], [loop, h, c])
    inputs = [x, w_ih, w_hh, b, h0, c0]
    assert_same(gradients([states, c_last], inputs), gradients([loop, c], inputs))


def test_gru_kernel_equals_a_loop_of_gru_cells():
    rng = np.random.default_rng(1)
    x, w_ih, w_hh, b_ih, b_hh, h0 = random_tensors(rng, (6, 2, 3), (12, 3), (12, 4), (12,),
                                                   (12,), (2, 4))
    states, h_last = rnn.gru_sequence(at.linear(x, w_ih, b_ih), h0, w_hh, b_hh)
    h, loop = h0, []
    for t in range(6):
        h = rnn.gru_cell(x[t], h, w_ih, w_hh, b_ih, b_hh)
        loop.append(h)
    loop = stack(loop)
    assert_same([states, h_last], [loop, h])
    inputs = [x, w_ih, w_hh, b_ih, b_hh, h0]
    assert_same(gradients([states], inputs), gradients([loop], inputs))


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_kernel_equals_a_loop_of_rnn_cells(nonlinearity):
    rng = np.random.default_rng(2)
    x, w_ih, w_hh, b_ih, b_hh, h0 = random_tensors(rng, (6, 2, 3), (4, 3), (4, 4), (4,), (4,),
                                                   (2, 4))
    gx = at.linear(x, w_ih, b_ih + b_hh)
    states, h_last = rnn.rnn_sequence(gx, h0, w_hh, nonlinearity)
    cell = rnn.rnn_tanh_cell if nonlinearity == "tanh" else rnn.rnn_relu_cell
    h, loop = h0, []
    for t in range(6):
        h = cell(x[t], h, w_ih, w_hh, b_ih, b_hh)
        loop.append(h)
    loop = stack(loop)
    assert_same([states, h_last], [loop, h])
    inputs = [x, w_ih, w_hh, b_ih, b_hh, h0]
    assert_same(gradients([states], inputs), gradients([loop], inputs))


# -- against the same forward on Tensors (packed, projections) -------------------------------------

KERNELS = {
    "lstm": (rnn.LSTMSequence, 4, True),
    "lstm_proj": (rnn.LSTMSequence, 4, True),
    "gru": (rnn.GRUSequence, 3, False),
    "rnn_tanh": (rnn.RNNSequence, 1, False),
}


def kernel_inputs(name, rng, batch=4, hidden=3, length=5):
    projection = 2 if name == "lstm_proj" else hidden
    gates = KERNELS[name][1]
    shapes = [(length, batch, gates * hidden), (batch, projection)]
    if name.startswith("lstm"):
        shapes.append((batch, hidden))
    shapes.append((gates * hidden, projection))
    inputs = random_tensors(rng, *shapes)
    if name == "lstm":
        inputs.append(None)
    elif name == "lstm_proj":
        inputs += random_tensors(rng, (projection, hidden))
    elif name == "gru":
        inputs += random_tensors(rng, (gates * hidden,))
    return inputs


def options(name):
    return {"nonlinearity": "tanh"} if name == "rnn_tanh" else {}


@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("batch_sizes", [None, (4, 3, 3, 1, 1)])
@pytest.mark.parametrize("reverse", [False, True])
def test_kernel_matches_its_composite_forward(name, batch_sizes, reverse):
    """The primitive (hand-written backward through time) against the same forward
    written with Tensor ops and differentiated by the engine."""
    rng = np.random.default_rng(3)
    kernel = KERNELS[name][0]
    inputs = kernel_inputs(name, rng)
    settings = dict(batch_sizes=batch_sizes, reverse=reverse, **options(name))
    fused = kernel.apply(*inputs, **settings)
    saved = kernel._forward(rnn.TENSORS, *inputs, **settings)
    composite = kernel._output(rnn.TENSORS, saved)
    assert_same([fused], [composite])
    assert_same(gradients([fused], inputs), gradients([composite], inputs))


@pytest.mark.parametrize("name", list(KERNELS))
def test_kernel_second_derivatives(name):
    rng = np.random.default_rng(4)
    kernel = KERNELS[name][0]
    inputs = [x for x in kernel_inputs(name, rng, batch=2, hidden=2, length=3) if x is not None]
    with_none = name == "lstm"

    def call(*xs):
        xs = list(xs) + ([None] if with_none else [])
        return kernel.apply(*xs, batch_sizes=(2, 2, 1), reverse=False, **options(name))

    assert gradcheck(call, inputs)
    assert gradgradcheck(call, inputs)


def test_packed_rows_keep_their_state_after_their_last_step():
    """A row whose sequence has ended carries its last state to the end (forward) and
    starts from h0 at its own last step (reverse)."""
    rng = np.random.default_rng(5)
    gx, h0, w_hh = random_tensors(rng, (4, 3, 2), (3, 2), (2, 2))
    sizes = (3, 2, 1, 1)
    states, last = rnn.rnn_sequence(gx, h0, w_hh, batch_sizes=sizes)
    for row, length in enumerate((4, 2, 1)):
        alone, alone_last = rnn.rnn_sequence(gx[:length, row:row + 1], h0[row:row + 1], w_hh)
        np.testing.assert_allclose(states.data[:length, row], alone.data[:, 0], **TIGHT)
        np.testing.assert_allclose(last.data[row], alone_last.data[0], **TIGHT)
    backward, first = rnn.rnn_sequence(gx, h0, w_hh, batch_sizes=sizes, reverse=True)
    for row, length in enumerate((4, 2, 1)):
        alone, alone_first = rnn.rnn_sequence(gx[:length, row:row + 1], h0[row:row + 1], w_hh,
                                              reverse=True)
        np.testing.assert_allclose(backward.data[:length, row], alone.data[:, 0], **TIGHT)
        np.testing.assert_allclose(first.data[row], alone_first.data[0], **TIGHT)


def test_array_gates_are_accurate_at_the_extremes_without_warnings():
    """The tanh forms of the gate activations: within an ulp of 1/2 of the exact sigmoid,
    no overflow warnings for large |x|, and exact limits."""
    x = np.array([-1e4, -100.0, -20.0, -1.0, 0.0, 0.3, 20.0, 100.0, 1e4])
    exact = np.exp(-np.logaddexp(0, -x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = rnn.ARRAYS.sigmoid(x)
        gates = rnn.ARRAYS.lstm_activations(np.tile(x, (4, 1)).T.copy(), 1)
    np.testing.assert_allclose(y, exact, rtol=0, atol=2 ** -53)
    assert y[0] == 0.0 and y[-1] == 1.0
    np.testing.assert_allclose(gates[:, [0, 1, 3]], np.stack([exact] * 3, 1), rtol=0,
                               atol=2 ** -53)
    np.testing.assert_allclose(gates[:, 2], np.tanh(x), rtol=1e-16)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(rnn.ARRAYS.sigmoid(x32), exact, rtol=0, atol=2 ** -24)
    slopes = rnn.ARRAYS.lstm_slopes(gates, 1)
    np.testing.assert_allclose(slopes[:, 0], exact * (1 - exact), rtol=0, atol=2 ** -52)
    np.testing.assert_allclose(slopes[:, 2], 1 - np.tanh(x) ** 2, rtol=0, atol=2 ** -52)


def test_kernel_checks_its_inputs():
    rng = np.random.default_rng(6)
    gx, h0, c0, w_hh = random_tensors(rng, (4, 3, 8), (3, 2), (3, 2), (8, 2))
    with pytest.raises(at.ShapeError, match="initial state of shape \\(2, 2\\)"):
        rnn.lstm_sequence(gx, h0[:2], c0, w_hh)
    with pytest.raises(at.ShapeError, match="does not fit w_hh"):
        rnn.gru_sequence(gx, h0, w_hh)
    with pytest.raises(ValueError, match="batch_sizes"):
        rnn.lstm_sequence(gx, h0, c0, w_hh, batch_sizes=[3, 1, 2, 1])
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        rnn.rnn_sequence(gx[..., :2], h0, w_hh[:2], "sigmoid")
