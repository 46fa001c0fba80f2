"""Training runs end to end, and the run folder they write.

A run folder holds everything needed to listen to, continue or export a model::

    RUN_DIR/
      config.json         the full SoundGANConfig (every section, every field)
      data.json           where the training data came from, and its class names
      statistics.npz      the spectrogram statistics on their own (mean, std, config)
      checkpoints/        epoch-XXXX.keras (the last two) and latest.json, written
                          atomically at the end of every epoch: what --resume reads
      previews/           epoch-XXXX_*.wav and epoch-XXXX.png from fixed noise, every
                          few epochs
      logs/               TensorBoard: loss curves, generated audio and spectrograms
      history.csv         the losses of every epoch, appended as training goes
      model.keras         the trained SoundGAN when training ends (both networks,
                          optimizer state and the spectrogram statistics)
      samples/            sample_00.wav ... and spectrograms.png, generated at the end

The first three are written before the first step, so a run can always be resumed
(``keras-soundgan train --resume RUN_DIR``) from its last complete epoch.

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
from keras_soundgan.distribute import distribution_for

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
STATISTICS_FILE = "statistics.npz"
HISTORY_FILE = "history.csv"
DATA_FILE = "data.json"
SAMPLES_DIR = "samples"
CHECKPOINTS_DIR = "checkpoints"
PREVIEWS_DIR = "previews"
LOGS_DIR = "logs"
EMBEDDED = "embedded drum kit"


# What a resumed run may change: how long it trains and on which devices.
RESUMABLE_CHANGES = ("training.epochs", "training.distribute", "training.devices")


class TrainingInterrupted(RuntimeError):
    """Ctrl-C during training: the state was saved and the run can be resumed."""


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite: training stopped, the last good checkpoint stays."""


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
    from keras_soundgan.audio.spectral import BinStatistics, SpectrogramTransform

    t = config.training
    if data_dir is None:
        from keras_soundgan.datasets import load_drums

        spec = config.spectrogram
        waveforms, labels, class_names = load_drums(
            config.data.embedded_per_class, sample_rate=spec.sample_rate,
            length=spec.slice_length, seed=t.seed)
        # One STFT pass: the statistics and the images from the same log magnitudes.
        log_mag = SpectrogramTransform(spec).log_magnitude(waveforms)
        stats = BinStatistics(spec.height)
        stats.update(log_mag)
        transform = SpectrogramTransform(spec, mean=stats.mean, std=stats.std)
        dataset = spectrogram_dataset(transform.normalize(log_mag), labels,
                                      batch_size=t.batch_size, seed=t.seed)
        return dataset, transform, tuple(class_names), EMBEDDED
    cache = load_or_build_cache(data_dir, config, cache_dir, on_skip=on_skip, log=log)
    dataset = cache.dataset(t.batch_size, seed=t.seed)
    return dataset, cache.transform, cache.class_names, os.path.abspath(os.fspath(data_dir))


def train(config: SoundGANConfig | None = None, run_dir: str | os.PathLike | None = None,
          data_dir=None, *, resume: bool = False, conditional: bool = False,
          cache_dir=None, overwrite: bool = False,
          verbose="auto", callbacks=None, num_samples: int = 8, preview_every: int = 5,
          on_skip=None, log=None) -> TrainedRun:
    """Trains a SoundGAN from ``config`` and writes a run folder.

    Args:
        config: the configuration (``SoundGANConfig.from_preset("tiny")`` and so on).
            With ``resume``, ``None`` means the run's own ``config.json``; a config
            given then may only change ``training.epochs`` (to train longer) and
            ``training.distribute`` / ``training.devices`` (to move to other hardware).
            ``training.distribute`` spreads each global batch over several devices
            (see :mod:`keras_soundgan.distribute`); on several hosts every host runs
            the same call and only the first writes ``run_dir``.
        run_dir: the run folder (default: :func:`default_run_dir`). Refused if it
            already holds a model or checkpoints, unless ``overwrite`` or ``resume``.
        data_dir: a folder of recordings (class sub-folders become labels), a cache
            folder from ``keras-soundgan preprocess``, or ``None`` for the embedded
            drum kit. With ``resume``, ``None`` means the run's own data.
        resume: continue the run in ``run_dir`` from its last complete epoch (weights,
            both optimizers, noise state and step count as they were).
        conditional: condition the model on the data's classes (sets
            ``generator.num_classes`` to their number; needs at least two classes).
        cache_dir: where to keep the spectrogram cache of ``data_dir`` (default:
            :func:`~keras_soundgan.audio.cache.default_cache_dir`).
        verbose: passed to ``fit``.
        callbacks: extra Keras callbacks for ``fit``.
        num_samples: WAV files generated at the end (and images in the PNG grid).
        preview_every: epochs between previews (WAV, PNG and TensorBoard); 0: none.
        on_skip: called with each unusable audio file (a ``SkippedFile``).
        log: called with progress messages (strings).

    Returns:
        a :class:`TrainedRun` with the folder, the model, the history and the samples.

    Raises:
        TrainingInterrupted: on Ctrl-C, after saving (resume with ``resume=True``).
        TrainingDiverged: when a loss becomes NaN or infinite (nothing bad is saved).
    """
    import keras

    from keras_soundgan.callbacks import (AudioPreview, Checkpoint, TensorBoardAudio,
                                          _atomic_write_text, save_model_atomically)
    from keras_soundgan.models.soundgan import SoundGAN

    log = log or (lambda message: None)
    if resume:
        if run_dir is None:
            raise ValueError("resume needs the run folder to continue")
        run_dir = Path(run_dir)
        config, data_dir = resume_settings(run_dir, config, data_dir)
    else:
        if config is None:
            raise ValueError("train needs a config (SoundGANConfig.from_preset('tiny'))")
        run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
        existing = [p for p in (run_dir / MODEL_FILE, run_dir / CHECKPOINTS_DIR) if p.exists()]
        if existing and not overwrite:
            raise FileExistsError(
                f"{run_dir} already holds a run ({existing[0].name}); resume it with "
                "--resume, choose another output folder, or pass --overwrite")
        if overwrite:
            import shutil

            for name in (CHECKPOINTS_DIR, PREVIEWS_DIR, LOGS_DIR, SAMPLES_DIR):
                shutil.rmtree(run_dir / name, ignore_errors=True)
            for name in (MODEL_FILE, HISTORY_FILE):
                (run_dir / name).unlink(missing_ok=True)
    t = config.training
    # Before any other TensorFlow or JAX work: a multi-worker strategy must come first.
    distribution = distribution_for(config)
    if distribution.kind != "none":
        log(f"Data parallelism: {distribution.describe()}, global batch {t.batch_size} "
            f"({t.batch_size // distribution.num_replicas} per device)")
    latest = Checkpoint.latest(run_dir / CHECKPOINTS_DIR) if resume else None
    worker_dir = None
    if not distribution.is_chief:
        # Every worker runs the whole program, saves included (they may need all
        # workers), but only the chief writes the run folder; the others write to a
        # temporary folder that is removed at the end.
        import atexit
        import shutil
        import tempfile

        worker_dir = run_dir = Path(tempfile.mkdtemp(prefix="keras-soundgan-worker-"))
        atexit.register(shutil.rmtree, worker_dir, ignore_errors=True)
    keras.utils.set_random_seed(t.seed)
    dataset, transform, class_names, source = prepare_data(
        config, data_dir, cache_dir=cache_dir, on_skip=on_skip, log=log)
    if conditional and not resume:
        if len(class_names) < 2:
            raise ValueError(
                f"a conditional model needs labelled data with at least two classes "
                f"(class sub-folders); {source} has {len(class_names)}")
        config = config.with_overrides({"generator.num_classes": len(class_names)})
    if config.generator.num_classes and config.generator.num_classes != len(class_names):
        raise ValueError(
            f"generator.num_classes is {config.generator.num_classes} but the data has "
            f"{len(class_names)} classes ({', '.join(class_names) or 'unlabelled'})")

    run_dir.mkdir(parents=True, exist_ok=True)
    _atomic_write_text(run_dir / CONFIG_FILE, config.to_json())
    _atomic_write_text(run_dir / DATA_FILE, json.dumps(
        {"source": source, "class_names": list(class_names)}, indent=2) + "\n")
    transform.save(run_dir / STATISTICS_FILE)

    checkpoint = Checkpoint(run_dir / CHECKPOINTS_DIR)
    if latest is not None:
        initial_epoch, path = latest
        with distribution.scope():
            model = keras.saving.load_model(path)
        log(f"Resuming {run_dir} from epoch {initial_epoch} (step "
            f"{int(keras.ops.convert_to_numpy(model.optimizer.iterations))})")
        if initial_epoch >= t.epochs:
            raise ValueError(
                f"{run_dir} has already trained {initial_epoch} of {t.epochs} epochs; "
                "pass a larger --epochs to train longer")
    else:
        initial_epoch = 0
        with distribution.scope():
            model = SoundGAN(config)
            model.set_spectrogram_statistics(transform.mean, transform.std)
            model.compile()
    model_callbacks = [
        keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE), append=initial_epoch > 0),
        checkpoint,
    ]
    if preview_every:
        model_callbacks += [AudioPreview(run_dir / PREVIEWS_DIR, every=preview_every),
                            keras.callbacks.TensorBoard(str(run_dir / LOGS_DIR)),
                            TensorBoardAudio(run_dir / LOGS_DIR, every=preview_every)]
    try:
        with distribution.scope():
            model.fit(dataset, epochs=t.epochs, initial_epoch=initial_epoch, verbose=verbose,
                      callbacks=model_callbacks + list(callbacks or []),
                      shuffle=False)  # the dataset reshuffles itself each epoch
    except KeyboardInterrupt:
        done = Checkpoint.latest(run_dir / CHECKPOINTS_DIR)
        epoch = done[0] if done else 0
        raise TrainingInterrupted(
            f"interrupted; {run_dir} keeps the checkpoint of epoch {epoch} "
            f"(continue with: keras-soundgan train --resume {run_dir})") from None
    if checkpoint.nan_epoch is not None:
        done = Checkpoint.latest(run_dir / CHECKPOINTS_DIR)
        kept = (f"the last good checkpoint is epoch {done[0]} ({done[1]})" if done
                else "no epoch finished cleanly, so there is no checkpoint")
        raise TrainingDiverged(
            f"a loss became NaN or infinite in epoch {checkpoint.nan_epoch}: training "
            f"stopped and {kept}; lower the learning rates (training.g_learning_rate, "
            "training.d_learning_rate) and resume or start again")

    save_model_atomically(model, run_dir / MODEL_FILE)
    history = read_history(run_dir)
    samples = write_samples(model, run_dir / SAMPLES_DIR, num_samples, seed=t.seed)
    if worker_dir is not None:  # removed when the process ends
        return TrainedRun(run_dir=worker_dir, model=model, history=history, sample_files=[])
    return TrainedRun(run_dir=run_dir, model=model, history=history, sample_files=samples)


def resume_settings(run_dir, config=None, data_dir=None):
    """The config and data folder a resumed run trains with: ``(config, data_dir)``.

    ``config`` ``None`` means the run's own ``config.json``; a config given may differ
    from it only in :data:`RESUMABLE_CHANGES`. ``data_dir`` ``None`` means the run's
    own data (``None`` again for the embedded drum kit). Raises
    ``FileNotFoundError`` for a folder that is not a run or whose data folder is gone,
    and ``ValueError`` for any other change of config.
    """
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG_FILE).is_file():
        raise FileNotFoundError(
            f"cannot resume {os.fspath(run_dir)!r}: it holds no {CONFIG_FILE} (is it a run "
            "folder made by keras-soundgan train?)")
    saved = SoundGANConfig.from_json(run_dir / CONFIG_FILE)
    if config is not None:
        if config.with_overrides({name: getattr(saved.training, name.split(".")[1])
                                  for name in RESUMABLE_CHANGES}) != saved:
            raise ValueError(
                f"resuming {os.fspath(run_dir)!r} with a different config: only "
                f"{', '.join(RESUMABLE_CHANGES)} may change (start a new run for anything "
                "else)")
        saved = config
    if data_dir is None:
        info = json.loads((run_dir / DATA_FILE).read_text())
        if info["source"] != EMBEDDED:
            data_dir = info["source"]
            if not os.path.isdir(data_dir):
                raise FileNotFoundError(
                    f"cannot resume: the run's data folder {data_dir!r} no longer exists; "
                    "pass the data folder again")
    return saved, data_dir


def read_history(run_dir) -> dict:
    """The losses of every epoch of a run, ``{"d_loss": [...], ...}`` (from
    ``history.csv``; an epoch logged twice because of a resume counts once)."""
    import csv

    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return {}
    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows[int(row.pop("epoch"))] = row
    # CSVLogger adds empty ("NA") val_ columns: SoundGAN has no validation losses.
    keys = sorted({k for row in rows.values() for k, v in row.items() if v != "NA"})
    return {k: [float(rows[e][k]) for e in sorted(rows)] for k in keys}


def write_samples(model, output_dir: str | os.PathLike, n: int = 8, seed: int | None = 0,
                  prefix: str = "sample", png_name: str = "spectrograms.png",
                  z=None, labels=None) -> list[Path]:
    """Generates ``n`` sounds and writes ``prefix_00.wav ...`` plus a PNG grid of their
    spectrograms (``png_name``). ``z`` (``[n, latent_dim]``) replaces the seeded noise;
    ``labels`` chooses the classes of a conditional model (default: each in turn).

    Returns the paths written, WAV files first.
    """
    images = model.generate(n, seed=seed, z=z, labels=labels)
    audio = model.spectrogram_transform().inverse(images)
    return write_sounds(output_dir, images, audio, model.config.spectrogram.sample_rate,
                        prefix=prefix, png_name=png_name)


def write_sounds(output_dir: str | os.PathLike, images, audio, sample_rate: int,
                 prefix: str = "sample", png_name: str = "spectrograms.png") -> list[Path]:
    """Writes generated sounds ``audio`` ``[n, samples]`` as ``prefix_00.wav ...``
    (16-bit, scaled down only if they would clip) and their ``images`` as a PNG grid.

    Returns the paths written, WAV files first.
    """
    import soundfile as sf

    from keras_soundgan.visualize import save_spectrogram_grid

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    n = len(audio)
    paths = []
    width = max(2, len(str(n - 1)))
    for i, clip in enumerate(audio):
        path = output_dir / f"{prefix}_{i:0{width}d}.wav"
        peak = float(np.max(np.abs(clip))) if clip.size else 0.0
        if peak > 1.0:  # never write clipped audio
            clip = clip / peak
        sf.write(path, clip, sample_rate, subtype="PCM_16")
        paths.append(path)
    png = output_dir / png_name
    save_spectrogram_grid(png, images)
    paths.append(png)
    return paths


def interpolate_latents(model, seed_a: int, seed_b: int, steps: int) -> np.ndarray:
    """``steps`` noise vectors walking from seed ``seed_a``'s noise to ``seed_b``'s:
    spherical for normal noise (stays at the typical radius), linear for uniform."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
    a, b = model.latent(1, seed_a)[0], model.latent(1, seed_b)[0]
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    if model.config.generator.latent_distribution == "normal":
        cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
        omega = np.arccos(np.clip(cos, -1.0, 1.0))
        if omega > 1e-4:
            return ((np.sin((1 - t) * omega) * a + np.sin(t * omega) * b)
                    / np.sin(omega)).astype(np.float32)
    return ((1 - t) * a + t * b).astype(np.float32)


def class_names_of_run(run_dir) -> tuple:
    """The class names a run was trained with (from ``data.json``), or ``()``."""
    path = Path(run_dir) / DATA_FILE
    if not path.is_file():
        return ()
    return tuple(json.loads(path.read_text()).get("class_names", ()))


def label_indices(model, run_dir, names) -> np.ndarray:
    """Class names (or integer strings) to label indices for a conditional run,
    with a clear error for an unknown label or an unconditional model."""
    if not model.num_classes:
        raise ValueError(f"{os.fspath(run_dir)!r} is an unconditional model: it takes no "
                         "label (train with --conditional to choose classes)")
    classes = class_names_of_run(run_dir)
    indices = []
    for name in names:
        if name in classes:
            indices.append(classes.index(name))
        elif str(name).isdigit() and int(name) < model.num_classes:
            indices.append(int(name))
        else:
            known = ", ".join(classes) if classes else f"0 to {model.num_classes - 1}"
            raise ValueError(f"unknown label {name!r}; this run's labels are: {known}")
    return np.asarray(indices, dtype=np.int32)


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
