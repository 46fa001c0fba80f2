"""SpecGAN and its WGAN-GP training step in plain PyTorch (no Keras): the baseline of
``benchmarks/backends.py``.

The networks are keras_soundgan's ``build_generator`` / ``build_discriminator`` for a
config with ``stem="dense"``, ``head="dense"``, no normalisation, no spectral norm and
no classes (the ``specgan`` preset), written by hand in ``torch.nn``:

* generator: ``Linear(latent_dim, h0 * w0 * C)`` (C = ``base_filters * 2**(n-1)``),
  reshape, ReLU, then ``n`` stride-2 ``ConvTranspose2d`` (kernel k,
  ``padding=(k-1)//2``, ``output_padding=k%2``: the output is exactly twice the input,
  as with Keras's "same" padding) halving the channels, ReLU between them, the last one
  to 1 channel and tanh;
* discriminator: ``n`` stride-2 ``Conv2d`` (kernel k, ``padding=(k-1)//2``) with
  ``base_filters * 2**i`` channels, LeakyReLU(0.2) after each, flatten,
  ``Linear(., 1)``.

Same layers, shapes, parameter counts and FLOPs as the Keras networks. Two details
differ and do not change the cost: torch works in NCHW where the Keras model is
channels-last, and where TensorFlow's "same" padding of an even-sized input at stride 2
pads one pixel more at the end than at the start (for odd k), ``padding=(k-1)//2``
pads evenly (the windows sit one pixel apart; the sizes are the same).

The step is the package's ``SoundGAN.train_step`` with ``loss="wgan-gp"``: ``n_critic``
critic updates, each on fresh noise and the same real batch (generator output without
gradient, ``D(real)``, ``D(fake)`` and ``D(mixed)`` as three calls,
``E[D(fake)] - E[D(real)] + lambda * E[(||grad D(mixed)||_2 - 1)^2]`` with the input
gradient by ``torch.autograd.grad(create_graph=True)``, i.e. a double backward), then
one generator update on fresh noise minimising ``-E[D(G(z))]``; Adam with the config's
learning rates and betas and Keras's epsilon (1e-7) for both networks; noise uniform in
[-1, 1] (or normal, as the config says).
"""

from __future__ import annotations

import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent_dim, base_filters, num_layers, kernel_size, height, width):
        super().__init__()
        n = num_layers
        self.h0, self.w0 = height // 2**n, width // 2**n
        self.channels = base_filters * 2 ** (n - 1)
        self.stem = nn.Linear(latent_dim, self.h0 * self.w0 * self.channels)
        layers = []
        for i in range(n):
            last = i == n - 1
            c_in = self.channels // 2**i
            c_out = 1 if last else self.channels // 2 ** (i + 1)
            layers.append(nn.ConvTranspose2d(c_in, c_out, kernel_size, stride=2,
                                             padding=(kernel_size - 1) // 2,
                                             output_padding=kernel_size % 2))
            layers.append(nn.Tanh() if last else nn.ReLU())
        self.up = nn.Sequential(*layers)

    def forward(self, z):
        x = self.stem(z).view(-1, self.channels, self.h0, self.w0)
        return self.up(torch.relu(x))


class Discriminator(nn.Module):
    def __init__(self, base_filters, num_layers, kernel_size, height, width):
        super().__init__()
        layers, c_in = [], 1
        for i in range(num_layers):
            c_out = base_filters * 2**i
            layers += [nn.Conv2d(c_in, c_out, kernel_size, stride=2,
                                 padding=(kernel_size - 1) // 2),
                       nn.LeakyReLU(0.2)]
            c_in = c_out
        self.down = nn.Sequential(*layers)
        self.score = nn.Linear(c_in * (height // 2**num_layers) * (width // 2**num_layers), 1)

    def forward(self, x):
        return self.score(torch.flatten(self.down(x), 1))


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


class WGANGP:
    """The two networks, their Adam optimizers and ``step(real)``.

    ``arch`` holds ``latent_dim, g_base_filters, g_num_layers, g_kernel_size,
    d_base_filters, d_num_layers, d_kernel_size, height, width, n_critic,
    gradient_penalty_weight, g_learning_rate, d_learning_rate, beta_1, beta_2,
    latent_distribution``. ``channels_last`` stores weights and activations in torch's
    ``channels_last`` memory format (NHWC strides; the model is the same).
    """

    def __init__(self, arch: dict, seed: int = 0, channels_last: bool = False):
        torch.manual_seed(seed)
        a = arch
        self.arch = a
        self.G = Generator(a["latent_dim"], a["g_base_filters"], a["g_num_layers"],
                           a["g_kernel_size"], a["height"], a["width"])
        self.D = Discriminator(a["d_base_filters"], a["d_num_layers"], a["d_kernel_size"],
                               a["height"], a["width"])
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.G.to(memory_format=torch.channels_last)
            self.D.to(memory_format=torch.channels_last)
        betas = (a["beta_1"], a["beta_2"])
        self.g_opt = torch.optim.Adam(self.G.parameters(), lr=a["g_learning_rate"], betas=betas,
                                      eps=1e-7)
        self.d_opt = torch.optim.Adam(self.D.parameters(), lr=a["d_learning_rate"], betas=betas,
                                      eps=1e-7)

    def latent(self, batch):
        shape = (batch, self.arch["latent_dim"])
        if self.arch["latent_distribution"] == "uniform":
            return torch.rand(shape) * 2.0 - 1.0
        return torch.randn(shape)

    def step(self, real: torch.Tensor):
        """One training step; returns ``(d_loss, g_loss, gradient_penalty)`` floats."""
        a = self.arch
        real = real.contiguous(memory_format=self.memory_format)
        batch = real.shape[0]
        for p in self.D.parameters():
            p.requires_grad_(True)
        for _ in range(a["n_critic"]):
            with torch.no_grad():
                fake = self.G(self.latent(batch))
            d_real = self.D(real)
            d_fake = self.D(fake)
            alpha = torch.rand(batch, 1, 1, 1)
            mixed = (real + alpha * (fake - real)).requires_grad_(True)
            (grad,) = torch.autograd.grad(self.D(mixed).sum(), mixed, create_graph=True)
            norms = torch.sqrt(grad.square().sum(dim=(1, 2, 3)) + 1e-12)
            penalty = (norms - 1.0).square().mean()
            d_loss = d_fake.mean() - d_real.mean() + a["gradient_penalty_weight"] * penalty
            self.d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_opt.step()
        # The generator's update: no gradients for the critic's weights.
        for p in self.D.parameters():
            p.requires_grad_(False)
        g_loss = -self.D(self.G(self.latent(batch))).mean()
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()
        return float(d_loss), float(g_loss), float(penalty)
