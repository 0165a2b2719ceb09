"""``ExponentialFamily``: distributions with density p(x; theta) = h(x) exp(<theta, t(x)> -
F(theta)), given by their natural parameters theta, log-normaliser F and carrier measure h.

From these two generic results follow (PyTorch computes both with autograd on F):

- entropy H = F(theta) - <theta, grad F(theta)> - E[log h(X)];
- KL(p || q) between members of one family is the Bregman divergence of F:
  F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)>.

Most subclasses override ``entropy`` with a closed form; the KL fallback is registered in
kl.py for pairs of the same family without a formula of their own.
"""
from __future__ import annotations

from typing import Any

from ..autograd import enable_grad
from ..autograd.engine import grad
from ..tensor import Tensor
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base of the exponential-family distributions (see the module docstring)."""

    @property
    def _natural_params(self) -> tuple[Tensor, ...]:
        """theta, as a tuple of tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Tensor) -> Tensor:
        """F(theta)."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> float:
        """E[log h(X)]."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """H = -E[log h] + F(theta) - sum theta grad F(theta) (grad F by autograd)."""
        result: Any = -self._mean_carrier_measure
        with enable_grad():
            params = [p.detach().requires_grad_() for p in self._natural_params]
            log_normalizer = self._log_normalizer(*params)
            gradients = grad(log_normalizer.sum(), params, create_graph=True)
        result = result + log_normalizer
        for param, gradient in zip(params, gradients):
            result = result - (param * gradient).reshape(tuple(self._batch_shape)
                                                         + (-1,)).sum(-1)
        return result
