"""Spectrogram images to a ``tf.data`` pipeline for ``SoundGAN.fit``."""

from __future__ import annotations

import numpy as np

from keras_soundgan.checks import check_integer

__all__ = ["spectrogram_dataset"]


def spectrogram_dataset(images, labels=None, batch_size: int = 64, shuffle: bool = True,
                        seed: int = 0, repeat: bool = False):
    """A batched ``tf.data.Dataset`` of images (and labels when given).

    Batches have a fixed size (``drop_remainder=True``) so compiled steps never see a
    ragged last batch (which would make JAX recompile). Raises ``ValueError`` when the
    data set is smaller than one batch.

    Args:
        images: ``[n, height, width, 1]`` float32 normalised spectrograms.
        labels: optional ``[n]`` integer class indices.
        batch_size: examples per batch.
        shuffle: reshuffle every epoch (deterministically for ``seed``).
        seed: shuffling seed.
        repeat: repeat forever (then pass ``steps_per_epoch`` to ``fit``).
    """
    import tensorflow as tf

    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must have shape [n, height, width, channels], got {images.shape}")
    batch_size = check_integer(batch_size, "batch_size", minimum=1)
    if len(images) < batch_size:
        raise ValueError(
            f"the data set has {len(images)} examples, fewer than one batch "
            f"(batch_size={batch_size}); lower the batch size or add data")
    if labels is not None:
        labels = np.asarray(labels, dtype=np.int32)
        if labels.shape != (len(images),):
            raise ValueError(f"labels must have shape ({len(images)},), got {labels.shape}")
        ds = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        ds = tf.data.Dataset.from_tensor_slices(images)
    if shuffle:
        ds = ds.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
