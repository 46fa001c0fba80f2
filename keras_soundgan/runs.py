"""Training runs end to end, and the run folder they write.

A run folder holds everything needed to listen to, continue or export a model::

    RUN_DIR/
      config.json         the full SoundGANConfig (every section, every field)
      model.keras         the trained SoundGAN (both networks, optimizer state and
                          the spectrogram statistics)
      statistics.npz      the spectrogram statistics on their own (mean, std, config)
      history.json        the losses of every epoch
      data.json           where the training data came from, and its class names
      samples/            sample_00.wav ... and spectrograms.png, generated at the end

This module is what ``keras-soundgan train`` calls; Python users can call
:func:`train` the same way, or write their own ``model.fit`` loop.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
from pathlib import Path

import numpy as np

from keras_soundgan.config import SoundGANConfig

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
STATISTICS_FILE = "statistics.npz"
HISTORY_FILE = "history.json"
DATA_FILE = "data.json"
SAMPLES_DIR = "samples"


@dataclasses.dataclass
class TrainedRun:
    """What :func:`train` returns."""

    run_dir: Path
    model: object
    history: dict
    sample_files: list


def default_run_dir(config: SoundGANConfig, root: str | os.PathLike = "runs") -> Path:
    """``runs/<config name>-<date>-<time>``, not yet existing."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{config.name}-{stamp}"
    i = 1
    while path.exists():
        i += 1
        path = Path(root) / f"{config.name}-{stamp}-{i}"
    return path


def prepare_data(config: SoundGANConfig, data_dir=None, *, cache_dir=None, on_skip=None,
                 log=None):
    """The training data for ``config``: ``(dataset, transform, class_names, source)``.

    Without ``data_dir``: the embedded drum kit
    (:func:`keras_soundgan.datasets.load_drums`), synthesised at the config's rate and
    slice length, ``config.data.embedded_per_class`` clips per class. With a folder of
    recordings: its spectrogram cache (:func:`~keras_soundgan.audio.cache.load_or_build_cache`,
    built or rebuilt as needed; bad files are skipped and passed to ``on_skip``). A
    cache folder from ``keras-soundgan preprocess`` works as ``data_dir`` too.

    ``dataset`` yields ``(images, labels)`` batches of ``config.training.batch_size``;
    ``transform`` is the adapted :class:`~keras_soundgan.audio.spectral.SpectrogramTransform`.
    """
    from keras_soundgan.audio.cache import load_or_build_cache
    from keras_soundgan.audio.dataset import spectrogram_dataset
    from keras_soundgan.audio.spectral import SpectrogramTransform

    t = config.training
    if data_dir is None:
        from keras_soundgan.datasets import load_drums

        spec = config.spectrogram
        waveforms, labels, class_names = load_drums(
            config.data.embedded_per_class, sample_rate=spec.sample_rate,
            length=spec.slice_length, seed=t.seed)
        transform = SpectrogramTransform(spec).adapt(waveforms)
        dataset = spectrogram_dataset(transform.forward(waveforms), labels,
                                      batch_size=t.batch_size, seed=t.seed)
        return dataset, transform, tuple(class_names), "embedded drum kit"
    cache = load_or_build_cache(data_dir, config, cache_dir, on_skip=on_skip, log=log)
    dataset = cache.dataset(t.batch_size, seed=t.seed)
    return dataset, cache.transform, cache.class_names, os.path.abspath(os.fspath(data_dir))


def train(config: SoundGANConfig, run_dir: str | os.PathLike | None = None, data_dir=None,
          *, cache_dir=None, overwrite: bool = False, verbose="auto", callbacks=None,
          num_samples: int = 8, on_skip=None, log=None) -> TrainedRun:
    """Trains a SoundGAN from ``config`` and writes a run folder.

    Args:
        config: the configuration (``SoundGANConfig.from_preset("tiny")`` and so on).
        run_dir: the run folder (default: :func:`default_run_dir`). Refused if it
            already holds a model, unless ``overwrite``.
        data_dir: a folder of recordings (class sub-folders become labels), a cache
            folder from ``keras-soundgan preprocess``, or ``None`` for the embedded
            drum kit.
        cache_dir: where to keep the spectrogram cache of ``data_dir`` (default:
            :func:`~keras_soundgan.audio.cache.default_cache_dir`).
        verbose: passed to ``fit``.
        callbacks: extra Keras callbacks for ``fit``.
        num_samples: WAV files generated at the end (and images in the PNG grid).
        on_skip: called with each unusable audio file (a ``SkippedFile``).
        log: called with progress messages (strings).

    Returns:
        a :class:`TrainedRun` with the folder, the model, the history and the samples.
    """
    import keras

    from keras_soundgan.models.soundgan import SoundGAN

    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    if (run_dir / MODEL_FILE).exists() and not overwrite:
        raise FileExistsError(
            f"{run_dir} already holds a trained model; choose another output folder or "
            "pass overwrite=True (--overwrite)")
    t = config.training
    keras.utils.set_random_seed(t.seed)
    dataset, transform, class_names, source = prepare_data(
        config, data_dir, cache_dir=cache_dir, on_skip=on_skip, log=log)

    model = SoundGAN(config)
    model.set_spectrogram_statistics(transform.mean, transform.std)
    model.compile()
    history = model.fit(dataset, epochs=t.epochs, verbose=verbose, callbacks=callbacks,
                        shuffle=False)  # the dataset reshuffles itself each epoch

    run_dir.mkdir(parents=True, exist_ok=True)
    config.to_json(run_dir / CONFIG_FILE)
    transform.save(run_dir / STATISTICS_FILE)
    model.save(run_dir / MODEL_FILE)
    logs = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    (run_dir / HISTORY_FILE).write_text(json.dumps(logs, indent=2) + "\n")
    (run_dir / DATA_FILE).write_text(json.dumps(
        {"source": source, "class_names": list(class_names)}, indent=2) + "\n")
    samples = write_samples(model, run_dir / SAMPLES_DIR, num_samples, seed=t.seed)
    return TrainedRun(run_dir=run_dir, model=model, history=logs, sample_files=samples)


def write_samples(model, output_dir: str | os.PathLike, n: int = 8, seed: int | None = 0,
                  prefix: str = "sample") -> list[Path]:
    """Generates ``n`` sounds and writes ``prefix_00.wav ...`` plus ``spectrograms.png``.

    Returns the paths written, WAV files first.
    """
    import soundfile as sf

    from keras_soundgan.visualize import save_spectrogram_grid

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    images = model.generate(n, seed=seed)
    audio = model.spectrogram_transform().inverse(images)
    rate = model.config.spectrogram.sample_rate
    paths = []
    width = max(2, len(str(n - 1)))
    for i, clip in enumerate(audio):
        path = output_dir / f"{prefix}_{i:0{width}d}.wav"
        peak = float(np.max(np.abs(clip))) if clip.size else 0.0
        if peak > 1.0:  # never write clipped audio
            clip = clip / peak
        sf.write(path, clip, rate, subtype="PCM_16")
        paths.append(path)
    png = output_dir / "spectrograms.png"
    save_spectrogram_grid(png, images)
    paths.append(png)
    return paths


def load_run(run_dir: str | os.PathLike):
    """Loads the trained :class:`~keras_soundgan.SoundGAN` of a run folder."""
    import keras

    import keras_soundgan.models.soundgan  # noqa: F401  (registers SoundGAN with Keras)

    path = Path(run_dir) / MODEL_FILE
    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"run folder {os.fspath(run_dir)!r} does not exist")
    if not path.exists():
        raise FileNotFoundError(f"{os.fspath(run_dir)!r} holds no {MODEL_FILE}: is it a run folder?")
    return keras.saving.load_model(path)
