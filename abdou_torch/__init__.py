"""abdou_torch: a deep-learning framework in plain Python on NumPy.

A ``Tensor`` wraps a NumPy array and records the ops that made it; ``backward()`` walks
that graph in reverse and fills every leaf's ``.grad``. On top: ``nn`` (modules, layers,
losses), ``optim`` (SGD, Adam, WAdam ...), ``data`` (datasets and loaders) and safe
safetensors checkpoints. Names and semantics follow PyTorch.
"""
import math as _math

from . import autograd, dtypes, ops, random
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .devices import device
from .dtypes import (bool, cdouble, cfloat, complex64, complex128, double, dtype, float,
                     float16, float32, float64, get_default_dtype, half, int, int8, int16,
                     int32, int64, long, set_default_dtype, short, uint8)
from .errors import ShapeError
from .factories import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
                        linspace, ones, ones_like, rand, rand_like, randint, randn, randn_like,
                        randperm, tensor, zeros, zeros_like)
from .ops.elementwise import (abs, add, clamp, cos, div, eq, erf, exp, ge, gelu, gt, isfinite,
                              isnan, le, leaky_relu, log, logical_not, lt, maximum, minimum,
                              mul, ne, neg, pow, relu, sigmoid, sin, sqrt, square, sub,
                              tanh, where)
from .ops.common import (ceil, column_stack, count_nonzero, diag, diagonal, floor, fmod, frac,
                         hstack, is_tensor, isinf, lerp, logical_and, logical_or, logical_xor,
                         meshgrid, nan_to_num, nonzero, numel, reciprocal, remainder, repeat,
                         repeat_interleave, round, rsqrt, sign, swapaxes, tile, trace, trunc,
                         unique, vstack)
from .ops.common import dropout, log_softmax, softmax
from .ops.linalg import bmm, dot, linear, matmul, mm, outer
from .ops.reduce import (amax, amin, argmax, argmin, logsumexp, max, mean, min, prod, std,
                         sum, var)
from .ops.shape import (broadcast_to, cat, chunk, concat, expand, flatten, gather, movedim,
                        narrow, pad, permute, reshape, split, squeeze, stack, transpose, unbind,
                        unsqueeze)
from .ops.shape import select, take_along_dim
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,
                     seed, set_rng_state)
from .ops.compare import allclose, equal, isclose
from .ops.einsum import einsum
from .ops.elementwise import expm1, log1p, log2, log10
from .ops.histogram import bincount, histc, histogram
from .ops.indexing import (index_add, index_select, masked_fill, masked_select, scatter,
                           scatter_add)
from .ops.linalg import addbmm, addmm, addmv, baddbmm
from .ops.movement import flip, fliplr, flipud, roll, tril, triu
from .ops.norm import torch_norm as norm
from .ops.reduce import all, any
from .ops.scan import cumprod, cumsum
from .ops.sorting import argsort, msort, sort, topk
from .printing import get_printoptions, printoptions, set_printoptions
from .random_sampling import bernoulli, multinomial, normal, poisson, randint_like
from .memory_format import (channels_last, channels_last_3d, contiguous_format, memory_format,
                            preserve_format)
from .size import Size
from .threads import (get_num_interop_threads, get_num_threads, set_num_interop_threads,
                      set_num_threads)
from .type_info import finfo, iinfo
from .tensor import Tensor
from .tensor_types import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,
                           HalfTensor, IntTensor, LongTensor, ShortTensor)
from . import linalg, nn, optim  # noqa: E402 - they build on the names above
from .nn import MLP, Linear, Module, Parameter
from .optim import WAdam, AdamW
from . import compiler  # noqa: E402 - torch.compiler
from .compile import compile  # noqa: A004 - PyTorch's name (torch.compile)

clip = clamp
inf, nan, pi, e = _math.inf, _math.nan, _math.pi, _math.e  # builtins float is shadowed here
concatenate = cat
swapdims = swapaxes

__version__ = "0.1.0"


def __getattr__(name: str):
    """Load the heavier parts on first use, so ``import abdou_torch`` stays fast."""
    import importlib
    if name in ("save", "load", "load_with_metadata"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    if name in ("data", "serialization", "utils", "distributed", "cuda", "backends", "amp",
                "onnx", "testing"):
        return importlib.import_module(f".{name}", __name__)
    if name == "autocast":
        return importlib.import_module(".amp", __name__).autocast
    raise AttributeError(f"module 'abdou_torch' has no attribute '{name}'")
