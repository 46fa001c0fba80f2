import keras
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


# -- the networks' layout: channels-first on PyTorch, channels-last elsewhere ------------

# Option sets that change what the layout touches: the stem's reshape, the upsampling,
# each normalisation's axis or weights, the class modulation's broadcast, the head's
# kernel or flattening order, the projection's pooling and flattening order. 64x32
# images (not square), so that a height/width mix-up changes the shapes; 3 base filters,
# so that no map is as wide as it has channels (see the test after these).
LAYOUT_CASES = {
    "transpose-dense-none": {},
    "resize-conv-stem-conv-head": {"generator.upsampling": "resize",
                                   "generator.stem": "conv_transpose",
                                   "discriminator.head": "conv"},
    "batch-norm-modulation-frequency": {"generator.normalization": "batch",
                                        "generator.num_classes": 3,
                                        "generator.conditioning": "modulation",
                                        "discriminator.normalization": "batch",
                                        "discriminator.projection": "frequency",
                                        "training.classification_weight": 1.0},
    "layer-norm-input-label-global": {"generator.normalization": "layer",
                                      "generator.num_classes": 3,
                                      "generator.conditioning": "input",
                                      "generator.upsampling": "resize",
                                      "discriminator.normalization": "layer",
                                      "discriminator.projection": "global",
                                      "discriminator.head": "conv",
                                      "training.loss": "wgan-gp"},
    "spectral-norm-frequency-conv-head": {"generator.num_classes": 3,
                                          "discriminator.spectral_norm": True,
                                          "discriminator.projection": "frequency",
                                          "discriminator.head": "conv"},
}


def _layout_config(options, filters=3):
    return SoundGANConfig.from_preset(
        "tiny", slice_length=2048, **{"generator.base_filters": filters,
                                      "discriminator.base_filters": filters,
                                      "training.loss": "non-saturating", **options})


def _perturbed_weights(model, rng):
    """The model's weights moved off their initial values (BatchNorm's scale 1, shift
    0, mean 0, variance 1 would hide a wrong axis); variances stay positive."""
    return [rng.uniform(0.5, 1.5, w.shape).astype("float32")
            if "variance" in v.path else
            (w + rng.normal(0, 0.2, w.shape)).astype("float32")
            for v, w in zip(model.weights, model.get_weights())]


def _numpy_outputs(outputs):
    return [convert_to_numpy(o) for o in keras.tree.flatten(outputs)]


def test_the_backend_chooses_the_layout():
    from keras_soundgan.models.layers import network_data_format

    expected = "channels_first" if keras.backend.backend() == "torch" else "channels_last"
    assert network_data_format() == expected
    assert network_data_format("channels_last") == "channels_last"
    with pytest.raises(ValueError, match="data_format"):
        network_data_format("NCHW")
    if keras.backend.backend() == "tensorflow":
        # Refused before any layer is built: a TensorFlow channels-first network can
        # compute wrong numbers, and fails on CPUs without oneDNN.
        with pytest.raises(ValueError, match="'channels_first' is not supported on the "
                                             "TensorFlow backend"):
            network_data_format("channels_first")
        with pytest.raises(ValueError, match="channels_first"):
            build_discriminator(_layout_config({}), data_format="channels_first")
    else:
        assert network_data_format("channels_first") == "channels_first"
    g = build_generator(_layout_config({}))
    convs = [layer for layer in g.layers if layer.name.endswith("_deconv")]
    assert {layer.data_format for layer in convs} == {expected}


def _both_layouts(config):
    """``{network: (channels_last outputs, channels_first outputs)}`` for the same
    (perturbed) weights and inputs, in inference and in training mode (BatchNorm's batch
    statistics): ``"generator, training=False"`` and so on."""
    rng = np.random.default_rng(0)
    batch, num_classes = 4, config.generator.num_classes
    z = keras.ops.convert_to_tensor(
        rng.uniform(-1, 1, (batch, config.generator.latent_dim)).astype("float32"))
    labels = keras.ops.convert_to_tensor(np.arange(batch, dtype="int32") % max(num_classes, 1))
    images = keras.ops.convert_to_tensor(
        rng.uniform(-1, 1, (batch, *config.spectrogram.image_shape)).astype("float32"))
    results = {}
    for build, inputs in ((build_generator, z), (build_discriminator, images)):
        if num_classes:
            inputs = [inputs, labels]
        last = build(config, data_format="channels_last")
        first = build(config, data_format="channels_first")
        assert [w.shape for w in first.weights] == [w.shape for w in last.weights]
        assert len(first.layers) == len(last.layers)
        weights = _perturbed_weights(last, rng)
        last.set_weights(weights)
        first.set_weights(weights)
        for training in (False, True):
            what = f"{build.__name__.removeprefix('build_')}, training={training}"
            results[what] = (_numpy_outputs(last(inputs, training=training)),
                             _numpy_outputs(first(inputs, training=training)))
    return results


def _assert_same(expected, got, what):
    assert [g.shape for g in got] == [e.shape for e in expected], what
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-5, rtol=1e-5, err_msg=what)


def _assert_layouts_agree(config):
    """Same weights, both layouts: NHWC in and out, the same numbers to float rounding.
    Only PyTorch builds channels-first by default; JAX's channels-first convolutions run
    on the CPU too, so both check the layouts (here through tests/test_backends.py's
    nested runs). TensorFlow refuses to build a channels-first network
    (test_keras_tensorflow_add_still_misplaces_a_channels_first_bias says why)."""
    if keras.backend.backend() == "tensorflow":
        with pytest.raises(ValueError, match="'channels_first' is not supported"):
            _both_layouts(config)
        return
    for what, (expected, got) in _both_layouts(config).items():
        _assert_same(expected, got, what)


@pytest.mark.parametrize("case", list(LAYOUT_CASES))
def test_channels_first_networks_equal_channels_last(case):
    _assert_layouts_agree(_layout_config(LAYOUT_CASES[case]))


def test_channels_first_where_a_map_is_as_wide_as_it_has_channels():
    # With 4 base filters the critic's second map is 16x8 with 8 channels: a bias
    # shaped [1, C, 1, 1] added to it must land on the channel axis, not on the width.
    _assert_layouts_agree(_layout_config({}, filters=4))


def test_keras_tensorflow_add_still_misplaces_a_channels_first_bias():
    # Why TensorFlow refuses channels-first networks. Keras's TensorFlow ``ops.add``
    # (3.15) turns a bias shaped [1, C, 1, 1] into ``tf.nn.bias_add``, choosing NHWC
    # whenever the last axis also has C entries, so a channels-first Conv2D's bias
    # lands on the width axis of a map as wide as it has channels. PyTorch and JAX
    # broadcast as written. If this fails on TensorFlow, Keras has fixed it: let
    # network_data_format take channels-first there where oneDNN is on.
    rng = np.random.default_rng(0)
    maps = rng.uniform(size=(2, 8, 16, 8)).astype("float32")  # NCHW, as wide as C
    bias = np.arange(8, dtype="float32").reshape(1, 8, 1, 1)
    got = convert_to_numpy(keras.ops.add(maps, bias))
    if keras.backend.backend() == "tensorflow":
        np.testing.assert_allclose(got, maps + bias.reshape(1, 1, 1, 8))
        assert not np.allclose(got, maps + bias)
    else:
        np.testing.assert_allclose(got, maps + bias)
