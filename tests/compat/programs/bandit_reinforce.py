"""REINFORCE on a 3-armed bandit, as RL tutorials write it: a softmax policy sampled with
torch.distributions.Categorical, the loss -log_prob(action) * advantage, rewards drawn
from Normal distributions; then a Gaussian policy trained through rsample, and the KL
between the learned and the initial policies."""
import torch
import torch.nn as nn
import torch.optim as optim
from torch.distributions import Categorical, Normal, kl_divergence

torch.manual_seed(0)

ARM_MEANS = torch.tensor([0.2, 1.0, 0.5])
ARM_STDS = torch.tensor([0.5, 0.5, 0.5])


class Policy(nn.Module):
    def __init__(self, n_arms):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(n_arms))

    def forward(self):
        return Categorical(logits=self.logits)


policy = Policy(3)
optimizer = optim.Adam(policy.parameters(), lr=0.05)
initial = Categorical(logits=torch.zeros(3))
baseline = 0.0
rewards = []
for episode in range(1, 301):
    dist = policy()
    action = dist.sample()
    reward = Normal(ARM_MEANS[action], ARM_STDS[action]).sample()
    baseline = 0.9 * baseline + 0.1 * reward.item()
    loss = -dist.log_prob(action) * (reward - baseline) - 0.01 * dist.entropy()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    rewards.append(reward.item())
    if episode % 50 == 0:
        recent = sum(rewards[-50:]) / 50
        print(f"episode {episode} mean reward {recent:.4f} loss {loss.item():.4f} "
              f"probs {[round(p, 4) for p in dist.probs.tolist()]}")

final = policy()
print("best arm", final.probs.argmax().item(), "entropy", round(final.entropy().item(), 4))
print("KL(final || initial)", round(kl_divergence(final, initial).item(), 4))

# A Gaussian policy for a continuous action: maximise E[-(a - 2)^2] by reparameterisation
mu = torch.zeros(1, requires_grad=True)
log_sigma = torch.zeros(1, requires_grad=True)
optimizer = optim.SGD([mu, log_sigma], lr=0.05)
for step in range(1, 101):
    gaussian = Normal(mu, log_sigma.exp())
    actions = gaussian.rsample((16,))
    loss = ((actions - 2.0) ** 2).mean() - 0.01 * gaussian.entropy().sum()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if step % 25 == 0:
        print(f"step {step} loss {loss.item():.4f} mu {mu.item():.4f} "
              f"sigma {log_sigma.exp().item():.4f} "
              f"log_prob(2) {gaussian.log_prob(torch.tensor([2.0])).item():.4f}")
