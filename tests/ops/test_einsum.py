"""einsum against PyTorch: a table of equations (values, gradients and second derivatives),
implicit outputs, broadcasting, sublists, results that never alias their input, errors."""
from __future__ import annotations

import numpy as np
import pytest

import abdou_torch as at

torch = pytest.importorskip("torch")

# (equation, operand shapes)
EQUATIONS = [
    ("ij,jk->ik", [(3, 4), (4, 5)]), ("ij,kj->ik", [(3, 4), (5, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),
    ("ii->i", [(4, 4)]), ("ii", [(4, 4)]), ("iij->ij", [(3, 3, 2)]), ("iji->j", [(3, 2, 3)]),
    ("ii,i->i", [(3, 3), (3,)]), ("i,j->ij", [(3,), (4,)]), ("i,i->", [(4,), (4,)]),
    ("ij->", [(3, 4)]), ("ij->j", [(3, 4)]), ("ij->ji", [(3, 4)]), ("ji", [(3, 4)]),
    ("ijk->kji", [(2, 3, 4)]), ("ij,jk->j", [(3, 4), (4, 5)]), ("ij,jk->", [(3, 4), (4, 5)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("ijk,ik->j", [(2, 3, 4), (2, 4)]),
    ("...ij->...ji", [(2, 3, 4)]), ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("i...->...", [(2, 3, 4)]), ("i...->i", [(2, 3, 4)]), ("...", [(2, 3)]),
    ("bA,c", [(2, 3), (4,)]), ("ij,ij->ij", [(3, 1), (3, 4)]), ("i,i", [(1,), (4,)]),
    ("b i j , b j -> b i", [(2, 3, 4), (2, 4)]), ("ab,ab,ab->a", [(3, 4), (3, 4), (3, 4)]),
]


def _run(lib, equation, arrays, weights, direction):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = lib.einsum(equation, *xs)
    grads = lib.autograd.grad((out * lib.tensor(weights)).sum(), xs, create_graph=True)
    projection = sum((g * lib.tensor(d)).sum() for g, d in zip(grads, direction))
    second = lib.autograd.grad(projection, xs, allow_unused=True) \
        if projection.requires_grad else [None] * len(xs)  # linear in each operand
    return (out.detach().numpy(), [g.detach().numpy() for g in grads],
            [np.zeros(a.shape) if s is None else s.numpy() for s, a in zip(second, arrays)])


@pytest.mark.parametrize("equation, shapes", EQUATIONS, ids=[e for e, _ in EQUATIONS])
def test_equation_matches_torch_with_first_and_second_derivatives(equation, shapes):
    rng = np.random.default_rng(len(equation))
    arrays = [rng.standard_normal(s) for s in shapes]
    out_shape = torch.einsum(equation, *[torch.tensor(a) for a in arrays]).shape
    weights = rng.standard_normal(tuple(out_shape))
    direction = [rng.standard_normal(s) for s in shapes]
    ours = _run(at, equation, arrays, weights, direction)
    theirs = _run(torch, equation, arrays, weights, direction)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-12)
    assert ours[0].shape == theirs[0].shape
    for mine, ref in zip(ours[1] + ours[2], theirs[1] + theirs[2]):
        np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-12)


def test_forms_of_the_arguments():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    expected = a @ b
    ta, tb = at.tensor(a), at.tensor(b)
    np.testing.assert_array_equal(at.einsum("ij,jk", [ta, tb]).numpy(), expected)
    np.testing.assert_array_equal(at.einsum(ta, [0, 1], tb, [1, 2], [0, 2]).numpy(), expected)
    np.testing.assert_array_equal(at.einsum(ta, [0, 1], tb, [1, 2]).numpy(), expected)
    np.testing.assert_array_equal(
        at.einsum(at.tensor(np.ones((2, 3, 4))), [Ellipsis, 1], [1]).numpy(), np.full(4, 6.0))


def test_integer_operands_and_dtypes():
    assert at.einsum("i,i->", at.tensor([1, 2]), at.tensor([3, 4])).item() == 11
    assert at.einsum("ij->j", at.ones(2, 3, dtype=at.float64)).dtype == np.float64


def test_one_operand_results_never_alias_the_input():
    x = at.tensor(np.arange(9.0).reshape(3, 3))
    for equation in ("ij->ji", "ii->i", "ij->ij", "..."):
        y = at.einsum(equation, x)
        y += 100
    np.testing.assert_array_equal(x.numpy(), np.arange(9.0).reshape(3, 3))


@pytest.mark.parametrize("equation, shapes", [
    ("ii", [(2, 3)]), ("ij,jk->ik", [(2, 3), (4, 4)]), ("ij->ii", [(2, 2)]),
    ("ij->k", [(2, 2)]), ("bi,bi->b", [(2, 2), (3, 2)]), ("ij", [(2,)]),
    ("ij,jk->ik", [(2, 3)]), ("i.j", [(2, 2)]), ("i...j...", [(2, 2, 2)]),
])
def test_malformed_equations_raise_like_torch(equation, shapes):
    with pytest.raises(RuntimeError):
        torch.einsum(equation, *[torch.ones(s) for s in shapes])
    with pytest.raises(RuntimeError, match="einsum"):
        at.einsum(equation, *[at.ones(s) for s in shapes])


def test_mixed_dtypes_raise_like_torch():
    with pytest.raises(RuntimeError):
        torch.einsum("ij,jk", torch.ones(2, 3), torch.ones(3, 4, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="dtype"):
        at.einsum("ij,jk", at.ones(2, 3), at.ones(3, 4, dtype=at.float64))


@pytest.mark.parametrize("equation, shapes", [("bij,bjk->bik", [(4, 20, 30), (4, 30, 25)]),
                                              ("ij,jk->ik", [(70, 80), (80, 60)]),
                                              ("bhqd,bhkd->bhqk", [(2, 4, 16, 32),
                                                                   (2, 4, 16, 32)])])
def test_large_operands_take_the_planned_path_and_agree(equation, shapes):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in shapes]
    weights = rng.standard_normal(tuple(torch.einsum(
        equation, *[torch.tensor(a) for a in arrays]).shape))
    direction = [np.zeros(s) for s in shapes]
    ours, theirs = (_run(lib, equation, arrays, weights, direction) for lib in (at, torch))
    for mine, ref in zip([ours[0]] + ours[1], [theirs[0]] + theirs[1]):
        np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("equation, arrays", [
    # -0.0 kept by a product with nothing summed (an einsum sum would start from +0)
    ("i,j->ij", [np.array([-0.0, 1.0, -2.0], np.float16), np.array([3.0, 0.0], np.float16)]),
    # left to right: (a b) c meets 0 * inf where a (b c) would not, and the reverse
    ("ij,jk,kl->il", [np.array([[-2.5, -3e38, 1.8], [0.0, -2.4, -0.4]], np.float32),
                      np.array([[2.7, 0.1, 2.9, -2.5], [0.6, -0.7, 3e38, -1.9],
                                [2.2, 0.3, 2.4, -0.0]], np.float32),
                      np.array([[-np.inf, 1.8], [0.1, 1e-40], [-2.7, -0.7], [-0.5, -2.7]],
                               np.float32)]),
])
def test_special_values_and_gradients_follow_torchs_contraction_order(equation, arrays):
    results = []
    for lib in (at, torch):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = lib.einsum(equation, *xs)
        grads = lib.autograd.grad(out, xs, lib.ones_like(out))
        results.append([out.detach().numpy()] + [g.numpy() for g in grads])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=2e-3)
        assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    assert np.array_equal(np.signbit(results[0][0]), np.signbit(results[1][0]))


def test_operands_of_two_dtypes_like_torch():
    """Multiplied pairs promote; a pair reduced by a matrix product must share a dtype."""
    a, b = at.ones(3, dtype=at.float64), at.ones(4)
    assert str(at.einsum("i,j->ij", a, b).dtype) == str(torch.einsum(
        "i,j->ij", torch.ones(3, dtype=torch.float64), torch.ones(4)).dtype)
    with pytest.raises(RuntimeError):
        torch.einsum("ij,jk->ik", torch.ones(2, 3, dtype=torch.float64), torch.ones(3, 2))
    with pytest.raises(RuntimeError):
        at.einsum("ij,jk->ik", at.ones(2, 3, dtype=at.float64), at.ones(3, 2))
