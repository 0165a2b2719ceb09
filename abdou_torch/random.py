"""Random number generation: PyTorch's CPU generator, draw for draw.

A :class:`Generator` is the Mersenne Twister (mt19937) that ``torch.Generator`` runs on the
CPU, seeded the same way (``state[0] = seed mod 2^32``, ``state[i] = 1812433253 *
(state[i-1] ^ (state[i-1] >> 30)) + i``), so after ``manual_seed(s)`` it yields PyTorch's
32-bit words in PyTorch's order. The words come from NumPy's ``MT19937`` bit generator, the
same algorithm in C, whose 624-word state is set to PyTorch's seeding. The sampling
algorithms that turn words into uniforms, normals, integers ... live in
:mod:`abdou_torch.sampling`.

The state also holds what PyTorch's generator holds besides the words: the seed and the
cached second value of the Box-Muller pair used by small normal draws. ``get_state()``
returns it as a JSON-serialisable dict (training checkpoints keep it in their metadata);
``set_state()`` takes that dict, or the 5056-byte ``uint8`` state of
``torch.get_rng_state()``, so a state saved by PyTorch continues here.
"""
from __future__ import annotations

import secrets
import struct
from typing import Any

import numpy as np

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state"]

_STATE_WORDS = 624
DEFAULT_SEED = 67280421310721  # what a new torch.Generator() is seeded with
_UINT64 = 1 << 64

# torch.get_rng_state()'s byte layout (CPUGeneratorImplState on x86-64): the legacy part
# (seed u64, left i32, seeded i32, next u64, state u64[624], normal_x f64, normal_y f64,
# normal_rho f64, normal_is_valid i32 + 4 padding bytes) then the float normal (f32) and its
# validity flag (bool + 3 padding bytes).
_TORCH_STATE = struct.Struct("<QiiQ624QdddiIfB3x")
TORCH_STATE_BYTES = _TORCH_STATE.size  # 5056


def _initial_key(seed: int) -> np.ndarray:
    """mt19937's 624-word state after init_genrand(seed mod 2^32)."""
    key = np.empty(_STATE_WORDS, dtype=np.uint32)
    word = seed & 0xFFFFFFFF
    key[0] = word
    for i in range(1, _STATE_WORDS):
        word = (1812433253 * (word ^ (word >> 30)) + i) & 0xFFFFFFFF
        key[i] = word
    return key


def _as_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
    seed = int(seed)
    if not -(1 << 63) <= seed < _UINT64:
        raise ValueError(f"manual_seed: seed must be in [-2**63, 2**64), got {seed}")
    return seed % _UINT64  # PyTorch keeps seeds as uint64: -1 is 2**64 - 1


def _check_cpu(device: Any) -> None:
    text = str(getattr(device, "type", device))
    if text not in ("cpu", "cpu:0"):
        raise RuntimeError(f"Generator: device {device!r} is not available; abdou_torch runs "
                           f"on the CPU only")


class Generator:
    """PyTorch's CPU ``torch.Generator``: an mt19937 stream with PyTorch's seeding.

    ``Generator()`` starts from PyTorch's default seed 67280421310721, as
    ``torch.Generator()`` does; ``Generator(seed)`` (an int) is shorthand for
    ``Generator().manual_seed(seed)``.
    """

    __slots__ = ("_seed", "_bits", "_numpy", "_fresh_key", "next_double_normal",
                 "next_float_normal")

    def __init__(self, device: Any = "cpu") -> None:
        seed = DEFAULT_SEED
        if isinstance(device, (int, np.integer)) and not isinstance(device, bool):
            seed, device = int(device), "cpu"
        _check_cpu(device)
        self._bits = np.random.MT19937()
        self._numpy = np.random.Generator(self._bits)
        self.manual_seed(seed)

    # -- seeding ---------------------------------------------------------------------
    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed`` (an int; negative ones wrap to uint64)."""
        self._seed = _as_seed(seed)
        self._fresh_key = _initial_key(self._seed)
        self._set_words(self._fresh_key, _STATE_WORDS)
        self.next_double_normal: float | None = None
        self.next_float_normal: float | None = None
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed."""
        new_seed = secrets.randbits(64)
        self.manual_seed(new_seed)
        return new_seed

    def initial_seed(self) -> int:
        """The seed the stream was last started from."""
        return self._seed

    @property
    def device(self) -> str:
        return "cpu"

    # -- raw draws -----------------------------------------------------------------------
    def random_uint32(self, count: int) -> np.ndarray:
        """The next ``count`` 32-bit words (PyTorch's ``generator->random()``)."""
        return self._bits.random_raw(count).astype(np.uint32)

    def random_uint64(self, count: int) -> np.ndarray:
        """The next ``count`` 64-bit values, each made of two words, the first one the high
        half (PyTorch's ``generator->random64()``)."""
        words = self._bits.random_raw(2 * count)
        return (words[0::2] << np.uint64(32)) | words[1::2]

    @property
    def numpy(self) -> np.random.Generator:
        """A NumPy generator drawing from this same stream (its draws advance this state;
        their values follow NumPy's algorithms, not PyTorch's)."""
        return self._numpy

    # -- state ----------------------------------------------------------------------------
    def _set_words(self, key: np.ndarray, pos: int) -> None:
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": np.asarray(key, dtype=np.uint32), "pos": pos}}

    def _words(self) -> tuple[np.ndarray, int]:
        state = self._bits.state["state"]
        return state["key"], int(state["pos"])

    def _position(self) -> tuple[np.ndarray, int, int]:
        """(words, left, next) as PyTorch's engine counts them: ``left`` draws until the
        next twist (plus one), ``next`` the index of the next word; right after seeding
        PyTorch reports next=0 where the stream is at 624."""
        key, pos = self._words()
        fresh = pos == _STATE_WORDS and np.array_equal(key, self._fresh_key)
        return key, _STATE_WORDS + 1 - pos, 0 if fresh else pos

    def get_state(self) -> dict[str, Any]:
        """The whole generator state as a JSON-serialisable dict (PyTorch's fields)."""
        key, left, next_index = self._position()
        return {"generator": "mt19937", "seed": self._seed, "left": left, "next": next_index,
                "key": key.tolist(), "next_double_normal": self.next_double_normal,
                "next_float_normal": self.next_float_normal}

    def set_state(self, state: Any) -> "Generator":
        """Continue from a state: a dict from :meth:`get_state`, or PyTorch's 5056-byte
        ``uint8`` state (a tensor, array, bytes or list of ints). Raises ValueError, with
        the generator unchanged, on anything else."""
        fields = _from_dict(state) if isinstance(state, dict) else _from_torch_bytes(state)
        seed, left, next_index, key, next_double, next_float = fields
        _check_position(key, left, next_index)
        self._seed = seed
        self._fresh_key = key.copy() if next_index == 0 else _initial_key(seed)
        self._set_words(key, _STATE_WORDS + 1 - left)
        self.next_double_normal, self.next_float_normal = next_double, next_float
        return self

    def torch_state(self) -> np.ndarray:
        """The state in ``torch.get_rng_state()``'s layout: 5056 bytes, as uint8."""
        key, left, next_index = self._position()
        double_valid = self.next_double_normal is not None
        float_valid = self.next_float_normal is not None
        packed = _TORCH_STATE.pack(
            self._seed, left, 1, next_index, *key.tolist(), 0.0,
            self.next_double_normal if double_valid else 0.0, 0.0, int(double_valid), 0,
            self.next_float_normal if float_valid else 0.0, int(float_valid))
        return np.frombuffer(packed, dtype=np.uint8).copy()

    def __repr__(self) -> str:
        return f"Generator(initial_seed={self._seed})"


def _from_dict(state: dict) -> tuple:
    if state.get("generator") != "mt19937":
        if "bit_generator" in state:
            raise ValueError("Generator.set_state: this state comes from an older abdou_torch "
                             "whose generator was PCG64; it cannot continue PyTorch's mt19937 "
                             "stream (start the run again)")
        raise ValueError("Generator.set_state expects a dict from Generator.get_state() or "
                         "PyTorch's uint8 state")
    try:
        key = np.array(state["key"], dtype=np.int64)
        seed, left, next_index = _as_seed(state["seed"]), int(state["left"]), int(state["next"])
        next_double = _optional_float(state["next_double_normal"])
        next_float = _optional_float(state["next_float_normal"])
    except (KeyError, TypeError, ValueError, OverflowError) as error:
        raise ValueError(f"Generator.set_state: invalid state ({error})") from None
    return seed, left, next_index, key, next_double, next_float


def _from_torch_bytes(state: Any) -> tuple:
    data = getattr(state, "data", state)  # a Tensor's array
    if isinstance(data, (bytes, bytearray)):
        data = np.frombuffer(bytes(data), dtype=np.uint8)
    try:
        raw = np.asarray(data)
    except (TypeError, ValueError):
        raw = np.zeros(0, dtype=object)
    if raw.shape != (TORCH_STATE_BYTES,) or raw.dtype.kind not in "iu" or \
            raw.min() < 0 or raw.max() > 255:
        raise ValueError(f"Generator.set_state expects a dict from Generator.get_state() or "
                         f"PyTorch's state of {TORCH_STATE_BYTES} uint8 values, got "
                         f"{type(state).__name__} of shape {raw.shape} and dtype {raw.dtype}")
    fields = _TORCH_STATE.unpack(raw.astype(np.uint8).tobytes())
    seed, left, seeded, next_index = fields[:4]
    key = np.array(fields[4:4 + _STATE_WORDS], dtype=np.int64)
    _, normal_y, _, normal_valid, _, float_normal, float_valid = fields[4 + _STATE_WORDS:]
    if not seeded:
        raise ValueError("Generator.set_state: invalid mt19937 state (not seeded)")
    return (seed, left, next_index, key, normal_y if normal_valid else None,
            float_normal if float_valid else None)


def _check_position(key: np.ndarray, left: int, next_index: int) -> None:
    """PyTorch's validity check (0 < left <= 624, next <= 624) and one more: ``next`` must
    be where ``left`` puts the stream (only a state just after seeding has next=0)."""
    if key.shape != (_STATE_WORDS,) or key.min() < 0 or key.max() > 0xFFFFFFFF:
        raise ValueError(f"Generator.set_state: the state needs {_STATE_WORDS} 32-bit words")
    if not 0 < left <= _STATE_WORDS or not 0 <= next_index <= _STATE_WORDS:
        raise ValueError(f"Generator.set_state: invalid mt19937 state (left={left}, "
                         f"next={next_index}; PyTorch needs 0 < left <= 624, next <= 624)")
    if next_index != _STATE_WORDS + 1 - left and not (left == 1 and next_index == 0):
        raise ValueError(f"Generator.set_state: mt19937 state with next={next_index} and "
                         f"left={left} does not describe one position in the stream")


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


default_generator = Generator(secrets.randbits(64))


def manual_seed(seed: Any) -> Generator:
    """Seed the default generator (``torch.manual_seed``) and return it. Like PyTorch, it
    takes anything ``int()`` takes exactly (an integral float or a numeric string too).

    The numbers that follow are PyTorch's, bit for bit (``torch.manual_seed(0);
    torch.randn(3)`` prints the same in PyTorch):

    >>> import abdou_torch as torch
    >>> _ = torch.manual_seed(0)
    >>> torch.randn(3)
    tensor([ 1.5410, -0.2934, -2.1788])
    """
    if isinstance(seed, float) and not seed.is_integer():
        raise TypeError(f"manual_seed expects an int, got float {seed!r}")
    if isinstance(seed, (bool, float, str)):
        seed = int(seed)
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Reseed the default generator non-deterministically and return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict[str, Any]:
    """State of the default generator: a JSON-serialisable dict that
    :func:`set_rng_state` takes back (see :meth:`Generator.get_state`)."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Continue the default generator from a state of :func:`get_rng_state` (or PyTorch's
    uint8 state)."""
    default_generator.set_state(new_state)


def resolve(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator on ``generator``'s stream, else on the default one's."""
    return (generator or default_generator).numpy
