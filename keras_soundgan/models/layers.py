"""Small building blocks shared by the generator and the discriminator."""

from __future__ import annotations

import keras

from keras_soundgan.checks import check_choice

__all__ = ["DATA_FORMATS", "ImageLayout", "channel_axis", "network_data_format",
           "normalization", "spatial_shape"]

DATA_FORMATS = ("channels_last", "channels_first")


def network_data_format(data_format: str | None = None) -> str:
    """The layout the networks compute in: ``data_format`` if given, else the backend's.

    ``"channels_first"`` on PyTorch, whose convolutions are NCHW: Keras's torch
    convolution otherwise copies every NHWC tensor to NCHW and back around each call
    (the NCHW views it gets instead keep torch's channels-last memory format, which
    oneDNN runs fastest). ``"channels_last"`` on JAX (the step's convolution rewrite
    in ``jax_step.py`` assumes NHWC) and on TensorFlow, the only layout it takes:

    * Keras 3.15's TensorFlow ``ops.add`` puts a channels-first bias on the width
      axis of a map as wide as it has channels, so such a network computes wrong
      numbers without an error (tests/test_networks.py watches for Keras's fix);
    * TensorFlow's CPU convolutions take NCHW only through oneDNN, which TensorFlow
      turns on by itself only on CPUs with AVX-512 VNNI or BF16, AVX-VNNI or AMX
      (elsewhere the first call fails with "Conv2DCustomBackpropInputOp only
      supports NHWC").

    The images at the networks' boundary are ``[batch, height, width, 1]`` whatever
    this returns.

    Args:
        data_format: str or None. ``"channels_last"``, ``"channels_first"`` (JAX and
            PyTorch), or None for the backend's choice. Defaults to None.

    Raises:
        ValueError: ``data_format`` is not one of these, or is ``"channels_first"``
            on the TensorFlow backend.
    """
    backend = keras.backend.backend()
    if data_format is None:
        return "channels_first" if backend == "torch" else "channels_last"
    data_format = check_choice(data_format, "data_format", DATA_FORMATS)
    if data_format == "channels_first" and backend == "tensorflow":
        raise ValueError(
            "data_format='channels_first' is not supported on the TensorFlow backend: "
            "Keras's TensorFlow bias add misplaces a channels-first bias, and "
            "TensorFlow's CPU convolutions take it only through oneDNN. Use "
            "'channels_last' (or None), or the JAX or PyTorch backend.")
    return data_format


def spatial_shape(x, data_format: str) -> tuple:
    """``(height, width)`` of a 4-D map ``x`` laid out as ``data_format``."""
    return tuple(x.shape[2:4] if data_format == "channels_first" else x.shape[1:3])


def channel_axis(data_format: str) -> int:
    """The channel axis of a 4-D map laid out as ``data_format``."""
    return 1 if data_format == "channels_first" else -1


@keras.saving.register_keras_serializable(package="keras_soundgan")
class ImageLayout(keras.layers.Layer):
    """Moves a 4-D map between NHWC and the networks' layout.

    Every network has these layers on every backend, so that a model saved under one
    backend loads under another (the ``.keras`` weights are found by layer path): on
    ``channels_last`` they are the identity; on ``channels_first`` they transpose
    ``[batch, height, width, channels]`` to ``[batch, channels, height, width]``
    (``inverse=True``: back).

    Args:
        data_format: str. The networks' layout, ``"channels_last"`` or
            ``"channels_first"``.
        inverse: bool. False: NHWC in, the network's layout out; True: the reverse.
            Defaults to False.
    """

    def __init__(self, data_format: str, inverse: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = network_data_format(data_format)
        self.inverse = bool(inverse)

    def call(self, x):
        if self.data_format == "channels_last":
            return x
        return keras.ops.transpose(x, (0, 2, 3, 1) if self.inverse else (0, 3, 1, 2))

    def compute_output_shape(self, input_shape):
        if self.data_format == "channels_last":
            return tuple(input_shape)
        b, d1, d2, d3 = input_shape
        return (b, d2, d3, d1) if self.inverse else (b, d3, d1, d2)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "inverse": self.inverse}


def normalization(kind: str, name: str, affine: bool = True,
                  data_format: str = "channels_last"):
    """The normalisation named by a config's ``normalization`` field, or None.

    Returns a function of a map laid out as ``data_format`` (a layer, or for
    ``"layer"`` three), or None for ``"none"``. ``affine=False`` leaves out the
    layer's own learned scale and shift (for class-conditional modulation, which brings
    its own)."""
    if kind == "none":
        return None
    if kind == "batch":
        # Under a multi-replica tf.distribute strategy, the batch statistics are the
        # global batch's (as one device would compute them), not each replica's.
        from keras_soundgan.distribute import synchronized_batch_norm

        # One scale and shift per channel: the same weights in either layout.
        return keras.layers.BatchNormalization(axis=channel_axis(data_format), name=name,
                                               center=affine, scale=affine,
                                               synchronized=synchronized_batch_norm())
    if kind == "layer":
        # Over height, width and channels: one mean per example, like the per-example
        # normalisation the WGAN-GP paper recommends for critics. Its scale and shift
        # are [height, width, channels]: computed in NHWC, so that they are the same
        # weights in either layout (the transposes are the identity on channels_last).
        to_nhwc = ImageLayout(data_format, inverse=True, name=f"{name}_to_nhwc")
        norm = keras.layers.LayerNormalization(axis=[1, 2, 3], name=name, center=affine,
                                               scale=affine)
        back = ImageLayout(data_format, name=f"{name}_from_nhwc")
        return lambda x: back(norm(to_nhwc(x)))
    raise ValueError(f"unknown normalization {kind!r}")
