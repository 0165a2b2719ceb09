"""Matrix functions and factorizations: inverse, determinant, solve, Cholesky, QR, the
symmetric eigendecomposition, the SVD, the matrix exponential (``torch.linalg``).

Every function works on batches (``(..., m, n)``). Each primitive's gradient is PyTorch's
formula (``FunctionsManual.cpp``: ``linalg_eig_backward``, ``svd_backward``,
``linalg_qr_backward``, ``cholesky_backward``), written once against ``xp`` with the other
primitives of this module used through ``xp.apply`` (an inverse in place of a triangular
solve), so second derivatives come with it.

A factorization with several differentiable outputs (Q and R, U S and Vh ...) is one
primitive whose output packs them along the last dim; the public function slices them out,
so each slice's gradient flows back into the one packed gradient the primitive receives.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..autograd.function import Primitive
from ..tensor import Tensor
from .elementwise import _as_tensor

__all__ = ["LinAlgError", "inv", "det", "slogdet", "logdet", "solve", "cholesky", "qr",
           "eigh", "eigvalsh", "eig", "eigvals", "svd", "pinv", "lstsq", "matrix_rank",
           "matrix_exp", "cross", "inv_ex", "cholesky_ex", "matrix_power"]


class LinAlgError(RuntimeError):
    """``torch.linalg.LinAlgError``: a matrix the op cannot factor (singular, not positive
    definite)."""


def _mT(xp: Any, x: Any) -> Any:  # noqa: N802 - PyTorch's name for the matrix transpose
    return xp.swapaxes(x, -1, -2)


def _eye(n: int, dtype: Any) -> np.ndarray:
    return np.eye(n, dtype=dtype)


def _as_row(v: Any) -> Any:
    """(..., n) -> (..., 1, n), for arrays and Tensors alike."""
    return v.reshape(tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _as_column(v: Any) -> Any:
    return v.reshape(tuple(v.shape[:-1]) + (v.shape[-1], 1))


def _matrices(op: str, input: Any, square: bool = True) -> Tensor:  # noqa: A002
    """``input`` checked as a batch of (square) floating matrices."""
    a = _as_tensor(input)
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if a.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{a.dtype}")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")
    return a


def _singular(op: str) -> LinAlgError:
    return LinAlgError(f"{op}: The diagonal element is zero, the inversion could not be "
                       f"completed because the input matrix is singular.")


# -- inverse, determinant, solve --------------------------------------------------------------
class Inv(Primitive):
    """Y = A^-1;  dA = -Y^T dY Y^T"""

    torch_grad_fn = "LinalgInvExBackward0"
    saves_output = True
    saves_inputs = False

    def forward(self, a: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise _singular("linalg.inv") from None

    def backward(self, xp, dy):
        y = xp.value(self.output)
        return -xp.matmul(_mT(xp, y), xp.matmul(dy, _mT(xp, y)))


class Det(Primitive):
    """y = det(A);  dA = dy y A^-T"""

    torch_grad_fn = "LinalgDetBackward0"
    saves_output = True

    def forward(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(np.linalg.det(a), dtype=a.dtype)

    def backward(self, xp, dy):
        a, y = xp.value(self.inputs[0]), xp.value(self.output)
        scale = (dy * y).reshape(tuple(dy.shape) + (1, 1))
        return scale * _mT(xp, xp.apply(Inv, a))


class LogAbsDet(Primitive):
    """y = log |det A|;  dA = dy A^-T"""

    torch_grad_fn = "LinalgSlogdetBackward0"

    def forward(self, a: np.ndarray) -> np.ndarray:
        return np.asarray(np.linalg.slogdet(a)[1], dtype=a.dtype)

    def backward(self, xp, dy):
        a = xp.value(self.inputs[0])
        return dy.reshape(tuple(dy.shape) + (1, 1)) * _mT(xp, xp.apply(Inv, a))


class Solve(Primitive):
    """X = A^-1 B (B a batch of matrices);  dB = A^-T dX,  dA = -dB X^T"""

    torch_grad_fn = "LinalgSolveExBackward0"
    saves_output = True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.solve: The solver failed because the input matrix is "
                              "singular.") from None

    def backward(self, xp, dy):
        a, x = xp.value(self.inputs[0]), xp.value(self.output)
        db = xp.apply(Solve, _mT(xp, a), dy)
        da = -xp.matmul(db, _mT(xp, x)) if self.needs_input_grad[0] else None
        return da, db


def inv(A: Any) -> Tensor:  # noqa: N803 - PyTorch's argument name
    """The inverse of each square matrix; a singular one raises LinAlgError."""
    return Inv.apply(_matrices("linalg.inv", A))


def inv_ex(A: Any, *, check_errors: bool = False) -> tuple[Tensor, Tensor]:  # noqa: N803
    """(inverse, info): info is 0 for each invertible matrix."""
    a = _matrices("linalg.inv_ex", A)
    return inv(a), Tensor._wrap(np.zeros(a.shape[:-2], dtype=np.int32), False)


def det(A: Any) -> Tensor:  # noqa: N803
    """The determinant of each square matrix (its gradient, dy det(A) A^-T, needs A
    invertible)."""
    return Det.apply(_matrices("linalg.det", A))


def slogdet(A: Any) -> tuple[Tensor, Tensor]:  # noqa: N803
    """(sign, log|det A|): the sign carries no gradient."""
    a = _matrices("linalg.slogdet", A)
    sign = Tensor._wrap(np.asarray(np.linalg.slogdet(a.data)[0], dtype=a.data.dtype), False)
    return _SlogdetResult((sign, LogAbsDet.apply(a)))


class _SlogdetResult(tuple):
    @property
    def sign(self) -> Tensor:
        return self[0]

    @property
    def logabsdet(self) -> Tensor:
        return self[1]


def logdet(A: Any) -> Tensor:  # noqa: N803
    """log det A: NaN where the determinant is negative, -inf where it is 0."""
    sign, logabs = slogdet(A)
    nan = np.where(sign.data < 0, np.nan, 0).astype(logabs.data.dtype)
    return logabs + nan


def solve(A: Any, B: Any, *, left: bool = True) -> Tensor:  # noqa: N803
    """X with A X = B (``left=False``: X A = B). B is a batch of vectors when it has one dim
    fewer than A with A's leading sizes (or is 1-D)."""
    a, b = _matrices("linalg.solve", A), _as_tensor(B)
    if not left:
        return solve(a.mT, b.mT).mT
    if b.dtype != a.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found "
                           f"A of type {a.dtype} and B of type {b.dtype} instead")
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and tuple(b.shape) == tuple(a.shape[:-1]))
    rhs = b.unsqueeze(-1) if vector else b
    if rhs.shape[-2] != a.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({a.shape[-2]}x{a.shape[-1]} and "
                           f"{rhs.shape[-2]}x{rhs.shape[-1]})")
    x = Solve.apply(a, rhs)
    return x.squeeze(-1) if vector else x


def matrix_power(A: Any, n: int) -> Tensor:  # noqa: N803
    """A^n by repeated squaring (n < 0: the inverse's power)."""
    a = _matrices("linalg.matrix_power", A) if int(n) < 0 else _as_tensor(A)
    if int(n) < 0:
        a, n = inv(a), -int(n)
    result: Tensor | None = None
    power, n = a, int(n)
    while n:
        if n & 1:
            result = power if result is None else result @ power
        n >>= 1
        if n:
            power = power @ power
    if result is None:
        return a * 0 + _eye(a.shape[-1], a.data.dtype)  # the identity; a zero gradient
    return result


# -- Cholesky ---------------------------------------------------------------------------------
class Cholesky(Primitive):
    """L lower triangular with A = L L^T;
    dA = L^-T Phi(tril(L^T dL)) L^-1,  Phi(T) = (T + tril(T, -1)^T) / 2 (PyTorch's)"""

    torch_grad_fn = "LinalgCholeskyExBackward0"
    saves_output = True
    saves_inputs = False

    def forward(self, a: np.ndarray) -> np.ndarray:
        try:
            return np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise LinAlgError("linalg.cholesky: The factorization could not be completed "
                              "because the input is not positive-definite.") from None

    def backward(self, xp, dy):
        lower = xp.value(self.output)
        n = lower.shape[-1]
        t = xp.matmul(_mT(xp, lower), dy) * np.tril(np.ones((n, n), dy.dtype))
        phi = 0.5 * (t + _mT(xp, t * np.tril(np.ones((n, n), dy.dtype), -1)))
        inverse = xp.apply(Inv, lower)
        return xp.matmul(_mT(xp, inverse), xp.matmul(phi, inverse))


def cholesky(A: Any, *, upper: bool = False) -> Tensor:  # noqa: N803
    """The Cholesky factor of each symmetric positive-definite matrix (its lower triangle
    is read): L with A = L L^T (``upper``: U = L^T)."""
    a = _matrices("linalg.cholesky", A)
    lower = Cholesky.apply(a)
    return lower.mT if upper else lower


def cholesky_ex(A: Any, *, upper: bool = False, check_errors: bool = False):  # noqa: N803
    a = _matrices("linalg.cholesky_ex", A)
    return cholesky(a, upper=upper), Tensor._wrap(np.zeros(a.shape[:-2], np.int32), False)


# -- QR ---------------------------------------------------------------------------------------
class QR(Primitive):
    """Q R = A (reduced: Q m x k, R k x n, k = min(m, n)), packed as [Q | R] (..., m or k
    rows ...): see ``qr``. Gradient (PyTorch's linalg_qr_backward), with G = dR R^T - Q^T dQ:
    m >= n: dA = (Q sym(triu(G)) + dQ) R^-T, sym(X) = X + X^T - diag(X);
    m < n:  dA = [Q tril(-G + G^T) R_m^-T, 0] + Q dR, R_m the first m columns of R"""

    torch_grad_fn = "LinalgQrBackward0"
    saves_output = True
    saves_inputs = False

    def forward(self, a: np.ndarray) -> np.ndarray:
        q, r = np.linalg.qr(a, mode="reduced")
        self.sizes = (a.shape[-2], a.shape[-1], q.shape[-1])
        return _pack([q, r])

    def backward(self, xp, dy):
        m, n, k = self.sizes
        q, r = _unpack(xp.value(self.output), [(m, k), (k, n)])
        dq, dr = _unpack(dy, [(m, k), (k, n)])
        g = xp.matmul(dr, _mT(xp, r)) - xp.matmul(_mT(xp, q), dq)
        if m >= n:
            upper = g * np.triu(np.ones((k, k), dy.dtype))
            sym = upper + _mT(xp, upper) - upper * _eye(k, dy.dtype)
            da = xp.matmul(q, sym) + dq
            return xp.matmul(da, _mT(xp, xp.apply(Inv, r)))
        skew = (_mT(xp, g) - g) * np.tril(np.ones((m, m), dy.dtype))
        square = xp.matmul(r, np.eye(n, m, dtype=dy.dtype))  # R's first m columns
        da = xp.matmul(xp.matmul(q, skew), _mT(xp, xp.apply(Inv, square)))
        return xp.matmul(da, np.eye(m, n, dtype=dy.dtype)) + xp.matmul(q, dr)


def _pack(parts: list) -> np.ndarray:
    """Matrices flattened and joined along one last dim: (..., a*b + c*d ...)."""
    batch = parts[0].shape[:-2] if parts[0].ndim >= 2 else parts[0].shape[:-1]
    return np.concatenate([p.reshape(batch + (-1,)) for p in parts], axis=-1)


def _unpack(packed: Any, shapes: list) -> list:
    """The parts of ``_pack``: each shape a (rows, cols) matrix or a (size,) vector."""
    parts, start = [], 0
    batch = tuple(packed.shape[:-1])
    for shape in shapes:
        size = int(np.prod(shape))
        parts.append(packed[..., start:start + size].reshape(batch + tuple(shape)))
        start += size
    return parts


class _QRResult(tuple):
    @property
    def Q(self) -> Tensor:  # noqa: N802 - PyTorch's names
        return self[0]

    @property
    def R(self) -> Tensor:  # noqa: N802
        return self[1]


def qr(A: Any, mode: str = "reduced") -> _QRResult:  # noqa: N803
    """(Q, R) with A = Q R, Q orthonormal columns, R upper triangular. ``mode`` 'reduced'
    (k = min(m, n)), 'complete' (Q square; differentiable when m <= n) or 'r' (R only, Q
    empty; not differentiable)."""
    a = _matrices("linalg.qr", A, square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    m, n = a.shape[-2:]
    k = min(m, n)
    if mode == "r" or (mode == "complete" and m > n):
        q, r = np.linalg.qr(a.data, mode="complete")
        r = r[..., :, :] if mode == "complete" else r[..., :k, :]
        empty = np.zeros((0,), a.data.dtype)
        q_out = Tensor._wrap(q if mode == "complete" else empty, False)
        if mode == "complete" and a.requires_grad:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        return _QRResult((q_out, Tensor._wrap(np.ascontiguousarray(r), False)))
    packed = QR.apply(a)
    q_part, r_part = _unpack(packed, [(m, k), (k, n)])
    return _QRResult((q_part, r_part))


# -- symmetric eigendecomposition -------------------------------------------------------------
class Eigh(Primitive):
    """A = V diag(L) V^T for symmetric A (ascending L), packed as [L | V];
    dA = V (skew(V^T dV) / E  with diag(dL) on the diagonal) V^T, skew(X) = (X - X^T) / 2,
    E_ij = L_j - L_i (PyTorch's linalg_eig_backward for Hermitian inputs)"""

    torch_grad_fn = "LinalgEighBackward0"
    saves_output = True
    saves_inputs = False

    def forward(self, a: np.ndarray, lower: bool) -> np.ndarray:
        values, vectors = np.linalg.eigh(a, UPLO="L" if lower else "U")
        self.n = a.shape[-1]
        return _pack([values[..., None, :], vectors])

    def backward(self, xp, dy):
        n = self.n
        values, vectors = _unpack(xp.value(self.output), [(n,), (n, n)])
        d_values, d_vectors = _unpack(dy, [(n,), (n, n)])
        vtg = xp.matmul(_mT(xp, vectors), d_vectors)
        skew = 0.5 * (vtg - _mT(xp, vtg))
        eye = _eye(n, dy.dtype)
        gaps = _as_row(values) - _as_column(values) + eye
        inner = xp.where(eye.astype(bool), _as_row(d_values), skew / gaps)
        return xp.matmul(vectors, xp.matmul(inner, _mT(xp, vectors)))


class _EighResult(tuple):
    @property
    def eigenvalues(self) -> Tensor:
        return self[0]

    @property
    def eigenvectors(self) -> Tensor:
        return self[1]


def eigh(A: Any, UPLO: str = "L") -> _EighResult:  # noqa: N803
    """(eigenvalues ascending, eigenvectors in columns) of each symmetric matrix (only the
    ``UPLO`` triangle is read)."""
    a = _matrices("linalg.eigh", A)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    n = a.shape[-1]
    values, vectors = _unpack(Eigh.apply(a, UPLO == "L"), [(n,), (n, n)])
    return _EighResult((values, vectors))


def eigvalsh(A: Any, UPLO: str = "L") -> Tensor:  # noqa: N803
    return eigh(A, UPLO)[0]


def eig(A: Any) -> _EighResult:  # noqa: N803
    """(eigenvalues, eigenvectors) of a general matrix, complex as in PyTorch. Forward only:
    abdou_torch does not differentiate complex results."""
    a = _matrices("linalg.eig", A)
    _refuse_complex_gradient("linalg.eig", a)
    values, vectors = np.linalg.eig(a.data)
    kind = np.complex128 if a.data.dtype == np.float64 else np.complex64
    return _EighResult((Tensor._wrap(values.astype(kind), False),
                        Tensor._wrap(vectors.astype(kind), False)))


def eigvals(A: Any) -> Tensor:  # noqa: N803
    """The (complex) eigenvalues of a general matrix; forward only."""
    a = _matrices("linalg.eigvals", A)
    _refuse_complex_gradient("linalg.eigvals", a)
    kind = np.complex128 if a.data.dtype == np.float64 else np.complex64
    return Tensor._wrap(np.linalg.eigvals(a.data).astype(kind), False)


def _refuse_complex_gradient(op: str, a: Tensor) -> None:
    from ..autograd.grad_mode import GradMode
    if GradMode.enabled and a.requires_grad:
        raise NotImplementedError(
            f"{op}: its results are complex, and abdou_torch has no autograd for complex "
            f"tensors; for a symmetric matrix use torch.linalg.eigh, which is differentiable, "
            f"or call {op} on A.detach()")


# -- SVD --------------------------------------------------------------------------------------
class SVD(Primitive):
    """A = U diag(S) Vh (reduced), packed as [U | S | Vh]. Gradient (PyTorch's svd_backward),
    with E_ij = S_j^2 - S_i^2 (1 on the diagonal), skew(X) = X - X^T:
    G = (skew(U^T dU) S_row + S_col skew(V^T dV)) / E + diag(dS), then
    m > k: dA = (U G + (I - U U^T) dU / S_row) Vh;  n > k: dA = U (G Vh + (dVh - dVh V Vh)
    / S_col);  else dA = U G Vh"""

    torch_grad_fn = "LinalgSvdBackward0"
    saves_output = True
    saves_inputs = False

    def forward(self, a: np.ndarray) -> np.ndarray:
        u, s, vh = np.linalg.svd(a, full_matrices=False)
        self.sizes = (a.shape[-2], a.shape[-1], s.shape[-1])
        return _pack([u, s[..., None, :], vh])

    def backward(self, xp, dy):
        m, n, k = self.sizes
        shapes = [(m, k), (k,), (k, n)]
        u, s, vh = _unpack(xp.value(self.output), shapes)
        du, ds, dvh = _unpack(dy, shapes)
        v, dv = _mT(xp, vh), _mT(xp, dvh)
        utu, vtv = xp.matmul(_mT(xp, u), du), xp.matmul(_mT(xp, v), dv)
        utu, vtv = utu - _mT(xp, utu), vtv - _mT(xp, vtv)
        s_row, s_col = _as_row(s), _as_column(s)
        squares = s * s
        eye = _eye(k, dy.dtype)
        gaps = _as_row(squares) - _as_column(squares) + eye
        g = (utu * s_row + s_col * vtv) / gaps + _as_row(ds) * eye
        if m > k:
            g = xp.matmul(u, g)
            scaled = du / s_row
            g = g + scaled - xp.matmul(u, xp.matmul(_mT(xp, u), scaled))
            return xp.matmul(g, vh)
        if n > k:
            g = xp.matmul(g, vh)
            scaled = dvh / s_col
            g = g + scaled - xp.matmul(xp.matmul(scaled, v), vh)
            return xp.matmul(u, g)
        return xp.matmul(u, xp.matmul(g, vh))


class _SVDResult(tuple):
    @property
    def U(self) -> Tensor:  # noqa: N802 - PyTorch's names
        return self[0]

    @property
    def S(self) -> Tensor:  # noqa: N802
        return self[1]

    @property
    def Vh(self) -> Tensor:  # noqa: N802
        return self[2]


def svd(A: Any, full_matrices: bool = True) -> _SVDResult:  # noqa: N803
    """(U, S, Vh) with A = U diag(S) Vh, S descending. With ``full_matrices`` (PyTorch's
    default) U and Vh are square; the extra columns of U and rows of Vh are a completion
    without gradient, as in PyTorch, which ignores their gradient."""
    a = _matrices("linalg.svd", A, square=False)
    m, n = a.shape[-2:]
    k = min(m, n)
    u, s, vh = _unpack(SVD.apply(a), [(m, k), (k,), (k, n)])
    if full_matrices and m != n:
        full_u, _, full_vh = np.linalg.svd(a.data, full_matrices=True)
        from .shape import cat
        if m > k:
            u = cat([u, Tensor._wrap(np.ascontiguousarray(full_u[..., :, k:]), False)], -1)
        if n > k:
            vh = cat([vh, Tensor._wrap(np.ascontiguousarray(full_vh[..., k:, :]), False)], -2)
    return _SVDResult((u, s, vh))


def pinv(A: Any, *, atol: Any = None, rtol: Any = None,  # noqa: N803
         hermitian: bool = False) -> Tensor:
    """The Moore-Penrose pseudo-inverse: V diag(1/S) U^T over the singular values above
    max(atol, rtol * max(S)) (rtol defaults to eps * max(m, n) when atol is not given)."""
    a = _matrices("linalg.pinv", A, square=False)
    u, s, vh = svd(a, full_matrices=False)
    limit = _tolerance(a, s, atol, rtol)
    kept = s.data > limit
    safe = Tensor._wrap(np.where(kept, 1, 0), False).to(s.dtype)
    inverse_s = safe / (s + Tensor._wrap((~kept).astype(s.data.dtype), False))
    return (vh.mT * _as_row(inverse_s)) @ u.mT


def _tolerance(a: Tensor, s: Tensor, atol: Any, rtol: Any) -> np.ndarray:
    """max(atol, rtol * max(S)) per matrix, as a (..., 1) array."""
    atol_v = 0.0 if atol is None else np.asarray(getattr(atol, "data", atol), np.float64)
    if rtol is None:
        rtol_v: Any = 0.0 if atol is not None and np.any(atol_v > 0) else \
            np.finfo(a.data.dtype).eps * max(a.shape[-2:])
    else:
        rtol_v = np.asarray(getattr(rtol, "data", rtol), np.float64)
    largest = s.data.max(-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    return np.maximum(np.asarray(atol_v)[..., None] if np.ndim(atol_v) else atol_v,
                      (np.asarray(rtol_v)[..., None] if np.ndim(rtol_v) else rtol_v) * largest)


def matrix_rank(A: Any, *, atol: Any = None, rtol: Any = None,  # noqa: N803
                hermitian: bool = False) -> Tensor:
    """The number of singular values above max(atol, rtol * max(S)) (int64)."""
    a = _matrices("linalg.matrix_rank", A, square=False)
    s = Tensor._wrap(np.linalg.svd(a.data, compute_uv=False), False)
    limit = _tolerance(a, s, atol, rtol)
    return Tensor._wrap((s.data > limit).sum(-1).astype(np.int64), False)


class _LstsqResult(tuple):
    @property
    def solution(self) -> Tensor:
        return self[0]

    @property
    def residuals(self) -> Tensor:
        return self[1]

    @property
    def rank(self) -> Tensor:
        return self[2]

    @property
    def singular_values(self) -> Tensor:
        return self[3]


def lstsq(A: Any, B: Any, rcond: Any = None, *, driver: Any = None) -> _LstsqResult:  # noqa: N803
    """The least-squares solution X = pinv(A) B of A X ~ B, with PyTorch's CPU default driver
    'gelsy': (solution, residuals (empty), rank, singular_values (empty))."""
    a, b = _matrices("linalg.lstsq", A, square=False), _as_tensor(B)
    if b.dtype != a.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {a.dtype} and other's dtype "
                           f"{b.dtype}")
    vector = b.ndim == a.ndim - 1
    rhs = b.unsqueeze(-1) if vector else b
    if rhs.shape[-2] != a.shape[-2]:
        raise RuntimeError(f"torch.linalg.lstsq: input.size(-2) should match other.size(-2) "
                           f"({a.shape[-2]} and {rhs.shape[-2]})")
    solution = pinv(a, rtol=rcond) @ rhs
    empty = Tensor._wrap(np.zeros((0,), a.data.dtype), False)
    rank = matrix_rank(a, rtol=rcond) if driver in (None, "gelsy", "gelsd", "gelss") else \
        Tensor._wrap(np.zeros((0,), np.int64), False)
    return _LstsqResult((solution.squeeze(-1) if vector else solution, empty, rank, empty))


# -- matrix exponential -----------------------------------------------------------------------
def _expm_array(a: np.ndarray) -> np.ndarray:
    """exp(A): SciPy's Pade approximant when present, else scaling and squaring with a
    Taylor series (exp(A) = exp(A / 2^s)^(2^s), ||A / 2^s|| <= 1/2, 24 terms)."""
    try:
        from scipy.linalg import expm
    except ImportError:
        expm = None
    if expm is not None:
        return np.asarray(expm(a)).astype(a.dtype, copy=False)
    work = a.astype(np.float64)
    norm = np.abs(work).sum(-2).max(-1) if work.size else np.zeros(work.shape[:-2])
    squarings = int(max(0, math.ceil(math.log2(max(float(np.max(norm, initial=0)), 1e-300)
                                               / 0.5)))) if np.size(norm) else 0
    scaled = work / 2.0 ** squarings
    term = np.broadcast_to(np.eye(a.shape[-1]), a.shape).copy()
    total = term.copy()
    for i in range(1, 25):
        term = term @ scaled / i
        total = total + term
    for _ in range(squarings):
        total = total @ total
    return total.astype(a.dtype)


class MatrixExp(Primitive):
    """Y = exp(A) = sum A^k / k!;  dA = the upper-right block of exp([[A^T, dY], [0, A^T]])
    (PyTorch's linalg_matrix_exp_differential)"""

    torch_grad_fn = "LinalgMatrixExpBackward0"

    def forward(self, a: np.ndarray) -> np.ndarray:
        return _expm_array(a)

    def backward(self, xp, dy):
        a = xp.value(self.inputs[0])
        n = a.shape[-1]
        top = np.eye(2 * n, n, dtype=dy.dtype)       # [I; 0]
        bottom = np.eye(2 * n, n, -n, dtype=dy.dtype)  # [0; I]
        at = _mT(xp, a)
        block = xp.matmul(xp.matmul(top, at), top.T) + xp.matmul(xp.matmul(top, dy), bottom.T) \
            + xp.matmul(xp.matmul(bottom, at), bottom.T)
        return xp.matmul(xp.matmul(top.T, xp.apply(MatrixExp, block)), bottom)


def matrix_exp(A: Any) -> Tensor:  # noqa: N803
    """exp(A) of each square matrix."""
    return MatrixExp.apply(_matrices("linalg.matrix_exp", A))


# -- torch.* forms ----------------------------------------------------------------------------
def torch_svd(input: Any, some: bool = True, compute_uv: bool = True):  # noqa: A002
    """``torch.svd``: (U, S, V), V = Vh^T (reduced when ``some``); zeros for U and V when
    not ``compute_uv``."""
    u, s, vh = svd(input, full_matrices=not some)
    if not compute_uv:
        return _SVDResult((Tensor._wrap(np.zeros(u.shape, u.data.dtype), False), s,
                           Tensor._wrap(np.zeros(vh.mT.shape, u.data.dtype), False)))
    return _SVDResult((u, s, vh.mT))


def torch_qr(input: Any, some: bool = True) -> _QRResult:  # noqa: A002
    """``torch.qr``: (Q, R), reduced when ``some``."""
    return qr(input, "reduced" if some else "complete")


def torch_cross(input: Any, other: Any, dim: Any = None) -> Tensor:  # noqa: A002
    """``torch.cross``: along ``dim``, or (without it) the first dim of size 3."""
    if dim is None:
        shape = np.broadcast_shapes(tuple(_as_tensor(input).shape),
                                    tuple(_as_tensor(other).shape))
        sizes = [d for d, n in enumerate(shape) if n == 3]
        if not sizes:
            raise RuntimeError(f"no dimension of size 3 in input (shape {tuple(shape)})")
        dim = sizes[0]
    return cross(input, other, dim=dim)


# -- cross product ----------------------------------------------------------------------------
def cross(input: Any, other: Any, *, dim: int = -1) -> Tensor:  # noqa: A002
    """The 3-vector cross product along ``dim`` (broadcast):
    (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0)."""
    from .elementwise import _operands
    from .shape import _dim, cat, narrow
    a, b = _operands(_as_tensor(input), _as_tensor(other))
    a, b = _as_tensor(a), _as_tensor(b)
    if a.ndim != b.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise RuntimeError(f"linalg.cross: shapes {tuple(a.shape)} and {tuple(b.shape)} "
                           f"cannot be broadcast together") from None
    axis = _dim(dim, len(shape), "linalg.cross")
    sizes = [t.shape[axis - len(shape) + t.ndim] if axis - len(shape) + t.ndim >= 0 else 1
             for t in (a, b)]
    if sizes != [3, 3]:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{sizes[0]} and {sizes[1]}")
    a, b = a.expand(*shape), b.expand(*shape)

    def part(x: Tensor, i: int) -> Tensor:
        return narrow(x, axis, i, 1)

    return cat([part(a, 1) * part(b, 2) - part(a, 2) * part(b, 1),
                part(a, 2) * part(b, 0) - part(a, 0) * part(b, 2),
                part(a, 0) * part(b, 1) - part(a, 1) * part(b, 0)], axis)
