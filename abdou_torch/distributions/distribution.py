"""``Distribution``: the base class of every probability distribution.

A distribution has a ``batch_shape`` (independent copies with different parameters) and
an ``event_shape`` (the shape of one draw: () for a scalar, (k,) for a vector). A sample of
``sample_shape`` has shape ``sample_shape + batch_shape + event_shape``; ``log_prob(value)``
scores values of that shape (broadcasting) and returns ``sample_shape + batch_shape``.

``sample`` draws without a graph; ``rsample`` (where ``has_rsample``) draws through the
reparameterisation trick (x = g(parameters, noise)), so gradients flow to the parameters.

Validation (on by default, as PyTorch's: Python's ``__debug__``): the constructor checks
every parameter against ``arg_constraints`` and ``log_prob``/``cdf`` check values against
``support``, raising ValueError with PyTorch's messages. ``validate_args=False`` (or
``Distribution.set_default_validate_args(False)``) turns it off.
"""
from __future__ import annotations

import warnings
from typing import Any, Sequence

from ..autograd import no_grad
from ..size import Size
from ..tensor import Tensor
from . import constraints
from .utils import lazy_property

__all__ = ["Distribution"]

EMPTY_SIZE = Size()  # the default sample_shape: one draw


def _size(shape: Any) -> Size:
    if isinstance(shape, Size):
        return shape
    if isinstance(shape, int):
        return Size((shape,))
    return Size(tuple(int(n) for n in shape))


class Distribution:
    """Abstract base of the probability distributions (see the module docstring)."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args: bool = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument validation on or off for every distribution made afterwards."""
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape: Any = EMPTY_SIZE, event_shape: Any = EMPTY_SIZE,
                 validate_args: bool | None = None) -> None:
        self._batch_shape = _size(batch_shape)
        self._event_shape = _size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()
        super().__init__()

    def _check_parameters(self) -> None:
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(f"{type(self)} does not define `arg_constraints`. Please set "
                          f"`arg_constraints = {{}}` or initialize the distribution with "
                          f"`validate_args=False` to turn off validation.", stacklevel=3)
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue  # depends on other parameters: cannot be checked
            if param not in self.__dict__ and isinstance(getattr(type(self), param, None),
                                                         lazy_property):
                continue  # derived lazily from another parameter, which is checked
            value = getattr(self, param)
            if not bool(constraint.check(value).data.all()):
                raise ValueError(
                    f"Expected parameter {param} ({type(value).__name__} of shape "
                    f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                    f"constraint {constraint!r}, but found invalid values:\n{value}")

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """A distribution of ``batch_shape`` whose parameters are this one's, expanded
        (views: no copy, and no second validation)."""
        raise NotImplementedError

    @property
    def batch_shape(self) -> Size:
        """The shape over which the parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        """The shape of a single draw, without batching."""
        return self._event_shape

    @property
    def arg_constraints(self) -> dict[str, constraints.Constraint]:
        """The constraint each parameter must satisfy, by parameter name."""
        raise NotImplementedError

    @property
    def support(self) -> Any:
        """The constraint the values of this distribution satisfy."""
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        """sqrt(variance)."""
        return self.variance.sqrt()

    def sample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        """A draw of shape ``sample_shape + batch_shape + event_shape``, outside the graph."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = EMPTY_SIZE) -> Tensor:
        """A reparameterised draw: differentiable in the parameters."""
        raise NotImplementedError

    def sample_n(self, n: int) -> Tensor:
        """Deprecated: ``sample((n,))``."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
                      FutureWarning, stacklevel=2)
        return self.sample(Size((n,)))

    def log_prob(self, value: Tensor) -> Tensor:
        """log p(value), of shape ``sample_shape + batch_shape``."""
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value)."""
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        """The value x with cdf(x) = ``value``."""
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """All values of a discrete distribution along dim 0: shape (cardinality,) +
        batch_shape + event_shape (batch dims of size 1 with ``expand=False``)."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """H = -E[log p(X)], of shape batch_shape."""
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """exp(entropy)."""
        return self.entropy().exp()

    def _extended_shape(self, sample_shape: Any = EMPTY_SIZE) -> Size:
        """sample_shape + batch_shape + event_shape."""
        return Size(tuple(_size(sample_shape)) + tuple(self._batch_shape)
                    + tuple(self._event_shape))

    def _validate_sample(self, value: Any) -> None:
        """Raise ValueError unless ``value``'s rightmost dims match the event shape, it
        broadcasts with batch_shape + event_shape, and it lies in the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.dim() - len(self._event_shape)
        if value.size()[event_dim_start:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: "
                             f"{value.size()} vs {self._event_shape}.")
        actual_shape = value.size()
        expected_shape = self._batch_shape + self._event_shape
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: "
                                 f"{actual_shape} vs {expected_shape}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{type(self)} does not define `support` to enable sample "
                          f"validation. Please initialize the distribution with "
                          f"`validate_args=False` to turn off validation.", stacklevel=3)
            return
        if not bool(support.check(value).data.all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape "
                f"{tuple(value.shape)}) to be within the support ({support!r}) of the "
                f"distribution {self!r}, but found invalid values:\n{value}")

    def _expanded(self, cls: type, batch_shape: Any, _instance: Any,
                  names: Sequence[str], param_shape: Any = None) -> Any:
        """What every ``expand`` does: a ``cls`` (or ``_instance``) of ``batch_shape``
        whose attributes ``names`` are this one's expanded to ``param_shape`` (default
        ``batch_shape``; views, no copy), not validated again."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = Size(batch_shape)
        shape = batch_shape if param_shape is None else param_shape
        for name in names:
            setattr(new, name, getattr(self, name).expand(shape))
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _held(self, *names: str) -> list[str]:
        """Those of ``names`` this distribution holds already (``probs`` and ``logits``
        are computed from each other on first use)."""
        return [name for name in names if name in self.__dict__]

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Any:
        own_init = type(self).__init__
        if _instance is None and own_init is not cls.__init__:  # type: ignore[misc]
            raise NotImplementedError(
                f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                f"__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self) -> str:
        names = [k for k in self.arg_constraints if k in self.__dict__]
        parts = []
        for name in names:
            value = self.__dict__[name]
            parts.append(f"{name}: {value if value.numel() == 1 else value.size()}")
        return f"{type(self).__name__}({', '.join(parts)})"
