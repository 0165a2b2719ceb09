"""The float32 normal sampler's math against PyTorch, input by input.

``randn`` on 16 or more float32 elements computes ``radius = sqrt(-2 log(1 - x))`` and
``(cos, sin)(2 pi y)`` from 24-bit uniforms x and y, so each function has exactly 2^24
possible inputs. To reach any input we hand PyTorch a generator state whose next words,
once tempered, are the uniforms we want (mt19937's tempering is invertible, and a state
with ``next = 1`` emits its words 1..623 before twisting):

- radius: y = 0 in every pair, so PyTorch's first output of the pair is the radius itself;
- cos and sin: x fixed where the radius is a power of two, so the outputs are exactly
  radius * cos and radius * sin.

By default a spread sample of the 2^24 inputs is checked; ``ABDOU_TORCH_EXHAUSTIVE=1``
checks all of them (about a minute).
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from abdou_torch import sampling
from abdou_torch.avx_mathfun import log_ps
from abdou_torch.random import TORCH_STATE_BYTES, Generator

_WORDS_PER_CALL = 608  # 38 blocks of 16 uniforms, within the 623 words a state emits
_STEP = 1 if os.environ.get("ABDOU_TORCH_EXHAUSTIVE") == "1" else 251


def _untemper(outputs: np.ndarray) -> np.ndarray:
    """The state words that mt19937's tempering turns into ``outputs``."""
    y = outputs.astype(np.uint32)
    y ^= y >> np.uint32(18)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    original = y.copy()
    for _ in range(4):  # y ^= (y << 7) & mask, undone 7 bits at a time
        y = original ^ ((y << np.uint32(7)) & np.uint32(0x9D2C5680))
    original = y.copy()
    return original ^ (original >> np.uint32(11)) ^ (original >> np.uint32(22))


def _torch_normals(uniform_words: np.ndarray) -> np.ndarray:
    """PyTorch's randn on states that emit ``uniform_words`` (a multiple of 608)."""
    template = Generator().manual_seed(0)
    template.random_uint32(1)  # next = 1, left = 624: words 1..623 come untwisted
    header = template.torch_state()
    keys = _untemper(uniform_words).reshape(-1, _WORDS_PER_CALL)
    generator = torch.Generator()
    outputs = []
    state = header.copy()
    key_view = state[24:24 + 624 * 8].view(np.uint64)
    for chunk in keys:
        key_view[1:1 + _WORDS_PER_CALL] = chunk
        generator.set_state(torch.from_numpy(state))
        outputs.append(torch.randn(_WORDS_PER_CALL, generator=generator).numpy())
    assert state.size == TORCH_STATE_BYTES
    return np.concatenate(outputs).reshape(-1, 16)


def _blocks(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Words for blocks of 16 whose uniforms are first[i] (lanes 0-7) and second[i]
    (lanes 8-15), padded to whole calls."""
    lanes = -(-first.size // 8) * 8
    calls = -(-lanes * 2 // _WORDS_PER_CALL)
    padded = calls * _WORDS_PER_CALL // 2
    first = np.resize(first, padded)
    second = np.resize(second, padded)
    return np.concatenate([first.reshape(-1, 8), second.reshape(-1, 8)], axis=1).ravel()


def _uniform(codes: np.ndarray) -> np.ndarray:
    return (codes & np.uint32(0xFFFFFF)).astype(np.float32) * np.float32(2.0 ** -24)


def test_untemper_inverts_the_generator_output():
    generator = Generator().manual_seed(3)
    generator.random_uint32(1)  # the twist, then word 0
    key = np.array(generator.get_state()["key"], dtype=np.uint32)
    assert np.array_equal(_untemper(generator.random_uint32(623)), key[1:])


def _assert_blocks_match(words: np.ndarray, count: int) -> None:
    """Our normal_fill_16 on the blocks these words make equals PyTorch's."""
    theirs = _torch_normals(words)[:count]
    ours = sampling._box_muller_avx2(_uniform(words).reshape(-1, 16), 0.0, 1.0)[:count]
    mismatched = np.flatnonzero((ours.view(np.int32) != theirs.view(np.int32)).any(axis=1))
    assert mismatched.size == 0, f"{mismatched.size} blocks differ, first {mismatched[:5]}"


def test_radius_matches_torch_for_the_24_bit_inputs():
    codes = np.arange(0, 1 << 24, _STEP, dtype=np.uint32)
    _assert_blocks_match(_blocks(codes, np.zeros_like(codes)), -(-codes.size // 8))


def _power_of_two_radius_code() -> int:
    """A 24-bit uniform x whose radius sqrt(-2 log(1 - x)) is exactly 1, 2 or 4 (searched
    near 1 - exp(-r^2 / 2))."""
    for radius in (1.0, 2.0, 4.0):
        center = int((1 - np.exp(-radius ** 2 / 2)) * (1 << 24))
        codes = np.arange(center - 4096, center + 4096, dtype=np.uint32)
        radii = np.sqrt(np.float32(-2.0) * log_ps(np.float32(1.0) - _uniform(codes)))
        exact = np.flatnonzero(radii == np.float32(radius))
        if exact.size:
            return int(codes[exact[0]])
    raise AssertionError("no 24-bit input gives a radius of 1, 2 or 4")


def test_sine_and_cosine_match_torch_for_the_24_bit_inputs():
    """With a radius that is a power of two, radius * cos and radius * sin are exact: the
    outputs show cos and sin themselves."""
    fixed = _power_of_two_radius_code()
    codes = np.arange(0, 1 << 24, _STEP, dtype=np.uint32)
    _assert_blocks_match(_blocks(np.full_like(codes, fixed), codes), -(-codes.size // 8))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_many_blocks_in_a_row(seed):
    ours = Generator().manual_seed(seed)
    theirs = torch.Generator().manual_seed(seed)
    np.testing.assert_array_equal(
        sampling.normal(ours, 16 * 20000, np.float32).view(np.int32),
        torch.randn(16 * 20000, generator=theirs).numpy().view(np.int32))
