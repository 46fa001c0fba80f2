import numpy as np
import pytest
from keras.ops import convert_to_numpy

from keras_soundgan import SoundGANConfig, build_discriminator, build_generator
from keras_soundgan.config import PRESETS


@pytest.mark.parametrize("preset", list(PRESETS))
def test_preset_shapes(preset):
    config = SoundGANConfig.from_preset(preset)
    g, d = build_generator(config), build_discriminator(config)
    z = np.random.default_rng(0).uniform(-1, 1, (2, config.generator.latent_dim)).astype("float32")
    images = convert_to_numpy(g(z))
    assert images.shape == (2, *config.spectrogram.image_shape)
    assert np.all(np.abs(images) <= 1.0)
    assert convert_to_numpy(d(images)).shape == (2, 1)


@pytest.mark.parametrize("stem, head", [("dense", "dense"), ("conv_transpose", "conv")])
def test_non_square_spectrogram(stem, head):
    # 128 frequency bins by 64 frames.
    config = SoundGANConfig.from_preset("specgan", slice_length=8192, stem=stem, head=head,
                                        **{"generator.base_filters": 4,
                                           "discriminator.base_filters": 4})
    assert config.spectrogram.image_shape == (128, 64, 1)
    g, d = build_generator(config), build_discriminator(config)
    images = convert_to_numpy(g(np.zeros((3, 100), "float32")))
    assert images.shape == (3, 128, 64, 1)
    assert convert_to_numpy(d(images)).shape == (3, 1)


def test_widths_kernel_latent_and_activation_come_from_config():
    config = SoundGANConfig.from_preset(
        "tiny", latent_dim=7, **{"generator.base_filters": 3, "generator.kernel_size": 3,
                                 "generator.activation": "elu",
                                 "discriminator.base_filters": 5,
                                 "discriminator.kernel_size": 7})
    g, d = build_generator(config), build_discriminator(config)
    assert g.input_shape == (None, 7)
    deconvs = [layer for layer in g.layers if layer.name.endswith("_deconv")]
    # 4 layers: 3 * 2**3 = 24 channels at the stem, halving, then one output channel.
    assert [layer.filters for layer in deconvs] == [12, 6, 3, 1]
    assert all(layer.kernel_size == (3, 3) for layer in deconvs)
    assert g.get_layer("stem_act").activation.__name__ == "elu"
    convs = [layer for layer in d.layers if layer.name.endswith("_conv")]
    assert [layer.filters for layer in convs] == [5, 10, 20, 40]
    assert all(layer.kernel_size == (7, 7) for layer in convs)


def test_dcgan_generator_grows_a_one_by_one_noise_image():
    g = build_generator(SoundGANConfig.from_preset("dcgan"))
    stem = g.get_layer("stem_deconv")
    assert stem.kernel_size == (4, 4) and stem.padding == "valid"
    assert g.get_layer("stem_reshape").output.shape[1:] == (1, 1, 100)
    assert any(layer.__class__.__name__ == "BatchNormalization" for layer in g.layers)


def test_spectral_normalisation_bounds_each_layer():
    import keras

    config = SoundGANConfig.from_preset("tiny", spectral_norm=True)
    d = build_discriminator(config)
    wrapped = [layer for layer in d.layers
               if isinstance(layer, keras.layers.SpectralNormalization)]
    assert len(wrapped) == 5  # four convolutions and the head
    images = np.random.default_rng(0).uniform(-1, 1, (4, 64, 64, 1)).astype("float32")
    for _ in range(30):  # power iterations run in training mode
        d(images, training=True)
    # The effective kernels' largest singular value is about 1 after power iteration.
    conv = wrapped[1]
    w = convert_to_numpy(conv.layer.kernel)
    sigma = np.linalg.svd(w.reshape(-1, w.shape[-1]), compute_uv=False)[0]
    assert sigma == pytest.approx(1.0, rel=0.05)
