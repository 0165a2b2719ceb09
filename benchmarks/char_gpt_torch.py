"""The ``abdou-torch train shakespeare`` recipe in PyTorch: the reference its validation loss
is compared with.

Same data and split (``abdou_torch.data.Shakespeare``), same batches (windows drawn from
``abdou_torch.random.Generator(seed)``, as the recipe draws them), same model (nanoGPT's
layout and names, GPT-2 initialisation, GELU in tanh form, untied head), same optimiser
(AdamW, decay on matrices and embeddings only), same schedule (``lr_at``), same gradient
clipping and the same fixed validation windows. Only the initial weights differ: each
library draws them from its own generator.

    python -m benchmarks.char_gpt_torch [--seeds 0 1 2] [--steps N] [--threads 1]

Prints one line per seed (validation loss, training time, ms per step) and a JSON summary;
the abdou_torch side of the comparison is ``abdou-torch train shakespeare --seed S``.
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np


def build_model(config: dict):
    """nanoGPT's GPT in PyTorch, with the names of ``abdou_torch.models.GPT``."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class CausalSelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_attn = nn.Linear(config["n_embd"], 3 * config["n_embd"])
            self.c_proj = nn.Linear(config["n_embd"], config["n_embd"])
            self.attn_dropout = nn.Dropout(config["dropout"])
            self.resid_dropout = nn.Dropout(config["dropout"])
            size = config["block_size"]
            self.register_buffer("future", torch.triu(torch.ones(size, size, dtype=torch.bool),
                                                      1), persistent=False)

        def forward(self, x):
            batch, time_, channels = x.shape
            heads = config["n_head"]
            q, k, v = self.c_attn(x).split(config["n_embd"], dim=2)
            q, k, v = (t.view(batch, time_, heads, channels // heads).transpose(1, 2)
                       for t in (q, k, v))
            scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(channels // heads))
            scores = scores.masked_fill(self.future[:time_, :time_], float("-inf"))
            weights = self.attn_dropout(F.softmax(scores, dim=-1))
            y = (weights @ v).transpose(1, 2).reshape(batch, time_, channels)
            return self.resid_dropout(self.c_proj(y))

    class MLP(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_fc = nn.Linear(config["n_embd"], 4 * config["n_embd"])
            self.gelu = nn.GELU(approximate="tanh")
            self.c_proj = nn.Linear(4 * config["n_embd"], config["n_embd"])
            self.dropout = nn.Dropout(config["dropout"])

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(config["n_embd"])
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(config["n_embd"])
            self.mlp = MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(config["vocab_size"], config["n_embd"]),
                wpe=nn.Embedding(config["block_size"], config["n_embd"]),
                drop=nn.Dropout(config["dropout"]),
                h=nn.ModuleList([Block() for _ in range(config["n_layer"])]),
                ln_f=nn.LayerNorm(config["n_embd"])))
            self.lm_head = nn.Linear(config["n_embd"], config["vocab_size"], bias=False)
            residual_std = 0.02 / math.sqrt(2 * config["n_layer"])
            for name, module in self.named_modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    std = residual_std if name.endswith("c_proj") else 0.02
                    nn.init.normal_(module.weight, mean=0.0, std=std)
                if isinstance(module, nn.Linear) and module.bias is not None:
                    nn.init.zeros_(module.bias)

        def forward(self, idx):
            blocks = self.transformer
            positions = torch.arange(idx.shape[1])
            x = blocks.drop(blocks.wte(idx) + blocks.wpe(positions))
            for block in blocks.h:
                x = block(x)
            return self.lm_head(blocks.ln_f(x))

    return GPT()


def train(seed: int, recipe, train_data, val_data) -> dict:
    """One PyTorch run of the recipe; returns its validation losses and times."""
    import torch
    from torch.nn import functional as F
    from abdou_torch import random as at_random
    from abdou_torch.training.language_model import evaluation_windows, lr_at

    torch.manual_seed(seed)
    model = build_model(recipe.model_config(train_data.vocab_size))
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.ndim >= 2],
               "weight_decay": recipe.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=recipe.lr, betas=(recipe.beta1, recipe.beta2))
    batches = at_random.Generator(seed)
    eval_x, eval_y = (torch.from_numpy(t.numpy()) for t in evaluation_windows(
        val_data, recipe.eval_windows))

    def loss_of(x, y):
        logits = model(x)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    def evaluate() -> float:
        model.eval()
        with torch.no_grad():
            total = sum(loss_of(eval_x[s:s + 128], eval_y[s:s + 128]).item()
                        * len(eval_x[s:s + 128]) for s in range(0, len(eval_x), 128))
        model.train()
        return total / len(eval_x)

    history, started, cpu_started = [], time.perf_counter(), time.process_time()
    eval_seconds = 0.0
    for step in range(recipe.steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, recipe)
        x, y = (torch.from_numpy(t.numpy()) for t in train_data.get_batch(recipe.batch_size,
                                                                          batches))
        loss = loss_of(x, y)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
        optimizer.step()
        if (step + 1) % recipe.eval_every == 0 or step + 1 == recipe.steps:
            eval_started = time.perf_counter()
            history.append((step + 1, evaluate()))
            eval_seconds += time.perf_counter() - eval_started
            print(f"  seed {seed} step {step + 1}: validation loss {history[-1][1]:.4f} "
                  f"({time.perf_counter() - started:.0f} s)", flush=True)
    seconds = time.perf_counter() - started
    return {"seed": seed, "val_loss": history[-1][1], "history": history,
            "seconds": round(seconds, 1),
            "cpu_seconds": round(time.process_time() - cpu_started, 1),
            "ms_per_step": round(1000 * (seconds - eval_seconds) / recipe.steps, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, help="default: the recipe's")
    parser.add_argument("--batch-size", type=int, help="default: the recipe's")
    parser.add_argument("--lr", type=float, help="default: the recipe's")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch intra-op threads")
    args = parser.parse_args()
    import torch
    from abdou_torch.data import Shakespeare
    from abdou_torch.training.language_model import RECIPES

    torch.set_num_threads(args.threads)
    recipe = RECIPES["gpt"].with_overrides(steps=args.steps, batch_size=args.batch_size,
                                           lr=args.lr)
    train_data = Shakespeare(split="train", block_size=recipe.block_size)
    val_data = Shakespeare(split="val", block_size=recipe.block_size)
    results = []
    for seed in args.seeds:
        result = train(seed, recipe, train_data, val_data)
        results.append(result)
        print(f"pytorch seed {seed}: validation loss {result['val_loss']:.4f} after "
              f"{recipe.steps} steps, {result['seconds']} s ({result['cpu_seconds']} s of CPU, "
              f"{result['ms_per_step']} ms per training step)", flush=True)
    losses = np.array([r["val_loss"] for r in results])
    print(json.dumps({"recipe": recipe.__dict__, "results": results,
                      "mean_val_loss": round(float(losses.mean()), 4)}))


if __name__ == "__main__":
    main()
