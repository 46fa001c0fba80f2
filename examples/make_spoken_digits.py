"""Make a spoken-digits data set (like SC09) with a speech synthesiser: ten class folders.

    sudo apt-get install espeak-ng flite      # Debian/Ubuntu; brew install espeak-ng flite
    python examples/make_spoken_digits.py digits/ --per-class 100
    python examples/make_spoken_digits.py digits/ --engine flite --per-class 75
    keras-soundgan train digits/train --preset speech
    keras-soundgan evaluate RUN_DIR digits/train --held-out digits/held_out

Two synthesisers, both local (nothing is downloaded):

* ``espeak-ng`` (the default): formant synthesis, many voices (accents) and voice
  variants (speakers), pitches and speeds. The held-out part uses two voice variants
  (``+m3``, ``+f2``) the training part never uses.
* ``flite``: CMU Flite's voices, three of them statistical-parametric voices trained on
  recordings of real speakers (``awb``, ``rms``, ``slt``) and a diphone voice
  (``kal16``), each at random speeds (``duration_stretch`` 0.8-1.25) and, where the
  voice takes it, pitches (0.8-1.25 of its own). One whole voice is held out
  (``--held-out-voice``, default ``rms``): the training part has the other three, so
  held-out words come from a speaker the model never heard, as SC09's split by
  speaker. ``--per-class`` words per digit are spread evenly over the training voices.

Written as 16 kHz mono WAV to ``DIR/{train,held_out}/<word>/<word>_<n>.wav``.
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
import subprocess
import sys
from pathlib import Path

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
VOICES = ("en", "en-us", "en-gb-x-rp", "en-gb-scotland", "en-gb-x-gbclan", "en-029",
          "en-gb-x-gbcwmd")
VARIANTS = ("", "+m1", "+m3", "+m5", "+f1", "+f2", "+f3", "+f4", "+croak", "+klatt")
HELD_OUT_VARIANTS = ("+m3", "+f2")  # speakers heard only in the held-out part
#: Flite's 16 kHz voices and the mean pitch (Hz) each speaks at, which the random
#: pitch scales (kal16, a diphone voice, keeps its own intonation).
FLITE_VOICES = {"awb": 100.0, "rms": 80.0, "slt": 165.0, "kal16": None}


def espeak_parts(args, rng):
    """``[(part, word, index, command)]`` for espeak-ng."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    parts = {
        "train": (args.per_class, [v for v in VARIANTS if v not in HELD_OUT_VARIANTS]),
        "held_out": (args.held_out_per_class, HELD_OUT_VARIANTS),
    }
    jobs = []
    for part, (count, variants) in parts.items():
        combos = list(itertools.product(VOICES, variants))
        for word in WORDS:
            for i in range(count):
                voice, variant = rng.choice(combos)
                pitch, speed = rng.randint(20, 80), rng.randint(130, 210)
                jobs.append((part, word, i, lambda path, voice=voice, variant=variant,
                             pitch=pitch, speed=speed, word=word: [
                                 espeak, "-v", voice + variant, "-p", str(pitch), "-s",
                                 str(speed), "-w", str(path), word]))
    return jobs


def flite_parts(args, rng):
    """``[(part, word, index, command)]`` for flite, one voice held out."""
    flite = shutil.which("flite")
    if flite is None:
        sys.exit("flite is not installed (apt-get install flite)")
    if args.held_out_voice not in FLITE_VOICES:
        sys.exit(f"--held-out-voice must be one of {', '.join(FLITE_VOICES)}, "
                 f"got {args.held_out_voice!r}")
    training = [v for v in FLITE_VOICES if v != args.held_out_voice]
    jobs = []
    for part, count, voices in (("train", args.per_class, training),
                                ("held_out", args.held_out_per_class, [args.held_out_voice])):
        for word in WORDS:
            for i in range(count):
                voice = voices[i % len(voices)]
                command = [flite, "-voice", voice, "--setf",
                           f"duration_stretch={rng.uniform(0.8, 1.25):.3f}"]
                if FLITE_VOICES[voice]:
                    pitch = FLITE_VOICES[voice] * rng.uniform(0.8, 1.25)
                    command += ["--setf", f"int_f0_target_mean={pitch:.1f}"]
                jobs.append((part, word, i, lambda path, command=command, word=word:
                             command + ["-t", word, "-o", str(path)]))
    return jobs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--engine", choices=("espeak-ng", "flite"), default="espeak-ng")
    parser.add_argument("--per-class", type=int, default=100,
                        help="training words per digit")
    parser.add_argument("--held-out-per-class", type=int, default=20,
                        help="held-out words per digit (other speakers)")
    parser.add_argument("--held-out-voice", default="rms",
                        help="flite: the voice of the held-out part (awb, rms, slt, kal16)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    jobs = (flite_parts if args.engine == "flite" else espeak_parts)(args, rng)
    for part, word, i, command in jobs:
        folder = args.output / part / word
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{word}_{i:03d}.wav"
        subprocess.run(command(path), check=True, capture_output=True)
    train = sum(1 for job in jobs if job[0] == "train")
    print(f"Wrote {train} training and {len(jobs) - train} held-out words "
          f"({args.engine}) to {args.output}")


if __name__ == "__main__":
    main()
