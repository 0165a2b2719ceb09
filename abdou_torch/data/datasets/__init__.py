"""Ready-made datasets and the IDX file format they are stored in."""
from abdou_torch.data.datasets.blobs import make_blobs
from abdou_torch.data.datasets.idx import read_idx, write_idx
from abdou_torch.data.datasets.mnist import MNIST, FashionMNIST, convert_mnist_wheel

__all__ = ["MNIST", "FashionMNIST", "convert_mnist_wheel", "make_blobs", "read_idx",
           "write_idx"]
