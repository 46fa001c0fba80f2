"""Adversarial losses in ``keras.ops``: the same code on every backend.

Scores are raw (unbounded) discriminator outputs. Each function returns a scalar.
"""

from __future__ import annotations

from keras import ops

__all__ = ["discriminator_loss", "generator_loss", "gradient_penalty", "r1_penalty"]


def discriminator_loss(kind: str, real_scores, fake_scores):
    """The discriminator's (critic's) loss for the loss named ``kind``.

    * ``wgan-gp``: ``E[D(fake)] - E[D(real)]`` (the penalty is added separately);
    * ``non-saturating``: binary cross-entropy on logits, real 1 and fake 0;
    * ``hinge``: ``E[relu(1 - D(real))] + E[relu(1 + D(fake))]``;
    * ``least-squares``: ``(E[(D(real) - 1)^2] + E[D(fake)^2]) / 2``.
    """
    if kind == "wgan-gp":
        return ops.mean(fake_scores) - ops.mean(real_scores)
    if kind == "non-saturating":
        return ops.mean(ops.softplus(-real_scores)) + ops.mean(ops.softplus(fake_scores))
    if kind == "hinge":
        return ops.mean(ops.relu(1.0 - real_scores)) + ops.mean(ops.relu(1.0 + fake_scores))
    if kind == "least-squares":
        return 0.5 * (ops.mean(ops.square(real_scores - 1.0)) + ops.mean(ops.square(fake_scores)))
    raise ValueError(f"unknown loss {kind!r}")


def generator_loss(kind: str, fake_scores):
    """The generator's loss for the loss named ``kind``.

    ``-E[D(fake)]`` for ``wgan-gp`` and ``hinge``; ``-log sigmoid(D(fake))`` for
    ``non-saturating``; ``E[(D(fake) - 1)^2] / 2`` for ``least-squares``.
    """
    if kind in ("wgan-gp", "hinge"):
        return -ops.mean(fake_scores)
    if kind == "non-saturating":
        return ops.mean(ops.softplus(-fake_scores))
    if kind == "least-squares":
        return 0.5 * ops.mean(ops.square(fake_scores - 1.0))
    raise ValueError(f"unknown loss {kind!r}")


def gradient_penalty(gradients):
    """WGAN-GP's penalty ``E[(||grad_x D(x_hat)||_2 - 1)^2]`` from per-example gradients.

    ``gradients`` has the shape of the images, ``[batch, ...]``; the norm is taken over
    everything but the batch axis.
    """
    axes = list(range(1, len(gradients.shape)))
    norms = ops.sqrt(ops.sum(ops.square(gradients), axis=axes) + 1e-12)
    return ops.mean(ops.square(norms - 1.0))


def r1_penalty(gradients):
    """R1's ``E[||grad_x D(x)||_2^2]`` on real data (Mescheder et al. 2018), from
    per-example gradients; the caller multiplies by ``gamma / 2``."""
    axes = list(range(1, len(gradients.shape)))
    return ops.mean(ops.sum(ops.square(gradients), axis=axes))
