"""The TensorFlow step's critic loop (``tf_step``): traced once, the same updates.

These need ``KERAS_BACKEND=tensorflow`` (the default); the step of the other backends
is tested under them by tests/test_backends.py. Under a ``tf.distribute`` strategy the
loop stays in Python: tests/test_distribute.py compares that (two devices) with the
``tf.while_loop`` (one device) at ``n_critic=2``.
"""

import keras
import numpy as np
import pytest

from keras_soundgan import SoundGAN

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="the TensorFlow backend's step")


def _images(config, n=16):
    return np.random.default_rng(0).uniform(
        -1, 1, (n, *config.spectrogram.image_shape)).astype("float32")


def _fit(config, **compile_args):
    keras.utils.set_random_seed(0)
    model = SoundGAN(config)
    model.compile(**compile_args)
    model.fit(_images(config), batch_size=8, epochs=1, verbose=0, shuffle=False)
    return model


@pytest.mark.parametrize("loss", ["wgan-gp", "hinge"])
def test_the_critics_update_is_traced_once_and_runs_n_critic_times(small_config,
                                                                    monkeypatch, loss):
    config = small_config.with_overrides({"training.n_critic": 3, "training.loss": loss})
    traced = []
    original = SoundGAN.discriminator_loss

    def counting(self, *args, **kwargs):
        traced.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SoundGAN, "discriminator_loss", counting)
    model = _fit(config)
    # One trace of the step (two batches of the same shape): one critic update in it,
    # in a tf.while_loop, where an unrolled loop would have traced three.
    assert len(traced) == 1
    assert int(model.d_optimizer.iterations) == 2 * 3
    assert int(model.g_optimizer.iterations) == 2


@pytest.mark.parametrize("loss", ["wgan-gp", "non-saturating"])
def test_the_traced_loop_updates_as_the_eager_one(small_config, loss):
    """The compiled step (the critic's updates in a tf.while_loop) against Keras's eager
    step (a Python loop): the same weights, optimizer states and noise state."""
    config = small_config.with_overrides({"training.n_critic": 3, "training.loss": loss,
                                          "generator.normalization": "batch"})
    traced, eager = _fit(config), _fit(config, run_eagerly=True)
    for a, b in zip(traced.weights + traced.optimizer.variables,
                    eager.weights + eager.optimizer.variables):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a),
                                   keras.ops.convert_to_numpy(b), rtol=0, atol=1e-5,
                                   err_msg=a.path)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(traced.seed_generator.state),
                                  keras.ops.convert_to_numpy(eager.seed_generator.state))
    assert int(traced.d_optimizer.iterations) == int(eager.d_optimizer.iterations) == 6
