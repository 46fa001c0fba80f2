"""Training runs end to end: data, model, ``fit`` with checkpoints and signals.

:func:`train` writes a run folder (its layout and readers:
:mod:`keras_soundgan.run_folder`; its samples: :mod:`keras_soundgan.samples`) that
holds everything needed to listen to, continue or export a model; it is what
``keras-soundgan train`` calls. Python users can call it the same way, or write their
own ``model.fit`` loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging
import os
import signal
import threading
from pathlib import Path

import numpy as np

from keras_soundgan.config import SoundGANConfig
from keras_soundgan.distribute import distribution_for

# The layout and its readers, imported here too, where they were first.
from keras_soundgan.run_folder import (  # noqa: F401
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    DATA_FILE,
    EMBEDDED,
    HISTORY_FILE,
    LOGS_DIR,
    MODEL_FILE,
    PREVIEWS_DIR,
    SAMPLES_DIR,
    STATISTICS_FILE,
    class_names_of_run,
    latest_checkpoint,
    load_model_file,
    model_damage,
    model_file,
    read_data,
    read_history,
)
# The sample writers, imported here too, where they were first.
from keras_soundgan.samples import interpolate_latents, write_samples, write_sounds  # noqa: F401

__all__ = ["NO_EPOCH_LIMIT", "RESUMABLE_CHANGES", "TrainedRun", "TrainingDiverged",
           "TrainingInterrupted", "default_run_dir", "fit_batch_size", "label_indices",
           "load_run", "prepare_data", "resume_settings", "train"]


# What a resumed run may change: how long it trains and on which devices.
RESUMABLE_CHANGES = ("training.epochs", "training.distribute", "training.devices")

NO_EPOCH_LIMIT = 1_000_000
"""``training.epochs`` of a run that trains by time alone (``keras-soundgan train
--minutes N`` without ``--epochs``): no epoch limit in practice. Such a run needs a
time budget (``minutes``) whenever it trains."""

_logger = logging.getLogger("keras_soundgan")


class TrainingInterrupted(RuntimeError):
    """Ctrl-C (SIGINT) or SIGTERM during training: the last complete epoch was kept
    and the run can be resumed.

    Attributes:
        signal: int. The signal that stopped it (``signal.SIGINT`` or
            ``signal.SIGTERM``).
    """

    def __init__(self, message: str, signal_number: int = signal.SIGINT):
        super().__init__(message)
        self.signal = signal_number


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite: training stopped, the last good checkpoint stays."""


@dataclasses.dataclass
class TrainedRun:
    """What :func:`train` returns."""

    run_dir: Path
    model: object
    history: dict
    sample_files: list
    epochs: int = 0
    """Epochs the run has completed, resumed ones included."""
    stopped_by_time: bool = False
    """Whether the ``minutes`` budget ended training (rather than ``training.epochs``)."""


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
                 log=None, workers: int | None = None):
    """The training data for ``config``: ``(dataset, transform, class_names, source)``.

    Without ``data_dir``: the embedded drum kit
    (:func:`keras_soundgan.datasets.load_drums`), synthesised at the config's rate and
    slice length, ``config.data.embedded_per_class`` clips per class. With a folder of
    recordings: its spectrogram cache (:func:`~keras_soundgan.audio.cache.load_or_build_cache`,
    built or rebuilt as needed; bad files are skipped and passed to ``on_skip``). A
    cache folder from ``keras-soundgan preprocess`` works as ``data_dir`` too.
    ``workers`` processes decode the recordings (default None: every core).

    ``dataset`` yields ``(images, labels)`` batches of ``config.training.batch_size``
    (see :func:`fit_batch_size` for data smaller than one batch); ``transform`` is the
    adapted :class:`~keras_soundgan.audio.spectral.SpectrogramTransform`.
    """
    data = _load_data(config, data_dir, cache_dir=cache_dir, on_skip=on_skip, log=log,
                      workers=workers)
    return (data.dataset(config.training.batch_size), data.transform, data.class_names,
            data.source)


@dataclasses.dataclass
class _Data:
    examples: int
    dataset: object  # batch_size -> tf.data.Dataset
    transform: object
    class_names: tuple
    source: str


def _load_data(config: SoundGANConfig, data_dir=None, *, cache_dir=None, on_skip=None,
               log=None, workers=None) -> _Data:
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
        images = transform.normalize(log_mag)
        return _Data(len(images), lambda batch_size: spectrogram_dataset(
            images, labels, batch_size=batch_size, seed=t.seed), transform,
            tuple(class_names), EMBEDDED)
    cache = load_or_build_cache(data_dir, config, cache_dir, on_skip=on_skip, log=log,
                                workers=workers)
    return _Data(len(cache), lambda batch_size: cache.dataset(batch_size, seed=t.seed),
                 cache.transform, cache.class_names, os.path.abspath(os.fspath(data_dir)))


def fit_batch_size(config: SoundGANConfig, examples: int, num_replicas: int = 1):
    """``(config, message)``: ``config`` with a batch that fits ``examples``.

    Batches have a fixed size (no ragged last batch), so data with fewer examples than
    ``training.batch_size`` would give no step at all. Then the batch is lowered to the
    largest multiple of ``num_replicas`` (the devices a data-parallel step splits each
    batch over) that is at most ``examples``, and ``message`` says so; otherwise
    ``config`` comes back unchanged with ``message`` ``None``.

    Raises:
        ValueError: fewer examples than devices: a data-parallel step gives every
            device at least one example, so the smallest batch is ``num_replicas``.
    """
    batch = config.training.batch_size
    if examples >= batch:
        return config, None
    if examples < num_replicas:
        raise ValueError(
            f"the data has {examples} example{'s' if examples != 1 else ''}, fewer than the "
            f"{num_replicas} devices that share each batch: add data, or use fewer devices "
            "(--devices)")
    fitted = examples // num_replicas * num_replicas
    message = (f"The data has {examples} examples, fewer than one batch of {batch}: "
               f"training with batch {fitted} (training.batch_size)")
    return config.with_overrides({"training.batch_size": fitted}), message


def train(config: SoundGANConfig | None = None, run_dir: str | os.PathLike | None = None,
          data_dir=None, *, resume: bool = False, conditional: bool | None = None,
          cache_dir=None, overwrite: bool = False, minutes: float | None = None,
          workers: int | None = None, verbose="auto", callbacks=None, num_samples: int = 8,
          preview_every: int = 5, from_preset=None,
          on_skip=None, log=None) -> TrainedRun:
    """Trains a SoundGAN from ``config`` and writes a run folder.

    Args:
        config: the configuration (``SoundGANConfig.from_preset("tiny")`` and so on).
            With ``resume``, ``None`` means the run's own ``config.json``; a config
            given then may only change ``training.epochs`` (to train longer) and
            ``training.distribute`` / ``training.devices`` (to move to other hardware).
            ``training.distribute`` spreads each global batch over several devices
            (see :mod:`keras_soundgan.distribute`); on several hosts every host runs
            the same call and only the first writes ``run_dir``. When the data has
            fewer examples than ``training.batch_size``, the batch is lowered to fit
            (:func:`fit_batch_size`; ``log`` says so and ``config.json`` records it).
        run_dir: the run folder (default: :func:`default_run_dir`). Refused if it
            already holds a model or checkpoints, unless ``overwrite`` or ``resume``.
        data_dir: a folder of recordings (class sub-folders become labels), a cache
            folder from ``keras-soundgan preprocess``, or ``None`` for the embedded
            drum kit. With ``resume``, ``None`` means the run's own data.
        resume: continue the run in ``run_dir`` from its last complete epoch (weights,
            both optimizers, noise state and step count as they were).
        conditional: condition the model on the data's classes (sets
            ``generator.num_classes`` to their number; needs at least two classes),
            so that each sound can be asked for by its class. ``None`` (the default):
            conditional whenever the data has two classes or more (class
            sub-folders, or the embedded kit's kinds of drum) and the config does not
            fix ``generator.num_classes`` already; ``False``: unconditional.
        cache_dir: where to keep the spectrogram cache of ``data_dir`` (default:
            :func:`~keras_soundgan.audio.cache.default_cache_dir`).
        overwrite: replace a run already in ``run_dir``.
        minutes: float or None. A wall-clock budget for this call's training, counted
            from the first step (graph tracing included; preparing the data and
            writing the samples are not): training stops at the end of the last epoch
            that fits in it (:class:`~keras_soundgan.callbacks.TimeLimit`), or after
            ``training.epochs`` epochs if that comes first. Checkpoints, ``model.keras``
            and the samples are written as usual. To train by time alone, give
            ``training.epochs`` :data:`NO_EPOCH_LIMIT` (what ``keras-soundgan train
            --minutes N`` does without ``--epochs``). Defaults to None (no budget).
        workers: int or None. Processes that decode a folder of recordings when its
            spectrogram cache is built. Defaults to None: every core.
        verbose: passed to ``fit``.
        callbacks: extra Keras callbacks for ``fit``.
        num_samples: WAV files generated at the end (and images in the PNG grid).
        preview_every: epochs between previews (WAV, PNG and TensorBoard); 0: none.
        from_preset: fine-tune: a pretrained preset's name (``"drums"``) or a folder
            from ``SoundGAN.save_to_preset``, whose generator and discriminator weights
            the new run starts from (no optimizer state; the statistics are the
            data's). ``config`` defaults to the preset's and must build the same
            networks. Data with other classes than a conditional preset's is
            welcome: the weights that depend on the number of classes (the label
            embeddings, the classifier) then start afresh, and ``log`` says how many.
        on_skip: called with each unusable audio file (a ``SkippedFile``).
        log: called with progress messages (strings).

    Returns:
        a :class:`TrainedRun` with the folder, the model, the history, the samples,
        the epochs completed and whether the time budget ended training.

    Raises:
        TrainingInterrupted: on Ctrl-C or SIGTERM (handled like Ctrl-C while ``train``
            runs, where SIGTERM has no handler of its own), after keeping the last
            complete epoch (resume with ``resume=True``).
        TrainingDiverged: when a loss becomes NaN or infinite (nothing bad is saved).
    """
    from keras_soundgan.callbacks import TimeLimit

    log = log or (lambda message: None)
    if minutes is not None:
        TimeLimit(minutes)  # checks the value before any work
    if resume and from_preset is not None:
        raise ValueError("from_preset starts a new run; resume continues one: not both")
    if resume:
        if run_dir is None:
            raise ValueError("resume needs the run folder to continue")
        run_dir = Path(run_dir)
        config, data_dir = resume_settings(run_dir, config, data_dir)
    else:
        if from_preset is not None and config is None:
            from keras_soundgan.pretrained import read_preset

            config = read_preset(from_preset)[0]
        if config is None:
            raise ValueError("train needs a config (SoundGANConfig.from_preset('tiny'))")
        run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
        existing = [p for p in (run_dir / MODEL_FILE, run_dir / CHECKPOINTS_DIR) if p.exists()]
        if existing and not overwrite:
            raise FileExistsError(
                f"{run_dir} already holds a run ({existing[0].name}); resume it with "
                "--resume, choose another output folder, or pass --overwrite")
    if config.training.epochs >= NO_EPOCH_LIMIT and minutes is None:
        raise ValueError(
            f"{'the run ' + os.fspath(run_dir) if resume else 'this config'} has no epoch "
            f"limit (training.epochs {config.training.epochs}: it trains by time); give a "
            "time budget (--minutes N) or an epoch count (--epochs N)")
    if overwrite and not resume:
        import shutil

        for name in (CHECKPOINTS_DIR, PREVIEWS_DIR, LOGS_DIR, SAMPLES_DIR):
            shutil.rmtree(run_dir / name, ignore_errors=True)
        for name in (MODEL_FILE, HISTORY_FILE):
            (run_dir / name).unlink(missing_ok=True)
    stopped = {}
    try:
        with _signals_as_interrupt(stopped):
            return _train(config, run_dir, data_dir, resume=resume, conditional=conditional,
                          cache_dir=cache_dir, minutes=minutes, workers=workers,
                          verbose=verbose,
                          callbacks=[*(callbacks or []), _stop_on_signal(stopped)],
                          num_samples=num_samples, preview_every=preview_every,
                          from_preset=from_preset, on_skip=on_skip, log=log)
    except KeyboardInterrupt:
        done = latest_checkpoint(run_dir / CHECKPOINTS_DIR)
        how = "terminated (SIGTERM)" if stopped.get("signal") == signal.SIGTERM else "interrupted"
        if done:
            kept = (f"{run_dir} keeps the checkpoint of epoch {done[0]} (continue with: "
                    f"keras-soundgan train --resume {run_dir})")
        else:
            kept = "no epoch was complete, so there is no checkpoint to continue from"
        raise TrainingInterrupted(f"{how}; {kept}",
                                  stopped.get("signal", signal.SIGINT)) from None


@contextlib.contextmanager
def _signals_as_interrupt(stopped: dict):
    """Ctrl-C (SIGINT) and SIGTERM raise KeyboardInterrupt while the block runs, and
    ``stopped["signal"]`` says which signal came first (in the main thread, for each
    signal that has Python's default handling). Later SIGTERMs are ignored while the
    interruption is handled; another Ctrl-C interrupts again.

    The record outlives the exception: code that catches everything can swallow a
    KeyboardInterrupt (Keras's saving does, around the temporary file of a checkpoint),
    so :func:`_stop_on_signal` raises it again at the next batch. Where Python would
    only print the exception and drop it (a garbage-collector callback, such as JAX's,
    or a ``__del__``: "Exception ignored in ..." and a traceback on the user's
    terminal), the handler only records the signal, and :func:`_stop_on_signal` stops
    the training at the next batch."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if "signal" in stopped and signum == signal.SIGTERM:
            return
        stopped.setdefault("signal", signum)
        if not _in_a_finalizer(frame):
            raise KeyboardInterrupt

    defaults = {signal.SIGINT: (signal.default_int_handler,),
                signal.SIGTERM: (signal.SIG_DFL, None)}
    previous = {signum: signal.getsignal(signum) for signum in defaults}
    ours = [signum for signum, default in defaults.items() if previous[signum] in default]
    for signum in ours:
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum in ours:
            signal.signal(signum, previous[signum])


def _in_a_finalizer(frame) -> bool:
    """Whether ``frame`` runs inside a garbage-collector callback or a ``__del__``,
    where an exception is printed and dropped."""
    import gc

    callbacks = {getattr(callback, "__code__", None) for callback in gc.callbacks}
    while frame is not None:
        if frame.f_code in callbacks or frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def _stop_on_signal(stopped: dict):
    """A callback that raises KeyboardInterrupt at the end of a batch or an epoch once
    :func:`_signals_as_interrupt` has recorded a signal whose exception was lost."""
    import keras

    def check(*_, **__):
        if "signal" in stopped:
            raise KeyboardInterrupt

    return keras.callbacks.LambdaCallback(on_train_batch_end=check, on_epoch_end=check)


def _train(config, run_dir, data_dir, *, resume, conditional, cache_dir, minutes, workers,
           verbose, callbacks, num_samples, preview_every, from_preset, on_skip,
           log) -> TrainedRun:
    import keras

    from keras_soundgan.callbacks import AudioPreview, Checkpoint, TensorBoardAudio, TimeLimit
    from keras_soundgan.files import atomic_write_text, save_model_atomically
    from keras_soundgan.models.soundgan import SoundGAN

    # Before any other TensorFlow or JAX work: a multi-worker strategy must come first.
    distribution = distribution_for(config)
    latest = latest_checkpoint(run_dir / CHECKPOINTS_DIR) if resume else None
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
    keras.utils.set_random_seed(config.training.seed)
    data = _load_data(config, data_dir, cache_dir=cache_dir, on_skip=on_skip, log=log,
                      workers=workers)
    config, message = fit_batch_size(config, data.examples, distribution.num_replicas)
    if message:
        log(message)
    t = config.training
    if distribution.kind != "none":
        log(f"Data parallelism: {distribution.describe()}, global batch {t.batch_size} "
            f"({t.batch_size // distribution.num_replicas} per device)")
    dataset, transform, class_names, source = (data.dataset(t.batch_size), data.transform,
                                               data.class_names, data.source)
    preset_classes = config.generator.num_classes
    if (from_preset is not None and preset_classes and conditional is not False
            and len(class_names) >= 2 and len(class_names) != preset_classes):
        # Fine-tuning on other classes: the class-dependent weights start afresh.
        config = config.with_overrides({"generator.num_classes": len(class_names)})
    if conditional is None and not resume:
        conditional = len(class_names) >= 2 and not config.generator.num_classes
        if conditional:
            log(f"Conditional on the data's {len(class_names)} classes "
                f"({', '.join(class_names)}); --unconditional to ignore them")
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
    atomic_write_text(run_dir / CONFIG_FILE, config.to_json())
    atomic_write_text(run_dir / DATA_FILE, json.dumps(
        {"source": source, "class_names": list(class_names)}, indent=2) + "\n")
    transform.save(run_dir / STATISTICS_FILE)

    checkpoint = Checkpoint(run_dir / CHECKPOINTS_DIR)
    if latest is not None:
        initial_epoch, path = latest
        with distribution.scope():
            model = load_model_file(path, run_dir=run_dir)
        log(f"Resuming {run_dir} from epoch {initial_epoch} (step "
            f"{int(keras.ops.convert_to_numpy(model.optimizer.iterations))})")
        if initial_epoch >= t.epochs:
            raise ValueError(
                f"{run_dir} has already trained {initial_epoch} of {t.epochs} epochs; "
                "pass a larger --epochs, or --minutes N, to train longer")
    else:
        initial_epoch = 0
        with distribution.scope():
            model = SoundGAN(config, class_names=(list(class_names)
                                                  if config.generator.num_classes else None))
            if from_preset is not None:
                from keras_soundgan.pretrained import load_preset_weights

                fresh = load_preset_weights(
                    model, from_preset, statistics=False,
                    skip_mismatched=config.generator.num_classes != preset_classes)
                log(f"Starting from the weights of the preset {os.fspath(from_preset)!r}"
                    + (f"; {fresh} weights that depend on the classes start afresh (the "
                       f"preset has {preset_classes} classes, the data "
                       f"{config.generator.num_classes})" if fresh else ""))
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
    model_callbacks += list(callbacks or [])
    clock = None
    if minutes is not None:
        # Last, so that the time an epoch takes includes the other callbacks' saving.
        clock = TimeLimit(minutes)
        model_callbacks.append(clock)
        if verbose != 0 and t.epochs >= NO_EPOCH_LIMIT:
            model_callbacks.append(_BudgetProgbar(clock))
    with distribution.scope():
        model.fit(dataset, epochs=t.epochs, initial_epoch=initial_epoch, verbose=verbose,
                  callbacks=model_callbacks,
                  shuffle=False)  # the dataset reshuffles itself each epoch
    if checkpoint.nan_epoch is not None:
        done = latest_checkpoint(run_dir / CHECKPOINTS_DIR)
        kept = (f"the last good checkpoint is epoch {done[0]} ({done[1]})" if done
                else "no epoch finished cleanly, so there is no checkpoint")
        raise TrainingDiverged(
            f"a loss became NaN or infinite in epoch {checkpoint.nan_epoch}: training "
            f"stopped and {kept}; lower the learning rates (training.g_learning_rate, "
            "training.d_learning_rate) and resume or start again")

    save_model_atomically(model, run_dir / MODEL_FILE)
    done = latest_checkpoint(run_dir / CHECKPOINTS_DIR)
    epochs = done[0] if done else initial_epoch
    by_time = clock is not None and clock.stopped_epoch is not None
    if clock is not None:
        done_now = epochs - initial_epoch
        log(f"Trained {done_now} epoch{'' if done_now == 1 else 's'} in "
            f"{clock.elapsed / 60:.1f} of "
            f"{minutes:g} minutes" + (" (the time budget ended training)" if by_time else ""))
    history = read_history(run_dir)
    samples = write_samples(model, run_dir / SAMPLES_DIR, num_samples, seed=t.seed,
                            class_names=class_names)
    if worker_dir is not None:  # removed when the process ends
        return TrainedRun(run_dir=worker_dir, model=model, history=history, sample_files=[],
                          epochs=epochs, stopped_by_time=by_time)
    return TrainedRun(run_dir=run_dir, model=model, history=history, sample_files=samples,
                      epochs=epochs, stopped_by_time=by_time)


def _budget_progbar_class():
    import keras

    class BudgetProgbar(keras.callbacks.ProgbarLogger):
        """Keras's progress bar, headed ``Epoch 12 (3.1 of 15 minutes)`` when a run
        trains by time alone (``Epoch 12/1000000`` would say nothing)."""

        def __init__(self, clock):
            super().__init__()
            self.clock = clock

        def on_epoch_begin(self, epoch, logs=None):
            epochs, self.epochs = self.epochs, 1  # no "Epoch n/N" line from Keras
            super().on_epoch_begin(epoch, logs)
            self.epochs = epochs
            if self.verbose:
                print(f"Epoch {epoch + 1} ({self.clock.elapsed / 60:.1f} of "
                      f"{self.clock.minutes:g} minutes)", flush=True)

    return BudgetProgbar


def _BudgetProgbar(clock):  # noqa: N802 - builds the class on first use (imports Keras)
    return _budget_progbar_class()(clock)


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
        info = read_data(run_dir)
        if info["source"] != EMBEDDED:
            data_dir = info["source"]
            if not os.path.isdir(data_dir):
                raise FileNotFoundError(
                    f"cannot resume: the run's data folder {data_dir!r} no longer exists; "
                    "pass the data folder again")
    return saved, data_dir


def label_indices(model, run_dir, names) -> np.ndarray:
    """Class names (or integer strings) to label indices for a conditional run,
    with a clear error for an unknown label or an unconditional model."""
    if not model.num_classes:
        raise ValueError(f"{os.fspath(run_dir)!r} is an unconditional model: it takes no "
                         "label (train with --conditional to choose classes)")
    classes = model.class_names or class_names_of_run(run_dir)
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


def load_run(run_dir: str | os.PathLike, *, log=None):
    """Loads the trained :class:`~keras_soundgan.SoundGAN` of a run folder.

    A run whose training did not finish has no ``model.keras``: then its last complete
    checkpoint is loaded (:func:`model_file`) and ``log`` is called with a note that
    says so (by default the note goes to the ``keras_soundgan`` logger as a warning,
    which Python prints on stderr).

    Args:
        run_dir: str or path-like. The run folder.
        log: callable or None. Called with the note when a checkpoint stands in for
            ``model.keras``. Defaults to ``logging.getLogger("keras_soundgan").warning``.

    Raises:
        FileNotFoundError: no run folder, or one without a model or a checkpoint.
        ValueError: the model file is damaged (truncated, not a ``.keras`` archive).
    """
    path, note = model_file(run_dir)
    if note:
        (log or _logger.warning)(note)
    model = load_model_file(path, run_dir=run_dir)
    if model.class_names is None and model.num_classes:
        # A model saved before SoundGAN kept its class names: the run's data.json has them.
        names = class_names_of_run(run_dir)
        if len(names) == model.num_classes:
            model.class_names = tuple(names)
    return model
