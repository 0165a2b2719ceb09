"""A small GPT: a decoder-only Transformer over characters (``abdou-torch train shakespeare``).

    x_0    = wte[idx] + wpe[0..T-1]                       token + position embeddings
    x_l+1  = x_l + attn(ln_1(x_l));  x_l+1 += mlp(ln_2(x_l+1))    pre-norm blocks, l < n_layer
    logits = lm_head(ln_f(x_L))                            (B, T, vocab_size)

``attn`` is causal multi-head self-attention: position t attends to positions <= t only.
``mlp`` is Linear(C, 4C) - GELU - Linear(4C, C) with GPT-2's tanh form of GELU, which is
also several times cheaper here than the exact erf form. The head is untied from ``wte``:
for 83 characters it is a small matrix, and untied weights keep the state dict free of
shared tensors. Names follow nanoGPT (``transformer.h.0.attn.c_attn.weight`` ...), so the
same model written in PyTorch loads these weights by name.

Initialisation follows GPT-2: every Linear and Embedding weight from N(0, 0.02), biases zero,
and the projections back into the residual stream (``c_proj``) from N(0, 0.02 / sqrt(2 L)),
so the residual stream's variance does not grow with depth.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


from .. import nn
from ..factories import arange
from ..nn import functional as F
from ..nn import init
from ..tensor import Tensor

__all__ = ["GPTConfig", "GPT", "CausalSelfAttention", "Block"]


@dataclass(frozen=True)
class GPTConfig:
    """The shape of a :class:`GPT`: ``n_embd`` must be a multiple of ``n_head``."""

    vocab_size: int
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"GPTConfig: {name} must be a positive integer, got {value!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd {self.n_embd} is not a multiple of n_head "
                             f"{self.n_head}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions 0..t.

    q, k, v = split(x W_attn^T + b_attn) into n_head heads of size d = C / n_head;
    y_h = softmax(q_h k_h^T / sqrt(d) + M) v_h with M = -inf above the diagonal
    (``F.scaled_dot_product_attention(q, k, v, is_causal=True)``, one fused node);
    output = concat_h(y_h) W_proj^T + b_proj.
    """

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = config.dropout
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        batch, time, channels = x.shape
        head_size = channels // self.n_head
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        # (B, T, C) -> (B, n_head, T, head_size)
        q, k, v = (t.reshape(batch, time, self.n_head, head_size).transpose(1, 2)
                   for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        y = y.transpose(1, 2).reshape(batch, time, channels)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    """Linear(C, 4C) - GELU (tanh form) - Linear(4C, C) - Dropout."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """x + attn(ln_1(x)), then + mlp(ln_2(.)): a pre-norm Transformer block."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """``GPT(config)(idx)``: next-token logits (B, T, vocab_size) for token ids (B, T),
    T <= block_size. See the module docstring for the architecture."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.block_size = config.block_size
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self._init_weights()

    def _init_weights(self) -> None:
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, module in self.named_modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                std = residual_std if name.endswith("c_proj") else 0.02
                init.normal_(module.weight, mean=0.0, std=std)
            if isinstance(module, nn.Linear) and module.bias is not None:
                init.zeros_(module.bias)

    def forward(self, idx: Tensor) -> Tensor:
        if idx.ndim != 2:
            raise ValueError(f"GPT: expected token ids of shape (batch, time), got shape "
                             f"{tuple(idx.shape)}")
        time = idx.shape[1]
        if time > self.block_size:
            raise ValueError(f"GPT: a sequence of {time} tokens is longer than the block size "
                             f"{self.block_size}")
        blocks = self.transformer
        x = blocks.drop(blocks.wte(idx) + blocks.wpe(arange(time)))
        for block in blocks.h:
            x = block(x)
        return self.lm_head(blocks.ln_f(x))
