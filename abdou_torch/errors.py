"""Exceptions shared across the package."""


class ShapeError(RuntimeError, ValueError):
    """Operands whose shapes do not fit the op. It is a RuntimeError, as in PyTorch, and a
    ValueError, as NumPy users expect; the message names the op and the shapes."""


class IndexOutOfRangeError(IndexError, RuntimeError):
    """An index outside the dim it indexes (negative ones included, where PyTorch refuses
    them and NumPy would count from the end). An IndexError, as Python users expect, and a
    RuntimeError, as PyTorch raises; the message names the op, the index and the size."""
