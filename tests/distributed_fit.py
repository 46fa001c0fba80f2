"""One device against two, in one process: run by tests/test_distribute.py.

    python tests/distributed_fit.py OUT.json ['{"section.field": value, ...}']

Under ``KERAS_BACKEND=tensorflow`` the process splits its CPU into two logical devices
(before TensorFlow starts); under ``KERAS_BACKEND=jax`` the caller sets
``XLA_FLAGS=--xla_force_host_platform_device_count=2``. The same model (conditional,
WGAN-GP with R1, BatchNorm in the generator, spectral norm in the discriminator, EMA)
is then fitted twice on the same data and seed: on one device (``distribute='none'``)
and on two (the backend's engine, ``distribute='auto'``), with the same global batch.
OUT.json gets the largest difference between the two runs' weights, losses, noise
state and step counts.
"""

import json
import os
import sys

import keras

if keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])

import numpy as np  # noqa: E402

from keras_soundgan import SoundGAN, SoundGANConfig, spectrogram_dataset  # noqa: E402
from keras_soundgan.distribute import distribution_for  # noqa: E402

from conftest import SMALL_SETTINGS  # noqa: E402  (tests/ is this script's folder)

CONFIG = {
    **SMALL_SETTINGS,
    "generator.num_classes": 3,
    "discriminator.spectral_norm": True,
    "training.r1_weight": 1.0,
    "training.ema_decay": 0.9,
}


def fit(distribute, changes=None):
    settings = {**CONFIG, **(changes or {}), "training.distribute": distribute}
    config = SoundGANConfig.from_preset("tiny", **settings)
    distribution = distribution_for(config)
    keras.utils.set_random_seed(0)  # the weights, and tf.data's shuffling order
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (32, 32, 32, 1)).astype("float32")
    labels = rng.integers(0, 3, 32).astype("int32")
    dataset = spectrogram_dataset(images, labels, batch_size=8, seed=0)
    with distribution.scope():
        model = SoundGAN(config)
        model.compile()
        history = model.fit(dataset, epochs=2, verbose=0)
    state = keras.ops.convert_to_numpy(model.seed_generator.state)
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    return distribution, model.get_weights(), history.history, state, steps


def main(out, changes=None):
    one, weights_1, history_1, state_1, steps_1 = fit("none", changes)
    two, weights_2, history_2, state_2, steps_2 = fit("auto", changes)
    result = {
        "replicas": [one.num_replicas, two.num_replicas],
        "kind": two.kind,
        "num_weights": [len(weights_1), len(weights_2)],
        "largest_weight": max(float(np.max(np.abs(w))) for w in weights_1),
        "max_weight_difference": max(float(np.max(np.abs(a - b)))
                                     for a, b in zip(weights_1, weights_2)),
        "max_loss_difference": max(abs(a - b) for k in history_1
                                   for a, b in zip(history_1[k], history_2[k])),
        "losses": sorted(history_1) == sorted(history_2) and sorted(history_1),
        "same_noise_state": bool(np.array_equal(state_1, state_2)),
        "steps": [steps_1, steps_2],
    }
    with open(out, "w") as f:
        json.dump(result, f)
    print(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main(sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else None)
