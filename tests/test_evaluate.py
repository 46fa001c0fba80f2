"""`keras-soundgan evaluate` against a folder of real held-out examples: classes matched
by name, pitch accuracy where the classes are pitches (by pyin, and by CREPE on the
recordings too), every row scored at the same size, and a saved judge reused only while
it is the same judge.

The tests about something else than the judges trained elsewhere pass ``--judges none``:
CREPE would add seconds to each (tests/test_judges.py and the last test here cover it)."""

import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from keras_soundgan.cli import main

# A very small configuration so that a whole `train` takes seconds (as in test_cli.py).
SMALL = [
    "--set", "spectrogram.slice_length=2048", "--set", "spectrogram.n_fft=64",
    "--set", "spectrogram.hop_length=64", "--set", "generator.num_layers=3",
    "--set", "generator.base_filters=8", "--set", "discriminator.num_layers=3",
    "--set", "discriminator.base_filters=8", "--set", "training.n_critic=1",
]
PITCHES = {"C4": 261.63, "E4": 329.63, "G4": 392.0, "A4": 440.0}


def _run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def _write_notes(folder, names, per_class, rng, sample_rate=16000, length=2048):
    t = np.arange(length) / sample_rate
    for name in names:
        (folder / name).mkdir(parents=True)
        for i in range(per_class):
            f0 = PITCHES[name]
            tone = sum(rng.uniform(0.2, 1) * np.sin(2 * np.pi * k * f0 * t) for k in (1, 2, 3))
            tone *= np.exp(-t * rng.uniform(2, 8))
            sf.write(folder / name / f"{i}.wav", 0.3 * tone, sample_rate)


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    """A conditional run trained one epoch on three pitches, and held-out folders."""
    root = tmp_path_factory.mktemp("notes")
    rng = np.random.default_rng(0)
    _write_notes(root / "train", ["C4", "E4", "G4"], 12, rng)
    _write_notes(root / "held_out", ["C4", "E4", "G4"], 4, rng)
    _write_notes(root / "missing", ["C4", "E4"], 2, rng)
    _write_notes(root / "extra", ["C4", "E4", "G4", "A4"], 2, rng)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_SOUNDGAN_CACHE", str(root / "cache"))
        result = _run(["train", str(root / "train"), *SMALL, "--conditional", "--epochs", "1",
                       "--batch-size", "8", "--samples", "1", "-o", str(root / "run"), "-q",
                       "--preview-every", "0"])
        assert result.exit_code == 0, result.output
        yield root


@pytest.mark.slow  # three evaluations, two judges: 21 s at a load average of 5, 47 s at 8
def test_evaluate_with_a_held_out_folder(notes):
    run, scores = notes / "run", notes / "scores.json"
    result = _run(["evaluate", str(run), "--held-out", str(notes / "held_out"), "-n", "24",
                   "--draws", "5", "--judges", "none", "--output", str(scores)])
    assert result.exit_code == 0, result.output
    assert "Training the judge on 36 real examples of 3 classes" in result.output
    assert "pitch accuracy" in result.output and "/ real" in result.output
    values = json.loads(scores.read_text())
    assert values["held_out"] == str(notes / "held_out")
    assert values["classes"] == ["C4", "E4", "G4"] and values["pitches"] == [60, 64, 67]
    assert (values["reference_size"], values["held_out_size"]) == (36, 12)
    assert (values["num_generated"], values["sample_size"], values["seed"]) == (24, 12, 0)
    assert values["judge"]["version"] >= 2 and values["judge"]["epochs"] >= 1
    real, generated = values["real (held out)"], values["generated"]
    # The real row: the whole held-out set, its distance the real-to-real floor.
    assert (real["n"], real["sample_size"], real["draws"]) == (12, 12, 1)
    assert real["frechet_distance"] > 0 and "frechet_distance_ratio" not in real
    # A generator: twice as many sounds, scored in 5 draws of as many as the real row.
    for row in (generated, values["untrained"]):
        assert (row["n"], row["sample_size"], row["draws"]) == (24, 12, 5)
        assert row["frechet_distance_ratio"] == pytest.approx(
            row["frechet_distance"] / real["frechet_distance"])
        assert row["inception_score_ratio"] == pytest.approx(
            row["inception_score"] / real["inception_score"])
        assert 0 <= row["pitch_accuracy"] <= 1 and 0 <= row["unvoiced"] <= 1
        assert set(row["per_class_accuracy"]) == {"C4", "E4", "G4"}
    assert 0 <= real["pitch_accuracy"] <= 1 and "label_accuracy" in real

    # The judge is reused while it is the same judge on the same data ...
    result = _run(["evaluate", str(run), "--held-out", str(notes / "held_out"), "-n", "24",
                   "--judges", "none"])
    assert result.exit_code == 0 and "Using the judge" in result.output
    # ... and trained again on 80% of the data without a held-out folder.
    result = _run(["evaluate", str(run), "-n", "24", "--judges", "none"])
    assert result.exit_code == 0, result.output
    assert "trained with other settings or data" in result.output
    assert "Training the judge on 27 real examples" in result.output


def test_a_judge_of_another_version_is_not_reused(notes):
    run = notes / "run"
    assert _run(["evaluate", str(run), "-n", "12", "--judges", "none"]).exit_code == 0
    meta = json.loads((run / "judge.json").read_text())
    meta["judge"]["version"] = 1  # a judge saved by an older keras-soundgan
    (run / "judge.json").write_text(json.dumps(meta))
    result = _run(["evaluate", str(run), "-n", "12", "--judges", "none"])
    assert "trained with other settings or data" in result.output
    assert json.loads((run / "judge.json").read_text())["judge"]["version"] >= 2


@pytest.mark.parametrize("folder, message", [
    ("missing", "lacks G4"),
    ("extra", "has classes the training data lacks: A4"),
    ("train/C4", "has no class sub-folders"),
])
def test_held_out_classes_must_be_the_training_classes(notes, folder, message):
    result = CliRunner().invoke(main, ["evaluate", str(notes / "run"), "--held-out",
                                       str(notes / folder)])
    assert result.exit_code == 1
    assert f"the held-out folder '{notes / folder}' {message}" in result.output


@pytest.mark.slow  # four judges and the pitch tracker: 21 s at a load average of 5
def test_the_judge_benchmark_runs(notes, capsys):
    """benchmarks/judge.py, which measured the judge accuracies of the docs, runs."""
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "judge.py"
    sets = [a for a in SMALL if a != "--set" and "n_critic" not in a]
    runpy.run_path(str(script))["main"]([
        str(notes), "--judges", "v1,v2", "--seeds", "0", "--pitch",
        "--cache", str(notes / "bench-cache"), *[x for s in sets for x in ("--set", s)]])
    printed = capsys.readouterr().out
    assert "36 training and 12 held-out examples of 3 classes" in printed
    assert "pitch accuracy of the 12 held-out notes" in printed
    assert "| v1 | " in printed and "| v2 | " in printed


@pytest.mark.slow  # a judge, pyin and CREPE on 48 sounds: 8 s alone, 12 s at a load of 3
def test_evaluate_judges_pitch_by_crepe_on_recordings_and_sounds(notes, monkeypatch):
    pytest.importorskip("torchcrepe",
                        reason='the judges extra is not installed: pip install '
                               '"keras-soundgan[judges]"')
    from keras_soundgan import judges

    plan_judges = judges.plan_judges  # one CREPE frame a sound (not 5): 48 frames, ~2 s
    monkeypatch.setattr(judges, "plan_judges", lambda *args, **kwargs: dataclasses.replace(
        plan_judges(*args, **kwargs), frames=1))
    scores = notes / "crepe.json"
    result = _run(["evaluate", str(notes / "run"), "--held-out", str(notes / "held_out"),
                   "-n", "12", "--output", str(scores)])
    assert result.exit_code == 0, result.output
    assert "(librosa.pyin; and CREPE, 1 frames a sound)" in result.output
    assert 'Judges trained elsewhere (not on this data); "/ real" is against real ' \
           "(recordings):" in result.output
    assert "CREPE pitch" in result.output and "pitch accuracy" in result.output
    values = json.loads(scores.read_text())
    recorded = values["real (recordings)"]
    assert recorded == {"n": 12, "crepe_pitch_accuracy": 1.0,
                        "crepe_pitch_class_accuracy": 1.0, "crepe_unvoiced": 0.0}
    for name in ("real (held out)", "generated", "untrained"):
        row = values[name]
        assert 0 <= row["crepe_pitch_accuracy"] <= row["crepe_pitch_class_accuracy"] <= 1
        assert row["crepe_pitch_accuracy_ratio"] == pytest.approx(row["crepe_pitch_accuracy"])
        assert "pitch_accuracy" in row and "word_accuracy" not in row
    assert values["independent_judges"]["crepe"] == {
        "model": "full", "frames": 1, "confidence": 0.5, "sample_rate": 16000}
