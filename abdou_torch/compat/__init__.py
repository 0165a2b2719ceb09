"""What exists only for PyTorch programs: the ``torch`` alias and ``abdou-torch run``.

- :mod:`.alias`: ``import torch`` resolving to abdou_torch (``install()``/``uninstall()``, also
  usable in a notebook: ``import abdou_torch.compat; abdou_torch.compat.install()``).
- :mod:`.runner`: the ``abdou-torch run SCRIPT | -m MODULE | -c CODE`` command.
- :mod:`.compile`: ``torch.compile``; :mod:`.dtypes`: ``torch.bfloat16`` (autocast only);
  :mod:`.convert`: PyTorch checkpoints to abdou_torch's format (run with PyTorch).

Real features under PyTorch's names live in the library itself (``abdou_torch.cuda``,
``abdou_torch.backends``, ``abdou_torch.amp``, ``abdou_torch.onnx``,
``abdou_torch.utils.tensorboard``); only what cannot exist here is a stand-in in this package.
"""
from .alias import NotAvailableError, install, is_installed, uninstall

__all__ = ["install", "uninstall", "is_installed", "NotAvailableError"]
