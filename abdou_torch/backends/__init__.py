"""``torch.backends``: the flags programs set for the kernels of other backends.

abdou_torch computes with NumPy on the CPU; cuDNN, MPS, CUDA and oneDNN are not there, so
their ``is_available()`` is False. The flags (``cudnn.benchmark``, ``cudnn.deterministic``,
``cuda.matmul.allow_tf32`` ...) are kept with PyTorch's defaults so a program can set and
read them; they change nothing here, where every kernel is already deterministic and runs
in the precision of its inputs.
"""
from . import cpu, cuda, cudnn, mkldnn, mps

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps"]
