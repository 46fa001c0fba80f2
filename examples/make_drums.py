"""Make a real drum one-shot data set with FluidSynth: five classes from 31 GM drum kits.

    sudo apt-get install fluidsynth fluid-soundfont-gm      # Debian/Ubuntu
    python examples/make_drums.py drums/
    keras-soundgan train drums/train --preset drums --conditional
    keras-soundgan evaluate RUN_DIR drums/train --held-out drums/held_out

Every drum kit of the FluidR3 General MIDI SoundFont (Standard, Room, Power, Electronic,
TR-808, Jazz, Brush, Orchestra and their variants) plays each drum of five classes
(``kick``, ``snare``, ``hihat``, ``tom``, ``cymbal``) at six velocities. Kits share many
samples, so identical hits (normalised correlation above 0.999) are kept once: about 330
distinct one-shots. Hits of one recorded sample (correlation above 0.9: the velocity
layers of one drum) form a group, and about a fifth of each class's groups is held out,
so that held-out hits are drums the training part never heard. Written as 16 kHz mono WAV
to ``DIR/{train,held_out}/<class>/<kit>_<note>_<velocity>.wav``. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fluidsynth import DRUM_CHANNEL, SOUNDFONT, render, write_clip  # noqa: E402

# General MIDI percussion keys of each class.
CLASSES = {
    "kick": (35, 36),
    "snare": (38, 40),
    "hihat": (42, 44, 46),
    "tom": (41, 43, 45, 47, 48, 50),
    "cymbal": (49, 51, 52, 53, 55, 57, 59),
}
VELOCITIES = (30, 50, 70, 90, 110, 127)


def drum_kits(soundfont: str) -> dict[int, str]:
    """``{program: name}`` of the SoundFont's percussion presets (bank 128), read from
    its ``phdr`` chunk."""
    data = Path(soundfont).read_bytes()
    start = data.find(b"phdr")
    size = struct.unpack("<I", data[start + 4:start + 8])[0]
    kits = {}
    for offset in range(start + 8, start + 8 + size - 38, 38):  # the last record is EOP
        name = data[offset:offset + 20].split(b"\0")[0].decode("ascii", "replace")
        program, bank = struct.unpack("<HH", data[offset + 20:offset + 24])
        if bank == 128:
            kits[program] = name
    return dict(sorted(kits.items()))


def groups(clips: np.ndarray, threshold: float) -> np.ndarray:
    """Connected components of clips whose normalised correlation exceeds ``threshold``."""
    unit = clips / np.linalg.norm(clips, axis=1, keepdims=True)
    similar = unit @ unit.T > threshold
    label = np.full(len(clips), -1)
    for i in range(len(clips)):
        if label[i] >= 0:
            continue
        label[i], stack = i, [i]
        while stack:
            j = stack.pop()
            for k in np.flatnonzero(similar[j] & (label < 0)):
                label[k] = i
                stack.append(k)
    return label


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--held-out", type=float, default=0.2,
                        help="fraction of each class's sample groups held out")
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--length", type=int, default=16384, help="samples per hit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--soundfont", default=SOUNDFONT)
    args = parser.parse_args(argv)
    kits = drum_kits(args.soundfont)
    hits = {name: [] for name in CLASSES}  # class -> [(file stem, clip)]
    for program, kit in kits.items():
        keyed = [(name, key, velocity) for name, keys in CLASSES.items()
                 for key in keys for velocity in VELOCITIES]
        clips = render([(key, velocity) for _, key, velocity in keyed], program=program,
                       bank=128, channel=DRUM_CHANNEL, sample_rate=args.sample_rate,
                       length=args.length, spacing=1.5, soundfont=args.soundfont)
        stem = kit.lower().replace(" ", "").replace("-", "")
        for (name, key, velocity), clip in zip(keyed, clips):
            if np.max(np.abs(clip)) < 1e-3:  # a kit without this drum
                continue
            unit = clip / np.linalg.norm(clip)
            if any(float(np.dot(unit, other / np.linalg.norm(other))) > 0.999
                   for _, other in hits[name]):
                continue
            hits[name].append((f"{stem}_{key}_{velocity}", clip))
    rng = np.random.default_rng(args.seed)
    counts = {"train": 0, "held_out": 0}
    for name, items in hits.items():
        label = groups(np.stack([clip for _, clip in items]), 0.9)
        ids = np.unique(label)
        rng.shuffle(ids)
        held = set(ids[:max(1, round(args.held_out * len(ids)))].tolist())
        for (stem, clip), group in zip(items, label):
            part = "held_out" if group in held else "train"
            counts[part] += write_clip(args.output / part / name / f"{stem}.wav", clip,
                                       args.sample_rate)
    print(f"Wrote {counts['train']} training and {counts['held_out']} held-out hits of "
          f"{len(CLASSES)} classes from {len(kits)} kits to {args.output}")


if __name__ == "__main__":
    main()
