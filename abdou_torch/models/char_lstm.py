"""A character-level LSTM language model (``abdou-torch train shakespeare --model lstm``).

    e_t    = embedding[idx_t]
    h_t    = LSTM(e_t, h_t-1)            num_layers stacked layers, dropout between them
    logits = head(dropout(h_t))          (B, T, vocab_size)

Windows are read from a zero initial state, as they are trained, so a model trained on
windows of ``block_size`` characters samples from the last ``block_size`` characters.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .. import nn
from ..tensor import Tensor

__all__ = ["CharLSTMConfig", "CharLSTM"]


@dataclass(frozen=True)
class CharLSTMConfig:
    """The shape of a :class:`CharLSTM`."""

    vocab_size: int
    block_size: int = 64
    n_embd: int = 64
    hidden_size: int = 256
    num_layers: int = 2
    dropout: float = 0.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_embd", "hidden_size", "num_layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"CharLSTMConfig: {name} must be a positive integer, got "
                                 f"{value!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"CharLSTMConfig: dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CharLSTM(nn.Module):
    """``CharLSTM(config)(idx)``: next-token logits (B, T, vocab_size) for ids (B, T)."""

    def __init__(self, config: CharLSTMConfig) -> None:
        super().__init__()
        self.config = config
        self.block_size = config.block_size
        self.embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.lstm = nn.LSTM(config.n_embd, config.hidden_size, num_layers=config.num_layers,
                            dropout=config.dropout if config.num_layers > 1 else 0.0,
                            batch_first=True)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, idx: Tensor) -> Tensor:
        if idx.ndim != 2:
            raise ValueError(f"CharLSTM: expected token ids of shape (batch, time), got shape "
                             f"{tuple(idx.shape)}")
        outputs, _ = self.lstm(self.embedding(idx))
        return self.head(self.dropout(outputs))
