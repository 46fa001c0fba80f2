"""The spectrogram cache: a folder of recordings turned into spectrograms once.

Decoding, resampling and the STFT cost far more than a training step reads, so they run
once per data set and spectral configuration. :func:`build_cache` reads the folder's
files in order, decoded by worker processes on every core
(:class:`~keras_soundgan.audio.io.AudioFolder`), computes the log magnitudes in batches
through ``tf.signal`` (on a GPU where there is one), appends them to a raw float32
file, and accumulates the per-bin statistics in the same pass, so memory stays bounded
by one batch whatever the size of the data set. A cache folder::

    CACHE_DIR/
      manifest.json         what was read (files with sizes and times), the configs,
                            the shape, class names and the load report
      log_magnitude.f32     float32 [N, height, width], read back as a memory map
      labels.npy            int32 [N]
      statistics.npz        the SpectrogramTransform (mean, std, config)

:func:`load_or_build_cache` rebuilds it when a file was added, removed or changed
(size or modification time) or when the spectrogram or data section of the config
changed. Normalisation is applied on the fly in the ``tf.data`` pipeline
(:meth:`SpectrogramCache.dataset`), so the cache holds what the audio says, and the
statistics travel beside it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

from keras_soundgan.checks import check_integer
from keras_soundgan.config import SoundGANConfig

__all__ = ["CACHE_FORMAT", "DATA_FILE", "INVERSE_ONLY", "LABELS_FILE", "MANIFEST_FILE",
           "PROGRESS_STAGE", "STATISTICS_FILE", "SpectrogramCache", "build_cache",
           "cache_is_current", "default_cache_dir", "folder_options", "is_cache",
           "load_or_build_cache", "open_cache"]

CACHE_FORMAT = 1
MANIFEST_FILE = "manifest.json"
DATA_FILE = "log_magnitude.f32"
LABELS_FILE = "labels.npy"
STATISTICS_FILE = "statistics.npz"


def default_cache_dir(data_dir) -> Path:
    """Where ``train DATA_DIR`` keeps its cache unless told otherwise:
    ``$KERAS_SOUNDGAN_CACHE`` or ``~/.cache/keras-soundgan``, then a folder named after
    the data folder and a hash of its absolute path."""
    root = os.environ.get("KERAS_SOUNDGAN_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "keras-soundgan")
    absolute = os.path.abspath(os.fspath(data_dir))
    digest = hashlib.sha256(absolute.encode()).hexdigest()[:12]
    return Path(root) / f"{Path(absolute).name or 'data'}-{digest}"


def is_cache(path) -> bool:
    """Whether ``path`` is a cache folder written by :func:`build_cache`."""
    return (Path(path) / MANIFEST_FILE).is_file()


def folder_options(config: SoundGANConfig) -> dict:
    """The arguments of :func:`~keras_soundgan.audio.io.load_audio_folder` (and
    :class:`~keras_soundgan.audio.io.AudioFolder`) that read a folder as a cache of it
    for ``config`` holds it: the rate, the slice length, the slicing, trimming,
    normalisation and silence threshold of its ``spectrogram`` and ``data`` sections.
    Reading the folder with them gives the waveforms of the cache's spectrograms, in
    the same order (``keras-soundgan evaluate`` does, for the judges that listen).

    Args:
        config: SoundGANConfig. The run's config.

    Returns:
        dict. ``sample_rate``, ``slice_length``, ``slicing``, ``hop``,
        ``trim_silence``, ``top_db``, ``normalize_peak`` and ``min_rms``.
    """
    spec, data = config.spectrogram, config.data
    return {"sample_rate": spec.sample_rate, "slice_length": spec.slice_length,
            "slicing": data.slicing,
            "hop": (data.slice_hop or None) if data.slicing == "all" else None,
            "trim_silence": data.trim_silence, "top_db": data.top_db,
            "normalize_peak": data.normalize_peak, "min_rms": data.min_rms or None}


def _audio_folder(data_dir, config: SoundGANConfig, on_skip=None, workers=None):
    from keras_soundgan.audio.io import AudioFolder

    return AudioFolder(data_dir, **folder_options(config), on_skip=on_skip, workers=workers)


def _source_listing(folder) -> list:
    root = folder.directory
    listing = []
    for path in folder.files:
        st = os.stat(path)
        listing.append([os.path.relpath(path, root), st.st_size, st.st_mtime_ns])
    return listing


#: Config fields that do not change what a cache holds: how images are turned back
#: into audio, and the size of the embedded kit.
INVERSE_ONLY = {"spectrogram": ("griffin_lim_iters", "griffin_lim_momentum", "phase_init"),
                "data": ("embedded_per_class",)}


def _cached_fields(config: SoundGANConfig, section: str, fields=None) -> dict:
    """The fields of a config section (or of a manifest's copy of one, ``fields``) that
    the cache depends on."""
    fields = getattr(config, section).get_config() if fields is None else fields
    return {k: v for k, v in fields.items() if k not in INVERSE_ONLY[section]}


def _key(listing, config: SoundGANConfig) -> str:
    payload = json.dumps({
        "format": CACHE_FORMAT,
        "files": listing,
        "spectrogram": _cached_fields(config, "spectrogram"),
        "data": _cached_fields(config, "data"),
    }, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclasses.dataclass
class SpectrogramCache:
    """An opened cache: log magnitudes (a memory map), labels, class names and the
    adapted :class:`~keras_soundgan.audio.spectral.SpectrogramTransform`."""

    directory: Path
    log_magnitude: np.ndarray
    labels: np.ndarray
    class_names: tuple
    transform: object
    manifest: dict

    def __len__(self) -> int:
        return len(self.labels)

    def dataset(self, batch_size: int, seed: int = 0, shuffle: bool = True):
        """A ``tf.data.Dataset`` of ``(images [B, H, W, 1], labels [B])`` batches,
        normalised on the fly and read from the memory map batch by batch
        (``drop_remainder=True``, reshuffled each epoch)."""
        import tensorflow as tf

        n = len(self)
        batch_size = check_integer(batch_size, "batch_size", minimum=1)
        if n < batch_size:
            raise ValueError(
                f"the cache {os.fspath(self.directory)!r} has {n} examples, fewer than one "
                f"batch (batch_size={batch_size}); lower the batch size or add data")
        spec = self.transform.config
        height, width = spec.height, spec.width
        data, labels = self.log_magnitude, self.labels

        def gather(indices):
            indices = np.sort(indices)  # sequential reads from the memory map
            return np.asarray(data[indices], np.float32), labels[indices]

        mean = tf.constant(self.transform.mean[:, None], tf.float32)
        scale = tf.constant((spec.clip_std * self.transform.std)[:, None], tf.float32)

        def load(indices):
            x, y = tf.numpy_function(gather, [indices], [tf.float32, tf.int32])
            x = tf.ensure_shape(x, [batch_size, height, width])
            y = tf.ensure_shape(y, [batch_size])
            images = tf.clip_by_value((x - mean) / scale, -1.0, 1.0)[..., None]
            return images, y

        ds = tf.data.Dataset.range(n)
        if shuffle:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size, drop_remainder=True)
        return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def images(self) -> np.ndarray:
        """Every example normalised, ``[N, H, W, 1]`` (loads them all into memory)."""
        return self.transform.normalize(np.asarray(self.log_magnitude))


def open_cache(cache_dir) -> SpectrogramCache:
    """Opens a cache folder written by :func:`build_cache`."""
    from keras_soundgan.audio.spectral import SpectrogramTransform

    cache_dir = Path(cache_dir)
    if not is_cache(cache_dir):
        raise ValueError(f"{os.fspath(cache_dir)!r} is not a spectrogram cache "
                         f"(no {MANIFEST_FILE}); make one with keras-soundgan preprocess")
    manifest = json.loads((cache_dir / MANIFEST_FILE).read_text())
    if manifest.get("format") != CACHE_FORMAT:
        raise ValueError(f"cache {os.fspath(cache_dir)!r} has format "
                         f"{manifest.get('format')}, this version reads {CACHE_FORMAT}: "
                         "rebuild it")
    transform = SpectrogramTransform.load(cache_dir / STATISTICS_FILE)
    shape = tuple(manifest["shape"])
    log_magnitude = np.memmap(cache_dir / DATA_FILE, dtype=np.float32, mode="r", shape=shape)
    labels = np.load(cache_dir / LABELS_FILE)
    return SpectrogramCache(cache_dir, log_magnitude, labels, tuple(manifest["class_names"]),
                            transform, manifest)


#: The stage that :func:`build_cache` reports to its ``progress`` callback.
PROGRESS_STAGE = "Computing spectrograms"


def build_cache(data_dir, cache_dir, config: SoundGANConfig,
                on_skip: Callable | None = None, batch_size: int = 64,
                workers: int | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> SpectrogramCache:
    """Reads every usable recording under ``data_dir`` and writes a cache folder.

    One pass over the files, in order: ``workers`` processes decode and resample them
    (:class:`~keras_soundgan.audio.io.AudioFolder`) while this one computes the log
    magnitudes ``batch_size`` slices at a time, appends them to the cache and
    accumulates the statistics. The cache is the same, byte for byte, whatever the
    number of workers. The folder is written under a temporary name and renamed when
    complete, so an interrupted build never leaves a cache that looks finished. Bad
    files are skipped and reported through ``on_skip`` (see
    :func:`~keras_soundgan.audio.io.load_audio_folder`).

    Args:
        data_dir: str or path-like. The folder of recordings.
        cache_dir: str or path-like. The cache folder to write (replaced if it exists).
        config: SoundGANConfig. Its ``spectrogram`` and ``data`` sections say what to
            compute.
        on_skip: callable or None. Called with each unusable file (a ``SkippedFile``).
        batch_size: int. Slices per STFT batch: small enough that the spectrograms of
            the first files are computed while the workers decode the next ones.
            Defaults to 64.
        workers: int or None. Decoding processes. Defaults to None: every core
            (:func:`~keras_soundgan.audio.io.default_workers`).
        progress: callable or None. Called as ``progress(stage, done, total)``: with
            :data:`PROGRESS_STAGE`, ``done`` of the ``total`` audio files read (used or
            skipped), once before the first and after each; ``done`` reaches
            ``total``. ``keras-soundgan preprocess`` draws a bar with it. Defaults to
            None: nothing is reported.

    Returns:
        SpectrogramCache. The cache written, opened (:func:`open_cache`).

    Raises:
        ValueError: the folder does not exist or holds nothing usable.
    """
    from keras_soundgan.audio.spectral import BinStatistics, SpectrogramTransform

    folder = _audio_folder(data_dir, config, on_skip, workers)
    listing = _source_listing(folder)
    report_progress = progress or (lambda stage, done, total: None)
    report_progress(PROGRESS_STAGE, 0, len(listing))
    cache_dir = Path(cache_dir)
    tmp = cache_dir.with_name(f".{cache_dir.name}.building-{os.getpid()}")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        transform = SpectrogramTransform(config.spectrogram)
        stats = BinStatistics(config.spectrogram.height)
        labels: list[np.ndarray] = []
        pending: list[np.ndarray] = []
        pending_count = 0
        with open(tmp / DATA_FILE, "wb") as out:
            def flush():
                nonlocal pending, pending_count
                if pending_count:
                    log_mag = transform.log_magnitude(np.concatenate(pending, axis=0))
                    stats.update(log_mag)
                    out.write(np.ascontiguousarray(log_mag, np.float32).tobytes())
                pending, pending_count = [], 0

            for slices, label in folder:
                pending.append(slices)
                pending_count += len(slices)
                labels.append(np.full(len(slices), label, np.int32))
                if pending_count >= batch_size:
                    flush()
                # Every file up to this one, the skipped ones included.
                report_progress(PROGRESS_STAGE, folder.report.files_found, len(listing))
            flush()
        report_progress(PROGRESS_STAGE, len(listing), len(listing))
        folder.check_usable()
        report = folder.report
        transform = SpectrogramTransform(config.spectrogram, mean=stats.mean, std=stats.std)
        transform.save(tmp / STATISTICS_FILE)
        label_array = np.concatenate(labels)
        np.save(tmp / LABELS_FILE, label_array)
        spec = config.spectrogram
        manifest = {
            "format": CACHE_FORMAT,
            "key": _key(listing, config),
            "source": os.path.abspath(folder.directory),
            "files": listing,
            "shape": [int(len(label_array)), spec.height, spec.width],
            "class_names": list(folder.class_names),
            "spectrogram": spec.get_config(),
            "data": config.data.get_config(),
            "report": {"summary": report.summary(),
                       "skipped": [[s.path, s.reason] for s in report.skipped]},
        }
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n")
        if cache_dir.exists():
            old = cache_dir.with_name(f".{cache_dir.name}.old-{os.getpid()}")
            cache_dir.rename(old)
            tmp.rename(cache_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(cache_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return open_cache(cache_dir)


def cache_is_current(cache_dir, data_dir, config: SoundGANConfig) -> bool:
    """Whether ``cache_dir`` holds ``data_dir`` as it is now, made with ``config``'s
    spectrogram and data sections."""
    if not is_cache(cache_dir):
        return False
    try:
        manifest = json.loads((Path(cache_dir) / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return False
    folder = _audio_folder(data_dir, config)
    return manifest.get("key") == _key(_source_listing(folder), config)


def load_or_build_cache(data_dir, config: SoundGANConfig, cache_dir=None,
                        on_skip: Callable | None = None,
                        log: Callable[[str], None] | None = None,
                        workers: int | None = None,
                        progress: Callable[[str, int, int], None] | None = None
                        ) -> SpectrogramCache:
    """Opens the cache of ``data_dir`` for ``config``, building or rebuilding it first
    when it is missing or stale (with ``workers`` decoding processes and the
    ``progress`` callback, see :func:`build_cache`). ``data_dir`` may also be a cache
    folder itself (from ``keras-soundgan preprocess``): it is used if its configs match
    ``config``."""
    log = log or (lambda message: None)
    if is_cache(data_dir):
        cache = open_cache(data_dir)
        for section in ("spectrogram", "data"):
            mine = _cached_fields(config, section)
            theirs = _cached_fields(config, section, cache.manifest[section])
            if mine != theirs:
                diff = sorted(k for k in mine if mine[k] != theirs.get(k))
                raise ValueError(
                    f"the cache {os.fspath(data_dir)!r} was built with a different {section} "
                    f"config ({', '.join(f'{section}.{k}' for k in diff)}); pass the audio "
                    f"folder instead, or preprocess it again with this config")
        log(f"Using the cache {os.fspath(data_dir)}: {cache.manifest['report']['summary']}")
        return _with_inverse_of(cache, config)
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir(data_dir)
    if cache_is_current(cache_dir, data_dir, config):
        cache = open_cache(cache_dir)
        log(f"Using the cache {cache_dir} ({len(cache)} examples; the files and the "
            "spectral config are unchanged)")
        return _with_inverse_of(cache, config)
    log(f"Computing spectrograms of {os.fspath(data_dir)} into the cache {cache_dir} ...")
    cache = build_cache(data_dir, cache_dir, config, on_skip=on_skip, workers=workers,
                        progress=progress)
    log(cache.manifest["report"]["summary"])
    return cache


def _with_inverse_of(cache: SpectrogramCache, config: SoundGANConfig) -> SpectrogramCache:
    """The cache with its transform's inverse settings (Griffin-Lim, phase start)
    taken from ``config``, which may differ from those it was built with."""
    from keras_soundgan.audio.spectral import SpectrogramTransform

    transform = SpectrogramTransform(config.spectrogram, mean=cache.transform.mean,
                                     std=cache.transform.std)
    return dataclasses.replace(cache, transform=transform)
