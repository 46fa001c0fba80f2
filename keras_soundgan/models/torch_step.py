"""PyTorch gradient glue for ``SoundGAN.train_step``; the losses live in soundgan.py.

Gradients come from ``torch.autograd.grad`` on the variables of the network being
updated (not ``backward()``, so no ``.grad`` accumulates between the critic and the
generator updates), and the optimizers apply them under ``torch.no_grad()``.

A loss runs inside a ``keras.StatelessScope`` that maps every model variable to its
current tensor, and the values the loss assigned (BatchNorm statistics, the noise seed,
spectral normalisation's vectors and kernels) are written back afterwards. Assigning in
place during the loss, as torch variables otherwise do, breaks autograd as soon as a
layer that assigns is called twice in one loss (the critic sees real, fake and mixed
images): the first call's saved tensors would be overwritten.
"""

from __future__ import annotations

import keras
import torch

__all__ = ["input_gradient", "no_gradient", "train_step"]


def no_gradient():
    """Where the step needs values but no gradient (the critic's fakes)."""
    return torch.no_grad()


def input_gradient(fn, x):
    """Gradient of ``sum(fn(x))`` with respect to ``x``, differentiable again."""
    x = torch.as_tensor(x)
    if not x.requires_grad:
        x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        y = fn(x)
        (grad,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    return grad


def _loss_and_gradients(model, loss_fn, variables):
    """Runs ``loss_fn() -> (loss, aux)`` and returns ``loss, aux, gradients`` with respect
    to ``variables`` (None for one the loss does not use, as tf.GradientTape gives; the
    optimizer skips those with a warning), then stores the values the loss assigned."""
    state = model.trainable_variables + model.non_trainable_variables
    with keras.StatelessScope(state_mapping=[(v, v.value) for v in state]) as scope:
        loss, aux = loss_fn()
    grads = torch.autograd.grad(loss, [v.value for v in variables], allow_unused=True)
    with torch.no_grad():
        for v in state:
            value = scope.get_current_value(v)
            if value is not None and value is not v.value:
                v.assign(value.detach())
    return loss.detach(), aux, list(grads)


def train_step(model, data):
    real, labels = model.unpack_batch(data)
    batch = real.shape[0]
    d_vars = model.discriminator.trainable_variables
    g_vars = model.generator.trainable_variables
    for _ in range(model.config.training.n_critic):
        z = model.sample_latent(batch)
        d_loss, penalty, grads = _loss_and_gradients(
            model, lambda: model.discriminator_loss(real, z, input_gradient, labels), d_vars)
        with torch.no_grad():
            model.d_optimizer.apply(grads, d_vars)
    z = model.sample_latent(batch)
    g_loss, _, grads = _loss_and_gradients(
        model, lambda: (model.generator_loss(z, labels), None), g_vars)
    with torch.no_grad():
        model.g_optimizer.apply(grads, g_vars)
        model.update_ema()
        model.optimizer.iterations.assign_add(1)
        return model.update_loss_metrics(
            d_loss, g_loss, None if penalty is None else penalty.detach())
