"""``torch.backends.cuda``: no CUDA here; the matmul precision flags keep PyTorch's defaults."""
from __future__ import annotations

__all__ = ["is_built", "matmul"]


class _MatmulFlags:
    """``torch.backends.cuda.matmul.allow_tf32 = True`` and friends: stored, no effect."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    def __repr__(self) -> str:
        return f"<torch.backends.cuda.matmul allow_tf32={self.allow_tf32}>"


matmul = _MatmulFlags()


def is_built() -> bool:
    return False
