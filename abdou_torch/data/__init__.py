"""Data loading: datasets, batching and ready-made data sets (``torch.utils.data`` names)."""
from abdou_torch.data.dataloader import DataLoader, default_collate
from abdou_torch.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from abdou_torch.data.datasets import MNIST, FashionMNIST, make_blobs, read_idx, write_idx
from abdou_torch.data.datasets import CharTokenizer, CharWindows, Shakespeare

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "DataLoader",
           "default_collate", "random_split", "MNIST", "FashionMNIST", "make_blobs",
           "read_idx", "write_idx", "Shakespeare", "CharTokenizer", "CharWindows"]
