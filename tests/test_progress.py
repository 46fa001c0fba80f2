"""Progress bars of `preprocess`, `evaluate` and `export` (docs/reference/cli.md,
"Progress bars"): click's bars on stderr, one a stage, whose counts reach their totals;
none with `-q` or `--json`, whose stdout stays clean (the JSON parses), and none where
stderr is not a terminal unless KERAS_SOUNDGAN_PROGRESS=always, the documented way to
force them (CliRunner's stderr is not a terminal)."""

import io
import json
import re

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from keras_soundgan.cli import PROGRESS_VARIABLE, ProgressBars, main

# A very small configuration so that a whole `train` takes seconds (as in test_cli.py),
# and a kit of 6 drums a class so that the judge trains on 24 examples.
SMALL = [
    "--set", "spectrogram.slice_length=2048", "--set", "spectrogram.n_fft=64",
    "--set", "spectrogram.hop_length=64", "--set", "generator.num_layers=3",
    "--set", "generator.base_filters=8", "--set", "discriminator.num_layers=3",
    "--set", "discriminator.base_filters=8", "--set", "training.n_critic=1",
]
FORCED = {PROGRESS_VARIABLE: "always"}
UNSET = {PROGRESS_VARIABLE: None}  # CliRunner removes a variable set to None


def _run(args, env):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def _counts(text, stage):
    """The ``(done, total)`` of each drawing of ``stage``'s bar in ``text``, in order."""
    return [(int(done), int(total)) for done, total in
            re.findall(re.escape(stage) + r"  \[[#-]*\]  (\d+)/(\d+)", text)]


def _no_bar(text):
    return not re.search(r"\[[#-]*\]  \d+/\d+", text) and "\r" not in text


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_the_bars_one_a_stage_end_at_their_totals():
    stream = _Tty()
    bars = ProgressBars(stream)
    for done in range(4):
        bars("Reading", done, 3)
    bars("Training", 0, 40)
    bars("Training", 1, 40)
    bars("Training", 2, 40)
    bars("Training", 2, 2)  # stopped early: the total falls to what was done
    bars("Scoring", 0, 2)
    bars("Scoring", 1, 2)
    bars.end_line()  # a message printed under a bar being drawn
    stream.write("a message\n")
    bars("Scoring", 2, 2)
    bars.close()
    text = stream.getvalue()
    assert _counts(text, "Reading") == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert _counts(text, "Training")[-1] == (2, 2)
    assert _counts(text, "Scoring") == [(0, 2), (1, 2), (2, 2)]
    # Each bar ends its line when it is complete; the message has a line of its own.
    assert text.count("\n") == 5 and "\na message\n" in text


def _write_kit(folder, rng):
    for name in ("kick", "snare"):
        (folder / name).mkdir(parents=True)
        for i in range(3):
            hit = rng.normal(0, 0.3, 4096) * np.exp(-np.arange(4096) / 800)
            sf.write(folder / name / f"{i}.wav", hit, 16000)
    (folder / "snare" / "broken.wav").write_bytes(b"not audio at all")


def test_preprocess_shows_its_files_and_hides_the_bar_when_asked(tmp_path):
    data = tmp_path / "data"
    _write_kit(data, np.random.default_rng(0))
    args = ["preprocess", str(data), *SMALL, "--workers", "1", "-o"]
    result = _run([*args, str(tmp_path / "cache")], FORCED)
    assert result.exit_code == 0, result.output
    counts = _counts(result.stderr, "Computing spectrograms")
    assert counts[0] == (0, 7) and counts[-1] == (7, 7), result.stderr  # the broken too
    assert [done for done, _ in counts] == sorted(done for done, _ in counts)
    assert re.search(r"(^|\n)Skipped \S*broken.wav", result.stderr)  # below the bar
    assert _no_bar(result.stdout) and "Wrote 6 spectrograms" in result.stdout

    result = _run([*args, str(tmp_path / "json"), "--json"], FORCED)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["examples"] == 6
    assert _no_bar(result.stderr) and "Skipped" in result.stderr
    result = _run([*args, str(tmp_path / "quiet"), "-q"], FORCED)
    assert result.exit_code == 0 and result.stdout == "" and _no_bar(result.stderr)
    # Not a terminal, not forced: no bar, not even its label.
    result = _run([*args, str(tmp_path / "auto")], UNSET)
    assert result.exit_code == 0 and "Computing spectrograms" not in result.output
    result = CliRunner().invoke(main, [*args, str(tmp_path / "bad")],
                                env={PROGRESS_VARIABLE: "sometimes"})
    assert result.exit_code == 2
    assert "KERAS_SOUNDGAN_PROGRESS must be one of auto, always, never" in result.output


def test_build_cache_reports_to_a_callback_and_prints_nothing(tmp_path, small_config, capsys):
    from keras_soundgan.audio.cache import PROGRESS_STAGE, build_cache

    _write_kit(tmp_path / "data", np.random.default_rng(1))
    calls = []
    cache = build_cache(tmp_path / "data", tmp_path / "cache", small_config, workers=1,
                        progress=lambda *call: calls.append(call))
    assert len(cache) == 6
    assert calls[0] == (PROGRESS_STAGE, 0, 7) and calls[-1] == (PROGRESS_STAGE, 7, 7)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A conditional run trained one epoch on a small embedded kit, shared by the tests
    of evaluate and export."""
    folder = tmp_path_factory.mktemp("progress") / "run"
    result = _run(["train", *SMALL, "--set", "data.embedded_per_class=6", "--epochs", "1",
                   "--samples", "1", "--preview-every", "0", "-q", "-o", str(folder)], UNSET)
    assert result.exit_code == 0, result.output
    return folder


def test_evaluate_shows_the_judge_and_the_scoring(run):
    args = ["evaluate", str(run), "-n", "12", "--judges", "none"]
    result = _run(args, FORCED)
    assert result.exit_code == 0, result.output
    judge = _counts(result.stderr, "Training the judge")
    assert judge[0] == (0, 40) and judge[-1][0] == judge[-1][1] <= 40, result.stderr
    assert _counts(result.stderr, "Scoring sets") == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert _no_bar(result.stdout) and "untrained" in result.stdout

    result = _run([*args, "--json"], FORCED)  # the judge is reused: scoring only
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) >= {"real (held out)", "generated", "untrained"}
    assert _no_bar(result.stderr) and "Using the judge" in result.stderr
    # -q: no bar and no messages; the table, evaluate's result, is still printed.
    result = _run([*args, "-q"], FORCED)
    assert result.exit_code == 0 and result.stderr == ""
    assert _no_bar(result.stdout) and "Using the judge" not in result.stdout


def test_export_counts_its_steps(run, tmp_path):
    import keras

    args = ["export", str(run), "--signature", "spectrogram", "-o"]
    result = _run([*args, str(tmp_path / "bar.tflite")], FORCED)
    assert result.exit_code == 0, result.output
    steps = 4 if keras.backend.backend() == "tensorflow" else 1  # else one subprocess
    counts = _counts(result.stderr, "Exporting litert")
    assert counts[0] == (0, steps) and counts[-1] == (steps, steps), result.stderr
    assert _no_bar(result.stdout) and "Wrote" in result.stdout

    result = _run([*args, str(tmp_path / "json.tflite"), "--json"], FORCED)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["format"] == "litert" and _no_bar(result.stderr)
    result = _run([*args, str(tmp_path / "quiet.tflite"), "-q"], FORCED)
    assert result.exit_code == 0 and result.output == ""
