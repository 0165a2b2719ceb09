"""``abdou_torch.cuda`` answers as PyTorch's CPU-only build does (checked against it here:
the test machines have no GPU, so the installed PyTorch answers as a CPU-only build)."""
from __future__ import annotations

import pytest

import abdou_torch
from abdou_torch import cuda

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="compares with no-GPU PyTorch")

VALUES = ["is_available", "device_count", "is_initialized", "is_bf16_supported",
          "memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
          "empty_cache", "seed", "seed_all"]
RAISING = ["current_device", "synchronize", "get_device_name", "init", "get_device_capability"]


@pytest.mark.parametrize("name", VALUES)
def test_queries_answer_as_pytorch(name):
    assert getattr(cuda, name)() == getattr(torch.cuda, name)()


@pytest.mark.parametrize("name", RAISING)
def test_device_calls_raise_as_pytorch(name):
    with pytest.raises(AssertionError) as theirs:
        getattr(torch.cuda, name)()
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled") as ours:
        getattr(cuda, name)()
    assert type(ours.value) is type(theirs.value)
    assert f"torch.cuda.{name}" in str(ours.value)


def test_seeding_is_a_silent_no_op_that_checks_the_seed():
    before = abdou_torch.random.get_rng_state()
    assert cuda.manual_seed(3) is torch.cuda.manual_seed(3) is None
    assert cuda.manual_seed_all(3) is torch.cuda.manual_seed_all(3) is None
    assert abdou_torch.random.get_rng_state() == before  # the CPU stream is not touched
    for library in (cuda, torch.cuda):
        with pytest.raises((TypeError, ValueError)):
            library.manual_seed("not a number")


def test_device_context_needs_a_gpu():
    with pytest.raises(AssertionError):
        with cuda.device(0):
            pass
    with cuda.device(None):  # PyTorch: device(None) and device(-1) select nothing
        pass


def test_reachable_as_attribute_of_the_package():
    assert abdou_torch.cuda is cuda and abdou_torch.cuda.amp.GradScaler is cuda.amp.GradScaler
