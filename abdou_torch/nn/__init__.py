"""Neural-network building blocks: Module, Parameter, layers, losses, functional, init, utils."""
from . import functional, init, utils
from .layers import (ACTIVATIONS, GELU, MLP, Dropout, Flatten, Identity, LeakyReLU, Linear,
                     LogSoftmax, ModuleDict, ModuleList, ReLU, Sequential, Sigmoid, SiLU,
                     Softmax, Softplus, Tanh, Unflatten)
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, NLLLoss
from .loss import *  # noqa: F401,F403,E402 - the other losses
from .module import Module
from .parameter import Parameter

__all__ = ["Module", "Parameter", "Linear", "MLP", "Sequential", "ModuleList", "ModuleDict",
           "Identity", "Flatten", "Unflatten", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "GELU",
           "SiLU", "Softplus", "Softmax", "LogSoftmax", "Dropout", "MSELoss", "L1Loss",
           "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss", "functional", "init",
           "utils"]
from .activation import *  # noqa: F401,F403,E402 - more activations
from .conv import *  # noqa: F401,F403,E402 - convolution layers
from .embedding import *  # noqa: F401,F403,E402
from .normalization import *  # noqa: F401,F403,E402
from .pooling import *  # noqa: F401,F403,E402
from .rnn import *  # noqa: F401,F403,E402
from .attention import *  # noqa: F401,F403,E402
from .transformer import *  # noqa: F401,F403,E402
from .sync_batchnorm import SyncBatchNorm  # noqa: F401,E402
from .padding import *  # noqa: F401,F403,E402
from .parameter_containers import ParameterDict, ParameterList  # noqa: F401,E402
from .resample import *  # noqa: F401,F403,E402
from .dropout import *  # noqa: F401,F403,E402
from .bilinear import Bilinear, LazyLinear  # noqa: F401,E402


def __getattr__(name: str):
    """``nn.parallel`` loads on first use (it brings in the distributed package)."""
    if name == "parallel":
        import importlib
        return importlib.import_module(f"{__name__}.parallel")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
