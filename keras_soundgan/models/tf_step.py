"""TensorFlow gradient glue for ``SoundGAN.train_step``; the losses live in soundgan.py."""

from __future__ import annotations

import tensorflow as tf


def input_gradient(fn, x):
    """Gradient of ``sum(fn(x))`` with respect to ``x``, recorded by any outer tape."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x)


def train_step(model, data):
    real, labels = model.unpack_batch(data)
    batch = tf.shape(real)[0]
    d_vars = model.discriminator.trainable_variables
    g_vars = model.generator.trainable_variables
    for _ in range(model.config.training.n_critic):
        z = model.sample_latent(batch)
        with tf.GradientTape() as tape:
            d_loss, penalty = model.discriminator_loss(real, z, input_gradient, labels)
        model.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)
    z = model.sample_latent(batch)
    with tf.GradientTape() as tape:
        g_loss = model.generator_loss(z, labels)
    model.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)
    model.update_ema()
    model.optimizer.iterations.assign_add(1)
    return model.update_loss_metrics(d_loss, g_loss, penalty)
