"""Make a spoken-digits data set (like SC09) with espeak-ng: ten class folders.

    sudo apt-get install espeak-ng            # Debian/Ubuntu; brew install espeak-ng
    python examples/make_spoken_digits.py digits/ --per-class 60
    keras-soundgan train digits/ --set data.trim_silence=true

Each word is spoken in many voices, pitches and speeds, written as 16 kHz mono WAV to
DIR/<word>/<word>_<n>.wav. Nothing is downloaded: espeak-ng synthesises locally.
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--per-class", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        sys.exit("espeak-ng is not installed (apt-get install espeak-ng)")
    rng = random.Random(args.seed)
    combos = list(itertools.product(VOICES, VARIANTS))
    for word in WORDS:
        folder = args.output / word
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(args.per_class):
            voice, variant = rng.choice(combos)
            pitch, speed = rng.randint(20, 80), rng.randint(130, 210)
            path = folder / f"{word}_{i:03d}.wav"
            subprocess.run([espeak, "-v", voice + variant, "-p", str(pitch), "-s", str(speed),
                            "-w", str(path), word], check=True, capture_output=True)
    print(f"Wrote {len(WORDS) * args.per_class} files to {args.output}")


if __name__ == "__main__":
    main()
