"""The traced entry points of an export: the generator's weights and the audio inverse
in ``tf.function``\ s that every writer converts."""

from __future__ import annotations

import json

from keras_soundgan.export.synthesis import SYNTHESIS_SCOPE, Synthesis

__all__ = ["Functions", "build_functions"]


class Functions:
    """The traced entry points of one export, and what the writers need."""

    def __init__(self, module, ordered, latent_dim, synthesis=None):
        self.module = module
        self.synthesis = synthesis
        self.ordered = ordered  # [(signature key, tf.function)], main entry point first
        self.latent_dim = latent_dim


def build_functions(model, signature, n_iter, initial_phase, metadata, *,
                     combined=False, variables=False) -> Functions:
    """tf.functions over the generator, its weights swapped in through
    ``keras.StatelessScope``.

    By default the weights enter the graphs as constants: LiteRT then needs no variable
    ops, and it stores each weight once however many signatures use it. With
    ``variables`` (SavedModel) they are fresh ``tf.Variable`` copies tracked by the
    module, saved once in ``variables/`` instead of once per signature's graph.
    """
    import keras
    import tensorflow as tf
    from keras import ops

    config = model.config
    spec = config.spectrogram
    generator = model.generator
    weights = [(v, ops.convert_to_numpy(v)) for v in generator.weights]
    synthesis = None
    if signature in ("waveform", "both"):
        synthesis = Synthesis(spec, ops.convert_to_numpy(model.spectrogram_mean),
                               ops.convert_to_numpy(model.spectrogram_std), n_iter,
                               initial_phase)
    z_spec = tf.TensorSpec([None, config.generator.latent_dim], tf.float32, name="z")

    module = tf.Module()
    if variables:
        module.generator_weights = [tf.Variable(value, trainable=False, name=v.name)
                                    for v, value in weights]

    def generate(z):
        if variables:
            values = [w.read_value() for w in module.generator_weights]
        else:
            values = [tf.constant(value) for _, value in weights]
        with keras.StatelessScope(state_mapping=list(zip([v for v, _ in weights], values))):
            return generator(z, training=False)

    def synthesize(images):
        with tf.name_scope(SYNTHESIS_SCOPE):
            return synthesis(images)

    def rate():
        return tf.constant(spec.sample_rate, tf.int32)

    def spectrogram(z):
        return {"spectrogram": generate(z)}

    def waveform(z):
        return {"waveform": synthesize(generate(z)), "sample_rate": rate()}

    def both(z):
        images = generate(z)
        return {"spectrogram": images, "waveform": synthesize(images),
                "sample_rate": rate()}

    text = json.dumps(metadata, separators=(",", ":"))

    def metadata_fn():
        outputs = {"sample_rate": rate(),
                   "latent_dim": tf.constant(config.generator.latent_dim, tf.int32),
                   "slice_length": tf.constant(spec.slice_length, tf.int32)}
        outputs["json"] = tf.constant(text)
        return outputs

    metadata_fn.__name__ = "metadata"
    ordered = []
    if combined and signature == "both":
        module.both = tf.function(both, input_signature=[z_spec])
        ordered.append(("both", module.both))
    else:
        if signature in ("waveform", "both"):
            module.waveform = tf.function(waveform, input_signature=[z_spec])
            ordered.append(("waveform", module.waveform))
        if signature in ("spectrogram", "both"):
            module.spectrogram = tf.function(spectrogram, input_signature=[z_spec])
            ordered.append(("spectrogram", module.spectrogram))
    module.metadata = tf.function(metadata_fn, input_signature=[])
    return Functions(module, ordered, config.generator.latent_dim, synthesis)
