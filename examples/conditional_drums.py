"""Conditional generation in Python: a drum machine that plays the kind you ask for.

    python examples/conditional_drums.py --epochs 60 --output drums_out/

Trains the `tiny` preset conditioned on the embedded drum kit's six kinds (kick, snare,
hi-hat, clap, tom, rimshot) with `model.fit`, then writes four sounds of each kind.
"""

import argparse
from pathlib import Path

import keras
import soundfile as sf

from keras_soundgan import SoundGAN, SoundGANConfig, SpectrogramTransform, load_drums
from keras_soundgan import spectrogram_dataset


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--output", type=Path, default=Path("drums_out"))
    args = parser.parse_args()

    waveforms, labels, kinds = load_drums(64, sample_rate=16000, length=4096)
    config = SoundGANConfig.from_preset("tiny", num_classes=len(kinds), epochs=args.epochs)
    keras.utils.set_random_seed(config.training.seed)
    transform = SpectrogramTransform(config.spectrogram).adapt(waveforms)
    dataset = spectrogram_dataset(transform.forward(waveforms), labels,
                                  batch_size=config.training.batch_size)

    model = SoundGAN(config)
    model.set_spectrogram_statistics(transform.mean, transform.std)
    model.compile()
    model.fit(dataset, epochs=config.training.epochs)

    args.output.mkdir(parents=True, exist_ok=True)
    for label, kind in enumerate(kinds):
        audio = model.generate_audio(4, seed=label, labels=label)
        for i, clip in enumerate(audio):
            sf.write(args.output / f"{kind}_{i}.wav", clip, config.spectrogram.sample_rate)
    print(f"Wrote {4 * len(kinds)} sounds to {args.output}")


if __name__ == "__main__":
    main()
