"""Train on a folder of recordings from Python, with the run folder the CLI writes.

    python examples/make_spoken_digits.py digits/
    python examples/train_on_folder.py digits/train --epochs 50

Each sub-folder is a class; unusable files are printed and skipped. The spectrograms
are cached (see `keras-soundgan preprocess`), so a second run starts at once.
"""

import argparse

from keras_soundgan import SoundGANConfig, train


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--output", default="runs/folder")
    args = parser.parse_args()

    # Spoken words need longer slices than drum hits: 8192 samples (0.5 s) at 16 kHz,
    # trimmed of leading silence so every word starts at the beginning of its slice.
    config = SoundGANConfig.from_preset("tiny", epochs=args.epochs).with_overrides({
        "spectrogram.slice_length": 8192, "data.trim_silence": True})
    result = train(config, args.output, args.data_dir, conditional=True,
                   on_skip=lambda item: print(f"skipped {item.path}: {item.reason}"),
                   log=print)
    print(f"run folder: {result.run_dir}")


if __name__ == "__main__":
    main()
