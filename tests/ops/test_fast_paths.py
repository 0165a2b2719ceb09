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
def test_sequence_fast_paths_equal_their_formulas(kernel, projection, options, batch_sizes,
                                                  reverse, dtype):
    """The sequence kernels' in-place forward and backward through time give what their
    formulas give on arrays: the output, and the gradient of every input."""
    from abdou_torch.ops import rnn
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
