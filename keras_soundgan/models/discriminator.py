"""The discriminator (critic): a Conv2D stack from a spectrogram image to one score."""

from __future__ import annotations

import keras

from keras_soundgan.config import SoundGANConfig
from keras_soundgan.models.layers import (ImageLayout, network_data_format, normalization,
                                          spatial_shape)

__all__ = ["build_discriminator"]


def build_discriminator(config: SoundGANConfig, name: str = "discriminator",
                        data_format: str | None = None) -> keras.Model:
    """Builds the discriminator described by ``config.discriminator``.

    Input: images ``[batch, height, width, 1]`` (and, for a conditional model, an int32
    ``label`` ``[batch]``). Output: one unbounded score per example, ``[batch, 1]`` (a
    logit for the non-saturating loss, a critic value for WGAN-GP). A conditional
    discriminator adds the projection ``<embedding(label), pooled features>``, the
    features pooled over frequency and time (``projection="global"``) or over time only
    (``"frequency"``). With ``training.classification_weight > 0`` a conditional
    discriminator has a second output, ``[batch, num_classes]`` class logits from the
    same pooled features (the auxiliary classifier of AC-GAN).

    ``num_layers`` stride-2 Conv2D layers with ``base_filters * 2**i`` channels, the
    config's activation after each and its normalisation after all but the first; then
    the head: ``dense`` flattens and applies Dense(1); ``conv`` applies a valid
    convolution covering the whole remaining map (DCGAN's final 4x4 conv). With
    ``spectral_norm`` every convolution and the head are spectrally normalised.

    The layers compute in ``data_format`` (``"channels_last"`` or, on JAX and PyTorch,
    ``"channels_first"``; None, the default: :func:`network_data_format`'s choice for
    the backend, channels-first on PyTorch). The input is NHWC in either, and the
    weights are the same: a model saved under one backend loads under another.

    Example:
        >>> from keras_soundgan import SoundGANConfig
        >>> d = build_discriminator(SoundGANConfig.from_preset("tiny"))
        >>> d.output_shape
        (None, 1)
    """
    cfg = config.discriminator
    data_format = network_data_format(data_format)

    def wrap(layer):
        if cfg.spectral_norm:
            return keras.layers.SpectralNormalization(layer, name=f"{layer.name}_sn")
        return layer

    image = keras.Input(config.spectrogram.image_shape, name="spectrogram")
    x = ImageLayout(data_format, name="input_layout")(image)
    for i in range(cfg.num_layers):
        norm = None if i == 0 else normalization(cfg.normalization, f"down{i}_norm",
                                                 data_format=data_format)
        x = wrap(keras.layers.Conv2D(
            cfg.base_filters * 2**i, cfg.kernel_size, strides=2, padding="same",
            use_bias=norm is None, data_format=data_format, name=f"down{i}_conv",
        ))(x)
        if norm is not None:
            x = norm(x)
        x = keras.layers.Activation(cfg.activation, name=f"down{i}_act")(x)
    features = x
    if cfg.head == "dense":
        # Flatten in NHWC order whatever the layout: the Dense weights mean the same.
        x = keras.layers.Flatten(data_format=data_format, name="flatten")(x)
        x = wrap(keras.layers.Dense(1, name="score", dtype="float32"))(x)
    else:
        x = wrap(keras.layers.Conv2D(1, spatial_shape(x, data_format), padding="valid",
                                     data_format=data_format, name="score_conv",
                                     dtype="float32"))(x)
        x = keras.layers.Reshape((1,), name="score")(x)
    num_classes = config.generator.num_classes
    if not num_classes:
        return keras.Model(image, x, name=name)
    # Projection discriminator (Miyato & Koyama 2018): score + <embed(label), phi(x)>,
    # phi being the pooled features of the last convolution.
    label = keras.Input((), dtype="int32", name="label")
    if cfg.projection == "global":
        pooled = keras.layers.GlobalAveragePooling2D(data_format=data_format,
                                                     name="pooled")(features)
    else:  # keep the frequency axis: where the energy is, not only what it is like
        pooled = keras.layers.AveragePooling2D((1, spatial_shape(features, data_format)[1]),
                                               data_format=data_format,
                                               name="pooled_over_time")(features)
        # [batch, height * channels] in NHWC order whatever the layout.
        pooled = keras.layers.Flatten(data_format=data_format, name="pooled")(pooled)
    embedded = keras.layers.Embedding(num_classes, pooled.shape[-1],
                                      name="label_projection")(label)
    projection = keras.layers.Dot(axes=1, name="projection")([embedded, pooled])
    x = keras.layers.Add(name="conditional_score", dtype="float32")([x, projection])
    if config.training.classification_weight <= 0:
        return keras.Model([image, label], x, name=name)
    logits = wrap(keras.layers.Dense(num_classes, name="class_logits", dtype="float32"))(pooled)
    return keras.Model([image, label], [x, logits], name=name)
