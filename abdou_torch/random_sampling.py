"""PyTorch's random sampling functions on tensors, giving PyTorch's numbers for a seed.

Factories: ``rand``, ``randn``, ``randint`` (``randint(high, size)`` and ``randint(low,
high, size)``), ``randperm``, ``normal``, ``bernoulli``, ``multinomial``, ``poisson`` and
``rand_like``, ``randn_like``, ``randint_like``. In-place fillers, behind the Tensor
methods of the same names: ``uniform_``, ``normal_``, ``random_``, ``exponential_``,
``bernoulli_``. Each takes ``generator=`` (default: :data:`abdou_torch.random.
default_generator`), the factories also ``dtype=``, ``device=`` ("cpu" only),
``requires_grad=`` and ``out=`` where PyTorch has them.

The algorithms are in :mod:`abdou_torch.sampling`; this module parses arguments, checks
them as PyTorch does (before drawing anything) and writes the samples in the order of the
tensor's memory, which is the order PyTorch's kernels visit the elements.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import dtypes
from . import random as _random
from . import sampling
from .autograd import inplace as _inplace
from .errors import ShapeError
from .random import Generator
from .tensor import Tensor

__all__ = ["rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
           "normal", "bernoulli", "multinomial", "poisson", "uniform_", "normal_", "random_",
           "exponential_", "bernoulli_"]

_INT64_MIN = -(1 << 63)
_MULTINOMIAL_MAX_CATEGORIES = 1 << 24


class SamplingError(RuntimeError, ValueError):
    """Arguments a random function cannot sample from (low >= high, a negative
    probability ...): a RuntimeError as in PyTorch, and a ValueError."""


class SamplingDtypeError(NotImplementedError, TypeError):
    """A dtype the sampler has no kernel for (rand on int64 ...): PyTorch's
    NotImplementedError (a RuntimeError), and a TypeError."""


# -- arguments ---------------------------------------------------------------------------------
def _generator(generator: Any) -> Generator:
    if generator is None:
        return _random.default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an abdou_torch.Generator, got "
                        f"{type(generator).__name__}")
    return generator


def _check_device(device: Any, function: str) -> None:
    if device is None:
        return
    name = str(getattr(device, "type", device))
    if name.split(":")[0] != "cpu":
        raise RuntimeError(f"{function}: device {str(device)!r} is not available; "
                           f"abdou_torch runs on the CPU only (use device='cpu')")


def _size(size: tuple, function: str, keyword: Any = None) -> tuple[int, ...]:
    """The shape given as ints, one tuple of ints, or the ``size=`` keyword (not both)."""
    if keyword is not None:
        if size:
            raise TypeError(f"{function}() got its size both as arguments {size!r} and as "
                            f"size={keyword!r}")
        size = (keyword,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{function}: sizes must be ints (or one tuple of ints), got "
                            f"{size!r}")
        if n < 0:
            raise SamplingError(f"{function}: trying to create a tensor with negative "
                                f"dimension {n}: {list(size)}")
    return tuple(int(n) for n in size)


def _float_dtype(dtype: Any, function: str) -> np.dtype:
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if dtype.kind != "f":
        raise SamplingDtypeError(f"{function}: not implemented for dtype {dtype} (a "
                                 f"floating dtype is needed)")
    return dtype


def _int(value: Any, name: str, function: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{function}: {name} must be an int, got {type(value).__name__}")
    return int(value)


def _array(value: Any) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _target(shape: tuple[int, ...], dtype: dtypes.DType, out: Tensor | None,
            function: str) -> Tensor:
    """The tensor to fill: ``out`` (resized to ``shape`` if needed) or a new one."""
    if out is None:
        return Tensor._wrap(np.empty(shape, dtype=dtype), False)
    if not isinstance(out, Tensor):
        raise TypeError(f"{function}: out must be a Tensor, got {type(out).__name__}")
    if out.dtype != dtype:
        raise SamplingError(f"{function}: expected out to have dtype {dtype}, got "
                            f"{out.dtype}")
    _inplace_target(out, function)
    if out.shape != shape:
        out.data = np.empty(shape, dtype=dtype)
    return out


def _finish(tensor: Tensor, requires_grad: bool) -> Tensor:
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


# -- placing samples ---------------------------------------------------------------------------
def _in_memory_order(values: np.ndarray, layout: np.ndarray) -> np.ndarray:
    """``values`` (of ``layout``'s shape) as a view whose C order is the order of
    ``layout``'s memory: PyTorch's kernels visit a permuted tensor's elements that way."""
    if layout.flags.c_contiguous or layout.ndim < 2:
        return values
    axes = sorted(range(layout.ndim), key=lambda axis: -abs(layout.strides[axis]))
    return values.transpose(axes)


def _store(tensor: Tensor, samples: np.ndarray, op: str) -> Tensor:
    """Write samples, given in visiting order, into ``tensor`` in place (as an assignment
    in the autograd graph when the tensor takes part in one)."""
    values = np.empty_like(tensor.data)  # the same memory layout
    ordered = _in_memory_order(values, values)
    ordered[...] = sampling.cast_float(samples, tensor.dtype).reshape(ordered.shape)
    if tensor._records_inplace():
        return tensor._assign(op, values)
    return tensor._write(op, values)


def _inplace_target(tensor: Any, function: str) -> Tensor:
    """``tensor``, once PyTorch's in-place checks pass (before anything is drawn)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{function}: expected a Tensor, got {type(tensor).__name__}")
    if tensor._records_inplace():
        base, _ = _inplace.view_chain(tensor)
        _inplace._check_can_rebase(tensor, base, function)
    return tensor


# -- in-place fillers (the Tensor methods) -----------------------------------------------------
def uniform_(tensor: Tensor, from_: float = 0.0, to: float = 1.0, *,
             generator: Generator | None = None) -> Tensor:
    """Fill with U(from, to): x = fma(u, to - from, from), u uniform on [0, 1)."""
    tensor = _inplace_target(tensor, "uniform_")
    dtype = _float_dtype(tensor.dtype, "uniform_")
    from_, to = float(from_), float(to)
    lowest, highest = float(np.finfo(dtype).min), float(np.finfo(dtype).max)
    for name, value in (("from", from_), ("to", to)):
        if not lowest <= value <= highest:
            raise SamplingError(f"uniform_: {name} is out of bounds for {dtype}")
    if from_ > to:
        raise SamplingError(f"uniform_ expects to return a [from, to) range, but found "
                            f"from={from_} > to={to}")
    if to - from_ > highest:
        raise SamplingError(f"uniform_ expects to-from <= the largest {dtype}, but found "
                            f"to={to} and from={from_}")
    samples = sampling.uniform(_generator(generator), tensor.data.size, dtype, from_, to)
    return _store(tensor, samples, "uniform_")


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, *,
            generator: Generator | None = None) -> Tensor:
    """Fill with N(mean, std^2) (Box-Muller; see :mod:`abdou_torch.sampling`)."""
    tensor = _inplace_target(tensor, "normal_")
    dtype = _float_dtype(tensor.dtype, "normal_")
    if not std >= 0.0:
        raise SamplingError(f"normal expects std >= 0.0, but found std {std}")
    samples = sampling.normal(_generator(generator), tensor.data.size, dtype, float(mean),
                              float(std), contiguous=tensor.data.flags.c_contiguous)
    return _store(tensor, samples, "normal_")


def exponential_(tensor: Tensor, lambd: float = 1.0, *,
                 generator: Generator | None = None) -> Tensor:
    """Fill with Exp(lambd): -1/lambd * log1p(-u)."""
    tensor = _inplace_target(tensor, "exponential_")
    _float_dtype(tensor.dtype, "exponential_")
    if not lambd > 0.0:
        raise SamplingError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    samples = sampling.exponential(_generator(generator), tensor.data.size, float(lambd))
    return _store(tensor, samples, "exponential_")


def bernoulli_(tensor: Tensor, p: Any = 0.5, *, generator: Generator | None = None) -> Tensor:
    """Fill with 1 where u < p, else 0; ``p`` a float or a tensor broadcastable to
    ``tensor`` (one draw per element)."""
    tensor = _inplace_target(tensor, "bernoulli_")
    generator = _generator(generator)
    if isinstance(p, (Tensor, np.ndarray)):
        probabilities = _array(p)
        if probabilities.dtype.kind != "f":
            raise TypeError(f"bernoulli_: probabilities must be floating, got "
                            f"{probabilities.dtype}")
        try:
            probabilities = np.broadcast_to(probabilities, tensor.shape)
        except ValueError:
            raise ShapeError(f"bernoulli_: probabilities of shape {probabilities.shape} do "
                             f"not broadcast to the tensor's shape {tensor.shape}") from None
        if probabilities.size and not ((probabilities >= 0) & (probabilities <= 1)).all():
            raise SamplingError("bernoulli_: all probabilities must be in [0, 1]")
        visiting = np.ascontiguousarray(_in_memory_order(probabilities, tensor.data))
        return _store(tensor, sampling.bernoulli_tensor(generator, visiting.ravel()),
                      "bernoulli_")
    p = float(p)
    if not 0 <= p <= 1:
        raise SamplingError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
    return _store(tensor, sampling.bernoulli_scalar(generator, tensor.data.size, p),
                  "bernoulli_")


_UNSET = object()


def random_(tensor: Tensor, *args: Any, to: Any = _UNSET,
            generator: Generator | None = None) -> Tensor:
    """``random_()``, ``random_(to)`` or ``random_(from, to)``: integers uniform on [from,
    to); without bounds [0, 2^mantissa] for floats and [0, max] for integers; ``to=None``
    means up to the dtype's maximum."""
    tensor = _inplace_target(tensor, "random_")
    if len(args) > 2 or (len(args) == 2 and to is not _UNSET):
        raise TypeError("random_ takes at most two bounds: random_(from, to)")
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        low, high = (0, args[0]) if to is _UNSET else (args[0], to)
    else:
        low, high = (0, to) if to is not _UNSET else (None, None)
    generator = _generator(generator)
    dtype, count = tensor.dtype, tensor.data.size
    if low is None:
        return _store(tensor, sampling.random_full_range(generator, count, dtype), "random_")
    low = _int(low, "from", "random_")
    high = None if high is None else _int(high, "to", "random_")
    samples = _random_from_to(generator, count, dtype, low, high)
    return _store(tensor, samples, "random_")


def _random_from_to(generator: Generator, count: int, dtype: dtypes.DType, low: int,
                    high: int | None) -> np.ndarray:
    """PyTorch's random_from_to_impl: the range checks, then low + (w mod span)."""
    if high is None and low == _INT64_MIN:
        return sampling.random_int64(generator, count)
    if high is not None:
        if low >= high:
            raise SamplingError(f"random_ expects 'from' to be less than 'to', but got "
                                f"from={low} >= to={high}")
        if dtype.kind == "f":
            low, high = _update_from(low, dtype), _update_to(high, dtype)
            if low >= high:
                raise SamplingError(f"random_ expects 'from' casted to dtype to be less than "
                                    f"'to' casted to dtype, but got from={low} >= to={high}")
        last = high - 1
    elif dtype.kind == "f":
        last = 1 << (np.finfo(dtype).nmant + 1)
        low = _update_from(low, dtype)
    else:
        last = 1 if dtype == np.bool_ else int(np.iinfo(dtype).max)
    _check_in_range(low, last, dtype)
    return sampling.random_from_to(generator, count, low, last - low + 1)


def _update_from(low: int, dtype: dtypes.DType) -> int:
    """The closest ``from`` whose samples stay >= from once rounded to ``dtype``."""
    rounded = int(dtype.type(low + 1))
    if rounded < low:
        bits = abs(low + 1).bit_length() - 1
        low = rounded + (1 << (bits - (np.finfo(dtype).nmant + 1) + 1))
    return low


def _update_to(high: int, dtype: dtypes.DType) -> int:
    """The closest ``to`` whose samples stay < to once rounded to ``dtype``."""
    rounded = int(dtype.type(high - 1))
    if rounded >= high:
        bits = abs(high - 1).bit_length() - 1
        high = rounded - (1 << (bits - (np.finfo(dtype).nmant + 1) + 1))
    return high


def _check_in_range(low: int, last: int, dtype: dtypes.DType) -> None:
    if dtype.kind == "f":
        lowest, highest = float(np.finfo(dtype).min), float(np.finfo(dtype).max)
    elif dtype == np.bool_:
        lowest, highest = 0, 1
    else:
        lowest, highest = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    if not lowest <= low <= highest:
        raise SamplingError(f"from is out of bounds for {dtype}")
    if not lowest <= last <= highest:
        raise SamplingError(f"to - 1 is out of bounds for {dtype}")


# -- factories ---------------------------------------------------------------------------------
def rand(*shape: Any, size: Any = None, generator: Generator | None = None,
         out: Tensor | None = None, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Samples of U(0, 1) (24 random bits in float32, 53 in float64)."""
    _check_device(device, "rand")
    shape, dtype = _size(shape, "rand", size), _float_dtype(dtype, "rand")
    target = _target(shape, dtype, out, "rand")
    return _finish(uniform_(target, 0.0, 1.0, generator=generator), requires_grad)


def randn(*shape: Any, size: Any = None, generator: Generator | None = None,
          out: Tensor | None = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Samples of N(0, 1)."""
    _check_device(device, "randn")
    shape, dtype = _size(shape, "randn", size), _float_dtype(dtype, "randn")
    target = _target(shape, dtype, out, "randn")
    return _finish(normal_(target, 0.0, 1.0, generator=generator), requires_grad)


def randint(*args: Any, size: Any = None, low: Any = None, high: Any = None,
            generator: Generator | None = None, out: Tensor | None = None, dtype: Any = None,
            layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high,
    size)`` (int64 unless ``dtype`` says otherwise)."""
    _check_device(device, "randint")
    low, high, size = _randint_arguments(args, low, high, size)
    shape = _size((size,) if isinstance(size, (int, np.integer)) else (size,), "randint")
    dtype = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    if requires_grad and dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point dtype can require gradients")
    target = _target(shape, dtype, out, "randint")
    samples = _random_from_to(_generator(generator), target.data.size, dtype, low, high)
    return _finish(_store(target, samples, "randint"), requires_grad)


def _randint_arguments(args: tuple, low: Any, high: Any, size: Any) -> tuple[int, int, Any]:
    usage = "randint(high, size) or randint(low, high, size)"
    if len(args) == 3:
        if low is not None or high is not None or size is not None:
            raise TypeError(f"randint: got bounds twice; use {usage}")
        low, high, size = args
    elif len(args) == 2:
        if size is None:
            high, size = args
        else:
            low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif len(args) > 3:
        raise TypeError(f"randint takes at most 3 positional arguments: {usage}")
    if high is None or size is None:
        raise TypeError(f"randint needs high and size: {usage}")
    low = 0 if low is None else _int(low, "low", "randint")
    return low, _int(high, "high", "randint"), size


def randperm(n: int, *, generator: Generator | None = None, out: Tensor | None = None,
             dtype: Any = None, layout: Any = None, device: Any = None,
             requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A random permutation of 0 .. n-1 (PyTorch's Fisher-Yates on the same words)."""
    _check_device(device, "randperm")
    n = _int(n, "n", "randperm")
    if n < 0:
        raise SamplingError(f"randperm: n must be non-negative, got {n}")
    dtype = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    _check_permutation_fits(n, dtype)
    target = _target((n,), dtype, out, "randperm")
    permutation = sampling.randperm(_generator(generator), n)
    return _finish(_store(target, permutation, "randperm"), requires_grad)


def _check_permutation_fits(n: int, dtype: np.dtype) -> None:
    """PyTorch's check_supported_max_int_with_precision: n - 1 must be exact in dtype."""
    if dtype.kind == "f":
        limit = 1 << (np.finfo(dtype).nmant + 1)
    elif dtype == np.bool_:
        limit = 2
    else:
        limit = int(np.iinfo(dtype).max) + 1
    if n > limit:
        raise SamplingError(f"randperm: n is too large for result tensor type {dtype}")


def _like(input: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:  # noqa: A002
    array = _array(input)
    return tuple(array.shape), array.dtype if dtype is None else dtypes.as_dtype(dtype)


def rand_like(input: Any, *, generator: Generator | None = None, dtype: Any = None,  # noqa: A002
              layout: Any = None, device: Any = None, requires_grad: bool = False,
              memory_format: Any = None) -> Tensor:
    shape, dtype = _like(input, dtype)
    return rand(shape, generator=generator, dtype=dtype, device=device,
                requires_grad=requires_grad)


def randn_like(input: Any, *, generator: Generator | None = None, dtype: Any = None,  # noqa: A002
               layout: Any = None, device: Any = None, requires_grad: bool = False,
               memory_format: Any = None) -> Tensor:
    shape, dtype = _like(input, dtype)
    return randn(shape, generator=generator, dtype=dtype, device=device,
                 requires_grad=requires_grad)


def randint_like(input: Any, *args: Any, low: Any = None, high: Any = None,  # noqa: A002
                 generator: Generator | None = None, dtype: Any = None, layout: Any = None,
                 device: Any = None, requires_grad: bool = False,
                 memory_format: Any = None) -> Tensor:
    """``randint_like(input, high)`` or ``randint_like(input, low, high)``: integers on
    [low, high) with ``input``'s shape and dtype."""
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        low, high = (args[0], high) if high is not None else (low, args[0])
    elif args:
        raise TypeError("randint_like(input, high) or randint_like(input, low, high)")
    if high is None:
        raise TypeError("randint_like needs high: randint_like(input, high)")
    shape, dtype = _like(input, dtype)
    return randint(0 if low is None else low, high, shape, generator=generator, dtype=dtype,
                   device=device, requires_grad=requires_grad)


# -- normal, bernoulli, multinomial, poisson ---------------------------------------------------
def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Generator | None = None,
           out: Tensor | None = None, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2): ``normal(mean_tensor, std_tensor)`` (broadcast; the
    result has mean's dtype), ``normal(mean_tensor, std=1.0)``, ``normal(mean,
    std_tensor)`` or ``normal(mean, std, size)`` for floats.

    As PyTorch: standard normals z are drawn for the whole result, then
    ``z * std + mean`` (two roundings) when a tensor is involved; with floats,
    ``fma(z, std, mean)``.
    """
    _check_device(device, "normal")
    generator = _generator(generator)
    mean_is_tensor = isinstance(mean, (Tensor, np.ndarray))
    std_is_tensor = isinstance(std, (Tensor, np.ndarray))
    if not mean_is_tensor and not std_is_tensor:
        if size is None:
            raise TypeError("normal(mean, std) with float mean and std needs a size: "
                            "normal(mean, std, size)")
        shape = _size((size,) if isinstance(size, (int, np.integer)) else (size,), "normal")
        target = _target(shape, _float_dtype(dtype, "normal"), out, "normal")
        return _finish(normal_(target, float(mean), float(std), generator=generator),
                       requires_grad)
    if size is not None:
        raise TypeError("normal: size is only accepted with float mean and std")
    return _finish(_normal_tensors(mean, std, mean_is_tensor, std_is_tensor, generator, out),
                   requires_grad)


def _normal_tensors(mean: Any, std: Any, mean_is_tensor: bool, std_is_tensor: bool,
                    generator: Generator, out: Tensor | None) -> Tensor:
    if std_is_tensor:
        std_array = _array(std)
        if std_array.size and not std_array.min() >= 0:
            raise SamplingError("normal expects all elements of std >= 0.0")
    elif not float(std) >= 0:
        raise SamplingError(f"normal expects std >= 0.0, but found std {std}")
    if mean_is_tensor:
        mean_array = _array(mean)
        dtype = mean_array.dtype
        shape = _broadcast(mean_array.shape, _array(std).shape) if std_is_tensor \
            else mean_array.shape
    else:
        std_array = _array(std)
        dtype, shape = std_array.dtype, std_array.shape
    target = _target(tuple(shape), _float_dtype(dtype, "normal"), out, "normal")
    if mean_is_tensor and not std_is_tensor:
        normal_(target, 0.0, float(std), generator=generator)
        target.data[...] = _promoted_op(target.data, mean_array, np.add)
        return target
    normal_(target, 0.0, 1.0, generator=generator)
    product = _promoted_op(target.data, _array(std), np.multiply)
    mean_values = mean_array if mean_is_tensor else np.asarray(mean, dtype=target.dtype)
    target.data[...] = _promoted_op(product, mean_values, np.add)
    return target


def _broadcast(mean_shape: tuple, std_shape: tuple) -> tuple:
    try:
        return np.broadcast_shapes(mean_shape, std_shape)
    except ValueError:
        raise ShapeError(f"normal: mean of shape {mean_shape} and std of shape {std_shape} "
                         f"do not broadcast") from None


def _promoted_op(values: np.ndarray, other: np.ndarray, op: np.ufunc) -> np.ndarray:
    """``values op= other`` as PyTorch's in-place op computes it: in the promoted dtype
    (a 0-d operand of the same category does not promote), stored in values' dtype."""
    if other.ndim == 0 and other.dtype.kind == values.dtype.kind:
        common = values.dtype
    else:
        common = dtypes.promote_types(values.dtype, other.dtype)
    return op(values.astype(common), other.astype(common)).astype(values.dtype)


def bernoulli(input: Any, p: Any = None, *, generator: Generator | None = None,  # noqa: A002
              out: Tensor | None = None) -> Tensor:
    """1 with probability ``input`` (elementwise; its dtype), or with probability ``p``
    when given (a float), with ``input``'s shape and dtype."""
    array = _array(input)
    target = _target(tuple(array.shape), array.dtype, out, "bernoulli")
    return bernoulli_(target, array if p is None else p, generator=generator)


def multinomial(input: Any, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Generator | None = None, out: Tensor | None = None) -> Tensor:
    """Category indices drawn from each row of ``input`` (1-D or 2-D, non-negative weights
    that need not sum to 1), int64 of shape (num_samples,) or (rows, num_samples).

    With replacement and more than one sample: a uniform per sample, located in the row's
    normalised running sum. Without replacement, or for a single sample (PyTorch takes the
    same fast path): PyTorch's exponential trick, the ``num_samples`` largest of p / E with
    E ~ Exp(1) (so categories of probability 0 come last, in PyTorch's order of ties).
    """
    probabilities = _multinomial_checked(input, num_samples, replacement)
    generator = _generator(generator)
    rows = probabilities.reshape(-1, probabilities.shape[-1])
    if replacement and num_samples > 1:
        samples = sampling.multinomial_with_replacement(generator, rows, num_samples)
    else:
        samples = sampling.multinomial_without_replacement(generator, probabilities,
                                                           num_samples)
    shape = (num_samples,) if probabilities.ndim == 1 else (rows.shape[0], num_samples)
    target = _target(shape, dtypes.int64, out, "multinomial")
    return _store(target, samples.reshape(shape), "multinomial")


def _multinomial_checked(weights: Any, num_samples: Any, replacement: bool) -> np.ndarray:
    probabilities = _array(weights)
    num_samples = _int(num_samples, "num_samples", "multinomial")
    if probabilities.ndim not in (1, 2):
        raise SamplingError("multinomial: prob_dist must be 1 or 2 dim")
    if probabilities.dtype.kind != "f":
        raise SamplingError(f"multinomial only supports floating-point dtypes for input, "
                            f"got: {probabilities.dtype}")
    if num_samples <= 0:
        raise SamplingError("multinomial: cannot sample n_sample <= 0 samples")
    categories = probabilities.shape[-1]
    if not replacement and num_samples > categories:
        raise SamplingError("multinomial: cannot sample n_sample > prob_dist.size(-1) "
                            "samples without replacement")
    if categories > _MULTINOMIAL_MAX_CATEGORIES:
        raise SamplingError("multinomial: number of categories cannot exceed 2^24")
    if probabilities.size:
        if not (np.isfinite(probabilities).all() and probabilities.min() >= 0):
            raise SamplingError("multinomial: probability tensor contains either `inf`, "
                                "`nan` or element < 0")
        if (probabilities.reshape(-1, categories).sum(axis=1) == 0).any():
            raise SamplingError("multinomial: invalid multinomial distribution (sum of "
                                "probabilities <= 0)")
    return probabilities


def poisson(input: Any, generator: Generator | None = None) -> Tensor:  # noqa: A002
    """A Poisson sample for each rate in ``input`` (same shape and dtype)."""
    rates = _array(input)
    _float_dtype(rates.dtype, "poisson")
    if rates.size and not rates.min() >= 0:
        raise SamplingError("poisson: invalid Poisson rate, expected rate to be non-negative")
    samples = sampling.poisson(_generator(generator), np.ascontiguousarray(rates).ravel())
    return Tensor._wrap(samples.reshape(rates.shape).astype(rates.dtype), False)

