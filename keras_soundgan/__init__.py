"""keras-soundgan: spectrogram GANs that invent new sounds, for Keras 3.

The public API::

    from keras_soundgan import SoundGAN, SoundGANConfig, SpectrogramTransform

    config = SoundGANConfig.from_preset("tiny")
    model = SoundGAN(config)
    model.compile()
    model.fit(dataset)            # a tf.data.Dataset of spectrogram images
    audio = model.generate_audio(8, seed=0)
"""

import importlib

# Names are imported on first use, so that `import keras_soundgan` (and the command
# line's --help) does not start TensorFlow until something needs it.
_EXPORTS = {
    "spectrogram_dataset": "keras_soundgan.audio.dataset",
    "SpectrogramTransform": "keras_soundgan.audio.spectral",
    "DiscriminatorConfig": "keras_soundgan.config",
    "GeneratorConfig": "keras_soundgan.config",
    "SoundGANConfig": "keras_soundgan.config",
    "SpectrogramConfig": "keras_soundgan.config",
    "TrainingConfig": "keras_soundgan.config",
    "list_presets": "keras_soundgan.config",
    "load_drums": "keras_soundgan.datasets",
    "build_discriminator": "keras_soundgan.models.discriminator",
    "build_generator": "keras_soundgan.models.generator",
    "SoundGAN": "keras_soundgan.models.soundgan",
    "load_run": "keras_soundgan.runs",
    "train": "keras_soundgan.runs",
    "write_samples": "keras_soundgan.runs",
}


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'keras_soundgan' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))


__version__ = "0.1.0"

__all__ = [
    "DiscriminatorConfig",
    "GeneratorConfig",
    "SoundGAN",
    "SoundGANConfig",
    "SpectrogramConfig",
    "SpectrogramTransform",
    "TrainingConfig",
    "build_discriminator",
    "build_generator",
    "list_presets",
    "load_drums",
    "load_run",
    "spectrogram_dataset",
    "train",
    "write_samples",
]
