"""Optimizers and learning-rate schedules."""
from .adam import Adam, AdamW, WAdam
from .optimizer import Optimizer

__all__ = ["Optimizer", "Adam", "AdamW", "WAdam"]
