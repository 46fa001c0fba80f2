import keras
import numpy as np
import pytest

from keras_soundgan import SoundGAN
from keras_soundgan.config import LOSSES
from keras_soundgan.models import losses


def _images(config, n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, *config.spectrogram.image_shape)).astype("float32")


def _np(x):
    """A variable's or tensor's value as a numpy array, on every backend."""
    return keras.ops.convert_to_numpy(x)


def _weights(model):
    return [_np(v) for v in model.weights]


@pytest.mark.parametrize("loss", LOSSES)
def test_training_updates_both_networks_with_finite_losses(small_config, loss):
    config = small_config.with_overrides({"training.loss": loss})
    model = SoundGAN(config)
    model.compile()
    g_before = [_np(v) for v in model.generator.trainable_variables]
    d_before = [_np(v) for v in model.discriminator.trainable_variables]
    history = model.fit(_images(config), batch_size=8, epochs=2, verbose=0)
    expected = {"d_loss", "g_loss"} | ({"gradient_penalty"} if loss == "wgan-gp" else set())
    assert set(history.history) == expected
    for values in history.history.values():
        assert len(values) == 2 and np.all(np.isfinite(values))
    for before, var in zip(g_before, model.generator.trainable_variables):
        assert not np.allclose(before, _np(var)), f"generator {var.path} did not change"
    for before, var in zip(d_before, model.discriminator.trainable_variables):
        if loss == "wgan-gp" and var.path.endswith("score/bias"):
            # E[D(fake)] - E[D(real)] and the penalty do not depend on the last bias:
            # its gradient is exactly zero, so it must not move.
            np.testing.assert_array_equal(before, _np(var))
            continue
        if loss == "hinge" and var.path.endswith("score/bias"):
            # While every score is inside (-1, 1) the hinge terms' bias gradients are
            # -1 and +1 and cancel exactly, as they do at initialisation.
            continue
        assert not np.allclose(before, _np(var)), f"discriminator {var.path} did not change"


def test_n_critic_discriminator_updates_per_generator_update(small_config):
    config = small_config.with_overrides({"training.n_critic": 3})
    model = SoundGAN(config)
    model.compile()
    model.fit(_images(config), batch_size=8, epochs=1, verbose=0)  # 2 steps
    assert int(model.g_optimizer.iterations) == 2
    assert int(model.d_optimizer.iterations) == 6
    assert int(model.optimizer.iterations) == 2


def test_fit_advances_batchnorm_statistics_and_the_noise_seed(small_config):
    config = small_config.with_overrides({"training.loss": "non-saturating",
                                          "generator.normalization": "batch",
                                          "discriminator.normalization": "batch"})
    model = SoundGAN(config)
    model.compile()
    statistics = [v for net in (model.generator, model.discriminator)
                  for v in net.non_trainable_variables]
    assert len(statistics) > 0 and all("moving" in v.path for v in statistics)
    before = [_np(v) for v in statistics]
    model.fit(_images(config), batch_size=8, epochs=1, verbose=0)  # 2 steps
    for value, var in zip(before, statistics):
        assert not np.allclose(value, _np(var)), f"{var.path} did not change"
    # Each step draws n_critic + 1 noise batches from the seed state, as eager calls do.
    reference = SoundGAN(config)
    for _ in range(2 * (config.training.n_critic + 1)):
        reference.sample_latent(8)
    np.testing.assert_array_equal(_np(model.seed_generator.state),
                                  _np(reference.seed_generator.state))


def test_training_with_spectral_normalisation(small_config):
    # The critic is called on real, fake and mixed images in one loss, and each call
    # assigns its kernels and power-iteration vectors: every backend must cope.
    config = small_config.with_overrides({"discriminator.spectral_norm": True})
    model = SoundGAN(config)
    model.compile()
    vectors = model.discriminator.non_trainable_variables
    before = [_np(v) for v in vectors]
    history = model.fit(_images(config), batch_size=8, epochs=1, verbose=0)
    assert all(np.all(np.isfinite(v)) for v in history.history.values())
    for value, var in zip(before, vectors):
        assert not np.allclose(value, _np(var)), f"{var.path} did not change"
    kernels = [_np(v) for v in model.discriminator.trainable_variables
               if v.path.endswith("kernel")]
    # Fresh kernels have largest singular values from about 0.65 to 1.45 here; a few
    # power iterations bring them near 1 (not exactly: the estimate is still converging).
    for w in kernels:
        sigma = np.linalg.svd(w.reshape(-1, w.shape[-1]), compute_uv=False)[0]
        assert 0.9 < sigma < 1.15


def test_fresh_noise_every_step(small_config):
    model = SoundGAN(small_config)
    before = _np(model.seed_generator.state)
    a = _np(model.sample_latent(4))
    b = _np(model.sample_latent(4))
    assert not np.allclose(a, b)
    assert not np.array_equal(before, _np(model.seed_generator.state))
    assert a.min() >= -1 and a.max() <= 1  # uniform latent, as SpecGAN


def test_gradient_penalty_formula_against_numpy():
    rng = np.random.default_rng(1)
    grads = rng.normal(size=(5, 4, 3, 1)).astype("float32")
    norms = np.sqrt((grads.reshape(5, -1) ** 2).sum(axis=1))
    expected = np.mean((norms - 1.0) ** 2)
    assert np.allclose(_np(losses.gradient_penalty(grads)), expected, rtol=1e-5)


def test_gradient_penalty_of_a_linear_critic_by_hand(small_config):
    """For D(x) = <w, x> + b the input gradient is w everywhere, so the penalty is
    (||w|| - 1)^2 whatever the interpolation, and the WGAN-GP loss is known exactly."""
    from keras_soundgan.models.soundgan import _backend_module

    model = SoundGAN(small_config)
    shape = small_config.spectrogram.image_shape
    size = int(np.prod(shape))
    critic = keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                               keras.layers.Dense(1)])
    w = np.full((size, 1), 0.05, "float32")
    critic.layers[-1].set_weights([w, np.array([0.3], "float32")])
    model.discriminator = critic
    real = _images(small_config, n=4)
    z = _np(model.sample_latent(4))
    loss, penalty = model.discriminator_loss(real, z, _backend_module().input_gradient)
    fake = _np(model.generator(z, training=True))
    d = lambda x: x.reshape(len(x), -1) @ w[:, 0] + 0.3  # noqa: E731
    expected_penalty = (np.linalg.norm(w) - 1.0) ** 2
    expected = d(fake).mean() - d(real).mean() + 10.0 * expected_penalty
    assert np.allclose(float(_np(penalty)), expected_penalty, rtol=1e-4)
    assert np.allclose(float(_np(loss)), expected, rtol=1e-4)


def test_loss_functions_by_hand():
    real = np.array([[2.0], [0.5]], "float32")
    fake = np.array([[-1.0], [0.0]], "float32")
    sp = lambda x: np.log1p(np.exp(x))  # noqa: E731
    cases = {
        "wgan-gp": (fake.mean() - real.mean(), -fake.mean()),
        "non-saturating": (sp(-real).mean() + sp(fake).mean(), sp(-fake).mean()),
        "hinge": (np.maximum(0, 1 - real).mean() + np.maximum(0, 1 + fake).mean(), -fake.mean()),
        "least-squares": (0.5 * (((real - 1) ** 2).mean() + (fake ** 2).mean()),
                          0.5 * ((fake - 1) ** 2).mean()),
    }
    for kind, (d_expected, g_expected) in cases.items():
        assert np.allclose(float(losses.discriminator_loss(kind, real, fake)), d_expected), kind
        assert np.allclose(float(losses.generator_loss(kind, fake)), g_expected), kind


def test_save_load_and_continue_training(small_config, tmp_path):
    model = SoundGAN(small_config)
    model.compile()
    model.set_spectrogram_statistics(np.linspace(-3, 1, 32), np.linspace(0.5, 2, 32))
    data = _images(small_config)
    model.fit(data, batch_size=8, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, SoundGAN) and loaded.config == small_config
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(_np(a), _np(b))
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(_np(a), _np(b))
    assert int(loaded.d_optimizer.iterations) == 4 and int(loaded.g_optimizer.iterations) == 2
    np.testing.assert_allclose(loaded.generate(3, seed=5), model.generate(3, seed=5), atol=1e-6)
    np.testing.assert_allclose(_np(loaded.spectrogram_std), np.linspace(0.5, 2, 32),
                               rtol=1e-6)
    # Continuing from the file is the same as continuing in memory.
    model.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False)
    loaded.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert int(loaded.g_optimizer.iterations) == 4
    for a, b in zip(model.trainable_weights, loaded.trainable_weights):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)


def test_generate_is_deterministic_for_a_seed(small_config):
    model = SoundGAN(small_config)
    a, b = model.generate(5, seed=3), model.generate(5, seed=3, batch_size=2)
    assert a.shape == (5, 32, 32, 1)
    np.testing.assert_allclose(a, b, atol=1e-6)
    assert not np.allclose(a, model.generate(5, seed=4))
    z = model.latent(5, seed=3)
    np.testing.assert_allclose(model.generate(5, z=z), a, atol=1e-6)
    with pytest.raises(ValueError, match="z must have shape"):
        model.generate(5, z=z[:2])
    with pytest.raises(ValueError, match="n must be a positive integer"):
        model.generate(0)


def test_compile_rejects_keras_loss_and_takes_custom_optimizers(small_config):
    model = SoundGAN(small_config)
    with pytest.raises(ValueError, match="does not take 'loss'"):
        model.compile(loss="mse")
    model.compile(d_optimizer=keras.optimizers.SGD(0.01), g_optimizer="rmsprop")
    assert isinstance(model.d_optimizer, keras.optimizers.SGD)
    assert isinstance(model.g_optimizer, keras.optimizers.RMSprop)
    model.fit(_images(small_config, n=8), batch_size=8, epochs=1, verbose=0)


def test_model_call_runs_the_generator(small_config):
    model = SoundGAN(small_config)
    z = model.latent(2, seed=0)
    np.testing.assert_allclose(_np(model(z)), _np(model.generator(z)), atol=1e-6)
    assert SoundGAN.from_config(model.get_config()).config == small_config


def test_statistics_shape_checked(small_config):
    with pytest.raises(ValueError, match=r"shape \(32,\)"):
        SoundGAN(small_config).set_spectrogram_statistics(np.zeros(5), np.ones(5))
