"""Data loading: datasets, samplers, batching and ready-made data sets, with the names of
``torch.utils.data`` (which ``abdou_torch.utils.data`` mirrors)."""
from abdou_torch.data.collate import default_collate, default_convert
from abdou_torch.data.dataloader import DataLoader
from abdou_torch.data.distributed import DistributedSampler
from abdou_torch.data.dataset import (ChainDataset, ConcatDataset, Dataset, IterableDataset,
                                      Subset, TensorDataset, random_split)
from abdou_torch.data.datasets import MNIST, FashionMNIST, make_blobs, read_idx, write_idx
from abdou_torch.data.datasets import CharTokenizer, CharWindows, Shakespeare
from abdou_torch.data.sampler import (BatchSampler, RandomSampler, Sampler, SequentialSampler,
                                      SubsetRandomSampler, WeightedRandomSampler)
from abdou_torch.data.worker import WorkerInfo, get_worker_info

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "DataLoader", "default_collate", "default_convert", "random_split",
           "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "get_worker_info", "WorkerInfo", "MNIST",
           "FashionMNIST", "make_blobs", "read_idx", "write_idx", "DistributedSampler",
           "Shakespeare", "CharTokenizer", "CharWindows"]
