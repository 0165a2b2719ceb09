"""Ready-made datasets and the IDX file format they are stored in."""
from abdou_torch.data.datasets.blobs import make_blobs
from abdou_torch.data.datasets.idx import read_idx, write_idx
from abdou_torch.data.datasets.mnist import MNIST, FashionMNIST, convert_mnist_wheel
from abdou_torch.data.datasets.shakespeare import Shakespeare
from abdou_torch.data.datasets.text import CharTokenizer, CharWindows

__all__ = ["MNIST", "FashionMNIST", "convert_mnist_wheel", "make_blobs", "read_idx",
           "write_idx", "Shakespeare", "CharTokenizer", "CharWindows"]
