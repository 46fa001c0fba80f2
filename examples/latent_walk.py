"""A latent walk: sounds that morph from one seed's noise to another's.

    keras-soundgan train -o runs/drums              # or any run folder
    python examples/latent_walk.py runs/drums 3 17 --steps 8 --output walk/

The same as `keras-soundgan generate RUN_DIR --interpolate 3 17 -n 8`, in Python.
"""

import argparse
from pathlib import Path

from keras_soundgan.runs import load_run
from keras_soundgan.samples import interpolate_latents, write_samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("seed_a", type=int)
    parser.add_argument("seed_b", type=int)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--output", type=Path, default=Path("walk"))
    args = parser.parse_args()

    model = load_run(args.run_dir)
    z = interpolate_latents(model, args.seed_a, args.seed_b, args.steps)
    paths = write_samples(model, args.output, args.steps, z=z, prefix="step")
    print("\n".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
