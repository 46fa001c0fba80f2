"""keras-soundgan: spectrogram GANs that invent new sounds, for Keras 3.

The public API::

    from keras_soundgan import SoundGAN, SoundGANConfig, SpectrogramTransform

    config = SoundGANConfig.from_preset("tiny")
    model = SoundGAN(config)
    model.compile()
    model.fit(dataset)            # a tf.data.Dataset of spectrogram images
    audio = model.generate_audio(8, seed=0)
"""

from keras_soundgan.audio.dataset import spectrogram_dataset
from keras_soundgan.audio.spectral import SpectrogramTransform
from keras_soundgan.config import (
    DataConfig,
    DiscriminatorConfig,
    GeneratorConfig,
    SoundGANConfig,
    SpectrogramConfig,
    TrainingConfig,
    list_presets,
)
from keras_soundgan.datasets import load_drums
from keras_soundgan.models.discriminator import build_discriminator
from keras_soundgan.models.generator import build_generator

# Importing the model registers it with Keras, so that keras.saving.load_model can read
# a SoundGAN .keras file once keras_soundgan is imported.
from keras_soundgan.models.soundgan import SoundGAN
from keras_soundgan.runs import load_run, train, write_samples

__version__ = "0.1.0"

__all__ = [
    "DataConfig",
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
