"""Data parallelism: the config field, its errors, and one device against two.

The agreement tests run in subprocesses, because devices are fixed when a backend
starts: TensorFlow gets two logical CPU devices (tests/distributed_fit.py makes them),
JAX gets ``--xla_force_host_platform_device_count=2``, and the multi-worker test starts
two TensorFlow worker processes that talk over localhost.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from conftest import JAX_XLA_FLAGS
from keras_soundgan import SoundGANConfig
from keras_soundgan.distribute import distribution_for, resolve_kind

ROOT = Path(__file__).resolve().parent.parent
# One float32 sum split in two differs from the whole by rounding only: about 3e-7
# was measured for the weights after 8 steps on both engines.
SAME_RESULT_ATOL = 1e-5


def _env(backend, **extra):
    env = dict(os.environ, KERAS_BACKEND=backend, **extra)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _check(proc, what):
    output = (proc.stdout + proc.stderr)[-5000:]
    assert proc.returncode == 0, f"{what} exited with {proc.returncode}:\n{output}"


# -- the config field and its errors ---------------------------------------------------

def test_distribute_is_a_validated_config_field():
    config = SoundGANConfig.from_preset("tiny", **{"training.distribute": "mirrored",
                                                   "training.devices": 2})
    assert SoundGANConfig.from_config(config.get_config()) == config
    assert '"distribute": "mirrored"' in config.to_json()
    with pytest.raises(ValueError, match="training.distribute must be one of"):
        SoundGANConfig.from_preset("tiny", **{"training.distribute": "horovod"})
    with pytest.raises(ValueError, match=r"training.batch_size must be a multiple of "
                                         r"training.devices \(3\)"):
        SoundGANConfig.from_preset("tiny", **{"training.devices": 3})


def test_the_cli_offers_the_configs_choices():
    from keras_soundgan import cli, config

    assert cli.DISTRIBUTE == config.DISTRIBUTE


@pytest.mark.parametrize("kind, backend, message", [
    ("auto", "torch", "no data-parallel engine on the torch backend"),
    ("mirrored", "jax", "runs on the tensorflow backend, but Keras is using 'jax'"),
    ("multi-worker", "torch", "set KERAS_BACKEND=tensorflow"),
    ("data-parallel", "tensorflow", "set KERAS_BACKEND=jax"),
])
def test_a_kind_the_backend_cannot_run_is_refused(kind, backend, message):
    with pytest.raises(ValueError, match=message):
        resolve_kind(kind, backend)


def test_auto_picks_the_backends_engine():
    assert resolve_kind("auto", "tensorflow") == "mirrored"
    assert resolve_kind("auto", "jax") == "data-parallel"
    assert resolve_kind("none", "torch") == "none"


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow strategies")
def test_bad_device_settings_are_refused_before_training(monkeypatch):
    tiny = SoundGANConfig.from_preset("tiny")
    assert distribution_for(tiny).kind == "none"
    with pytest.raises(ValueError, match="training.devices=2 needs training.distribute"):
        distribution_for(tiny.with_overrides({"training.devices": 2}))
    with pytest.raises(ValueError, match=r"training.devices=4 but this machine has 1 CPU"):
        distribution_for(tiny.with_overrides({"training.distribute": "mirrored",
                                              "training.devices": 4}))
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs the TF_CONFIG environment variable"):
        distribution_for(tiny.with_overrides({"training.distribute": "multi-worker"}))
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        distribution_for(tiny.with_overrides({"training.distribute": "multi-worker"}))


def test_one_device_mirrored_trains_like_none(small_config):
    """A strategy of one replica goes through the whole distributed path (strategy.run,
    replica context, per-replica noise) in this process."""
    from keras_soundgan import SoundGAN

    if keras.backend.backend() != "tensorflow":
        pytest.skip("the TensorFlow engine; JAX's runs in the subprocess test")
    images = np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 1)).astype("float32")
    weights = []
    for kind in ("none", "mirrored"):
        config = small_config.with_overrides({"training.distribute": kind})
        distribution = distribution_for(config)
        keras.utils.set_random_seed(0)
        with distribution.scope():
            model = SoundGAN(config)
            model.compile()
            model.fit(images, batch_size=8, epochs=1, verbose=0, shuffle=False)
        weights.append(model.get_weights())
    assert max(np.max(np.abs(a - b)) for a, b in zip(*weights)) < SAME_RESULT_ATOL


def test_resume_may_move_to_other_devices(tmp_path):
    from keras_soundgan.runs import resume_settings

    config = SoundGANConfig.from_preset("tiny")
    (tmp_path / "config.json").write_text(config.to_json())
    (tmp_path / "data.json").write_text(json.dumps({"source": "embedded drum kit"}))
    moved = config.with_overrides({"training.distribute": "data-parallel",
                                   "training.devices": 2, "training.epochs": 50})
    assert resume_settings(tmp_path, moved, None)[0] == moved
    with pytest.raises(ValueError, match="only training.epochs, training.distribute, "
                                         "training.devices may change"):
        resume_settings(tmp_path, config.with_overrides({"training.seed": 3}), None)


# -- one device against two, on each engine --------------------------------------------

def _one_against_two(backend, tmp_path, **env):
    out = tmp_path / "result.json"
    proc = subprocess.run([sys.executable, "tests/distributed_fit.py", str(out)], cwd=ROOT,
                          env=_env(backend, **env), capture_output=True, text=True,
                          timeout=600)
    _check(proc, f"tests/distributed_fit.py under {backend}")
    result = json.loads(out.read_text())
    assert result["replicas"] == [1, 2]
    assert result["num_weights"][0] == result["num_weights"][1] > 40
    assert result["steps"] == [8, 8]
    assert result["same_noise_state"]
    assert result["losses"] == ["d_loss", "g_loss", "gradient_penalty"]
    assert result["largest_weight"] > 0.5  # the comparison is not of empty weights
    assert result["max_weight_difference"] < SAME_RESULT_ATOL, result
    assert result["max_loss_difference"] < SAME_RESULT_ATOL, result
    return result


@pytest.mark.slow
def test_two_tensorflow_devices_train_like_one(tmp_path):
    assert _one_against_two("tensorflow", tmp_path)["kind"] == "mirrored"


@pytest.mark.slow
def test_two_jax_devices_train_like_one(tmp_path):
    result = _one_against_two(
        "jax", tmp_path,
        XLA_FLAGS=f"--xla_force_host_platform_device_count=2 {JAX_XLA_FLAGS}")
    assert result["kind"] == "data-parallel"


# -- several hosts: two TensorFlow workers on localhost ---------------------------------

WORKER = """
import sys
import numpy as np
sys.path.insert(0, "tests")
from conftest import SMALL_SETTINGS
from keras_soundgan import SoundGANConfig, train
config = SoundGANConfig.from_preset("tiny", **SMALL_SETTINGS, **{
    "training.epochs": 2, "data.embedded_per_class": 6,
    "training.distribute": sys.argv[2]})
run = train(config, sys.argv[1], num_samples=2, preview_every=1, verbose=0)
np.savez(sys.argv[3], *run.model.get_weights())
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_workers_train_like_one_process(tmp_path):
    workers = [f"localhost:{_free_port()}", f"localhost:{_free_port()}"]
    procs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers},
                                "task": {"type": "worker", "index": index}})
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, str(tmp_path / "run"), "multi-worker",
             str(tmp_path / f"worker{index}.npz")],
            cwd=ROOT, env=_env("tensorflow", TF_CONFIG=tf_config),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for index, proc in enumerate(procs):
        try:
            stdout, stderr = proc.communicate(timeout=600)
        finally:
            for other in procs:
                if other.poll() is None and proc.returncode != 0:
                    other.kill()
        _check(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr),
               f"worker {index}")
    single = subprocess.run([sys.executable, "-c", WORKER, str(tmp_path / "single"), "none",
                             str(tmp_path / "single.npz")],
                            cwd=ROOT, env=_env("tensorflow"), capture_output=True, text=True,
                            timeout=600)
    _check(single, "the one-process run")

    # The chief (worker 0) wrote the run folder; worker 1 wrote nothing there.
    run = tmp_path / "run"
    assert (run / "model.keras").is_file() and (run / "history.csv").is_file()
    assert len(list((run / "samples").glob("*.wav"))) == 2
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "epoch-0001.keras", "epoch-0002.keras", "latest.json"]
    expected = np.load(tmp_path / "single.npz")
    for index in range(2):
        got = np.load(tmp_path / f"worker{index}.npz")
        assert len(got.files) == len(expected.files) > 20
        diff = max(float(np.max(np.abs(got[k] - expected[k]))) for k in expected.files)
        assert diff < SAME_RESULT_ATOL, f"worker {index} differs by {diff}"
    single_history = (tmp_path / "single" / "history.csv").read_text().splitlines()
    history = (run / "history.csv").read_text().splitlines()
    assert history[0] == single_history[0] and len(history) == 3
    for a, b in zip(history[1:], single_history[1:]):
        assert np.allclose([float(x) for x in a.split(",")[:4]],
                           [float(x) for x in b.split(",")[:4]], atol=SAME_RESULT_ATOL)
