"""Writing generated sounds: WAV files and a captioned spectrogram picture.

A leaf of the package: it takes a model (anything with ``generate``,
``spectrogram_transform`` and ``config``) or the images and audio themselves, and
imports only NumPy, soundfile and :mod:`keras_soundgan.visualize`, so that training
(:mod:`keras_soundgan.runs`), its callbacks (:class:`~keras_soundgan.callbacks.AudioPreview`)
and the command line all write sounds the same way without importing each other.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from keras_soundgan.checks import check_integer

__all__ = ["interpolate_latents", "write_samples", "write_sounds"]


def write_samples(model, output_dir: str | os.PathLike, n: int = 8, seed: int | None = 0,
                  prefix: str | None = None, png_name: str = "spectrograms.png",
                  z=None, labels=None, class_names=()) -> list[Path]:
    """Generates ``n`` sounds and writes ``prefix_00.wav ...`` plus a PNG grid of their
    spectrograms (``png_name``). ``z`` (``[n, latent_dim]``) replaces the seeded noise;
    ``labels`` chooses the classes of a conditional model (default: each in turn).

    Without ``prefix``, a conditional model's sounds are named by their class when
    ``class_names`` are given or the model has them (``kick_00.wav``,
    ``snare_01.wav``, ...), other sounds ``sample_00.wav ...``. Each tile of the PNG
    is captioned with its sound's name, the seed and its place in the draw
    (``kick seed 0 #2``: the third sound of ``seed=0``), so that it can be made again.

    Returns the paths written, WAV files first.
    """
    images = model.generate(n, seed=seed, z=z, labels=labels)
    audio = model.spectrogram_transform().inverse(images)
    class_names = class_names or model.class_names or ()
    if prefix is None and model.num_classes and len(class_names) == model.num_classes:
        requested = model.labels_for(n, labels)
        prefix = [class_names[label] for label in requested]
    prefix = prefix or "sample"
    names = [prefix] * n if isinstance(prefix, str) else list(prefix)
    drawn = "" if seed is None or z is not None else f" seed {seed}"
    captions = [f"{name}{drawn} #{i}" for i, name in enumerate(names)]
    return write_sounds(output_dir, images, audio, model.config.spectrogram.sample_rate,
                        prefix=prefix, png_name=png_name, captions=captions)


def write_sounds(output_dir: str | os.PathLike, images, audio, sample_rate: int,
                 prefix: str | list[str] = "sample",
                 png_name: str = "spectrograms.png", captions=None) -> list[Path]:
    """Writes generated sounds ``audio`` ``[n, samples]`` as ``prefix_00.wav ...``
    (16-bit, scaled down only if they would clip) and their ``images`` as a PNG grid
    (each tile under its caption, where ``captions`` gives ``n``). ``prefix`` may also
    be one name per sound (``["kick", "snare"]`` writes ``kick_00.wav`` and
    ``snare_01.wav``).

    Returns the paths written, WAV files first.
    """
    import soundfile as sf

    from keras_soundgan.visualize import save_spectrogram_grid

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    n = len(audio)
    paths = []
    width = max(2, len(str(n - 1)))
    prefixes = [prefix] * n if isinstance(prefix, str) else list(prefix)
    if len(prefixes) != n:
        raise ValueError(f"{len(prefixes)} names for {n} sounds")
    for i, clip in enumerate(audio):
        path = output_dir / f"{prefixes[i]}_{i:0{width}d}.wav"
        peak = float(np.max(np.abs(clip))) if clip.size else 0.0
        if peak > 1.0:  # never write clipped audio
            clip = clip / peak
        sf.write(path, clip, sample_rate, subtype="PCM_16")
        paths.append(path)
    png = output_dir / png_name
    save_spectrogram_grid(png, images, captions=captions)
    paths.append(png)
    return paths


def interpolate_latents(model, seed_a: int, seed_b: int, steps: int) -> np.ndarray:
    """``steps`` noise vectors walking from seed ``seed_a``'s noise to ``seed_b``'s:
    spherical for normal noise (stays at the typical radius), linear for uniform."""
    steps = check_integer(steps, "steps", minimum=2)
    a, b = model.latent(1, seed_a)[0], model.latent(1, seed_b)[0]
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    if model.config.generator.latent_distribution == "normal":
        cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
        omega = np.arccos(np.clip(cos, -1.0, 1.0))
        if omega > 1e-4:
            return ((np.sin((1 - t) * omega) * a + np.sin(t * omega) * b)
                    / np.sin(omega)).astype(np.float32)
    return ((1 - t) * a + t * b).astype(np.float32)
