"""PyTorch-style aliases: ``abdou_torch.utils.data`` is ``abdou_torch.data`` (loaded on first
use, so that ``utils.hooks`` does not pull the data package into ``import abdou_torch``)."""
import importlib


def __getattr__(name: str):
    if name == "data":
        return importlib.import_module(f"{__name__}.data")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
