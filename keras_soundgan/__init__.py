"""keras-soundgan: spectrogram GANs that invent new sounds, for Keras 3.

The public API::

    from keras_soundgan import SoundGAN, SoundGANConfig, SpectrogramTransform

    config = SoundGANConfig.from_preset("tiny")
    model = SoundGAN(config)
    model.compile()
    model.fit(dataset)            # a tf.data.Dataset of spectrogram images
    audio = model.generate_audio(8, seed=0)

The names are imported when first used (``import keras_soundgan`` alone does not
import Keras or TensorFlow, so that ``keras-soundgan --help`` answers at once). Using
any of them, ``from keras_soundgan import ...`` included, imports all of them, which
registers :class:`SoundGAN` with Keras: ``keras.saving.load_model`` then reads a
SoundGAN ``.keras`` file.
"""

import importlib

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
    # Importing the model registers it with Keras (keras.saving.load_model).
    "SoundGAN": "keras_soundgan.models.soundgan",
    "load_run": "keras_soundgan.runs",
    "train": "keras_soundgan.runs",
    "write_samples": "keras_soundgan.runs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'keras_soundgan' has no attribute {name!r}")
    # All at once: whichever name comes first, SoundGAN is registered with Keras.
    for export, module in _EXPORTS.items():
        globals()[export] = getattr(importlib.import_module(module), export)
    return globals()[name]


def __dir__():
    return sorted(set(globals()) | set(__all__))
