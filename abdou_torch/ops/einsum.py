"""einsum: sums of products over labelled dims, written as an equation ('ij,jk->ik').

``einsum`` parses the equation (or PyTorch's sublist form) into one tuple of integer
labels per operand and one for the output, then runs one primitive, ``Einsum``, whose
gradient is einsum again: for operand k,

    d(operand k) = einsum(dy, the other operands -> operand k's labels)

with two cases an einsum cannot express by itself:

- a label that only operand k has and the output lacks (summed out of k alone, as j in
  'ij->i'): the gradient does not depend on it, so it is computed without that label and
  broadcast along it;
- a label repeated in operand k (a diagonal, 'ii->i'): the gradient is computed for the
  distinct labels and put back on the diagonal, zeros elsewhere.

Size-1 dims broadcast against the same label's size in other operands, as in PyTorch; they
are expanded before the primitive, so the engine sums their gradients back.
"""
from __future__ import annotations

import string
from typing import Any, Sequence

import numpy as np

from ..autograd.function import Primitive
from ..tensor import Tensor
from .elementwise import _as_tensor
from .shape import IndexAdd, expand

__all__ = ["einsum"]

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # NumPy's 52 sublist labels
_PLAN_ABOVE = 4096  # elements in all operands together


class Einsum(Primitive):
    """y = einsum of the operands with integer ``labels`` (one tuple per operand) to
    ``output``;  d(operand k) = einsum(dy, other operands -> labels of k), broadcast along
    labels only k has and put on the diagonal for labels k repeats"""

    def forward(self, *operands: np.ndarray, labels: tuple, output: tuple) -> np.ndarray:
        self.labels, self.out_labels = labels, output
        arguments: list = []
        for operand, operand_labels in zip(operands, labels):
            arguments += [operand, list(operand_labels)]
        # NumPy's optimize plans the contraction order and hands pairs to BLAS; planning
        # costs more than a small product takes, so small operands go straight through
        plan = len(operands) > 2 or sum(a.size for a in operands) > _PLAN_ABOVE
        result = np.einsum(*arguments, list(output), optimize=plan)
        if len(operands) == 1 and np.shares_memory(result, operands[0]):
            result = result.copy()  # NumPy returns views for transposes and diagonals
        return np.asarray(result)

    def backward(self, xp, dy):
        return tuple(self._operand_gradient(xp, dy, k) if need else None
                     for k, need in enumerate(self.needs_input_grad))

    def _operand_gradient(self, xp, dy, k: int):
        labels, shape = self.labels[k], self.inputs[k].shape
        sizes = dict(zip(labels, shape))
        distinct = tuple(dict.fromkeys(labels))
        elsewhere = set(self.out_labels).union(*(self.labels[j] for j in range(len(self.labels))
                                             if j != k))
        kept = tuple(label for label in distinct if label in elsewhere)
        others = [xp.value(self.inputs[j]) for j in range(len(self.labels)) if j != k]
        other_labels = tuple(self.labels[j] for j in range(len(self.labels)) if j != k)
        grad = xp.apply(Einsum, dy, *others, labels=(self.out_labels,) + other_labels,
                        output=kept)
        if kept != distinct:  # labels summed out of operand k alone: broadcast along them
            grad = grad.reshape(tuple(sizes[label] if label in kept else 1
                                      for label in distinct))
            grad = xp.expand(grad, tuple(sizes[label] for label in distinct))
        if len(distinct) != len(labels):  # a repeated label: back onto the diagonal
            grad = xp.apply(IndexAdd, grad, shape, _diagonal_index(labels, distinct, sizes))
        return grad


def _diagonal_index(labels: tuple, distinct: tuple, sizes: dict) -> tuple:
    """The advanced index that places an array over ``distinct`` labels into an array over
    ``labels`` (where a repeated label takes the same position in each of its dims)."""
    index = []
    for label in labels:
        shape = [1] * len(distinct)
        shape[distinct.index(label)] = sizes[label]
        index.append(np.arange(sizes[label]).reshape(shape))
    return tuple(index)


# -- parsing ---------------------------------------------------------------------------------

def _parse_term(term: str, position: int) -> tuple[list, bool]:
    """A term's letters in order, with None standing for its ellipsis."""
    labels: list = []
    rest = term
    while rest:
        if rest.startswith("..."):
            if None in labels:
                raise RuntimeError(f"einsum(): found more than one ellipsis ('...') in term "
                                   f"{position} '{term}'")
            labels.append(None)
            rest = rest[3:]
        elif rest[0] in _LETTERS:
            labels.append(rest[0])
            rest = rest[1:]
        else:
            raise RuntimeError(f"einsum(): invalid subscript given at index "
                               f"{len(term) - len(rest)} in term '{term}'; subscripts must "
                               f"be letters A-Z, a-z or '...'")
    return labels, None in labels


def _parse_equation(equation: str, count: int) -> tuple[list, list | None]:
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != count:
        raise RuntimeError(f"einsum(): {len(terms)} operands in the equation '{equation}' but "
                           f"{count} tensors were given")
    parsed = [_parse_term(term, i)[0] for i, term in enumerate(terms)]
    return parsed, (_parse_term(output, -1)[0] if arrow else None)


def _sublist_labels(sublist: Sequence) -> list:
    labels = []
    for item in sublist:
        if item is Ellipsis:
            labels.append(None)
        elif isinstance(item, (int, np.integer)) and 0 <= item < len(_LETTERS):
            labels.append(_LETTERS[int(item)])
        else:
            raise RuntimeError(f"einsum(): subscripts in sublist form must be ints in "
                               f"[0, {len(_LETTERS)}) or Ellipsis, got {item!r}")
    return labels


def _arguments(args: tuple) -> tuple[list, list, list | None]:
    """Operands and parsed terms from einsum(equation, *operands), einsum(equation,
    [operands]) or the sublist form einsum(op0, sublist0, op1, sublist1, ..., [output])."""
    if isinstance(args[0], str):
        operands = list(args[1]) if len(args) == 2 and isinstance(args[1], (list, tuple)) \
            else list(args[1:])
        terms, output = _parse_equation(args[0], len(operands))
        return operands, terms, output
    operands, terms = list(args[0::2][:len(args) // 2]), \
        [_sublist_labels(s) for s in args[1::2]]
    output = _sublist_labels(args[-1]) if len(args) % 2 else None
    return operands, terms, output


def _resolve_labels(terms: list, output: list | None, shapes: list) -> tuple[list, tuple]:
    """Integer labels per operand and for the output, ellipses spelled out as labels of
    their own (right-aligned, as broadcasting aligns dims)."""
    used = {letter for term in terms for letter in term if letter is not None}
    spare = [letter for letter in _LETTERS if letter not in used]
    widths = []
    for position, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term) - (None in term)
        if None not in term and named != len(shape) or named > len(shape):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({named}) does not match "
                f"the number of dimensions ({len(shape)}) for operand {position}"
                + ("" if None in term else " and no ellipsis was given"))
        widths.append(len(shape) - named if None in term else 0)
    ellipsis = spare[:max(widths, default=0)]
    if len(ellipsis) < max(widths, default=0):
        raise RuntimeError("einsum(): too many dims for the 52 available subscripts")

    def spell(term: list, width: int) -> tuple:
        spelled: list = []
        for letter in term:
            spelled += ellipsis[len(ellipsis) - width:] if letter is None else [letter]
        return tuple(_LETTERS.index(letter) for letter in spelled)

    labels = [spell(term, width) for term, width in zip(terms, widths)]
    if output is None:  # implicit: the ellipsis dims, then letters used once, sorted
        counts: dict = {}
        for term in terms:
            for letter in term:
                counts[letter] = counts.get(letter, 0) + 1
        output = [None] + sorted(letter for letter, n in counts.items()
                                 if n == 1 and letter is not None)
    for letter in output:
        if letter is not None and letter not in used:
            raise RuntimeError(f"einsum(): output subscript {letter} does not appear in the "
                               f"equation for any input operand")
        if letter is not None and output.count(letter) > 1:
            raise RuntimeError(f"einsum(): output subscript {letter} appears more than once "
                               f"in the output")
    return labels, spell(output, len(ellipsis))


def _label_sizes(labels: list, shapes: list) -> dict:
    """Each label's size; a size-1 dim broadcasts against a larger one, as in PyTorch."""
    sizes: dict = {}
    for position, (operand_labels, shape) in enumerate(zip(labels, shapes)):
        own: dict = {}
        for label, size in zip(operand_labels, shape):
            if own.setdefault(label, size) != size:
                raise RuntimeError(f"einsum(): subscript {_LETTERS[label]} is repeated for "
                                   f"operand {position} but the sizes don't match, "
                                   f"{size} != {own[label]}")
            seen = sizes.get(label, 1)
            if seen != 1 and size not in (1, seen):
                raise RuntimeError(f"einsum(): subscript {_LETTERS[label]} has size {size} "
                                   f"for operand {position} which does not broadcast with "
                                   f"previously seen size {seen}")
            sizes[label] = max(seen, size)
    return sizes


def einsum(*args: Any) -> Tensor:
    """Sum of products over labelled dims: ``einsum('ij,jk->ik', a, b)`` is a @ b,
    'ii->i' a diagonal, 'ii' a trace, 'i,j->ij' an outer product, '...ij->...ji' a batched
    transpose. Without '->' the output has the ellipsis dims, then the letters that appear
    once, in alphabetical order (upper case first)."""
    if not args:
        raise TypeError("einsum(): expected an equation and operands")
    operands, terms, output = _arguments(args)
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    tensors = [_as_tensor(operand) for operand in operands]
    for position, tensor in enumerate(tensors[1:], 1):
        if tensor.dtype != tensors[0].dtype:
            raise RuntimeError(f"einsum(): operands must have one dtype, got "
                               f"{tensors[0].dtype} for operand 0 and {tensor.dtype} for "
                               f"operand {position}")
    shapes = [tuple(t.shape) for t in tensors]
    labels, output_labels = _resolve_labels(terms, output, shapes)
    sizes = _label_sizes(labels, shapes)
    tensors = [_broadcast(t, operand_labels, sizes)
               for t, operand_labels in zip(tensors, labels)]
    return Einsum.apply(*tensors, labels=tuple(labels), output=output_labels)


def _broadcast(tensor: Tensor, labels: tuple, sizes: dict) -> Tensor:
    shape = tuple(sizes[label] for label in labels)
    return tensor if shape == tuple(tensor.shape) else expand(tensor, shape)
