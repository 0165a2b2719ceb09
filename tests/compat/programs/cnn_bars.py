"""A small CNN (Conv2d, BatchNorm2d, MaxPool2d, Dropout) telling horizontal bars from
vertical ones and crosses, trained with Adam; evaluation in eval mode under no_grad."""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


def make_images(count, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=count)
    images = 0.3 * rng.standard_normal((count, 1, 12, 12)).astype(np.float32)
    for image, label, row, col in zip(images, labels, rng.integers(2, 10, count),
                                      rng.integers(2, 10, count)):
        if label in (0, 2):
            image[0, row, 1:11] += 1.0
        if label in (1, 2):
            image[0, 1:11, col] += 1.0
    return torch.from_numpy(images), torch.from_numpy(labels)


class SmallCNN(nn.Module):
    def __init__(self, num_classes=3):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(p=0.2),
            nn.Linear(16 * 3 * 3, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


torch.manual_seed(0)
x_train, y_train = make_images(384, 1)
x_test, y_test = make_images(128, 2)
model = SmallCNN()
print(model)
n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"trainable parameters: {n_params}")
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=3e-3)

for epoch in range(4):
    model.train()
    running_loss = 0.0
    permutation = torch.randperm(x_train.size(0))
    for start in range(0, x_train.size(0), 32):
        idx = permutation[start:start + 32]
        inputs, labels = x_train[idx], y_train[idx]
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * inputs.size(0)
    model.eval()
    with torch.no_grad():
        logits = model(x_test)
        _, predicted = torch.max(logits, 1)
        accuracy = (predicted == y_test).float().mean().item()
    print(f"epoch {epoch + 1}: loss {running_loss / x_train.size(0):.4f} "
          f"test accuracy {100 * accuracy:.1f}%")
