"""``from abdou_torch.utils.data import DataLoader`` works as in PyTorch."""
from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401
