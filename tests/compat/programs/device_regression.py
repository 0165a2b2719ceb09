"""Device selection as tutorials write it, .to(device), the CUDA-only extras guarded by
torch.cuda.is_available(), and a regression whose weights come from NumPy so that the
losses agree between libraries."""
import numpy as np
import torch
import torch.nn as nn

device = (
    "cuda"
    if torch.cuda.is_available()
    else "mps"
    if torch.backends.mps.is_available()
    else "cpu"
)
print(f"Using {device} device")
if torch.cuda.is_available():
    torch.cuda.manual_seed_all(0)
    torch.backends.cudnn.benchmark = True
    print(torch.cuda.get_device_name(0))
torch.backends.cudnn.deterministic = True
print("cuda devices:", torch.cuda.device_count())

rng = np.random.default_rng(0)
x_np = rng.uniform(-1, 1, size=(200, 3)).astype(np.float32)
true_w = np.array([[1.5], [-2.0], [0.5]], dtype=np.float32)
y_np = x_np @ true_w + 0.3 + 0.05 * rng.standard_normal((200, 1)).astype(np.float32)
x = torch.from_numpy(x_np).to(device)
y = torch.from_numpy(y_np).to(device)

model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).to(device)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, size=tuple(p.shape)).astype(np.float32)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scaler = torch.cuda.amp.GradScaler(enabled=torch.cuda.is_available())
loss_fn = nn.MSELoss()

for step in range(101):
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type=device, enabled=device == "cuda"):
        loss = loss_fn(model(x), y)
    scaler.scale(loss).backward()
    scaler.step(optimizer)
    scaler.update()
    if step % 20 == 0:
        print(f"step {step:3d} loss {loss.item():.6f}")

model.eval()
with torch.no_grad():
    prediction = model(torch.tensor([[0.5, -0.5, 1.0]], device=device)).cpu()
print("prediction", round(prediction.item(), 4))
