"""A character-level GPT on Shakespeare, in one file of PyTorch-style code.

    python examples/char_gpt.py [--steps 300] [--seed 0]

Trains a small GPT (2 blocks, 4 heads, width 64, 32 characters of context) for a few
hundred steps, about a minute on two cores, then writes 300 characters. The same model at
full size is what ``abdou-torch train shakespeare`` trains (``abdou_torch.models.GPT``).
The code is PyTorch's: the first import line is all that differs.
"""
import argparse
import math

import abdou_torch as torch
from abdou_torch import nn
from abdou_torch.data import Shakespeare
from abdou_torch.nn import functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

block_size, batch_size, n_layer, n_head, n_embd = 32, 16, 2, 4, 64
torch.manual_seed(args.seed)

# -- data: the 37 plays, a character vocabulary, the first 90% for training -------------------
train_data = Shakespeare(split="train", block_size=block_size)
val_data = Shakespeare(split="val", block_size=block_size)
vocab = train_data.tokenizer          # encode("ROMEO:") -> ids, decode(ids) -> text
batches = torch.Generator(args.seed)  # random windows: x = text[i:i+T], y = text[i+1:i+T+1]


# -- the model ------------------------------------------------------------------------------
class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)  # queries, keys and values at once
        self.c_proj = nn.Linear(n_embd, n_embd)
        position = torch.arange(block_size)
        self.future = position[None, :] > position[:, None]  # True above the diagonal

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(n_embd, dim=2)
        q, k, v = (t.reshape(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // n_head))  # (B, nh, T, T)
        att = att.masked_fill(self.future[:T, :T], float("-inf"))  # no peeking ahead
        y = F.softmax(att, dim=-1) @ v                                  # (B, nh, T, hs)
        return self.c_proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.attn = nn.LayerNorm(n_embd), CausalSelfAttention()
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))   # tokens talk to each other
        return x + self.mlp(self.ln_2(x))  # each token thinks on its own


class GPT(nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, n_embd)   # what each character is
        self.wpe = nn.Embedding(block_size, n_embd)   # where it is
        self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)

    def forward(self, idx):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        return self.lm_head(self.ln_f(self.blocks(x)))  # (B, T, vocab_size) logits


def loss_of(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


model = GPT(vocab.vocab_size)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, betas=(0.9, 0.99),
                              weight_decay=0.1)

# -- training: warm-up, then a cosine down to a tenth of the peak learning rate ------------------
warmup = 30
for step in range(args.steps):
    progress = max(step - warmup, 0) / max(args.steps - warmup, 1)
    lr = 2e-3 * min((step + 1) / warmup, 0.1 + 0.45 * (1 + math.cos(math.pi * progress)))
    for group in optimizer.param_groups:
        group["lr"] = lr
    x, y = train_data.get_batch(batch_size, batches)
    loss = loss_of(model, x, y)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    if step % 50 == 0 or step == args.steps - 1:
        model.eval()
        with torch.no_grad():
            val_x, val_y = val_data.get_batch(64, torch.Generator(1234))
            val_loss = loss_of(model, val_x, val_y).item()
        model.train()
        print(f"step {step:4d}: train loss {loss.item():.3f}, validation loss {val_loss:.3f}")

# -- sampling: one character at a time, each from softmax(logits / temperature) -------------------
model.eval()
context = torch.tensor([vocab.encode("ROMEO:").tolist()])
with torch.no_grad():
    for _ in range(300):
        logits = model(context[:, -block_size:])[0, -1] / 0.8
        probabilities = torch.softmax(logits, dim=-1)
        next_id = torch.multinomial(probabilities, num_samples=1).reshape(1, 1)
        context = torch.cat([context, next_id], dim=1)
print(vocab.decode(context[0]))
