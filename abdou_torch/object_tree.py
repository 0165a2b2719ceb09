"""Nested Python objects as named arrays plus a JSON structure: what ``save`` writes.

``torch.save`` pickles whatever it is given; abdou_torch never pickles (loading a pickle can
run any code). What programs actually save is a tree: dicts, lists and tuples whose leaves
are tensors, arrays, numbers, strings, booleans and None (a model's and an optimizer's
state dicts together, an epoch counter, a config dict). :func:`flatten` splits such a tree
into its arrays, each named by its key path (``model.fc1.weight``,
``optimizer.state.0.exp_avg``), and a JSON document that says where each array goes;
:func:`unflatten` puts them back together, checking every node of the document first.

The JSON grammar (version 1); a node is one of::

    null | true | false | 12 | 1.5 | "text"              the same Python value
    {"float": "nan" | "inf" | "-inf"}                    a float JSON cannot spell
    [node, ...]                                          a list
    {"tuple": [node, ...]}                               a tuple
    {"dict": [[key, node], ...]}                         a dict, in its order
    {"ordered_dict": [[key, node], ...]}                 a collections.OrderedDict
    {"tensor": NAME}  (+ "requires_grad": true, "parameter": true)
    {"numpy_scalar": NAME}                               a NumPy scalar (a 0-d array)
    {"dtype": "float32"}                                 a dtype (abdou_torch.float32)

where NAME is the name of an array in the file (a NumPy array is stored as a tensor, and
loads as a Tensor, as state dicts of arrays always did here) and a key is a str, an int, a
float, a bool, None or a tuple of those (``{"tuple": [...]}``). A tensor met twice (tied
weights) is stored once and comes back as one object. Anything else (a function, an
instance of a user class, a Module, an object array) is refused with a TypeError that names
its key path, before anything is written.
"""
from __future__ import annotations

import json
import math
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from .dtypes import dtype, wrap
from .tensor import Tensor

__all__ = ["flatten", "unflatten", "FORMAT", "VERSION"]

FORMAT = "abdou_torch.save"
VERSION = 1
MAX_DEPTH = 200  # deeper documents are refused on load (and on save, before recursing)

_SPECIAL_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_TENSOR_FIELDS = {"tensor", "requires_grad", "parameter"}


# --------------------------------------------------------------------------------- flatten

def flatten(obj: Any, check_array: Callable[[str, np.ndarray], np.ndarray]
            ) -> tuple[dict[str, np.ndarray], str]:
    """``(arrays by name, structure JSON)`` for ``obj``.

    ``check_array(where, array)`` validates and normalises each array (dtype, byte order);
    it raises TypeError naming ``where`` for what the file format cannot hold.
    """
    flattener = _Flattener(check_array)
    document = {"format": FORMAT, "version": VERSION, "object": flattener.node(obj, (), 0)}
    return flattener.arrays, json.dumps(document, ensure_ascii=False, allow_nan=False,
                                        separators=(",", ":"))


def key_path(path: tuple) -> str:
    """``obj['config']['act']`` / ``obj['layers'][2]``: where a value sits, for messages."""
    return "obj" + "".join(f"[{step!r}]" for step in path)


class _Flattener:

    def __init__(self, check_array: Callable[[str, np.ndarray], np.ndarray]) -> None:
        self.check_array = check_array
        self.arrays: dict[str, np.ndarray] = {}
        self.names_by_id: dict[int, tuple[Any, str]] = {}  # id -> (object kept alive, name)
        self.open_containers: set[int] = set()

    def node(self, value: Any, path: tuple, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise TypeError(f"{key_path(path)}: nested more than {MAX_DEPTH} levels deep")
        if value is None or isinstance(value, (bool, str)):
            if isinstance(value, str):
                _check_text(value, path)
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value) if math.isfinite(value) else {"float": _float_name(value)}
        if isinstance(value, Tensor):
            return self.tensor(value, path)
        if isinstance(value, np.ndarray):  # stored as a tensor: it loads as a Tensor
            return {"tensor": self.array(value, value, path)}
        if isinstance(value, np.generic) and not isinstance(value, np.object_):
            return {"numpy_scalar": self.array(value, np.asarray(value), path)}
        if isinstance(value, (np.dtype, dtype)):
            return {"dtype": np.dtype(value).name}
        if isinstance(value, (list, tuple, dict)):
            return self.container(value, path, depth)
        raise TypeError(_unsupported(value, path))

    def tensor(self, value: Tensor, path: tuple) -> dict[str, Any]:
        node: dict[str, Any] = {"tensor": self.array(value, value.data, path)}
        if value.requires_grad:
            node["requires_grad"] = True
        from .nn.parameter import Parameter
        if isinstance(value, Parameter):
            node["parameter"] = True
        return node

    def array(self, owner: Any, array: np.ndarray, path: tuple) -> str:
        """Store ``array`` once per ``owner`` object; return its name in the file."""
        known = self.names_by_id.get(id(owner))
        if known is not None:
            return known[1]
        checked = self.check_array(key_path(path), array)
        name = self.unique_name(path)
        self.arrays[name] = checked
        self.names_by_id[id(owner)] = (owner, name)
        return name

    def unique_name(self, path: tuple) -> str:
        """The key path joined by dots, made unique and valid for a safetensors header."""
        base = ".".join(str(_plain_key(step)) for step in path) or "tensor"
        name, count = base, 1
        while name in self.arrays or name == "__metadata__":
            count += 1
            name = f"{base}#{count}"
        return name

    def container(self, value: Any, path: tuple, depth: int) -> Any:
        if id(value) in self.open_containers:
            raise TypeError(f"{key_path(path)} contains itself (a cycle cannot be saved)")
        self.open_containers.add(id(value))
        try:
            if isinstance(value, dict):
                items = [[self.key(k, path), self.node(v, path + (k,), depth + 1)]
                         for k, v in value.items()]
                return {"ordered_dict" if isinstance(value, OrderedDict) else "dict": items}
            elements = [self.node(v, path + (i,), depth + 1) for i, v in enumerate(value)]
            return elements if isinstance(value, list) else {"tuple": elements}
        finally:
            self.open_containers.discard(id(value))

    def key(self, key: Any, path: tuple) -> Any:
        if key is None or isinstance(key, (bool, int, str)):
            if isinstance(key, str):
                _check_text(key, path, "a key")
            return int(key) if isinstance(key, int) and not isinstance(key, bool) else key
        if isinstance(key, float):
            return key if math.isfinite(key) else {"float": _float_name(key)}
        if isinstance(key, tuple):
            return {"tuple": [self.key(k, path) for k in key]}
        raise TypeError(f"{key_path(path)} has a key of type {type(key).__name__} ({key!r:.40}); "
                        f"keys can be str, int, float, bool, None or tuples of those")


def _plain_key(step: Any) -> Any:
    return step if isinstance(step, (str, int)) else repr(step)


def _float_name(value: float) -> str:
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _check_text(text: str, path: tuple, what: str = "a string") -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{key_path(path)} holds {what} that is not valid Unicode (it cannot "
                         f"be encoded as UTF-8)") from None


def _unsupported(value: Any, path: tuple) -> str:
    kind = type(value).__name__
    hint = ""
    if hasattr(value, "state_dict") and hasattr(value, "parameters"):
        hint = " (a Module: save its state_dict() instead, and rebuild the model in code)"
    elif hasattr(value, "state_dict"):
        hint = " (save its state_dict() instead)"
    elif kind == "Namespace":
        hint = " (an argparse Namespace: save vars(args) instead)"
    elif callable(value):
        hint = " (functions and classes cannot be saved: store their name as a string)"
    return (f"{key_path(path)} is a {kind}{hint}; abdou_torch.save stores tensors, NumPy "
            f"arrays, numbers, strings, booleans, None, dtypes, and lists, tuples and dicts of "
            f"them (never pickle)")


# ------------------------------------------------------------------------------- unflatten

class StructureError(ValueError):
    """The structure document is malformed; the message names the place in it."""


def unflatten(text: str, arrays: dict[str, np.ndarray]) -> Any:
    """Rebuild the saved object from the structure JSON ``text`` and the file's ``arrays``.

    Every array must be used at least once (a file cannot hide data), every name must exist.
    Raises :class:`StructureError` (a ValueError) naming what is wrong and where.
    """
    try:
        document = loads_strict(text)
    except RecursionError:
        raise StructureError("the structure is nested too deeply") from None
    except ValueError as error:
        raise StructureError(f"the structure is not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise StructureError(f"the structure is not an {FORMAT!r} document")
    if document.get("version") != VERSION or set(document) != {"format", "version", "object"}:
        raise StructureError(f"unsupported structure version {document.get('version')!r} "
                             f"(this abdou_torch reads version {VERSION})")
    builder = _Builder(arrays)
    result = builder.value(document["object"], (), 0)
    unused = [name for name in arrays if name not in builder.used]
    if unused:
        raise StructureError(f"tensor {unused[0]!r} is in the file but not in its structure")
    return result


def loads_strict(text: str) -> Any:
    """``json.loads`` refusing what would make a file ambiguous or non-standard: a repeated
    key (the file would mean two things) and NaN/Infinity constants. Raises ValueError
    (or RecursionError for absurd nesting)."""
    return json.loads(text, object_pairs_hook=_no_duplicate_keys,
                      parse_constant=_reject_constant)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


class _Builder:

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays
        self.used: set[str] = set()
        self.tensors: dict[str, Tensor] = {}  # a tensor saved twice comes back as one object

    def value(self, node: Any, path: tuple, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise StructureError(f"{key_path(path)}: nested more than {MAX_DEPTH} levels deep")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.value(v, path + (i,), depth + 1) for i, v in enumerate(node)]
        if not isinstance(node, dict) or len(node) == 0:
            raise StructureError(f"{key_path(path)}: unexpected node {_short(node)}")
        if "tensor" in node and set(node) <= _TENSOR_FIELDS:
            return self.tensor(node, path)
        tag = next(iter(node))
        if tag in ("dict", "ordered_dict") and len(node) == 1:
            return self.mapping(node[tag], tag, path, depth)
        if tag == "tuple" and len(node) == 1 and isinstance(node["tuple"], list):
            return tuple(self.value(v, path + (i,), depth + 1)
                         for i, v in enumerate(node["tuple"]))
        if tag == "float" and len(node) == 1 and node["float"] in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[node["float"]]
        if tag == "dtype" and len(node) == 1:
            return self.dtype(node["dtype"], path)
        if tag == "numpy_scalar" and len(node) == 1:
            return self.scalar(self.array(node[tag], path, tag), path)
        raise StructureError(f"{key_path(path)}: unexpected node {_short(node)}")

    def mapping(self, items: Any, tag: str, path: tuple, depth: int) -> dict:
        if not isinstance(items, list):
            raise StructureError(f"{key_path(path)}: {tag} entries must be a list of pairs")
        result: dict = OrderedDict() if tag == "ordered_dict" else {}
        for item in items:
            if not (isinstance(item, list) and len(item) == 2):
                raise StructureError(f"{key_path(path)}: a {tag} entry must be a [key, value] "
                                     f"pair, got {_short(item)}")
            key = self.key(item[0], path)
            if key in result:
                raise StructureError(f"{key_path(path)}: key {key!r} appears twice")
            result[key] = self.value(item[1], path + (key,), depth + 1)
        return result

    def key(self, node: Any, path: tuple) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, dict) and len(node) == 1:
            if node.get("float") in _SPECIAL_FLOATS:
                return _SPECIAL_FLOATS[node["float"]]
            if isinstance(node.get("tuple"), list):
                return tuple(self.key(k, path) for k in node["tuple"])
        raise StructureError(f"{key_path(path)}: invalid key {_short(node)}")

    def array(self, name: Any, path: tuple, tag: str) -> np.ndarray:
        if not isinstance(name, str) or name not in self.arrays:
            raise StructureError(f"{key_path(path)}: {tag} {_short(name)} is not a tensor "
                                 f"of the file")
        self.used.add(name)
        return self.arrays[name]

    def tensor(self, node: dict, path: tuple) -> Tensor:
        name = node["tensor"]
        array = self.array(name, path, "tensor")
        for flag in ("requires_grad", "parameter"):
            if node.get(flag, True) is not True:
                raise StructureError(f"{key_path(path)}: {flag} must be true when present")
        if name in self.tensors:
            return self.tensors[name]
        requires_grad = bool(node.get("requires_grad"))
        if requires_grad and array.dtype.kind != "f":
            raise StructureError(f"{key_path(path)}: a {array.dtype} tensor cannot require "
                                 f"grad")
        if node.get("parameter"):
            from .nn.parameter import Parameter
            tensor: Tensor = Parameter(array, requires_grad=requires_grad)
        else:
            tensor = Tensor(array, requires_grad=requires_grad)
        self.tensors[name] = tensor
        return tensor

    def scalar(self, array: np.ndarray, path: tuple) -> Any:
        if array.ndim != 0:
            raise StructureError(f"{key_path(path)}: a NumPy scalar must be 0-d, its tensor "
                                 f"has shape {array.shape}")
        return array[()]

    def dtype(self, name: Any, path: tuple) -> dtype:
        """A saved dtype comes back as abdou_torch's (torch.float32 under PyTorch's name)."""
        allowed = ("float64", "float32", "float16", "int64", "int32", "int16", "int8",
                   "uint8", "bool")
        if name not in allowed:
            raise StructureError(f"{key_path(path)}: unknown dtype {_short(name)}")
        return wrap(name)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
