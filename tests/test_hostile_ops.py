"""A differential harness of hostile inputs: every case runs through abdou_torch and PyTorch,
and the two must agree.

What is drawn (hypothesis):

- the op: every row of the op table (``tests/ops/test_op_table.py``, loaded as is, so ops
  added there are covered here), and the rows of ``ARGUMENT_OPS`` below, which also draw
  the op's arguments (dims, indices, sizes, split sections, correction ...);
- the inputs' shapes: the table's, or mutated: a dim of size 0 (an empty batch), dims of
  size 1, 0-d, an extra leading dim, shapes that must fail to broadcast;
- the dtypes: float64, float32, float16, int64, int32, uint8, bool, mixed across inputs;
- the values: ordinary ones with, at a drawn rate, extremes (NaN, +-inf, +-0, huge,
  subnormal, float16's overflow edge), and likewise for the upstream gradient;
- the arguments: in range, out of range, negative, and of the wrong type (a float for an
  int, a bool, a NumPy integer, a list for a tuple).

What must agree:

- whether it raises. When both raise, the exception classes must be of one family: where
  PyTorch raises ``IndexError``, ``TypeError``, ``ValueError`` or ``NotImplementedError``,
  ours must be an instance of that class (``except IndexError`` in a PyTorch program must
  catch ours). PyTorch's C++ core raises ``RuntimeError`` for almost every bad argument;
  there ours may be a ``RuntimeError`` or the Python class that names the problem
  (``ValueError``, ``TypeError``, ``IndexError``): ``ShapeError`` is a RuntimeError and a
  ValueError both. PyTorch's ``AssertionError`` (argument checks written as ``assert``,
  which ``python -O`` strips) maps to the same four. Either way our message must not be a
  raw NumPy one (``operands could not be broadcast``, ``cannot reshape array``): that means
  the op did not check its input and NumPy failed deeper down.
- the outputs: count, shapes, dtypes, requires_grad, values: NaN where PyTorch has NaN,
  infinities of the same sign, the sign of a zero where the op picks it (relu(-0.0)),
  finite values within a tolerance;
- the gradients of every floating input, for an upstream gradient drawn like the inputs
  (``autograd.grad`` in both libraries; PyTorch's None for an unused input reads as zeros).

Tolerances: rounding differs between two correct implementations (summation order,
vectorised kernels, float16 computed in float32 by PyTorch), and it scales with the
magnitudes that meet inside the op, not with the result: sum([1e30, 1, -1e30]) may be 0 or
1. So the absolute tolerance of each element is ``64 eps`` times the same op (forward or
backward) evaluated on the inputs' absolute values in float64, which bounds the
intermediate magnitudes of sums and products; NaN or an infinity that appears where that
bound itself overflows the dtype is rounding too.

Known divergences are listed in ``EXEMPT`` with the reason; the list is short on purpose.
Where PyTorch itself is wrong (a gradient that fails its own gradcheck), ``REFERENCES``
names an equivalent PyTorch call that is right, and the case is compared with that.

Committed settings are fast and reproducible (derandomized). To hunt for the next defect:

    HOSTILE_EXAMPLES=300 .venv/bin/python -m pytest tests/test_hostile_ops.py -n 0 \\
        -p no:cacheprovider -x

draws 300 fresh random cases per op (about half an hour on an idle machine).
"""
from __future__ import annotations

import importlib.util
import math
import os
import pathlib
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis import given

import abdou_torch as at

torch = pytest.importorskip("torch")

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "0"))


def hostile(examples: int):
    """Committed: ``examples`` derandomized cases; with HOSTILE_EXAMPLES, that many random."""
    return settings(max_examples=EXAMPLES or examples, derandomize=not EXAMPLES,
                    deadline=None, database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))


# -- values ---------------------------------------------------------------------------------

FLOAT_DTYPES = ("float64", "float32", "float16")
INT_DTYPES = ("int64", "int32", "uint8")
DTYPES = FLOAT_DTYPES + INT_DTYPES + ("bool",)

#: extremes mixed into floating inputs and upstream gradients
FLOAT_SPECIALS = (math.nan, math.inf, -math.inf, 0.0, -0.0, 1e30, -1e30, 3e38, -3e38,
                  1e-40, -1e-40, 5e-324, 65504.0, 7e4, -7e4, 1e-7, 1.0, -1.0, 88.8, -104.0)


def make_array(shape: tuple, dtype: str, seed: int, special_rate: float) -> np.ndarray:
    """Ordinary values in (-3, 3) (small integers for integer dtypes), with each element
    replaced by an extreme at ``special_rate``."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    kind = np.dtype(dtype)
    if kind.kind in "iu":
        info = np.iinfo(kind)
        values = rng.integers(0 if kind.kind == "u" else -4, 5, shape).astype(kind)
        specials = np.array([info.min, info.max, 0, 1], dtype=kind)
    else:
        values = rng.uniform(-3, 3, shape)
        specials = np.array(FLOAT_SPECIALS)
    replace = rng.random(shape) < special_rate
    values = np.where(replace, rng.choice(specials, shape), values)
    with np.errstate(over="ignore"):
        return np.asarray(values).astype(kind)


# -- running one case in one library ------------------------------------------------------

@dataclass(frozen=True)
class IndexTensor:
    """An argument that each library receives as its own integer (or bool) tensor."""
    values: Any
    dtype: str = "int64"

    def __repr__(self) -> str:
        return f"tensor({np.asarray(self.values).tolist()!r}, {self.dtype})"


@dataclass(frozen=True)
class DtypeArg:
    """An argument that each library receives as its own dtype object."""
    name: str

    def __repr__(self) -> str:
        return f"dtype {self.name}"


def _argument(lib, value: Any) -> Any:
    if isinstance(value, IndexTensor):
        return lib.tensor(np.asarray(value.values, dtype=value.dtype))
    if isinstance(value, DtypeArg):
        return getattr(lib, value.name)
    if isinstance(value, tuple):
        return tuple(_argument(lib, v) for v in value)
    if isinstance(value, list):
        return [_argument(lib, v) for v in value]
    return value


@dataclass
class Outcome:
    """What one library did with a case: its outputs and inputs, or the exception."""
    error: BaseException | None = None
    outputs: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    scalar: Any = None          # a non-tensor result (a bool, a number)


def _flatten(result: Any) -> list:
    if isinstance(result, (tuple, list)):
        flat = []
        for part in result:
            flat.extend(_flatten(part))
        return flat
    return [result]


def _is_tensor(value: Any) -> bool:
    return isinstance(value, (at.Tensor, torch.Tensor))


def run_case(lib, fn: Callable, arrays: list, args: tuple, grad: bool) -> Outcome:
    """``fn(lib, *tensors, *args)`` with each array as a tensor of ``lib`` (floating ones
    requiring grad when ``grad``)."""
    tensors = []
    for array in arrays:
        tensor = lib.tensor(array.copy())
        if grad and array.dtype.kind == "f":
            tensor.requires_grad_(True)
        tensors.append(tensor)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn(lib, *tensors, *[_argument(lib, a) for a in args])
    except Exception as error:  # noqa: BLE001 - which exception is what we compare
        return Outcome(error=error, inputs=tensors)
    flat = _flatten(result)
    if not all(_is_tensor(r) for r in flat):
        return Outcome(scalar=result, inputs=tensors)
    return Outcome(outputs=flat, inputs=tensors)


def gradients(lib, outcome: Outcome, weights: list) -> Any:
    """d(sum of weights * outputs)/d(inputs) for the floating outputs that require grad, or
    the exception; None for inputs that get no gradient."""
    pairs = [(o, w) for o, w in zip(outcome.outputs, weights) if o.requires_grad]
    wanted = [t for t in outcome.inputs if t.requires_grad]
    if not pairs or not wanted:
        return [None] * len(wanted)
    outputs = [o for o, _ in pairs]
    grad_outputs = [lib.tensor(w.copy()) for _, w in pairs]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return list(lib.autograd.grad(outputs, wanted, grad_outputs=grad_outputs,
                                          allow_unused=True))
    except Exception as error:  # noqa: BLE001
        return error


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().numpy(force=True)
    return np.asarray(value.numpy())


def _dtype_name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "")


# -- comparing --------------------------------------------------------------------------------

#: messages NumPy raises from deep inside an op that did not check its input
RAW_NUMPY = re.compile(r"operands could not be broadcast|cannot reshape array|"
                       r"could not broadcast input array|non-broadcastable output|"
                       r"axis -?\d+ is out of bounds for array|Cannot cast ufunc|"
                       r"object of type .* has no len|unhashable type|tuple index out of range|"
                       r"list index out of range|zero-size array to reduction|"
                       r"not enough values to unpack|too many values to unpack|"
                       r"only integer scalar arrays|has no attribute")
SPECIFIC = (IndexError, TypeError, ValueError)
NAMED = (RuntimeError, ValueError, TypeError, IndexError)


def same_family(ours: BaseException, theirs: BaseException) -> bool:
    """The mapping rule of the module docstring: PyTorch's specific classes must be matched
    by an instance of that class; its RuntimeError (and AssertionError) by any of NAMED."""
    for kind in SPECIFIC:
        if isinstance(theirs, kind):
            return isinstance(ours, kind)
    return isinstance(ours, NAMED)


def check_error_message(ours: BaseException) -> None:
    message = str(ours)
    assert not RAW_NUMPY.search(message), f"a raw NumPy error: {type(ours).__name__}: {message}"


def _tolerance(dtype: str) -> tuple[float, float]:
    """(rtol, eps) for values of ``dtype``."""
    if dtype == "float64":
        return 1e-9, float(np.finfo(np.float64).eps)
    if dtype == "float32":
        return 1e-5, float(np.finfo(np.float32).eps)
    return 2e-3, float(np.finfo(np.float16).eps)


def assert_close(ours: np.ndarray, theirs: np.ndarray, bound: np.ndarray | None, dtype: str,
                 what: str, signed_zeros: bool = True) -> None:
    """Element by element, with the rounding allowance of the module docstring (``bound``:
    the op on the absolute values, broadcast to the result's shape, or None). The sign of
    a zero is compared in values (``signed_zeros``), not in gradients, where a masked
    element is +0 or -0 depending on how the mask was applied."""
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != torch's {theirs.shape}"
    if dtype not in FLOAT_DTYPES:
        np.testing.assert_array_equal(ours, theirs, err_msg=what)
        return
    rtol, eps = _tolerance(dtype)
    limit = float(np.finfo(np.dtype(dtype)).max) / 4
    a, b = ours.astype(np.float64), theirs.astype(np.float64)
    try:  # the op on |inputs| may pick other elements (a mask, an argmax): then no bound
        scale = np.abs(np.broadcast_to(np.zeros(()) if bound is None else bound, a.shape))
    except ValueError:
        scale = np.zeros(a.shape)
    scale = np.where(np.isnan(scale), 0, scale)
    rounding = scale > limit  # intermediate magnitudes overflow the dtype: inf/nan may differ
    with np.errstate(invalid="ignore", over="ignore"):
        nan_ok = (np.isnan(a) == np.isnan(b)) | rounding
        both_inf = np.isinf(a) & np.isinf(b)
        inf_ok = (np.isinf(a) | np.isinf(b)) <= (both_inf & (a == b) | rounding |
                                                 (np.abs(np.where(np.isinf(a), b, a)) > limit))
        finite = np.isfinite(a) & np.isfinite(b)
        allowed = 64 * eps * scale + rtol * np.maximum(np.abs(a), np.abs(b)) + \
            (1e-30 if dtype == "float64" else 1e-6 if dtype == "float32" else 1e-3)
        value_ok = ~finite | (np.abs(a - b) <= allowed)
        zero_sign_ok = ~((a == 0) & (b == 0)) | (np.signbit(a) == np.signbit(b))
    bad = ~(nan_ok & inf_ok & value_ok)
    if bad.any():
        where = tuple(np.argwhere(bad)[0]) if bad.ndim else ()
        raise AssertionError(f"{what}: {a[where] if a.ndim else a} != torch's "
                             f"{b[where] if b.ndim else b} at {where} "
                             f"(allowed difference {np.broadcast_to(allowed, a.shape)[where]})"
                             f"\nours:  {ours!r}\ntorch: {theirs!r}")
    assert not signed_zeros or zero_sign_ok.all(), \
        f"{what}: signed zeros differ\nours:  {ours!r}\ntorch: {theirs!r}"


def _magnitude(fn: Callable, arrays: list, args: tuple, weights: list | None) -> tuple:
    """The op (and its gradient for |weights|) in PyTorch on |inputs| in float64: the
    scale of the intermediate values, for the rounding allowance. None where it fails."""
    try:
        tensors = [torch.tensor(np.abs(a.astype(np.float64)), requires_grad=True)
                   if a.dtype.kind == "f" else torch.tensor(a.copy()) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outs = _flatten(fn(torch, *tensors, *[_argument(torch, v) for v in args]))
            values = [_numpy(o) if isinstance(o, torch.Tensor) else None for o in outs]
            grads = None
            if weights is not None:
                pairs = [(o, w) for o, w in zip(outs, weights) if o.requires_grad]
                wanted = [t for t in tensors if t.requires_grad]
                if pairs and wanted:
                    found = torch.autograd.grad(
                        [o for o, _ in pairs], wanted, allow_unused=True,
                        grad_outputs=[torch.tensor(np.abs(w.astype(np.float64)))
                                      .to(o.dtype) for o, w in pairs])
                    grads = [None if g is None else _numpy(g) for g in found]
        return values, grads
    except Exception:  # noqa: BLE001 - the allowance falls back to relative only
        return None, None


@dataclass
class Case:
    """One drawn case, printed when it fails."""
    op: str
    fn: Callable
    arrays: list
    args: tuple = ()
    grad_seed: int = 0
    grad_special_rate: float = 0.0
    recipe: str = ""    # how to rebuild the arrays: make_array(shape, dtype, seed, rate) ...

    def describe(self) -> str:
        arrays = "\n".join(f"  input {i}: {a.dtype} {a.shape} {a.tolist()!r}"[:400]
                           for i, a in enumerate(self.arrays))
        return (f"op {self.op}, args {self.args!r}\n{arrays}\n  recipe: {self.recipe}, "
                f"gradient seed {self.grad_seed} rate {self.grad_special_rate}")


# -- known divergences -------------------------------------------------------------------------

ALL = "all values"


@dataclass(frozen=True)
class Exemption:
    """What of a case is not compared, and why: ``skips(case)`` names the parts ("output
    0", "gradient of input 1", "backward": the whole backward pass) or ALL; whether the
    forward raises is compared regardless."""
    skips: Callable[[Case], set]
    reason: str


def _bin_positions_overflow(bins: int) -> Callable[[Case], set]:
    """ALL where (max - min) * bins overflows the input's dtype, for a histogram over the
    data's own range."""
    def skips(case: Case) -> set:
        x = case.arrays[0]
        if x.dtype.kind != "f" or not x.size:
            return set()
        with np.errstate(all="ignore"):
            return {ALL} if np.isinf((x.max() - x.min()) * x.dtype.type(bins)) else set()
    return skips


def _padding_meets_non_finite(padding_of: Callable[[Case], int]) -> Callable[[Case], set]:
    """In a float32 convolution with padding: the output where the weight is not finite,
    the weight's gradient where the upstream gradient may not be."""
    def skips(case: Case) -> set:
        x, w = case.arrays[:2]
        if x.dtype != np.float32 or w.dtype != np.float32 or not padding_of(case):
            return set()
        parts = set() if np.isfinite(w).all() else {"output 0"}
        return parts | ({"gradient of input 1"} if case.grad_special_rate else set())
    return skips


_HISTOGRAM_OVERFLOW = (
    "PyTorch's CPU histogram kernel finds a value's bin as int((x - min) * bins / (max - "
    "min)) in the input's dtype; where (x - min) * bins overflows to inf, converting inf to "
    "an integer is undefined behaviour in C++ and PyTorch miscounts: torch.histogram("
    "torch.tensor([-3e38, 0.5, 1.0, 1e30, 2.0]), bins=4) puts the four values near 0 in "
    "bin 1 of 4 (float64: bin 3, right), histc(7) puts all five in bin 0. Ours counts by the "
    "edges, as float64 PyTorch does.")

_CONV_PADDING = (
    "Zero padding times an infinite (or NaN) factor: PyTorch's float32 convolutions of all "
    "but tiny sizes run in oneDNN, which leaves the padding out of the output and of the "
    "weight's gradient, while its float64, float16 and tiny float32 ones multiply the "
    "zeros and give NaN (conv2d of a (2, 3, 5, 5) input, padding=1, with one infinite "
    "weight: no NaN in float32, 18 in float64). PyTorch itself disagrees across dtypes; "
    "ours multiplies the zeros in every dtype. The input's gradient agrees everywhere.")

def _broadcast_along(dim: int) -> Callable[[Case], set]:
    """The gradients of the floating inputs broadcast along ``dim`` of the result."""
    def skips(case: Case) -> set:
        shapes = [a.shape for a in case.arrays if a.dtype.kind == "f"]
        try:
            full = np.broadcast_shapes(*shapes)
        except ValueError:
            return set()
        if not full or not -len(full) <= dim < len(full) or full[dim] == 1:
            return set()
        aligned = [(1,) * (len(full) - len(s)) + tuple(s) for s in shapes]
        return {f"gradient of input {i}" for i, s in enumerate(aligned) if s[dim] == 1}
    return skips


_SCALE_INVARIANT = (
    "cos(a, b) does not change when a is scaled, so its gradient with respect to an input "
    "broadcast along the reduced dim (a 0-d a, say) is exactly 0: both libraries return the "
    "rounding noise (about 1e-16 in float64) of a sum of O(1) terms taken in their own "
    "orders, and the harness's rounding bound, the same gradient on |inputs|, is 0 too.")

#: op name -> the parts of its cases that are not compared, and why. Short on purpose.
EXEMPT = {
    "histogram": Exemption(_bin_positions_overflow(4), _HISTOGRAM_OVERFLOW),
    "histc_data_range": Exemption(_bin_positions_overflow(7), _HISTOGRAM_OVERFLOW),
    "conv2d": Exemption(_padding_meets_non_finite(
        lambda case: case.args[1] if case.args else 1), _CONV_PADDING),
    "conv1d": Exemption(_padding_meets_non_finite(
        lambda case: case.args[0] if case.args else 2), _CONV_PADDING),
    "cosine_similarity": Exemption(_broadcast_along(1), _SCALE_INVARIANT),
    "cosine_similarity_dim": Exemption(_broadcast_along(-1), _SCALE_INVARIANT),
    "adaptive_avg_pool2d": Exemption(
        lambda case: {"backward"} if case.arrays[0].ndim == 4 and not case.arrays[0].shape[1]
        else set(),
        "PyTorch's forward accepts an input without channels, (N, 0, H, W), and returns "
        "(N, 0, Ho, Wo); its backward then raises (adaptive_avg_pool2d_backward checks that "
        "grad_output's non-batch dims are not empty). Ours returns the empty gradient."),
    "digamma": Exemption(
        lambda case: {"backward"} if case.arrays[0].dtype != np.float64 else set(),
        "digamma's gradient is trigamma, which PyTorch sums in float32 for float32 inputs "
        "and we take in float64 before rounding: near the poles (x close to -3, where it is "
        "about 5e3) the two differ in the fifth digit, PyTorch's being the less accurate."),
    "atan2": Exemption(
        lambda case: {"backward"} if any(a.dtype == np.bool_ for a in case.arrays) else set(),
        "PyTorch's atan2 backward fails for a bool operand promoted to float ('Negation ... "
        "on a bool tensor is not supported'), a PyTorch bug; ours returns the gradient."),
}


def _skipped(case: Case) -> set:
    return EXEMPT[case.op].skips(case) if case.op in EXEMPT else set()


# -- where PyTorch itself is wrong: the equivalent call it is compared with instead -------------

@dataclass(frozen=True)
class Reference:
    """For cases where ``applies(case)``, PyTorch runs ``fn`` (same arguments) instead of
    the case's function: an equivalent call on which PyTorch is right, so ours is still
    compared, values and gradients. ``fn`` may be a ``Case -> function`` (``of_case``)."""
    applies: Callable[[Case], bool]
    fn: Callable
    reason: str
    of_case: bool = False


def _empty_dims_of_nd(case: Case) -> bool:
    return bool(case.args) and case.args[0] == () and case.arrays[0].ndim > 0


_EMPTY_DIMS = (
    "dim=() reduces over every dim, as dim=None does. PyTorch's var and std then return "
    "the right value but a gradient N times too large (var_backward counts the reduced "
    "elements from the empty dim list: 1; torch.autograd.gradcheck(lambda t: t.var(dim=()),"
    " ...) fails), and its logsumexp with keepdim=False raises 'output with shape [] "
    "doesn't match the broadcast shape [1, 1]' (its keepdim=True result is the full "
    "reduction). The reference names every dim.")


def _every_dim(t) -> tuple:
    return tuple(range(t.ndim))


def _integer_exponent_of_float(case: Case) -> bool:
    return len(case.arrays) == 2 and case.arrays[0].dtype.kind == "f" and \
        case.arrays[1].dtype.kind in "biu"


_INTEGER_EXPONENT = (
    "A floating base to an integer or bool tensor exponent is computed with the exponent "
    "cast to the base's dtype, but PyTorch's backward forms exponent - 1 in the exponent's "
    "own dtype: for bool it raises ('Subtraction, the `-` operator, with a bool tensor is "
    "not supported'), for int64's minimum it wraps around to the maximum. The reference "
    "casts the exponent first.")


def _float16_training(case: Case) -> bool:
    return case.arrays[0].dtype == np.float16 and bool(case.args and case.args[0])


def _in_float32(case: Case) -> Callable:
    return lambda lib, t, *args: case.fn(lib, t.float(), *args).half()


_HALF_BATCH_NORM = (
    "PyTorch's CPU batch norm backward in float16 is not computed in float: for x = "
    "[[1.712], [1.715]], [[2.814], [1.488]] (N=2, C=2) and dy = [[.5], [-1.25]], [[2], "
    "[.75]], its dx is [-1.2e-4, -1.45e-2, 2.5e-3, 1.45e-2], where the exact one (float64, "
    "and PyTorch's float32 rounded) is [-4.5e-5, -6.9e-3, 4.5e-5, 6.9e-3]. Ours computes "
    "float16 in float32; the reference is PyTorch's float32 rounded to float16.")


REFERENCES = {
    "batch_norm": Reference(_float16_training, _in_float32, _HALF_BATCH_NORM, of_case=True),
    "pow": Reference(_integer_exponent_of_float, lambda lib, s, t: s ** t.to(s.dtype),
                     _INTEGER_EXPONENT),
    "var": Reference(_empty_dims_of_nd, lambda lib, t, d, c, k: t.var(
        _every_dim(t), correction=c, keepdim=k), _EMPTY_DIMS),
    "std": Reference(_empty_dims_of_nd, lambda lib, t, d, c, k: t.std(
        _every_dim(t), correction=c, keepdim=k), _EMPTY_DIMS),
    "logsumexp": Reference(_empty_dims_of_nd, lambda lib, t, d, k: t.logsumexp(
        _every_dim(t), keepdim=k), _EMPTY_DIMS),
}


def _torch_fn(case: Case) -> Callable:
    reference = REFERENCES.get(case.op)
    if reference is None or not reference.applies(case):
        return case.fn
    return reference.fn(case) if reference.of_case else reference.fn


def _compute_dtype(dtype: str, outputs: list) -> str:
    """The dtype a gradient of a ``dtype`` input was computed in: the narrowest floating
    output's where that is narrower (a float32 0-d exponent of a float16 power gets a
    float16 gradient, widened), for the rounding allowance only."""
    widths = {name: i for i, name in enumerate(FLOAT_DTYPES)}  # float64 widest
    narrowest = max((_dtype_name(o.dtype) for o in outputs if o.requires_grad and
                     _dtype_name(o.dtype) in widths), key=widths.get, default=dtype)
    return narrowest if dtype in widths and widths[narrowest] > widths[dtype] else dtype


def compare(case: Case, grad: bool = True) -> str:
    """Run ``case`` in both libraries and assert they agree; returns what happened
    ('raised', 'values', 'gradients'), for the statistics."""
    note(case.describe())
    theirs = run_case(torch, _torch_fn(case), case.arrays, case.args, grad)
    ours = run_case(at, case.fn, case.arrays, case.args, grad)
    if theirs.error is not None or ours.error is not None:
        if theirs.error is None:
            raise AssertionError(f"{case.op}: abdou_torch raised where PyTorch did not: "
                                 f"{type(ours.error).__name__}: {ours.error}") from ours.error
        if ours.error is None:
            raise AssertionError(f"{case.op}: PyTorch raised "
                                 f"{type(theirs.error).__name__}: {theirs.error}, abdou_torch "
                                 f"returned a result (silently accepted input)")
        assert same_family(ours.error, theirs.error), (
            f"{case.op}: exception classes differ: ours {type(ours.error).__name__}: "
            f"{ours.error}; torch {type(theirs.error).__name__}: {theirs.error}")
        check_error_message(ours.error)
        return "raised"
    skipped = _skipped(case)
    if ALL in skipped:
        return "exempt"
    if theirs.scalar is not None or ours.scalar is not None:
        assert ours.scalar == theirs.scalar, f"{case.op}: {ours.scalar!r} != {theirs.scalar!r}"
        return "values"
    assert len(ours.outputs) == len(theirs.outputs), \
        f"{case.op}: {len(ours.outputs)} outputs, torch {len(theirs.outputs)}"
    bounds, _ = _magnitude(_torch_fn(case), case.arrays, case.args, None)
    for i, (mine, ref) in enumerate(zip(ours.outputs, theirs.outputs)):
        what = f"{case.op} output {i}"
        assert _dtype_name(mine.dtype) == _dtype_name(ref.dtype), \
            f"{what}: dtype {mine.dtype} != torch's {ref.dtype}"
        assert tuple(mine.shape) == tuple(ref.shape), \
            f"{what}: shape {tuple(mine.shape)} != torch's {tuple(ref.shape)}"
        assert mine.requires_grad == ref.requires_grad, \
            f"{what}: requires_grad {mine.requires_grad} != torch's {ref.requires_grad}"
        bound = None if bounds is None or i >= len(bounds) else bounds[i]
        if f"output {i}" not in skipped:
            assert_close(_numpy(mine), _numpy(ref), bound, _dtype_name(ref.dtype), what)
    if not grad or not any(o.requires_grad for o in theirs.outputs):
        return "values"
    weights = [make_array(tuple(o.shape), _dtype_name(o.dtype), case.grad_seed + i,
                          case.grad_special_rate) if o.requires_grad else None
               for i, o in enumerate(theirs.outputs)]
    their_grads = gradients(torch, theirs, weights)
    our_grads = gradients(at, ours, weights)
    if "backward" in skipped:
        return "values"
    if isinstance(their_grads, Exception) or isinstance(our_grads, Exception):
        assert isinstance(their_grads, Exception) and isinstance(our_grads, Exception), (
            f"{case.op} backward: ours {our_grads!r}, torch {their_grads!r}")
        return "raised"
    _, grad_bounds = _magnitude(_torch_fn(case), case.arrays, case.args, weights)
    wanted = [t for t in theirs.inputs if t.requires_grad]
    for i, (mine, ref, x) in enumerate(zip(our_grads, their_grads, wanted)):
        what = f"{case.op} gradient of input {i}"
        shape, dtype = tuple(x.shape), _dtype_name(x.dtype)
        mine = np.zeros(shape, dtype) if mine is None else _numpy(mine)
        ref = np.zeros(shape, dtype) if ref is None else _numpy(ref)
        assert mine.dtype == ref.dtype, f"{what}: dtype {mine.dtype} != torch's {ref.dtype}"
        bound = None if grad_bounds is None or grad_bounds[i] is None else grad_bounds[i]
        if f"gradient of input {i}" not in skipped:
            assert_close(mine, ref, bound, _compute_dtype(dtype, theirs.outputs), what,
                         signed_zeros=False)
    return "gradients"


# -- the op table under hostile inputs -------------------------------------------------------

def _load_op_table():
    """tests/ops/test_op_table.py as a module (test files are not importable by name)."""
    path = pathlib.Path(__file__).parent / "ops" / "test_op_table.py"
    spec = importlib.util.spec_from_file_location("hostile_op_table", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


TABLE = _load_op_table()

#: Rows whose function calls a different API in each library, equivalent only for the
#: table's own shapes: they run with those shapes only.
TABLE_SHAPES_ONLY = {"expand_keep"}


def _mutated(draw, shapes: list) -> list:
    """The table's shapes, or one input's shape made empty, size-1, 0-d, one dim longer or
    one dim shorter."""
    shapes = [tuple(s) for s in shapes]
    how = draw(st.sampled_from(["same"] * 5 + ["empty", "ones", "scalar", "lead", "drop"]))
    if how == "same":
        return shapes
    i = draw(st.integers(0, len(shapes) - 1))
    shape = shapes[i]
    if how == "empty" and shape:
        d = draw(st.integers(0, len(shape) - 1))
        shape = shape[:d] + (0,) + shape[d + 1:]
    elif how == "ones" and shape:
        d = draw(st.integers(0, len(shape) - 1))
        shape = shape[:d] + (1,) + shape[d + 1:]
    elif how == "scalar":
        shape = ()
    elif how == "lead":
        shape = (2,) + shape
    elif how == "drop":
        shape = shape[1:]
    shapes[i] = shape
    return shapes


def _dtypes(draw, count: int) -> list:
    plan = draw(st.sampled_from(["float32", "float64", "float16", "float32", "mixed"]))
    if plan != "mixed":
        return [plan] * count
    return [draw(st.sampled_from(DTYPES)) for _ in range(count)]


def _rates(draw) -> tuple[float, float]:
    values = st.sampled_from([0.0, 0.0, 0.0, 0.05, 0.3, 1.0])
    return draw(values), draw(values)


@st.composite
def table_cases(draw, op) -> Case:
    shapes = draw(st.sampled_from(op.cases))
    if op.name not in TABLE_SHAPES_ONLY:
        shapes = _mutated(draw, shapes)
    kinds = _dtypes(draw, len(shapes))
    rate, grad_rate = _rates(draw)
    seed = draw(st.integers(0, 2 ** 32 - 1))
    recipes = [(tuple(s), d, seed + i, rate) for i, (s, d) in enumerate(zip(shapes, kinds))]
    return Case(op.name, op.fn, [make_array(*r) for r in recipes], grad_seed=seed + 100,
                grad_special_rate=grad_rate, recipe=repr(recipes))


@pytest.mark.parametrize("op", TABLE.OPS, ids=[op.name for op in TABLE.OPS])
@hostile(3)
@given(data=st.data())
def test_op_table_under_hostile_inputs(op, data):
    compare(data.draw(table_cases(op)), grad=op.grad)


# -- ops with drawn arguments: dims, indices, sizes -------------------------------------------

SHAPES = st.lists(st.sampled_from([0, 1, 1, 2, 3, 3, 4]), min_size=0, max_size=4).map(tuple)


def _some_int(draw, low: int, high: int) -> Any:
    """An int in [low, high], sometimes given as a NumPy int, a float or a bool."""
    value = draw(st.integers(low, high))
    how = draw(st.sampled_from(["int"] * 8 + ["numpy", "float", "bool"]))
    if how == "numpy":
        return np.int64(value)
    if how == "float":
        return float(value)
    if how == "bool" and value in (0, 1):
        return bool(value)
    return value


def _dim(draw, ndim: int) -> Any:
    return _some_int(draw, -ndim - 1, ndim)


def _input(draw, shape: tuple | None = None, dtypes: tuple = FLOAT_DTYPES) -> tuple:
    """(array, recipe) of a drawn (or given) shape and dtype."""
    shape = draw(SHAPES) if shape is None else shape
    recipe = (shape, draw(st.sampled_from(dtypes)), draw(st.integers(0, 2 ** 32 - 1)),
              draw(st.sampled_from([0.0, 0.0, 0.1, 0.5])))
    return make_array(*recipe), recipe


def _case(draw, name: str, fn: Callable, inputs: list, args: tuple = ()) -> Case:
    arrays = [a for a, _ in inputs]
    return Case(name, fn, arrays, tuple(args), grad_seed=draw(st.integers(0, 2 ** 31)),
                grad_special_rate=draw(st.sampled_from([0.0, 0.0, 0.1, 1.0])),
                recipe=repr([r for _, r in inputs]))


def _index_values(draw, shape: tuple, size: int) -> IndexTensor:
    """Integer indices for a dim of ``size``, mostly in range, some one past either end."""
    low, high = (-size - 1, size) if draw(st.booleans()) else (0, max(size - 1, 0))
    values = draw(st.lists(st.integers(low, high), min_size=int(np.prod(shape)),
                           max_size=int(np.prod(shape))))
    dtype = draw(st.sampled_from(["int64", "int64", "int32"]))
    return IndexTensor(np.asarray(values, dtype=np.int64).reshape(shape), dtype)


@st.composite
def narrow_cases(draw):
    x = _input(draw)
    n = x[0].shape[0] if x[0].ndim else 0
    args = (_dim(draw, x[0].ndim), _some_int(draw, -n - 2, n + 2), _some_int(draw, -1, n + 2))
    return _case(draw, "narrow", lambda lib, t, *a: t.narrow(*a), [x], args)


@st.composite
def select_cases(draw):
    x = _input(draw)
    n = x[0].shape[0] if x[0].ndim else 0
    args = (_dim(draw, x[0].ndim), _some_int(draw, -n - 1, n))
    fn = draw(st.sampled_from([lambda lib, t, *a: t.select(*a),
                               lambda lib, t, *a: lib.select(t, *a)]))
    return _case(draw, "select", fn, [x], args)


@st.composite
def split_cases(draw):
    x = _input(draw)
    dim = _dim(draw, x[0].ndim)
    size = x[0].shape[int(dim) % max(x[0].ndim, 1)] if x[0].ndim and \
        -x[0].ndim <= int(dim) < x[0].ndim else 3
    if draw(st.booleans()):
        sections = _some_int(draw, -1, size + 1)
    else:
        sections = draw(st.lists(st.integers(-1, size), min_size=0, max_size=4))
        if draw(st.booleans()):
            sections = tuple(sections)
    fn = draw(st.sampled_from([lambda lib, t, *a: t.split(*a),
                               lambda lib, t, *a: lib.split(t, *a)]))
    return _case(draw, "split", fn, [x], (sections, dim))


@st.composite
def chunk_cases(draw):
    x = _input(draw)
    args = (_some_int(draw, -1, 5), _dim(draw, x[0].ndim))
    return _case(draw, "chunk", lambda lib, t, *a: t.chunk(*a), [x], args)


@st.composite
def unbind_cases(draw):
    x = _input(draw)
    return _case(draw, "unbind", lambda lib, t, d: t.unbind(d), [x], (_dim(draw, x[0].ndim),))


@st.composite
def gather_cases(draw):
    x = _input(draw)
    shape = x[0].shape
    dim = draw(st.integers(-len(shape) - 1, len(shape)))
    d = dim % len(shape) if shape and -len(shape) <= dim < len(shape) else 0
    index_shape = tuple(draw(st.integers(0, n + (1 if i == d else 0)))
                        for i, n in enumerate(shape)) if draw(st.integers(0, 5)) else shape[1:]
    size = shape[d] if shape else 1
    return _case(draw, "gather", lambda lib, t, dm, i: lib.gather(t, dm, i), [x],
                 (dim, _index_values(draw, index_shape, size)))


@st.composite
def take_along_dim_cases(draw):
    x = _input(draw, draw(SHAPES.filter(len)))
    shape = x[0].shape
    d = draw(st.integers(0, len(shape) - 1))
    index_shape = shape[:d] + (draw(st.integers(0, 3)),) + shape[d + 1:]
    index = _index_values(draw, index_shape, shape[d])
    index = IndexTensor(np.clip(index.values, -shape[d], max(shape[d] - 1, 0)), index.dtype)
    return _case(draw, "take_along_dim", lambda lib, t, i, dm: lib.take_along_dim(t, i, dm),
                 [x], (index, draw(st.sampled_from([d, d - len(shape)]))))


@st.composite
def index_select_cases(draw):
    x = _input(draw)
    shape = x[0].shape
    dim = draw(st.integers(-len(shape) - 1, len(shape)))
    size = shape[dim] if shape and -len(shape) <= dim < len(shape) else 1
    index = _index_values(draw, (draw(st.integers(0, 4)),), size)
    return _case(draw, "index_select", lambda lib, t, d, i: t.index_select(d, i), [x],
                 (dim, index))


@st.composite
def embedding_cases(draw):
    rows = draw(st.integers(0, 4))
    weight = _input(draw, (rows, draw(st.integers(0, 3))))
    index = _index_values(draw, draw(SHAPES.filter(lambda s: len(s) < 3)), rows)
    padding = draw(st.one_of(st.none(), st.integers(-rows - 1, rows)))

    def fn(lib, w, i, p):
        return lib.nn.functional.embedding(i, w, padding_idx=p)
    return _case(draw, "embedding", fn, [weight], (index, padding))


@st.composite
def getitem_cases(draw):
    x = _input(draw)
    shape = x[0].shape
    parts = []
    for i in range(draw(st.integers(1, len(shape) + 1))):
        n = shape[i] if i < len(shape) else 1
        part = draw(st.sampled_from(["int", "slice", "none", "ellipsis", "list", "tensor",
                                     "mask"]))
        if part == "int":
            parts.append(draw(st.integers(-n - 1, n)))
        elif part == "slice":
            parts.append(slice(draw(st.one_of(st.none(), st.integers(-n - 2, n + 2))),
                               draw(st.one_of(st.none(), st.integers(-n - 2, n + 2))),
                               draw(st.sampled_from([None, 1, 2]))))
        elif part == "none":
            parts.append(None)
        elif part == "ellipsis" and Ellipsis not in parts:
            parts.append(Ellipsis)
        elif part == "list":
            parts.append(draw(st.lists(st.integers(-n - 1, n), min_size=1, max_size=3)))
        elif part == "tensor":
            parts.append(_index_values(draw, (draw(st.integers(0, 3)),), n))
        else:
            length = draw(st.sampled_from([n, n, n + 1]))
            parts.append(IndexTensor(draw(st.lists(st.booleans(), min_size=length,
                                                   max_size=length)), "bool"))
    key = parts[0] if len(parts) == 1 and draw(st.booleans()) else tuple(parts)
    return _case(draw, "getitem", lambda lib, t, k: t[k], [x], (key,))


@st.composite
def dims_cases(draw):
    x = _input(draw)
    ndim = x[0].ndim
    op = draw(st.sampled_from(["transpose", "permute", "movedim", "squeeze", "unsqueeze",
                               "flatten", "expand", "reshape", "view", "unflatten_like"]))
    if op == "transpose":
        return _case(draw, op, lambda lib, t, a, b: t.transpose(a, b), [x],
                     (_dim(draw, ndim), _dim(draw, ndim)))
    if op == "permute":
        dims = draw(st.permutations(range(ndim)))
        if draw(st.integers(0, 3)) == 0 and dims:
            dims[0] = draw(st.integers(-ndim - 1, ndim))
        return _case(draw, op, lambda lib, t, d: t.permute(*d), [x], (tuple(dims),))
    if op == "movedim":
        return _case(draw, op, lambda lib, t, a, b: t.movedim(a, b), [x],
                     (_dim(draw, ndim), _dim(draw, ndim)))
    if op == "squeeze":
        dim = draw(st.one_of(st.none(), st.integers(-ndim - 1, ndim)))
        return _case(draw, op, lambda lib, t, d: t.squeeze() if d is None else t.squeeze(d),
                     [x], (dim,))
    if op == "unsqueeze":
        return _case(draw, op, lambda lib, t, d: t.unsqueeze(d), [x], (_dim(draw, ndim + 1),))
    if op == "flatten":
        return _case(draw, op, lambda lib, t, a, b: t.flatten(a, b), [x],
                     (_dim(draw, ndim), _dim(draw, ndim)))
    if op == "expand":
        sizes = tuple(draw(st.sampled_from([-1, n, n, 1, 2, 0])) for n in x[0].shape)
        sizes = tuple(draw(st.lists(st.sampled_from([1, 2, 0]), max_size=2))) + sizes
        return _case(draw, op, lambda lib, t, s: t.expand(*s), [x], (sizes,))
    size = int(np.prod(x[0].shape))
    shape = draw(st.sampled_from([(size,), (-1,), (1, -1), (size, 1), (-1, -1), (size + 1,),
                                  (2, -1), (0, -1), ()]))
    return _case(draw, op, lambda lib, t, s: t.reshape(s) if op != "view" else t.view(s),
                 [x], (shape,))


REDUCTIONS = {
    "sum": lambda lib, t, d, k: t.sum(d, keepdim=k) if d is not None else t.sum(),
    "mean": lambda lib, t, d, k: t.mean(d, keepdim=k) if d is not None else t.mean(),
    "prod": lambda lib, t, d, k: t.prod(d, keepdim=k) if d is not None else t.prod(),
    "amax": lambda lib, t, d, k: t.amax(d, keepdim=k) if d is not None else t.amax(),
    "amin": lambda lib, t, d, k: t.amin(d, keepdim=k) if d is not None else t.amin(),
    "max": lambda lib, t, d, k: tuple(t.max(d, keepdim=k)) if d is not None else t.max(),
    "min": lambda lib, t, d, k: tuple(t.min(d, keepdim=k)) if d is not None else t.min(),
    "argmax": lambda lib, t, d, k: t.argmax(d, keepdim=k),
    "argmin": lambda lib, t, d, k: t.argmin(d, keepdim=k),
    "logsumexp": lambda lib, t, d, k: t.logsumexp(d, keepdim=k),
    "softmax": lambda lib, t, d, k: t.softmax(d),
    "log_softmax": lambda lib, t, d, k: t.log_softmax(d),
}


@st.composite
def reduction_cases(draw):
    name = draw(st.sampled_from(sorted(REDUCTIONS)))
    x = _input(draw, dtypes=DTYPES if name in ("sum", "amax", "max", "argmax") else
               FLOAT_DTYPES)
    ndim = x[0].ndim
    dim = draw(st.one_of(st.none(), st.integers(-ndim - 1, ndim)))
    if name in ("sum", "mean", "amax", "amin", "logsumexp") and draw(st.integers(0, 3)) == 0:
        dim = tuple(draw(st.lists(st.integers(-ndim - 1, ndim), max_size=3)))
    if name in ("logsumexp", "softmax", "log_softmax") and dim is None:
        dim = draw(st.integers(-ndim - 1, ndim))
    return _case(draw, name, REDUCTIONS[name], [x], (dim, draw(st.booleans())))


@st.composite
def variance_cases(draw):
    x = _input(draw)
    ndim = x[0].ndim
    dim = draw(st.one_of(st.none(), st.integers(-ndim - 1, ndim),
                         st.lists(st.integers(-ndim, max(ndim - 1, 0)), max_size=2).map(tuple)))
    correction = draw(st.sampled_from([0, 1, 1, 2, 5, 0.5]))
    name = draw(st.sampled_from(["var", "std"]))

    def fn(lib, t, d, c, k):
        return getattr(t, name)(d, correction=c, keepdim=k)
    return _case(draw, name, fn, [x], (dim, correction, draw(st.booleans())))


@st.composite
def join_cases(draw):
    first = _input(draw)
    shape = first[0].shape
    others = [_input(draw, draw(st.sampled_from([shape, shape, shape[1:], (0,)] + [
        shape[:i] + (draw(st.integers(0, 3)),) + shape[i + 1:] for i in range(len(shape))])))
        for _ in range(draw(st.integers(0, 2)))]
    name = draw(st.sampled_from(["cat", "stack"]))
    dim = _dim(draw, len(shape) + (name == "stack"))
    return _case(draw, name, lambda lib, *ts: getattr(lib, name)(list(ts[:-1]), ts[-1]),
                 [first] + others, (dim,))


@st.composite
def clamp_cases(draw):
    x = _input(draw, dtypes=DTYPES[:-1])
    bound = st.one_of(st.none(), st.sampled_from([0.0, -1.5, 2, math.nan, math.inf, -math.inf,
                                                  1e30]))
    low, high = draw(bound), draw(bound)
    if low is None and high is None:
        low = 0.5
    return _case(draw, "clamp", lambda lib, t, a, b: t.clamp(a, b), [x], (low, high))


@st.composite
def pow_cases(draw):
    x = _input(draw, dtypes=DTYPES[:-1])
    exponent = draw(st.sampled_from([2, 3, 0, 1, -1, -2, 0.5, -0.5, 2.0, 1.5, -1.5, 1e10,
                                     math.nan, math.inf, -math.inf, 0.0]))
    if draw(st.booleans()):
        return _case(draw, "pow", lambda lib, t, e: t ** e, [x], (exponent,))
    return _case(draw, "rpow", lambda lib, t, e: e ** t, [x], (exponent,))


@st.composite
def binary_cases(draw):
    a = _input(draw, dtypes=DTYPES)
    shape = a[0].shape
    b = _input(draw, draw(st.sampled_from([shape, shape[1:], (), (1,) + shape[1:], (2,) + shape,
                                           draw(SHAPES)])), dtypes=DTYPES)
    name = draw(st.sampled_from(["add", "sub", "mul", "div", "maximum", "minimum", "where",
                                 "eq", "lt", "matmul", "pow"]))
    fns = {"where": lambda lib, s, t: lib.where(s > 0, s, t),
           "matmul": lambda lib, s, t: s @ t,
           "pow": lambda lib, s, t: s ** t}
    fn = fns.get(name, lambda lib, s, t: getattr(lib, name)(s, t))
    return _case(draw, name, fn, [a, b])


@st.composite
def scalar_operand_cases(draw):
    x = _input(draw, dtypes=DTYPES)
    scalar = draw(st.sampled_from([2, -3, 0, 2.5, -0.0, math.nan, math.inf, True, False,
                                   np.float64(1.5), np.int64(3), np.float32(2.0)]))
    name = draw(st.sampled_from(["add", "radd", "mul", "rmul", "sub", "rsub", "div", "rdiv",
                                 "gt", "eq"]))
    fns = {"add": lambda lib, t, s: t + s, "radd": lambda lib, t, s: s + t,
           "mul": lambda lib, t, s: t * s, "rmul": lambda lib, t, s: s * t,
           "sub": lambda lib, t, s: t - s, "rsub": lambda lib, t, s: s - t,
           "div": lambda lib, t, s: t / s, "rdiv": lambda lib, t, s: s / t,
           "gt": lambda lib, t, s: t > s, "eq": lambda lib, t, s: t == s}
    return _case(draw, f"{name} scalar", fns[name], [x], (scalar,))


@st.composite
def loss_cases(draw):
    n, classes = draw(st.integers(0, 3)), draw(st.integers(0, 4))
    x = _input(draw, draw(st.sampled_from([(n, classes), (classes,), (n, classes, 2)])))
    target_shape = {2: (n,), 1: (), 3: (n, 2)}[x[0].ndim]
    target = _index_values(draw, target_shape, classes)
    ignore = draw(st.sampled_from([-100, 0, 1, -1]))
    reduction = draw(st.sampled_from(["mean", "sum", "none"]))
    name = draw(st.sampled_from(["cross_entropy", "nll_loss"]))

    def fn(lib, t, y, i, r):
        return getattr(lib.nn.functional, name)(t, y, ignore_index=i, reduction=r)
    return _case(draw, name, fn, [x], (target, ignore, reduction))


@st.composite
def network_cases(draw):
    n = draw(st.sampled_from([0, 0, 1, 2]))
    name = draw(st.sampled_from(["conv2d", "conv1d", "conv_transpose2d", "max_pool2d",
                                 "avg_pool2d", "max_pool1d", "avg_pool1d",
                                 "adaptive_avg_pool2d", "adaptive_max_pool2d", "batch_norm",
                                 "layer_norm", "linear"]))
    channels, size = draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([1, 3, 4]))
    if name in ("conv2d", "conv_transpose2d"):
        x = _input(draw, (n, channels, size, size + 1))
        w = _input(draw, (2, channels, 2, 2) if name == "conv2d" else (channels, 2, 2, 2))
        stride, padding = draw(st.sampled_from([1, 2])), draw(st.sampled_from([0, 1]))

        def fn(lib, t, k, s, p):
            return getattr(lib.nn.functional, name)(t, k, stride=s, padding=p)
        return _case(draw, name, fn, [x, w], (stride, padding))
    if name == "conv1d":
        x, w = _input(draw, (n, channels, size)), _input(draw, (2, channels, 2))
        return _case(draw, name, lambda lib, t, k, p: lib.nn.functional.conv1d(t, k, padding=p),
                     [x, w], (draw(st.sampled_from([0, 1])),))
    if name in ("max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d"):
        shape = (n, channels, size, size + 1) if name.endswith("2d") else (n, channels, size)
        x = _input(draw, shape)
        kernel, padding = draw(st.sampled_from([1, 2, 3])), draw(st.sampled_from([0, 1]))

        def fn(lib, t, k, p):
            return getattr(lib.nn.functional, name)(t, k, padding=p)
        return _case(draw, name, fn, [x], (kernel, padding))
    if name.startswith("adaptive"):
        x = _input(draw, (n, channels, size, size + 2))
        out = draw(st.sampled_from([1, 2, 3, (2, 3)]))
        return _case(draw, name, lambda lib, t, o: getattr(lib.nn.functional, name)(t, o),
                     [x], (out,))
    if name == "batch_norm":
        x = _input(draw, draw(st.sampled_from([(n, channels), (n, channels, size)])))
        training = draw(st.booleans())

        def fn(lib, t, train):
            mean, var = lib.zeros(channels, dtype=t.dtype), lib.ones(channels, dtype=t.dtype)
            return lib.nn.functional.batch_norm(t, mean, var, training=train)
        return _case(draw, name, fn, [x], (training,))
    if name == "layer_norm":
        x = _input(draw, (n, channels, size))
        shape = draw(st.sampled_from([(size,), (channels, size), (size + 1,)]))
        return _case(draw, name, lambda lib, t, s: lib.nn.functional.layer_norm(t, s), [x],
                     (shape,))
    x, w = _input(draw, (n, size)), _input(draw, (2, draw(st.sampled_from([size, size + 1]))))
    return _case(draw, name, lambda lib, t, k: lib.nn.functional.linear(t, k), [x, w])


ARGUMENT_OPS = {
    "narrow": narrow_cases, "select": select_cases, "split": split_cases,
    "chunk": chunk_cases, "unbind": unbind_cases, "gather": gather_cases,
    "take_along_dim": take_along_dim_cases, "index_select": index_select_cases,
    "embedding": embedding_cases, "getitem": getitem_cases, "dims": dims_cases,
    "reductions": reduction_cases, "variance": variance_cases, "join": join_cases,
    "clamp": clamp_cases, "pow": pow_cases, "binary": binary_cases,
    "scalar_operands": scalar_operand_cases, "losses": loss_cases, "networks": network_cases,
}


@pytest.mark.parametrize("family", sorted(ARGUMENT_OPS))
@hostile(25)
@given(data=st.data())
def test_ops_with_hostile_arguments(family, data):
    compare(data.draw(ARGUMENT_OPS[family]()))
