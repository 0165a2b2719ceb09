"""nn.utils.rnn against PyTorch: pad_sequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence, unpack_sequence, unpad_sequence; PackedSequence's fields; gradients
through packing; and the errors for bad lengths and shapes."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as theirs

import abdou_torch as at
from abdou_torch.nn.utils import rnn as ours

rng = np.random.default_rng(0)


def sequences(lengths, trailing=(3,)):
    arrays = [rng.standard_normal((n,) + trailing) for n in lengths]
    return ([at.Tensor(a.copy(), requires_grad=True) for a in arrays],
            [torch.tensor(a.copy(), requires_grad=True) for a in arrays])


def assert_packed_equal(mine, reference):
    np.testing.assert_array_equal(mine.data.data, reference.data.detach().numpy())
    np.testing.assert_array_equal(mine.batch_sizes.data, reference.batch_sizes.numpy())
    assert mine.batch_sizes.dtype == np.int64
    for field in ("sorted_indices", "unsorted_indices"):
        expected = getattr(reference, field)
        if expected is None:
            assert getattr(mine, field) is None
        else:
            np.testing.assert_array_equal(getattr(mine, field).data, expected.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_pytorch(batch_first, padding_side):
    mine, reference = sequences([3, 5, 1], trailing=(2, 2))
    padded = ours.pad_sequence(mine, batch_first, -1.5, padding_side)
    expected = theirs.pad_sequence(reference, batch_first, -1.5, padding_side)
    np.testing.assert_array_equal(padded.data, expected.detach().numpy())
    weights = rng.standard_normal(expected.shape)
    (padded * at.Tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    for a, b in zip(mine, reference):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-14)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 3, 1], True), ([3, 5, 1, 3], False),
                                                    ([2, 2, 2, 2], True)])
@pytest.mark.parametrize("as_tensor", [False, True])
def test_pack_padded_sequence_matches_pytorch(batch_first, lengths, enforce_sorted, as_tensor):
    shape = (4, 5, 3) if batch_first else (5, 4, 3)
    x = rng.standard_normal(shape)
    x_ours = at.Tensor(x.copy(), requires_grad=True)
    x_theirs = torch.tensor(x.copy(), requires_grad=True)
    ours_lengths = at.tensor(lengths) if as_tensor else lengths
    theirs_lengths = torch.tensor(lengths) if as_tensor else lengths
    packed = ours.pack_padded_sequence(x_ours, ours_lengths, batch_first, enforce_sorted)
    expected = theirs.pack_padded_sequence(x_theirs, theirs_lengths, batch_first, enforce_sorted)
    assert isinstance(packed, ours.PackedSequence) and isinstance(packed, tuple)
    assert_packed_equal(packed, expected)
    weights = rng.standard_normal(tuple(expected.data.shape))
    (packed.data * at.Tensor(weights)).sum().backward()
    (expected.data * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x_ours.grad.data, x_theirs.grad.numpy())


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pad_packed_sequence_round_trip_matches_pytorch(batch_first, total_length):
    x = rng.standard_normal((5, 4, 2))
    lengths = [3, 5, 1, 4]
    packed_ours = ours.pack_padded_sequence(at.Tensor(x), lengths, enforce_sorted=False)
    packed_theirs = theirs.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=False)
    data_ours = at.Tensor(packed_ours.data.data.copy(), requires_grad=True)
    data_theirs = torch.tensor(packed_theirs.data.numpy().copy(), requires_grad=True)
    padded, out_lengths = ours.pad_packed_sequence(
        ours.PackedSequence(data_ours, packed_ours.batch_sizes, packed_ours.sorted_indices,
                            packed_ours.unsorted_indices), batch_first, 0.25, total_length)
    expected, expected_lengths = theirs.pad_packed_sequence(
        theirs.PackedSequence(data_theirs, packed_theirs.batch_sizes,
                              packed_theirs.sorted_indices, packed_theirs.unsorted_indices),
        batch_first, 0.25, total_length)
    np.testing.assert_array_equal(padded.data, expected.detach().numpy())
    np.testing.assert_array_equal(out_lengths.data, expected_lengths.numpy())
    assert out_lengths.dtype == np.int64
    weights = rng.standard_normal(tuple(expected.shape))
    (padded * at.Tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(data_ours.grad.data, data_theirs.grad.numpy(), rtol=1e-14)


def test_pack_sequence_and_unpack_sequence_match_pytorch():
    mine, reference = sequences([2, 4, 3])
    packed = ours.pack_sequence(mine, enforce_sorted=False)
    expected = theirs.pack_sequence(reference, enforce_sorted=False)
    assert_packed_equal(packed, expected)
    for a, b in zip(ours.unpack_sequence(packed), theirs.unpack_sequence(expected)):
        np.testing.assert_array_equal(a.data, b.detach().numpy())
    padded = ours.pad_sequence(mine, batch_first=True)
    for a, b in zip(ours.unpad_sequence(padded, at.tensor([2, 4, 3]), batch_first=True), mine):
        np.testing.assert_array_equal(a.data, b.data)


def test_packed_sequence_fields_and_conversions():
    data = at.randn(6, 2)
    packed = ours.PackedSequence(data, [3, 2, 1], sorted_indices=[2, 0, 1])
    np.testing.assert_array_equal(packed.unsorted_indices.data, [1, 2, 0])
    assert packed.to(at.float64).data.dtype == np.float64
    assert packed.double().batch_sizes.dtype == np.int64
    assert not packed.is_cuda
    data_, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data_ is data
    pair = ours.PackedSequence((data, at.tensor([3, 2, 1])))
    np.testing.assert_array_equal(pair.batch_sizes.data, [3, 2, 1])


def test_bad_lengths_are_clear_errors():
    x = at.zeros(5, 3, 2)
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        ours.pack_padded_sequence(x, [5, 3, 4])
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        theirs.pack_padded_sequence(torch.zeros(5, 3, 2), [5, 3, 4])
    with pytest.raises(RuntimeError, match="greater than 0"):
        ours.pack_padded_sequence(x, [5, 3, 0], enforce_sorted=False)
    with pytest.raises(RuntimeError, match="Expected `len\\(lengths\\)` to be equal to batch"):
        ours.pack_padded_sequence(x, [5, 3])
    with pytest.raises(ValueError, match="longer than the padded input's 5 steps"):
        ours.pack_padded_sequence(x, [6, 3, 1])
    packed = ours.pack_padded_sequence(x, [5, 3, 1])
    with pytest.raises(ValueError, match="total_length=4 and max sequence length being 5"):
        ours.pad_packed_sequence(packed, total_length=4)


def test_bad_sequences_are_clear_errors():
    with pytest.raises(RuntimeError, match="empty list"):
        ours.pad_sequence([])
    with pytest.raises(at.ShapeError, match="sequence 1 has shape \\(3, 4\\)"):
        ours.pad_sequence([at.zeros(2, 3), at.zeros(3, 4)])
    with pytest.raises(RuntimeError, match="padding_side to be one of left or right"):
        ours.pad_sequence([at.zeros(2, 3)], padding_side="middle")


def test_clip_grad_norm_still_importable_from_nn_utils():
    from abdou_torch.nn.utils import clip_grad_norm_
    from abdou_torch import nn
    assert nn.utils.clip_grad_norm_ is clip_grad_norm_
    assert nn.utils.rnn.pad_sequence is ours.pad_sequence
