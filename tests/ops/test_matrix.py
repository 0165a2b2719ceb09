"""ops/matrix.py (torch.linalg's inverses, solves and factorizations) against PyTorch:
values, dtypes, gradients and second derivatives."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import abdou_torch as at

RNG = np.random.default_rng(3)
SQUARE = RNG.standard_normal((4, 4)) + 4 * np.eye(4)
BATCH = RNG.standard_normal((2, 3, 3)) + 3 * np.eye(3)
TALL, WIDE = RNG.standard_normal((5, 3)), RNG.standard_normal((3, 5))
SPD = SQUARE @ SQUARE.T + np.eye(4)
SYMMETRIC = SQUARE + SQUARE.T


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("values", [SQUARE, BATCH], ids=["square", "batch"])
def test_inv_det_slogdet(check, values, dtype):
    check(lambda lib, a: lib.linalg.inv(a), values, dtype=dtype)
    check(lambda lib, a: lib.inverse(a), values, dtype=dtype)
    check(lambda lib, a: a.inverse(), values, dtype=dtype)
    check(lambda lib, a: lib.linalg.det(a), values, dtype=dtype)
    check(lambda lib, a: a.det(), values, dtype=dtype)
    check(lambda lib, a: tuple(lib.linalg.slogdet(a)), values, dtype=dtype)
    check(lambda lib, a: lib.logdet(a), values @ np.swapaxes(values, -1, -2), dtype=dtype)


def test_solve(check):
    b = RNG.standard_normal((4, 2))
    check(lambda lib, a, x: lib.linalg.solve(a, x), SQUARE, b)
    check(lambda lib, a, x: lib.linalg.solve(a, x), SQUARE, b[:, 0])
    check(lambda lib, a, x: lib.linalg.solve(a, x), BATCH, RNG.standard_normal((2, 3)))
    check(lambda lib, a, x: lib.linalg.solve(a, x), BATCH, RNG.standard_normal((3, 2)))
    check(lambda lib, a, x: lib.linalg.solve(a, x, left=False), SQUARE, b.T)
    with pytest.raises(RuntimeError):
        at.linalg.solve(at.tensor(SQUARE), at.tensor(np.ones(3)))
    with pytest.raises(at.linalg.LinAlgError):
        at.linalg.solve(at.tensor(np.ones((2, 2))), at.tensor(np.ones(2)))


def test_cholesky(check):
    check(lambda lib, a: lib.linalg.cholesky(a), SPD)
    check(lambda lib, a: lib.linalg.cholesky(a, upper=True), SPD)
    batch = BATCH @ np.swapaxes(BATCH, -1, -2)
    check(lambda lib, a: lib.linalg.cholesky(a), batch, dtype="float32")
    check(lambda lib, a: lib.cholesky(a), batch)
    with pytest.raises(at.linalg.LinAlgError):
        at.linalg.cholesky(at.tensor(-SPD))


@pytest.mark.parametrize("values", [SQUARE, TALL, WIDE, BATCH], ids=["square", "tall", "wide",
                                                                       "batch"])
def test_qr(check, values):
    check(lambda lib, a: tuple(lib.linalg.qr(a)), values)
    check(lambda lib, a: lib.linalg.qr(a).R, values)
    check(lambda lib, a: tuple(a.qr()), values, grad2=False)
    check(lambda lib, a: lib.linalg.qr(a, mode="r")[1], values, grad=False)


def _eigh_invariants(lib, a, **kwargs):
    """Eigenvectors are unique up to a sign each (LAPACK builds may differ): compare the
    eigenvalues and sign-invariant functions of the vectors."""
    values, vectors = lib.linalg.eigh(a, **kwargs)
    return values, vectors * vectors, (vectors * (values * values).unsqueeze(-2)) @ vectors.mT


def test_eigh(check):
    check(_eigh_invariants, SYMMETRIC)
    check(lambda lib, a: _eigh_invariants(lib, a, UPLO="U"), SQUARE)
    check(lambda lib, a: lib.linalg.eigh(a).eigenvalues, SYMMETRIC)
    check(lambda lib, a: lib.linalg.eigvalsh(a, UPLO="U"), SQUARE)
    check(_eigh_invariants, BATCH + np.swapaxes(BATCH, -1, -2), dtype="float32")


def test_eig_forward_and_refused_gradient():
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    values, vectors = at.linalg.eig(at.tensor(a))
    expected_values, expected_vectors = torch.linalg.eig(torch.tensor(a))
    assert str(values.dtype) == str(expected_values.dtype)
    np.testing.assert_allclose(np.sort_complex(values.numpy()),
                               np.sort_complex(expected_values.numpy()))
    np.testing.assert_allclose(a @ vectors.numpy(), vectors.numpy() * values.numpy(),
                               atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(at.linalg.eigvals(at.tensor(a)).numpy()),
                               np.sort_complex(expected_values.numpy()))
    with pytest.raises(NotImplementedError, match="eigh"):
        at.linalg.eig(at.tensor(a, requires_grad=True))


@pytest.mark.parametrize("values", [SQUARE, TALL, WIDE, BATCH], ids=["square", "tall", "wide",
                                                                       "batch"])
def test_svd(check, values):
    # U and Vh are unique up to a sign per singular pair: compare sign-invariant products
    check(lambda lib, a: lib.linalg.svd(a, full_matrices=False).S, values)
    check(lambda lib, a: lib.linalg.svdvals(a), values, grad2=False)

    def gauge_invariant(lib, a):
        u, s, vh = lib.linalg.svd(a, full_matrices=False)
        return (u * s.unsqueeze(-2)) @ vh, u @ u.mT, vh.mT @ vh, u @ vh
    check(gauge_invariant, values)

    def torch_svd(lib, a):
        u, s, v = lib.svd(a)
        return u @ v.mT, s
    check(torch_svd, values, grad2=False)
    u, s, vh = at.linalg.svd(at.tensor(values))
    m, n = values.shape[-2:]
    assert u.shape == values.shape[:-2] + (m, m) and vh.shape == values.shape[:-2] + (n, n)
    np.testing.assert_allclose(u.numpy() @ np.swapaxes(u.numpy(), -1, -2),
                               np.broadcast_to(np.eye(m), u.shape), atol=1e-12)


def test_pinv_lstsq_matrix_rank(check):
    for values in (SQUARE, TALL, WIDE, BATCH):
        check(lambda lib, a: lib.linalg.pinv(a), values, grad2=False)
        check(lambda lib, a: a.pinverse(), values, grad2=False)
        check(lambda lib, a: lib.linalg.matrix_rank(a), values, grad=False)
    b = RNG.standard_normal((5, 2))
    check(lambda lib, a, x: lib.linalg.lstsq(a, x).solution, TALL, b, grad2=False)
    check(lambda lib, a, x: lib.linalg.lstsq(a, x)[2], TALL, b, grad=False)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    check(lambda lib, a: lib.linalg.matrix_rank(a), singular, grad=False)
    check(lambda lib, a: lib.linalg.pinv(a), singular, grad=False)


def test_matrix_exp_and_power(check):
    check(lambda lib, a: lib.linalg.matrix_exp(a), SQUARE * 0.3)
    check(lambda lib, a: lib.matrix_exp(a), BATCH * 0.5)
    check(lambda lib, a: a.matrix_exp(), SQUARE * 0.3, dtype="float32")
    for n in (0, 1, 3, -2):
        check(lambda lib, a, n=n: lib.linalg.matrix_power(a, n), SQUARE, grad2=n >= 0)


def test_matrix_exp_without_scipy(monkeypatch):
    from abdou_torch.ops import matrix
    values = np.stack([SQUARE * 0.3, SQUARE * 3])
    expected = matrix._expm_array(values)
    import builtins
    real_import = builtins.__import__

    def no_scipy(name, *args, **kwargs):
        if name.startswith("scipy"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_scipy)
    np.testing.assert_allclose(matrix._expm_array(values), expected, rtol=1e-10)


def test_cross(check):
    a, b = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    check(lambda lib, x, y: lib.linalg.cross(x, y), a, b)
    check(lambda lib, x, y: lib.cross(x, y, dim=1), a, b[:1])
    check(lambda lib, x, y: x.cross(y, dim=0), a.T, b.T)
    check(lambda lib, x, y: lib.cross(x, y), a.T[None], b.T[None])
    with pytest.raises(RuntimeError):
        at.linalg.cross(at.tensor(a[:, :2]), at.tensor(b[:, :2]))


def test_errors_match_torch():
    with pytest.raises(RuntimeError):
        at.linalg.inv(at.tensor(TALL))
    with pytest.raises(RuntimeError):
        at.linalg.det(at.tensor([[1, 2], [3, 4]]))
    with pytest.raises(at.linalg.LinAlgError):
        at.linalg.inv(at.tensor(np.zeros((2, 2))))
    assert issubclass(at.linalg.LinAlgError, RuntimeError)
