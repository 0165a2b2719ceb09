"""Recurrent layers (RNN, LSTM, GRU) and cells (RNNCell, LSTMCell, GRUCell), as in PyTorch:
the same arguments, parameter names and shapes (``weight_ih_l0``, ``weight_hh_l0_reverse``,
``weight_hr_l1`` ...), gate order (LSTM: i, f, g, o; GRU: r, z, n) and initialisation
(every parameter uniform on [-1/sqrt(hidden_size), 1/sqrt(hidden_size)]), so a PyTorch
state dict loads by name and gives the same outputs.

A layer projects the inputs of all time steps with one matrix product per direction
(gx = x W_ih^T + b), then runs the recurrence as one graph node per direction and layer
(``ops.rnn``): backward through time costs no graph node per step.
"""
from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from .. import dtypes
from ..ops import rnn as rnn_ops
from ..ops.linalg import linear
from ..ops.shape import cat, stack
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence, packed_to_padded, padded_to_packed

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _zeros(shape: tuple, dtype: dtypes.DType) -> Tensor:
    return Tensor._wrap(np.zeros(shape, dtype=dtype), False)


def _check_type(name: str, value: Any, kind: type) -> None:
    if not isinstance(value, kind) or kind is int and isinstance(value, bool):
        raise TypeError(f"{name} should be of type {kind.__name__}, got: "
                        f"{type(value).__name__}")


class RNNBase(Module):
    """The parameters and the layer-by-layer, direction-by-direction loop shared by RNN,
    LSTM and GRU. ``mode`` is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        _check_arguments(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, proj_size)
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.proj_size = proj_size
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        shapes: dict[str, tuple[int, ...]]  # parameter name -> shape, per layer and direction
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                shapes = {"weight_ih": (gate_size, layer_input),
                          "weight_hh": (gate_size, real_hidden)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                suffix = "_reverse" if direction == 1 else ""
                names = []
                for kind, shape_ in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(np.empty(shape_, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """Accepted for PyTorch compatibility: the weights are used where they are."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text

    # -- forward --------------------------------------------------------------------------------
    @property
    def _num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def _name(self) -> str:
        return {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(self.mode, self.mode)

    def forward(self, input: Any, hx: Any = None):  # noqa: A002
        """Run every layer over the sequence; returns (output, h_n) (LSTM: (output,
        (h_n, c_n))), shaped as in PyTorch: output (T, B, D * H_out) (batch first:
        (B, T, D * H_out); unbatched: (T, D * H_out)), h_n (num_layers * D, B, H_out)."""
        packed = isinstance(input, PackedSequence)
        if packed:
            x, states = self._packed_input(input, hx)
            batch_sizes, batched = input.batch_sizes, True
        else:
            x, batched, states = self._padded_input(input, hx)
            batch_sizes = None
        self._check_input(x)
        if states is None:
            states = self._initial_states(x)
        else:
            self._check_states(states, x.shape[1])
            if packed:
                states = [_permute_batch(s, input.sorted_indices) for s in states]
        output: Tensor | PackedSequence
        output, finals = self._run_layers(x, states, batch_sizes)
        if packed:
            output = PackedSequence(padded_to_packed(output, batch_sizes), input.batch_sizes,
                                    input.sorted_indices, input.unsorted_indices)
            finals = [_permute_batch(f, input.unsorted_indices) for f in finals]
        elif not batched:
            output = output[:, 0]
            finals = [f[:, 0] for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])

    def _packed_input(self, input: PackedSequence, hx: Any):  # noqa: A002
        """The packed rows as a time-major padded (T, B, F) tensor (sorted order)."""
        if input.data.ndim != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {input.data.ndim}")
        states = None if hx is None else self._state_tuple(hx)
        return packed_to_padded(input.data, input.batch_sizes), states

    def _padded_input(self, input: Any, hx: Any):  # noqa: A002
        """The input time-major (T, B, F), whether it was batched, and the given states."""
        if not isinstance(input, Tensor):
            raise TypeError(f"{self._name}: expected input to be a Tensor or a PackedSequence, "
                            f"got {type(input).__name__}")
        if input.ndim not in (2, 3):
            tail = " tensor instead" if self._name == "RNN" else " instead"
            raise ValueError(f"{self._name}: Expected input to be 2D or 3D, got "
                             f"{input.ndim}D{tail}")
        batched = input.ndim == 3
        states = None if hx is None else self._state_tuple(hx)
        if states is not None:
            self._check_state_ranks(states, batched)
        if not batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
            states = None if states is None else [s.unsqueeze(1) for s in states]
        return (input.transpose(0, 1) if self.batch_first else input), batched, states

    def _state_tuple(self, hx: Any) -> list:
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0) of two tensors, got "
                                f"{type(hx).__name__}")
            states = list(hx)
        else:
            states = [hx]
        for position, state in enumerate(states):
            if not isinstance(state, Tensor):
                raise TypeError(f"{self._name}: hidden state {position} must be a Tensor, got "
                                f"{type(state).__name__}")
        return states

    def _check_state_ranks(self, states: list, batched: bool) -> None:
        rank, kind = (3, "batched 3-D") if batched else (2, "unbatched 2-D")
        if all(s.ndim == rank for s in states):
            return
        if self.mode == "LSTM":
            raise RuntimeError(f"For {kind} input, hx and cx should also be {rank}-D but got "
                               f"({states[0].ndim}-D, {states[1].ndim}-D) tensors")
        raise RuntimeError(f"For {kind} input, hx should also be {rank}-D but got "
                           f"{states[0].ndim}-D tensor")

    def _expected_state_shapes(self, batch: int) -> list[tuple[int, int, int]]:
        layers = self.num_layers * self._num_directions
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        shapes = [(layers, batch, real_hidden)]
        if self.mode == "LSTM":
            shapes.append((layers, batch, self.hidden_size))
        return shapes

    def _check_states(self, states: list, batch: int) -> None:
        expected = self._expected_state_shapes(batch)
        for position, (state, shape_) in enumerate(zip(states, expected)):
            if tuple(state.shape) != shape_:
                which = f"hidden[{position}] size" if self.mode == "LSTM" else "hidden size"
                raise RuntimeError(f"Expected {which} {shape_}, got {list(state.shape)}")
            if state.dtype != self.weight_ih_l0.dtype:
                raise RuntimeError(f"{self._name}: hidden state {position} is {state.dtype}; "
                                   f"input, hidden state and weights must all be "
                                   f"{self.weight_ih_l0.dtype}")

    def _check_input(self, x: Tensor) -> None:
        weight = self.weight_ih_l0
        if x.dtype != weight.dtype:
            raise ValueError(f"RNN input dtype ({x.dtype}) does not match weight dtype "
                             f"({weight.dtype}). Convert input: input.to({weight.dtype}), or "
                             f"convert model: model.to({x.dtype})")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")
        if x.shape[0] == 0:
            raise RuntimeError(f"Expected sequence length to be larger than 0 in "
                               f"{self._name}")

    def _initial_states(self, x: Tensor) -> list:
        return [_zeros(shape_, x.dtype) for shape_ in self._expected_state_shapes(x.shape[1])]

    def _run_layers(self, x: Tensor, states: list, batch_sizes: Any) -> tuple[Tensor, list]:
        """All layers, time-major: x (T, B, F) -> output (T, B, D * H_out) and the final
        states stacked as (num_layers * D, B, *)."""
        finals: list[list[Tensor]] = [[] for _ in states]
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._num_directions):
                index = layer * self._num_directions + direction
                weights = self.all_weights[index]
                sequence, last = self._run_direction(
                    layer_input, [s[index] for s in states], weights, batch_sizes,
                    reverse=direction == 1)
                outputs.append(sequence)
                for collected, value in zip(finals, last):
                    collected.append(value)
            layer_input = outputs[0] if len(outputs) == 1 else cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, [stack(values) for values in finals]

    def _run_direction(self, x: Tensor, initial: list, weights: list, batch_sizes: Any,
                       reverse: bool) -> tuple[Tensor, list]:
        """One layer in one direction: the input projection of all steps in one product,
        then the recurrence kernel."""
        w_ih, w_hh = weights[0], weights[1]
        b_ih, b_hh = (weights[2], weights[3]) if self.bias else (None, None)
        w_hr = weights[-1] if self.proj_size > 0 else None
        if self.mode == "GRU":  # b_hh stays inside the recurrence: r (h W_hn^T + b_hn)
            gx = linear(x, w_ih, b_ih)
            sequence, h_last = rnn_ops.gru_sequence(gx, initial[0], w_hh, b_hh, batch_sizes,
                                                    reverse)
            return sequence, [h_last]
        gx = linear(x, w_ih, None if b_ih is None else b_ih + b_hh)
        if self.mode == "LSTM":
            sequence, h_last, c_last = rnn_ops.lstm_sequence(gx, initial[0], initial[1], w_hh,
                                                             w_hr, batch_sizes, reverse)
            return sequence, [h_last, c_last]
        nonlinearity = "tanh" if self.mode == "RNN_TANH" else "relu"
        sequence, h_last = rnn_ops.rnn_sequence(gx, initial[0], w_hh, nonlinearity,
                                                batch_sizes, reverse)
        return sequence, [h_last]


def _permute_batch(state: Tensor, indices: Any) -> Tensor:
    """``state`` (layers, B, H) with its batch dim reordered by ``indices`` (None: as is)."""
    if indices is None:
        return state
    return state[:, np.asarray(indices.data if isinstance(indices, Tensor) else indices)]


def _check_arguments(mode: str, input_size: Any, hidden_size: Any, num_layers: Any,
                     bias: Any, batch_first: Any, dropout: float, proj_size: Any) -> None:
    """PyTorch's argument checks, with its messages."""
    if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) \
            or not 0 <= dropout <= 1:
        raise ValueError("dropout should be a number in range [0, 1] representing the "
                         "probability of an element being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn(f"dropout option adds dropout after all but last recurrent layer, so "
                      f"non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=4)
    _check_type("bias", bias, bool)
    _check_type("batch_first", batch_first, bool)
    _check_type("input_size", input_size, int)
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    _check_type("hidden_size", hidden_size, int)
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable "
                         "projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    if proj_size and mode != "LSTM":
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None, **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"RNN got unexpected keyword arguments {sorted(kwargs)}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or "
                             f"'relu'.")
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype)


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates i, f, g, o (see ``ops.rnn.LSTMSequence``);
    ``proj_size > 0`` adds h_t = (o_t tanh(c_t)) W_hr^T.

    ``forward(input, (h_0, c_0))`` returns ``output, (h_n, c_n)``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates r, z, n with n = tanh(x W_in^T + b_in +
    r (h W_hn^T + b_hn)) (see ``ops.rnn.GRUSequence``)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device: Any = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if kwargs:
            raise TypeError(f"GRU got unexpected keyword arguments {sorted(kwargs)}")
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)


# -- cells ----------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """``weight_ih`` (chunks * hidden, input), ``weight_hh`` (chunks * hidden, hidden),
    ``bias_ih`` and ``bias_hh`` (chunks * hidden), all uniform on +-1/sqrt(hidden)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        _check_type("input_size", input_size, int)
        _check_type("hidden_size", hidden_size, int)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        rows = num_chunks * hidden_size
        self.weight_ih = Parameter(np.empty((rows, input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((rows, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(rows, dtype=dtype))
            self.bias_hh = Parameter(np.empty(rows, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def _prepare(self, input: Any, states: list | None, names: list[str]):  # noqa: A002
        """Check ranks and sizes as PyTorch does; return the batched input and states and
        whether the input was batched."""
        cell = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{cell}: expected input to be a Tensor, got "
                            f"{type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{cell}: Expected input to be 1D or 2D, got {input.ndim}D "
                             f"instead")
        for name, state in zip(names, states or []):
            if not isinstance(state, Tensor):
                raise TypeError(f"{cell}: {name} must be a Tensor, got {type(state).__name__}")
            if state.ndim not in (1, 2):
                raise ValueError(f"{cell}: Expected {name} to be 1D or 2D, got {state.ndim}D "
                                 f"instead")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if states is None:
            states = [_zeros((x.shape[0], self.hidden_size), x.dtype) for _ in names]
        elif not batched:
            states = [s.unsqueeze(0) for s in states]
        self._check_sizes(x, states)
        return x, states, batched

    def _check_sizes(self, x: Tensor, states: list) -> None:
        if x.shape[1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected "
                               f"{self.input_size}")
        for position, state in enumerate(states):
            if state.shape[0] != x.shape[0]:
                raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match "
                                   f"hidden{position} batch size {state.shape[0]}")
            if state.shape[1] != self.hidden_size:
                raise RuntimeError(f"hidden{position} has inconsistent hidden_size: got "
                                   f"{state.shape[1]}, expected {self.hidden_size}")
        for tensor in [x] + states:
            if tensor.dtype != self.weight_ih.dtype:
                raise RuntimeError(f"{type(self).__name__}: input and hidden dtypes must match "
                                   f"the weights' {self.weight_ih.dtype}, got {tensor.dtype}")

    def _weights(self) -> tuple:
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, None if hx is None else [hx], ["hidden"])
        if self.nonlinearity == "tanh":
            out = rnn_ops.rnn_tanh_cell(x, h, *self._weights())
        elif self.nonlinearity == "relu":
            out = rnn_ops.rnn_relu_cell(x, h, *self._weights())
        else:
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        return out if batched else out[0]


class LSTMCell(RNNCellBase):
    """One LSTM step (``ops.rnn.lstm_cell``); ``forward(input, (h, c))`` returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Tensor]:  # noqa: A002
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c) of two tensors, got "
                            f"{type(hx).__name__}")
        x, (h, c), batched = self._prepare(input, None if hx is None else list(hx),
                                           ["hx[0]", "hx[1]"])
        h, c = rnn_ops.lstm_cell(x, (h, c), *self._weights())
        return (h, c) if batched else (h[0], c[0])


class GRUCell(RNNCellBase):
    """One GRU step (``ops.rnn.gru_cell``)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, (h,), batched = self._prepare(input, None if hx is None else [hx], ["hidden"])
        out = rnn_ops.gru_cell(x, h, *self._weights())
        return out if batched else out[0]
