"""Sequence-model training steps, abdou_torch against PyTorch eager on the CPU: the same
model written twice with each library's own layers, weights copied by name from
abdou_torch to PyTorch, the same batches, AdamW, loss = mean cross-entropy of the next
character. One call of a step function is one training step.

(h) ``lstm``: a character-level LSTM language model as in char-rnn: Embedding(65, 64),
    LSTM(64, 256, num_layers=2, batch_first=True), Linear(256, 65); batch 32 sequences of
    64 characters (about 0.88M parameters).
(i) ``gpt``: a small GPT as in nanoGPT: token and position embeddings (width 128),
    4 pre-norm blocks (LayerNorm, causal self-attention with 4 heads through
    ``scaled_dot_product_attention``, LayerNorm, MLP 128-512-128 with GELU), a final
    LayerNorm and a linear head to 65 characters; context 64, batch 12, dropout 0
    (about 0.82M parameters).

    python -m benchmarks.seq_models lstm|gpt [--repeats 20] [--threads 2] [--cpu-time]
                                             [--interleaved] [--profile]

``--cpu-time`` times the process's CPU time instead of the wall clock: on a machine that
other jobs keep busy, it still measures the work each library does (at one thread).
``--interleaved`` alternates the two libraries' steps (one of each per round) instead of
timing all of one then all of the other, so that a change in the machine's load during the
run falls on both. ``--profile`` prints where abdou_torch's step spends its time
(pyinstrument).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

VOCAB = 65
LSTM_CONFIG = dict(embedding=64, hidden=256, layers=2, batch=32, length=64)
GPT_CONFIG = dict(width=128, heads=4, layers=4, batch=12, context=64)


# -- the models, written once per library ---------------------------------------------------

def lstm_model(nn, config=LSTM_CONFIG):
    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, config["embedding"])
            self.lstm = nn.LSTM(config["embedding"], config["hidden"], config["layers"],
                                batch_first=True)
            self.head = nn.Linear(config["hidden"], VOCAB)

        def forward(self, tokens):
            output, _ = self.lstm(self.embedding(tokens))
            return self.head(output)

    return CharLSTM()


def gpt_model(nn, F, config=GPT_CONFIG):
    width, heads = config["width"], config["heads"]

    class CausalSelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)

        def forward(self, x):
            batch, length, _ = x.shape
            q, k, v = self.qkv(x).split(width, dim=2)
            q, k, v = (t.reshape(batch, length, heads, width // heads).transpose(1, 2)
                       for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(batch, length, width))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.attn = nn.LayerNorm(width), CausalSelfAttention()
            self.ln2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(),
                                     nn.Linear(4 * width, width))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.token = nn.Embedding(VOCAB, width)
            self.position = nn.Embedding(config["context"], width)
            self.blocks = nn.Sequential(*[Block() for _ in range(config["layers"])])
            self.ln_f = nn.LayerNorm(width)
            self.head = nn.Linear(width, VOCAB)

        def forward(self, tokens, positions):
            x = self.token(tokens) + self.position(positions)
            return self.head(self.ln_f(self.blocks(x)))

    return GPT()


# -- steps -------------------------------------------------------------------------------------

def _copy_weights(ours, theirs) -> None:
    import torch
    with torch.no_grad():
        targets = theirs.state_dict()
        for name, value in ours.state_dict().items():
            targets[name].copy_(torch.from_numpy(np.array(value.data)))


def _batches(batch: int, length: int, seed: int, count: int = 4) -> np.ndarray:
    """``count`` batches of ``length + 1`` tokens (inputs and next-character targets)."""
    return np.random.default_rng(seed).integers(0, VOCAB, (count, batch, length + 1))


def build(kind: str, seed: int = 0, compiled: bool = False):
    """(ours_step, theirs_step) for ``kind`` 'lstm' or 'gpt'; ``compiled``: ours through
    ``abdou_torch.compile``."""
    import torch

    import abdou_torch as at
    from abdou_torch import nn
    from abdou_torch.nn import functional as F

    at.manual_seed(seed)
    if kind == "lstm":
        ours, theirs = lstm_model(nn), lstm_model(torch.nn)
        batch, length = LSTM_CONFIG["batch"], LSTM_CONFIG["length"]
    else:
        ours, theirs = gpt_model(nn, F), gpt_model(torch.nn, torch.nn.functional)
        batch, length = GPT_CONFIG["batch"], GPT_CONFIG["context"]
    _copy_weights(ours, theirs)
    data = _batches(batch, length, seed)
    positions = np.arange(length)
    ours_opt = at.optim.AdamW(ours.parameters(), lr=1e-3, weight_decay=1e-2)
    theirs_opt = torch.optim.AdamW(theirs.parameters(), lr=1e-3, weight_decay=1e-2,
                                   foreach=False)
    counter = {"ours": 0, "theirs": 0}

    def logits_of(model, tokens, position_tensor):
        return model(tokens) if kind == "lstm" else model(tokens, position_tensor)

    def ours_update(tokens, targets, position_tensor):
        logits = logits_of(ours, tokens, position_tensor)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
        ours_opt.zero_grad()
        loss.backward()
        ours_opt.step()
        return loss

    update = at.compile(ours_update) if compiled else ours_update

    def ours_step() -> float:
        i = counter["ours"] = (counter["ours"] + 1) % len(data)
        tokens, targets = at.tensor(data[i, :, :-1]), at.tensor(data[i, :, 1:])
        return float(update(tokens, targets, at.tensor(positions)).item())

    torch_data, torch_positions = torch.from_numpy(data), torch.from_numpy(positions)

    def theirs_step() -> float:
        i = counter["theirs"] = (counter["theirs"] + 1) % len(data)
        tokens, targets = torch_data[i, :, :-1], torch_data[i, :, 1:]
        logits = logits_of(theirs, tokens, torch_positions)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB),
                                                 targets.reshape(-1))
        theirs_opt.zero_grad()
        loss.backward()
        theirs_opt.step()
        return float(loss.item())

    return ours_step, theirs_step


def time_steps(step, warmup: int = 3, steps: int = 20, clock=time.perf_counter) -> list[float]:
    """Seconds per step of ``steps`` steps after ``warmup`` untimed ones."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        started = clock()
        step()
        times.append(clock() - started)
    return times


def time_interleaved(steps: list, warmup: int = 3, rounds: int = 20,
                     clock=time.perf_counter) -> list[list[float]]:
    """Seconds per step of each step function, one call of each per round, in turn."""
    for _ in range(warmup):
        for step in steps:
            step()
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(rounds):
        for step, collected in zip(steps, times):
            started = clock()
            step()
            collected.append(clock() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["lstm", "gpt"])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cpu-time", action="store_true")
    parser.add_argument("--interleaved", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    import torch
    torch.set_num_threads(args.threads)
    ours_step, theirs_step = build(args.kind)
    first = ours_step(), theirs_step()
    print(f"first-step losses: abdou_torch {first[0]:.6f}, pytorch {first[1]:.6f}")
    if args.interleaved:
        ours_times, theirs_times = time_interleaved([ours_step, theirs_step],
                                                    rounds=args.repeats, clock=clock)
    else:
        ours_times = time_steps(ours_step, steps=args.repeats, clock=clock)
        theirs_times = time_steps(theirs_step, steps=args.repeats, clock=clock)
    ours_ms, theirs_ms = (1e3 * statistics.median(t) for t in (ours_times, theirs_times))
    print(f"{args.kind} training step, {args.threads} threads, median of {args.repeats} "
          f"({'CPU' if args.cpu_time else 'wall'} time"
          f"{', interleaved' if args.interleaved else ''}):")
    print(f"  abdou_torch {ours_ms:8.2f} ms")
    print(f"  pytorch     {theirs_ms:8.2f} ms")
    print(f"  ratio       {ours_ms / theirs_ms:8.2f}x")
    if args.profile:
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.0005)
        profiler.start()
        for _ in range(10):
            ours_step()
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
