"""Differentiable primitives and the public functions built on them, one family a file."""
from . import elementwise, linalg, reduce, shape  # noqa: F401
