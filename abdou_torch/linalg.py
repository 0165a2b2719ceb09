"""``torch.linalg``: matrix and vector norms, singular values, products.

The ops live in ``abdou_torch/ops/norm.py`` and ``ops/linalg.py``; this module gives them
PyTorch's public names.
"""
from __future__ import annotations

from .ops.linalg import matmul
from .ops.norm import matrix_norm, norm, svdvals, vector_norm

__all__ = ["norm", "vector_norm", "matrix_norm", "svdvals", "matmul"]
