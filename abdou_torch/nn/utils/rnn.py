"""Padded and packed sequences, as ``torch.nn.utils.rnn``.

A batch of sequences of different lengths is either *padded*: one (T, B, *) tensor (or
(B, T, *) with ``batch_first``) with the ends filled by ``padding_value``; or *packed*: a
:class:`PackedSequence` whose ``data`` (N, *) holds the real steps only, time-major, and
``batch_sizes[t]`` says how many sequences have a step ``t``. Packing sorts the sequences
by decreasing length (``sorted_indices``; ``unsorted_indices`` undoes it), so that at every
step the running sequences are the first rows. The recurrent layers accept a packed input
and skip the padding.

Every conversion here is one gather (an integer index into the source), so gradients flow
back to the real steps; padding positions receive none.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from ...errors import ShapeError
from ...ops.shape import cat
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pad_sequence", "unpad_sequence",
           "pack_padded_sequence", "pad_packed_sequence", "pack_sequence", "unpack_sequence"]

_PackedSequenceFields = namedtuple("_PackedSequenceFields",
                                   ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def _int_tensor(values: Any) -> Tensor:
    return Tensor._wrap(np.asarray(values, dtype=np.int64), False)


def _int_array(values: Any) -> np.ndarray:
    return np.asarray(values.data if isinstance(values, Tensor) else values).astype(np.int64)


def invert_permutation(permutation: Any) -> Tensor | None:
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    order = _int_array(permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return _int_tensor(inverse)


class PackedSequence(_PackedSequenceFields):
    """``data`` (N, *): the steps of all sequences, time-major, longest sequences first;
    ``batch_sizes`` (int64, T): how many sequences have step t; ``sorted_indices``: the
    original batch position of each sorted sequence (None when the batch came sorted);
    ``unsorted_indices``: its inverse (computed when not given)."""

    __slots__ = ()

    def __new__(cls, data: Any, batch_sizes: Any = None, sorted_indices: Any = None,
                unsorted_indices: Any = None) -> "PackedSequence":
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as PyTorch accepts
            if not isinstance(data, (list, tuple)) or len(data) != 2:
                raise TypeError("PackedSequence: pass data and batch_sizes, or a pair "
                                "(data, batch_sizes)")
            data, batch_sizes = data
        if sorted_indices is not None:
            sorted_indices = _int_tensor(_int_array(sorted_indices))
            if unsorted_indices is None:
                unsorted_indices = invert_permutation(sorted_indices)
        if unsorted_indices is not None:
            unsorted_indices = _int_tensor(_int_array(unsorted_indices))
        return super().__new__(cls, data, _int_tensor(_int_array(batch_sizes)), sorted_indices,
                               unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        """The same sequence with ``data`` converted (dtype); the indices stay int64."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes,
                                                         self.sorted_indices,
                                                         self.unsorted_indices)

    def float(self) -> "PackedSequence":
        return self.to(np.float32)

    def double(self) -> "PackedSequence":
        return self.to(np.float64)

    def half(self) -> "PackedSequence":
        return self.to(np.float16)

    def cpu(self) -> "PackedSequence":
        return self

    @property
    def is_cuda(self) -> bool:
        return False

    def is_pinned(self) -> bool:
        return False


# -- index maps ----------------------------------------------------------------------------------

def _packed_positions(batch_sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each packed row, its time step and its (sorted) batch position."""
    steps = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    rows = np.concatenate([np.arange(size) for size in batch_sizes])
    return steps, rows


def _gather_with_padding(data: Tensor, index: np.ndarray, padding_value: float) -> Tensor:
    """``data[index]`` where index == len(data) picks a row of ``padding_value``."""
    pad_row = Tensor._wrap(np.full((1,) + tuple(data.shape[1:]), padding_value,
                                   dtype=data.dtype), False)
    return cat([data, pad_row], 0)[index]


def _padded_index(sizes: np.ndarray, length: int | None = None) -> np.ndarray:
    """(T, B): the packed row at each time step and sorted batch position, or N (the
    padding row) where that sequence has ended."""
    steps, rows = _packed_positions(sizes)
    index = np.full((length or sizes.size, int(sizes[0])), len(steps), dtype=np.int64)
    index[steps, rows] = np.arange(len(steps))
    return index


def packed_to_padded(data: Tensor, batch_sizes: Any, padding_value: float = 0.0) -> Tensor:
    """Packed rows (N, *) as a time-major (T, B, *) tensor in the packed (sorted) order."""
    return _gather_with_padding(data, _padded_index(_int_array(batch_sizes)), padding_value)


def padded_to_packed(padded: Tensor, batch_sizes: Any) -> Tensor:
    """The rows of a time-major (T, B, *) tensor that a packed sequence keeps."""
    steps, rows = _packed_positions(_int_array(batch_sizes))
    return padded[steps, rows]


# -- the public functions -----------------------------------------------------------------------

def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors (L_i, *) into (T, B, *) (or (B, T, *) with ``batch_first``),
    T = max L_i, filling the rest with ``padding_value``, after each sequence ('right') or
    before it ('left')."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = [s if isinstance(s, Tensor) else Tensor(s) for s in sequences]
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for position, sequence in enumerate(sequences):
        if sequence.ndim == 0 or tuple(sequence.shape[1:]) != trailing:
            raise ShapeError(f"pad_sequence: sequence {position} has shape "
                             f"{tuple(sequence.shape)}; every sequence must be (length, "
                             f"*{trailing}) like sequence 0")
    lengths = np.array([len(s) for s in sequences], dtype=np.int64)
    longest = int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    index = np.full((len(sequences), longest), lengths.sum(), dtype=np.int64)
    for b, (start, size) in enumerate(zip(starts, lengths)):
        first = 0 if padding_side == "right" else longest - size
        index[b, first:first + size] = np.arange(start, start + size)
    padded = _gather_with_padding(cat(sequences, 0), index if batch_first else index.T,
                                  padding_value)
    return padded


def unpad_sequence(padded_sequences: Tensor, lengths: Any,
                   batch_first: bool = False) -> list[Tensor]:
    """The inverse of ``pad_sequence`` (right padding): a list of (L_i, *) tensors."""
    lengths = _int_array(lengths)
    return [padded_sequences[b, :size] if batch_first else padded_sequences[:size, b]
            for b, size in enumerate(lengths)]


def _check_lengths(lengths: np.ndarray, batch: int, longest_allowed: int) -> None:
    if lengths.ndim != 1 or lengths.size != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={batch})")
    if (lengths <= 0).any():
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if lengths.max() > longest_allowed:
        raise ValueError(f"pack_padded_sequence: a length of {int(lengths.max())} is longer "
                         f"than the padded input's {longest_allowed} steps")


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *)) of sequences of the given ``lengths``.

    With ``enforce_sorted`` the lengths must be non-increasing; otherwise the batch is
    sorted by decreasing length (stably) and ``sorted_indices`` records the order.
    """
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ShapeError(f"pack_padded_sequence: expected a padded tensor of at least 2 dims "
                         f"(T, B, *), got {getattr(input, 'shape', type(input).__name__)}")
    lengths = _int_array(lengths)
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    _check_lengths(lengths, input.shape[batch_dim], input.shape[time_dim])
    sorted_indices = None
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        order = np.arange(lengths.size)
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = _int_tensor(order)
    sorted_lengths = lengths[order]
    batch_sizes = (sorted_lengths[None, :] > np.arange(sorted_lengths[0])[:, None]).sum(1)
    steps, rows = _packed_positions(batch_sizes)
    columns = order[rows]
    data = input[columns, steps] if batch_first else input[steps, columns]
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Unpack to a padded (T, B, *) tensor (or (B, T, *)) in the original batch order, and
    the lengths (int64). ``total_length`` pads to that many steps (at least the longest)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got "
                        f"{type(sequence).__name__}")
    sizes = _int_array(sequence.batch_sizes)
    if total_length is not None and total_length < sizes.size:
        raise ValueError(f"Expected total_length to be at least the length of the longest "
                         f"sequence in input, but got total_length={total_length} and max "
                         f"sequence length being {sizes.size}")
    index = _padded_index(sizes, total_length)
    lengths = (sizes[:, None] > np.arange(sizes[0])[None, :]).sum(0)
    if sequence.unsorted_indices is not None:
        unsorted = _int_array(sequence.unsorted_indices)
        index, lengths = index[:, unsorted], lengths[unsorted]
    padded = _gather_with_padding(sequence.data, index.T if batch_first else index,
                                  padding_value)
    return padded, _int_tensor(lengths)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of (L_i, *) tensors (``pad_sequence`` then ``pack_padded_sequence``)."""
    lengths = [len(s) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of (L_i, *) tensors that ``pack_sequence`` packed, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
