"""scripts/score_vs_time.py runs end to end (two tiny epochs of a very small model)."""

import csv
import json
import runpy
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "score_vs_time.py"

SMALL = ["--set", "data.embedded_per_class=8", "--set", "spectrogram.slice_length=2048",
         "--set", "spectrogram.n_fft=64", "--set", "spectrogram.hop_length=64",
         "--set", "generator.num_layers=3", "--set", "generator.base_filters=8",
         "--set", "generator.latent_dim=16", "--set", "discriminator.num_layers=3",
         "--set", "discriminator.base_filters=8", "--set", "training.batch_size=8"]


@pytest.fixture(scope="module")
def script():
    return runpy.run_path(str(SCRIPT))


@pytest.mark.slow  # about 15 s on two idle CPU cores, 27 s when they are busy
def test_snapshots_are_scored_beside_real_and_untrained(script, tmp_path, capsys):
    out = tmp_path / "out"
    summary = script["main"](["--output", str(out), "--epochs-at", "1,2", "--quiet",
                              "--examples", "2",
                              "--judge-epochs", "1", "-n", "20", *SMALL])
    rows = summary["rows"]
    assert [(r["name"], r["epochs"]) for r in rows] == [
        ("real (held out)", None), ("untrained", 0), ("trained", 1), ("trained", 2)]
    assert 0 < rows[2]["minutes"] <= rows[3]["minutes"]
    assert all(r["label_accuracy"] is not None for r in rows)  # conditional
    assert summary["epochs"] == 2 and summary["classes"][0] == "kick"
    assert len(summary["load_average"]["start"]) == 3
    assert sorted(p.name for p in (out / "snapshots").iterdir()) == [
        "epoch-0001.keras", "epoch-0002.keras"]
    assert json.loads((out / "results.json").read_text())["rows"] == rows
    with open(out / "results.csv", newline="") as f:
        assert [r["name"] for r in csv.DictReader(f)] == [r["name"] for r in rows]
    # Sounds to hear and a picture, real above generated, for the first and last class.
    assert summary["examples"] == ["kick", "rimshot"]
    assert json.loads((out / "results.json").read_text())["examples"] == ["kick", "rimshot"]
    assert sorted(p.name for p in (out / "examples").iterdir()) == [
        "generated_kick.wav", "generated_rimshot.wav", "real-vs-generated.png",
        "real_kick.wav", "real_rimshot.wav"]
    import numpy as np
    import soundfile as sf

    for name in ("real_kick.wav", "generated_rimshot.wav"):  # at one peak, to be heard
        assert np.abs(sf.read(out / "examples" / name)[0]).max() == pytest.approx(0.9, abs=1e-3)
    printed = capsys.readouterr().out
    assert "| trained | " in printed and "warning" not in printed
    # The last snapshot is the run's model: its row is evaluate's "generated" row.
    from keras_soundgan.evaluation import evaluate_run

    final = evaluate_run(out / "run", num_generated=20, judge_epochs=1)["generated"]
    assert rows[-1]["inception_score"] == pytest.approx(final.inception_score)
    assert rows[-1]["label_accuracy"] == pytest.approx(final.label_accuracy)


def test_minutes_mark_and_argument_checks(script):
    args = script["parse_args"](["--output", "x"])
    assert args.minutes == [1, 2, 4, 8, 15] and args.epochs_at is None
    with pytest.raises(SystemExit):
        script["parse_args"](["--output", "x", "--minutes", "4,2"])
    with pytest.raises(SystemExit):
        script["parse_args"](["--output", "x", "--minutes", "1", "--epochs-at", "2"])
    table = script["format_table"]([{"name": "untrained", "minutes": 0.0, "epochs": 0,
                                     "inception_score": 1.0, "inception_score_ratio": 0.25,
                                     "frechet_distance": 2.0, "frechet_distance_ratio": 4.0,
                                     "ndb_k": 1.0, "label_accuracy": 0.17}])
    assert table.splitlines()[-1] == (
        "| untrained | 0.0 | 0 | 1.000 | 0.25 | 2.000 | 4.00 | 1.00 | 17.0% |  |  |")
    # Judges trained elsewhere: their columns where a row has them, and the row of the
    # real recordings, which has only those.
    table = script["format_table"]([
        {"name": "real (recordings)", "minutes": None, "epochs": None,
         "word_accuracy": 1.0, "open_word_accuracy": 0.9},
        {"name": "trained", "minutes": 2.0, "epochs": 5, "inception_score": 3.0,
         "inception_score_ratio": 0.5, "frechet_distance": 8.0, "frechet_distance_ratio": 2.0,
         "ndb_k": 0.3, "label_accuracy": 0.6, "label_accuracy_ratio": 0.75,
         "word_accuracy": 0.45, "word_accuracy_ratio": 0.45, "open_word_accuracy": 0.18,
         "open_word_accuracy_ratio": 0.2}]).splitlines()
    assert table[0].endswith("| pitch accuracy | words | / real | open words | / real |")
    assert table[1].count("---:") == 14
    assert table[2] == "| real (recordings) |  |  |  |  |  |  |  |  |  |  | 100.0% |  | 90.0% |  |"
    assert table[3].endswith("| 60.0% | 0.75 |  | 45.0% | 0.45 | 18.0% | 0.20 |")


def test_minute_marks_take_snapshots_and_stop(script, tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    callback = script["make_snapshot_callback"](tmp_path, minutes=[1e-9, 2e-9, 60.0],
                                                log=lambda message: None)
    callback.set_model(model)
    callback.on_train_begin()
    callback.on_epoch_end(0, {"d_loss": 1.0})  # past both small marks: one snapshot
    assert [s["epoch"] for s in callback.snapshots] == [1]
    assert not getattr(model, "stop_training", False)
    callback.on_epoch_end(1, {"d_loss": 0.5})
    callback.on_train_end()  # stopped before the last mark: the final model counts
    assert [s["epoch"] for s in callback.snapshots] == [1, 2]
    assert callback.epoch_logs[1]["d_loss"] == 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-0001.keras",
                                                          "epoch-0002.keras"]
