"""``torch.set_num_threads`` and friends: the threads NumPy's BLAS uses for products.

abdou_torch's parallel work is the BLAS's (matrix products, convolutions as products);
its elementwise passes run on one thread, as NumPy's ufuncs do. So the intra-op thread
count is the BLAS's, set through threadpoolctl (the ``train`` extra) when it is installed.
Without it, the count cannot be changed once NumPy has loaded its BLAS: the call then
warns once and the BLAS keeps its own setting (``OPENBLAS_NUM_THREADS`` before start).
Inter-op threads do not exist here (one op runs at a time); their setters only check the
argument, as PyTorch's do.
"""
from __future__ import annotations

import os
import warnings
from typing import Any

__all__ = ["set_num_threads", "get_num_threads", "set_num_interop_threads",
           "get_num_interop_threads"]

_interop_threads = [os.cpu_count() or 1]
_warned = [False]


def _check_positive(n: Any, function: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise RuntimeError(f"{function} expects a positive integer")
    return n


def set_num_threads(n: int) -> None:
    """Use ``n`` BLAS threads from now on (PyTorch: the intra-op thread pool)."""
    _check_positive(n, "set_num_threads")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        if not _warned[0]:
            _warned[0] = True
            warnings.warn("set_num_threads: threadpoolctl is not installed, so the BLAS keeps "
                          "its thread count (set OPENBLAS_NUM_THREADS before starting)",
                          RuntimeWarning, stacklevel=2)
        return
    threadpool_limits(limits=n, user_api="blas")  # applies now, and stays


def get_num_threads() -> int:
    """The BLAS's thread count (the machine's cores where it cannot be read)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    counts = [pool["num_threads"] for pool in threadpool_info()
              if pool.get("user_api") == "blas"]
    return max(counts) if counts else os.cpu_count() or 1


def set_num_interop_threads(n: int) -> None:
    """Accepted for PyTorch programs: abdou_torch runs one op at a time."""
    _interop_threads[0] = _check_positive(n, "set_num_interop_threads")


def get_num_interop_threads() -> int:
    return _interop_threads[0]
