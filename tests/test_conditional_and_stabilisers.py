"""Conditional generation and the stabilisers (spectral norm, EMA, R1)."""

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy

from keras_soundgan import SoundGAN
from keras_soundgan.config import LOSSES


def _data(config, n=16, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n, *config.spectrogram.image_shape)).astype("float32")
    return images, (np.arange(n) % classes).astype("int32")


@pytest.mark.parametrize("loss", LOSSES)
def test_conditional_training_every_loss(small_config, loss):
    config = small_config.with_overrides({"generator.num_classes": 3, "training.loss": loss})
    model = SoundGAN(config)
    model.compile()
    embed = model.generator.get_layer("label_embedding")
    project = model.discriminator.get_layer("label_projection")
    before = [convert_to_numpy(embed.embeddings).copy(),
              convert_to_numpy(project.embeddings).copy()]
    images, labels = _data(config)
    history = model.fit(images, labels, batch_size=8, epochs=1, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    # Both label embeddings learn.
    assert not np.allclose(before[0], convert_to_numpy(embed.embeddings))
    assert not np.allclose(before[1], convert_to_numpy(project.embeddings))


def test_conditional_shapes_labels_and_errors(small_config):
    config = small_config.with_overrides({"generator.num_classes": 3})
    model = SoundGAN(config)
    a = model.generate(6, seed=0)  # every class in turn: 0, 1, 2, 0, 1, 2
    assert a.shape == (6, 32, 32, 1)
    np.testing.assert_allclose(model.generate(6, seed=0, labels=[0, 1, 2, 0, 1, 2]), a,
                               atol=1e-6)
    same_noise = model.generate(3, seed=0, labels=[2, 2, 2])
    assert not np.allclose(same_noise[0], a[0])  # the label changes the sound
    with pytest.raises(ValueError, match="label 3 is not a class of this model"):
        model.generate(2, labels=[0, 3])
    with pytest.raises(ValueError, match="labels must be one integer or 2 integers"):
        model.generate(2, labels=[0, 1, 2])
    with pytest.raises(ValueError, match="conditional.*fit it on \\(images, labels\\)"):
        model.compile()
        model.fit(_data(config)[0], batch_size=8, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="unconditional"):
        SoundGAN(small_config).generate(2, labels=[0, 1])


def test_conditional_model_saves_and_loads(small_config, tmp_path):
    config = small_config.with_overrides({"generator.num_classes": 3})
    model = SoundGAN(config)
    model.compile()
    model.fit(*_data(config), batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "c.keras")
    loaded = keras.saving.load_model(tmp_path / "c.keras")
    np.testing.assert_allclose(loaded.generate(4, seed=1, labels=2),
                               model.generate(4, seed=1, labels=2), atol=1e-6)


def test_ema_generator_follows_the_generator_and_is_used(small_config, tmp_path):
    config = small_config.with_overrides({"training.ema_decay": 0.5})
    model = SoundGAN(config)
    model.compile()
    for a, b in zip(model.ema_generator.weights, model.generator.weights):
        np.testing.assert_array_equal(convert_to_numpy(a), convert_to_numpy(b))
    assert not model.ema_generator.trainable_weights
    start = [convert_to_numpy(w).copy() for w in model.generator.trainable_weights]
    model.fit(_data(config)[0], batch_size=8, epochs=1, verbose=0)  # two steps
    now = [convert_to_numpy(w) for w in model.generator.trainable_weights]
    ema = [convert_to_numpy(a) for a, w in zip(model.ema_generator.weights,
                                               model.generator.weights) if w.trainable]
    # With decay 0.5 the average lies strictly between the start and the weights now.
    moved = [not np.allclose(e, s) and not np.allclose(e, c)
             for e, s, c in zip(ema, start, now) if not np.allclose(s, c)]
    assert moved and all(moved)
    z = model.latent(3, seed=0)
    np.testing.assert_allclose(model.generate(3, z=z),
                               convert_to_numpy(model.ema_generator(z, training=False)),
                               atol=1e-6)
    model.save(tmp_path / "ema.keras")
    loaded = keras.saving.load_model(tmp_path / "ema.keras")
    np.testing.assert_allclose(loaded.generate(3, z=z), model.generate(3, z=z), atol=1e-6)


def test_r1_penalty_adds_to_the_discriminator_loss(small_config):
    from keras_soundgan.models.soundgan import _backend_module

    base = small_config.with_overrides({"training.loss": "non-saturating"})
    images, _ = _data(base, n=4)
    losses = {}
    for r1 in (0.0, 10.0):
        model = SoundGAN(base.with_overrides({"training.r1_weight": r1}))
        z = model.latent(4, seed=0)
        loss, _ = model.discriminator_loss(images, z, _backend_module().input_gradient)
        losses[r1] = float(convert_to_numpy(loss))
    assert losses[10.0] > losses[0.0]  # same weights (same seed), plus a positive penalty
    model = SoundGAN(base.with_overrides({"training.r1_weight": 10.0}))
    model.compile()
    history = model.fit(images, batch_size=4, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["d_loss"]))


def test_spectral_norm_trains(small_config):
    """With spectral normalisation the critic still learns: its kernels move and it
    tells the training images from the generator's better than before training."""
    keras.utils.set_random_seed(0)
    model = SoundGAN(small_config.with_overrides({"discriminator.spectral_norm": True,
                                                  "training.loss": "non-saturating"}))
    model.compile()
    images = _data(small_config)[0]

    def margin():  # the critic's mean score of real images over that of fakes
        fake = model.generator(model.latent(len(images), seed=0), training=False)
        real_scores = convert_to_numpy(model.discriminator(images, training=False))
        fake_scores = convert_to_numpy(model.discriminator(fake, training=False))
        return float(np.mean(real_scores) - np.mean(fake_scores))

    kernels = [convert_to_numpy(w).copy() for w in model.discriminator.trainable_weights]
    untrained = margin()
    history = model.fit(images, batch_size=8, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["d_loss"]))
    assert all(not np.array_equal(a, convert_to_numpy(b))
               for a, b in zip(kernels, model.discriminator.trainable_weights))
    assert margin() > untrained + 0.01, (untrained, margin())


def _conditional(small_config, **overrides):
    return small_config.with_overrides({"generator.num_classes": 3, **overrides})


def test_auxiliary_classifier_adds_a_classification_loss_to_both_networks(small_config):
    from keras_soundgan.models.soundgan import _backend_module

    images, labels = _data(small_config, n=6)
    plain = _conditional(small_config, **{"training.loss": "non-saturating",
                                          "training.classification_weight": 0.0})
    with_ac = plain.with_overrides({"training.classification_weight": 2.0})
    model = SoundGAN(with_ac)
    assert [tuple(o.shape) for o in model.discriminator.outputs] == [(None, 1), (None, 3)]
    assert len(SoundGAN(plain).discriminator.outputs) == 1
    z = model.latent(6, seed=0)
    gradient = _backend_module().input_gradient
    d_loss = float(convert_to_numpy(model.discriminator_loss(images, z, gradient, labels)[0]))
    g_loss = float(convert_to_numpy(model.generator_loss(z, labels)))
    # The same loss without the classifier's term, from the same networks.
    model.classification_weight = 0.0
    scores = convert_to_numpy(model.discriminator([images, labels])[0])
    fake = model.generator([z, labels], training=True)  # as in training (BatchNorm)
    fake_scores, fake_logits = (convert_to_numpy(o) for o in model.discriminator(
        [fake, keras.ops.convert_to_tensor(labels)]))
    real_logits = convert_to_numpy(model.discriminator([images, labels])[1])

    def softplus(v):
        return np.logaddexp(0, v)

    def cross_entropy(logits, y):
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(y)), y].mean()

    expected_d = (softplus(-scores).mean() + softplus(fake_scores).mean()
                  + 2.0 * cross_entropy(real_logits, labels))
    expected_g = softplus(-fake_scores).mean() + 2.0 * cross_entropy(fake_logits, labels)
    np.testing.assert_allclose(d_loss, expected_d, rtol=1e-4)
    np.testing.assert_allclose(g_loss, expected_g, rtol=1e-4)
    # It trains, and the classifier head learns.
    model = SoundGAN(with_ac)
    model.compile()
    head = model.discriminator.get_layer("class_logits")
    before = convert_to_numpy(head.kernel).copy()
    history = model.fit(images, labels, batch_size=3, epochs=1, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert not np.allclose(before, convert_to_numpy(head.kernel))


def test_unconditional_models_ignore_the_classification_weight(small_config):
    model = SoundGAN(small_config.with_overrides({"training.classification_weight": 1.0}))
    assert len(model.discriminator.outputs) == 1 and model.classification_weight == 0


def test_class_modulation_shapes_every_layer_and_learns(small_config):
    config = _conditional(small_config, **{"generator.conditioning": "modulation",
                                           "generator.normalization": "batch"})
    model = SoundGAN(config)
    scales = [layer for layer in model.generator.layers if layer.name.endswith("_class_scale")]
    # The stem and every hidden upsampling layer (not the output layer).
    assert len(scales) == config.generator.num_layers
    norms = [layer for layer in model.generator.layers
             if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and not any(n.center or n.scale for n in norms)  # replaced per class
    # Initially an identity: the label changes nothing until it is learned.
    for layer in scales:
        np.testing.assert_array_equal(convert_to_numpy(layer.embeddings), 1.0)
    model.compile()
    images, labels = _data(config)
    model.fit(images, labels, batch_size=8, epochs=1, verbose=0)
    assert not np.allclose(convert_to_numpy(scales[-1].embeddings), 1.0)
    z = model.latent(2, seed=0)
    a = model.generate(2, z=z, labels=[0, 0])
    b = model.generate(2, z=z, labels=[1, 1])
    assert not np.allclose(a, b)


def test_frequency_projection_keeps_the_frequency_axis(small_config):
    config = _conditional(small_config, **{"discriminator.projection": "frequency"})
    model = SoundGAN(config)
    d = config.discriminator
    rows = config.spectrogram.height // 2 ** d.num_layers
    channels = d.base_filters * 2 ** (d.num_layers - 1)
    projection = model.discriminator.get_layer("label_projection")
    assert tuple(projection.embeddings.shape) == (3, rows * channels)
    # What is projected is the last convolution's features averaged over time only:
    # one vector per frequency row, side by side.
    images, labels = _data(config, n=4)
    probe = keras.Model(model.discriminator.inputs,
                        [model.discriminator.get_layer(f"down{d.num_layers - 1}_act").output,
                         model.discriminator.get_layer("pooled").output])
    features, pooled = (convert_to_numpy(o) for o in probe([images, labels]))
    if model.discriminator.get_layer("down0_conv").data_format == "channels_first":
        features = features.transpose(0, 2, 3, 1)  # PyTorch's networks are NCHW inside
    assert features.shape[1:] == (rows, config.spectrogram.width // 2 ** d.num_layers,
                                  channels)
    np.testing.assert_allclose(pooled, features.mean(axis=2).reshape(4, -1), atol=1e-5)
    model.compile()
    history = model.fit(*_data(config), batch_size=8, epochs=1, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())


@pytest.mark.parametrize("normalization", ["none", "batch"])
def test_resize_upsampling(small_config, normalization):
    config = small_config.with_overrides({"generator.upsampling": "resize",
                                          "generator.normalization": normalization})
    model = SoundGAN(config)
    assert not [layer for layer in model.generator.layers
                if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert model.generate(2, seed=0).shape == (2, *config.spectrogram.image_shape)
    model.compile()
    history = model.fit(_data(config)[0], batch_size=8, epochs=1, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())


def test_every_new_option_together_saves_and_loads(small_config, tmp_path):
    config = _conditional(small_config, **{
        "generator.conditioning": "modulation", "generator.normalization": "batch",
        "generator.upsampling": "resize", "discriminator.projection": "frequency",
        "training.classification_weight": 1.0, "training.augmentation": "gain,time_shift,cutout",
        "training.r1_weight": 1.0, "training.ema_decay": 0.9})
    model = SoundGAN(config)
    model.compile()
    history = model.fit(*_data(config), batch_size=8, epochs=1, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    model.save(tmp_path / "all.keras")
    loaded = keras.saving.load_model(tmp_path / "all.keras")
    assert loaded.config == config
    np.testing.assert_allclose(loaded.generate(3, seed=1), model.generate(3, seed=1), atol=1e-6)
    # Training goes on from the file: the step count continues, every weight of both
    # networks moves, the losses stay finite.
    before = [convert_to_numpy(w).copy() for w in loaded.trainable_weights]
    steps = int(loaded.g_optimizer.iterations)
    history = loaded.fit(*_data(config), batch_size=8, epochs=1, verbose=0)
    assert int(loaded.g_optimizer.iterations) == 2 * steps > 0
    assert all(np.isfinite(v).all() for v in history.history.values())
    moved = [not np.array_equal(a, convert_to_numpy(b))
             for a, b in zip(before, loaded.trainable_weights)]
    assert sum(moved) >= 0.9 * len(moved), f"{sum(moved)} of {len(moved)} weights moved"


def test_ema_warms_up_so_a_short_run_does_not_average_the_random_start(small_config):
    model = SoundGAN(small_config.with_overrides({"training.ema_decay": 0.999}))
    model.compile()
    start = [convert_to_numpy(w).copy() for w in model.generator.trainable_weights]
    model.fit(_data(small_config, n=8)[0], batch_size=8, epochs=1, verbose=0)  # one step
    now = [convert_to_numpy(w) for w in model.generator.trainable_weights]
    ema = [convert_to_numpy(a) for a, w in zip(model.ema_generator.weights,
                                               model.generator.weights) if w.trainable]
    # Step 0's decay is min(0.999, 1 / 10) = 0.1: the average moves 90% of the way.
    for e, s, c in zip(ema, start, now):
        np.testing.assert_allclose(e, 0.1 * s + 0.9 * c, atol=1e-6)
