"""Make a drum one-shot data set from recorded acoustic kits: Debian's Hydrogen drumkits.

    sudo apt-get install hydrogen-drumkits                  # Debian/Ubuntu, GPL-2(+)
    python examples/make_acoustic_drums.py acoustic/
    keras-soundgan train acoustic/train --preset drums --conditional
    keras-soundgan evaluate RUN_DIR --held-out acoustic/held_out

A second source of drums beside ``make_drums.py`` (FluidR3's General MIDI kits): the
sampled acoustic kits that ship with the Hydrogen drum machine (a Pearl DX, a Ludwig in
three recordings, a Tama/Pearl/Paiste kit, the BJA Pacific set and others). Each kit's
``drumkit.xml`` names its instruments and their sample layers (velocity layers and
alternate hits); instruments whose names say kick, snare, hi-hat, tom or cymbal become
the five classes of ``make_drums.py``. Whole kits are held out (by default The Black
Pearl and the Colombo acoustic kit), so held-out hits come from drums and rooms the
training part never heard. Identical samples (normalised correlation above 0.999) are
kept once, and a training sample that repeats a held-out one is dropped. Each hit starts
at its onset, as 16 kHz mono WAV of ``--length`` samples, in
``DIR/{train,held_out}/<class>/<kit>_<instrument>_<layer>.wav``. The synthesised and
hand-percussion kits (ElectricEmpire, HardElectro, VariBreaks, Gimme A Hand,
circAfrique) are left out. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fluidsynth import write_clip  # noqa: E402

DRUMKITS = Path("/usr/share/hydrogen/data/drumkits")
ACOUSTIC_KITS = ("Audiophob", "BJA_Pacific", "ColomboAcousticDrumkit", "ForzeeStereo",
                 "Millo-Drums_v.1", "Millo_MultiLayered2", "Millo_MultiLayered3",
                 "The Black Pearl 1.0", "rumpf_kit_z01_h2")
HELD_OUT_KITS = ("The Black Pearl 1.0", "ColomboAcousticDrumkit")
# An instrument's class, by the first pattern its lower-cased name matches; names that
# match none (stick, clap, cowbell, tambourine, snare roll, ...) are left out.
CLASSES = (
    ("skip", r"roll|stick|clap|cowbell|tambourine|agogo"),
    ("kick", r"kick|bass ?drum|\bbd\b"),
    ("snare", r"snare"),
    ("hihat", r"hi-?hat|\bhh\b|hat\b"),
    ("tom", r"tom"),
    ("cymbal", r"crash|ride|cymbal|splash|china"),
)


def drum_class(instrument: str) -> str | None:
    name = instrument.lower()
    for label, pattern in CLASSES:
        if re.search(pattern, name):
            return None if label == "skip" else label
    return None


def instruments(kit: Path):
    """``(instrument name, [sample file, ...])`` for each instrument of a kit."""
    root = ElementTree.parse(kit / "drumkit.xml").getroot()
    for element in root.iter():
        element.tag = element.tag.rsplit("}", 1)[-1]  # drop the XML namespace
    for instrument in root.iter("instrument"):
        name = (instrument.findtext("name") or "").strip()
        files = [f.text.strip() for f in instrument.iter("filename") if f.text]
        if name and files:
            yield name, [kit / f for f in files]


def onset_clip(path: Path, sample_rate: int, length: int) -> np.ndarray:
    """The file as mono at ``sample_rate``, from 2 ms before its onset, ``length`` long."""
    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    if rate != sample_rate:
        audio = soxr.resample(audio, rate, sample_rate)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak == 0.0:
        return np.zeros(length, np.float32)
    start = max(0, int(np.argmax(np.abs(audio) > 0.05 * peak)) - sample_rate // 500)
    clip = audio[start:start + length]
    return np.pad(clip, (0, length - len(clip))).astype(np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--drumkits", type=Path, default=DRUMKITS)
    parser.add_argument("--held-out-kits", default=",".join(HELD_OUT_KITS),
                        help="comma-separated kit folders to hold out whole")
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--length", type=int, default=16384, help="samples per hit")
    args = parser.parse_args(argv)
    if not args.drumkits.is_dir():
        parser.error(f"{args.drumkits} not found: apt-get install hydrogen-drumkits")
    held_out = [k for k in args.held_out_kits.split(",") if k]
    unknown = [k for k in held_out if k not in ACOUSTIC_KITS]
    if unknown:
        parser.error(f"--held-out-kits: unknown kit {unknown[0]!r}; "
                     f"choose from {', '.join(ACOUSTIC_KITS)}")
    present = [k for k in ACOUSTIC_KITS if (args.drumkits / k / "drumkit.xml").is_file()]
    missing = [k for k in held_out if k not in present]
    if missing or len(present) == len(held_out):
        parser.error(f"{args.drumkits} lacks the held-out kit {missing[0]!r}" if missing
                     else f"{args.drumkits} has no kit left to train on")
    kept: list[np.ndarray] = []  # unit vectors of the hits written so far
    counts = {"train": 0, "held_out": 0}
    # Held-out kits first, so that a training sample repeating one of them is dropped.
    for kit_name in held_out + [k for k in present if k not in held_out]:
        part = "held_out" if kit_name in held_out else "train"
        kit = args.drumkits / kit_name
        stem = re.sub(r"[^a-z0-9]+", "", kit_name.lower())
        for instrument, files in instruments(kit):
            label = drum_class(instrument)
            if label is None:
                continue
            name = re.sub(r"[^a-z0-9]+", "", instrument.lower())[:24]
            for layer, path in enumerate(files):
                try:
                    clip = onset_clip(path, args.sample_rate, args.length)
                except (OSError, RuntimeError, sf.LibsndfileError) as error:
                    print(f"skipped {path}: {error}", file=sys.stderr)
                    continue
                norm = float(np.linalg.norm(clip))
                if norm < 1e-6:
                    continue
                unit = clip / norm
                if kept and float(np.max(np.stack(kept) @ unit)) > 0.999:
                    continue
                if write_clip(args.output / part / label / f"{stem}_{name}_{layer}.wav",
                              clip, args.sample_rate):
                    kept.append(unit)
                    counts[part] += 1
    print(f"Wrote {counts['train']} training and {counts['held_out']} held-out hits of "
          f"{len(CLASSES) - 1} classes from {len(present)} Hydrogen kits "
          f"({len(held_out)} held out) to {args.output}")


if __name__ == "__main__":
    main()
