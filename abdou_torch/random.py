"""Random number generation: seedable generators with a state that checkpoints can save.

A :class:`Generator` wraps NumPy's PCG64 bit generator. ``manual_seed`` seeds the default
generator that factories (``rand``, ``randn``), initialisers and dropout draw from when no
generator is passed, as ``torch.manual_seed`` does.
"""
from __future__ import annotations

import secrets
from typing import Any

import numpy as np

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state"]


class Generator:
    """A seedable source of random numbers (PyTorch's ``torch.Generator``).

    ``get_state()`` returns a JSON-serialisable dict, so a training checkpoint can store it
    in plain metadata and ``set_state()`` continues the exact same stream.
    """

    __slots__ = ("_initial_seed", "_rng")

    def __init__(self, seed: int | None = None) -> None:
        self._initial_seed = 0
        self._rng = np.random.Generator(np.random.PCG64(0))
        self.manual_seed(secrets.randbits(63) if seed is None else seed)

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from ``seed`` (an int); returns the generator itself."""
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"manual_seed expects an int, got {type(seed).__name__}")
        self._initial_seed = int(seed)
        self._rng = np.random.Generator(np.random.PCG64(int(seed) & ((1 << 128) - 1)))
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy and return the new seed."""
        new_seed = secrets.randbits(63)
        self.manual_seed(new_seed)
        return new_seed

    def initial_seed(self) -> int:
        return self._initial_seed

    def get_state(self) -> dict[str, Any]:
        """The full stream position as a JSON-serialisable dict."""
        return {"initial_seed": self._initial_seed,
                "bit_generator": self._rng.bit_generator.state}

    def set_state(self, state: dict[str, Any]) -> "Generator":
        """Continue from a state returned by :meth:`get_state`."""
        if not isinstance(state, dict) or "bit_generator" not in state:
            raise ValueError("Generator.set_state expects a dict from Generator.get_state()")
        bit_generator = np.random.PCG64()
        try:
            bit_generator.state = state["bit_generator"]
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"Generator.set_state: invalid generator state ({error})") from None
        self._rng = np.random.Generator(bit_generator)
        self._initial_seed = int(state.get("initial_seed", 0))
        return self

    @property
    def numpy(self) -> np.random.Generator:
        """The underlying NumPy generator, for code that draws arrays directly."""
        return self._rng

    def __repr__(self) -> str:
        return f"Generator(initial_seed={self._initial_seed})"


default_generator = Generator(0)


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (``torch.manual_seed``); returns it."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Reseed the default generator non-deterministically and return the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict[str, Any]:
    """State of the default generator (a JSON-serialisable dict)."""
    return default_generator.get_state()


def set_rng_state(state: dict[str, Any]) -> None:
    default_generator.set_state(state)


def resolve(generator: Generator | None) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, else the default one's."""
    return (generator or default_generator).numpy
