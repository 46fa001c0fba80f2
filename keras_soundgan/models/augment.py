"""Differentiable augmentation of spectrogram images, for real and fake alike.

With a few hundred recordings a discriminator soon memorises the real examples, its
feedback to the generator turns to noise, and training stalls or collapses.
DiffAugment (Zhao et al., "Differentiable Augmentation for Data-Efficient GAN
Training", NeurIPS 2020) shows the cure: the discriminator only ever sees augmented
images, real and generated alike, and since every augmentation is differentiable the
generator learns through it. Because the same random transformations are applied to
both sides, the generator is pushed towards the un-augmented data distribution, not an
augmented one (the augmentations here do not "leak").

The operations are chosen for spectrograms: they change nothing a listener would call
the identity of a sound, so a pitch stays a pitch and a snare stays a snare.

* ``time_shift``: moves each example by up to an eighth of its frames, earlier or
  later, filling with silence (-1, the floor of the normalised images): DiffAugment's
  translation, along time only. Frequency is never shifted: that would change a pitch.
* ``gain``: adds one random offset in [-0.1, 0.1] to a whole example, about +-6 dB at
  the default ``clip_std`` (DiffAugment's brightness).
* ``cutout``: sets a random rectangle of half the frames by half the frequency bins
  to 0, the per-bin mean (DiffAugment's cutout; SpecAugment masks bands the same way).

Each augmentation is applied to every example (DiffAugment), or to each example with a
probability ``p`` (``probability=``): adaptive discriminator augmentation (ADA, Karras
et al., "Training Generative Adversarial Networks with Limited Data", NeurIPS 2020)
raises ``p`` while the discriminator is overfitting and lowers it otherwise, so that
augmentation costs nothing while it is not needed (see
``training.augmentation_target``).

Example:
    >>> import numpy as np, keras
    >>> images = np.zeros((2, 8, 16, 1), "float32")
    >>> out = augment(images, ("gain",), keras.random.SeedGenerator(0))
    >>> tuple(out.shape)
    (2, 8, 16, 1)
"""

from __future__ import annotations

from keras import ops
import keras

# The policy and its parser live with the config that validates it (a config imports
# nothing above it); imported here too, where they were first.
from keras_soundgan.config import AUGMENTATIONS, parse_policy  # noqa: F401

#: Largest ``time_shift``, as a fraction of the frames (DiffAugment's 1/8).
SHIFT_FRACTION = 0.125
#: Largest ``gain`` offset, in normalised units.
GAIN = 0.1
#: ``cutout``'s rectangle, as a fraction of each side (DiffAugment's 1/2).
CUTOUT_FRACTION = 0.5
#: The value of silence in a normalised image.
SILENCE = -1.0

__all__ = ["AUGMENTATIONS", "augment", "parse_policy"]


def augment(images, policy, seed, draw=None, probability=None):
    """Applies the augmentations of ``policy`` to ``images``, each example its own.

    Args:
        images: tensor ``[batch, height, width, 1]``. Normalised spectrogram images.
        policy: tuple of str. Names from :data:`AUGMENTATIONS` (see :func:`parse_policy`).
        seed: ``keras.random.SeedGenerator``. The source of randomness.
        draw: callable ``(draw_fn, batch) -> tensor`` or None. Draws the per-example
            random values for the batch; SoundGAN passes one that gives each
            ``tf.distribute`` replica its rows of the global batch's draw. Defaults to
            calling ``draw_fn(batch)``.
        probability: scalar tensor in [0, 1] or None. Each augmentation is applied to
            each example with this probability; None applies every augmentation to
            every example.

    Returns:
        A tensor of the same shape; the same function of ``images`` for every backend,
        differentiable with respect to ``images``.
    """
    if not policy:
        return images
    draw = draw or (lambda fn, n: fn(n))
    images = ops.convert_to_tensor(images)
    batch = ops.shape(images)[0]
    height, width = images.shape[1], images.shape[2]

    def uniform(n):
        return keras.random.uniform((n, 1), seed=seed)

    for name in AUGMENTATIONS:
        if name not in policy:
            continue
        if name == "gain":
            offset = (2.0 * draw(uniform, batch) - 1.0) * GAIN
            augmented = images + ops.reshape(offset, (-1, 1, 1, 1))
        elif name == "time_shift":
            augmented = _time_shift(images, draw(uniform, batch), width)
        else:  # cutout
            augmented = _cutout(images, draw(uniform, batch), draw(uniform, batch), height,
                                width)
        if probability is None:
            images = augmented
        else:
            chosen = ops.reshape(draw(uniform, batch) < probability, (-1, 1, 1, 1))
            images = ops.where(chosen, augmented, images)
    return images


def _time_shift(images, u, width):
    limit = max(1, int(width * SHIFT_FRACTION))
    shift = ops.cast(ops.floor(u * (2 * limit + 1)), "int32") - limit  # [batch, 1]
    padded = ops.pad(images, ((0, 0), (0, 0), (limit, limit), (0, 0)),
                     constant_values=SILENCE)
    # Frame t of the output is frame t - shift of the input (a positive shift delays).
    index = ops.arange(width, dtype="int32")[None, :] - shift + limit  # [batch, width]
    index = ops.broadcast_to(index[:, None, :, None], ops.shape(images))
    return ops.take_along_axis(padded, index, axis=2)


def _cutout(images, u_time, u_freq, height, width):
    def band(u, size):
        length = max(1, int(size * CUTOUT_FRACTION))
        # A band of `length` cells whose centre is anywhere on the axis (it may be cut
        # by the edge, as in DiffAugment).
        start = ops.floor(u * size) - length // 2  # [batch, 1]
        position = ops.arange(size, dtype="float32")[None, :]
        inside = ops.logical_and(position >= start, position < start + length)
        return ops.cast(inside, "float32")  # [batch, size]

    mask = band(u_freq, height)[:, :, None, None] * band(u_time, width)[:, None, :, None]
    return images * (1.0 - mask)
