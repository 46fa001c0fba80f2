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


def _as_from_a_shell():
    """In the child, before exec: Ctrl-C and SIGTERM as a shell leaves them for a
    program it starts (default actions, not blocked). A test runner's worker process
    may have changed either, and a child inherits ignored signals and blocked masks."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, (signal.SIGINT, signal.SIGTERM))


def _start_training(run, epochs=500):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        _cli("train", "--epochs", str(epochs), "--preview-every", "0", "-q", "-o", str(run)),
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_as_from_a_shell)


def test_resume_refuses_overrides_on_the_command_line(tmp_path):
    from click.testing import CliRunner

    from keras_soundgan.cli import main

    result = CliRunner().invoke(main, ["train", "--resume", str(tmp_path), "--seed", "3"])
    assert result.exit_code == 2
    assert ("only --epochs, --minutes, --distribute and --devices may change (got --seed)"
            in result.output)


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
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"still running 120 s after Ctrl-C (this process: SIGINT handler "
                    f"{signal.getsignal(signal.SIGINT)}, blocked "
                    f"{signal.pthread_sigmask(signal.SIG_BLOCK, [])}); its output:\n"
                    f"{out[-2000:]}{err[-2000:]}")
    assert proc.returncode == 130, out + err
    assert "Stopped: interrupted" in err and "--resume" in err
    assert "Traceback" not in err
    kept = Checkpoint.latest(run / "checkpoints")[0]
    assert kept >= epoch
    _resume_in_this_process(run, kept)


@pytest.mark.slow
def test_sigterm_is_handled_like_ctrl_c_then_generate_and_resume(tmp_path):
    """`timeout` and service managers stop a run with SIGTERM: the last complete epoch
    is kept, the resume command printed, the exit code 143 (128 + 15, as Ctrl-C's is
    128 + 2); the stopped run generates from its checkpoint, and resumes."""
    run = tmp_path / "run"
    proc = _start_training(run)
    epoch = _wait_for_epoch(run, proc, 1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, out + err
    assert "Stopped: terminated (SIGTERM)" in err and f"--resume {run}" in err
    assert "Traceback" not in err
    kept = Checkpoint.latest(run / "checkpoints")[0]
    assert kept >= epoch and not (run / "model.keras").exists()

    from click.testing import CliRunner

    from keras_soundgan.cli import main

    result = CliRunner().invoke(main, ["generate", str(run), "-n", "2", "-o",
                                       str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    assert (f"Note: {run} has no model.keras (its training did not finish): using its last "
            f"checkpoint, epoch {kept}") in result.stderr
    assert len(list((tmp_path / "g").glob("*.wav"))) == 2
    result = CliRunner().invoke(main, ["export", str(run), "--signature", "spectrogram",
                                       "-o", str(tmp_path / "g.tflite")])
    assert result.exit_code == 0, result.output
    assert "has no model.keras" in result.stderr and (tmp_path / "g.tflite").is_file()
    _resume_in_this_process(run, kept)


def _resume_in_this_process(run, kept):
    """``train --resume RUN --epochs kept+1`` through click in this process: what the
    stopped process left is all a resume reads (a new process adds only its start)."""
    from click.testing import CliRunner

    from keras_soundgan.cli import main

    done = CliRunner().invoke(main, ["train", "--resume", str(run), "--epochs", str(kept + 1),
                                     "-q"])
    assert done.exit_code == 0, done.output
    assert f"Resuming {run} from epoch {kept}" in done.stdout
    assert Checkpoint.latest(run / "checkpoints")[0] == kept + 1


def _stopped_run(tmp_path, epochs=2):
    """A run as Ctrl-C, SIGTERM or kill -9 leaves it: checkpoints, no model.keras."""
    config = SoundGANConfig.from_preset("tiny").with_overrides(
        {**SMALL, "training.epochs": epochs})
    runs.train(config, tmp_path / "run", verbose=0, preview_every=0, num_samples=1)
    (tmp_path / "run" / "model.keras").unlink()
    return tmp_path / "run"


def test_a_run_without_model_keras_uses_its_last_checkpoint_and_says_so(tmp_path):
    from click.testing import CliRunner

    from keras_soundgan.cli import main

    run = _stopped_run(tmp_path)
    path, note = runs.model_file(run)
    assert path == run / "checkpoints" / "epoch-0002.keras"
    assert "has no model.keras" in note and "epoch 2" in note
    notes = []
    model = runs.load_run(run, log=notes.append)
    assert notes == [note] and int(model.optimizer.iterations) == 2 * STEPS_PER_EPOCH
    import logging

    class Keep(logging.Handler):  # the CLI stops this logger's propagation to the root
        def emit(self, record):
            notes.append((record.levelname, record.getMessage()))

    logger = logging.getLogger("keras_soundgan")
    keep = Keep()
    logger.addHandler(keep)
    try:
        runs.load_run(run)  # without log=: a warning of the keras_soundgan logger
    finally:
        logger.removeHandler(keep)
    assert notes[-1] == ("WARNING", note)
    for args in (["generate", str(run), "-n", "1", "-q", "-o", str(tmp_path / "g")],
                 ["info", str(run)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert f"Note: {note}" in result.stderr
    assert "trained steps: 6" in result.stdout
    # With no checkpoint either, the error says why.
    (run / "checkpoints" / "latest.json").unlink()
    result = CliRunner().invoke(main, ["generate", str(run)])
    assert result.exit_code == 1
    assert "holds no model.keras and no checkpoint" in result.output
    assert "stopped before the first epoch ended" in result.output


def test_a_truncated_model_keras_is_refused_as_damaged(tmp_path):
    from click.testing import CliRunner

    from keras_soundgan.cli import main

    config = SoundGANConfig.from_preset("tiny").with_overrides({**SMALL, "training.epochs": 1})
    run = runs.train(config, tmp_path / "run", verbose=0, preview_every=0,
                     num_samples=1).run_dir
    model_file = run / "model.keras"
    whole = model_file.read_bytes()
    model_file.write_bytes(whole[: len(whole) * 2 // 3])  # a copy cut short
    for command in ("generate", "info"):
        result = CliRunner().invoke(main, [command, str(run)])
        assert result.exit_code == 1
        assert f"Error: {model_file} is damaged: it is not a complete .keras (zip) archive" \
            in result.output
        assert "File not found" not in result.output
        assert "epoch-0001.keras" in result.output  # where a good copy is
    from keras_soundgan.export import export_model

    with pytest.raises(ValueError, match="model.keras is damaged: it is not a complete"):
        export_model(run, tmp_path / "m.tflite")
    model_file.write_bytes(b"")
    with pytest.raises(ValueError, match="is damaged: it is empty"):
        runs.load_run(run)
    # A flipped byte inside the weights: the zip's checksum catches it.
    middle = len(whole) // 2
    model_file.write_bytes(whole[:middle] + bytes([whole[middle] ^ 0xFF]) + whole[middle + 1:])
    with pytest.raises(ValueError, match="is damaged: its model.weights.h5 fails its checksum"):
        runs.load_run(run)


def test_a_folder_smaller_than_one_batch_trains_with_a_smaller_batch(tmp_path):
    """12 recordings and the tiny preset's batch of 32: the batch becomes 12, said in
    one line and recorded in config.json."""
    from click.testing import CliRunner

    from keras_soundgan.cli import main

    folder = tmp_path / "sounds"
    folder.mkdir()
    rate = 16000
    t = np.arange(rate // 4) / rate
    for i in range(12):
        sf.write(folder / f"hit{i:02d}.wav",
                 (0.5 * np.sin(2 * np.pi * (200 + 50 * i) * t) * np.exp(-10 * t)), rate)
    sets = [a for k, v in SMALL.items() for a in ("--set", f"{k}={v}")]
    result = CliRunner().invoke(main, ["train", str(folder), *sets, "--epochs", "2",
                                       "--samples", "1", "--preview-every", "0", "-q",
                                       "--cache", str(tmp_path / "cache"),
                                       "-o", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert ("The data has 12 examples, fewer than one batch of 32: training with batch 12 "
            "(training.batch_size)") in result.output
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["training"]["batch_size"] == 12
    assert json.loads((tmp_path / "run" / "checkpoints" / "latest.json").read_text())[
        "step"] == 2  # one step of 12 per epoch


def test_fit_batch_size_keeps_a_multiple_of_the_devices():
    config = SoundGANConfig.from_preset("tiny")  # batch 32
    same, message = runs.fit_batch_size(config, 100)
    assert same is config and message is None
    fitted, message = runs.fit_batch_size(config, 13, num_replicas=2)
    assert fitted.training.batch_size == 12 and "training with batch 12" in message
    fitted, _ = runs.fit_batch_size(config, 1)
    assert fitted.training.batch_size == 1
    with pytest.raises(ValueError, match="1 example, fewer than the 2 devices"):
        runs.fit_batch_size(config, 1, num_replicas=2)


def test_time_limit_stops_before_the_budget_by_the_last_epoch(monkeypatch):
    from keras_soundgan import callbacks

    now = [100.0]
    monkeypatch.setattr(callbacks.time, "monotonic", lambda: now[0])

    class Model:
        stop_training = False

    def epoch(limit, index, steps):  # steps: seconds of each step
        limit.on_epoch_begin(index)
        for i, seconds in enumerate(steps):
            now[0] += seconds
            limit.on_train_batch_end(i)
        limit.on_epoch_end(index)
        return limit.model.stop_training

    limit = callbacks.TimeLimit(minutes=1)
    limit.set_model(Model())
    limit.on_train_begin()
    # The first epoch: a 12 s step that compiles, then four of 2 s: 20 s, counted as
    # an epoch of 10 s (5 steps of 2 s) for what comes next.
    ends = [epoch(limit, 0, [12, 2, 2, 2, 2])]
    for index in range(1, 5):
        ends.append(epoch(limit, index, [2] * 5))
        if ends[-1]:
            break
    # Ends at 20, 30, 40, 50 s: after 50 s another 10 s epoch ends at 60 s, not past
    # the budget, so the fifth runs; after it (60 s) a sixth would end past it.
    assert ends == [False, False, False, False, True]
    assert limit.stopped_epoch == 5 and limit.elapsed == 60
    limit = callbacks.TimeLimit(minutes=0.1)  # 6 s: the first epoch always runs
    limit.set_model(Model())
    limit.on_train_begin()
    assert epoch(limit, 0, [30]) and limit.stopped_epoch == 1
    for bad in (0, -1, float("nan"), "5", True):
        with pytest.raises(ValueError, match="minutes must be a number > 0"):
            callbacks.TimeLimit(bad)


def test_minutes_stops_within_one_epoch_of_the_budget_and_resumes(tmp_path):
    """train(minutes=...) by time alone: it ends at an epoch boundary less than one
    epoch before the budget, writes the run as usual, and resumes for more minutes."""
    import time as clock

    class EpochEnds(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start, self.ends = clock.monotonic(), []

        def on_epoch_end(self, epoch, logs=None):
            self.ends.append(clock.monotonic() - self.start)

    budget = 0.2  # minutes: 12 s, several epochs of 3 small steps
    config = SoundGANConfig.from_preset("tiny").with_overrides(
        {**SMALL, "training.epochs": runs.NO_EPOCH_LIMIT})
    ends = EpochEnds()
    result = runs.train(config, tmp_path / "run", minutes=budget, verbose=0, preview_every=0,
                        num_samples=1, callbacks=[ends])
    assert result.stopped_by_time and result.epochs == len(ends.ends) >= 2
    seconds = budget * 60
    longest = max(np.diff([0.0] + ends.ends))
    # Within one epoch of the budget, on the early side (the last epoch's length, plus
    # a margin for epochs that differ on a shared machine).
    assert seconds - 2 * longest <= ends.ends[-1] <= seconds + 0.5 * longest, ends.ends
    assert (tmp_path / "run" / "model.keras").is_file()
    assert Checkpoint.latest(tmp_path / "run" / "checkpoints")[0] == result.epochs
    first = result.epochs
    with pytest.raises(ValueError, match="has no epoch limit"):
        runs.train(None, tmp_path / "run", resume=True, verbose=0)
    again = runs.train(None, tmp_path / "run", resume=True, minutes=0.05, verbose=0,
                       preview_every=0, num_samples=1)
    assert again.epochs > first and again.stopped_by_time
    assert len(again.history["d_loss"]) == again.epochs


def test_cli_minutes_alone_has_no_epoch_limit_and_resume_asks_for_more(tmp_path,
                                                                       monkeypatch):
    from click.testing import CliRunner

    from keras_soundgan.cli import main

    monkeypatch.chdir(tmp_path)
    sets = [a for k, v in SMALL.items() for a in ("--set", f"{k}={v}")]
    run = tmp_path / "runs" / "run"
    result = CliRunner().invoke(main, ["train", *sets, "--minutes", "0.02", "--samples", "1",
                                       "--preview-every", "0", "-q", "-o", str(run)])
    assert result.exit_code == 0, result.output
    assert "0.02 minutes, batch 32" in result.output
    assert f"continue: keras-soundgan train --resume {run} --minutes N" in result.output
    config = json.loads((run / "config.json").read_text())
    assert config["training"]["epochs"] == runs.NO_EPOCH_LIMIT
    result = CliRunner().invoke(main, ["train", "--resume", str(run)])
    assert result.exit_code == 2 and "say how much longer with --minutes N" in result.output
    kept = Checkpoint.latest(run / "checkpoints")[0]
    # The newest run under runs/, as `keras-soundgan runs` lists them.
    result = CliRunner().invoke(main, ["train", "--resume", "latest", "--epochs",
                                       str(kept + 1), "--minutes", "5", "-q"])
    assert result.exit_code == 0, result.output
    assert f"5 minutes or {kept + 1} epochs, whichever comes first" in result.output
    assert Checkpoint.latest(run / "checkpoints")[0] == kept + 1
    result = CliRunner().invoke(main, ["train", "--minutes", "0"])
    assert result.exit_code == 2 and "--minutes" in result.output


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path):
    config = SoundGANConfig.from_preset("tiny").with_overrides(
        {**SMALL, "training.epochs": 5})

    class PoisonInEpoch3(keras.callbacks.Callback):
        batches = {}

        def on_train_batch_begin(self, batch, logs=None):
            if self.epoch == 2 and batch == 1:
                variable = self.model.generator.trainable_variables[0]
                variable.assign(np.full(variable.shape, np.nan, "float32"))

        def on_train_batch_end(self, batch, logs=None):
            self.batches[self.epoch] = self.batches.get(self.epoch, 0) + 1

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

    with pytest.raises(runs.TrainingDiverged,
                       match=r"NaN or infinite in epoch 3.*last good checkpoint is epoch 2"):
        runs.train(config, tmp_path / "run", verbose=0, callbacks=[PoisonInEpoch3()],
                   preview_every=0)
    # The first NaN batch stopped training: the epoch's other batches never ran.
    assert PoisonInEpoch3.batches[0] > 2 and PoisonInEpoch3.batches[2] == 2, \
        PoisonInEpoch3.batches
    epoch, path = Checkpoint.latest(tmp_path / "run" / "checkpoints")
    assert epoch == 2
    model = keras.saving.load_model(path)
    assert all(np.isfinite(w).all() for w in _weights(model))
    assert not (tmp_path / "run" / "model.keras").exists()


def test_checkpoint_keep_is_checked_and_a_damaged_state_falls_back(tmp_path):
    for keep in (0, -1, True, 1.5, "2"):
        with pytest.raises(ValueError, match=f"keep must be a positive integer.*{keep!r}"):
            Checkpoint(tmp_path, keep=keep)
    assert Checkpoint(tmp_path, keep=np.int64(3)).keep == 3
    assert Checkpoint.latest(tmp_path) is None
    for epoch in (9, 10, 9999, 10000):  # by number, not by name: 10000 is the newest
        (tmp_path / f"epoch-{epoch:04d}.keras").write_bytes(b"")
    state = tmp_path / "latest.json"
    state.write_text('{"epoch": 10000, "file": "epoch-10000.keras"}')
    assert Checkpoint.latest(tmp_path) == (10000, tmp_path / "epoch-10000.keras")
    state.write_text('{"epoch": 10000, "fi')  # cut short by a full disk
    with pytest.warns(UserWarning, match=r"latest.json is damaged.*epoch-10000.keras"):
        assert Checkpoint.latest(tmp_path) == (10000, tmp_path / "epoch-10000.keras")
    for path in tmp_path.glob("epoch-*.keras"):
        path.unlink()
    with pytest.warns(UserWarning, match="no checkpoint beside it"):
        assert Checkpoint.latest(tmp_path) is None


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


def test_labelled_data_trains_a_conditional_model_unless_told_otherwise(tmp_path):
    """``conditional=None`` (the default): conditional when there are two classes or
    more, named samples; unlabelled data and ``conditional=False`` train unconditionally."""
    config = SoundGANConfig.from_preset("tiny", epochs=1, **SMALL)
    rng = np.random.default_rng(0)
    for folder in ("labelled/low", "labelled/high", "plain"):
        (tmp_path / folder).mkdir(parents=True)
        for i in range(8):
            t = np.arange(2048) / 16000
            tone = np.sin(2 * np.pi * (200 if "low" in folder else 2000) * (1 + i / 20) * t)
            sf.write(tmp_path / folder / f"{i}.wav", 0.5 * tone * np.exp(-6 * t)
                     + rng.normal(0, 0.01, t.shape), 16000)
    common = dict(verbose=0, preview_every=0, num_samples=3)
    logs = []
    run = runs.train(config, tmp_path / "auto", tmp_path / "labelled", log=logs.append,
                     cache_dir=tmp_path / "c1", **common)
    assert run.model.num_classes == 2
    assert any("Conditional on the data's 2 classes (high, low)" in m for m in logs)
    assert [p.name for p in run.sample_files[:3]] == ["high_00.wav", "low_01.wav",
                                                      "high_02.wav"]
    off = runs.train(config, tmp_path / "off", tmp_path / "labelled", conditional=False,
                     cache_dir=tmp_path / "c1", **common)
    assert off.model.num_classes == 0 and off.sample_files[0].name == "sample_00.wav"
    plain = runs.train(config, tmp_path / "plain_run", tmp_path / "plain",
                       cache_dir=tmp_path / "c2", **common)
    assert plain.model.num_classes == 0


def test_a_signal_whose_interrupt_was_swallowed_still_stops_training():
    """Code that catches everything (Keras's saving does, around a checkpoint's
    temporary file) can swallow Ctrl-C's KeyboardInterrupt; the signal is recorded, and
    the callback that `train` adds raises it again at the next batch."""
    from keras_soundgan.runs import _signals_as_interrupt, _stop_on_signal

    # Python's own Ctrl-C handling, whatever the test runner set (restored below).
    runner_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _check_swallowed_interrupt(_signals_as_interrupt, _stop_on_signal)
    finally:
        signal.signal(signal.SIGINT, runner_handler)


def test_a_signal_inside_a_gc_callback_is_left_to_the_next_batch(monkeypatch):
    """A KeyboardInterrupt raised inside a garbage-collector callback (JAX has one) is
    printed by Python as "Exception ignored in ..." with a traceback, and dropped: the
    handler records the signal there without raising, and the next batch stops."""
    import gc

    from keras_soundgan.runs import _signals_as_interrupt, _stop_on_signal

    def collecting(phase, info):
        if phase == "start" and not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.2)  # the handler runs here, inside the callback

    sent, stopped, dropped = [], {}, []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)  # "Exception ignored in"
    runner_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with _signals_as_interrupt(stopped):
            gc.callbacks.append(collecting)  # here: any collection now is one of ours
            try:
                gc.collect()
            finally:
                gc.callbacks.remove(collecting)
            assert sent and stopped == {"signal": signal.SIGINT}
            with pytest.raises(KeyboardInterrupt):
                _stop_on_signal(stopped).on_train_batch_end(0, {})
    finally:
        signal.signal(signal.SIGINT, runner_handler)
    assert not dropped, [(hook.exc_type, hook.object) for hook in dropped]


def _check_swallowed_interrupt(_signals_as_interrupt, _stop_on_signal):
    stopped = {}
    callback = _stop_on_signal(stopped)
    with _signals_as_interrupt(stopped):
        callback.on_train_batch_end(0, {})  # nothing recorded: training goes on
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs here, in the main thread
        except BaseException:  # noqa: BLE001  (what Keras's saving does)
            pass
        assert stopped == {"signal": signal.SIGINT}
        with pytest.raises(KeyboardInterrupt):
            callback.on_train_batch_end(1, {})
        with pytest.raises(KeyboardInterrupt):
            callback.on_epoch_end(0, {})
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None)
