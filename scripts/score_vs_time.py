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

Then the run is scored as ``keras-soundgan evaluate OUTPUT/run`` scores it
(``keras_soundgan.metrics.evaluate_run``: a judge trained on 80% of the real data,
held-out real data as the ceiling, an untrained generator as the floor), and every
snapshot is scored with the same judge, noise and requested labels
(``keras_soundgan.metrics.score_generator``). The last snapshot is the run's final
model, so its row equals the ``generated`` row of ``evaluate``.

Prints a Markdown table (minutes, epochs, Inception score, Frechet distance, NDB/K,
label accuracy) and writes it with everything else to ``OUTPUT/results.json`` and
``OUTPUT/results.csv``, with the load averages of the machine at the start and the end.
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
    parser.add_argument("--judge-epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0, help="seed of the scoring")
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


def format_table(rows) -> str:
    lines = ["| | minutes | epochs | Inception score | Frechet distance | NDB/K "
             "| label accuracy |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        minutes = "" if r["minutes"] is None else f"{r['minutes']:.1f}"
        epochs = "" if r["epochs"] is None else str(r["epochs"])
        accuracy = r.get("label_accuracy")
        lines.append(f"| {r['name']} | {minutes} | {epochs} | {r['inception_score']:.3f} | "
                     f"{r['frechet_distance']:.3f} | {r['ndb_k']:.2f} | "
                     + ("" if accuracy is None else f"{accuracy:.1%}") + " |")
    return "\n".join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    import keras

    import keras_soundgan
    from keras_soundgan.config import SoundGANConfig, parse_override
    from keras_soundgan.metrics import (JUDGE_FILE, evaluate_run, real_data_for_run,
                                        score_generator, split_held_out)
    from keras_soundgan.runs import DATA_FILE, train

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

    results = evaluate_run(run_dir, num_generated=args.num, seed=args.seed,
                           judge_epochs=args.judge_epochs, log=print)
    n = results["num_generated"]
    judge = keras.saving.load_model(run_dir / JUDGE_FILE)
    source = json.loads((run_dir / DATA_FILE).read_text())["source"]
    images, labels, _ = real_data_for_run(trained.model, source)
    train_x, _, _, _ = split_held_out(images, labels, seed=args.seed)
    rows = [_row("real (held out)", None, None, results["real (held out)"]),
            _row("untrained", 0.0, 0, results["untrained"])]
    for snap in snapshots.snapshots:
        model = keras.saving.load_model(snap["path"])
        rows.append(_row("trained", snap["train_seconds"] / 60, snap["epoch"],
                         score_generator(judge, train_x, model, n, seed=args.seed)))
    final = results["generated"].as_dict()
    if rows[-1]["epochs"] == last["epoch"] and any(
            abs(rows[-1][k] - v) > 1e-6 for k, v in final.items()):
        print(f"warning: the last snapshot scores {rows[-1]}, evaluate {final}")
    load_end = os.getloadavg()

    real = rows[0]
    summary = {
        "command": [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])],
        "data": source, "classes": results["classes"], "num_generated": n,
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
    (output / "results.json").write_text(json.dumps(summary, indent=2) + "\n")
    fields = ["name", "minutes", "epochs", "inception_score", "frechet_distance", "ndb",
              "ndb_k", "label_accuracy"]
    with open(output / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

    print()
    print(format_table(rows))
    for r in rows[2:]:
        accuracy = r.get("label_accuracy")
        print(f"after {r['minutes']:.1f} min ({r['epochs']} epochs): "
              f"{r['inception_score'] / real['inception_score']:.0%} of the real "
              "Inception score" + ("" if accuracy is None else
                                   f", label accuracy {accuracy:.1%}"))
    print(f"load average: start {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}; "
          f"end of training {load_trained[0]:.2f} {load_trained[1]:.2f} "
          f"{load_trained[2]:.2f}; end {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    print(f"wrote {output / 'results.json'} and {output / 'results.csv'}")
    return summary


if __name__ == "__main__":
    main()
