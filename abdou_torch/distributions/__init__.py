"""``torch.distributions``: probability distributions with sampling, log densities,
entropies and KL divergences, differentiable in their parameters.

Each distribution lives in the module PyTorch gives it (``normal.py`` holds ``Normal``),
on the base class in ``distribution.py``; ``constraints`` names the parameters' and the
values' domains, ``kl`` the registered KL divergences. Under ``abdou-torch run``,
``torch.distributions.X`` is the ``X`` here.
"""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "Normal", "Uniform",
           "constraints"]
