"""Elementwise ops beyond the table: dtype promotion against PyTorch, integer inputs,
comparisons, tie and kink conventions, numerical stability."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]


def _make(lib, dtype: str, zero_dim: bool):
    values = np.array(1 if zero_dim else [1, 0, 1]).astype(dtype)
    if lib is torch:
        return torch.from_numpy(np.array(values))
    return at.tensor(values)


@pytest.mark.parametrize("left, right", list(itertools.product(DTYPES, DTYPES)))
@pytest.mark.parametrize("dims", ["vv", "v0", "0v"])
def test_binary_dtype_promotion_matches_torch(left, right, dims):
    ops = {"add": lambda a, b: a * b + a, "div": lambda a, b: a / (b + 1)}
    if "bool" in (left, right):
        ops = {"mul": lambda a, b: a * b}
    for name, op in ops.items():
        ours = op(_make(at, left, dims[0] == "0"), _make(at, right, dims[1] == "0"))
        theirs = op(_make(torch, left, dims[0] == "0"), _make(torch, right, dims[1] == "0"))
        assert str(ours.dtype) == str(theirs.dtype), name


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", [2, 2.5, True])
def test_python_scalar_promotion_matches_torch(dtype, scalar):
    ours = _make(at, dtype, False) * scalar
    theirs = _make(torch, dtype, False) * scalar
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_float32_parameter_with_float64_scalar_tensor_stays_float32():
    w = at.ones(3)
    assert (w * at.tensor(np.float64(0.5))).dtype == np.float32
    assert (w * np.float64(0.5)).dtype == np.float32
    assert (w * at.ones(3, dtype=at.float64)).dtype == np.float64


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos"])
def test_unary_maths_on_integers_gives_default_float(name):
    ours = getattr(at, name)(at.tensor([1, 2]))
    theirs = getattr(torch, name)(torch.tensor([1, 2]))
    assert ours.dtype == np.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_integer_arithmetic_matches_torch():
    a, b = [7, -7, 3], [2, 2, -2]
    for op in (lambda x, y: x / y, lambda x, y: x * y - y, lambda x, y: x ** 2,
               lambda x, y: -x, lambda x, y: abs(x)):
        ours, theirs = op(at.tensor(a), at.tensor(b)), op(torch.tensor(a), torch.tensor(b))
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_integer_powers_follow_torch():
    x = at.tensor([2, 3])
    with pytest.raises(RuntimeError, match="negative integer powers"):
        x ** -1
    with pytest.raises(RuntimeError, match="negative integer powers"):
        torch.tensor([2, 3]) ** -1
    for exponent in (2, 0, -1.0, 0.5):
        ours, theirs = x ** exponent, torch.tensor([2, 3]) ** exponent
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_comparisons_return_bool_without_grad():
    x = at.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x > 1.5, x >= 2, x < x, x <= 2.0, x == 2, x != 2, 2 < x):
        assert result.dtype == np.bool_ and not result.requires_grad and result.is_leaf
    assert (x > 1.5).tolist() == [False, True, True]
    assert (2 < x).tolist() == [False, False, True]
    assert (~(x > 1.5)).tolist() == [True, False, False]


def test_kink_conventions_match_torch():
    values = [-1.0, 0.0, 1.0]

    def grads(lib, fn):
        x = lib.tensor(values, requires_grad=True)
        fn(lib, x).sum().backward()
        return x.grad.numpy()

    for fn in (lambda lib, x: lib.relu(x), lambda lib, x: abs(x),
               lambda lib, x: x.clamp(0.0, 1.0),
               lambda lib, x: (lib.nn.functional if lib is torch else lib).leaky_relu(x, 0.2),
               lambda lib, x: lib.maximum(x, lib.zeros(3)),
               lambda lib, x: lib.minimum(x, lib.zeros(3)),
               lambda lib, x: x.max(), lambda lib, x: lib.tensor([1.0, 1.0, 1.0]) * x.amax()):
        np.testing.assert_array_equal(grads(at, fn), grads(torch, fn))


def test_sigmoid_and_logsumexp_are_stable_for_large_inputs():
    x = at.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    assert at.sigmoid(x).tolist() == [0.0, 0.5, 1.0]
    at.sigmoid(x).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    big = at.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]])
    np.testing.assert_allclose(at.logsumexp(big, 1).numpy(), [1000 + np.log(2), -1000 + np.log(2)])
    with np.errstate(divide="ignore"):
        assert at.logsumexp(at.tensor([-np.inf, -np.inf]), 0).item() == -np.inf


def test_where_gradient_flows_only_to_chosen_branch_and_broadcasts():
    a = at.tensor([[1.0, -2.0, 3.0]], requires_grad=True)
    b = at.tensor([10.0], requires_grad=True)
    y = at.where(a > 0, a, b)
    assert y.tolist() == [[1.0, 10.0, 3.0]]
    y.sum().backward()
    assert a.grad.tolist() == [[1.0, 0.0, 1.0]] and b.grad.tolist() == [1.0]


def test_gelu_modes_match_torch():
    values = np.linspace(-4, 4, 17)
    for mode in ("none", "tanh"):
        ours = at.gelu(at.tensor(values), approximate=mode).numpy()
        theirs = torch.nn.functional.gelu(torch.tensor(values), approximate=mode).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="approximate"):
        at.gelu(at.ones(1), approximate="erf")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_relu_of_large_arrays_matches_torch(dtype):
    """Arrays from the workspace pool's size up go through the blocked maximum against
    zeros (``_maximum_with_zero``), a partial last block included: same values as
    PyTorch, NaN and infinities included, the same sign bits (relu(-0) is -0), and the same
    gradient."""
    size = (1 << 20) // np.dtype(dtype).itemsize * 3 + 12345
    x0 = np.random.default_rng(5).standard_normal(size).astype(dtype)
    x0[[0, 7, -1, -2, -3, 99_999]] = [np.nan, -0.0, 0.0, -np.inf, np.inf, -np.nan]
    x = at.tensor(x0, requires_grad=True)
    y = at.relu(x)
    tx = torch.tensor(x0, requires_grad=True)
    ty = torch.relu(tx)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    assert np.array_equal(np.signbit(y.numpy()), np.signbit(ty.detach().numpy()))
    weights = np.linspace(-1, 1, size).astype(dtype)
    (y * at.tensor(weights)).sum().backward()
    (ty * torch.tensor(weights)).sum().backward()
    # the gradient passes through NaN inputs too, as in PyTorch
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "0-d"])
def test_relu_of_small_arrays_matches_torch(dtype, layout):
    """Below the pool's size, relu takes the maximum against zeros of the input's shape
    (contiguous inputs) or against a 0-d zero, and its gradient is selected where x <= 0:
    the same values, sign bits (relu(-0) is -0, the zeroed gradient is +0) and gradients as
    PyTorch, an infinite or NaN gradient where x <= 0 included (0, not NaN)."""
    rng = np.random.default_rng(6)
    x0 = rng.standard_normal((64, 48)).astype(dtype)
    x0[0, :8] = [np.nan, -0.0, 0.0, -np.inf, np.inf, -np.nan, 1e-45, -1e-45]
    g0 = rng.standard_normal((64, 48)).astype(dtype)
    g0[1, :4], x0[1, :4] = [np.inf, -np.inf, np.nan, -np.nan], [-1.0, 0.0, -0.0, 2.0]
    g0[2, :3] = -g0[2, :3] ** 2  # negative gradients where x <= 0: +0, not -0
    x0[2, :3] = -1.0
    if layout == "transposed":
        x0, g0 = x0.T, g0.T
    elif layout == "0-d":
        x0, g0 = x0[1, 0].reshape(()), g0[1, 0].reshape(())
    x, tx = at.tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, ty = at.relu(x), torch.relu(tx)
    y.backward(at.tensor(g0))
    ty.backward(torch.tensor(g0))
    for ours, theirs in ((y.detach().numpy(), ty.detach().numpy()),
                         (x.grad.numpy(), tx.grad.numpy())):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
        assert np.array_equal(np.signbit(ours), np.signbit(theirs))


@pytest.mark.parametrize("create_graph", [False, True])
def test_relu_passes_the_gradient_through_nan_inputs_like_torch(create_graph):
    """PyTorch zeroes ReLU's gradient where x <= 0 and passes it elsewhere, NaN included;
    both backward walks (on arrays, and recorded) do the same."""
    x0 = np.array([np.nan, -1.0, 0.0, -0.0, 2.0, np.inf, -np.inf])
    g0 = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    x = at.tensor(x0, requires_grad=True)
    (grad,) = at.autograd.grad(at.relu(x), x, at.tensor(g0), create_graph=create_graph)
    tx = torch.tensor(x0, requires_grad=True)
    (expected,) = torch.autograd.grad(torch.relu(tx), tx, torch.tensor(g0))
    np.testing.assert_array_equal(grad.numpy(), expected.numpy())


def test_gelu_float32_normal_cdf_is_accurate_in_both_tails():
    """The float32 erfc fit behind the fused GELU: relative error of Phi below 1e-5
    everywhere down to 1e-37, absolute below 3e-7 (PyTorch's float32 1 + erf rounds the
    far left tail to 0)."""
    from scipy.special import ndtr
    from abdou_torch.ops.elementwise import _normal_cdf_array
    grid = np.linspace(-13, 13, 200001).astype(np.float32)
    draws = (np.random.default_rng(3).standard_normal(100_000) * 4).astype(np.float32)
    tiny = np.float32([1e-30, -1e-30, 1e-8, -1e-8, 2e-3, -2e-3])
    x = np.concatenate([grid, draws, tiny])
    exact = ndtr(x.astype(np.float64))
    phi = _normal_cdf_array(x)
    assert phi.dtype == np.float32
    np.testing.assert_allclose(phi, exact, rtol=1e-5, atol=1e-37)
    np.testing.assert_allclose(phi, exact, rtol=0, atol=3e-7)
    assert _normal_cdf_array(np.float32(-1.0).reshape(())).shape == ()
    special = np.float32([np.inf, -np.inf, np.nan, 0.0, -0.0, 3e38, -3e38])
    np.testing.assert_array_equal(_normal_cdf_array(special),
                                  np.float32([1, 0, np.nan, 0.5, 0.5, 1, 0]))


_GELU_EDGE_VALUES = [-np.inf, np.nan, -0.0, 0.0, -40.0, -13.0, -9.5, -5.0, -1e-20, 1e-20,
                     0.75, 5.0, 9.5, 40.0, np.inf, 3e38, -3e38]


def test_gelu_float64_special_values_and_tails_match_torch():
    """float64 forward and backward over the tails, +-0, NaN, +-inf and huge values: the
    same values as PyTorch, sign bits included (gelu(-0) = -0)."""
    values = np.array(_GELU_EDGE_VALUES)
    x = at.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    y, expected = at.gelu(x), torch.nn.functional.gelu(t)
    y.backward(at.ones(len(values), dtype=x.dtype))
    expected.backward(torch.ones(len(values), dtype=t.dtype))
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), rtol=1e-12, atol=1e-300)
    assert np.array_equal(np.signbit(y.numpy()), np.signbit(expected.detach().numpy()))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-300)


def test_gelu_float32_special_values_and_tails_are_accurate():
    """float32 forward and backward within 1e-5 relative of the exact x Phi(x) and
    Phi(x) + x phi(x) (scipy's ndtr in float64) over the tails, +-0, NaN, +-inf and huge
    values, sign bits included. PyTorch is no reference in the left tail (its 1 + erf
    rounds to a few ulps of 1, then to 0, in float64 too), so it is compared where it is
    exact: NaN, -inf, +-0 and the right tail (its float32 kernel gives NaN at +inf and
    overflows to inf at 3e38)."""
    from scipy.special import ndtr
    values = np.array(_GELU_EDGE_VALUES, dtype=np.float32)
    x = at.tensor(values, requires_grad=True)
    y = at.gelu(x)
    assert y.dtype == np.float32
    y.backward(at.ones(len(values)))
    exact = values.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        exact_y = (exact * ndtr(exact)).astype(np.float32)
        exact_grad = ndtr(exact) + exact * np.exp(-exact * exact / 2) / np.sqrt(2 * np.pi)
    np.testing.assert_allclose(y.numpy(), exact_y, rtol=1e-5, atol=1e-37)
    assert np.array_equal(np.signbit(y.numpy()), np.signbit(exact_y))
    np.testing.assert_allclose(x.grad.numpy(), exact_grad.astype(np.float32), rtol=1e-5,
                               atol=1e-37)
    torch_exact = [0, 1, 2, 3, 11, 12, 13]  # -inf, NaN, +-0, 5, 9.5, 40
    theirs = torch.nn.functional.gelu(torch.tensor(values[torch_exact])).numpy()
    np.testing.assert_allclose(y.numpy()[torch_exact], theirs, rtol=1e-7, atol=0)


def test_gelu_backward_twice_with_retain_graph_gives_the_same_gradient():
    """The float32 backward reuses the forward's -x^2/2 without overwriting it."""
    values = np.random.default_rng(1).standard_normal((8, 16)).astype(np.float32) * 3
    x = at.tensor(values, requires_grad=True)
    y = at.gelu(x).sum()
    y.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first)
    t = torch.tensor(values, requires_grad=True)
    torch.nn.functional.gelu(t).sum().backward()
    np.testing.assert_allclose(first, t.grad.numpy(), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_gelu_forward_and_backward_match_torch(dtype):
    values = np.random.default_rng(0).standard_normal((64, 33)).astype(dtype) * 3
    x = at.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    y, expected = at.gelu(x), torch.nn.functional.gelu(t)
    assert y._op == "gelu"
    tol = dict(rtol=1e-12, atol=1e-15) if dtype == np.float64 else dict(rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(y.numpy(), expected.detach().numpy(), **tol)
    y.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **tol)


# -- log1p, expm1, log2, log10 (issue 11) -------------------------------------------------------

@pytest.mark.parametrize("name", ["log1p", "expm1", "log2", "log10"])
@pytest.mark.parametrize("values, dtype", [([1, 2, 8], "int64"), ([True, False], "bool"),
                                           ([0.5, 8.0], "float64"), ([0.5, 8.0], "float16")])
def test_new_unary_maths_dtypes_and_values_like_torch(name, values, dtype):
    import torch
    data = np.array(values, dtype=dtype)
    ours = getattr(at, name)(at.tensor(data))
    theirs = getattr(torch, name)(torch.tensor(data))
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy().astype(np.float64),
                               theirs.numpy().astype(np.float64), rtol=1e-3 if
                               dtype == "float16" else 1e-7)


def test_log2_and_log10_of_exact_powers_are_exact():
    assert at.log2(at.tensor([8.0, 1024.0, 0.25])).tolist() == [3.0, 10.0, -2.0]
    assert at.log10(at.tensor([1000.0, 1e-3], dtype=at.float64)).tolist() == [3.0, -3.0]


def test_log1p_and_expm1_keep_small_arguments():
    x = at.tensor([1e-12, -3e-15], dtype=at.float64)
    np.testing.assert_allclose(at.log1p(x).numpy(), [1e-12 - 5e-25, -3e-15 - 4.5e-30],
                               rtol=1e-15)
    np.testing.assert_allclose(x.expm1().numpy(), [1e-12 + 5e-25, -3e-15 + 4.5e-30],
                               rtol=1e-15)
    assert at.log(1 + x).tolist()[1] != -3e-15  # what the primitives avoid


def test_div_gradient_of_the_divisor_divides_twice_like_torch():
    """-dy * a / b^2 overflows where -dy * ((a / b) / b) does not."""
    a = np.array([3e38, 1e30, 2.0], dtype=np.float32)
    b = np.array([2.0, 1e-5, 1e20], dtype=np.float32)
    dy = np.array([3.0, 1e10, 3e38], dtype=np.float32)
    grads = []
    for lib in (at, torch):
        at_b = lib.tensor(b, requires_grad=True)
        grads.append(lib.autograd.grad(lib.tensor(a) / at_b, [at_b], lib.tensor(dy))[0].numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)
    assert np.isfinite(grads[0][[0, 2]]).all()


@pytest.mark.parametrize("fn", [lambda lib, x: 2 ** x, lambda lib, x: 0 ** x,
                                lambda lib, x: (-1) ** x, lambda lib, x: x ** lib.tensor(-2),
                                lambda lib, x: x ** lib.tensor([-1, -2, -3, -1, -2, -3]),
                                lambda lib, x: lib.tensor(-2) ** x,
                                lambda lib, x: x.int() ** lib.tensor(-1, dtype=lib.int32)])
def test_integer_powers_with_negative_exponents_like_torch(fn):
    """NumPy raises for integers to negative integer powers; PyTorch truncates."""
    x = [3, 1, 0, -1, -2, 2]
    ours, theirs = fn(at, at.tensor(x)), fn(torch, torch.tensor(x))
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
