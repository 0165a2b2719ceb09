"""Collation: ``default_collate`` merges a list of samples into a batch, ``default_convert``
turns one sample's arrays into Tensors; both follow ``torch.utils.data`` exactly.

How each element type of the batch is merged (the type of the *first* sample decides):

* Tensor: stacked along a new first dim; dtypes promote as ``torch.stack`` promotes
  (``int32`` with ``float32`` is ``float32``; bool with ``int8`` is ``int8``).
* ndarray: each sample becomes a Tensor, then as above. String and object arrays raise.
* NumPy scalar (``np.float32(1)``, ``np.bool_``): ``torch.as_tensor(batch)``.
* Python float: ``torch.tensor(batch, dtype=float64)``.
* Python int or bool: ``torch.tensor(batch)``, whose dtype promotes over *all* the values:
  ``[1, 2.7, 3]`` is float32, ``[True, 2, 0]`` int64, ``[True, False]`` bool.
* str and bytes: the list itself.
* Mapping: a mapping of the same type, collated key by key (the first sample's keys).
* namedtuple: the same namedtuple, field by field. Other sequences must all have one
  length; tuples become *lists* (PyTorch's backwards compatibility), lists stay lists.
* Anything else raises TypeError.

``torch.tensor``'s dtype inference over a list (:func:`infer_dtype`) takes each value's
type (bool, int64, the default float dtype, complex64, or the dtype of a NumPy scalar,
array or Tensor) and promotes them with ``torch.promote_types``; each value is then stored
as that dtype, refusing what PyTorch refuses (``np.bool_`` as an integer, a str as a
number, an int past int64).
"""
from __future__ import annotations

import collections.abc
import copy
import functools
import operator
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from abdou_torch import dtypes
from abdou_torch.autograd.grad_mode import is_grad_enabled
from abdou_torch.tensor import Tensor

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map",
           "infer_dtype", "tensor_from_values"]

_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
          "lists; found {}")
_UNPROMOTABLE = {np.dtype(np.uint16), np.dtype(np.uint32), np.dtype(np.uint64)}
_SUPPORTED = ("float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
              "uint64, uint32, uint16, uint8, and bool")


# -- torch.tensor's dtype inference and value checks ----------------------------------------

def promote(a: np.dtype, b: np.dtype) -> np.dtype:
    """``torch.promote_types``, which refuses to mix uint16/32/64 with any other dtype but a
    floating one."""
    if a == b:
        return a
    if (a in _UNPROMOTABLE or b in _UNPROMOTABLE) and "f" not in (a.kind, b.kind):
        raise RuntimeError(f"Promotion for uint16, uint32, uint64 types is not supported, "
                           f"attempted to promote {a} and {b}")
    if a.kind == "c" or b.kind == "c":  # complex wins, as wide as the widest float part
        if a.kind == b.kind:
            return np.result_type(a, b)
        complex_part, other = (a, b) if a.kind == "c" else (b, a)
        if other.kind == "f" and other.itemsize * 2 > complex_part.itemsize:
            return np.dtype(np.complex128)
        return complex_part
    return dtypes.promote_types(a, b)


def _checked_array_dtype(dtype: np.dtype) -> dtypes.DType:
    if dtype.kind not in "biufc":
        raise TypeError(f"can't convert np.ndarray of type numpy.{dtype.type.__name__}. The "
                        f"only supported types are: {_SUPPORTED}.")
    return dtype


def _default_complex() -> dtypes.DType:
    return np.dtype(np.complex128 if dtypes.get_default_dtype() == np.float64
                    else np.complex64)


def infer_dtype(value: Any) -> dtypes.DType:
    """The dtype ``torch.tensor(value)`` would give."""
    if isinstance(value, Tensor):
        return value.data.dtype
    if isinstance(value, np.ndarray):
        return _checked_array_dtype(value.dtype)
    if isinstance(value, np.generic):
        return _checked_array_dtype(value.dtype)
    if isinstance(value, bool):
        return np.dtype(np.bool_)
    if isinstance(value, int):
        return np.dtype(np.int64)
    if isinstance(value, float):
        return dtypes.get_default_dtype()
    if isinstance(value, complex):
        return _default_complex()
    if isinstance(value, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(value).__name__}'")
    if isinstance(value, collections.abc.Sequence):
        if len(value) == 0:
            return dtypes.get_default_dtype()
        return functools.reduce(promote, (infer_dtype(item) for item in value))
    raise RuntimeError(f"Could not infer dtype of {type(value).__name__}")


def _tensor_value(value: Tensor, kind: str) -> Any:
    """A one-element Tensor's value; PyTorch's errors for more elements."""
    if value.data.size != 1:
        if kind in "biu":
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        raise ValueError("only one element tensors can be converted to Python scalars")
    return value.data.reshape(()).item()


def _store(value: Any, dtype: np.dtype) -> Any:
    """``value`` as a number of ``dtype``'s kind, or the error PyTorch raises: integers
    and bools go through ``__index__`` (so ``np.bool_`` is no integer and a 0-d bool array
    no bool), floats through ``__float__``."""
    kind = dtype.kind
    if isinstance(value, Tensor):
        value = _tensor_value(value, kind)
    if kind == "b" and isinstance(value, (bool, np.bool_)):
        return bool(value)
    if kind in "biu":
        number = operator.index(value)
        if kind == "b":
            return bool(number)
        info = np.iinfo(dtype)
        if not info.min <= number <= info.max:
            raise ValueError("Overflow when unpacking long long")
        return number
    if isinstance(value, (str, bytes, list, tuple, dict)) or value is None or \
            (kind == "f" and isinstance(value, (complex, np.complexfloating))):
        what = "complex number" if kind == "c" else "real number"
        raise TypeError(f"must be {what}, not {type(value).__name__}")
    return complex(value) if kind == "c" else float(value)


def tensor_from_values(values: Any, dtype: Any = None) -> Tensor:
    """``torch.tensor(values, dtype=dtype)`` for a flat list of numbers (numbers, NumPy
    scalars, 0-d arrays and one-element Tensors)."""
    dtype = functools.reduce(promote, (infer_dtype(v) for v in values)) if dtype is None \
        else dtypes.as_dtype(dtype)
    stored = [_store(value, dtype) for value in values]
    with np.errstate(over="ignore"):  # 1e300 as float32 is inf in PyTorch too
        return Tensor(np.array(stored, dtype=dtype))


def _as_tensor(value: Any) -> Tensor:
    """``torch.as_tensor(value)``: Tensors as they are, arrays wrapped, Python data inferred."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        _checked_array_dtype(value.dtype)
        return Tensor(np.asarray(value))
    dtype = infer_dtype(value)
    if isinstance(value, collections.abc.Sequence):
        return Tensor(dtypes.to_array(value, dtype))
    return Tensor(np.array(_store(value, dtype), dtype=dtype))


# -- the collate functions, one per element type ---------------------------------------------

def _collate_tensors(batch: list, *, collate_fn_map: dict | None = None) -> Tensor:
    """``torch.stack(batch)``: equal shapes, promoted dtype, differentiable if needed."""
    for position, item in enumerate(batch):
        if not isinstance(item, Tensor):
            raise TypeError(f"expected Tensor as element {position} in argument 0, but got "
                            f"{type(item).__name__}")
    for position, item in enumerate(batch):
        if item.shape != batch[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(batch[0].shape)} "
                f"at entry 0 and {list(item.shape)} at entry {position}")
    if is_grad_enabled() and any(item.requires_grad for item in batch):
        from abdou_torch.ops.shape import stack
        return stack(batch)
    dtype = functools.reduce(promote, (item.data.dtype for item in batch))
    return Tensor(np.stack([item.data for item in batch]).astype(dtype, copy=False))


def _collate_arrays(batch: list, *, collate_fn_map: dict | None = None) -> Tensor:
    if _STRING_OR_OBJECT.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERROR.format(batch[0].dtype))
    return collate([_as_tensor(item) for item in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalars(batch: list, *, collate_fn_map: dict | None = None) -> Tensor:
    return tensor_from_values(batch)


def _collate_floats(batch: list, *, collate_fn_map: dict | None = None) -> Tensor:
    return tensor_from_values(batch, np.float64)


def _collate_ints(batch: list, *, collate_fn_map: dict | None = None) -> Tensor:
    return tensor_from_values(batch)


def _collate_strings(batch: list, *, collate_fn_map: dict | None = None) -> list:
    return batch


#: element type -> collate function; extend it (or pass your own) as in PyTorch. An exact
#: type match wins, then the first entry the element is an instance of, in this order.
default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: _collate_tensors,
    np.ndarray: _collate_arrays,
    (np.bool_, np.number, np.object_): _collate_numpy_scalars,
    float: _collate_floats,
    int: _collate_ints,
    str: _collate_strings,
    bytes: _collate_strings,
}


def collate(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """Merge ``batch`` (a list of samples) with ``collate_fn_map`` for the leaf types and the
    container rules of the module's docstring."""
    elem = batch[0]  # an empty batch raises IndexError, as in PyTorch
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type, function in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return function(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: collate([sample[key] for sample in batch], collate_fn_map=collate_fn_map)
                  for key in elem}
        return _same_container(elem, fields, mapping=True)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(samples, collate_fn_map=collate_fn_map)
                           for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # each field's samples are a tuple, as PyTorch passes them (strings stay a tuple)
        fields = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # PyTorch's backwards compatibility: tuples become lists
        return _same_container(elem, fields, mapping=False)
    raise TypeError(_ERROR.format(elem_type))


def _same_container(elem: Any, fields: Any, *, mapping: bool) -> Any:
    """``fields`` in a container of ``elem``'s type when that type allows it, else plain."""
    try:
        if mapping and isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(fields)
            return clone
        if not mapping and isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for position, field in enumerate(fields):
                clone[position] = field
            return clone
        return type(elem)(fields)
    except TypeError:
        return dict(fields) if mapping else list(fields)


def default_collate(batch: Any) -> Any:
    """Merge a list of samples into a batch (``torch.utils.data.default_collate``); the
    rules are in the module's docstring."""
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars in one sample into Tensors, leaving everything else
    (``torch.utils.data.default_convert``, used when automatic batching is off)."""
    if isinstance(data, Tensor):
        return data
    if type(data).__module__ == "numpy" and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and _STRING_OR_OBJECT.search(data.dtype.str):
            return data
        return _as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _same_container(data, {key: default_convert(data[key]) for key in data},
                               mapping=True)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(item) for item in data))
    if isinstance(data, tuple):
        return [default_convert(item) for item in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _same_container(data, [default_convert(item) for item in data], mapping=False)
    return data
