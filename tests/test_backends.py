"""``abdou_torch.backends``: the flags programs set keep PyTorch's defaults and names."""
from __future__ import annotations

import pytest

from abdou_torch import backends

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("path", ["cudnn.enabled", "cudnn.benchmark", "cudnn.deterministic",
                                  "cudnn.allow_tf32", "cuda.matmul.allow_tf32",
                                  "cuda.matmul.allow_fp16_reduced_precision_reduction",
                                  "mkldnn.enabled"])
def test_flag_defaults_match_pytorch(path):
    ours, theirs = backends, torch.backends
    for part in path.split("."):
        ours, theirs = getattr(ours, part), getattr(theirs, part)
    assert ours == theirs


@pytest.mark.parametrize("module", ["mps", "cuda"])
def test_gpu_backends_are_not_built(module):
    assert getattr(backends, module).is_built() is False
    if module == "mps":
        assert backends.mps.is_available() is torch.backends.mps.is_available() is False


def test_missing_libraries_say_so():
    assert backends.cudnn.is_available() is False and backends.cudnn.version() is None
    assert backends.mkldnn.is_available() is False  # NumPy kernels, no oneDNN
    assert backends.cpu.get_cpu_capability() == "DEFAULT"


def test_flags_can_be_set():
    try:
        backends.cudnn.benchmark = True
        assert backends.cudnn.benchmark is True
    finally:
        backends.cudnn.benchmark = False
