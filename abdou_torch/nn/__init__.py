"""Neural-network building blocks: Module, Parameter, layers, functional, init."""
from . import init
from .layers import (ACTIVATIONS, GELU, MLP, Flatten, Identity, LeakyReLU, Linear, ModuleDict,
                     ModuleList, ReLU, Sequential, Sigmoid, Tanh, Unflatten)
from .module import Module
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Linear", "MLP", "Sequential", "ModuleList", "ModuleDict",
           "Identity", "Flatten", "Unflatten", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU",
           "init"]
from .conv import *  # noqa: F401,F403,E402 - convolution layers
from .embedding import *  # noqa: F401,F403,E402
from .normalization import *  # noqa: F401,F403,E402
from .pooling import *  # noqa: F401,F403,E402
