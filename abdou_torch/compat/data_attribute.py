"""PyTorch's ``tensor.data`` inside programs run by ``abdou-torch run``.

In abdou_torch, ``t.data`` is the NumPy array that holds a tensor's values (the library
and its own examples read it everywhere, as the small teaching engines do). In PyTorch,
``t.data`` is a *tensor*: the same values, outside the autograd graph, whose in-place
changes autograd does not track. PyTorch programs rely on that everywhere:

    m.weight.data.normal_(0.0, 0.02)             # DCGAN's weights_init
    self.encoder.weight.data.uniform_(-0.1, 0.1)  # word-language-model's init_weights
    p.data.add_(p.grad, alpha=-lr)               # a hand-written SGD step
    p.data.clamp_(-0.01, 0.01)                   # WGAN's weight clipping

So the program's own code (its script and the modules it imports from its own directory,
never the library's or installed packages') is compiled with every *read* of an attribute
named ``data`` turned into ``torch_data(obj)``: for a Tensor, a Tensor sharing ``obj``'s
values with a version counter of its own (PyTorch's ``.data``); for anything else, plain
``obj.data``. Assignments (``p.data = ...``, ``p.data -= ...``) are left as they are: the
Tensor's setter already takes a Tensor or an array, and an augmented assignment updates
the array in place.
"""
from __future__ import annotations

import ast
import builtins
import importlib.abc
import importlib.machinery
import os
import sys
import sysconfig
import types
from typing import Any, Sequence

from ..tensor import Tensor

__all__ = ["torch_data", "compile_program", "install_program_importer"]

#: The name rewritten programs call; it lives in ``builtins`` so that every module sees it.
HELPER = "__abdou_torch_data__"


def torch_data(obj: Any) -> Any:
    """``obj.data`` as PyTorch reads it: a Tensor becomes a new Tensor on the same array
    (no graph, requires_grad False, its own version counter, so in-place changes through
    it are not seen by autograd, as in PyTorch); anything else keeps its own ``.data``."""
    if isinstance(obj, Tensor):
        return Tensor._wrap(obj._data, False)
    return obj.data


class _DataReads(ast.NodeTransformer):
    """``X.data`` in a load context -> ``__abdou_torch_data__(X)``."""

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if node.attr != "data" or not isinstance(node.ctx, ast.Load):
            return node
        call = ast.Call(func=ast.Name(id=HELPER, ctx=ast.Load()), args=[node.value],
                        keywords=[])
        return ast.copy_location(call, node)


def compile_program(source: str | bytes, filename: str) -> types.CodeType:
    """Compile a program's source with PyTorch's ``.data`` reads (see the module's text).
    Syntax errors are the program's own, raised as Python raises them."""
    tree = ast.parse(source, filename, "exec")
    tree = ast.fix_missing_locations(_DataReads().visit(tree))
    setattr(builtins, HELPER, torch_data)
    return compile(tree, filename, "exec", dont_inherit=True)


class _ProgramLoader(importlib.machinery.SourceFileLoader):
    """Loads one of the program's own modules through :func:`compile_program`; never
    reads or writes ``__pycache__`` (the rewritten code must not reach a plain ``python``)."""

    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        return compile_program(self.get_data(path), path)


class _ProgramImporter(importlib.abc.MetaPathFinder):
    """Finds modules as Python does, and hands the ones under the program's directory
    (outside installed packages and the standard library) to :class:`_ProgramLoader`."""

    def __init__(self, root: str) -> None:
        self.root = os.path.join(os.path.realpath(root), "")
        paths = sysconfig.get_paths()
        excluded = {paths.get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
        library = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.excluded = [os.path.join(os.path.realpath(p), "") for p in excluded | {library}
                         if p]

    def _is_program_file(self, origin: str) -> bool:
        path = os.path.realpath(origin)
        return (path.endswith(".py") and path.startswith(self.root)
                and not any(path.startswith(p) for p in self.excluded)
                and "site-packages" not in path.split(os.sep))

    def find_spec(self, fullname: str, path: Sequence[str] | None = None,
                  target: types.ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if (spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader)
                or spec.origin is None or not self._is_program_file(spec.origin)):
            return None  # the next finder (Python's own) finds it again, unchanged
        spec.loader = _ProgramLoader(fullname, spec.origin)
        return spec


def install_program_importer(root: str) -> None:
    """Compile modules the program imports from ``root`` (its directory) with PyTorch's
    ``.data``; once per process."""
    if not any(isinstance(finder, _ProgramImporter) for finder in sys.meta_path):
        sys.meta_path.insert(0, _ProgramImporter(root))
