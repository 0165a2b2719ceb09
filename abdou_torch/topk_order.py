"""The order of PyTorch's CPU ``topk`` among equal values, by replaying libstdc++.

PyTorch's CPU topk puts (value, index) pairs in a vector and calls ``std::partial_sort``
when ``k * 64 <= n``, else ``std::nth_element`` followed by ``std::sort`` of the first
``k - 1`` pairs, comparing values only (NaN counts as largest). Which of several equal
values come first is therefore decided by libstdc++'s introselect, introsort and heap
algorithms. When no ties can reach the result, the order is just "by value", and
:func:`topk_indices` takes NumPy's way; otherwise it replays those algorithms step by step
(GCC's ``bits/stl_algo.h`` and ``bits/stl_heap.h``: median-of-three pivots, the 16-element
insertion-sort threshold, depth limits of 2 floor(log2 n)).
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = ["topk_indices"]

_SORT_THRESHOLD = 16  # libstdc++'s _S_threshold

Pair = tuple  # (value, index)
Less = Callable[[Pair, Pair], bool]


def topk_indices(values: np.ndarray, k: int, largest: bool = True) -> np.ndarray:
    """Indices of the ``k`` largest (or smallest) of a 1-D array, sorted, in PyTorch's CPU
    order."""
    n = values.size
    if k == 0:
        return np.empty(0, dtype=np.int64)
    if not _ties_matter(values, k, largest):
        keys = -values if largest else values
        return np.argsort(keys, kind="stable")[:k].astype(np.int64)
    pairs = list(zip(values.tolist(), range(n)))
    less = _larger_first if largest else _smaller_first
    if k * 64 <= n:
        _partial_sort(pairs, 0, k, n, less)
    else:
        _nth_element(pairs, 0, k - 1, n, less)
        _sort(pairs, 0, k - 1, less)
    return np.array([index for _, index in pairs[:k]], dtype=np.int64)


def _ties_matter(values: np.ndarray, k: int, largest: bool) -> bool:
    """Whether equal values (or NaNs) could change which indices come out, or their order."""
    if np.isnan(values).any():
        return True
    ordered = np.sort(values)
    if not largest:
        ordered = ordered[::-1]
    top = ordered[-k:] if k < values.size else ordered
    boundary_tie = k < values.size and ordered[-k] == ordered[-k - 1]
    return bool(boundary_tie or (np.diff(top) == 0).any())


def _larger_first(x: Pair, y: Pair) -> bool:
    return (math.isnan(x[0]) and not math.isnan(y[0])) or x[0] > y[0]


def _smaller_first(x: Pair, y: Pair) -> bool:
    return (not math.isnan(x[0]) and math.isnan(y[0])) or x[0] < y[0]


def _log2(n: int) -> int:
    return n.bit_length() - 1


# -- std::sort -----------------------------------------------------------------------------
def _sort(a: list, first: int, last: int, less: Less) -> None:
    if first != last:
        _introsort_loop(a, first, last, 2 * _log2(last - first), less)
        _final_insertion_sort(a, first, last, less)


def _introsort_loop(a: list, first: int, last: int, depth_limit: int, less: Less) -> None:
    while last - first > _SORT_THRESHOLD:
        if depth_limit == 0:
            _partial_sort(a, first, last, last, less)
            return
        depth_limit -= 1
        cut = _partition_pivot(a, first, last, less)
        _introsort_loop(a, cut, last, depth_limit, less)
        last = cut


def _partition_pivot(a: list, first: int, last: int, less: Less) -> int:
    middle = first + (last - first) // 2
    _move_median_to_first(a, first, first + 1, middle, last - 1, less)
    return _unguarded_partition(a, first + 1, last, first, less)


def _move_median_to_first(a: list, result: int, x: int, y: int, z: int, less: Less) -> None:
    if less(a[x], a[y]):
        if less(a[y], a[z]):
            median = y
        elif less(a[x], a[z]):
            median = z
        else:
            median = x
    elif less(a[x], a[z]):
        median = x
    elif less(a[y], a[z]):
        median = z
    else:
        median = y
    a[result], a[median] = a[median], a[result]


def _unguarded_partition(a: list, first: int, last: int, pivot: int, less: Less) -> int:
    while True:
        while less(a[first], a[pivot]):
            first += 1
        last -= 1
        while less(a[pivot], a[last]):
            last -= 1
        if not first < last:
            return first
        a[first], a[last] = a[last], a[first]
        first += 1


def _final_insertion_sort(a: list, first: int, last: int, less: Less) -> None:
    if last - first > _SORT_THRESHOLD:
        _insertion_sort(a, first, first + _SORT_THRESHOLD, less)
        for i in range(first + _SORT_THRESHOLD, last):
            _unguarded_linear_insert(a, i, less)
    else:
        _insertion_sort(a, first, last, less)


def _insertion_sort(a: list, first: int, last: int, less: Less) -> None:
    if first == last:
        return
    for i in range(first + 1, last):
        if less(a[i], a[first]):
            value = a[i]
            a[first + 1:i + 1] = a[first:i]
            a[first] = value
        else:
            _unguarded_linear_insert(a, i, less)


def _unguarded_linear_insert(a: list, last: int, less: Less) -> None:
    value = a[last]
    previous = last - 1
    while less(value, a[previous]):
        a[last] = a[previous]
        last = previous
        previous -= 1
    a[last] = value


# -- std::nth_element ------------------------------------------------------------------------
def _nth_element(a: list, first: int, nth: int, last: int, less: Less) -> None:
    if first == last or nth == last:
        return
    depth_limit = 2 * _log2(last - first)
    while last - first > 3:
        if depth_limit == 0:
            _heap_select(a, first, nth + 1, last, less)
            a[first], a[nth] = a[nth], a[first]
            return
        depth_limit -= 1
        cut = _partition_pivot(a, first, last, less)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(a, first, last, less)


# -- std::partial_sort and the heap --------------------------------------------------------
def _partial_sort(a: list, first: int, middle: int, last: int, less: Less) -> None:
    _heap_select(a, first, middle, last, less)
    while middle - first > 1:  # std::sort_heap
        middle -= 1
        _pop_heap(a, first, middle, middle, less)


def _heap_select(a: list, first: int, middle: int, last: int, less: Less) -> None:
    _make_heap(a, first, middle, less)
    for i in range(middle, last):
        if less(a[i], a[first]):
            _pop_heap(a, first, middle, i, less)


def _make_heap(a: list, first: int, last: int, less: Less) -> None:
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(a, first, parent, length, a[first + parent], less)
        if parent == 0:
            return
        parent -= 1


def _pop_heap(a: list, first: int, last: int, result: int, less: Less) -> None:
    value = a[result]
    a[result] = a[first]
    _adjust_heap(a, first, 0, last - first, value, less)


def _adjust_heap(a: list, first: int, hole: int, length: int, value: Pair, less: Less) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if less(a[first + child], a[first + child - 1]):
            child -= 1
        a[first + hole] = a[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        a[first + hole] = a[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and less(a[first + parent], value):
        a[first + hole] = a[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    a[first + hole] = value
