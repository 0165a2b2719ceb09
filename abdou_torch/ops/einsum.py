"""einsum: sums of products over labelled dims, written as an equation ('ij,jk->ik').

``einsum`` parses the equation (or PyTorch's sublist form) into one tuple of integer
labels per operand and one for the output, then computes the sum of products the way
PyTorch does, as a composite of primitives that carry their own gradients (so gradients of
any order come for free, and NaN, infinities, signed zeros and dtypes come out as in
PyTorch, whose contraction order decides them):

1. each operand is aligned to one layout: the output's labels, then the summed labels
   (in label order), a repeated label taken as a diagonal, a missing one as a size-1 dim;
2. the operands are contracted pairwise from the left. Before each pair, a summed label
   that no later operand needs is summed out of the operand that alone has it; the pair is
   then multiplied (``a * b``, broadcasting and promoting dtypes) when no label is summed
   between them, else reduced to one batched matrix product (``bmm``, which wants one
   dtype) over the labels both have;
3. the summed dims, now of size 1, are dropped (a single operand: summed).

Unlike PyTorch, a result never aliases its input (PyTorch returns a view for 'ij->ji').

Size-1 dims broadcast against the same label's size in other operands, as in PyTorch.
"""
from __future__ import annotations

import string
from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor
from .elementwise import _as_tensor, mul
from .linalg import matmul
from .reduce import sum as _sum
from .shape import Index, Permute, Reshape, movedim, permute

__all__ = ["einsum"]

_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # NumPy's 52 sublist labels


def _align(tensor: Tensor, labels: tuple, layout: tuple) -> Tensor:
    """``tensor`` (one dim per label) with repeated labels taken as diagonals, permuted to
    ``layout`` order, with size-1 dims for the labels it lacks."""
    labels = list(labels)
    for position in range(len(labels) - 1, -1, -1):
        label = labels[position]
        first = labels.index(label)
        if first == position:
            continue
        if tensor.shape[first] != tensor.shape[position]:
            raise RuntimeError(f"einsum(): subscript {_LETTERS[label]} is repeated for an "
                               f"operand but the sizes don't match, {tensor.shape[position]} "
                               f"!= {tensor.shape[first]}")
        tensor = _diagonal(tensor, first, position)
        del labels[position]
    order = [labels.index(label) for label in layout if label in labels]
    tensor = _permuted(tensor, order)
    shape = tuple(tensor.shape[order.index(labels.index(label))] if label in labels else 1
                  for label in layout)
    return _reshaped(tensor, shape)


def _diagonal(tensor: Tensor, first: int, second: int) -> Tensor:
    """The diagonal over dims ``first`` < ``second``, put where ``first`` was."""
    rest = [d for d in range(tensor.ndim) if d not in (first, second)]
    moved = permute(tensor, tuple(rest) + (first, second))
    steps = np.arange(tensor.shape[first])
    return movedim(Index.apply(moved, (Ellipsis, steps, steps)), -1, first)


def _sum_dims(tensor: Tensor, dims: list) -> Tensor:
    return _sum(tensor, tuple(dims), keepdim=True) if dims else tensor


def _product_pair(left: Tensor, right: Tensor, summed: list) -> Tensor:
    """sum over ``summed`` of left * right (aligned, broadcasting, dims kept), as one
    batched matrix product: (shared, left only, summed) @ (shared, summed, right only)."""
    if not summed:
        return mul(left, right)
    shared, left_only, right_only, total = [], [], [], 1
    for dim in range(left.ndim):
        in_left, in_right = left.shape[dim] != 1, right.shape[dim] != 1
        if dim in summed:
            if in_left and in_right:
                total *= left.shape[dim]
            elif in_left:
                left = _sum(left, dim, keepdim=True)
            elif in_right:
                right = _sum(right, dim, keepdim=True)
        elif in_left and in_right:
            shared.append(dim)
        elif in_left:
            left_only.append(dim)
        else:
            right_only.append(dim)

    def size(tensor, dims):
        return int(np.prod([tensor.shape[d] for d in dims], dtype=np.int64))

    batch = size(left, shared)
    a = _reshaped(_permuted(left, shared + left_only + summed + right_only),
                  (batch, size(left, left_only), total))
    b = _reshaped(_permuted(right, shared + summed + right_only + left_only),
                  (batch, total, size(right, right_only)))
    out_shape = tuple([left.shape[d] for d in shared + left_only] + [1] * len(summed)
                      + [right.shape[d] for d in right_only])
    order = shared + left_only + summed + right_only
    product = _reshaped(matmul(a, b), out_shape)
    return _permuted(product, [order.index(d) for d in range(left.ndim)])


def _permuted(tensor: Tensor, order: list) -> Tensor:
    """The primitives themselves: the dims here are valid by construction."""
    return tensor if order == sorted(order) else Permute.apply(tensor, tuple(order))


def _reshaped(tensor: Tensor, shape: tuple) -> Tensor:
    return tensor if shape == tuple(tensor.shape) else Reshape.apply(tensor, shape)


def _contract(tensors: list, labels: list, output: tuple) -> Tensor:
    """Steps 1 to 3 of the module docstring."""
    summed_labels = sorted({label for term in labels for label in term} - set(output))
    layout = tuple(output) + tuple(summed_labels)
    operands = [_align(t, term, layout) for t, term in zip(tensors, labels)]
    first_summed = len(output)
    counts = [sum(op.shape[d] != 1 for op in operands) for d in range(len(layout))]
    while len(operands) > 1:
        a, b = operands[0], operands[1]
        summed, a_alone, b_alone = [], [], []
        for d in range(first_summed, len(layout)):
            if a.shape[d] != 1 and b.shape[d] != 1:
                counts[d] -= 1
                if counts[d] == 1:
                    summed.append(d)
                    counts[d] = 0
            elif counts[d] == 1:
                if a.shape[d] != 1:
                    a_alone.append(d)
                    counts[d] = 0
                elif b.shape[d] != 1:
                    b_alone.append(d)
                    counts[d] = 0
        pair = _product_pair(_sum_dims(a, a_alone), _sum_dims(b, b_alone), summed)
        operands = [pair] + operands[2:]
    result = operands[0]
    if len(layout) == first_summed:  # a copy, not a view of the one operand (PyTorch
        # returns views for transposes: a later in-place change would reach the input)
        aliased = len(tensors) == 1 and np.shares_memory(result.data, tensors[0].data)
        return result.clone() if aliased else result
    if len(tensors) > 1:  # every summed dim has size 1 by now
        return _reshaped(result, tuple(result.shape[:first_summed]))
    return _sum(result, tuple(range(first_summed, len(layout))))


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
    shapes = [tuple(t.shape) for t in tensors]
    labels, output_labels = _resolve_labels(terms, output, shapes)
    _label_sizes(labels, shapes)
    return _contract(tensors, labels, output_labels)
