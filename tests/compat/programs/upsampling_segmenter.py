"""A tiny encoder-decoder in the style of segmentation tutorials: GroupNorm and
InstanceNorm, bilinear Upsample and PixelShuffle, reflection padding, weight_norm, the
Rprop optimizer, and a warm-up then plateau schedule (SequentialLR of LambdaLR and
CosineAnnealingWarmRestarts, ReduceLROnPlateau on the loss). Default initialisation from
torch.manual_seed, so the losses agree only with PyTorch-identical random streams."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(0)
images = torch.rand(8, 3, 8, 8)
masks = (images.mean(1, keepdim=True) > 0.5).float()

model = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(2, 8), nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 8, 3, padding=1), nn.InstanceNorm2d(8, affine=True), nn.ReLU(),
    nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
    nn.Conv2d(8, 16, 1), nn.PixelShuffle(2), nn.ReflectionPad2d(1), nn.Conv2d(4, 1, 3),
    nn.AvgPool2d(2),
)
model[0] = nn.utils.weight_norm(model[0])
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
warmup = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (step + 1) / 5)
restarts = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=5, T_mult=2)
schedule = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, restarts], milestones=[5])

for step in range(30):
    optimizer.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(images), masks)
    loss.backward()
    optimizer.step()
    schedule.step()
    if step % 5 == 0:
        print(f"step {step} loss {loss.item():.5f} lr {schedule.get_last_lr()[0]:.6f}")

optimizer = torch.optim.Rprop(model.parameters(), lr=1e-3)
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
for step in range(10):
    optimizer.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(images), masks)
    loss.backward()
    optimizer.step()
    plateau.step(loss)
    print(f"rprop {step} loss {loss.item():.5f} lr {plateau.get_last_lr()[0]:.6f}")
