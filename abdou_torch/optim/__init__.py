"""Optimizers and learning-rate schedules, with PyTorch's names and updates.

- ``SGD``, ``Adam``, ``WAdam`` (= ``AdamW``), ``RMSprop``: each writes its algorithm as a
  numbered block in its docstring and updates all parameters of a group at once.
- ``lr_scheduler``: ``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``,
  ``LinearLR``, ``ConstantLR``, ``OneCycleLR``.
"""
from . import lr_scheduler
from .adam import Adam, AdamW, WAdam
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "WAdam", "RMSprop", "lr_scheduler"]
