"""Small building blocks shared by the generator and the discriminator."""

from __future__ import annotations

import keras


def normalization(kind: str, name: str):
    """The normalisation layer named by a config's ``normalization`` field, or None."""
    if kind == "none":
        return None
    if kind == "batch":
        return keras.layers.BatchNormalization(name=name)
    if kind == "layer":
        # Over height, width and channels: one mean per example, like the per-example
        # normalisation the WGAN-GP paper recommends for critics.
        return keras.layers.LayerNormalization(axis=[1, 2, 3], name=name)
    raise ValueError(f"unknown normalization {kind!r}")
