"""The generator: a Conv2DTranspose stack from noise to a spectrogram image."""

from __future__ import annotations

import keras

from keras_soundgan.config import SoundGANConfig
from keras_soundgan.models.layers import (ImageLayout, channel_axis, network_data_format,
                                          normalization)

__all__ = ["build_generator"]


def build_generator(config: SoundGANConfig, name: str = "generator",
                    data_format: str | None = None) -> keras.Model:
    """Builds the generator described by ``config.generator`` for ``config.spectrogram``.

    Input: ``z`` of shape ``[batch, latent_dim]`` (and, when ``num_classes > 0``, an
    int32 ``label`` of shape ``[batch]``, whose learned embedding is concatenated to
    ``z``). Output: images of shape ``[batch, height, width, 1]`` in [-1, 1] (tanh).

    The stem (Dense, or a valid Conv2DTranspose of a 1x1 noise image) makes a map of
    ``height / 2**num_layers`` by ``width / 2**num_layers`` with
    ``base_filters * 2**(num_layers - 1)`` channels; every one of the ``num_layers``
    upsampling layers then doubles both sizes and halves the channels: a stride-2
    Conv2DTranspose (``upsampling="transpose"``) or nearest-neighbour upsampling and a
    Conv2D (``"resize"``). Non-square shapes work whenever both sides are multiples of
    ``2**num_layers`` (the config refuses others). With ``conditioning="modulation"``,
    every hidden layer's channels are also scaled and shifted by per-class values
    (initialised to 1 and 0), in place of BatchNormalization's own scale and shift.

    The hidden layers compute in ``data_format`` (``"channels_last"`` or, on JAX and
    PyTorch, ``"channels_first"``; None, the default: :func:`network_data_format`'s
    choice for the backend, channels-first on PyTorch). The output is NHWC in either,
    and the weights are the same: a model saved under one backend loads under another.

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
    data_format = network_data_format(data_format)

    z = keras.Input((cfg.latent_dim,), name="z")
    inputs, code, label = z, z, None
    if cfg.num_classes:
        label = keras.Input((), dtype="int32", name="label")
        embedded = keras.layers.Embedding(cfg.num_classes, cfg.latent_dim,
                                          name="label_embedding")(label)
        code = keras.layers.Concatenate(name="z_and_label")([z, embedded])
        inputs = [z, label]
    modulated = label is not None and cfg.conditioning == "modulation"

    def normalize(x, prefix):
        norm = normalization(cfg.normalization, f"{prefix}_norm", affine=not modulated,
                             data_format=data_format)
        if norm is not None:
            x = norm(x)
        if modulated:
            x = _class_modulation(x, label, cfg.num_classes, prefix, data_format)
        return x

    if cfg.stem == "dense":
        x = keras.layers.Dense(h0 * w0 * channels, use_bias=use_bias, name="stem_dense")(code)
        # NHWC first, whatever the layout: the Dense weights mean the same on every backend.
        x = keras.layers.Reshape((h0, w0, channels), name="stem_reshape")(x)
        x = ImageLayout(data_format, name="stem_layout")(x)
    else:
        x = keras.layers.Reshape((1, 1, code.shape[-1]), name="stem_reshape")(code)
        x = ImageLayout(data_format, name="stem_layout")(x)
        x = keras.layers.Conv2DTranspose(
            channels, (h0, w0), padding="valid", use_bias=use_bias,
            data_format=data_format, name="stem_deconv"
        )(x)
    x = normalize(x, "stem")
    x = keras.layers.Activation(cfg.activation, name="stem_act")(x)

    for i in range(n):
        last = i == n - 1
        filters = 1 if last else channels // 2 ** (i + 1)
        bias = use_bias or last
        if cfg.upsampling == "transpose":
            x = keras.layers.Conv2DTranspose(filters, cfg.kernel_size, strides=2,
                                             padding="same", use_bias=bias,
                                             data_format=data_format,
                                             name=f"up{i}_deconv")(x)
        else:
            x = keras.layers.UpSampling2D(2, interpolation="nearest", data_format=data_format,
                                          name=f"up{i}_resize")(x)
            x = keras.layers.Conv2D(filters, cfg.kernel_size, padding="same", use_bias=bias,
                                    data_format=data_format, name=f"up{i}_conv")(x)
        if last:
            x = ImageLayout(data_format, inverse=True, name="output_layout")(x)
            x = keras.layers.Activation("tanh", name="output", dtype="float32")(x)
            break
        x = normalize(x, f"up{i}")
        x = keras.layers.Activation(cfg.activation, name=f"up{i}_act")(x)
    return keras.Model(inputs, x, name=name)


def _class_modulation(x, label, num_classes, prefix, data_format):
    """``x * scale[label] + shift[label]``, one scale and shift per class and channel."""
    channels = x.shape[channel_axis(data_format)]
    # [batch, channels] broadcast over height and width, in the map's layout.
    map_shape = (channels, 1, 1) if data_format == "channels_first" else (1, 1, channels)
    scale = keras.layers.Embedding(num_classes, channels, embeddings_initializer="ones",
                                   name=f"{prefix}_class_scale")(label)
    shift = keras.layers.Embedding(num_classes, channels, embeddings_initializer="zeros",
                                   name=f"{prefix}_class_shift")(label)
    scale = keras.layers.Reshape(map_shape, name=f"{prefix}_scale_map")(scale)
    shift = keras.layers.Reshape(map_shape, name=f"{prefix}_shift_map")(shift)
    x = keras.layers.Multiply(name=f"{prefix}_class_scaled")([x, scale])
    return keras.layers.Add(name=f"{prefix}_class_shifted")([x, shift])
