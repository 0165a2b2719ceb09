"""PyTorch-style aliases: ``abdou_torch.utils.data`` is ``abdou_torch.data``."""
from .. import data  # noqa: F401
