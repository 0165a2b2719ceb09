"""Property tests: hypothesis draws shapes, broadcasting pairs, dims and indices, and every
result and gradient is compared with PyTorch (float64)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import abdou_torch as at

torch = pytest.importorskip("torch")

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)


@st.composite
def broadcast_pair(draw):
    shape = draw(shapes)
    other = list(shape)
    for i in range(len(other)):
        if draw(st.booleans()):
            other[i] = 1
    other = other[draw(st.integers(0, len(other))):]   # drop some leading dims
    pair = (tuple(shape), tuple(other))
    return pair if draw(st.booleans()) else pair[::-1]


def values(draw, shape, low=-3.0, high=3.0):
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return np.random.default_rng(seed).uniform(low, high, shape)


def run_both(fn, arrays, grad=True):
    """Forward fn in both libraries, then backward of sum(out * w); returns the pairs."""
    results = []
    rng = np.random.default_rng(0)
    weights = None
    for lib in (at, torch):
        xs = [lib.tensor(a, requires_grad=grad) for a in arrays]
        out = fn(lib, *xs)
        if weights is None:
            weights = rng.standard_normal(tuple(out.shape))
        if grad:
            (out * lib.tensor(weights)).sum().backward()
        results.append((out, [x.grad for x in xs]))
    return results


def assert_match(results, grad=True):
    (ours, our_grads), (theirs, their_grads) = results
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    if grad:
        for mine, ref in zip(our_grads, their_grads):
            assert mine.shape == tuple(ref.shape)
            np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


@given(st.data(), broadcast_pair(),
       st.sampled_from(["add", "sub", "mul", "div", "maximum", "where", "pow"]))
def test_broadcasting_binary_ops_and_gradients_match_torch(data, pair, name):
    a = values(data.draw, pair[0])
    b = values(data.draw, pair[1], 0.5, 2.0)
    ops = {"add": lambda lib, x, y: x + y, "sub": lambda lib, x, y: x - y,
           "mul": lambda lib, x, y: x * y, "div": lambda lib, x, y: x / y,
           "maximum": lambda lib, x, y: lib.maximum(x, y),
           "where": lambda lib, x, y: lib.where(x > 0, x, y),
           "pow": lambda lib, x, y: y ** x}
    assert_match(run_both(ops[name], [a, b]))


@st.composite
def tensor_and_dims(draw):
    shape = draw(shapes)
    ndim = len(shape)
    if ndim == 0:
        return shape, None
    dims = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim,
                         unique_by=lambda d: d % ndim))
    return shape, tuple(dims) if len(dims) > 1 or draw(st.booleans()) else dims[0]


@given(st.data(), tensor_and_dims(), st.booleans(),
       st.sampled_from(["sum", "mean", "amax", "amin", "logsumexp", "var", "std"]))
def test_reductions_over_random_dims_match_torch(data, shape_dims, keepdim, name):
    shape, dims = shape_dims
    x = values(data.draw, shape)
    if name in ("var", "std"):
        count = int(np.prod([shape[d] for d in np.atleast_1d(dims)])) if dims is not None \
            else int(np.prod(shape))
        if count < 2:
            return
    if dims is None:
        fn = {"logsumexp": lambda lib, t: lib.logsumexp(t, 0, keepdim)}.get(
            name, lambda lib, t: getattr(t, name)())
    else:
        fn = lambda lib, t: getattr(lib, name)(t, dims, keepdim=keepdim)  # noqa: E731
    assert_match(run_both(fn, [x]))


@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4),
       st.booleans())
def test_max_min_with_dim_match_torch(data, shape, keepdim):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = values(data.draw, shape)
    for name in ("max", "min"):
        results = run_both(lambda lib, t, n=name: getattr(t, n)(dim, keepdim=keepdim)[0], [x])
        assert_match(results)
        ours = getattr(at.tensor(x), name)(dim=dim, keepdim=keepdim).indices
        theirs = getattr(torch.tensor(x), name)(dim=dim, keepdim=keepdim).indices
        assert ours.dtype == np.int64 and ours.tolist() == theirs.tolist()


@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
def test_permute_and_reshape_round_trips(data, shape):
    x = values(data.draw, shape)
    order = data.draw(st.permutations(range(len(shape))))
    inverse = tuple(np.argsort(order))
    t = at.tensor(x, requires_grad=True)
    permuted = t.permute(*order)
    np.testing.assert_array_equal(permuted.numpy(), np.transpose(x, order))
    back = permuted.permute(inverse).reshape(-1).reshape(shape)
    np.testing.assert_array_equal(back.numpy(), x)
    weights = np.random.default_rng(0).standard_normal(shape)
    (back * at.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), weights)
    assert_match(run_both(lambda lib, y: y.permute(*order).flatten(), [x]))


@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
def test_getitem_with_integer_arrays_matches_torch(data, shape):
    x = values(data.draw, shape)
    index = data.draw(hnp.arrays(np.int64, data.draw(hnp.array_shapes(max_dims=2, max_side=6)),
                                 elements=st.integers(-shape[0], shape[0] - 1)))
    assert_match(run_both(lambda lib, t: t[lib.tensor(index)], [x]))
    if len(shape) > 1:
        second = data.draw(st.integers(-shape[1], shape[1] - 1))
        assert_match(run_both(lambda lib, t: t[lib.tensor(index), second], [x]))


@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
def test_getitem_with_boolean_masks_matches_torch(data, shape):
    x = values(data.draw, shape)
    mask = data.draw(hnp.arrays(np.bool_, shape))
    assert_match(run_both(lambda lib, t: t[lib.tensor(mask)], [x]))
    row_mask = data.draw(hnp.arrays(np.bool_, shape[:1]))
    assert_match(run_both(lambda lib, t: t[lib.tensor(row_mask)], [x]))


@given(st.data(), st.integers(0, 3), st.integers(1, 4), st.integers(1, 4), st.integers(1, 4))
def test_batched_matmul_broadcasting_matches_torch(data, batch_dims, n, k, m):
    batch = data.draw(hnp.array_shapes(min_dims=batch_dims, max_dims=batch_dims, max_side=3)) \
        if batch_dims else ()
    a_batch = tuple(1 if data.draw(st.booleans()) else s for s in batch)
    b_batch = tuple(1 if data.draw(st.booleans()) else s for s in batch)
    b_batch = b_batch[data.draw(st.integers(0, len(b_batch))):]
    a_shape = (k,) if data.draw(st.booleans()) else a_batch + (n, k)
    b_shape = (k,) if data.draw(st.booleans()) else b_batch + (k, m)
    a, b = values(data.draw, a_shape), values(data.draw, b_shape)
    assert_match(run_both(lambda lib, x, y: x @ y, [a, b]))


@given(st.data(), hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5))
def test_split_then_cat_round_trip(data, shape):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = data.draw(st.integers(1, shape[dim]))
    x = values(data.draw, shape)
    t = at.tensor(x, requires_grad=True)
    pieces = t.split(size, dim)
    assert [p.shape[dim] for p in pieces] == [s.shape[dim] for s in
                                              torch.tensor(x).split(size, dim)]
    joined = at.cat(pieces, dim)
    np.testing.assert_array_equal(joined.numpy(), x)
    (joined * 2).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.full(shape, 2.0))
