"""Hand-tuned kernels are named fast paths beside the formula they implement: each must
give what its formula gives."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at
from abdou_torch.autograd.namespace import ARRAYS
from abdou_torch.ops.elementwise import _maximum_with_zero, _passes_gradient, _relu_backward_pooled
from abdou_torch.ops.normalization import BatchNorm
from abdou_torch.ops.workspace import workspace

rng = np.random.default_rng(11)


def _with_specials(values: np.ndarray) -> np.ndarray:
    flat = values.reshape(-1)
    flat[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45]
    return values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_pooled_backward_equals_its_formula(dtype):
    size = workspace.min_bytes // np.dtype(dtype).itemsize + 123  # over the pool's threshold
    x = _with_specials(rng.standard_normal(size).astype(dtype))
    dy = rng.standard_normal(size).astype(dtype)
    expected = np.where(_passes_gradient(x), dy, 0)
    np.testing.assert_array_equal(_relu_backward_pooled(dy, x), expected)
    dy[-3:] = [np.inf, -np.inf, np.nan]  # an infinite dy where x <= 0 gives 0, not NaN
    x[-3:] = -1.0
    np.testing.assert_array_equal(_relu_backward_pooled(dy, x), np.where(_passes_gradient(x),
                                                                          dy, 0))
    assert not np.isnan(_relu_backward_pooled(dy, x)[-3:]).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_blocked_maximum_equals_numpy_maximum(dtype):
    x = _with_specials(rng.standard_normal(3 * (1 << 16) + 7).astype(dtype))
    out = np.empty_like(x)
    _maximum_with_zero(x, out)
    expected = np.where(x < 0, 0, x)  # -0.0 stays -0.0, as PyTorch's relu(-0.0)
    np.testing.assert_array_equal(out, expected)
    assert np.array_equal(np.signbit(out), np.signbit(expected))


@pytest.mark.parametrize("shape, weighted", [((8, 3, 5, 4), True), ((16, 4), False),
                                             ((64, 8, 28, 28), True)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_batch_norm_backward_equals_its_formula(shape, weighted, dtype):
    x = at.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    channels = shape[1]
    weight = at.tensor(rng.uniform(0.5, 2, channels).astype(dtype), requires_grad=True) \
        if weighted else None
    bias = at.tensor(rng.standard_normal(channels).astype(dtype), requires_grad=True)
    out = BatchNorm.apply(x, weight, bias, 1e-5)
    node = out.grad_fn
    dy = rng.standard_normal(shape).astype(dtype)
    fused = node._backward_fused(dy)
    formula = node._formula(ARRAYS, dy)
    rtol = 1e-12 if dtype == np.float64 else 2e-4
    for fast, reference in zip(fused, formula):
        if reference is None:
            assert fast is None
            continue
        np.testing.assert_allclose(fast, reference, rtol=rtol, atol=rtol * 10)


@pytest.mark.parametrize("shape", [(8, 3, 5, 4), (64, 8, 28, 28)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_relu_is_batch_norm_then_relu(shape, dtype):
    """The fused primitive (in-place maximum, mask from the output, BatchNorm's fused
    backward) gives what the two primitives give, NaN included."""
    from abdou_torch.ops.normalization import BatchNormReLU
    values = rng.standard_normal(shape).astype(dtype)
    values[0, 0, 0] = np.nan
    weight_values = rng.uniform(-2, 2, shape[1]).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    results = []
    for fused in (True, False):
        x = at.tensor(values.copy(), requires_grad=True)
        weight = at.tensor(weight_values.copy(), requires_grad=True)
        bias = at.tensor(np.linspace(-1, 1, shape[1]).astype(dtype), requires_grad=True)
        out = BatchNormReLU.apply(x, weight, bias, 1e-5) if fused else \
            at.relu(BatchNorm.apply(x, weight, bias, 1e-5))
        out.backward(at.tensor(dy))
        results.append([out.data, x.grad.data, weight.grad.data, bias.grad.data])
    for fast, reference in zip(*results):
        np.testing.assert_array_equal(fast, reference)


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_cumprod_masked_backward_with_zeros_equals_its_formula(dim):
    data = rng.uniform(0.5, 1.5, (5, 6, 4)) * rng.choice([-1, 1], (5, 6, 4))
    data[rng.random(data.shape) < 0.25] = 0.0  # slices with no, one, two and more zeros
    x = at.tensor(data, requires_grad=True)
    y = at.cumprod(x, dim)  # kept alive: the node reads it
    node = y.grad_fn
    dy = rng.standard_normal(data.shape)
    fast = node._first_order_with_zeros(dy)
    formula = node._backward_with_zeros(ARRAYS, dy, data)
    np.testing.assert_allclose(fast, formula, rtol=1e-12, atol=1e-12)



def _sequence_arrays(kernel, dtype, length=6, batch=5, hidden=4, projection=None):
    """The inputs of a sequence kernel (gx, h0, [c0,] w_hh, [w_hr or b_hh]), with gates
    large enough to saturate."""
    from abdou_torch.ops import rnn
    gates = {rnn.LSTMSequence: 4, rnn.GRUSequence: 3, rnn.RNNSequence: 1}[kernel]
    width = projection or hidden
    shapes = [(length, batch, gates * hidden), (batch, width)]
    shapes += [(batch, hidden)] if kernel is rnn.LSTMSequence else []
    shapes.append((gates * hidden, width))
    shapes += {rnn.LSTMSequence: [(projection, hidden)] if projection else [],
               rnn.GRUSequence: [(gates * hidden,)], rnn.RNNSequence: []}[kernel]
    arrays = [rng.standard_normal(s).astype(dtype) * 1.5 for s in shapes]
    return arrays + ([None] if kernel is rnn.LSTMSequence and not projection else [])


def _sequence_cases():
    from abdou_torch.ops import rnn
    return [(rnn.LSTMSequence, None, {}), (rnn.LSTMSequence, 3, {}),
            (rnn.GRUSequence, None, {}), (rnn.RNNSequence, None, {"nonlinearity": "tanh"}),
            (rnn.RNNSequence, None, {"nonlinearity": "relu"})]


@pytest.mark.parametrize("kernel, projection, options", _sequence_cases())
@pytest.mark.parametrize("batch_sizes", [None, (5, 5, 4, 2, 2, 1)])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("split", [False, True])
def test_sequence_fast_paths_equal_their_formulas(kernel, projection, options, batch_sizes,
                                                  reverse, dtype, split, monkeypatch):
    """The sequence kernels' in-place forward and backward through time give what their
    formulas give on arrays: the output, and the gradient of every input; ``split``: with
    the recurrent products in column blocks (ops/step_product.py, uneven last block)."""
    from abdou_torch.ops import rnn, step_product
    if split:
        monkeypatch.setattr(step_product, "plan", lambda rows, k, n, dtype: (max(1, n // 3), "F"))
    arrays = _sequence_arrays(kernel, dtype, projection=projection)
    settings = dict(batch_sizes=batch_sizes, reverse=reverse, **options)
    node = kernel.__new__(kernel)
    assert node._fast_path_applies(*arrays)
    run, fast_output = node._forward_fast(*arrays, **settings)
    saved = node._forward(rnn.ARRAYS, *arrays, **settings)
    formula_output = node._output(rnn.ARRAYS, saved)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    assert fast_output.dtype == formula_output.dtype == dtype
    np.testing.assert_allclose(fast_output, formula_output, rtol=rtol, atol=rtol)
    dy = rng.standard_normal(fast_output.shape).astype(dtype)
    fast = node._backward_fast(run, dy, *arrays, **settings)
    formula = node._backward(rnn.ARRAYS, saved, dy, *arrays, **settings)
    assert len(fast) == len(formula)
    for fast_grad, reference in zip(fast, formula):
        if reference is None:
            assert fast_grad is None
            continue
        assert fast_grad.dtype == dtype
        np.testing.assert_allclose(fast_grad, reference, rtol=rtol, atol=rtol * 10)


@pytest.mark.parametrize("kernel, projection, options", _sequence_cases()[::2])
def test_sequence_kernels_take_their_formulas_for_mixed_dtypes(kernel, projection, options):
    arrays = _sequence_arrays(kernel, np.float64, projection=projection)
    position = 3 if kernel.__name__ == "LSTMSequence" else 2  # w_hh
    arrays[position] = arrays[position].astype(np.float32)
    node = kernel.__new__(kernel)
    assert not node._fast_path_applies(*arrays)
    output = kernel.apply(*arrays, **options)
    assert output.dtype == np.float64

@pytest.mark.parametrize("shape, count", [((12, 64, 128), 1), ((2, 3, 4), 2), ((6,), 1),
                                          ((5, 7), 2)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_row_kernels_equal_their_formula(shape, count, affine, dtype):
    """``_normalized_rows`` and ``LayerNorm._backward_rows`` against ``_normalized`` and
    ``LayerNorm._formula`` on the same arrays (a non-contiguous input, a row with an
    infinity, and one with a NaN included)."""
    from abdou_torch.ops.normalization import _normalized, _normalized_rows
    x0 = (rng.standard_normal(shape[:-1] + (2 * shape[-1],)) * 3 + 1).astype(dtype)
    x0 = x0[..., ::2]  # a strided view
    if x0.size >= 3 * shape[-1] and len(shape) > 1:
        x0.reshape(-1, shape[-1])[1, 0] = np.inf
        x0.reshape(-1, shape[-1])[2, 1] = np.nan
    dims = tuple(range(x0.ndim - count, x0.ndim))
    x_hat, r = _normalized_rows(x0, count, 1e-5)
    expected_hat, expected_r = _normalized(x0, dims, 1e-5, ARRAYS)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(x_hat, expected_hat, **tol)
    np.testing.assert_allclose(r, expected_r, **tol)
    assert r.shape == expected_r.shape and x_hat.dtype == dtype and r.dtype == dtype
    normalized = x0.shape[x0.ndim - count:]
    weight = at.tensor(rng.uniform(0.5, 2, normalized).astype(dtype), requires_grad=True) \
        if affine else None
    bias = at.tensor(rng.standard_normal(normalized).astype(dtype), requires_grad=True) \
        if affine else None
    x = at.tensor(x0, requires_grad=True)
    node = at.nn.functional.layer_norm(x, normalized, weight, bias).grad_fn
    dy = rng.standard_normal(x0.shape).astype(dtype)
    fast, formula = node._backward_rows(dy), node._formula(ARRAYS, dy)
    for got, want in zip(fast, formula):
        if want is None:
            assert got is None
            continue
        assert got.dtype == dtype
        if want.shape == got.shape:
            np.testing.assert_allclose(got, want, **tol)
            continue
        # dw and db: sums over the rows, both rounded along the way (float32: about
        # sqrt(rows) ulps of the terms, which are of order 1 here)
        rows = want.size // got.size
        want = want.reshape(rows, *normalized).astype(np.float64).sum(0)
        np.testing.assert_allclose(got, want, rtol=tol["rtol"],
                                   atol=tol["atol"] * 3 * np.sqrt(rows))


@pytest.mark.parametrize("width", [64, 65, 7, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_row_max_and_sum_equal_numpy(width, dtype):
    from abdou_torch.ops.attention import _row_max, _row_sum
    x = _with_specials(rng.standard_normal((3, 5, width)).astype(dtype))
    x[1, 2] = -np.inf  # a row that may attend to nothing
    np.testing.assert_array_equal(_row_max(x), np.max(x, axis=-1, keepdims=True))
    finite = rng.random((3, 5, width)).astype(dtype)
    tol = dict(rtol=1e-6) if dtype == np.float32 else dict(rtol=1e-14)
    np.testing.assert_allclose(_row_sum(finite), np.sum(finite, axis=-1, keepdims=True), **tol)


@pytest.mark.parametrize("bias_kind", [None, "causal", "float", "broadcast"])
@pytest.mark.parametrize("dropout", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attention_array_kernels_equal_their_formula(bias_kind, dropout, dtype):
    """``_weights_arrays`` against softmax(q k^T scale + bias) written with np.max and
    np.sum, and ``_backward_arrays`` against ``_formula`` on the same arrays."""
    from abdou_torch.ops.attention import ScaledDotProductAttention
    q0, k0, v0 = (rng.standard_normal((2, 3, 6, 4)).astype(dtype) for _ in range(3))
    bias0 = {None: None,
             "causal": np.where(np.tri(6, 6, dtype=bool), 0, -np.inf).astype(dtype),
             "float": rng.standard_normal((2, 3, 6, 6)).astype(dtype),
             "broadcast": rng.standard_normal((3, 1, 6)).astype(dtype)}[bias_kind]
    if bias0 is not None and bias_kind != "causal":
        bias0.reshape(-1)[:6] = -np.inf  # a row of the first head attends to nothing
    keep = (rng.random((2, 3, 6, 6)) >= 0.3).astype(dtype) / 0.7 if dropout else None
    q, k, v = (at.tensor(a, requires_grad=True) for a in (q0, k0, v0))
    bias = at.tensor(bias0, requires_grad=True) if bias0 is not None else None
    out = ScaledDotProductAttention.apply(q, k, v, bias, 0.5, keep)
    node = out.grad_fn
    scores = q0 @ k0.swapaxes(-1, -2) * dtype(0.5) + (0 if bias0 is None else bias0)
    shift = np.max(scores, axis=-1, keepdims=True)
    exp = np.exp(scores - np.where(np.isfinite(shift), shift, 0))
    total = np.sum(exp, axis=-1, keepdims=True)
    expected = exp / np.where(total == 0, 1, total)
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(node.weights, expected, **tol)
    do = rng.standard_normal(out.shape).astype(dtype)
    fast, formula = node._backward_arrays(do), node._formula(ARRAYS, do)
    for got, want in zip(fast, formula):
        assert (got is None) == (want is None)
        if want is not None:
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("shape, transposed", [((3, 40000), False), ((700, 100), True),
                                               ((5,), False), ((), False)])
def test_gelu_float32_blocks_equal_the_unblocked_formula(shape, transposed):
    """The blocked float32 GELU (``_gelu_float32``, ``Gelu._backward_float32``) against the
    same float32 Phi on the whole array at once and ``Gelu._backward_fast``: several blocks
    and a partial last one, a transposed (non-contiguous) input, a 0-d one."""
    from abdou_torch.ops.elementwise import _GELU_BLOCK, _normal_cdf_block
    assert 3 * 40000 > _GELU_BLOCK  # the first case spans blocks, the last one partial
    x0 = (rng.standard_normal(shape) * 4).astype(np.float32)
    x0 = x0.T if transposed else x0
    if x0.size > 8:
        _with_specials(x0.reshape(-1) if x0.flags.c_contiguous else x0[0])
    x = at.tensor(x0, requires_grad=True)
    y = at.gelu(x)
    flat = np.ascontiguousarray(x0).reshape(-1)
    cdf, half_square = np.empty_like(flat), np.empty_like(flat)
    with np.errstate(over="ignore", invalid="ignore"):
        _normal_cdf_block(flat, cdf, half_square, np.empty_like(flat), np.empty_like(flat))
        np.testing.assert_array_equal(y.numpy(), (flat * cdf).reshape(x0.shape))
        dy = rng.standard_normal(x0.shape).astype(np.float32)
        node = y.grad_fn
        np.testing.assert_allclose(node._backward_float32(dy), node._backward_fast(dy),
                                   rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("rows_shape, shape", [((12, 64), (65, 8)), ((7,), (3, 2, 4)),
                                               ((5,), (5,)), ((2, 3), (4, 1))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_index_add_of_rows_equals_add_at(rows_shape, shape, dtype):
    """``_index_add_rows`` (an embedding's gradient) against np.add.at: repeated and
    negative indices, rows of several dims, a single column."""
    from abdou_torch.ops.shape import _adds_rows, _index_add_rows
    rows = rng.integers(-shape[0], shape[0], rows_shape)
    x = _with_specials(rng.standard_normal(rows_shape + shape[1:]).astype(dtype)) \
        if len(shape) > 1 else rng.standard_normal(rows_shape).astype(dtype)
    assert _adds_rows(x, shape, (rows,))
    expected = np.zeros(shape, dtype=dtype)
    np.add.at(expected, (rows,), x)
    got = _index_add_rows(x, shape, rows)
    assert got.dtype == dtype and got.shape == shape
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == np.float32 else 1e-14,
                               atol=1e-6)
    assert not _adds_rows(x, shape, (rows, 0)) and not _adds_rows(x, shape, (rows[:0],))


def test_index_add_of_rows_leaves_rows_that_receive_nothing_at_zero():
    from abdou_torch.ops.shape import _index_add_rows
    x = rng.standard_normal((3, 2)).astype(np.float32)
    x[0, 0] = np.inf
    got = _index_add_rows(x, (5, 2), np.array([1, 1, 2]))
    np.testing.assert_array_equal(got, [[0, 0], x[0] + x[1], x[2], [0, 0], [0, 0]])


def test_compiled_gpt_step_with_batches_of_different_unique_token_counts():
    """The embedding's gradient has shapes fixed by the input shapes (not by how many
    distinct tokens a batch holds), so a compiled training step replays it for any batch
    (a version sized by np.flatnonzero broke there) and gives eager's losses."""
    from abdou_torch.models.gpt import GPT, GPTConfig
    config = GPTConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=8)

    def make():
        at.manual_seed(0)
        model = GPT(config)
        return model, at.optim.AdamW(model.parameters(), lr=1e-2)

    def step(model, optimizer, tokens, targets):
        out = model(tokens)
        logits = out[0] if isinstance(out, tuple) else out
        loss = at.nn.functional.cross_entropy(logits.reshape(-1, 20), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    eager, compiled_pair = make(), make()
    compiled = at.compile(lambda tokens, targets: step(*compiled_pair, tokens, targets))
    data = np.random.default_rng(0)
    for vocabulary in (4, 7, 10, 13, 16):
        tokens, targets = data.integers(0, vocabulary, (3, 8)), data.integers(0, 20, (3, 8))
        expected = step(*eager, at.tensor(tokens), at.tensor(targets))
        assert compiled(at.tensor(tokens), at.tensor(targets)).item() == expected.item()
