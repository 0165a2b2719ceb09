"""Exceptions shared across the package."""


class ShapeError(RuntimeError, ValueError):
    """Operands whose shapes do not fit the op. It is a RuntimeError, as in PyTorch, and a
    ValueError, as NumPy users expect; the message names the op and the shapes."""
