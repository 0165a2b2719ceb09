"""A variational autoencoder as lectures write it: the encoder gives a diagonal Gaussian
q(z|x) = Independent(Normal(mu, sigma), 1), z by rsample, the ELBO's KL term by
kl_divergence against the standard-normal prior, a Bernoulli decoder on binary data."""
import numpy as np
import torch
import torch.nn as nn
from torch.distributions import Bernoulli, Independent, Normal, kl_divergence

torch.manual_seed(0)
rng = np.random.default_rng(0)
prototypes = rng.random((4, 16)) < 0.5
data = prototypes[rng.integers(0, 4, 256)] ^ (rng.random((256, 16)) < 0.05)
x_all = torch.tensor(data.astype(np.float32))


class VAE(nn.Module):
    def __init__(self, d_in=16, d_hidden=32, d_latent=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(d_in, d_hidden), nn.Tanh())
        self.mu = nn.Linear(d_hidden, d_latent)
        self.log_sigma = nn.Linear(d_hidden, d_latent)
        self.decoder = nn.Sequential(nn.Linear(d_latent, d_hidden), nn.Tanh(),
                                     nn.Linear(d_hidden, d_in))

    def forward(self, x):
        h = self.encoder(x)
        q = Independent(Normal(self.mu(h), self.log_sigma(h).exp()), 1)
        z = q.rsample()
        p_x = Independent(Bernoulli(logits=self.decoder(z)), 1)
        prior = Independent(Normal(torch.zeros_like(z), torch.ones_like(z)), 1)
        return p_x.log_prob(x), kl_divergence(q, prior)


model = VAE()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for epoch in range(1, 61):
    log_likelihood, kl = model(x_all)
    loss = -(log_likelihood - kl).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 10 == 0:
        print(f"epoch {epoch} loss {loss.item():.4f} "
              f"recon {-log_likelihood.mean().item():.4f} kl {kl.mean().item():.4f}")

with torch.no_grad():
    z = Normal(torch.zeros(3, 2), torch.ones(3, 2)).sample()
    samples = Bernoulli(logits=model.decoder(z)).sample()
print("samples", samples.int().tolist())
