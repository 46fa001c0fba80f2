"""The traced entry points of an export: the generator's weights and the audio inverse
in the ``tf.function`` objects that every writer converts."""

from __future__ import annotations

import json

from keras_soundgan.export.synthesis import SYNTHESIS_SCOPE, Synthesis

__all__ = ["Functions", "build_functions", "traceable_generator"]


def traceable_generator(generator):
    """``generator`` with each nearest-neighbour ``UpSampling2D`` (the ``resize``
    upsampling) replaced by an image resize to the doubled static size; every other
    layer, and so every weight, is the generator's own.

    Keras's ``UpSampling2D`` repeats rows and columns (``tf.repeat``), which loses the
    static shape under a dynamic batch; the LiteRT converter then cannot make the next
    ``Conv2D`` a builtin ``CONV_2D`` (it asks for the Flex delegate). A nearest resize
    by an integer factor picks the same pixels (output ``i`` reads input
    ``floor(i / factor)``) and converts to ``RESIZE_NEAREST_NEIGHBOR``.
    """
    import keras

    upsampling = [layer for layer in generator.layers
                  if isinstance(layer, keras.layers.UpSampling2D)
                  and layer.interpolation == "nearest" and layer.data_format == "channels_last"]
    if not upsampling:
        return generator

    class NearestResize(keras.layers.Layer):
        def __init__(self, size, **kwargs):
            super().__init__(**kwargs)
            self.size = tuple(size)

        def call(self, x):
            height, width = x.shape[1] * self.size[0], x.shape[2] * self.size[1]
            return keras.ops.image.resize(x, (height, width), interpolation="nearest")

        def compute_output_shape(self, shape):
            return (shape[0], shape[1] * self.size[0], shape[2] * self.size[1], shape[3])

    def clone(layer):
        if layer in upsampling:
            return NearestResize(layer.size, name=layer.name)
        return layer

    return keras.models.clone_model(generator, clone_function=clone)


class Functions:
    """The traced entry points of one export, and what the writers need.

    Attributes:
        module: tf.Module. Holds the functions (and, for SavedModel, the weights).
        ordered: list. ``[(signature key, tf.function)]``, the main entry point first.
        input_specs: list. The ``tf.TensorSpec`` of each input: ``z``, then ``label``
            for a conditional model.
        latent_dim: int. Noise values per sound.
        num_classes: int. Classes of a conditional model; 0 for an unconditional one.
        synthesis: Synthesis or None. The audio inverse (None without a waveform
            signature).
    """

    def __init__(self, module, ordered, input_specs, latent_dim, num_classes=0,
                 synthesis=None):
        self.module = module
        self.ordered = ordered
        self.input_specs = input_specs
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.synthesis = synthesis

    def sample_inputs(self, noise):
        """One input dict per row of ``noise`` ``[N, latent_dim]`` (batch of one), with
        the labels of a conditional model taken in turn (row ``i`` gets class
        ``i % num_classes``): what int8 calibration feeds."""
        import numpy as np

        for i, row in enumerate(noise):
            sample = {"z": row[None].astype(np.float32)}
            if self.num_classes:
                sample["label"] = np.array([i % self.num_classes], np.int32)
            yield sample


def build_functions(model, signature, n_iter, initial_phase, metadata, *,
                    combined=False, variables=False, batch_size=None) -> Functions:
    """tf.functions over the generator, its weights swapped in through
    ``keras.StatelessScope``.

    The generator is the one ``model.generate`` uses: the moving average of the
    weights when ``training.ema_decay`` is set, else the trained generator. A
    conditional generator's functions take ``z`` and an int32 ``label`` ``[batch]``.

    By default the weights enter the graphs as constants: LiteRT then needs no variable
    ops, and it stores each weight once however many signatures use it. With
    ``variables`` (SavedModel) they are fresh ``tf.Variable`` copies tracked by the
    module, saved once in ``variables/`` instead of once per signature's graph.
    ``batch_size`` fixes the batch axis (runtimes without dynamic shapes, such as
    LiteRT.js); ``None`` leaves it dynamic.
    """
    import keras
    import tensorflow as tf
    from keras import ops

    config = model.config
    spec = config.spectrogram
    generator = traceable_generator(getattr(model, "ema_generator", None) or model.generator)
    num_classes = int(config.generator.num_classes)
    weights = [(v, ops.convert_to_numpy(v)) for v in generator.weights]
    synthesis = None
    if signature in ("waveform", "both"):
        synthesis = Synthesis(spec, ops.convert_to_numpy(model.spectrogram_mean),
                              ops.convert_to_numpy(model.spectrogram_std), n_iter,
                              initial_phase)
    input_specs = [tf.TensorSpec([batch_size, config.generator.latent_dim], tf.float32,
                                 name="z")]
    if num_classes:
        input_specs.append(tf.TensorSpec([batch_size], tf.int32, name="label"))

    module = tf.Module()
    if variables:
        module.generator_weights = [tf.Variable(value, trainable=False, name=v.name)
                                    for v, value in weights]

    def generate(inputs):
        if num_classes:
            # A negative label would count from the end in the embedding's `take`; sent
            # to `num_classes` it is out of bounds, so every runtime refuses it as it
            # refuses a label of `num_classes` or more (GATHER's bounds check; TFLite has
            # no assert op).
            label = inputs[1]
            inputs = [inputs[0], tf.where(label < 0, tf.constant(num_classes, tf.int32),
                                          label)]
        if variables:
            values = [w.read_value() for w in module.generator_weights]
        else:
            values = [tf.constant(value) for _, value in weights]
        with keras.StatelessScope(state_mapping=list(zip([v for v, _ in weights], values))):
            return generator(inputs if num_classes else inputs[0], training=False)

    def synthesize(images):
        with tf.name_scope(SYNTHESIS_SCOPE):
            return synthesis(images)

    def rate():
        return tf.constant(spec.sample_rate, tf.int32)

    def spectrogram(*inputs):
        return {"spectrogram": generate(list(inputs))}

    def waveform(*inputs):
        return {"waveform": synthesize(generate(list(inputs))), "sample_rate": rate()}

    def both(*inputs):
        images = generate(list(inputs))
        return {"spectrogram": images, "waveform": synthesize(images),
                "sample_rate": rate()}

    text = json.dumps(metadata, separators=(",", ":"))

    def metadata_fn():
        outputs = {"sample_rate": rate(),
                   "latent_dim": tf.constant(config.generator.latent_dim, tf.int32),
                   "slice_length": tf.constant(spec.slice_length, tf.int32),
                   "num_classes": tf.constant(num_classes, tf.int32)}
        outputs["json"] = tf.constant(text)
        return outputs

    def traced(fn, name):
        # Named parameters, so that every format names its inputs "z" (and "label").
        if num_classes:
            def entry(z, label):
                return fn(z, label)
        else:
            def entry(z):
                return fn(z)
        entry.__name__ = name
        return tf.function(entry, input_signature=input_specs)

    metadata_fn.__name__ = "metadata"
    ordered = []
    if combined and signature == "both":
        module.both = traced(both, "both")
        ordered.append(("both", module.both))
    else:
        if signature in ("waveform", "both"):
            module.waveform = traced(waveform, "waveform")
            ordered.append(("waveform", module.waveform))
        if signature in ("spectrogram", "both"):
            module.spectrogram = traced(spectrogram, "spectrogram")
            ordered.append(("spectrogram", module.spectrogram))
    module.metadata = tf.function(metadata_fn, input_signature=[])
    return Functions(module, ordered, input_specs, config.generator.latent_dim, num_classes,
                     synthesis)
