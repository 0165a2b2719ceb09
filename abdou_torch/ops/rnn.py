"""Recurrent kernels: one cell step as a composite, and a whole sequence as one primitive.

The cell functions (``rnn_tanh_cell``, ``rnn_relu_cell``, ``lstm_cell``, ``gru_cell``, as
``torch.lstm_cell`` ...) are composites of elementwise ops and ``linear``; ``nn.RNNCell``,
``nn.LSTMCell`` and ``nn.GRUCell`` call them.

A recurrent *layer* instead calls one of the sequence kernels (``rnn_sequence``,
``lstm_sequence``, ``gru_sequence``), each a single graph node for the whole sequence. The
input projection ``gx = x W_ih^T + b`` of every step is one matrix product done by the
caller; the kernel runs the recurrence on ``gx``. Each kernel states its forward and its
backward-through-time once, as functions of an array namespace ``xp``:

- ``xp = ARRAYS`` (NumPy): the forward of the primitive, and its backward on the training
  walk: one matrix product per step and a few elementwise passes, and the weight gradient
  of all steps in one product at the end;
- ``xp = TENSORS`` (abdou_torch's own differentiable ops): under ``create_graph`` the
  backward recomputes the forward from the node's inputs with Tensor ops and runs the same
  backward formula on Tensors, so that the gradient is itself differentiable (second
  derivatives, gradient penalties). The same forward on Tensors, differentiated by the
  engine op by op, is the composite the tests hold the kernel against.

On the training walk each kernel runs a named fast path instead (``_forward_fast``,
``_backward_fast``, beside its formulas): the ``ARRAYS`` arithmetic written in place into
buffers that hold all steps (no per-step arrays, lists or concatenations), which the tests
hold equal to the formulas. The forward's recurrent product h W_hh^T, T per sequence, goes
through ``step_product.StepProduct``; the backward's da W_hh is one plain product a step
(in column blocks it measured no faster inside the loop, and the blocks cost a copy).

Packed sequences: ``batch_sizes[t]`` (non-increasing) says how many sequences are still
running at step ``t``; those are the first rows. Rows past it keep their state unchanged
(they are "frozen"), so that after the last step every row holds the state of its own last
step, in either direction, and the frozen rows' inputs get a zero gradient.
"""
from __future__ import annotations

import functools
from typing import Any, Sequence

import numpy as np

from ..autograd.function import Primitive
from ..compiler import untraced
from ..errors import ShapeError
from ..tensor import Tensor
from . import elementwise, shape
from .linalg import linear
from .step_product import StepProduct
from .workspace import workspace

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell", "rnn_sequence",
           "lstm_sequence", "gru_sequence", "RNNSequence", "LSTMSequence", "GRUSequence"]


# -- the two namespaces the recurrences are written against ------------------------------------
# The engine's namespace (autograd/namespace.py) serves single-step formulas; a recurrence
# needs a few more functions (gate activations, step buffers), so the kernels pick one of
# these two by ``xp.arrays``.

def _array_sigmoid(x: np.ndarray) -> np.ndarray:
    """sigmoid(x) = (1 + tanh(x / 2)) / 2: four passes over one fresh array and no overflow
    (1 / (1 + exp(-x)) overflows exp for x < -88 in float32). The absolute error stays
    within an ulp of 1/2; values below ~1e-17 (float64) round to 0."""
    y = np.multiply(x, 0.5)
    np.tanh(y, out=y)
    y *= 0.5
    y += 0.5
    return y


@functools.lru_cache(maxsize=32)
def _gate_rows(hidden: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Per-column scale and shift of the LSTM gates [i, f, g, o]: sigmoid(a) =
    tanh(a / 2) / 2 + 1/2 for i, f, o; tanh(a) itself for g."""
    with untraced():  # cached beyond the step: not arrays of a compile recording
        scale = np.full(4 * hidden, 0.5, dtype=dtype)
        scale[2 * hidden:3 * hidden] = 1
        shift = np.full(4 * hidden, 0.5, dtype=dtype)
        shift[2 * hidden:3 * hidden] = 0
    scale.flags.writeable = shift.flags.writeable = False  # shared between calls
    return scale, shift


class _ArrayMath:
    """The functions the recurrent formulas use, on NumPy arrays."""

    sigmoid = staticmethod(_array_sigmoid)
    tanh = staticmethod(np.tanh)

    @staticmethod
    def relu(x):
        return np.maximum(x, 0)

    @staticmethod
    def positive(x):
        """1 where x > 0, else 0, in x's dtype (relu's derivative, a constant)."""
        return (x > 0).astype(x.dtype)

    @staticmethod
    def lstm_activations(a, hidden: int):
        """[sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)] with one tanh pass."""
        scale, shift = _gate_rows(hidden, a.dtype)
        y = np.multiply(a, scale)
        np.tanh(y, out=y)
        y *= scale
        y += shift
        return y

    @staticmethod
    def lstm_slopes(act, hidden: int):
        """The activations' derivatives from their values: s (1 - s) for the sigmoids,
        1 - g^2 for tanh."""
        slope = np.subtract(1, act)
        slope *= act
        g = act[:, 2 * hidden:3 * hidden]
        np.multiply(g, g, out=slope[:, 2 * hidden:3 * hidden])
        np.subtract(1, slope[:, 2 * hidden:3 * hidden], out=slope[:, 2 * hidden:3 * hidden])
        return slope

    @staticmethod
    def cat(parts: Sequence, dim: int = -1):
        return np.concatenate(parts, axis=dim)

    @staticmethod
    def zeros(shape_: tuple, like):
        return np.zeros(shape_, dtype=like.dtype)

    @staticmethod
    def steps(length: int, row_shape: tuple, like):
        """Room for one value per time step: a (length, *row_shape) array from the
        workspace (reused memory: a fresh array of this size costs page faults)."""
        return workspace.empty((length,) + tuple(row_shape), like.dtype)

    @staticmethod
    def store(steps, t: int, rows, batch: int) -> None:
        """steps[t] = rows, padded with zero rows up to ``batch``."""
        n = rows.shape[0]
        steps[t, :n] = rows
        if n < batch:
            steps[t, n:] = 0

    @staticmethod
    def stacked(steps):
        return steps

    @staticmethod
    def output_of(states):
        """The kernel's output made from the states its backward reads: a copy, so that an
        in-place change to the output (``output.mul_(2)``) cannot change the gradient."""
        return states.copy()


class _TensorMath:
    """The same functions on abdou_torch Tensors (recorded, so differentiable)."""

    sigmoid = staticmethod(elementwise.sigmoid)
    tanh = staticmethod(elementwise.tanh)
    relu = staticmethod(elementwise.relu)

    @staticmethod
    def positive(x):
        return Tensor._wrap((x.data > 0).astype(x.dtype), False)

    @staticmethod
    def lstm_activations(a, hidden: int):
        return shape.cat([elementwise.sigmoid(a[:, :2 * hidden]),
                          elementwise.tanh(a[:, 2 * hidden:3 * hidden]),
                          elementwise.sigmoid(a[:, 3 * hidden:])], -1)

    @staticmethod
    def lstm_slopes(act, hidden: int):
        g = act[:, 2 * hidden:3 * hidden]
        sigmoid_slope = act * (1 - act)
        return shape.cat([sigmoid_slope[:, :2 * hidden], 1 - g * g,
                          sigmoid_slope[:, 3 * hidden:]], -1)

    @staticmethod
    def cat(parts: Sequence, dim: int = -1):
        return shape.cat(list(parts), dim)

    @staticmethod
    def zeros(shape_: tuple, like):
        return Tensor._wrap(np.zeros(shape_, dtype=like.dtype), False)

    @staticmethod
    def steps(length: int, row_shape: tuple, like):
        return [None] * length

    @staticmethod
    def store(steps, t: int, rows, batch: int) -> None:
        steps[t] = _pad_rows(TENSORS, rows, batch)

    @staticmethod
    def stacked(steps):
        return shape.stack(steps)

    @staticmethod
    def output_of(states):
        return states  # a Tensor of the graph: an in-place change is seen by autograd


ARRAYS, TENSORS = _ArrayMath(), _TensorMath()


# -- cells (composites) -------------------------------------------------------------------------

def rnn_tanh_cell(input: Any, hx: Any, w_ih: Any, w_hh: Any, b_ih: Any = None,  # noqa: A002
                  b_hh: Any = None) -> Tensor:
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)"""
    return elementwise.tanh(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


def rnn_relu_cell(input: Any, hx: Any, w_ih: Any, w_hh: Any, b_ih: Any = None,  # noqa: A002
                  b_hh: Any = None) -> Tensor:
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)"""
    return elementwise.relu(linear(input, w_ih, b_ih) + linear(hx, w_hh, b_hh))


def lstm_cell(input: Any, hx: Sequence[Any], w_ih: Any, w_hh: Any, b_ih: Any = None,  # noqa: A002
              b_hh: Any = None) -> tuple[Tensor, Tensor]:
    """One LSTM step; the gates in PyTorch's order i, f, g, o along W's rows:

    [a_i, a_f, a_g, a_o] = x W_ih^T + b_ih + h W_hh^T + b_hh
    i = sigmoid(a_i), f = sigmoid(a_f), g = tanh(a_g), o = sigmoid(a_o)
    c' = f c + i g,  h' = o tanh(c')
    """
    h, c = hx
    gates = linear(input, w_ih, b_ih) + linear(h, w_hh, b_hh)
    i, f, g, o = shape.chunk(gates, 4, -1)
    c_next = elementwise.sigmoid(f) * c + elementwise.sigmoid(i) * elementwise.tanh(g)
    return elementwise.sigmoid(o) * elementwise.tanh(c_next), c_next


def gru_cell(input: Any, hx: Any, w_ih: Any, w_hh: Any, b_ih: Any = None,  # noqa: A002
             b_hh: Any = None) -> Tensor:
    """One GRU step; the gates in PyTorch's order r, z, n along W's rows:

    r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)
    z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)
    n = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn))
    h' = (1 - z) n + z h
    """
    x_r, x_z, x_n = shape.chunk(linear(input, w_ih, b_ih), 3, -1)
    h_r, h_z, h_n = shape.chunk(linear(hx, w_hh, b_hh), 3, -1)
    r = elementwise.sigmoid(x_r + h_r)
    z = elementwise.sigmoid(x_z + h_z)
    n = elementwise.tanh(x_n + r * h_n)
    return n + z * (hx - n)


# -- shared pieces of the sequence kernels ---------------------------------------------------------

def _steps(length: int, reverse: bool) -> range:
    return range(length - 1, -1, -1) if reverse else range(length)


def _active(batch_sizes: Sequence[int] | None, t: int, batch: int) -> int:
    return batch if batch_sizes is None else batch_sizes[t]


def _merge(xp, active, previous, n: int, batch: int):
    """The new state: ``active`` for the first n rows, ``previous`` (frozen) after them."""
    return active if n == batch else xp.cat([active, previous[n:]], 0)


def _pad_rows(xp, x, batch: int):
    """``x`` with zero rows appended up to ``batch`` rows (the frozen rows' gradients)."""
    n = x.shape[0]
    return x if n == batch else xp.cat([x, xp.zeros((batch - n,) + x.shape[1:], x)], 0)


def _weight_grad(d_pre, inputs):
    """sum over steps and rows of d_pre^T inputs: one product for the whole sequence."""
    return d_pre.reshape(-1, d_pre.shape[-1]).T @ inputs.reshape(-1, inputs.shape[-1])


def _recurrent_weight_grad(d_pre, states, h0, reverse: bool):
    """sum_t d_pre_t^T h_{t-1}, the state before each step being the previous step's
    output (``states`` shifted by one) or h0 for the first step processed."""
    if reverse:  # step t follows step t + 1
        shifted, first = (d_pre[:-1], states[1:]), d_pre[-1]
    else:
        shifted, first = (d_pre[1:], states[:-1]), d_pre[0]
    grad = first.T @ h0
    return grad if d_pre.shape[0] == 1 else grad + _weight_grad(*shifted)


def _check_sequence(name: str, gx: Any, h0: Any, w_hh: Any, gates: int,
                    batch_sizes: Sequence[int] | None) -> None:
    if gx.ndim != 3 or gx.shape[0] == 0:
        raise ShapeError(f"{name}: expected gx of shape (seq_len >= 1, batch, {gates} * "
                         f"hidden), got {tuple(gx.shape)}")
    hidden = w_hh.shape[0] // gates
    if w_hh.ndim != 2 or gx.shape[2] != gates * hidden or w_hh.shape[0] != gates * hidden:
        raise ShapeError(f"{name}: gx of shape {tuple(gx.shape)} does not fit w_hh of shape "
                         f"{tuple(w_hh.shape)} ({gates} gates)")
    if tuple(h0.shape) != (gx.shape[1], w_hh.shape[1]):
        raise ShapeError(f"{name}: initial state of shape {tuple(h0.shape)}, expected "
                         f"{(gx.shape[1], w_hh.shape[1])}")
    if batch_sizes is not None:
        sizes = list(batch_sizes)
        if len(sizes) != gx.shape[0] or sizes[0] != gx.shape[1] or any(
                later > earlier for earlier, later in zip(sizes, sizes[1:])) or sizes[-1] < 1:
            raise ValueError(f"{name}: batch_sizes {sizes} must be non-increasing, at least 1, "
                             f"one per step, starting at the batch size {gx.shape[1]}")


def _same_float_dtype(*arrays) -> bool:
    """Whether the arrays share one floating dtype (the fast paths write into buffers of
    that dtype; mixed inputs take the formula, which promotes as NumPy does)."""
    return arrays[0].dtype.kind == "f" and all(a.dtype == arrays[0].dtype for a in arrays)


def _sigmoid_in_place(x: np.ndarray) -> np.ndarray:
    """``_array_sigmoid(x)`` written into x."""
    x *= 0.5
    np.tanh(x, out=x)
    x *= 0.5
    x += 0.5
    return x


class _StateSteps:
    """The states of a fast-path sequence: ``states`` (T + 1, B, H) holds the initial
    state first (forward run) or last (reversed run), and step t reads one neighbouring
    slot and writes the other."""

    def __init__(self, states: np.ndarray, reverse: bool) -> None:
        self.states, self.reverse = states, reverse
        self.outputs = states[:-1] if reverse else states[1:]  # the state after each step
        self.befores = states[1:] if reverse else states[:-1]  # the state before each step

    def before(self, t: int) -> np.ndarray:
        return self.states[t + 1 if self.reverse else t]

    def after(self, t: int) -> np.ndarray:
        return self.states[t if self.reverse else t + 1]


class _SequenceKernel(Primitive):
    """Shared plumbing: the forward keeps what ``_forward`` returns; the backward runs
    ``_backward`` on those arrays (training walk), or, under create_graph, on a forward
    recomputed from the inputs with Tensor ops (so the gradient is differentiable).

    Each kernel also has a fast path, ``_forward_fast`` / ``_backward_fast``: the same
    arithmetic on arrays written in place into buffers that hold every step, used on the
    training walk whenever the inputs share one floating dtype (tests/ops/test_fast_paths.py
    holds it equal to the formulas); create_graph always runs the formulas."""

    def forward(self, *arrays, batch_sizes=None, reverse=False, **options):
        self.batch_sizes, self.reverse, self.options = batch_sizes, reverse, options
        self.fast = self._fast_path_applies(*arrays)
        if self.fast:
            self.saved, output = self._forward_fast(*arrays, **self._settings())
            return output
        self.saved = self._forward(ARRAYS, *arrays, **self._settings())
        return self._output(ARRAYS, self.saved)

    def _settings(self) -> dict:
        return dict(batch_sizes=self.batch_sizes, reverse=self.reverse, **self.options)

    def _fast_path_applies(self, *arrays) -> bool:
        """Whether a kernel's in-place NumPy fast path (if it has one) serves these arrays."""
        return False

    def backward(self, xp, dy):
        inputs = [xp.value(a) for a in self.inputs]
        if xp.arrays:
            if self.fast:
                return self._backward_fast(self.saved, dy, *inputs, **self._settings())
            return self._backward(ARRAYS, self.saved, dy, *inputs, **self._settings())
        saved = self._forward(TENSORS, *inputs, **self._settings())
        return self._backward(TENSORS, saved, dy, *inputs, **self._settings())


# -- Elman RNN -------------------------------------------------------------------------------------

class RNNSequence(_SequenceKernel):
    """h_t = act(gx_t + h_{t-1} W_hh^T), t = 1..T (act = tanh or relu); y = (h_1 .. h_T).

    Backward through time, with dh_T = dy_T and dh_{t-1} = dy_{t-1} + da_t W_hh:
    da_t = dh_t * act'(h_t)  (tanh: 1 - h_t^2; relu: 1 where h_t > 0),
    dgx_t = da_t,  dh_0 = da_1 W_hh,  dW_hh = sum_t da_t^T h_{t-1}.
    """

    name = "rnn_sequence"

    @staticmethod
    def _forward(xp, gx, h0, w_hh, *, batch_sizes, reverse, nonlinearity):
        activation = xp.tanh if nonlinearity == "tanh" else xp.relu
        length, batch = gx.shape[:2]
        hs = xp.steps(length, h0.shape, gx)
        h = h0
        for t in _steps(length, reverse):
            n = _active(batch_sizes, t, batch)
            hs[t] = _merge(xp, activation(gx[t, :n] + h[:n] @ w_hh.T), h, n, batch)
            h = hs[t]
        return xp.stacked(hs)

    @staticmethod
    def _output(xp, saved):
        return xp.output_of(saved)

    @staticmethod
    def _backward(xp, hs, dy, gx, h0, w_hh, *, batch_sizes, reverse, nonlinearity):
        length, batch = gx.shape[:2]
        d_pre = xp.steps(length, gx.shape[1:], gx)
        dh = None
        for t in _steps(length, not reverse):
            n = _active(batch_sizes, t, batch)
            dh = dy[t] if dh is None else dh + dy[t]
            h = hs[t, :n]
            da = dh[:n] * (1 - h * h if nonlinearity == "tanh" else xp.positive(h))
            xp.store(d_pre, t, da, batch)
            dh = _merge(xp, da @ w_hh, dh, n, batch)
        d_pre = xp.stacked(d_pre)
        return d_pre, dh, _recurrent_weight_grad(d_pre, hs, h0, reverse)

    # -- fast path: the formulas above on NumPy arrays, written in place ----------------------
    # As LSTMSequence's: the states of all steps with the initial one in one (T + 1, B, H)
    # buffer, each step's product written with ``out=`` (forward: by a StepProduct).

    def _fast_path_applies(self, gx, h0, w_hh) -> bool:
        return _same_float_dtype(gx, h0, w_hh)

    @staticmethod
    def _forward_fast(gx, h0, w_hh, *, batch_sizes, reverse, nonlinearity):
        length, batch = gx.shape[:2]
        run = _StateSteps(workspace.empty((length + 1,) + h0.shape, gx.dtype), reverse)
        run.before(length - 1 if reverse else 0)[...] = h0
        recurrent = StepProduct(w_hh.T, batch)  # h W_hh^T
        for t in _steps(length, reverse):
            n = _active(batch_sizes, t, batch)
            h, h_next = run.before(t), run.after(t)
            a = recurrent(h[:n], h_next[:n])
            a += gx[t, :n]
            if nonlinearity == "tanh":
                np.tanh(a, out=a)
            else:
                np.maximum(a, 0, out=a)
            h_next[n:] = h[n:]  # frozen rows
        return run, run.outputs.copy()  # not a view: see _ArrayMath.output_of

    @staticmethod
    def _backward_fast(run, dy, gx, h0, w_hh, *, batch_sizes, reverse, nonlinearity):
        length, batch = gx.shape[:2]
        d_pre = workspace.empty(gx.shape, gx.dtype)
        dh = np.zeros(h0.shape, gx.dtype)
        for t in _steps(length, not reverse):
            n = _active(batch_sizes, t, batch)
            dh += dy[t]
            h, da = run.after(t)[:n], d_pre[t, :n]
            d_pre[t, n:] = 0
            if nonlinearity == "tanh":  # da = dh (1 - h^2)
                np.multiply(h, h, out=da)
                np.subtract(1, da, out=da)
                da *= dh[:n]
            else:  # da = dh where h > 0
                np.multiply(dh[:n], h > 0, out=da)
            np.matmul(da, w_hh, out=dh[:n])
        return d_pre, dh, _weight_grad(d_pre, run.befores)


# -- LSTM ------------------------------------------------------------------------------------------

class LSTMSequence(_SequenceKernel):
    """The LSTM recurrence on precomputed input gates gx_t = x_t W_ih^T + b_ih + b_hh:

    [a_i, a_f, a_g, a_o] = gx_t + h_{t-1} W_hh^T
    i, f, o = sigmoid(a_i, a_f, a_o),  g = tanh(a_g)
    c_t = f c_{t-1} + i g,  m_t = o tanh(c_t),  h_t = m_t W_hr^T (or m_t without projection)
    output: (h_1 .. h_T) and c_T, flattened and joined into one 1-D array.

    Backward through time, with dh_t = dy_t + (gradient from step t+1), dc_T = dc given:
    dm = dh_t W_hr (or dh_t),  dW_hr = sum_t dh_t^T m_t
    do = dm tanh(c_t),  dc = dc + dm o (1 - tanh(c_t)^2)
    di = dc g,  df = dc c_{t-1},  dg = dc i,  dc_{t-1} = dc f
    da = [di i (1 - i), df f (1 - f), dg (1 - g^2), do o (1 - o)] = dgx_t
    dh_{t-1} = da W_hh,  dW_hh = sum_t da^T h_{t-1}.
    """

    name = "lstm_sequence"

    @staticmethod
    def _forward(xp, gx, h0, c0, w_hh, w_hr, *, batch_sizes, reverse):
        length, batch = gx.shape[:2]
        hidden = c0.shape[1]
        hs = xp.steps(length, h0.shape, gx)
        c_before, gates, ms = [None] * length, [None] * length, [None] * length
        h, c = h0, c0
        for t in _steps(length, reverse):
            n = _active(batch_sizes, t, batch)
            c_before[t] = c
            act = xp.lstm_activations(gx[t, :n] + h[:n] @ w_hh.T, hidden)
            i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
            c_active = f * c[:n] + i * g
            tanh_c = xp.tanh(c_active)
            m = o * tanh_c
            gates[t], ms[t] = (act, tanh_c), m
            hs[t] = _merge(xp, m if w_hr is None else m @ w_hr.T, h, n, batch)
            h, c = hs[t], _merge(xp, c_active, c, n, batch)
        return xp.stacked(hs), c_before, gates, ms, c

    @staticmethod
    def _output(xp, saved):
        hs, c_last = saved[0], saved[4]
        return xp.cat([hs.reshape(-1), c_last.reshape(-1)], 0)

    @staticmethod
    def _backward(xp, saved, dy, gx, h0, c0, w_hh, w_hr, *, batch_sizes, reverse):
        hs, c_before, gates, ms, _ = saved
        length, batch = gx.shape[:2]
        hidden = c0.shape[1]
        size = length * batch * h0.shape[1]
        dhs = dy[:size].reshape(length, batch, h0.shape[1])
        dc = dy[size:].reshape(c0.shape)
        d_pre = xp.steps(length, gx.shape[1:], gx)
        if w_hr is not None:
            dh_all, m_all = xp.steps(length, h0.shape, gx), xp.steps(length, c0.shape, gx)
        dh = None
        for t in _steps(length, not reverse):
            n = _active(batch_sizes, t, batch)
            dh = dhs[t] if dh is None else dh + dhs[t]
            act, tanh_c = gates[t]
            i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
            dm = dh[:n]
            if w_hr is not None:
                xp.store(dh_all, t, dm, batch)
                xp.store(m_all, t, ms[t], batch)
                dm = dm @ w_hr
            dc_active = dc[:n] + dm * o * (1 - tanh_c * tanh_c)
            # d(loss)/d(activation) for i, f, g, o, times each activation's slope
            da = xp.cat([dc_active * g, dc_active * c_before[t][:n], dc_active * i,
                         dm * tanh_c]) * xp.lstm_slopes(act, hidden)
            xp.store(d_pre, t, da, batch)
            dh = _merge(xp, da @ w_hh, dh, n, batch)
            dc = _merge(xp, dc_active * f, dc, n, batch)
        d_pre = xp.stacked(d_pre)
        dw_hh = _recurrent_weight_grad(d_pre, hs, h0, reverse)
        dw_hr = None if w_hr is None else _weight_grad(xp.stacked(dh_all), xp.stacked(m_all))
        return d_pre, dh, dc, dw_hh, dw_hr

    # -- fast path: the formulas above on NumPy arrays, written in place ----------------------
    # The same arithmetic, step by step, as ``_forward`` / ``_backward`` with ``xp = ARRAYS``
    # (tests/ops/test_fast_paths.py holds them equal), but into buffers allocated once per
    # sequence: the gates of all steps in one (T, B, 4H) array, the states of all steps with
    # the initial one in one (T + 1, B, *) array, the products written with ``out=``, the
    # forward's recurrent one by a StepProduct (W_hh^T copied once into the layout that is
    # fastest here: whole, or in column blocks that OpenBLAS multiplies without packing).
    # Frozen rows of a packed batch are copied forward (states) or left alone (gradients).

    def _fast_path_applies(self, gx, h0, c0, w_hh, w_hr) -> bool:
        return _same_float_dtype(gx, h0, c0, w_hh, *([] if w_hr is None else [w_hr]))

    @staticmethod
    def _forward_fast(gx, h0, c0, w_hh, w_hr, *, batch_sizes, reverse):
        length, batch = gx.shape[:2]
        hidden, projection = c0.shape[1], h0.shape[1]
        run = _LSTMRun(length, batch, hidden, projection, gx.dtype, reverse, w_hr is not None)
        run.h.before(length - 1 if reverse else 0)[...] = h0
        run.c.before(length - 1 if reverse else 0)[...] = c0
        recurrent = StepProduct(w_hh.T, batch)  # h W_hh^T
        w_hr_t = None if w_hr is None else w_hr.T.copy()
        scale, shift = _gate_rows(hidden, gx.dtype)
        product = np.empty((batch, hidden), gx.dtype)
        for t in _steps(length, reverse):
            n = _active(batch_sizes, t, batch)
            h, c, h_next, c_next = run.h.before(t), run.c.before(t), run.h.after(t), run.c.after(t)
            act = run.acts[t, :n]
            recurrent(h[:n], act)
            act += gx[t, :n]
            act *= scale  # lstm_activations, in place
            np.tanh(act, out=act)
            act *= scale
            act += shift
            i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
            np.multiply(f, c[:n], out=c_next[:n])
            c_next[:n] += np.multiply(i, g, out=product[:n])
            tanh_c = np.tanh(c_next[:n], out=run.tanh_c[t, :n])
            if w_hr is None:
                np.multiply(o, tanh_c, out=h_next[:n])
            else:
                m = np.multiply(o, tanh_c, out=run.ms[t, :n])
                run.ms[t, n:] = 0
                np.matmul(m, w_hr_t, out=h_next[:n])
            if n < batch:  # frozen rows
                h_next[n:], c_next[n:] = h[n:], c[n:]
        c_last = run.c.after(0 if reverse else length - 1)
        return run, np.concatenate([run.h.outputs.reshape(-1), c_last.reshape(-1)])

    @staticmethod
    def _backward_fast(run, dy, gx, h0, c0, w_hh, w_hr, *, batch_sizes, reverse):
        length, batch = gx.shape[:2]
        hidden, projection = c0.shape[1], h0.shape[1]
        size = length * batch * projection
        dhs = dy[:size].reshape(length, batch, projection)
        dc = dy[size:].reshape(c0.shape).astype(gx.dtype, copy=True)
        dh = np.zeros(h0.shape, gx.dtype)
        d_pre = workspace.empty(gx.shape, gx.dtype)
        dh_all = None if w_hr is None else workspace.empty(run.h.outputs.shape, gx.dtype)
        dm_buffer = np.empty(c0.shape, gx.dtype)
        slope, product = np.empty(gx.shape[1:], gx.dtype), np.empty(c0.shape, gx.dtype)
        for t in _steps(length, not reverse):
            n = _active(batch_sizes, t, batch)
            dh += dhs[t]
            act, tanh_c, c = run.acts[t, :n], run.tanh_c[t, :n], run.c.before(t)[:n]
            i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
            d_pre[t, n:] = 0
            da = d_pre[t, :n]
            d_i, d_f, d_g, d_o = (da[:, k * hidden:(k + 1) * hidden] for k in range(4))
            dm = dh[:n]
            if w_hr is not None:
                dh_all[t] = dh
                dh_all[t, n:] = 0
                dm = np.matmul(dm, w_hr, out=dm_buffer[:n])
            dc_active = dc[:n]
            np.multiply(dm, tanh_c, out=d_o)
            step = np.multiply(tanh_c, tanh_c, out=product[:n])  # dm o (1 - tanh_c^2)
            np.subtract(1, step, out=step)
            step *= o
            step *= dm
            dc_active += step
            np.multiply(dc_active, g, out=d_i)
            np.multiply(dc_active, c, out=d_f)
            np.multiply(dc_active, i, out=d_g)
            da *= _lstm_slopes_into(act, hidden, slope[:n])
            np.matmul(da, w_hh, out=dh[:n])
            dc_active *= f
        dw_hh = _weight_grad(d_pre, run.h.befores)
        dw_hr = None if w_hr is None else _weight_grad(dh_all, run.ms)
        return d_pre, dh, dc, dw_hh, dw_hr


class _LSTMRun:
    """The buffers of one fast-path LSTM sequence: ``h`` and ``c`` the hidden (T + 1, B, P)
    and cell (T + 1, B, H) states with the initial ones, ``acts`` (T, B, 4H) the gate
    activations, ``tanh_c`` (T, B, H), and with a projection ``ms`` (T, B, H) the
    unprojected outputs."""

    def __init__(self, length: int, batch: int, hidden: int, projection: int, dtype,
                 reverse: bool, projected: bool) -> None:
        self.h = _StateSteps(workspace.empty((length + 1, batch, projection), dtype), reverse)
        self.c = _StateSteps(workspace.empty((length + 1, batch, hidden), dtype), reverse)
        self.acts = workspace.empty((length, batch, 4 * hidden), dtype)
        self.tanh_c = workspace.empty((length, batch, hidden), dtype)
        self.ms = workspace.empty((length, batch, hidden), dtype) if projected else None


def _lstm_slopes_into(act: np.ndarray, hidden: int, out: np.ndarray) -> np.ndarray:
    """``ARRAYS.lstm_slopes(act, hidden)`` written into ``out``."""
    np.subtract(1, act, out=out)
    out *= act
    g, slope_g = act[:, 2 * hidden:3 * hidden], out[:, 2 * hidden:3 * hidden]
    np.multiply(g, g, out=slope_g)
    np.subtract(1, slope_g, out=slope_g)
    return out


# -- GRU -------------------------------------------------------------------------------------------

class GRUSequence(_SequenceKernel):
    """The GRU recurrence on precomputed input gates gx_t = x_t W_ih^T + b_ih:

    gh = h_{t-1} W_hh^T + b_hh = [gh_r, gh_z, gh_n]
    r = sigmoid(gx_r + gh_r),  z = sigmoid(gx_z + gh_z),  n = tanh(gx_n + r gh_n)
    h_t = n + z (h_{t-1} - n)            (= (1 - z) n + z h_{t-1})

    Backward through time, with dh = dy_t + (gradient from step t+1):
    dz = dh (h_{t-1} - n),  dn_pre = dh (1 - z) (1 - n^2)
    dr_pre = dn_pre gh_n r (1 - r),  dz_pre = dz z (1 - z)
    dgx_t = [dr_pre, dz_pre, dn_pre],  dgh = [dr_pre, dz_pre, dn_pre r]
    dh_{t-1} = dh z + dgh W_hh,  dW_hh = sum_t dgh^T h_{t-1},  db_hh = sum_t dgh.
    """

    name = "gru_sequence"

    @staticmethod
    def _forward(xp, gx, h0, w_hh, b_hh, *, batch_sizes, reverse):
        length, batch = gx.shape[:2]
        hidden = h0.shape[1]
        hs, gates = xp.steps(length, h0.shape, gx), [None] * length
        h = h0
        for t in _steps(length, reverse):
            n = _active(batch_sizes, t, batch)
            gh = h[:n] @ w_hh.T
            if b_hh is not None:
                gh = gh + b_hh
            x_t = gx[t, :n]
            r = xp.sigmoid(x_t[:, :hidden] + gh[:, :hidden])
            z = xp.sigmoid(x_t[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
            gh_n = gh[:, 2 * hidden:]
            new = xp.tanh(x_t[:, 2 * hidden:] + r * gh_n)
            gates[t] = (r, z, new, gh_n)
            hs[t] = _merge(xp, new + z * (h[:n] - new), h, n, batch)
            h = hs[t]
        return xp.stacked(hs), gates

    @staticmethod
    def _output(xp, saved):
        return xp.output_of(saved[0])

    @staticmethod
    def _backward(xp, saved, dy, gx, h0, w_hh, b_hh, *, batch_sizes, reverse):
        hs, gates = saved
        length, batch = gx.shape[:2]
        d_input, d_hidden = xp.steps(length, gx.shape[1:], gx), xp.steps(length, gx.shape[1:],
                                                                          gx)
        dh = None
        for t in _steps(length, not reverse):
            n = _active(batch_sizes, t, batch)
            dh = dy[t] if dh is None else dh + dy[t]
            r, z, new, gh_n = gates[t]
            h_before = (h0 if t == (length - 1 if reverse else 0) else
                        hs[t + 1 if reverse else t - 1])[:n]
            dh_active = dh[:n]
            dn_pre = dh_active * (1 - z) * (1 - new * new)
            dr_pre = dn_pre * gh_n * r * (1 - r)
            dz_pre = dh_active * (h_before - new) * z * (1 - z)
            xp.store(d_input, t, xp.cat([dr_pre, dz_pre, dn_pre]), batch)
            dgh = xp.cat([dr_pre, dz_pre, dn_pre * r])
            xp.store(d_hidden, t, dgh, batch)
            dh = _merge(xp, dh_active * z + dgh @ w_hh, dh, n, batch)
        d_hidden = xp.stacked(d_hidden)
        dw_hh = _recurrent_weight_grad(d_hidden, hs, h0, reverse)
        db_hh = None if b_hh is None else d_hidden.sum((0, 1))
        return xp.stacked(d_input), dh, dw_hh, db_hh

    # -- fast path: the formulas above on NumPy arrays, written in place ----------------------
    # As LSTMSequence's: the states of all steps with the initial one in one (T + 1, B, H)
    # buffer, the gates r, z (T, B, 2H), n and gh_n (T, B, H) of all steps in one buffer
    # each, the products written with ``out=`` (forward: by a StepProduct).

    def _fast_path_applies(self, gx, h0, w_hh, b_hh) -> bool:
        return _same_float_dtype(gx, h0, w_hh, *([] if b_hh is None else [b_hh]))

    @staticmethod
    def _forward_fast(gx, h0, w_hh, b_hh, *, batch_sizes, reverse):
        length, batch = gx.shape[:2]
        hidden = h0.shape[1]
        run = _GRURun(length, batch, hidden, gx.dtype, reverse)
        run.h.before(length - 1 if reverse else 0)[...] = h0
        recurrent = StepProduct(w_hh.T, batch)  # h W_hh^T
        gh = np.empty((batch, 3 * hidden), gx.dtype)
        for t in _steps(length, reverse):
            n = _active(batch_sizes, t, batch)
            h, h_next, x_t = run.h.before(t), run.h.after(t), gx[t, :n]
            gh_t = recurrent(h[:n], gh[:n])
            if b_hh is not None:
                gh_t += b_hh
            rz, new, gh_n = run.rz[t, :n], run.new[t, :n], run.gh_n[t, :n]
            np.add(x_t[:, :2 * hidden], gh_t[:, :2 * hidden], out=rz)
            _sigmoid_in_place(rz)
            gh_n[...] = gh_t[:, 2 * hidden:]
            np.multiply(rz[:, :hidden], gh_n, out=new)  # n = tanh(x_n + r gh_n)
            new += x_t[:, 2 * hidden:]
            np.tanh(new, out=new)
            out = np.subtract(h[:n], new, out=h_next[:n])  # h' = n + z (h - n)
            out *= rz[:, hidden:]
            out += new
            h_next[n:] = h[n:]  # frozen rows
        return run, run.h.outputs.copy()  # not a view: see _ArrayMath.output_of

    @staticmethod
    def _backward_fast(run, dy, gx, h0, w_hh, b_hh, *, batch_sizes, reverse):
        length, batch = gx.shape[:2]
        hidden = h0.shape[1]
        d_input = workspace.empty(gx.shape, gx.dtype)
        d_hidden = workspace.empty(gx.shape, gx.dtype)
        dh = np.zeros(h0.shape, gx.dtype)
        slope = np.empty((batch, hidden), gx.dtype)
        for t in _steps(length, not reverse):
            n = _active(batch_sizes, t, batch)
            dh += dy[t]
            r, z = run.rz[t, :n, :hidden], run.rz[t, :n, hidden:]
            new, gh_n, h_before = run.new[t, :n], run.gh_n[t, :n], run.h.before(t)[:n]
            d_input[t, n:] = d_hidden[t, n:] = 0
            dr_pre, dz_pre, dn_pre = (d_input[t, :n, k * hidden:(k + 1) * hidden]
                                      for k in range(3))
            dh_active, s = dh[:n], slope[:n]
            np.multiply(dh_active, 1 - z, out=dn_pre)  # dn_pre = dh (1 - z) (1 - n^2)
            np.multiply(new, new, out=s)
            np.subtract(1, s, out=s)
            dn_pre *= s
            np.multiply(dn_pre, gh_n, out=dr_pre)  # dr_pre = dn_pre gh_n r (1 - r)
            dr_pre *= r
            dr_pre *= np.subtract(1, r, out=s)
            np.subtract(h_before, new, out=dz_pre)  # dz_pre = dh (h - n) z (1 - z)
            dz_pre *= dh_active
            dz_pre *= z
            dz_pre *= np.subtract(1, z, out=s)
            dgh = d_hidden[t, :n]
            dgh[:, :2 * hidden] = d_input[t, :n, :2 * hidden]
            np.multiply(dn_pre, r, out=dgh[:, 2 * hidden:])
            dh_active *= z  # dh_{t-1} = dh z + dgh W_hh
            dh_active += np.matmul(dgh, w_hh, out=s)
        dw_hh = _weight_grad(d_hidden, run.h.befores)
        db_hh = None if b_hh is None else d_hidden.sum((0, 1))
        return d_input, dh, dw_hh, db_hh


class _GRURun:
    """The buffers of one fast-path GRU sequence: ``h`` the states (T + 1, B, H) with the
    initial one, ``rz`` (T, B, 2H) the gates r and z, ``new`` (T, B, H) the candidate n,
    ``gh_n`` (T, B, H) the recurrent part h W_hn^T + b_hn."""

    def __init__(self, length: int, batch: int, hidden: int, dtype, reverse: bool) -> None:
        self.h = _StateSteps(workspace.empty((length + 1, batch, hidden), dtype), reverse)
        self.rz = workspace.empty((length, batch, 2 * hidden), dtype)
        self.new = workspace.empty((length, batch, hidden), dtype)
        self.gh_n = workspace.empty((length, batch, hidden), dtype)


# -- functional entry points ----------------------------------------------------------------------

def _batch_sizes(batch_sizes: Any) -> tuple[int, ...] | None:
    if batch_sizes is None:
        return None
    values = batch_sizes.data if isinstance(batch_sizes, Tensor) else batch_sizes
    return tuple(int(b) for b in np.asarray(values).reshape(-1))


def _last_step(states: Tensor, reverse: bool) -> Tensor:
    """The state after the last step processed: time 0 for a reversed run, else T - 1."""
    return states[0] if reverse else states[-1]


def rnn_sequence(gx: Tensor, h0: Tensor, w_hh: Tensor, nonlinearity: str = "tanh",
                 batch_sizes: Any = None, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """Run an Elman RNN over precomputed input projections ``gx`` (T, B, H) from ``h0``
    (B, H); returns all states (T, B, H) and the final state (B, H)."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_sequence: unknown nonlinearity {nonlinearity!r}; use 'tanh' or "
                         f"'relu'")
    sizes = _batch_sizes(batch_sizes)
    _check_sequence("rnn_sequence", gx, h0, w_hh, 1, sizes)
    states = RNNSequence.apply(gx, h0, w_hh, batch_sizes=sizes, reverse=reverse,
                               nonlinearity=nonlinearity)
    return states, _last_step(states, reverse)


def lstm_sequence(gx: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, w_hr: Tensor | None = None,
                  batch_sizes: Any = None,
                  reverse: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Run an LSTM over precomputed input gates ``gx`` (T, B, 4H) from ``h0`` (B, P) and
    ``c0`` (B, H), P = H or the projection size; returns all hidden states (T, B, P), and
    the final hidden (B, P) and cell (B, H) states."""
    sizes = _batch_sizes(batch_sizes)
    _check_sequence("lstm_sequence", gx, h0, w_hh, 4, sizes)
    hidden = w_hh.shape[0] // 4
    if tuple(c0.shape) != (gx.shape[1], hidden):
        raise ShapeError(f"lstm_sequence: initial cell state of shape {tuple(c0.shape)}, "
                         f"expected {(gx.shape[1], hidden)}")
    if w_hr is not None and tuple(w_hr.shape) != (h0.shape[1], hidden):
        raise ShapeError(f"lstm_sequence: w_hr of shape {tuple(w_hr.shape)}, expected "
                         f"{(h0.shape[1], hidden)}")
    if w_hr is None and h0.shape[1] != hidden:
        raise ShapeError(f"lstm_sequence: hidden state of width {h0.shape[1]} without a "
                         f"projection, expected {hidden}")
    flat = LSTMSequence.apply(gx, h0, c0, w_hh, w_hr, batch_sizes=sizes, reverse=reverse)
    size = gx.shape[0] * gx.shape[1] * h0.shape[1]
    states = flat[:size].reshape(gx.shape[0], gx.shape[1], h0.shape[1])
    return states, _last_step(states, reverse), flat[size:].reshape(c0.shape)


def gru_sequence(gx: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None = None,
                 batch_sizes: Any = None, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """Run a GRU over precomputed input gates ``gx`` (T, B, 3H) = x W_ih^T + b_ih from
    ``h0`` (B, H); ``b_hh`` stays inside the recurrence (r multiplies h W_hn^T + b_hn).
    Returns all states (T, B, H) and the final state (B, H)."""
    sizes = _batch_sizes(batch_sizes)
    _check_sequence("gru_sequence", gx, h0, w_hh, 3, sizes)
    states = GRUSequence.apply(gx, h0, w_hh, b_hh, batch_sizes=sizes, reverse=reverse)
    return states, _last_step(states, reverse)
