"""Differentiable augmentation (DiffAugment for spectrograms): what each operation does,
that gradients flow through it, and that the discriminator sees real and generated
images through it alike. Runs under every backend (tests/test_backends.py)."""

import keras
import numpy as np
import pytest
from keras.ops import convert_to_numpy

from keras_soundgan import SoundGAN
from keras_soundgan.models import augment as aug
from keras_soundgan.models.soundgan import _backend_module


def _ramp(batch=4, height=8, width=32):
    """Images whose value tells the frame: x[b, f, t] = t / width (never -1 or 0)."""
    t = (np.arange(width, dtype="float32") + 1) / (width + 1)
    return np.broadcast_to(t[None, None, :, None], (batch, height, width, 1)).copy()


def test_policy_parsing_and_errors():
    assert aug.parse_policy("") == ()
    assert aug.parse_policy(" time_shift , cutout ") == ("time_shift", "cutout")
    with pytest.raises(ValueError, match="unknown augmentation 'flip'.*gain, time_shift, cutout"):
        aug.parse_policy("gain,flip")
    with pytest.raises(ValueError, match="twice"):
        aug.parse_policy("gain,gain")
    with pytest.raises(ValueError, match="comma-separated string"):
        aug.parse_policy(["gain"])


def test_time_shift_moves_whole_examples_in_time_and_fills_with_silence():
    x = _ramp()
    out = convert_to_numpy(aug.augment(x, ("time_shift",), keras.random.SeedGenerator(1)))
    limit = int(32 * aug.SHIFT_FRACTION)
    shifts = set()
    for b in range(len(x)):
        row = out[b, 0, :, 0]
        # Every frequency row moves by the same amount: frequency is never shifted.
        np.testing.assert_array_equal(out[b, :, :, 0], np.broadcast_to(row, (8, 32)))
        found = [s for s in range(-limit, limit + 1)
                 if np.allclose(row, _shifted(x[b, 0, :, 0], s))]
        assert len(found) == 1, row
        shifts.add(found[0])
    assert len(shifts) > 1  # each example its own shift


def _shifted(row, s):
    out = np.full_like(row, aug.SILENCE)
    if s >= 0:
        out[s:] = row[:len(row) - s]
    else:
        out[:s] = row[-s:]
    return out


def test_gain_adds_one_offset_per_example():
    x = _ramp()
    out = convert_to_numpy(aug.augment(x, ("gain",), keras.random.SeedGenerator(2)))
    offsets = (out - x).reshape(len(x), -1)
    np.testing.assert_allclose(offsets, offsets[:, :1] * np.ones_like(offsets), atol=1e-6)
    assert np.all(np.abs(offsets) <= aug.GAIN + 1e-6)
    assert len(np.unique(np.round(offsets[:, 0], 5))) == len(x)


def test_cutout_zeroes_one_rectangle_per_example():
    x = _ramp(batch=8, height=16, width=32)
    out = convert_to_numpy(aug.augment(x, ("cutout",), keras.random.SeedGenerator(3)))
    for b in range(len(x)):
        zero = out[b, :, :, 0] == 0
        assert zero.any()
        rows, cols = np.flatnonzero(zero.any(axis=1)), np.flatnonzero(zero.any(axis=0))
        # One rectangle, at most half of each side, everything else untouched.
        assert zero[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].all()
        assert zero.sum() == len(rows) * len(cols)
        assert len(rows) <= 8 and len(cols) <= 16
        np.testing.assert_array_equal(out[b][~zero], x[b][~zero])


def test_augmentation_is_differentiable():
    x = _ramp(batch=2)
    weights = keras.ops.convert_to_tensor(
        np.random.default_rng(0).normal(size=x.shape).astype("float32"))
    for policy in (("gain",), ("time_shift",), ("cutout",), aug.AUGMENTATIONS):
        seed = keras.random.SeedGenerator(4)
        grads = convert_to_numpy(_backend_module().input_gradient(
            lambda images: aug.augment(images, policy, seed) * weights,
            keras.ops.convert_to_tensor(x)))
        assert grads.shape == x.shape and np.isfinite(grads).all()
        assert np.abs(grads).sum() > 0, policy
    # For a shift the gradient is the weights moved back; for gain, the weights.
    seed = keras.random.SeedGenerator(5)
    grads = convert_to_numpy(_backend_module().input_gradient(
        lambda images: aug.augment(images, ("gain",), seed) * weights,
        keras.ops.convert_to_tensor(x)))
    np.testing.assert_allclose(grads, convert_to_numpy(weights), atol=1e-6)


def test_the_discriminator_sees_real_and_fake_images_augmented(small_config, monkeypatch):
    import keras_soundgan.models.soundgan as soundgan

    config = small_config.with_overrides({"training.augmentation": "cutout",
                                          "training.loss": "non-saturating"})
    model = SoundGAN(config)
    calls = []

    def recording(images, policy, seed, draw=None, probability=None):
        out = aug.augment(images, policy, seed, draw, probability)
        calls.append((convert_to_numpy(images), convert_to_numpy(out), policy))
        return out

    monkeypatch.setattr(soundgan, "augment", recording)
    real = np.random.default_rng(0).uniform(0.1, 1, (4, *config.spectrogram.image_shape))
    real = real.astype("float32")
    z = model.latent(4, seed=0)
    model.discriminator_loss(real, z, _backend_module().input_gradient)
    assert len(calls) == 2  # the real batch, then the generated one
    np.testing.assert_array_equal(calls[0][0], real)
    fake = convert_to_numpy(model.generator(keras.ops.convert_to_tensor(z), training=True))
    np.testing.assert_allclose(calls[1][0], fake, atol=1e-5)
    for _, out, policy in calls:  # neither real data nor tanh outputs are ever exactly 0
        assert policy == ("cutout",)
        assert all((image == 0).sum() >= 4 for image in out)
    model.generator_loss(z)  # the generator is judged through the augmentation too
    assert len(calls) == 3


def test_probability_chooses_which_examples_are_augmented():
    x = _ramp(batch=64)
    seed = keras.random.SeedGenerator(6)
    none = convert_to_numpy(aug.augment(x, ("gain",), seed, probability=0.0))
    np.testing.assert_array_equal(none, x)
    every = convert_to_numpy(aug.augment(x, ("gain",), seed, probability=1.0))
    assert (np.abs(every - x).reshape(64, -1).max(axis=1) > 0).all()
    some = convert_to_numpy(aug.augment(x, ("gain",), seed, probability=0.5))
    changed = np.abs(some - x).reshape(64, -1).max(axis=1) > 0
    assert 16 < changed.sum() < 48


def _adaptive(small_config, **overrides):
    return small_config.with_overrides({"training.loss": "non-saturating",
                                        "training.augmentation": "gain,time_shift",
                                        "training.augmentation_target": 0.6, **overrides})


def test_adaptive_augmentation_rises_while_the_critic_is_sure_of_real_examples(small_config):
    import keras_soundgan.models.soundgan as soundgan

    model = SoundGAN(_adaptive(small_config))
    assert float(convert_to_numpy(model.augment_probability)) == 0.0
    real = np.random.default_rng(0).uniform(-1, 1, (8, *model.config.spectrogram.image_shape))
    z = model.latent(8, seed=0)
    gradient = _backend_module().input_gradient
    score = model.discriminator.get_layer("score")
    # A critic that calls every image real: E[sign(D(real))] = 1 > 0.6, p goes up.
    score.bias.assign(np.full(score.bias.shape, 100.0, "float32"))
    for _ in range(3):
        model.discriminator_loss(real.astype("float32"), z, gradient)
    step = 8 / soundgan.ADA_IMAGES
    np.testing.assert_allclose(float(convert_to_numpy(model.augment_probability)), 3 * step,
                               rtol=1e-5)
    # A critic that calls every image fake: p goes down, never below 0.
    score.bias.assign(np.full(score.bias.shape, -100.0, "float32"))
    for _ in range(5):
        model.discriminator_loss(real.astype("float32"), z, gradient)
    assert float(convert_to_numpy(model.augment_probability)) == 0.0


def test_adaptive_augmentation_trains_logs_and_resumes(small_config, tmp_path):
    config = _adaptive(small_config)
    model = SoundGAN(config)
    model.compile()
    model.augment_probability.assign(0.5)
    # A critic sure that every image is real: each of the 4 critic updates of fit (2
    # steps x n_critic 2) raises p by one step. (Left to an untrained critic, the updates
    # could cancel, and p came back to 0.5 now and then.)
    score = model.discriminator.get_layer("score")
    score.bias.assign(np.full(score.bias.shape, 100.0, "float32"))
    images = np.random.default_rng(0).uniform(-1, 1, (16, *config.spectrogram.image_shape))
    history = model.fit(images.astype("float32"), batch_size=8, epochs=1, verbose=0)
    assert "augment_probability" in history.history
    p = float(convert_to_numpy(model.augment_probability))
    np.testing.assert_allclose(p, 0.5 + 4 * 8 / 20_000, rtol=1e-5)
    model.save(tmp_path / "ada.keras")
    loaded = keras.saving.load_model(tmp_path / "ada.keras")
    assert float(convert_to_numpy(loaded.augment_probability)) == p


def test_adaptive_augmentation_needs_a_loss_centred_on_zero(small_config):
    with pytest.raises(ValueError, match="augmentation_target .*non-saturating.*hinge"):
        small_config.with_overrides({"training.augmentation": "gain",
                                     "training.augmentation_target": 0.6})
