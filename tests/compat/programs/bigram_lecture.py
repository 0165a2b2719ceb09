"""Bigram character model, lecture style: counts, then one linear layer trained by hand."""
import torch
import torch.nn.functional as F

from names import NAMES

chars = sorted(set("".join(NAMES)))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi["."] = 0
itos = {i: s for s, i in stoi.items()}
vocab = len(stoi)

# counting bigrams
N = torch.zeros((vocab, vocab), dtype=torch.int32)
for w in NAMES:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        N[stoi[ch1], stoi[ch2]] += 1

P = (N + 1).float()
P /= P.sum(1, keepdims=True)

g = torch.Generator().manual_seed(2147483647)
for _ in range(5):
    out, ix = [], 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        out.append(itos[ix])
        if ix == 0:
            break
    print("count sample:", "".join(out))

log_likelihood, n = 0.0, 0
for w in NAMES:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        log_likelihood += torch.log(P[stoi[ch1], stoi[ch2]])
        n += 1
print(f"count nll={(-log_likelihood / n).item():.4f}")

# the same model as a neural net
xs, ys = [], []
for w in NAMES:
    chs = ["."] + list(w) + ["."]
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs = torch.tensor(xs)
ys = torch.tensor(ys)
num = xs.nelement()
print("number of examples:", num)

g = torch.Generator().manual_seed(2147483647)
W = torch.randn((vocab, vocab), generator=g, requires_grad=True)

for k in range(60):
    xenc = F.one_hot(xs, num_classes=vocab).float()
    logits = xenc @ W
    counts = logits.exp()
    probs = counts / counts.sum(1, keepdims=True)
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W ** 2).mean()
    if k % 10 == 0:
        print(f"step {k} loss {loss.item():.4f}")
    W.grad = None
    loss.backward()
    W.data += -20 * W.grad

with torch.no_grad():
    xenc = F.one_hot(xs, num_classes=vocab).float()
    final = F.cross_entropy(xenc @ W, ys)
print(f"final loss {final.item():.4f}")

g = torch.Generator().manual_seed(2147483647)
for _ in range(3):
    out, ix = [], 0
    while True:
        xenc = F.one_hot(torch.tensor([ix]), num_classes=vocab).float()
        p = F.softmax(xenc @ W, dim=1)
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        out.append(itos[ix])
        if ix == 0:
            break
    print("net sample:", "".join(out))
