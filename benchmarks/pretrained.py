"""From a pretrained preset to the first WAV file, in a fresh process (imports included).

    python benchmarks/pretrained.py                       # drums, 5 rounds
    python benchmarks/pretrained.py --preset speech --rounds 9

Each contender is a new Python process, timed from its start to its exit; the rounds
alternate the contenders (rotating the order every round), and the table gives the
median and min of each and the ratio of medians to the baseline:

* ``import keras (baseline)``: ``python -c "import keras"`` on the TensorFlow backend,
  the floor any Keras package starts from;
* ``import tensorflow``: what the spectrogram inverse (``tf.signal``) adds to it;
* ``from_preset -> WAV``: ``SoundGAN.from_preset(NAME)``, one sound
  (``generate_audio``), ``soundfile.write``: the Python way in;
* ``keras-soundgan generate --preset``: the command line's, ``-n 1``, PNG included.

The target of issue 18 is under 5 s for the Python way on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tables import table  # noqa: E402

PYTHON_WAY = """
import soundfile as sf
from keras_soundgan import SoundGAN
model = SoundGAN.from_preset({preset!r})
audio = model.generate_audio(1, seed=0)
sf.write({path!r}, audio[0], model.config.spectrogram.sample_rate)
"""


def contenders(preset, folder):
    cli = str(Path(sys.executable).parent / "keras-soundgan")
    return {
        "import keras (baseline)": [sys.executable, "-c", "import keras"],
        "import tensorflow": [sys.executable, "-c", "import tensorflow"],
        "from_preset -> WAV": [sys.executable, "-c", PYTHON_WAY.format(
            preset=preset, path=os.path.join(folder, "one.wav"))],
        "keras-soundgan generate --preset": [cli, "generate", "--preset", preset, "-n", "1",
                                             "--seed", "0", "-q", "--output",
                                             os.path.join(folder, "cli")],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="drums")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        runs = contenders(args.preset, folder)
        times = {name: [] for name in runs}
        names = list(runs)
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                start = time.perf_counter()
                subprocess.run(runs[name], check=True, env=env, capture_output=True)
                times[name].append(time.perf_counter() - start)
        assert os.path.getsize(os.path.join(folder, "one.wav")) > 1000
    base = statistics.median(times[names[0]])
    rows = [[name, f"{statistics.median(t):.2f}", f"{min(t):.2f}",
             f"{statistics.median(t) / base:.2f}x"] for name, t in times.items()]
    print(f"preset {args.preset}, {args.rounds} rounds; load average at the start "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
    print(table(rows, ["contender", "median s", "min s", "vs baseline"]))


if __name__ == "__main__":
    main()
