"""The judge's accuracy on real held-out data: the ceiling every generated score meets.

    python benchmarks/judge.py drums/ --set spectrogram.slice_length=16384
    python benchmarks/judge.py notes/ --set spectrogram.slice_length=16384 \\
        --set spectrogram.n_fft=512 --set spectrogram.hop_length=128 --pitch
    python benchmarks/judge.py digits/ --set spectrogram.slice_length=8192 \\
        --set data.trim_silence=true --judges v1,time,time+stop,v2
    python benchmarks/judge.py notes/ --preset notes --pitch

``DATA_DIR`` holds ``train/`` and ``held_out/`` with the same class sub-folders (as
``examples/make_spoken_digits.py``, ``make_notes.py`` and ``make_drums.py`` write them).
Both parts are read with the config of ``--preset`` and ``--set`` into spectrogram caches
(under ``--cache``) and normalised with the training part's statistics, as
``keras-soundgan evaluate RUN_DIR DATA_DIR/train --held-out DATA_DIR/held_out`` reads
them. Then, for each judge of ``--judges`` and each seed of ``--seeds``, a judge is
trained on the training part (:func:`keras_soundgan.metrics.train_judge`) and its
accuracy measured on the held-out part:

* ``v1``: the judge of version 1 (global average pooling over frequency and time, Adam
  1e-3, 15 epochs, no validation split, no augmentation, every frame);
* ``time``: v1 pooled over time only (the frequency axis kept);
* ``time+stop``: that, up to 60 epochs, stopping early on a 15% validation split;
* ``v2``: the judge ``evaluate`` trains (``train_judge``'s defaults): pooled over time,
  spectrograms first averaged down to 64 frames, Adam 2e-3, up to 40 epochs with early
  stopping, time-shift and noise augmentation.

Prints the mean and per-seed held-out accuracy, the training part's accuracy, the
epochs trained and the seconds (wall and CPU) per judge. With ``--pitch`` (class names
must be pitches), also the pitch accuracy (``librosa.pyin``) of the held-out audio
itself and of its spectrograms turned back into audio by the config's inverse (what
``evaluate``'s real row reports).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

V1 = {"epochs": 15, "validation_fraction": 0.0, "pooling": "global", "augment": False,
      "max_frames": 0, "learning_rate": 1e-3}
JUDGES = {
    "v1": V1,
    "time": {**V1, "pooling": "time"},
    "time+stop": {**V1, "pooling": "time", "epochs": 60, "validation_fraction": 0.15},
    "v2": {},
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", help="folder with train/ and held_out/ class folders")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.FIELD=VALUE", help="config override (repeatable)")
    parser.add_argument("--judges", default="v1,v2",
                        help=f"comma-separated, of {', '.join(JUDGES)} (default: v1,v2)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated judge seeds")
    parser.add_argument("--cache", default=None,
                        help="folder for the spectrogram caches (default: the usual one)")
    parser.add_argument("--pitch", action="store_true",
                        help="also the pitch accuracy of the held-out notes")
    args = parser.parse_args(argv)
    args.judges = args.judges.split(",")
    unknown = [j for j in args.judges if j not in JUDGES]
    if unknown:
        parser.error(f"unknown judge {unknown[0]!r}; judges are: {', '.join(JUDGES)}")
    args.seeds = [int(s) for s in args.seeds.split(",")]
    return args


def load(args):
    from keras_soundgan.audio.cache import load_or_build_cache
    from keras_soundgan.config import SoundGANConfig, parse_override

    config = SoundGANConfig.from_preset(args.preset).with_overrides(
        dict(parse_override(text) for text in args.overrides))
    parts = {}
    for part in ("train", "held_out"):
        cache_dir = None if args.cache is None else os.path.join(
            args.cache, f"{os.path.basename(os.path.abspath(args.data_dir))}-{part}")
        parts[part] = load_or_build_cache(os.path.join(args.data_dir, part), config, cache_dir)
    train, held = parts["train"], parts["held_out"]
    if train.class_names != held.class_names:
        raise SystemExit(f"train/ has classes {train.class_names}, held_out/ "
                         f"{held.class_names}")
    transform = train.transform
    return (config, transform, transform.normalize(np.asarray(train.log_magnitude)),
            np.asarray(train.labels), transform.normalize(np.asarray(held.log_magnitude)),
            np.asarray(held.labels), train.class_names)


def pitch_rows(args, config, transform, held_images, held_labels, names):
    from keras_soundgan.audio.io import load_audio_folder
    from keras_soundgan.metrics import class_pitches, pitch_accuracy

    pitches = class_pitches(names)
    if pitches is None:
        raise SystemExit(f"--pitch: the class names are not pitches: {', '.join(names)}")
    spec, data = config.spectrogram, config.data
    audio, labels, folder_names, _ = load_audio_folder(
        os.path.join(args.data_dir, "held_out"), spec.sample_rate, spec.slice_length,
        trim_silence=data.trim_silence, top_db=data.top_db,
        normalize_peak=data.normalize_peak, min_rms=data.min_rms or None)
    midi = np.asarray(pitches)
    start = time.perf_counter()
    raw = pitch_accuracy(audio, spec.sample_rate, midi[labels])
    seconds = time.perf_counter() - start
    heard = pitch_accuracy(transform.inverse(held_images), spec.sample_rate,
                           midi[held_labels])
    print(f"pitch accuracy of the {len(labels)} held-out notes: {raw:.1%} as recorded "
          f"({seconds:.1f} s of pyin), {heard:.1%} through the spectrogram and its inverse "
          f"({spec.griffin_lim_iters} Griffin-Lim iterations)")


def main(argv=None):
    args = parse_args(argv)
    import keras

    from keras_soundgan.metrics import judge_outputs, label_accuracy, train_judge

    config, transform, train_x, train_y, held_x, held_y, names = load(args)
    print(f"{args.data_dir}: {len(train_y)} training and {len(held_y)} held-out examples of "
          f"{len(names)} classes, {train_x.shape[1]}x{train_x.shape[2]} spectrograms; "
          f"backend {keras.backend.backend()}, {os.cpu_count()} CPUs, load average "
          + " ".join(f"{v:.2f}" for v in os.getloadavg()))
    if args.pitch:
        pitch_rows(args, config, transform, held_x, held_y, names)
    print("| judge | held-out accuracy | per seed | training accuracy | epochs | "
          "wall s | CPU s |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for name in args.judges:
        rows = []
        for seed in args.seeds:
            wall, cpu = time.perf_counter(), time.process_time()
            judge = train_judge(train_x, train_y, len(names), seed=seed, **JUDGES[name])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            held_p, _ = judge_outputs(judge, held_x)
            train_p, _ = judge_outputs(judge, train_x)
            rows.append((label_accuracy(held_p, held_y), label_accuracy(train_p, train_y),
                         len(judge.history.history["loss"]), wall, cpu))
        a = np.asarray(rows)
        print(f"| {name} | {a[:, 0].mean():.1%} | "
              + " ".join(f"{v:.1%}" for v in a[:, 0])
              + f" | {a[:, 1].mean():.1%} | {a[:, 2].mean():.0f} | {a[:, 3].mean():.0f} | "
              f"{a[:, 4].mean():.0f} |", flush=True)
    print("load average at the end: " + " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
