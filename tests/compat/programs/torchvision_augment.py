"""A torchvision input pipeline with random augmentation, a look at the raw items, and a
grid of the first batch saved with torchvision.utils.save_image. Seeded: the crops and
flips come from torch's generator, so every run (and PyTorch's) draws the same ones."""
import numpy as np
import torch
import torchvision
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms
from torchvision.transforms import functional as TF
from torchvision.utils import make_grid, save_image

torch.manual_seed(7)
raw = datasets.FashionMNIST("data", train=False)
image, label = raw[0]
pixels = np.array(image)
print("raw item:", type(label).__name__, label, raw.classes[label], pixels.shape, pixels.dtype,
      int(pixels.sum()))
print("size:", image.size, "classes:", len(raw.class_to_idx), raw.data.shape, raw.data.dtype,
      raw.targets.dtype)
print("to_tensor:", TF.to_tensor(image).shape, "pil_to_tensor:",
      transforms.PILToTensor()(image).dtype, float(TF.to_tensor(image).sum()))

augment = transforms.Compose([
    transforms.RandomCrop(28, padding=4, padding_mode="reflect"),
    transforms.RandomHorizontalFlip(),
    transforms.RandomRotation(15),
    transforms.Resize(32),
    transforms.CenterCrop(30),
    transforms.ToTensor(),
    transforms.Normalize((0.2860,), (0.3530,)),
])
data = Subset(datasets.FashionMNIST("data", train=False, transform=augment), range(64))
images, labels = next(iter(DataLoader(data, batch_size=16)))
print("batch:", tuple(images.shape), images.dtype, tuple(labels.shape), labels.dtype)
print("batch sums:", " ".join(f"{value:.3f}" for value in images.sum(dim=(1, 2, 3)).tolist()))
grid = make_grid(images, nrow=4, normalize=True)
print("grid:", tuple(grid.shape), f"{grid.mean().item():.5f}")
save_image(images, "batch.png", nrow=4, normalize=True)
print("saved batch.png", torchvision.__name__)
