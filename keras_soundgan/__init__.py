"""keras-soundgan: spectrogram GANs that invent new sounds, for Keras 3.

The public API::

    from keras_soundgan import SoundGAN, SoundGANConfig, SpectrogramTransform

    config = SoundGANConfig.from_preset("tiny")
    model = SoundGAN(config)
    model.compile()
    model.fit(dataset)            # a tf.data.Dataset of spectrogram images
    audio = model.generate_audio(8, seed=0)

A run's model is a Keras file; after ``import keras_soundgan``, Keras reads it::

    import keras
    import keras_soundgan

    model = keras.saving.load_model("runs/tiny-20261206-101500/model.keras")

The names are imported when first used (``import keras_soundgan`` alone does not
import Keras or TensorFlow, so that ``keras-soundgan --help`` answers at once). It
registers the package's classes with Keras all the same, as soon as Keras is imported
(:mod:`keras_soundgan.registration`).
"""

import importlib

from keras_soundgan.registration import register_with_keras

__version__ = "0.1.0"

# name -> the module that defines it.
_EXPORTS = {
    "spectrogram_dataset": "keras_soundgan.audio.dataset",
    "SpectrogramTransform": "keras_soundgan.audio.spectral",
    "DataConfig": "keras_soundgan.config",
    "DiscriminatorConfig": "keras_soundgan.config",
    "GeneratorConfig": "keras_soundgan.config",
    "SoundGANConfig": "keras_soundgan.config",
    "SpectrogramConfig": "keras_soundgan.config",
    "TrainingConfig": "keras_soundgan.config",
    "list_presets": "keras_soundgan.config",
    "load_drums": "keras_soundgan.datasets",
    "build_discriminator": "keras_soundgan.models.discriminator",
    "build_generator": "keras_soundgan.models.generator",
    "export_model": "keras_soundgan.export",
    "SoundGAN": "keras_soundgan.models.soundgan",
    "load_run": "keras_soundgan.runs",
    "train": "keras_soundgan.runs",
    "write_samples": "keras_soundgan.samples",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'keras_soundgan' has no attribute {name!r}")
    value = globals()[name] = getattr(importlib.import_module(_EXPORTS[name]), name)
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


register_with_keras()
