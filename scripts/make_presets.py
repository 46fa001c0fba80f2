"""Makes the pretrained presets that ship in keras_soundgan/presets/ (SoundGAN.from_preset).

    python scripts/make_presets.py --work /tmp/presets                  # all four
    python scripts/make_presets.py --work /tmp/presets --only drums
    python scripts/make_presets.py --work /tmp/presets --only speech \\
        --run speech=/tmp/svt-speech/run      # package a run trained already

For each preset, in order: the data, made from Debian packages by the scripts in
examples/ (nothing is downloaded); a run, trained with ``keras-soundgan train`` and the
preset's recipe for the minutes the evidence page measures (docs/evidence.md); the
preset folder, written with ``save_to_preset(weights_dtype="float16")``; and the
evaluation of that folder's model (its float16 weights, as users get them) with
``keras-soundgan evaluate`` on the held-out part, whose figures go into the preset's
metadata (``SoundGAN.presets``). Run it alone on the machine: the trainings are
time-boxed, so a busy machine trains fewer epochs.

The data and its licences:

* ``tiny``: the embedded synthetic drum kit (keras_soundgan/datasets.py, made by this
  package; Apache-2.0 as the package).
* ``drums``: General MIDI drums rendered by ``fluidsynth`` with the Fluid R3 GM
  soundfont (Debian's ``fluid-soundfont-gm``, MIT licence), examples/make_drums.py.
* ``notes``: piano, guitar and other instruments' notes rendered the same way
  (examples/make_notes.py).
* ``speech``: the spoken digits "zero" to "nine" by CMU Flite's voices (Debian's
  ``flite``; Carnegie Mellon's permissive licence: use, modify and distribute with
  the notice kept), examples/make_spoken_digits.py; the voice ``rms`` held out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LICENCES = {
    "embedded": "synthesised by keras-soundgan itself (Apache-2.0)",
    "fluid": "rendered by fluidsynth with the Fluid R3 GM soundfont (Debian "
             "fluid-soundfont-gm, MIT licence)",
    "flite": "spoken by CMU Flite's voices (Debian flite; Carnegie Mellon University's "
             "permissive licence)",
}

# name -> how its data is made, the training command's arguments, and what it is.
PRESETS = {
    "tiny": {
        "data": None,
        "train": [],
        "minutes": "about 2 minutes",
        "licence": LICENCES["embedded"],
        "description": "The embedded synthetic drum kit (kick, snare, hihat, clap, tom, "
                       "rimshot) at 64x64: small and fast, for trying things.",
    },
    "drums": {
        "data": ["examples/make_drums.py", "{data}"],
        "train": ["--preset", "drums", "--minutes", "4"],
        "minutes": "4 minutes",
        "licence": LICENCES["fluid"],
        "description": "General MIDI drums (cymbal, hihat, kick, snare, tom), 1 s at "
                       "16 kHz.",
    },
    "notes": {
        "data": ["examples/make_notes.py", "{data}"],
        "train": ["--preset", "notes", "--minutes", "15"],
        "minutes": "15 minutes",
        "licence": LICENCES["fluid"],
        "description": "Instrument notes C3 to B4 by pitch (24 classes), 1 s at 16 kHz.",
    },
    "speech": {
        "data": ["examples/make_spoken_digits.py", "{data}", "--engine", "flite",
                 "--per-class", "75", "--held-out-per-class", "25"],
        "train": ["--preset", "speech", "--minutes", "30"],
        "minutes": "30 minutes",
        "licence": LICENCES["flite"],
        "description": "The spoken digits zero to nine in new voices, 1 s at 16 kHz.",
    },
}

# The evaluation's figures that go into the metadata.
FIGURES = ("inception_score_ratio", "frechet_distance_ratio", "ndb_k", "label_accuracy",
           "pitch_accuracy", "crepe_pitch_accuracy", "crepe_pitch_accuracy_ratio",
           "word_accuracy", "word_accuracy_ratio", "open_word_accuracy",
           "open_word_accuracy_ratio")


def run(command, **kwargs):
    print("$", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], check=True, cwd=ROOT, **kwargs)


def make(name, work: Path, existing_run: Path | None, destination: Path):
    spec = PRESETS[name]
    cli = [sys.executable, "-m", "keras_soundgan.cli"]
    data = work / "data" / name
    if spec["data"] and not (data / "train").is_dir():
        run([sys.executable, *[a.format(data=data) for a in spec["data"]]])
    train_dir = data / "train" if spec["data"] else None
    run_dir = existing_run or work / "runs" / name
    command = ["keras-soundgan", "train", *([os.fspath(train_dir)] if train_dir else []),
               *spec["train"], "--output", os.fspath(run_dir)]
    if existing_run is None:
        uptime = os.getloadavg()
        start = time.perf_counter()
        run([*cli, *command[1:], "--overwrite", "-q"])
        print(f"trained in {time.perf_counter() - start:.0f} s; load at the start "
              f"{uptime[0]:.2f}", flush=True)
    # What the metadata shows: the recipe, without this machine's paths.
    shown = ["keras-soundgan", "train", *(["DATA/train"] if train_dir else []), *spec["train"]]

    from keras_soundgan import SoundGAN
    from keras_soundgan.runs import load_run, read_history

    model = load_run(run_dir)
    epochs = len(next(iter(read_history(run_dir).values()), []))
    metadata = {
        "description": spec["description"],
        "data": {"licence": spec["licence"],
                 "made_by": spec["data"][0] if spec["data"] else "keras_soundgan.load_drums"},
        "training": {"command": " ".join(shown), "epochs": epochs,
                     "minutes": spec["minutes"],
                     "date": time.strftime("%Y-%m-%d", time.localtime(
                         (run_dir / "model.keras").stat().st_mtime)),
                     "machine": f"{os.cpu_count()} CPU cores, no GPU"},
        "classes": list(model.class_names or ()),
    }
    destination.mkdir(parents=True, exist_ok=True)
    model.save_to_preset(destination, weights_dtype="float16", metadata=metadata)

    # Evaluate what users get: the preset folder's float16 weights, as a run folder.
    check = work / "evaluated" / name
    shutil.rmtree(check, ignore_errors=True)
    check.mkdir(parents=True)
    shipped = SoundGAN.from_preset(destination)
    shipped.compile()
    shipped.save(check / "model.keras")
    shutil.copy(run_dir / "data.json", check / "data.json")
    report = work / f"{name}-evaluation.json"
    run([*cli, "evaluate", check, *([train_dir] if train_dir else []),
         *(["--held-out", data / "held_out"] if spec["data"] else []),
         "--judges", "all" if name in ("notes", "speech") else "auto", "--output", report, "-q"])
    scores = json.loads(report.read_text())
    generated = scores.get("generated", {})
    metadata["evaluation"] = {
        "command": f"keras-soundgan evaluate RUN {'DATA/train --held-out DATA/held_out' if spec['data'] else ''}".strip(),
        "generated": {k: generated[k] for k in FIGURES if generated.get(k) is not None},
    }
    model.save_to_preset(destination, weights_dtype="float16", metadata=metadata)
    print(json.dumps(metadata, indent=2), flush=True)


DOCS_PAGE = ROOT / "docs" / "howto" / "pretrained.md"
TABLE_BEGIN, TABLE_END = "<!-- presets table: begin -->", "<!-- presets table: end -->"


def presets_table(presets) -> str:
    """The Markdown table of docs/howto/pretrained.md, from the presets' metadata."""

    def cell(scores, key, ratio=None, percent=False):
        value = scores.get(key)
        if value is None:
            return "-"
        text = f"{value:.1%}" if percent else f"{value:.2f}"
        if ratio and scores.get(ratio) is not None:
            text += f" ({scores[ratio]:.2f} of real)"
        return text

    lines = ["| preset | trained | Inception score / real | Frechet distance / real | "
             "label accuracy | judged elsewhere |", "|---|---|---:|---:|---:|---|"]
    for name, metadata in presets.items():
        scores = metadata["evaluation"]["generated"]
        elsewhere = [f"{label} {cell(scores, key, key + '_ratio', percent=True)}"
                     for label, key in (("CREPE pitch", "crepe_pitch_accuracy"),
                                        ("words (grammar)", "word_accuracy"),
                                        ("words (open)", "open_word_accuracy"))
                     if scores.get(key) is not None]
        training = metadata["training"]
        lines.append(
            f"| `{name}` | {training['epochs']} epochs ({training['minutes']}) | "
            f"{cell(scores, 'inception_score_ratio')} | "
            f"{cell(scores, 'frechet_distance_ratio')} | "
            f"{cell(scores, 'label_accuracy', percent=True)} | "
            f"{'; '.join(elsewhere) or '-'} |")
    return "\n".join(lines)


def write_docs_table():
    from keras_soundgan.pretrained import list_pretrained

    text = DOCS_PAGE.read_text(encoding="utf-8")
    start, end = text.index(TABLE_BEGIN) + len(TABLE_BEGIN), text.index(TABLE_END)
    DOCS_PAGE.write_text(text[:start] + "\n" + presets_table(list_pretrained()) + "\n"
                         + text[end:], encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True,
                        help="folder for the data, the runs and the evaluations")
    parser.add_argument("--only", action="append", choices=list(PRESETS),
                        help="make this preset only (repeatable; default: all)")
    parser.add_argument("--run", action="append", default=[], metavar="NAME=RUN_DIR",
                        help="package this run folder instead of training one")
    parser.add_argument("--destination", type=Path,
                        default=ROOT / "keras_soundgan" / "presets",
                        help="where the preset folders go (default: the package's)")
    args = parser.parse_args()
    existing = {}
    for item in args.run:
        name, _, path = item.partition("=")
        if name not in PRESETS or not path:
            parser.error(f"--run takes NAME=RUN_DIR with NAME one of {', '.join(PRESETS)}")
        existing[name] = Path(path)
    for name in args.only or list(PRESETS):
        make(name, args.work, existing.get(name), args.destination / name)
    if args.destination == ROOT / "keras_soundgan" / "presets":
        write_docs_table()


if __name__ == "__main__":
    main()
