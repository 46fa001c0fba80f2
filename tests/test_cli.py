import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from keras_soundgan.cli import main

# A very small configuration so that a whole `train` takes seconds.
SMALL = [
    "--set", "spectrogram.slice_length=2048", "--set", "spectrogram.n_fft=64",
    "--set", "spectrogram.hop_length=64", "--set", "generator.num_layers=3",
    "--set", "generator.base_filters=8", "--set", "discriminator.num_layers=3",
    "--set", "discriminator.base_filters=8", "--set", "training.n_critic=1",
]


def _run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _check_run_folder(run, sample_rate, length, n):
    for name in ("model.keras", "config.json", "statistics.npz", "history.csv", "data.json",
                 "checkpoints/latest.json", "samples/spectrograms.png"):
        assert (run / name).is_file(), name
    wavs = sorted((run / "samples").glob("*.wav"))
    assert len(wavs) == n
    for wav in wavs:
        audio, rate = sf.read(wav)
        assert rate == sample_rate and audio.shape == (length,)
        assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) > 0
    assert (run / "samples/spectrograms.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_train_generate_and_info(tmp_path):
    run = tmp_path / "run"
    result = _run(["train", *SMALL, "--epochs", "1", "--batch-size", "16", "--samples", "3",
                   "--seed", "4", "-o", str(run), "-q"])
    assert result.exit_code == 0, result.output
    assert "Run folder" in result.output
    _check_run_folder(run, 16000, 2048, 3)
    config = json.loads((run / "config.json").read_text())
    assert config["training"]["epochs"] == 1 and config["training"]["seed"] == 4
    assert config["generator"]["base_filters"] == 8
    from keras_soundgan.runs import read_history

    history = read_history(run)
    assert set(history) == {"d_loss", "g_loss"} and len(history["d_loss"]) == 1

    result = _run(["generate", str(run), "-n", "2", "--seed", "1", "-o", str(tmp_path / "gen")])
    assert result.exit_code == 0, result.output
    wavs = sorted((tmp_path / "gen").glob("*.wav"))
    assert len(wavs) == 2 and sf.info(wavs[0]).samplerate == 16000

    result = _run(["info", str(run)])
    assert result.exit_code == 0, result.output
    assert "generator:" in result.output and "trained steps:" in result.output

    # A second train into the same folder is refused, not overwritten.
    result = _run(["train", *SMALL, "--epochs", "1", "-o", str(run), "-q"])
    assert result.exit_code == 1 and "already holds a run" in result.output


@pytest.mark.parametrize("args, code, message", [
    (["train", "--preset", "huge"], 2, "'huge' is not one of 'tiny', 'drums', 'notes', 'speech', 'dcgan', 'specgan'"),
    (["train", "--set", "generator.latent=3"], 1, "unknown field generator.latent"),
    (["train", "--set", "training.loss=wasserstein"], 1, "training.loss must be one of"),
    (["train", "--set", "latent_dim"], 1, "section.field=value"),
    (["train", "--epochs", "0"], 2, "0 is not in the range"),
    (["train", "--bogus"], 2, "No such option"),
    (["generate", "/nonexistent/run"], 1, "does not exist"),
    (["info"], 2, "Missing argument"),
])
def test_bad_usage_is_one_clear_line(args, code, message):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_config_file_refused_before_training(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    result = CliRunner().invoke(main, ["train", "--config", str(broken)])
    assert result.exit_code == 1 and "broken.json" in result.output
    assert "is not valid JSON" in result.output
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"training": {"n_critic": 0}}))
    result = CliRunner().invoke(main, ["train", "--config", str(wrong)])
    assert result.exit_code == 1 and "training.n_critic must be a positive integer" in result.output


def test_config_file_with_preset_and_overrides(tmp_path, monkeypatch):
    from keras_soundgan import runs

    seen = {}

    def fake_train(config, run_dir, data_dir, **kwargs):  # records, trains nothing
        seen["config"] = config
        raise RuntimeError("stop here")

    monkeypatch.setattr(runs, "train", fake_train)
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"training": {"epochs": 7}}))
    result = CliRunner().invoke(main, ["train", "--preset", "specgan", "--config", str(path),
                                       "--set", "generator.latent_dim=12", "--seed", "3"])
    assert result.exit_code == 1 and "stop here" in result.output
    config = seen["config"]
    assert config.name == "specgan" and config.training.epochs == 7
    assert config.generator.latent_dim == 12 and config.training.seed == 3


def test_debug_shows_the_traceback():
    result = CliRunner().invoke(main, ["--debug", "train", "--set", "training.loss=x"])
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)


def test_presets_command():
    result = _run(["presets"])
    assert result.exit_code == 0
    assert "specgan  128x128" in result.output and "tiny" in result.output
    assert "drums    64x128" in result.output and "[pretrained]" in result.output
    listed = json.loads(_run(["presets", "--json"]).stdout)
    assert [name for name, p in listed.items() if p["pretrained"]] == [
        "tiny", "drums", "notes", "speech"]


def test_the_cli_preset_table_agrees_with_config():
    """cli.PRESETS repeats config.PRESETS (so that --help and presets need no Keras)."""
    from keras_soundgan import cli
    from keras_soundgan.config import SoundGANConfig, list_presets

    expected = {name: cli.preset_summary(SoundGANConfig.from_preset(name))
                for name in list_presets()}
    table = "PRESETS = {\n" + "".join(f"    {k!r}: {v!r},\n" for k, v in expected.items()) + "}"
    assert cli.PRESETS == expected, f"update keras_soundgan/cli.py to:\n{table}"


def test_help_presets_and_bad_usage_import_no_keras():
    """--help, presets and a usage error answer without importing Keras or TensorFlow
    (what made them take seconds); the time itself is measured in the benchmarks."""
    code = ("import sys\n"
            "from keras_soundgan.cli import main\n"
            "for args in (['--help'], ['train', '--help'], ['presets'], ['train', '-p', 'x']):\n"
            "    try:\n"
            "        main(args, prog_name='keras-soundgan')\n"
            "    except SystemExit:\n"
            "        pass\n"
            "heavy = [m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules]\n"
            "print('heavy:', heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert "heavy: []" in done.stdout, done.stdout + done.stderr
    assert "Usage: keras-soundgan train" in done.stdout


def test_help_lists_every_command_with_a_whole_summary():
    result = CliRunner().invoke(main, ["--help"], terminal_width=80)
    assert result.exit_code == 0
    listing = result.output.split("Commands:")[1].strip().splitlines()
    assert sorted(line.split()[0] for line in listing) == sorted(main.commands)
    assert not [line for line in listing if line.rstrip().endswith("...")], listing


def test_shell_completion_as_docs_reference_cli_says():
    """docs/reference/cli.md's completion line works: click completes the commands."""
    env = dict(os.environ, COMP_WORDS="keras-soundgan ru", COMP_CWORD="1",
               _KERAS_SOUNDGAN_COMPLETE="bash_complete")
    done = subprocess.run([_script("keras-soundgan")], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.split() == ["plain,runs"], done.stdout + done.stderr
    docs = (Path(__file__).parents[1] / "docs" / "reference" / "cli.md").read_text()
    assert '_KERAS_SOUNDGAN_COMPLETE=bash_source keras-soundgan' in docs


def _fake_run(folder, *, model=True, epoch=None, data='{"source": "x", "class_names": []}'):
    """A run folder's files without training: config, data, a .keras archive and/or a
    checkpoint."""
    import zipfile

    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"name": "tiny"}')
    (folder / "data.json").write_text(data)
    if model:
        with zipfile.ZipFile(folder / "model.keras", "w") as archive:
            archive.writestr("config.json", "{}")
            archive.writestr("metadata.json", "{}")
    if epoch is not None:
        (folder / "checkpoints").mkdir()
        (folder / "checkpoints" / f"epoch-{epoch:04d}.keras").write_bytes(b"x")
        (folder / "checkpoints" / "latest.json").write_text(
            json.dumps({"epoch": epoch, "file": f"epoch-{epoch:04d}.keras"}))


def test_runs_lists_complete_interrupted_and_damaged_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["runs"])
    assert result.exit_code == 0 and "No run folders in runs/" in result.output
    _fake_run(tmp_path / "runs" / "a-done", epoch=3,
              data='{"source": "x", "class_names": ["kick", "snare"]}')
    _fake_run(tmp_path / "runs" / "b-stopped", model=False, epoch=2)
    _fake_run(tmp_path / "runs" / "c-broken", data="{cut sho")
    (tmp_path / "runs" / "d-broken-model").mkdir()
    (tmp_path / "runs" / "d-broken-model" / "model.keras").write_bytes(b"PK\x03\x04cut")
    (tmp_path / "runs" / "not-a-run").mkdir()
    for i, name in enumerate(["a-done", "b-stopped", "c-broken", "d-broken-model"]):
        for path in (tmp_path / "runs" / name).rglob("*"):
            os.utime(path, (1000 + i, 1000 + i))
    result = CliRunner().invoke(main, ["runs", "--json"])
    assert result.exit_code == 0, result.output
    found = {Path(r["path"]).name: r for r in json.loads(result.output)}
    assert list(found) == ["a-done", "b-stopped", "c-broken", "d-broken-model"]
    assert (found["a-done"]["state"], found["a-done"]["epochs"],
            found["a-done"]["classes"]) == ("complete", 3, ["kick", "snare"])
    assert (found["b-stopped"]["state"], found["b-stopped"]["epochs"]) == ("interrupted", 2)
    assert found["c-broken"]["state"] == "damaged"
    assert "data.json is damaged" in found["c-broken"]["problem"]
    assert found["d-broken-model"]["state"] == "damaged"
    assert "model.keras: it is not a complete .keras (zip) archive" in \
        found["d-broken-model"]["problem"]
    table = CliRunner().invoke(main, ["runs"]).output
    assert "b-stopped" in table and "interrupted" in table and "kick, snare" in table
    # --resume takes 'latest' (the run written to last) or a name under runs/.
    from keras_soundgan.run_folder import find_run

    assert find_run("latest") == Path("runs") / "d-broken-model"
    assert find_run("b-stopped") == Path("runs") / "b-stopped"
    result = CliRunner().invoke(main, ["train", "--resume", "nope"])
    assert result.exit_code == 2
    assert "no run 'nope'" in result.output and "b-stopped" in result.output


NATIVE = ("E0000", "I0000", "W0000", "absl::InitializeLog", "cuda", "oneDNN",
          "cpu_feature_guard", "meta_optimizer")


def _script(name):
    script = Path(sys.executable).parent / name
    assert script.exists(), "install the package (pip install -e .) to get keras-soundgan"
    return str(script)


def test_stderr_of_presets_has_no_native_log_line():
    # A train's stderr is checked on the README's default train, below.
    done = subprocess.run([_script("keras-soundgan"), "presets"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and "specgan" in done.stdout
    assert done.stderr == ""


def test_the_native_log_filter_keeps_everything_else_in_order():
    """The filter on its own: native lines written to file descriptor 2 from C (here
    os.write) vanish; Python's lines, fatal native lines and a last line without a
    newline arrive, in order; --debug's path (no filter) keeps everything."""
    code = "\n".join([
        "import os, sys",
        "from keras_soundgan.native_logs import filter_native_logs",
        "if sys.argv[1] == 'filter':",
        "    assert filter_native_logs()",
        "os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called "
        "are written to STDERR\\n')",
        "os.write(2, b'I0000 00:00:1796052070.362916    7186 cudart_stub.cc:31] Could not "
        "find cuda drivers\\n')",
        "print('one', file=sys.stderr, flush=True)",
        "os.write(2, b'E0000 00:00:1796052401.539328   15093 cuda_platform.cc:52] failed "
        "call to cuInit\\n2024-01-31 12:00:00.123456: W tensorflow/core/x.cc:12] old\\n"
        "two\\n')",
        "os.write(2, b'F0000 00:00:1796052401.539328   15093 x.cc:1] Check failed: kept\\n')",
        "sys.stderr.write('three, no newline')",
    ])
    filtered = subprocess.run([sys.executable, "-c", code, "filter"], capture_output=True,
                              text=True, timeout=60)
    assert filtered.returncode == 0, filtered.stderr
    assert filtered.stderr == ("one\ntwo\nF0000 00:00:1796052401.539328   15093 x.cc:1] "
                               "Check failed: kept\nthree, no newline")
    plain = subprocess.run([sys.executable, "-c", code, "plain"], capture_output=True,
                           text=True, timeout=60)
    assert "cudart_stub.cc" in plain.stderr and "absl::InitializeLog" in plain.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One `train` of the small config on the embedded kit (so conditional, on its six
    drums), shared by the tests that only read a trained run: each gets its own copy
    (:func:`small_run`), so what one writes (a judge, an export) no other sees."""
    run = tmp_path_factory.mktemp("trained") / "run"
    assert _run(["train", *SMALL, "--epochs", "1", "--samples", "1", "-o", str(run), "-q",
                 "--preview-every", "0"]).exit_code == 0
    return run


@pytest.fixture
def small_run(trained, tmp_path):
    """A copy of :func:`trained`'s run folder in this test's own folder."""
    return Path(shutil.copytree(trained, tmp_path / "run"))


def test_generate_quiet_prints_nothing(small_run, tmp_path):
    run = small_run
    result = CliRunner().invoke(
        main, ["generate", str(run), "-n", "2", "-q", "-o", str(tmp_path / "g")])
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and len(list((tmp_path / "g").glob("*.wav"))) == 2


@pytest.mark.slow
def test_default_train_with_no_arguments(tmp_path):
    """The README's first command: `keras-soundgan train` alone, as a real process, and
    with no native log line (TensorFlow's, XLA's) on its stderr."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user runs it (conftest sets it)
    proc = subprocess.run(
        [_script("keras-soundgan"), "train"], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "Epoch 80/80" in proc.stdout and "Done in" in proc.stdout
    native = [line for line in proc.stderr.splitlines() if any(n in line for n in NATIVE)]
    assert not native, proc.stderr[-4000:]
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("tiny-")
    _check_run_folder(runs[0], 16000, 4096, 8)
    # The kit is labelled, so the model is conditional and each sample is named by the
    # kind of drum it was asked for.
    assert "Conditional on the data's 6 classes" in proc.stdout
    assert json.loads((runs[0] / "config.json").read_text())["generator"]["num_classes"] == 6
    assert sorted(p.name for p in (runs[0] / "samples").glob("*.wav")) == [
        "clap_03.wav", "hihat_02.wav", "kick_00.wav", "kick_06.wav", "rimshot_05.wav",
        "snare_01.wav", "snare_07.wav", "tom_04.wav"]


def test_evaluate_scores_the_run_beside_real_data(small_run, tmp_path):
    run = small_run
    scores = tmp_path / "scores.json"
    result = _run(["evaluate", str(run), "-n", "60", "--output", str(scores)])
    assert result.exit_code == 0, result.output
    assert "real (held out)" in result.output and "untrained" in result.output
    values = json.loads(scores.read_text())
    for row in (values[k] for k in ("real (held out)", "generated", "untrained")):
        assert 1.0 <= row["inception_score"] <= 6.0 and 0 <= row["ndb_k"] <= 1
    # The scores tell real sounds from an untrained generator's: the judge is sure of
    # the real kit's classes and of none of the noise, and the noise is far from it.
    real, untrained = values["real (held out)"], values["untrained"]
    assert real["inception_score"] > untrained["inception_score"] + 1.0, (real, untrained)
    assert untrained["frechet_distance"] > 2 * real["frechet_distance"], (real, untrained)
    # The judge is kept and reused; --json prints the file's content, the notes go to
    # stderr.
    assert (run / "judge.keras").is_file()
    result = _run(["evaluate", str(run), "-n", "60", "--json"])
    assert "Using the judge" in result.stderr
    assert json.loads(result.stdout)["generated"] == values["generated"]


def test_conditional_train_generate_by_label_and_evaluate(tmp_path):
    run = tmp_path / "run"
    result = _run(["train", *SMALL, "--conditional", "--epochs", "1", "--samples", "2",
                   "-o", str(run), "--json", "--preview-every", "0"])
    assert result.exit_code == 0, result.output
    trained = json.loads(result.stdout)  # the result alone: the messages went to stderr
    assert (trained["run_dir"], trained["epochs"]) == (str(run), 1)
    assert "Training preset 'tiny'" in result.stderr
    assert json.loads((run / "config.json").read_text())["generator"]["num_classes"] == 6
    result = _run(["generate", str(run), "-n", "2", "--label", "snare", "-o",
                   str(tmp_path / "snares"), "--json"])
    assert result.exit_code == 0, result.output
    assert [Path(f).name for f in json.loads(result.stdout)["files"]] == [
        "snare_00.wav", "snare_01.wav", "spectrograms.png"]
    assert sorted(p.name for p in (tmp_path / "snares").glob("*.wav")) == [
        "snare_00.wav", "snare_01.wav"]
    result = _run(["generate", str(run), "-n", "1", "-o", str(tmp_path / "q"), "-q"])
    assert result.exit_code == 0 and result.output == ""
    info = json.loads(_run(["info", str(run), "--json"]).stdout)
    assert info["config"]["generator"]["num_classes"] == 6 and info["epochs"] == 1
    assert info["data"]["class_names"][:2] == ["kick", "snare"]
    result = CliRunner().invoke(main, ["generate", str(run), "--label", "banjo"])
    assert result.exit_code == 1
    assert "unknown label 'banjo'; this run's labels are: kick, snare, hihat" in result.output
    result = _run(["evaluate", str(run), "-n", "60"])
    assert result.exit_code == 0 and "label accuracy" in result.output


def test_label_on_an_unconditional_run_is_refused(tmp_path):
    run = tmp_path / "run"
    assert _run(["train", *SMALL, "--epochs", "1", "--samples", "1", "-o", str(run), "-q",
                 "--preview-every", "0", "--unconditional"]).exit_code == 0
    assert json.loads((run / "config.json").read_text())["generator"]["num_classes"] == 0
    result = CliRunner().invoke(main, ["generate", str(run), "--label", "kick"])
    assert result.exit_code == 1 and "unconditional" in result.output


def test_export_command_writes_a_tflite_with_metadata(small_run, tmp_path):
    run = small_run
    result = _run(["export", str(run), "--quantize", "float16", "--griffin-lim-iters", "2"])
    assert result.exit_code == 0, result.output
    tflite = run / "export" / "generator.tflite"
    assert tflite.is_file() and "float16" in result.output
    result = _run(["export", str(run), "--signature", "spectrogram", "--json",
                   "-o", str(tmp_path / "s.tflite")])
    exported = json.loads(result.stdout)
    assert exported["path"] == str(tmp_path / "s.tflite") and exported["bytes"] > 1000
    assert list(exported["metadata"]["signatures"]) == ["spectrogram"]
    result = _run(["export", str(run), "--signature", "spectrogram", "-q",
                   "-o", str(tmp_path / "q.tflite")])
    assert result.exit_code == 0 and result.output == ""
    meta = json.loads((run / "export" / "generator.tflite.json").read_text())
    assert meta["sample_rate"] == 16000 and meta["slice_length"] == 2048
    assert meta["class_names"] == ["kick", "snare", "hihat", "clap", "tom", "rimshot"]
    result = CliRunner().invoke(main, ["export", str(run), "--format", "coreml"])
    assert result.exit_code == 2 and "coreml" in result.output
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["export", str(tmp_path / "empty")])
    assert result.exit_code == 1 and "model.keras" in result.output


def test_bad_recordings_through_the_command_line(tmp_path):
    """A truncated WAV (a valid header, its data cut short) gives the samples it has; a
    float WAV above 1 is used as it is, not clipped (spectrograms are normalised
    anyway); a corrupt file is reported by name and skipped; a folder of bad files only
    is refused in one line that says what was wrong with them."""
    import soundfile as sf

    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(4096) / 16000)
    folder = tmp_path / "mixed"
    folder.mkdir()
    sf.write(folder / "good.wav", tone, 16000, subtype="PCM_16")
    sf.write(folder / "loud.wav", 3 * tone, 16000, subtype="FLOAT")
    whole = (folder / "good.wav").read_bytes()
    (folder / "truncated.wav").write_bytes(whole[:44 + 2 * 1500])  # 1,500 of 4,096 samples
    (folder / "corrupt.wav").write_bytes(b"RIFF" + bytes(range(256)) * 8)
    result = _run(["preprocess", str(folder), "-o", str(tmp_path / "cache"), *SMALL,
                   "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["report"]
    assert report["summary"].startswith(
        "used 3 of 4 files (1 skipped: 1 corrupt or unreadable)"), report
    assert [Path(path).name for path, _ in report["skipped"]] == ["corrupt.wav"]
    assert f"Skipped {folder / 'corrupt.wav'}: " in result.stderr
    from keras_soundgan.audio.io import decode_audio

    assert len(decode_audio(folder / "truncated.wav", 16000)) == 1500
    assert np.max(np.abs(decode_audio(folder / "loud.wav", 16000))) == pytest.approx(1.5)

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.wav").write_bytes(b"junk")
    (bad / "b.wav").write_bytes(b"")
    sf.write(bad / "c.wav", np.zeros(4096), 16000)
    for command in (["preprocess", str(bad), "-o", str(tmp_path / "c2")],
                    ["train", str(bad), "-o", str(tmp_path / "run"), "--epochs", "1"]):
        result = CliRunner().invoke(main, [*command, *SMALL])
        assert result.exit_code == 1, result.output
        last = result.output.strip().splitlines()[-1]
        assert last.startswith("Error: ") and str(bad) in last and "no usable audio" in last
        assert "1 corrupt" in last and "1 empty" in last and "1 silent" in last, last
        assert "Traceback" not in result.output
    assert not (tmp_path / "run" / "model.keras").exists()
