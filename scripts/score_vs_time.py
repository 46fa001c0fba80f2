"""Scores a conditional model against its training time: how good is it after N minutes?

    python scripts/score_vs_time.py --output /tmp/svt-drums --minutes 1,2,4,8,15
    python scripts/score_vs_time.py digits/ --output /tmp/svt-digits --minutes 2,4,8,15 \\
        --set data.trim_silence=true --set spectrogram.slice_length=8192
    python scripts/score_vs_time.py --output /tmp/svt --epochs-at 10,50,100   # by epoch

Trains a conditional model (``--preset``, default ``tiny``) on the embedded drum kit, or
on ``DATA_DIR`` (class sub-folders), with ``keras_soundgan.train`` (the same run as
``keras-soundgan train --conditional --preview-every 0``), and an extra Keras callback
that saves a copy of the model (``OUTPUT/snapshots/epoch-XXXX.keras``) at the end of
the first epoch past each of ``--minutes`` of training (or at each of ``--epochs-at``),
and stops after the last one. The training time is the wall clock from the start of
``fit`` (tracing, every step and the package's own per-epoch checkpoint included),
less the time spent saving the snapshots; preparing the data before ``fit`` (the
embedded kit's synthesis, a folder's spectrogram cache) is reported apart.

Then the run is scored as ``keras-soundgan evaluate OUTPUT/run [--held-out DIR]``
scores it (``keras_soundgan.evaluation.prepare_evaluation``: a judge trained on the real
data, real held-out data as the anchors, an untrained generator as the floor), and every
snapshot is scored with the same judge, held-out data, noise, requested labels and
sample size (``Evaluation.score_model``). The last snapshot is the run's final model, so
its row equals the ``generated`` row of ``evaluate``.

Prints a Markdown table (minutes, epochs, Inception score and its ratio to real data's,
Frechet distance and its ratio to the real-to-real distance, NDB/K, label accuracy and
pitch accuracy) and writes it with everything else to ``OUTPUT/results.json`` and
``OUTPUT/results.csv``, with the load averages of the machine at the start and the end.

Where judges trained elsewhere apply (``--judges``, as ``evaluate --judges``; the
``keras-soundgan[judges]`` extra), the table also has their columns (CREPE's pitch
accuracy; words heard with a grammar of the class names and with the open vocabulary,
each with its ratio to the real recordings') and a first row, ``real (recordings)``: the
held-out recordings themselves, which those ratios are to.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _numbers(text: str, kind):
    try:
        values = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    if not values or any(v <= 0 for v in values) or values != sorted(set(values)):
        raise argparse.ArgumentTypeError(
            f"expected increasing positive numbers, got {text!r}")
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default=None,
                        help="folder of recordings with class sub-folders "
                             "(default: the embedded drum kit)")
    parser.add_argument("--output", required=True, type=Path,
                        help="folder for the run, the snapshots and the results")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.FIELD=VALUE", help="config override (repeatable)")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--minutes", type=lambda t: _numbers(t, float), default=None,
                      help="snapshot after these minutes of training, e.g. 1,2,4,8,15 "
                           "(default), and stop after the last")
    when.add_argument("--epochs-at", type=lambda t: _numbers(t, int), default=None,
                      help="snapshot after these epochs instead, e.g. 10,50,100")
    parser.add_argument("--max-epochs", type=int, default=10000,
                        help="with --minutes: stop after this many epochs at most")
    parser.add_argument("--num", "-n", type=int, default=None,
                        help="sounds generated per score (default: as evaluate)")
    parser.add_argument("--held-out", type=Path, default=None,
                        help="real held-out examples (class sub-folders), as evaluate "
                             "--held-out (default: 20%% of the training data)")
    parser.add_argument("--judge-epochs", type=int, default=None,
                        help="the judge's most epochs (default: as evaluate)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scoring")
    parser.add_argument("--judges", choices=("auto", "all", "none"), default="auto",
                        help="judges trained elsewhere, as evaluate --judges: CREPE where "
                             "classes are pitches, pocketsphinx where they are spoken "
                             "words (default: auto)")
    parser.add_argument("--examples", type=int, default=0, metavar="K",
                        help="also write OUTPUT/examples/: K classes' real (held-out) and "
                             "generated sounds as WAV files and a picture of their "
                             "spectrograms, real above generated")
    parser.add_argument("--quiet", "-q", action="store_true", help="no per-epoch lines")
    args = parser.parse_args(argv)
    if args.minutes is None and args.epochs_at is None:
        args.minutes = [1, 2, 4, 8, 15]
    return args


def make_snapshot_callback(snapshot_dir: Path, minutes=None, epochs_at=None, log=print):
    import keras

    from keras_soundgan.callbacks import save_model_atomically

    class Snapshots(keras.callbacks.Callback):
        """Saves the model at the chosen times or epochs, timing the training without
        the saving; stops training after the last snapshot."""

        def __init__(self):
            super().__init__()
            self.snapshots = []  # {"epoch", "train_seconds", "path"}
            self.epoch_logs = []
            self.started = None
            self.excluded = 0.0
            self._next = 0

        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            elapsed = now - self.started - self.excluded
            self.epoch_logs.append({"epoch": epoch + 1, "train_seconds": elapsed,
                                    **{k: float(v) for k, v in (logs or {}).items()}})
            marks = minutes if minutes is not None else epochs_at
            value = elapsed / 60 if minutes is not None else epoch + 1
            due = False
            while self._next < len(marks) and value >= marks[self._next]:
                self._next += 1
                due = True
            if due:
                self._save(epoch + 1, elapsed)
                if self._next == len(marks):
                    self.model.stop_training = True
            self.excluded += time.perf_counter() - now

        def on_train_end(self, logs=None):
            # Stopped by --max-epochs before the last mark: the final model counts too.
            last = self.epoch_logs[-1] if self.epoch_logs else None
            if last and (not self.snapshots or self.snapshots[-1]["epoch"] != last["epoch"]):
                self._save(last["epoch"], last["train_seconds"])

        def _save(self, epoch, elapsed):
            snapshot_dir.mkdir(parents=True, exist_ok=True)
            path = snapshot_dir / f"epoch-{epoch:04d}.keras"
            save_model_atomically(self.model, path)
            self.snapshots.append({"epoch": epoch, "train_seconds": elapsed,
                                   "path": str(path)})
            log(f"snapshot: epoch {epoch}, {elapsed:.1f} s of training -> {path}")

    return Snapshots()


def _row(name, minutes, epochs, scores):
    return {"name": name, "minutes": minutes, "epochs": epochs, **scores.as_dict()}


# The columns of the judges trained elsewhere, where a row has them: (field, header).
JUDGE_COLUMNS = (("crepe_pitch_accuracy", "CREPE pitch"), ("word_accuracy", "words"),
                 ("open_word_accuracy", "open words"))


def format_table(rows) -> str:
    def ratio(r, key):
        return "" if r.get(key) is None else f"{r[key]:.2f}"

    def percent(r, key):
        return "" if r.get(key) is None else f"{r[key]:.1%}"

    def number(r, key, digits):
        return "" if r.get(key) is None else f"{r[key]:.{digits}f}"

    judges = [(key, title) for key, title in JUDGE_COLUMNS if any(key in r for r in rows)]
    lines = ["| | minutes | epochs | Inception score | / real | Frechet distance | / real "
             "| NDB/K | label accuracy | / real | pitch accuracy |"
             + "".join(f" {title} | / real |" for _, title in judges),
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
             + " ---: | ---: |" * len(judges)]
    for r in rows:
        minutes = "" if r["minutes"] is None else f"{r['minutes']:.1f}"
        epochs = "" if r["epochs"] is None else str(r["epochs"])
        lines.append(f"| {r['name']} | {minutes} | {epochs} | {number(r, 'inception_score', 3)} | "
                     f"{ratio(r, 'inception_score_ratio')} | "
                     f"{number(r, 'frechet_distance', 3)} | "
                     f"{ratio(r, 'frechet_distance_ratio')} | {number(r, 'ndb_k', 2)} | "
                     f"{percent(r, 'label_accuracy')} | {ratio(r, 'label_accuracy_ratio')} | "
                     f"{percent(r, 'pitch_accuracy')} |"
                     + "".join(f" {percent(r, key)} | {ratio(r, key + '_ratio')} |"
                               for key, _ in judges))
    return "\n".join(lines)


def write_examples(folder: Path, evaluation, held_out, k: int, seed: int) -> list:
    """Writes ``real_<class>.wav`` (a real held-out recording, cut as training cuts
    them) and ``generated_<class>.wav`` (the trained model's sound for that class), each
    brought to a peak of 0.9, for ``k`` classes spread over the class list, and
    ``real-vs-generated.png``: their spectrograms, real above generated. Returns the
    class names written."""
    import soundfile as sf

    from keras_soundgan.audio.io import load_audio_folder
    from keras_soundgan.visualize import save_spectrogram_grid

    model = evaluation.model
    spec, data = model.config.spectrogram, model.config.data
    names = evaluation.class_names
    classes = sorted({int(round(c)) for c in np.linspace(0, len(names) - 1, k)})
    if held_out is not None:
        audio, labels, folder_names, _ = load_audio_folder(
            held_out, spec.sample_rate, spec.slice_length, trim_silence=data.trim_silence,
            top_db=data.top_db, normalize_peak=data.normalize_peak,
            class_names=list(names), min_rms=data.min_rms)
        real_audio = [audio[np.flatnonzero(labels == c)[0]] for c in classes]
    else:  # no recordings at hand: the held-out spectrograms through the inverse
        index = [np.flatnonzero(evaluation.held_out_labels == c)[0] for c in classes]
        real_audio = list(evaluation.transform.inverse(evaluation.held_out_images[index]))
    real_images = [evaluation.held_out_images[np.flatnonzero(
        evaluation.held_out_labels == c)[0]] for c in classes]
    generated = model.generate(len(classes), seed=seed, labels=classes)
    generated_audio = model.spectrogram_transform().inverse(generated)
    folder.mkdir(parents=True, exist_ok=True)
    for c, real, fake in zip(classes, real_audio, generated_audio):
        for kind, clip in (("real", real), ("generated", fake)):
            # Every sound at the same peak, to be heard (a soft hit of a quiet class
            # would be near silent); how loud each is stays in the spectrograms.
            clip = clip * (0.9 / max(float(np.max(np.abs(clip))), 1e-9))
            sf.write(folder / f"{kind}_{names[c]}.wav", clip, spec.sample_rate,
                     subtype="PCM_16")
    save_spectrogram_grid(folder / "real-vs-generated.png",
                          np.concatenate([np.stack(real_images), generated]),
                          columns=len(classes))
    return [names[c] for c in classes]


def main(argv=None) -> dict:
    args = parse_args(argv)
    import keras

    import keras_soundgan
    from keras_soundgan.config import SoundGANConfig, parse_override
    from keras_soundgan.evaluation import prepare_evaluation
    from keras_soundgan.models.soundgan import SoundGAN
    from keras_soundgan.runs import train

    output = args.output
    run_dir, snapshot_dir = output / "run", output / "snapshots"
    max_epochs = max(args.epochs_at) if args.epochs_at else args.max_epochs
    overrides = dict(parse_override(text) for text in args.overrides)
    overrides["training.epochs"] = max_epochs
    config = SoundGANConfig.from_preset(args.preset).with_overrides(overrides)

    load_start = os.getloadavg()
    print(f"load average at the start: {load_start[0]:.2f} {load_start[1]:.2f} "
          f"{load_start[2]:.2f} ({os.cpu_count()} CPUs)")
    snapshots = make_snapshot_callback(snapshot_dir, args.minutes, args.epochs_at)
    called = time.perf_counter()
    trained = train(config, run_dir, args.data_dir, conditional=True, overwrite=True,
                    preview_every=0, callbacks=[snapshots], num_samples=4,
                    verbose=0 if args.quiet else 2, log=print)
    total = time.perf_counter() - called
    setup = snapshots.started - called
    load_trained = os.getloadavg()
    last = snapshots.epoch_logs[-1]
    print(f"trained {last['epoch']} epochs in {last['train_seconds']:.1f} s "
          f"(+ {setup:.1f} s preparing the data; {total:.1f} s in train() in all)")

    judge = {} if args.judge_epochs is None else {"judge_epochs": args.judge_epochs}
    evaluation = prepare_evaluation(run_dir, held_out=args.held_out, num_generated=args.num,
                                    seed=args.seed, log=print, judges=args.judges, **judge)
    n = evaluation.num_generated
    source = evaluation.info["source"]
    rows = []
    if evaluation.recorded is not None:  # the recordings themselves, by judges trained elsewhere
        rows.append(_row("real (recordings)", None, None, evaluation.recorded))
    keras.utils.set_random_seed(args.seed)  # the untrained weights, as evaluate_run's
    rows += [_row("real (held out)", None, None, evaluation.real),
             _row("untrained", 0.0, 0, evaluation.score_model(SoundGAN(trained.model.config)))]
    for snap in snapshots.snapshots:
        model = keras.saving.load_model(snap["path"])
        rows.append(_row("trained", snap["train_seconds"] / 60, snap["epoch"],
                         evaluation.score_model(model)))
    final = evaluation.score_model(evaluation.model).as_dict()
    if rows[-1]["epochs"] == last["epoch"] and any(
            isinstance(v, float) and abs(rows[-1][k] - v) > 1e-6 for k, v in final.items()):
        print(f"warning: the last snapshot scores {rows[-1]}, evaluate {final}")
    load_end = os.getloadavg()

    real = next(r for r in rows if r["name"] == "real (held out)")
    summary = {
        "command": [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])],
        "data": source, "classes": list(evaluation.class_names), "num_generated": n,
        "evaluation": evaluation.as_dict(),
        "preset": args.preset, "overrides": args.overrides,
        "keras_soundgan": keras_soundgan.__version__ if hasattr(
            keras_soundgan, "__version__") else None,
        "backend": keras.backend.backend(), "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": {"start": load_start, "end_of_training": load_trained,
                         "end": load_end},
        "setup_seconds": setup, "train_seconds": last["train_seconds"],
        "epochs": last["epoch"], "rows": rows, "epoch_log": snapshots.epoch_logs,
    }
    output.mkdir(parents=True, exist_ok=True)
    if args.examples:
        summary["examples"] = write_examples(output / "examples", evaluation,
                                             args.held_out, args.examples, args.seed)
    (output / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    fields = ["name", "minutes", "epochs", "inception_score", "inception_score_ratio",
              "frechet_distance", "frechet_distance_ratio", "ndb", "ndb_k", "label_accuracy",
              "label_accuracy_ratio", "pitch_accuracy", "crepe_pitch_accuracy",
              "crepe_pitch_accuracy_ratio", "word_accuracy", "word_accuracy_ratio",
              "open_word_accuracy", "open_word_accuracy_ratio", "n", "sample_size", "draws"]
    with open(output / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

    print()
    print(format_table(rows))
    anchor = ("the real recordings'" if rows[0]["name"] == "real (recordings)"
              else "real held-out data's")
    for r in (r for r in rows if r["name"] == "trained"):
        accuracy = r.get("label_accuracy")
        print(f"after {r['minutes']:.1f} min ({r['epochs']} epochs): "
              f"{r['inception_score_ratio']:.0%} of the real Inception score, Frechet "
              f"distance {r['frechet_distance_ratio']:.1f}x the real-to-real one"
              + ("" if accuracy is None else f", label accuracy {accuracy:.1%} "
                 f"({accuracy / real['label_accuracy']:.0%} of real data's)")
              + ("" if r.get("pitch_accuracy") is None else
                 f", pitch accuracy {r['pitch_accuracy']:.1%}")
              + "".join(f", {title} {r[key]:.1%}" + (
                  "" if r.get(f"{key}_ratio") is None else
                  f" ({r[f'{key}_ratio']:.0%} of {anchor})")
                  for key, title in (("crepe_pitch_accuracy", "CREPE pitch accuracy"),
                                     ("word_accuracy", "words heard"),
                                     ("open_word_accuracy", "words heard (open vocabulary)"))
                  if r.get(key) is not None))
    print(f"load average: start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}; "
          f"end of training {load_trained[0]:.2f} {load_trained[1]:.2f} "
          f"{load_trained[2]:.2f}; end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    print(f"wrote {output / 'results.json'} and {output / 'results.csv'}")
    return summary


if __name__ == "__main__":
    main()
