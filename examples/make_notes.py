"""Make a pitched-notes data set (like NSynth) with FluidSynth: one class per pitch.

    sudo apt-get install fluidsynth fluid-soundfont-gm      # Debian/Ubuntu
    python examples/make_notes.py notes/
    keras-soundgan train notes/train --preset notes --conditional
    keras-soundgan evaluate RUN_DIR notes/train --held-out notes/held_out

Every pitch from C3 to B4 (24 classes, folders named ``C3``, ``C#3``, ... ``B4``) is
played by sampled General MIDI instruments of the FluidR3 SoundFont: ten instruments at
two velocities make the training part (480 one-second notes), four other instruments make
the held-out part (96 notes), so that held-out notes are also unseen timbres, as in
NSynth's split. Each note is held 0.8 s and written as 16 kHz mono WAV to
``DIR/{train,held_out}/<pitch>/<instrument>_<velocity>.wav``. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fluidsynth import SOUNDFONT, render, write_clip  # noqa: E402

# General MIDI programs (FluidR3 names).
TRAIN = {0: "grand_piano", 4: "rhodes", 11: "vibraphone", 19: "church_organ",
         24: "nylon_guitar", 27: "clean_guitar", 40: "violin", 56: "trumpet",
         65: "alto_sax", 73: "flute"}
HELD_OUT = {12: "marimba", 42: "cello", 46: "harp", 71: "clarinet"}
NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pitch_name(midi: int) -> str:
    """``60`` -> ``"C4"`` (scientific pitch notation, sharps, as librosa.midi_to_note)."""
    return f"{NAMES[midi % 12]}{midi // 12 - 1}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--low", type=int, default=48, help="lowest MIDI pitch (48 = C3)")
    parser.add_argument("--high", type=int, default=71, help="highest MIDI pitch (71 = B4)")
    parser.add_argument("--velocities", default="80,112",
                        help="velocities of the training notes (held-out: the first)")
    parser.add_argument("--sample-rate", type=int, default=16000)
    parser.add_argument("--length", type=int, default=16384, help="samples per note")
    parser.add_argument("--soundfont", default=SOUNDFONT)
    args = parser.parse_args(argv)
    velocities = [int(v) for v in args.velocities.split(",")]
    pitches = range(args.low, args.high + 1)
    counts = {}
    for part, instruments, part_velocities in (("train", TRAIN, velocities),
                                               ("held_out", HELD_OUT, velocities[:1])):
        written = 0
        for program, instrument in instruments.items():
            notes = [(p, v) for p in pitches for v in part_velocities]
            clips = render(notes, program=program, sample_rate=args.sample_rate,
                           length=args.length, soundfont=args.soundfont)
            for (pitch, velocity), clip in zip(notes, clips):
                path = (args.output / part / pitch_name(pitch)
                        / f"{instrument}_{velocity}.wav")
                written += write_clip(path, clip, args.sample_rate)
        counts[part] = written
    print(f"Wrote {counts['train']} training and {counts['held_out']} held-out notes of "
          f"{len(pitches)} pitches to {args.output}")


if __name__ == "__main__":
    main()
