"""Optimizers and learning-rate schedules, with PyTorch's names and updates.

- ``SGD``, ``Adam``, ``WAdam`` (= ``AdamW``), ``RMSprop``, ``Adagrad``, ``Adadelta``,
  ``Adamax``, ``NAdam``, ``RAdam``, ``ASGD``, ``Rprop``: each writes its algorithm as a
  numbered block in its docstring, then as a per-parameter reference step and a flat step
  over all parameters of a group at once (``optimizer.py`` explains both).
- ``LBFGS``: L-BFGS with an optional strong-Wolfe line search; ``step(closure)``.
- ``lr_scheduler``: ``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``,
  ``LinearLR``, ``ConstantLR``, ``OneCycleLR``, ``LambdaLR``, ``MultiplicativeLR``,
  ``PolynomialLR``, ``CyclicLR``, ``CosineAnnealingWarmRestarts``, ``SequentialLR``,
  ``ChainedScheduler``, ``ReduceLROnPlateau``.
"""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW, WAdam
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "WAdam", "RMSprop", "Adagrad", "Adadelta",
           "Adamax", "NAdam", "RAdam", "LBFGS", "ASGD", "Rprop", "lr_scheduler"]
