"""Character-level text data: a character vocabulary and random windows for language models.

A language model reads ``block_size`` characters ``x = ids[i : i + block_size]`` and learns
to predict each next one, ``y = ids[i + 1 : i + 1 + block_size]``: the same window shifted by
one. :class:`CharWindows` is the map-style dataset of all such windows of a token array, and
:meth:`CharWindows.get_batch` draws a batch of them at random offsets (nanoGPT's
``get_batch``), which is how a character model is usually trained: a corpus of millions of
characters has millions of overlapping windows, far more than one run visits.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from abdou_torch import random as _random
from abdou_torch.data.dataset import Dataset
from abdou_torch.tensor import Tensor

__all__ = ["CharTokenizer", "CharWindows"]


class CharTokenizer:
    """Characters to integer ids and back: id ``i`` is the character ``chars[i]``.

    ``CharTokenizer.from_text(text)`` uses the sorted set of characters in ``text``, as
    nanoGPT's character model does. ``encode`` refuses characters outside the vocabulary
    with a ``ValueError`` that names them and where the first one is.
    """

    def __init__(self, chars: str | Iterable[str]) -> None:
        chars = "".join(chars)
        if not chars:
            raise ValueError("CharTokenizer: the vocabulary is empty")
        if len(set(chars)) != len(chars):
            repeated = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"CharTokenizer: characters appear twice in the vocabulary: "
                             f"{''.join(repeated)!r}")
        self.chars = chars
        self._codes = np.array([ord(c) for c in chars], dtype=np.uint32)
        self._order = np.argsort(self._codes, kind="stable")
        self._sorted_codes = self._codes[self._order]

    @classmethod
    def from_text(cls, text: str) -> "CharTokenizer":
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        return len(self.chars)

    @property
    def stoi(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    @property
    def itos(self) -> dict[int, str]:
        return dict(enumerate(self.chars))

    def encode(self, text: str) -> np.ndarray:
        """The ids of ``text``'s characters, an int64 array of ``len(text)``."""
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        slots = np.minimum(np.searchsorted(self._sorted_codes, codes), len(self.chars) - 1)
        known = self._sorted_codes[slots] == codes
        if not known.all():
            self._raise_unknown(text, known)
        return self._order[slots].astype(np.int64)

    def _raise_unknown(self, text: str, known: np.ndarray) -> None:
        first = int(np.flatnonzero(~known)[0])
        unknown = list(dict.fromkeys(text[i] for i in np.flatnonzero(~known)))  # in text order
        shown = ", ".join(repr(c) for c in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        raise ValueError(f"{len(unknown)} character(s) not in the vocabulary of "
                         f"{self.vocab_size}: {shown} (first at position {first})")

    def decode(self, ids: Any) -> str:
        """The text of a sequence of ids (ints, an array or a Tensor)."""
        ids = np.asarray(ids.numpy() if isinstance(ids, Tensor) else ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            bad = ids[(ids < 0) | (ids >= self.vocab_size)][0]
            raise ValueError(f"decode: id {int(bad)} is outside the vocabulary "
                             f"(0..{self.vocab_size - 1})")
        return "".join(self.chars[i] for i in ids.tolist())

    def __len__(self) -> int:
        return self.vocab_size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and other.chars == self.chars

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"


def _smallest_id_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint8 if vocab_size <= 256 else np.uint16 if vocab_size <= 65536
                    else np.int64)


class CharWindows(Dataset[tuple[Tensor, Tensor]]):
    """All windows of ``block_size`` tokens of ``ids``, paired with the next tokens.

    ``dataset[i]`` is ``(x, y)`` with ``x = ids[i : i + block_size]`` and
    ``y = ids[i + 1 : i + block_size + 1]``, int64 tensors; there are
    ``len(ids) - block_size`` windows.
    """

    def __init__(self, ids: Sequence[int] | np.ndarray, block_size: int,
                 vocab_size: int | None = None) -> None:
        ids = np.asarray(ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"CharWindows: ids must be a 1-D integer array, got "
                             f"{ids.dtype} of shape {ids.shape}")
        if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) \
                or block_size <= 0:
            raise ValueError(f"CharWindows: block_size must be a positive integer, got "
                             f"{block_size!r}")
        if len(ids) <= block_size:
            raise ValueError(f"CharWindows: {len(ids)} tokens hold no window of "
                             f"block_size {block_size} plus its next token")
        vocab_size = int(ids.max()) + 1 if vocab_size is None else vocab_size
        self.ids = ids.astype(_smallest_id_dtype(vocab_size), copy=False)
        self.block_size = int(block_size)

    def __len__(self) -> int:
        return len(self.ids) - self.block_size

    def _windows(self, offsets: np.ndarray) -> tuple[Tensor, Tensor]:
        span = offsets[:, None] + np.arange(self.block_size + 1)
        tokens = self.ids[span].astype(np.int64)
        return Tensor(tokens[:, :-1]), Tensor(tokens[:, 1:])

    def _check_offsets(self, offsets: np.ndarray) -> np.ndarray:
        length = len(self)
        if offsets.size and (offsets.min() < -length or offsets.max() >= length):
            bad = offsets[(offsets < -length) | (offsets >= length)][0]
            raise IndexError(f"window index {int(bad)} is out of range for {length} windows")
        return offsets % length

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        x, y = self._windows(self._check_offsets(np.array([int(index)])))
        return x[0], y[0]

    def __getitems__(self, indices: Any) -> tuple[Tensor, Tensor]:
        """A batch ``(x, y)`` of shape (len(indices), block_size) each."""
        return self._windows(self._check_offsets(np.asarray(indices, dtype=np.int64)))

    def get_batch(self, batch_size: int,
                  generator: _random.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``batch_size`` windows at offsets drawn uniformly from ``generator`` (the default
        generator when None): ``(x, y)``, int64 tensors of shape (batch_size, block_size)."""
        from abdou_torch.factories import randint
        offsets = randint(0, len(self), (batch_size,), generator=generator).numpy()
        return self._windows(offsets)
