"""Small building blocks shared by the generator and the discriminator."""

from __future__ import annotations

import keras

__all__ = ["normalization"]


def normalization(kind: str, name: str, affine: bool = True):
    """The normalisation layer named by a config's ``normalization`` field, or None.

    ``affine=False`` leaves out the layer's own learned scale and shift (for class-
    conditional modulation, which brings its own)."""
    if kind == "none":
        return None
    if kind == "batch":
        # Under a multi-replica tf.distribute strategy, the batch statistics are the
        # global batch's (as one device would compute them), not each replica's.
        from keras_soundgan.distribute import synchronized_batch_norm

        return keras.layers.BatchNormalization(name=name, center=affine, scale=affine,
                                               synchronized=synchronized_batch_norm())
    if kind == "layer":
        # Over height, width and channels: one mean per example, like the per-example
        # normalisation the WGAN-GP paper recommends for critics.
        return keras.layers.LayerNormalization(axis=[1, 2, 3], name=name, center=affine,
                                               scale=affine)
    raise ValueError(f"unknown normalization {kind!r}")
