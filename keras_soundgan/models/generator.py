"""The generator: a Conv2DTranspose stack from noise to a spectrogram image."""

from __future__ import annotations

import keras

from keras_soundgan.config import SoundGANConfig
from keras_soundgan.models.layers import normalization


def build_generator(config: SoundGANConfig, name: str = "generator") -> keras.Model:
    """Builds the generator described by ``config.generator`` for ``config.spectrogram``.

    Input: ``z`` of shape ``[batch, latent_dim]`` (and, when ``num_classes > 0``, an
    int32 ``label`` of shape ``[batch]``, whose learned embedding is concatenated to
    ``z``). Output: images of shape ``[batch, height, width, 1]`` in [-1, 1] (tanh).

    The stem (Dense, or a valid Conv2DTranspose of a 1x1 noise image) makes a map of
    ``height / 2**num_layers`` by ``width / 2**num_layers`` with
    ``base_filters * 2**(num_layers - 1)`` channels; every one of the ``num_layers``
    stride-2 Conv2DTranspose layers then doubles both sizes and halves the channels.
    Non-square shapes work whenever both sides are multiples of ``2**num_layers``
    (the config refuses others).

    Example:
        >>> from keras_soundgan import SoundGANConfig
        >>> g = build_generator(SoundGANConfig.from_preset("tiny"))
        >>> g.output_shape
        (None, 64, 64, 1)
    """
    spec, cfg = config.spectrogram, config.generator
    n = cfg.num_layers
    h0, w0 = spec.height // 2**n, spec.width // 2**n
    channels = cfg.base_filters * 2 ** (n - 1)
    use_bias = cfg.normalization == "none"

    z = keras.Input((cfg.latent_dim,), name="z")
    inputs, code = z, z
    if cfg.num_classes:
        label = keras.Input((), dtype="int32", name="label")
        embedded = keras.layers.Embedding(cfg.num_classes, cfg.latent_dim,
                                          name="label_embedding")(label)
        code = keras.layers.Concatenate(name="z_and_label")([z, embedded])
        inputs = [z, label]
    if cfg.stem == "dense":
        x = keras.layers.Dense(h0 * w0 * channels, use_bias=use_bias, name="stem_dense")(code)
        x = keras.layers.Reshape((h0, w0, channels), name="stem_reshape")(x)
    else:
        x = keras.layers.Reshape((1, 1, code.shape[-1]), name="stem_reshape")(code)
        x = keras.layers.Conv2DTranspose(
            channels, (h0, w0), padding="valid", use_bias=use_bias, name="stem_deconv"
        )(x)
    norm = normalization(cfg.normalization, "stem_norm")
    if norm is not None:
        x = norm(x)
    x = keras.layers.Activation(cfg.activation, name="stem_act")(x)

    for i in range(n):
        last = i == n - 1
        filters = 1 if last else channels // 2 ** (i + 1)
        x = keras.layers.Conv2DTranspose(
            filters, cfg.kernel_size, strides=2, padding="same",
            use_bias=use_bias or last, name=f"up{i}_deconv",
        )(x)
        if last:
            x = keras.layers.Activation("tanh", name="output", dtype="float32")(x)
            break
        norm = normalization(cfg.normalization, f"up{i}_norm")
        if norm is not None:
            x = norm(x)
        x = keras.layers.Activation(cfg.activation, name=f"up{i}_act")(x)
    return keras.Model(inputs, x, name=name)
