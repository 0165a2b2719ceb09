"""``torch.linalg``: matrix and vector norms, singular values, products, inverses,
determinants, solves and factorizations.

The ops live in ``abdou_torch/ops/norm.py``, ``ops/linalg.py`` and ``ops/matrix.py``; this
module gives them PyTorch's public names.
"""
from __future__ import annotations

from .ops.arrange import multi_dot
from .ops.linalg import matmul
from .ops.matrix import (LinAlgError, cholesky, cholesky_ex, cross, det, eig, eigh, eigvals,
                         eigvalsh, inv, inv_ex, lstsq, matrix_exp, matrix_power, matrix_rank,
                         pinv, qr, slogdet, solve, svd)
from .ops.norm import matrix_norm, norm, svdvals, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "svdvals", "matmul", "LinAlgError", "inv",
           "inv_ex", "det", "slogdet", "solve", "cholesky", "cholesky_ex", "qr", "eigh",
           "eigvalsh", "eig", "eigvals", "svd", "pinv", "lstsq", "matrix_rank", "matrix_exp",
           "matrix_power", "cross", "multi_dot"]
