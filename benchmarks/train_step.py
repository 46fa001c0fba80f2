"""Training-step time of a preset on the current Keras backend.

    python benchmarks/train_step.py --preset specgan --steps 5
    KERAS_BACKEND=jax python benchmarks/train_step.py --preset tiny

Times whole `fit` steps (n_critic discriminator updates and one generator update) on
random images after a warm-up epoch that absorbs tracing and compilation, and prints
seconds per step and examples per second; before that, how long the warm-up (the first
`fit`: tracing, compiling and one step) took.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="specgan")
    parser.add_argument("--steps", type=int, default=5, help="timed steps")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.FIELD=VALUE")
    args = parser.parse_args()

    import keras
    import numpy as np

    from keras_soundgan import SoundGAN, SoundGANConfig
    from keras_soundgan.config import parse_override

    config = SoundGANConfig.from_preset(args.preset).with_overrides(
        dict(parse_override(o) for o in args.overrides))
    if args.batch_size:
        config = config.with_overrides({"training.batch_size": args.batch_size})
    batch = config.training.batch_size
    keras.utils.set_random_seed(0)
    images = np.random.default_rng(0).uniform(
        -1, 1, (batch * args.steps, *config.spectrogram.image_shape)).astype("float32")
    model = SoundGAN(config)
    model.compile()
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(images[:batch], batch_size=batch, epochs=1, verbose=0)  # trace and compile
    print(f"first fit (tracing, compiling and one step): {time.perf_counter() - start:.2f} s, "
          f"{time.process_time() - cpu:.2f} s of CPU")
    start = time.perf_counter()
    model.fit(images, batch_size=batch, epochs=1, verbose=0, shuffle=False)
    per_step = (time.perf_counter() - start) / args.steps
    print(f"backend={keras.backend.backend()} preset={config.name} batch={batch} "
          f"n_critic={config.training.n_critic} loss={config.training.loss} "
          f"image={config.spectrogram.height}x{config.spectrogram.width} "
          f"G={model.generator.count_params():,} D={model.discriminator.count_params():,} "
          f"params: {per_step:.3f} s/step, {batch / per_step:.1f} examples/s")


if __name__ == "__main__":
    main()
