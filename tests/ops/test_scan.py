"""cumsum and cumprod beyond the op table: dtypes, zeros in cumprod's gradient (first and
second derivatives against PyTorch), 0-d inputs, errors."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@pytest.mark.parametrize("values, dtype", [([1, 2, 3], "int32"), ([1, 2, 3], "uint8"),
                                           ([True, False, True], "bool"),
                                           ([1.5, 2.0], "float16"), ([1.5, 2.0], "float64")])
def test_result_dtype_like_torch(name, values, dtype):
    ours = getattr(at, name)(at.tensor(np.array(values, dtype=dtype)), 0)
    theirs = getattr(torch, name)(torch.tensor(np.array(values, dtype=dtype)), 0)
    assert str(ours.dtype).replace("torch.", "") == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_dtype_argument_casts_first():
    x = at.tensor([1.7, 2.6])
    assert at.cumsum(x, 0, dtype=at.int64).tolist() == [1, 3]
    assert x.cumprod(0, dtype=at.float64).dtype == np.float64


ZERO_PATTERNS = [[0, 1, 2, 3], [1, 0, 2, 0], [1, 2, 3, 0], [0, 0, 1, 2], [1, 2, 3, 4]]


@pytest.mark.parametrize("pattern", ZERO_PATTERNS)
def test_cumprod_gradients_with_zeros_match_torch(pattern):
    rng = np.random.default_rng(sum(pattern))
    data = rng.uniform(0.5, 1.5, (3, 4)) * rng.choice([-1, 1], (3, 4))
    data[1] = np.where(np.array(pattern) == 0, 0.0, data[1])
    data[2, ::-1] = np.where(np.array(pattern) == 0, 0.0, data[2, ::-1])
    weights = rng.standard_normal((3, 4))
    direction = rng.standard_normal((3, 4))
    results = []
    for lib in (at, torch):
        x = lib.tensor(data, requires_grad=True)
        (grad,) = lib.autograd.grad((lib.cumprod(x, 1) * lib.tensor(weights)).sum(), [x],
                                    create_graph=True)
        (second,) = lib.autograd.grad((grad * lib.tensor(direction)).sum(), [x])
        results.append((grad.detach().numpy(), second.numpy()))
    (grad, second), (grad_ref, second_ref) = results
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(second, second_ref, rtol=1e-12, atol=1e-12)


def test_cumprod_with_zeros_passes_gradcheck_on_both_walks():
    from abdou_torch.autograd.gradcheck import gradcheck, gradgradcheck
    data = np.array([[0.5, 0.0, 1.5, -2.0], [0.0, 0.0, 0.7, 1.1]])
    mask = data != 0
    x = at.tensor(np.where(mask, data, 0.3), requires_grad=True)

    def with_zeros(t):
        return at.cumprod(at.where(mask, t, 0.0), 1)

    assert gradcheck(with_zeros, (x,))
    assert gradgradcheck(with_zeros, (x,))


def test_zero_d_and_errors_like_torch():
    assert at.cumsum(at.tensor(2.5), 0).item() == 2.5
    assert at.cumprod(at.tensor(2.5), -1).shape == ()
    for call in (lambda lib: lib.cumsum(lib.ones(2, 3), 2),
                 lambda lib: lib.cumprod(lib.ones(2, 3), -3)):
        with pytest.raises(IndexError):
            call(torch)
        with pytest.raises(IndexError, match="dim"):
            call(at)
    with pytest.raises(TypeError):
        at.cumsum(at.ones(3))  # dim is required, as in PyTorch


def test_cumprod_gradient_leaves_out_terms_with_a_zero_factor_like_torch():
    """An infinite or NaN dy past a zero, or a NaN input after it, gives 0 (not NaN) to
    the elements it cannot reach, as in PyTorch; one element passes dy through."""
    data = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [1.5, -2.0, 0.0, np.nan, 4.0],
                     [np.inf, 0.0, 1.0, 2.0, 0.0]])
    dy = np.array([[1.0, 2.0, np.inf, -1.0, np.nan], [1.0, 1.0, 2.0, np.inf, 1.0],
                   [1.0, 1.0, 1.0, np.nan, np.inf]])
    for shape, grads in [((3, 5), dy), ((3, 1), dy[:, :1])]:
        results = []
        for lib in (at, torch):
            x = lib.tensor(data[:, :shape[1]], requires_grad=True)
            (grad,) = lib.autograd.grad(lib.cumprod(x, 1), [x], lib.tensor(grads))
            results.append(grad.numpy())
        np.testing.assert_array_equal(results[0], results[1])
