"""A stand-in for torchvision, served by ``abdou-torch run`` for ``import torchvision``.

PyTorch's torchvision is the spec for what is here, which is what the first PyTorch
programs use: ``datasets.MNIST`` and ``datasets.FashionMNIST`` over the library's own data
files (:mod:`.datasets`), the common ``transforms`` (:mod:`.transforms`, ``transforms.v2``
and ``transforms.functional``), and ``utils.make_grid``/``utils.save_image`` (PNG without
PIL). Images are the PIL-free :class:`.image.Image` where torchvision gives a PIL image.
Everything else of torchvision (other data sets, ``models``, ``io``, ``ops``) fails with an
error that names the missing API. Plain Python never sees this package as ``torchvision``:
only the import hook of :mod:`abdou_torch.compat.alias` maps the name.
"""
from . import datasets, models, transforms, utils
from .image import Image

__all__ = ["datasets", "models", "transforms", "utils", "Image"]

__version__ = "0.28.0+abdou_torch"
