"""Make a spoken-digits data set (like SC09) with espeak-ng: ten class folders.

    sudo apt-get install espeak-ng            # Debian/Ubuntu; brew install espeak-ng
    python examples/make_spoken_digits.py digits/ --per-class 100
    keras-soundgan train digits/train --preset speech --conditional
    keras-soundgan evaluate RUN_DIR digits/train --held-out digits/held_out

Each word is spoken in many voices (accents), voice variants (speakers), pitches and
speeds. The training part (``--per-class`` words per digit) never uses the voice
variants of the held-out part (``--held-out-per-class`` words per digit), so that
held-out words come from speakers the model never heard, as SC09's split by speaker.
Written as 16 kHz mono WAV to ``DIR/{train,held_out}/<word>/<word>_<n>.wav``. Nothing
is downloaded: espeak-ng synthesises locally.
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--per-class", type=int, default=100,
                        help="training words per digit")
    parser.add_argument("--held-out-per-class", type=int, default=20,
                        help="held-out words per digit (other speakers)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    rng = random.Random(args.seed)
    parts = {
        "train": (args.per_class, [v for v in VARIANTS if v not in HELD_OUT_VARIANTS]),
        "held_out": (args.held_out_per_class, HELD_OUT_VARIANTS),
    }
    for part, (count, variants) in parts.items():
        combos = list(itertools.product(VOICES, variants))
        for word in WORDS:
            folder = args.output / part / word
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                voice, variant = rng.choice(combos)
                pitch, speed = rng.randint(20, 80), rng.randint(130, 210)
                path = folder / f"{word}_{i:03d}.wav"
                subprocess.run([espeak, "-v", voice + variant, "-p", str(pitch), "-s",
                                str(speed), "-w", str(path), word],
                               check=True, capture_output=True)
    print(f"Wrote {len(WORDS) * args.per_class} training and "
          f"{len(WORDS) * args.held_out_per_class} held-out words to {args.output}")


if __name__ == "__main__":
    main()
