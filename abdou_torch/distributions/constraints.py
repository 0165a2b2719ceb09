"""``torch.distributions.constraints``: the regions a parameter or a value must lie in.

A constraint's ``check(value)`` returns a bool Tensor of the value's shape less its
``event_dim`` rightmost dims: True where the event is valid. Distributions name their
parameters' constraints in ``arg_constraints`` and their values' in ``support``; with
validation on, a parameter or value outside them raises ValueError (see distribution.py).
The checks run on the NumPy arrays (they take no part in autograd).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..tensor import Tensor

__all__ = ["Constraint", "MixtureSameFamilyConstraint", "boolean", "cat", "corr_cholesky",
           "dependent", "dependent_property",
           "greater_than", "greater_than_eq", "half_open_interval", "independent",
           "integer_interval", "interval", "is_dependent", "less_than", "lower_cholesky",
           "lower_triangular", "multinomial", "nonnegative", "nonnegative_integer", "one_hot",
           "positive", "positive_definite", "positive_integer", "positive_semidefinite",
           "real", "real_vector", "simplex", "square", "stack", "symmetric", "unit_interval"]


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _result(valid: Any) -> Tensor:
    return Tensor._wrap(np.asarray(valid, dtype=np.bool_), False)


class Constraint:
    """A region a variable must lie in. ``is_discrete``: whether the region is discrete;
    ``event_dim``: how many rightmost dims form one event (check removes them)."""

    is_discrete = False
    event_dim = 0

    def check(self, value: Any) -> Tensor:
        """A bool Tensor of ``sample_shape + batch_shape``: whether each event is valid."""
        return _result(self._valid(_array(value)))

    def _valid(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__[1:] + "()"


class _Dependent(Constraint):
    """A constraint that depends on other parameters (a Binomial's ``total_count``): it
    cannot be checked, and validation skips it."""

    def __init__(self, *, is_discrete: Any = NotImplemented,
                 event_dim: Any = NotImplemented) -> None:
        self._is_discrete = is_discrete
        self._event_dim = event_dim

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        if self._is_discrete is NotImplemented:
            raise NotImplementedError(".is_discrete cannot be determined statically")
        return self._is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        if self._event_dim is NotImplemented:
            raise NotImplementedError(".event_dim cannot be determined statically")
        return self._event_dim

    def __call__(self, *, is_discrete: Any = NotImplemented,
                 event_dim: Any = NotImplemented) -> _Dependent:
        return _Dependent(
            is_discrete=self._is_discrete if is_discrete is NotImplemented else is_discrete,
            event_dim=self._event_dim if event_dim is NotImplemented else event_dim)

    def check(self, value: Any) -> Tensor:
        raise ValueError("Cannot determine validity of dependent constraint")


def is_dependent(constraint: Any) -> bool:
    """Whether ``constraint`` is a dependent one (validation cannot check it)."""
    return isinstance(constraint, _Dependent)


class _DependentProperty(property, _Dependent):
    """A property that is also a dependent constraint, for a ``support`` that depends on
    the parameters (``Uniform.support`` is interval(low, high))."""

    def __init__(self, fn: Callable | None = None, *, is_discrete: Any = NotImplemented,
                 event_dim: Any = NotImplemented) -> None:
        property.__init__(self, fn)
        _Dependent.__init__(self, is_discrete=is_discrete, event_dim=event_dim)

    def __call__(self, fn: Callable) -> _DependentProperty:  # type: ignore[override]
        return _DependentProperty(fn, is_discrete=self._is_discrete,
                                  event_dim=self._event_dim)


class _IndependentConstraint(Constraint):
    """``base_constraint`` with its ``reinterpreted_batch_ndims`` rightmost batch dims
    made part of the event: valid where all of them are."""

    def __init__(self, base_constraint: Constraint, reinterpreted_batch_ndims: int) -> None:
        if not isinstance(base_constraint, Constraint):
            raise TypeError(f"independent: base_constraint must be a Constraint, got "
                            f"{type(base_constraint).__name__}")
        if not isinstance(reinterpreted_batch_ndims, int) or reinterpreted_batch_ndims < 0:
            raise ValueError(f"independent: reinterpreted_batch_ndims must be a non-negative "
                             f"int, got {reinterpreted_batch_ndims!r}")
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim + self.reinterpreted_batch_ndims

    def _valid(self, x: np.ndarray) -> np.ndarray:
        valid = _array(self.base_constraint.check(x))
        if valid.ndim < self.reinterpreted_batch_ndims:
            expected = self.base_constraint.event_dim + self.reinterpreted_batch_ndims
            raise ValueError(f"Expected value.dim() >= {expected} but got {x.ndim}")
        n = self.reinterpreted_batch_ndims
        return np.asarray(valid.reshape(valid.shape[:valid.ndim - n] + (-1,)).all(-1))

    def __repr__(self) -> str:
        return (f"{type(self).__name__[1:]}({self.base_constraint!r}, "
                f"{self.reinterpreted_batch_ndims})")


class MixtureSameFamilyConstraint(Constraint):
    """The support of a mixture: values valid for every component (the component dim,
    just left of the event dims, is added to the value and reduced with all)."""

    def __init__(self, base_constraint: Constraint) -> None:
        if not isinstance(base_constraint, Constraint):
            raise TypeError(f"base_constraint must be a Constraint, got "
                            f"{type(base_constraint).__name__}")
        self.base_constraint = base_constraint

    @property
    def is_discrete(self) -> bool:  # type: ignore[override]
        return self.base_constraint.is_discrete

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return self.base_constraint.event_dim

    def _valid(self, x: np.ndarray) -> np.ndarray:
        if x.ndim < self.event_dim:
            raise ValueError(f"Expected value.dim() >= {self.event_dim} but got {x.ndim}")
        result = _array(self.base_constraint.check(np.expand_dims(x, -1 - self.event_dim)))
        keep = x.ndim - self.event_dim
        return np.asarray(result.reshape(result.shape[:keep] + (-1,)).all(-1))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_constraint!r})"


class _Boolean(Constraint):
    """The two values {0, 1}."""

    is_discrete = True

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return (x == 0) | (x == 1)


class _OneHot(Constraint):
    """One-hot vectors: 0s and one 1 along the last dim."""

    is_discrete = True
    event_dim = 1

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return ((x == 0) | (x == 1)).all(-1) & (x.sum(-1) == 1)


class _IntegerInterval(Constraint):
    """Integers in [lower_bound, upper_bound]."""

    is_discrete = True

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return ((x % 1 == 0) & (_array(self.lower_bound) <= x)
                & (x <= _array(self.upper_bound)))

    def __repr__(self) -> str:
        return (f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _IntegerGreaterThan(Constraint):
    """Integers at least lower_bound."""

    is_discrete = True

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return np.asarray((x % 1 == 0) & (x >= _array(self.lower_bound)))

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"


class _Real(Constraint):
    """The extended real line without NaN: x == x."""

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return x == x


class _GreaterThan(Constraint):
    """x > lower_bound."""

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return _array(self.lower_bound) < x

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(lower_bound={self.lower_bound})"


class _GreaterThanEq(_GreaterThan):
    """x >= lower_bound."""

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return _array(self.lower_bound) <= x


class _LessThan(Constraint):
    """x < upper_bound."""

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return x < _array(self.upper_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__[1:]}(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    """lower_bound <= x <= upper_bound."""

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return (_array(self.lower_bound) <= x) & (x <= _array(self.upper_bound))

    def __repr__(self) -> str:
        return (f"{type(self).__name__[1:]}(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _HalfOpenInterval(_Interval):
    """lower_bound <= x < upper_bound."""

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return (_array(self.lower_bound) <= x) & (x < _array(self.upper_bound))


class _Simplex(Constraint):
    """Non-negative vectors summing to 1 (within 1e-6) along the last dim."""

    event_dim = 1

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return (x >= 0).all(-1) & (np.abs(x.sum(-1) - 1) < 1e-6)


class _Multinomial(Constraint):
    """Non-negative integer counts summing to at most upper_bound (PyTorch checks this
    weaker condition too)."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return (x >= 0).all(-1) & (x.sum(-1) <= _array(self.upper_bound))


def _is_lower_triangular(x: np.ndarray) -> np.ndarray:
    return (np.tril(x) == x).reshape(x.shape[:-2] + (-1,)).all(-1)


class _LowerTriangular(Constraint):
    """Lower-triangular square matrices."""

    event_dim = 2

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return _is_lower_triangular(x)


class _LowerCholesky(Constraint):
    """Lower-triangular matrices with a positive diagonal."""

    event_dim = 2

    def _valid(self, x: np.ndarray) -> np.ndarray:
        positive_diagonal = (np.diagonal(x, axis1=-2, axis2=-1) > 0).all(-1)
        return _is_lower_triangular(x) & positive_diagonal


class _CorrCholesky(_LowerCholesky):
    """Lower Cholesky factors of correlation matrices: rows of unit length."""

    def _valid(self, x: np.ndarray) -> np.ndarray:
        tolerance = np.finfo(x.dtype).eps * x.shape[-1] * 10
        unit_rows = (np.abs(np.linalg.norm(x, axis=-1) - 1) <= tolerance).all(-1)
        return super()._valid(x) & unit_rows


class _Square(Constraint):
    """Square matrices."""

    event_dim = 2

    def _valid(self, x: np.ndarray) -> np.ndarray:
        return np.full(x.shape[:-2], x.shape[-2] == x.shape[-1], dtype=np.bool_)


class _Symmetric(_Square):
    """Symmetric matrices (within atol 1e-6, rtol 1e-5)."""

    def _valid(self, x: np.ndarray) -> np.ndarray:
        square = super()._valid(x)
        if not square.all():
            return square
        return np.asarray(np.isclose(x, np.swapaxes(x, -1, -2), atol=1e-6).all((-2, -1)))


class _PositiveSemidefinite(_Symmetric):
    """Symmetric matrices with non-negative eigenvalues."""

    def _valid(self, x: np.ndarray) -> np.ndarray:
        symmetric = super()._valid(x)
        if not symmetric.all():
            return symmetric
        return np.asarray((np.linalg.eigvalsh(x) >= 0).all(-1))


class _PositiveDefinite(_Symmetric):
    """Symmetric matrices that have a Cholesky factor."""

    def _valid(self, x: np.ndarray) -> np.ndarray:
        symmetric = super()._valid(x)
        if not symmetric.all():
            return symmetric
        matrices = x.reshape((-1,) + x.shape[-2:])
        valid = np.empty(len(matrices), dtype=np.bool_)
        for i, matrix in enumerate(matrices):
            try:
                np.linalg.cholesky(matrix)
                valid[i] = True
            except np.linalg.LinAlgError:
                valid[i] = False
        return valid.reshape(x.shape[:-2])


class _Cat(Constraint):
    """Constraints ``cseq`` applied to consecutive slices along ``dim`` (as torch.cat)."""

    def __init__(self, cseq: Any, dim: int = 0, lengths: Any = None) -> None:
        self.cseq = list(cseq)
        self.lengths = [1] * len(self.cseq) if lengths is None else list(lengths)
        if len(self.lengths) != len(self.cseq):
            raise ValueError(f"cat: {len(self.cseq)} constraints but {len(self.lengths)} "
                             f"lengths")
        self.dim = dim

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return max(c.event_dim for c in self.cseq)

    def _valid(self, x: np.ndarray) -> np.ndarray:
        parts, start = [], 0
        for constraint, length in zip(self.cseq, self.lengths):
            piece = np.take(x, range(start, start + length), axis=self.dim)
            parts.append(_array(constraint.check(piece)))
            start += length
        return np.concatenate(parts, axis=self.dim)


class _Stack(Constraint):
    """Constraints ``cseq`` applied to the slices along ``dim`` (as torch.stack)."""

    def __init__(self, cseq: Any, dim: int = 0) -> None:
        self.cseq, self.dim = list(cseq), dim

    @property
    def event_dim(self) -> int:  # type: ignore[override]
        return max(c.event_dim for c in self.cseq)

    def _valid(self, x: np.ndarray) -> np.ndarray:
        pieces = [np.take(x, i, axis=self.dim) for i in range(x.shape[self.dim])]
        return np.stack([_array(c.check(p)) for c, p in zip(self.cseq, pieces)],
                        axis=self.dim)


dependent = _Dependent()
dependent_property = _DependentProperty
independent = _IndependentConstraint
boolean = _Boolean()
one_hot = _OneHot()
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
integer_interval = _IntegerInterval
real = _Real()
real_vector = independent(real, 1)
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
multinomial = _Multinomial
unit_interval = _Interval(0.0, 1.0)
interval = _Interval
half_open_interval = _HalfOpenInterval
simplex = _Simplex()
lower_triangular = _LowerTriangular()
lower_cholesky = _LowerCholesky()
corr_cholesky = _CorrCholesky()
square = _Square()
symmetric = _Symmetric()
positive_semidefinite = _PositiveSemidefinite()
positive_definite = _PositiveDefinite()
cat = _Cat
stack = _Stack
