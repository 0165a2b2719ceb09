"""Shape ops beyond the table: memory sharing, index gradients, argument forms."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")


def test_repeated_indices_accumulate_gradient():
    x = at.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[at.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_index_forms_match_numpy():
    x = np.arange(24.0).reshape(2, 3, 4)
    t = at.tensor(x)
    for key in [(0, slice(None), -1), (Ellipsis, 1), (None, 1), ([1, 0], [2, 2]),
                (slice(None), [0, 0]), (x > 10,), (1, [True, False, True])]:
        np.testing.assert_array_equal(t[key].numpy(), x[key])
    np.testing.assert_array_equal(t[[1, 0]].numpy(), x[[1, 0]])


def test_reshape_view_and_basic_index_share_memory_like_torch():
    x = at.zeros(2, 3)
    x.view(6).numpy()[0] = 1
    x[1].numpy()[2] = 5
    assert x.tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 5.0]]


def test_shape_argument_forms():
    x = at.zeros(2, 3, 4)
    assert x.reshape(4, 6).shape == x.reshape((4, 6)).shape == x.reshape([4, 6]).shape
    assert x.view(-1, 4).shape == (6, 4)
    assert x.permute(2, 0, 1).shape == x.permute((2, 0, 1)).shape == (4, 2, 3)
    assert x.expand(5, 2, 3, 4).shape == (5, 2, 3, 4)
    assert at.zeros(3, 1).expand(-1, 4).shape == (3, 4)
    assert x.flatten(0, 1).shape == (6, 4) and x.flatten(-2).shape == (2, 12)
    assert x.squeeze().shape == (2, 3, 4) and at.zeros(1, 1).squeeze().shape == ()
    assert at.zeros(3, 1, 2, 1).squeeze((1, 3)).shape == (3, 2)
    assert x.unsqueeze(3).shape == (2, 3, 4, 1) and x.unsqueeze(-4).shape == (1, 2, 3, 4)
    assert x.transpose(-1, 0).shape == (4, 3, 2) and x.movedim(2, 0).shape == (4, 2, 3)


@pytest.mark.parametrize("length, chunks", [(5, 2), (6, 4), (2, 5), (7, 3), (1, 1)])
def test_chunk_and_split_sizes_match_torch(length, chunks):
    ours = [c.shape[0] for c in at.zeros(length).chunk(chunks)]
    theirs = [c.shape[0] for c in torch.zeros(length).chunk(chunks)]
    assert ours == theirs
    assert [c.shape[0] for c in at.zeros(length).split(chunks)] == \
        [c.shape[0] for c in torch.zeros(length).split(chunks)]


def test_gather_with_index_smaller_than_input_matches_torch():
    x = np.arange(12.0).reshape(3, 4)
    index = [[3, 0], [1, 1]]
    ours = at.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    a, b = at.gather(ours, 1, at.tensor(index)), torch.gather(theirs, 1, torch.tensor(index))
    assert a.tolist() == b.tolist()
    a.sum().backward()
    b.sum().backward()
    assert ours.grad.tolist() == theirs.grad.tolist()


def test_cat_promotes_dtypes_like_torch():
    ours = at.cat([at.tensor([1]), at.tensor([2.0])])
    theirs = torch.cat([torch.tensor([1]), torch.tensor([2.0])])
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32
    assert at.cat([at.tensor([1.0]), at.tensor([2.0], dtype=at.float64)]).dtype == np.float64


def test_cat_gradient_only_for_inputs_that_require_it():
    a = at.tensor([1.0, 2.0], requires_grad=True)
    b = at.tensor([3.0])
    (at.cat([a, b]) * at.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0] and b.grad is None


def test_unbind_and_iteration_give_differentiable_rows():
    x = at.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    first, second = x.unbind(0)
    (first * 2 + second * 3).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [3.0, 3.0]]
    assert [row.tolist() for row in x] == [[1.0, 2.0], [3.0, 4.0]]


_ARGUMENT_CASES = [
    ("narrow 0-d, float length", (), lambda t: t.narrow(0, 0, 0.0)),
    ("narrow 0-d, float dim", (), lambda t: t.narrow(1.0, 0, 1)),
    ("select 0-d, float index", (), lambda t: t.select(0, 0.0)),
    ("select 0-d, None index", (), lambda t: t.select(0, None)),
    ("split 0-d, numpy size", (), lambda t: t.split(np.int64(0), 0)),
    ("split numpy size", (3, 4), lambda t: t.split(np.int64(1), 0)),
    ("split bool size", (3, 4), lambda t: t.split(True, 0)),
    ("permute without dims", (), lambda t: t.permute()),
    ("permute without dims, 2-d", (3, 4), lambda t: t.permute()),
    ("expand without sizes", (), lambda t: t.expand()),
    ("reshape without shape", (), lambda t: t.reshape()),
]


@pytest.mark.parametrize("what, shape, fn", _ARGUMENT_CASES, ids=[c[0] for c in _ARGUMENT_CASES])
def test_argument_types_are_checked_first_like_torch(what, shape, fn):
    """PyTorch's argument parser rejects a wrong type before any check on the tensor."""
    with pytest.raises(TypeError):
        fn(torch.ones(shape))
    with pytest.raises(TypeError):
        fn(at.ones(shape))


@pytest.mark.parametrize("shape, fn", [((), lambda t: t.permute(())),
                                       ((), lambda t: t.expand(())),
                                       ((), lambda t: t.reshape(())),
                                       ((1, 3), lambda t: t.squeeze(np.int64(0))),
                                       ((1,), lambda t: t.split([np.int64(1)], 0)[0])])
def test_empty_shapes_and_numpy_ints_accepted_like_torch(shape, fn):
    assert tuple(fn(at.ones(shape)).shape) == tuple(fn(torch.ones(shape)).shape)
