"""Logging a training run to TensorBoard with SummaryWriter (scalars, a text note)."""
import sys

import numpy as np
import torch
import torch.nn as nn
from torch.utils.tensorboard import SummaryWriter

log_dir = sys.argv[1] if len(sys.argv) > 1 else "runs/regression"
writer = SummaryWriter(log_dir=log_dir)

rng = np.random.default_rng(0)
x = torch.from_numpy(rng.uniform(-1, 1, size=(64, 2)).astype(np.float32))
y = x.sum(dim=1, keepdim=True) * 2.0
model = nn.Linear(2, 1)
with torch.no_grad():
    model.weight.zero_()
    model.bias.zero_()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(20):
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    writer.add_scalar("Loss/train", loss.item(), step)
    writer.add_scalar("weight/0", model.weight[0, 0].item(), global_step=step)
    if step % 5 == 0:
        print(f"step {step} loss {loss.item():.6f}")
writer.add_text("notes", "linear regression on synthetic data", 0)
writer.flush()
writer.close()
print(f"final loss {loss.item():.6f}")
