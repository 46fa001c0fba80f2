"""Runs that users can trust: kill -9 and resume, NaN, Ctrl-C, previews, latent walks."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import soundfile as sf

from keras_soundgan import SoundGANConfig
from keras_soundgan import runs
from keras_soundgan.callbacks import Checkpoint

SMALL = {
    "spectrogram.slice_length": 2048, "spectrogram.n_fft": 64, "spectrogram.hop_length": 64,
    "generator.num_layers": 3, "generator.base_filters": 8, "generator.latent_dim": 16,
    "discriminator.num_layers": 3, "discriminator.base_filters": 8,
    "data.embedded_per_class": 16,  # 96 clips: 3 steps of 32 per epoch
}
STEPS_PER_EPOCH = 3


def _cli(*args):
    script = Path(sys.executable).parent / "keras-soundgan"
    sets = [a for k, v in SMALL.items() for a in ("--set", f"{k}={v}")]
    return [str(script), *args[:1], *sets, *args[1:]]


def _start_training(run, epochs=500):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        _cli("train", "--epochs", str(epochs), "--preview-every", "0", "-q", "-o", str(run)),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_resume_refuses_overrides_on_the_command_line(tmp_path):
    from click.testing import CliRunner

    from keras_soundgan.cli import main

    result = CliRunner().invoke(main, ["train", "--resume", str(tmp_path), "--seed", "3"])
    assert result.exit_code == 2
    assert "only --epochs, --distribute and --devices may change (got --seed)" in result.output


def _wait_for_epoch(run, proc, epoch, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        latest = Checkpoint.latest(run / "checkpoints")
        if latest and latest[0] >= epoch:
            return latest[0]
        if proc.poll() is not None:
            pytest.fail("training ended early: " + proc.stdout.read() + proc.stderr.read())
        time.sleep(0.2)
    proc.kill()
    pytest.fail("no checkpoint in time")


def _weights(model):
    return [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights]


@pytest.mark.slow
def test_kill_9_then_resume_continues_epoch_step_and_weights(tmp_path):
    run = tmp_path / "run"
    proc = _start_training(run)
    _wait_for_epoch(run, proc, 2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    epoch, path = Checkpoint.latest(run / "checkpoints")
    assert epoch >= 2
    saved = keras.saving.load_model(path)  # a complete file, never half-written
    assert int(saved.optimizer.iterations) == epoch * STEPS_PER_EPOCH

    start = {}

    class Capture(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            start["weights"] = _weights(self.model)
            start["step"] = int(self.model.optimizer.iterations)
            start["d_step"] = int(self.model.d_optimizer.iterations)

    config = SoundGANConfig.from_json(run / "config.json").with_overrides(
        {"training.epochs": epoch + 2})
    result = runs.train(config, run, resume=True, verbose=0, callbacks=[Capture()],
                        preview_every=0, num_samples=2)
    # It starts exactly where the checkpoint stopped: weights, both optimizers, steps.
    for a, b in zip(start["weights"], _weights(saved)):
        np.testing.assert_array_equal(a, b)
    assert start["step"] == epoch * STEPS_PER_EPOCH
    assert start["d_step"] == int(saved.d_optimizer.iterations)
    assert int(result.model.optimizer.iterations) == (epoch + 2) * STEPS_PER_EPOCH
    assert Checkpoint.latest(run / "checkpoints")[0] == epoch + 2
    assert len(result.history["d_loss"]) == epoch + 2  # one row per epoch, kill or not
    assert (run / "model.keras").is_file()


@pytest.mark.slow
def test_sigint_saves_and_exits_cleanly_then_resumes(tmp_path):
    run = tmp_path / "run"
    proc = _start_training(run)
    epoch = _wait_for_epoch(run, proc, 1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "Stopped: interrupted" in err and "--resume" in err
    assert "Traceback" not in err
    kept = Checkpoint.latest(run / "checkpoints")[0]
    assert kept >= epoch
    script = str(Path(sys.executable).parent / "keras-soundgan")
    done = subprocess.run([script, "train", "--resume", str(run), "--epochs", str(kept + 1),
                           "-q"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Resuming {run} from epoch {kept}" in done.stdout
    assert Checkpoint.latest(run / "checkpoints")[0] == kept + 1


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    config = SoundGANConfig.from_preset("tiny").with_overrides(
        {**SMALL, "training.epochs": 5})

    class PoisonInEpoch3(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 2 and batch == 1:
                variable = self.model.generator.trainable_variables[0]
                variable.assign(np.full(variable.shape, np.nan, "float32"))

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    with pytest.raises(runs.TrainingDiverged,
                       match=r"NaN or infinite in epoch 3.*last good checkpoint is epoch 2"):
        runs.train(config, tmp_path / "run", verbose=0, callbacks=[PoisonInEpoch3()],
                   preview_every=0)
    epoch, path = Checkpoint.latest(tmp_path / "run" / "checkpoints")
    assert epoch == 2
    model = keras.saving.load_model(path)
    assert all(np.isfinite(w).all() for w in _weights(model))
    assert not (tmp_path / "run" / "model.keras").exists()


def test_previews_tensorboard_and_checkpoint_rotation(tmp_path, monkeypatch):
    from keras_soundgan import SoundGAN

    calls = []
    generate = SoundGAN.generate
    monkeypatch.setattr(SoundGAN, "generate",
                        lambda self, n, **kw: calls.append(n) or generate(self, n, **kw))
    config = SoundGANConfig.from_preset("tiny").with_overrides({**SMALL, "training.epochs": 4})
    result = runs.train(config, tmp_path / "run", verbose=0, preview_every=2, num_samples=2)
    # The WAV/PNG preview and the TensorBoard preview share one generation per due
    # epoch (2 and 4); then the 2 samples at the end.
    assert calls == [4, 4, 2]
    run = result.run_dir
    previews = sorted(p.name for p in (run / "previews").iterdir())
    assert "epoch-0002.png" in previews and "epoch-0004.png" in previews
    wavs = [p for p in previews if p.endswith(".wav")]
    assert len(wavs) == 8  # 4 sounds at epochs 2 and 4
    audio, rate = sf.read(run / "previews" / wavs[0])
    assert rate == 16000 and audio.shape == (2048,)
    assert sorted(p.name for p in (run / "checkpoints").glob("*.keras")) == [
        "epoch-0003.keras", "epoch-0004.keras"]
    assert json.loads((run / "checkpoints" / "latest.json").read_text())["step"] == 12
    events = list((run / "logs").rglob("events.out.tfevents.*"))
    assert any("samples" in str(p) for p in events) and len(events) >= 2
    # Resuming a finished run says so instead of silently doing nothing.
    with pytest.raises(ValueError, match="already trained 4 of 4 epochs"):
        runs.train(None, run, resume=True, verbose=0)


def test_resume_refuses_a_changed_config_and_a_missing_run(tmp_path):
    config = SoundGANConfig.from_preset("tiny").with_overrides({**SMALL, "training.epochs": 1})
    runs.train(config, tmp_path / "run", verbose=0, preview_every=0, num_samples=1)
    with pytest.raises(ValueError, match="only training.epochs, training.distribute, "
                                         "training.devices may change"):
        runs.train(config.with_overrides({"training.batch_size": 8}), tmp_path / "run",
                   resume=True)
    with pytest.raises(FileNotFoundError, match="holds no config.json"):
        runs.train(None, tmp_path, resume=True)


def test_interpolation_walks_between_two_seeds(small_config):
    from keras_soundgan import SoundGAN

    model = SoundGAN(small_config)
    z = runs.interpolate_latents(model, 1, 2, 5)
    np.testing.assert_allclose(z[0], model.latent(1, 1)[0])
    np.testing.assert_allclose(z[-1], model.latent(1, 2)[0], atol=1e-6)
    steps = np.linalg.norm(np.diff(z, axis=0), axis=1)
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-4)  # even steps
    normal = SoundGAN(small_config.with_overrides({"generator.latent_distribution": "normal"}))
    zn = runs.interpolate_latents(normal, 1, 2, 7)
    norms = np.linalg.norm(zn, axis=1)
    assert norms.min() > 0.9 * min(norms[0], norms[-1])  # slerp keeps the radius
    with pytest.raises(ValueError, match="steps must be an integer >= 2"):
        runs.interpolate_latents(model, 1, 2, 1)
