"""Reading your own recordings: decode, resample, slice, and load whole folders.

This is the first stage of the data path (see ``DESIGN.md``)::

    audio files ──io──▶ waveforms float32 [N, slice_length] (mono, one rate), labels int32 [N]

It turns a folder of recordings (a drum sample pack, a speech corpus, a library in
mixed formats, rates and channel counts) into the same triple that the embedded
data set returns (:func:`keras_soundgan.datasets.load_drums`)::

    (waveforms float32 [N, slice_length], labels int32 [N], class_names tuple[str, ...])

plus a :class:`LoadReport` that says what was used and what was skipped and why.

Three layers, each usable on its own:

* :func:`decode_audio`: one file → mono float32 at the rate you ask for. WAV, FLAC,
  OGG/Vorbis/Opus, AIFF, AU, CAF, W64, RF64 (and MP3 with libsndfile >= 1.1) are read
  with ``soundfile``; MP3 and anything ``soundfile`` cannot open go through
  ``librosa.load`` (which may use ``audioread``/ffmpeg for M4A, AAC, WMA). Channels are
  averaged; the rate is converted with soxr's HQ resampler (what
  ``librosa.resample(res_type="soxr_hq")`` does, sample for sample). A file
  that cannot be used raises :class:`AudioDecodeError` (a ``ValueError``) naming the
  path and the reason.
* :func:`slice_audio`: one waveform → fixed-length examples ``[k, slice_length]``,
  either the first slice (the one-shot case) or every slice with an overlap.
* :func:`load_audio_folder`: a folder → arrays, in the style of
  ``keras.utils.audio_dataset_from_directory``. One bad file never loses a run: it is
  skipped, reported through ``on_skip`` as it happens and listed in the report. Only
  a folder with nothing usable at all (or one that does not exist) raises.

Example::

    >>> x, y, names, report = load_audio_folder("drums/", 16000, 16384)
    >>> print(report.summary())
    used 6 of 9 files (3 skipped: 2 corrupt or unreadable, 1 silent) -> 6 examples
    >>> x.shape, x.dtype, y.dtype, names
    ((6, 16384), dtype('float32'), dtype('int32'), ('clap', 'hihat', 'kick'))

This module uses NumPy, soundfile, soxr, joblib and librosa only (no TensorFlow, no
Keras), so it can prepare data for any backend and its worker processes start fast.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import numbers
import os
import signal
import threading
import warnings
from typing import Callable, Sequence

import numpy as np
import soundfile as sf

from keras_soundgan.checks import check_integer

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioDecodeError",
    "NoUsableAudioError",
    "SkippedFile",
    "LoadReport",
    "decode_audio",
    "slice_audio",
    "load_audio_folder",
    "AudioFolder",
    "default_workers",
    "PARALLEL_MIN_BYTES",
]

#: File name endings (lower case; matching ignores case) that :func:`load_audio_folder`
#: treats as audio. Other files are not opened; they are counted in
#: :attr:`LoadReport.ignored`.
AUDIO_EXTENSIONS: tuple[str, ...] = (
    ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3",
    ".aif", ".aiff", ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64",
    ".m4a", ".aac", ".wma",
)

#: Peak level that ``normalize_peak=True`` scales every file to.
PEAK_LEVEL = 0.95

# Which endings libsndfile itself reads, by the format names soundfile reports.
_SOUNDFILE_FORMAT_EXTENSIONS = {
    "WAV": (".wav", ".wave"), "WAVEX": (".wav", ".wave"), "FLAC": (".flac",),
    "OGG": (".ogg", ".oga", ".opus"), "MP3": (".mp3",),
    "AIFF": (".aif", ".aiff", ".aifc"), "AU": (".au", ".snd"), "CAF": (".caf",),
    "W64": (".w64",), "RF64": (".rf64",),
}
# Endings that go to librosa.load first, as the design asks (librosa.load itself tries
# soundfile first, then audioread).
_LIBROSA_FIRST = (".mp3",)

# Skip categories (SkippedFile.category), in the words the summary uses.
CORRUPT = "corrupt or unreadable"
EMPTY = "empty"
NON_FINITE = "NaN or inf samples"
UNSUPPORTED = "unsupported format"
SILENT = "silent"
OUTSIDE = "outside class folders"
OTHER = "other error"

# Frames of the silence trim: 512 samples (32 ms at 16 kHz) with a 128-sample hop keep
# at most about 256 samples of leading silence, so one-shots line up on their onsets
# (librosa's default 2048/512 would keep up to about 1024).
_TRIM_FRAME_LENGTH = 512
_TRIM_HOP_LENGTH = 128


def _soundfile_extensions() -> frozenset[str]:
    try:
        formats = sf.available_formats()
    except Exception:  # pragma: no cover - a very old or broken libsndfile
        formats = {}
    return frozenset(ext for fmt in formats for ext in _SOUNDFILE_FORMAT_EXTENSIONS.get(fmt, ()))


_SOUNDFILE_EXTENSIONS = _soundfile_extensions()


# -- errors and the report -------------------------------------------------------------


class AudioDecodeError(ValueError):
    """A file could not be turned into usable audio.

    Attributes:
        path: the file, as given.
        reason: what went wrong, in words (no traceback needed).
        category: one of ``"corrupt or unreadable"``, ``"empty"``,
            ``"NaN or inf samples"``, ``"unsupported format"``.
    """

    def __init__(self, path, reason: str, category: str = CORRUPT):
        self.path = os.fspath(path)
        self.reason = reason
        self.category = category
        super().__init__(f"{self.path}: {reason}")


class NoUsableAudioError(ValueError):
    """:func:`load_audio_folder` found nothing it could use; ``report`` says why."""

    def __init__(self, message: str, report: "LoadReport"):
        super().__init__(message)
        self.report = report


@dataclasses.dataclass
class SkippedFile:
    """One file that :func:`load_audio_folder` could not use.

    Attributes:
        path: the file's path (the folder joined with its relative path).
        reason: why, in words, e.g. ``"corrupt or unreadable: Format not recognised"``.
        category: the kind of problem, used to group the summary (``"corrupt or
            unreadable"``, ``"empty"``, ``"NaN or inf samples"``, ``"unsupported
            format"``, ``"silent"``, ``"outside class folders"``, ``"other error"``).
    """

    path: str
    reason: str
    category: str = OTHER

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclasses.dataclass
class LoadReport:
    """What :func:`load_audio_folder` did.

    Attributes:
        files_found: audio files found (files whose ending is in
            :data:`AUDIO_EXTENSIONS`), used or not.
        files_used: files that gave at least one example.
        examples: rows of the returned waveform array.
        skipped: the audio files that were not used, in the order they were met.
        ignored: other files that were not opened (non-audio endings such as ``.txt``
            or ``.png``, hidden files such as macOS ``._name.wav``), and symbolic links
            to folders that were not followed.
        examples_per_class: class name → number of examples (labelled folders only).
    """

    files_found: int
    files_used: int
    examples: int
    skipped: list[SkippedFile] = dataclasses.field(default_factory=list)
    ignored: list[str] = dataclasses.field(default_factory=list)
    examples_per_class: dict[str, int] = dataclasses.field(default_factory=dict)

    def skipped_by_category(self) -> dict[str, int]:
        """Category → number of skipped files, most frequent first."""
        counts = collections.Counter(s.category for s in self.skipped)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def summary(self) -> str:
        """One line, e.g. ``"used 118 of 121 files (3 skipped: 2 corrupt or unreadable,
        1 silent) -> 340 examples"``; ignored non-audio files and classes left without
        examples are added after a ``;``."""
        text = f"used {self.files_used} of {self.files_found} files"
        if self.skipped:
            parts = ", ".join(f"{n} {c}" for c, n in self.skipped_by_category().items())
            text += f" ({len(self.skipped)} skipped: {parts})"
        text += f" -> {self.examples} example{'' if self.examples == 1 else 's'}"
        if self.ignored:
            n = len(self.ignored)
            text += f"; {n} other file{'' if n == 1 else 's'} ignored"
        empty = [name for name, n in self.examples_per_class.items() if n == 0]
        if empty:
            text += "; no examples for class " + ", ".join(repr(c) for c in empty)
        return text

    def details(self) -> str:
        """One line per skipped file, ``"path: reason"`` (empty when none was skipped)."""
        return "\n".join(str(s) for s in self.skipped)


# -- one file --------------------------------------------------------------------------


def _check_positive_int(name: str, value) -> None:
    check_integer(value, name, minimum=1)


def _extension(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def _probe(path: str) -> None:
    """Fails early, with a plain reason, for paths that are not readable files."""
    if os.path.islink(path) and not os.path.exists(path):
        raise AudioDecodeError(
            path, f"{CORRUPT}: broken symbolic link (points to {os.readlink(path)!r})", CORRUPT)
    if os.path.isdir(path):
        raise AudioDecodeError(path, f"{CORRUPT}: it is a folder, not a file", CORRUPT)
    try:
        with open(path, "rb") as f:
            head = f.read(1)
    except FileNotFoundError:
        raise AudioDecodeError(path, f"{CORRUPT}: no such file", CORRUPT) from None
    except OSError as e:  # PermissionError, I/O errors, ...
        raise AudioDecodeError(
            path, f"{CORRUPT}: cannot open: {e.strerror or e}", CORRUPT) from None
    if not head:
        raise AudioDecodeError(path, f"{EMPTY}: the file is zero bytes long", EMPTY)


def _read_with_soundfile(path: str, duration: float | None):
    """``(samples float32 [frames, channels], rate)`` through libsndfile."""
    with sf.SoundFile(path) as f:
        rate = f.samplerate
        frames = -1 if duration is None else int(math.ceil(duration * rate))
        data = f.read(frames=frames, dtype="float32", always_2d=True)
    return data, rate


def _read_with_librosa(path: str, duration: float | None):
    """``(samples float32 [frames, channels], rate)`` through ``librosa.load``."""
    import librosa

    with warnings.catch_warnings():
        # "PySoundFile failed. Trying audioread instead." and audioread's deprecation:
        # the reason reaches the user through AudioDecodeError instead.
        warnings.simplefilter("ignore")
        y, rate = librosa.load(path, sr=None, mono=False, duration=duration, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    data = y[:, None] if y.ndim == 1 else y.T
    return data, int(round(rate))


def _short(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    # soundfile says "Error opening 'path': Format not recognised."; the path is known.
    if text.startswith("Error opening") and "': " in text:
        text = text.split("': ", 1)[1]
    if "does not exist or is not a regular file" in text:
        # libsndfile's words when its MP3 decoder cannot parse an existing file.
        text = "not valid audio data (the decoder could not parse it)"
    return text.rstrip(".")


def _read(path: str, duration: float | None):
    ext = _extension(path)
    if ext in _SOUNDFILE_EXTENSIONS and ext not in _LIBROSA_FIRST:
        readers = [("soundfile", _read_with_soundfile), ("librosa", _read_with_librosa)]
    else:
        readers = [("librosa", _read_with_librosa)]
        if ext in _SOUNDFILE_EXTENSIONS:  # librosa failed: soundfile's reason is clearer
            readers.append(("soundfile", _read_with_soundfile))
    errors = []
    for name, reader in readers:
        try:
            return reader(path, duration)
        except MemoryError:
            raise AudioDecodeError(path, f"{CORRUPT}: too large to decode in memory",
                                   CORRUPT) from None
        except Exception as e:  # noqa: BLE001 - any decoder failure is a reason to skip
            errors.append((name, e))
    no_backend = [type(e).__name__ == "NoBackendError" for _, e in errors]
    if ext not in _SOUNDFILE_EXTENSIONS and all(
            nb or isinstance(e, sf.SoundFileError) for nb, (_, e) in zip(no_backend, errors)):
        raise AudioDecodeError(
            path,
            f"{UNSUPPORTED}: no decoder for {ext or 'this kind of'} files here (soundfile "
            "cannot read them and librosa/audioread found no backend; installing ffmpeg "
            "usually helps)", UNSUPPORTED)
    # The most telling reason: soundfile's, else the first that is not "no backend".
    telling = ([e for name, e in errors if name == "soundfile"]
               + [e for nb, (_, e) in zip(no_backend, errors) if not nb])
    reason = _short(telling[0]) if telling else "no decoder could read it"
    raise AudioDecodeError(path, f"{CORRUPT}: {reason}", CORRUPT)


def decode_audio(path, sample_rate: int, *, duration: float | None = None) -> np.ndarray:
    """Reads one audio file as mono float32 samples at ``sample_rate``.

    WAV, FLAC, OGG (Vorbis, Opus), AIFF, AU, CAF, W64 and RF64 files are read with
    ``soundfile``; MP3, and any file ``soundfile`` cannot open, with ``librosa.load``
    (which can use ``audioread``/ffmpeg for M4A, AAC, WMA where installed). Integer
    PCM is scaled to [-1, 1); float files keep their values. Channels are averaged
    (mono mix-down); a different rate is converted with soxr's HQ resampler, sample for
    sample what ``librosa.resample(..., res_type="soxr_hq")`` gives.

    Args:
        path: the file (``str`` or path-like).
        sample_rate: the rate of the result, in Hz.
        duration: read at most this many seconds from the start (``None``: all).

    Returns:
        float32 array ``[n]``: ``n = ceil(frames * sample_rate / file_rate)`` samples
        (fewer when ``duration`` cuts the file), all finite.

    Raises:
        AudioDecodeError: (a ``ValueError``) with the path and the reason, when the
            file is unreadable or corrupt (including a folder, a broken symbolic link,
            a file without read permission), zero bytes or zero samples long, holds
            NaN or infinite samples, or is in a format no installed decoder reads.
        ValueError: for a bad ``sample_rate`` or ``duration``.

    Example::

        >>> y = decode_audio("kick.flac", 16000)
        >>> y.dtype, y.ndim
        (dtype('float32'), 1)
    """
    _check_positive_int("sample_rate", sample_rate)
    if duration is not None and not (isinstance(duration, numbers.Real)
                                     and math.isfinite(duration) and duration > 0):
        raise ValueError(f"duration must be a positive number of seconds or None, got {duration!r}")
    path = os.fspath(path)
    _probe(path)
    data, rate = _read(path, duration)
    if data.size == 0:
        raise AudioDecodeError(path, f"{EMPTY}: the file holds no samples", EMPTY)
    finite = np.isfinite(data)
    if not finite.all():
        n_nan = int(np.isnan(data).sum())
        n_inf = int(data.size - finite.sum()) - n_nan
        raise AudioDecodeError(
            path, f"{NON_FINITE}: {n_nan} NaN and {n_inf} infinite sample values", NON_FINITE)
    channels = data.shape[1]
    # A matrix-vector product mixes interleaved channels ~40x faster than mean(axis=1).
    audio = data @ np.full(channels, 1.0 / channels, data.dtype) if channels > 1 else data[:, 0]
    if rate != sample_rate:
        audio = _resample(audio, rate, sample_rate)
    return np.ascontiguousarray(audio, dtype=np.float32)


def _resample(audio: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    """``librosa.resample(audio, orig_sr=rate, target_sr=sample_rate,
    res_type="soxr_hq")``, sample for sample, without importing librosa (seconds of
    start-up in every worker process): soxr's HQ resampler, then the length fixed to
    ``ceil(n * sample_rate / rate)`` (zero-padded or cut) as librosa's ``fix=True``."""
    import soxr

    size = int(np.ceil(audio.shape[0] * (float(sample_rate) / rate)))
    out = soxr.resample(audio, rate, sample_rate, quality="soxr_hq")
    if out.shape[0] > size:
        out = out[:size]
    elif out.shape[0] < size:
        out = np.pad(out, (0, size - out.shape[0]))
    return np.asarray(out, dtype=audio.dtype)


# -- slicing ---------------------------------------------------------------------------


SLICING_MODES = ("first", "all")


def _slice_starts(n: int, slice_length: int, mode: str, hop: int, pad: bool) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if mode == "first" or n <= slice_length:
        return np.zeros(1, dtype=np.int64)  # a short clip is always padded
    if pad:
        count = 1 + math.ceil((n - slice_length) / hop)
    else:
        count = 1 + (n - slice_length) // hop
    starts = np.arange(count, dtype=np.int64) * hop
    return starts[starts < n]  # with hop > slice_length a last start may pass the end


def slice_audio(audio, slice_length: int, mode: str = "first", hop: int | None = None,
                pad: bool = True, max_slices: int | None = None) -> np.ndarray:
    """Cuts a waveform into fixed-length examples.

    Args:
        audio: 1-D array of samples ``[n]``.
        slice_length: samples per example.
        mode: ``"first"``: one slice from the start (the one-shot case: a drum hit, a
            spoken word); ``"all"``: every slice, starting at ``0, hop, 2 * hop, ...``.
        hop: samples between slice starts in ``"all"`` mode (default
            ``slice_length // 2``, i.e. 50 % overlap); not allowed with ``"first"``.
        pad: in ``"all"`` mode, zero-pad the end so the last samples get a slice of
            their own; ``False`` drops a tail shorter than ``slice_length``. A clip
            shorter than ``slice_length`` is always zero-padded to one slice, in either
            mode.
        max_slices: keep at most this many slices (the first ones); ``None``: all.

    Returns:
        float32 array ``[k, slice_length]``. ``k`` is 1 in ``"first"`` mode; in
        ``"all"`` mode it is ``1 + ceil((n - slice_length) / hop)`` with ``pad`` and
        ``1 + (n - slice_length) // hop`` without, for ``n > slice_length``. Empty
        ``audio`` gives ``k = 0``.

    Example::

        >>> slice_audio(np.ones(10), 4, mode="all").shape   # starts 0, 2, 4, 6
        (4, 4)
        >>> slice_audio(np.ones(10), 4, mode="all", pad=False).shape
        (4, 4)
        >>> slice_audio(np.ones(11), 4, mode="all", pad=False).shape  # tail [10:11] dropped
        (4, 4)
        >>> slice_audio(np.ones(3), 4)   # short: padded
        array([[1., 1., 1., 0.]], dtype=float32)
    """
    _check_positive_int("slice_length", slice_length)
    if mode not in SLICING_MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, SLICING_MODES))}, got {mode!r}")
    if mode == "first" and hop is not None:
        raise ValueError("hop only applies to mode='all'")
    if hop is None:
        hop = max(1, slice_length // 2)
    _check_positive_int("hop", hop)
    if max_slices is not None:
        _check_positive_int("max_slices", max_slices)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise ValueError(f"audio must be 1-D (mono samples), got shape {audio.shape}")
    starts = _slice_starts(audio.shape[0], slice_length, mode, hop, pad)
    if max_slices is not None:
        starts = starts[:max_slices]
    if starts.size == 0:
        return np.zeros((0, slice_length), dtype=np.float32)
    needed = int(starts[-1]) + slice_length
    if needed > audio.shape[0]:
        audio = np.pad(audio, (0, needed - audio.shape[0]))
    windows = np.lib.stride_tricks.sliding_window_view(audio, slice_length)
    return np.ascontiguousarray(windows[starts], dtype=np.float32)


# -- folders ---------------------------------------------------------------------------


def _is_hidden(name: str) -> bool:
    # ".DS_Store", "._kick.wav" (macOS resource forks, not audio), ".git", "__MACOSX".
    return name.startswith(".") or name == "__MACOSX"


def _is_audio(name: str) -> bool:
    return _extension(name) in AUDIO_EXTENSIONS


def _walk(top: str, follow_links: bool, ignored: list[str]) -> list[str]:
    """Files under ``top`` (recursively), sorted by their path relative to ``top``
    (a depth-first walk over name-sorted entries gives exactly that order).

    Hidden entries are added to ``ignored``; so are symbolic links to folders unless
    ``follow_links``. Each real folder is entered once, so link loops end.
    """
    found: list[str] = []
    seen: set[str] = set()

    def visit(folder: str):
        real = os.path.realpath(folder)
        if real in seen:
            return
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            # An unreadable sub-folder: report it as one ignored path.
            ignored.append(folder)
            return
        for entry in entries:
            if _is_hidden(entry.name):
                ignored.append(entry.path)
                continue
            try:
                is_dir = entry.is_dir()  # follows links
            except OSError:
                is_dir = False
            if is_dir:
                if entry.is_symlink() and not follow_links:
                    ignored.append(entry.path)
                else:
                    visit(entry.path)
            else:  # files, links to files, broken links
                found.append(entry.path)

    visit(top)
    return found


def _class_folders(directory: str, follow_links: bool, class_names) -> list[str]:
    entries = sorted(os.scandir(directory), key=lambda e: e.name)
    folders = [e for e in entries if not _is_hidden(e.name) and e.is_dir()
               and (follow_links or not e.is_symlink())]
    if class_names is not None:
        names = {e.name for e in folders}
        missing = [c for c in class_names if c not in names]
        if missing:
            raise ValueError(
                f"class_names: no sub-folder {missing[0]!r} in {directory!r}; its "
                f"sub-folders are: {', '.join(sorted(names)) or '(none)'}")
        return list(class_names)
    # A sub-folder is a class only if some audio file lies somewhere inside it, so a
    # stray "images/" or empty "exports/" folder does not become a class.
    return [e.name for e in folders
            if any(_is_audio(os.path.basename(p)) for p in _walk(e.path, follow_links, []))]


def _rms(x: np.ndarray, axis=None):
    return np.sqrt(np.mean(np.square(x, dtype=np.float64), axis=axis))


def _examples_from_file(path, sample_rate, slice_length, slicing, hop, trim_silence, top_db,
                        normalize_peak, min_rms, max_slices_per_file):
    """Slices of one file, or raises AudioDecodeError (category SILENT for silence)."""
    # In "first" mode without trimming, only the first slice (plus a margin for the
    # resampler) is ever used: read only that much.
    duration = None
    if slicing == "first" and not trim_silence:
        duration = slice_length / sample_rate + 0.1
    audio = decode_audio(path, sample_rate, duration=duration)
    level = float(_rms(audio))
    if min_rms and level < min_rms:
        # Only the start was read: say so, as the sound may come later.
        cut = duration is not None and len(audio) >= 0.99 * duration * sample_rate
        where = f" in the first {duration:.2f} s" if cut else ""
        hint = " (pass trim_silence=True to skip leading silence)" if cut else ""
        raise AudioDecodeError(
            path, f"{SILENT}: RMS {level:.2g}{where} is below min_rms={min_rms:g}{hint}", SILENT)
    if trim_silence:
        import librosa

        audio, _ = librosa.effects.trim(audio, top_db=top_db, frame_length=_TRIM_FRAME_LENGTH,
                                        hop_length=_TRIM_HOP_LENGTH)
    if normalize_peak:
        peak = float(np.max(np.abs(audio)))
        if peak > 0:
            audio = audio * np.float32(PEAK_LEVEL / peak)
    slices = slice_audio(audio, slice_length, mode=slicing, hop=hop,
                         max_slices=max_slices_per_file)
    if min_rms and slices.shape[0]:
        loud = _rms(slices, axis=1) >= min_rms
        if not loud.any():
            raise AudioDecodeError(
                path, f"{SILENT}: every slice has RMS below min_rms={min_rms:g}", SILENT)
        slices = slices[loud]
    return slices


def _read_examples(path, options) -> tuple:
    """One file's slices, or why not: ``("ok", slices)`` or ``("skip", reason,
    category)``. What each worker process runs; it never raises for a bad file."""
    try:
        slices = _examples_from_file(path, *options)
    except AudioDecodeError as e:
        return ("skip", e.reason, e.category)
    except MemoryError:
        return ("skip", f"{CORRUPT}: too large to decode in memory", CORRUPT)
    except Exception as e:  # noqa: BLE001 - never lose a run to one file
        return ("skip", f"{OTHER}: {type(e).__name__}: {e}", OTHER)
    if not np.isfinite(slices).all():  # e.g. a float file with huge values
        return ("skip", f"{NON_FINITE}: after resampling", NON_FINITE)
    return ("ok", slices)


#: Below this many bytes of audio files, :class:`AudioFolder` decodes in the calling
#: process whatever ``workers`` says: starting worker processes (a second or so, once
#: per process) would cost more than decoding 16 MB (about 1.5 minutes of 44.1 kHz
#: stereo 16-bit audio, a few hundred one-shots) takes on one core.
PARALLEL_MIN_BYTES = 16 * 2**20


def default_workers() -> int:
    """The CPU cores this process may use (affinity and container limits counted):
    the worker count of :func:`load_audio_folder` when ``workers`` is None."""
    from joblib import cpu_count

    return max(1, int(cpu_count()))


def _check_workers(workers) -> int:
    if workers is None:
        return default_workers()
    _check_positive_int("workers", workers)
    return int(workers)


def _read_many(paths, options) -> list:
    return [_read_examples(path, options) for path in paths]


# Work sent to a worker at once: files until they hold this many bytes (or
# _MAX_FILES_PER_TASK of them), so that the round trip (pickling the task and the
# slices) stays small beside decoding, and long recordings travel one at a time.
_TASK_BYTES = 1 << 20
_MAX_FILES_PER_TASK = 16
# Seconds an idle worker waits for more work before it exits (so that a training run
# after building its cache does not keep them), as loky's reusable executor counts.
_IDLE_WORKER_SECONDS = 60


def _tasks(paths, sizes):
    task, size = [], 0
    for path, nbytes in zip(paths, sizes):
        task.append(path)
        size += nbytes
        if size >= _TASK_BYTES or len(task) == _MAX_FILES_PER_TASK:
            yield task
            task, size = [], 0
    if task:
        yield task


def _read_in_order(paths: list[str], options, workers: int):
    """``_read_examples`` of each path, in order: here, or in ``workers`` processes
    (loky's reusable executor, as joblib uses it: started by fork and exec, so safe
    after TensorFlow's threads and with no re-import of ``__main__``), with a bounded
    number of files in flight."""
    if workers > 1 and len(paths) > 1:
        sizes = []
        for path in paths:
            try:
                sizes.append(os.path.getsize(path))
            except OSError:
                sizes.append(0)
        if sum(sizes) >= PARALLEL_MIN_BYTES:
            yield from _read_in_workers(paths, sizes, options, min(workers, len(paths)))
            return
    for path in paths:
        yield _read_examples(path, options)


def _read_in_workers(paths, sizes, options, workers: int):
    import collections
    import itertools

    from joblib.externals.loky import get_reusable_executor

    tasks = _tasks(paths, sizes)
    pending = collections.deque()
    executor = get_reusable_executor(max_workers=workers, timeout=_IDLE_WORKER_SECONDS)
    # Ctrl-C at a terminal reaches every process of the group. Workers started now
    # inherit "ignore SIGINT", so that this process alone decides how to stop (they
    # would print tracebacks half-way through their imports). A Ctrl-C during these
    # few milliseconds, once per process, is lost.
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        # Enough in flight that the workers keep busy while this process computes
        # spectrograms; few enough that memory stays bounded.
        for task in itertools.islice(tasks, 4 * workers):
            pending.append(executor.submit(_read_many, task, options))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    try:
        while pending:
            results = pending.popleft().result()
            task = next(tasks, None)
            if task is not None:
                pending.append(executor.submit(_read_many, task, options))
            yield from results
    finally:  # stopped early (an error, Ctrl-C): drop what has not started
        for future in pending:
            future.cancel()


def load_audio_folder(
    directory,
    sample_rate: int,
    slice_length: int,
    *,
    slicing: str = "first",
    hop: int | None = None,
    trim_silence: bool = False,
    top_db: float = 60.0,
    normalize_peak: bool = False,
    labels: str | None = "inferred",
    class_names: Sequence[str] | None = None,
    min_rms: float | None = 1e-4,
    max_slices_per_file: int | None = None,
    follow_links: bool = False,
    on_skip: Callable[[SkippedFile], None] | None = None,
    workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], LoadReport]:
    """Loads every audio file under a folder as fixed-length, labelled examples.

    Files are found recursively and used in a deterministic order (sorted by path,
    class by class); each is decoded with :func:`decode_audio` (mono, resampled to
    ``sample_rate``), optionally trimmed and peak-normalised, and cut with
    :func:`slice_audio` straight away, so only a few full-length files are held in
    memory at a time. Decoding runs in ``workers`` processes at once; the result is
    the same, to the bit, whatever their number.

    Labels, as in ``keras.utils.audio_dataset_from_directory``:

    * ``labels="inferred"`` (default): each immediate sub-folder of ``directory``
      that holds audio (at any depth) is a class; class names are the sorted folder
      names and a file's label is the index of its top-level folder (files in
      ``kick/acoustic/`` belong to ``kick``). Audio files lying directly in
      ``directory`` beside class folders are **skipped and reported** (category
      ``"outside class folders"``): their class is unknown. A folder without
      sub-folders holding audio is loaded unlabelled (as ``labels=None``).
    * ``labels=None``: every audio file at any depth, all labels 0, class names ``()``.

    Files whose ending is not in :data:`AUDIO_EXTENSIONS` (``.txt``, ``.png``, ...) and
    hidden files (``.DS_Store``, macOS ``._kick.wav``) are never opened; they are
    listed in ``report.ignored``. An audio file that cannot be used (corrupt,
    unreadable, zero bytes, no samples, NaN/inf samples, unsupported encoding, silent)
    is skipped: a :class:`SkippedFile` with its path and reason goes to ``on_skip`` at
    once and into ``report.skipped``.

    Args:
        directory: the folder.
        sample_rate: rate of the output, in Hz (files are resampled to it).
        slice_length: samples per example.
        slicing: ``"first"`` (one example per file from its start: one-shots) or
            ``"all"`` (every slice of every file, see ``hop``; long recordings).
        hop: samples between slices with ``slicing="all"`` (default
            ``slice_length // 2``: 50 % overlap). The end of a file is zero-padded.
        trim_silence: trim leading and trailing silence first, with
            ``librosa.effects.trim(top_db=top_db)`` (512-sample frames, 128 hop).
        top_db: what counts as silence when trimming: this many dB below the loudest
            frame of the file.
        normalize_peak: scale each file (after trimming) to a peak of 0.95.
        labels: ``"inferred"`` or ``None``, see above.
        class_names: with ``labels="inferred"``, the class folders to use, in label
            order (default: every sub-folder holding audio, sorted). Use it to keep
            the labels of a trained model, or to load some classes only.
        min_rms: a file whose RMS (over what is read) is below this is skipped as
            silent; so are slices below it (silent gaps in a long recording, silence
            after a short hit is fine as long as the slice has some sound).
            Default ``1e-4`` (-80 dBFS, about 3 LSB of 16-bit audio). ``None`` or 0
            keeps everything.
        max_slices_per_file: at most this many examples from one file (the first);
            ``None``: no limit.
        follow_links: enter symbolic links to folders (links to files are always
            read).
        on_skip: called with each :class:`SkippedFile` as it happens (to print it).
            If it raises, loading stops with that exception (a "strict" mode).
        workers: int or None. Processes that decode and resample files at once
            (joblib's loky workers, started once and reused for a minute). Folders of
            less than
            :data:`PARALLEL_MIN_BYTES` are decoded in this process. Defaults to None:
            every core this process may use (:func:`default_workers`).

    Returns:
        ``(waveforms, labels, class_names, report)``: waveforms float32
        ``[N, slice_length]`` (finite), labels int32 ``[N]``, class_names a tuple of
        str (``()`` when unlabelled) and a :class:`LoadReport`.

    Raises:
        ValueError: ``directory`` does not exist or is not a folder (the message names
            it); an argument is invalid; or nothing usable was found
            (:class:`NoUsableAudioError`, whose message says how many files were
            found and skipped with the first reasons, and whose ``report`` has all).

    Example::

        >>> x, y, names, report = load_audio_folder(
        ...     "speech/", 16000, 16384, slicing="all", trim_silence=True)
        >>> print(report.summary())
        used 3 of 4 files (1 skipped: 1 corrupt or unreadable) -> 6 examples
        >>> print(report.details())
        speech/bob/take3.wav: corrupt or unreadable: Format not recognised
    """
    folder = AudioFolder(
        directory, sample_rate, slice_length, slicing=slicing, hop=hop,
        trim_silence=trim_silence, top_db=top_db, normalize_peak=normalize_peak,
        labels=labels, class_names=class_names, min_rms=min_rms,
        max_slices_per_file=max_slices_per_file, follow_links=follow_links, on_skip=on_skip,
        workers=workers)
    chunks: list[np.ndarray] = []
    label_chunks: list[np.ndarray] = []
    for slices, label in folder:
        chunks.append(slices)
        label_chunks.append(np.full(slices.shape[0], label, dtype=np.int32))
    folder.check_usable()
    return (np.concatenate(chunks, axis=0), np.concatenate(label_chunks, axis=0),
            folder.class_names, folder.report)


class AudioFolder:
    """A folder of recordings read one file at a time: the streaming form of
    :func:`load_audio_folder`, with the same arguments and checks.

    Files and classes are found when it is made (``files``, ``class_names``);
    iterating yields ``(slices [k, slice_length] float32, label)`` for each usable
    file, in order, and fills ``report`` (a :class:`LoadReport`) as it goes, so a data
    set larger than memory can be processed in one pass. Iterating again starts a new
    report. Files are decoded in ``workers`` processes at once (see
    :func:`load_audio_folder`), and still yielded, skipped and reported in order.
    """

    def __init__(self, directory, sample_rate: int, slice_length: int, *,
                 slicing: str = "first", hop: int | None = None, trim_silence: bool = False,
                 top_db: float = 60.0, normalize_peak: bool = False,
                 labels: str | None = "inferred", class_names: Sequence[str] | None = None,
                 min_rms: float | None = 1e-4, max_slices_per_file: int | None = None,
                 follow_links: bool = False,
                 on_skip: Callable[[SkippedFile], None] | None = None,
                 workers: int | None = None):
        _check_positive_int("sample_rate", sample_rate)
        self.workers = _check_workers(workers)
        _check_positive_int("slice_length", slice_length)
        if slicing not in SLICING_MODES:
            raise ValueError(
                f"slicing must be one of {', '.join(map(repr, SLICING_MODES))}, got {slicing!r}")
        if hop is not None:
            if slicing != "all":
                raise ValueError("hop only applies to slicing='all'")
            _check_positive_int("hop", hop)
        if max_slices_per_file is not None:
            _check_positive_int("max_slices_per_file", max_slices_per_file)
        if isinstance(top_db, bool) or not isinstance(top_db, numbers.Real) or not top_db > 0:
            raise ValueError(f"top_db must be a positive number of decibels, got {top_db!r}")
        if min_rms is not None and (isinstance(min_rms, bool) or not isinstance(min_rms, numbers.Real)
                                    or not min_rms >= 0):
            raise ValueError(f"min_rms must be a number >= 0 or None, got {min_rms!r}")
        if labels not in ("inferred", None):
            raise ValueError(f"labels must be 'inferred' or None, got {labels!r}")
        if class_names is not None:
            if labels != "inferred":
                raise ValueError("class_names only applies to labels='inferred'")
            if isinstance(class_names, str) or not all(isinstance(c, str) for c in class_names):
                raise ValueError(f"class_names must be a sequence of folder names, got {class_names!r}")
            class_names = tuple(class_names)
            if len(set(class_names)) != len(class_names) or not class_names:
                raise ValueError(f"class_names must be distinct and not empty, got {class_names!r}")

        directory = os.fspath(directory)
        if not os.path.exists(directory):
            raise ValueError(f"audio folder {directory!r} does not exist")
        if not os.path.isdir(directory):
            raise ValueError(
                f"{directory!r} is not a folder; pass the folder that holds the audio files")

        ignored: list[str] = []

        # (label, files) groups, in label order; label -1: audio outside the class folders.
        groups: list[tuple[int, list[str]]] = []
        names: tuple[str, ...] = ()
        if labels == "inferred":
            names = tuple(_class_folders(directory, follow_links, class_names))
        if names:
            loose = []
            for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                if _is_hidden(entry.name):
                    ignored.append(entry.path)
                elif entry.name not in names:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if is_dir and entry.is_symlink() and not follow_links:
                        ignored.append(entry.path)
                    elif is_dir:  # a folder without audio, or not among class_names
                        ignored.extend(_walk(entry.path, follow_links, ignored))
                    else:
                        loose.append(entry.path)
            groups.append((-1, loose))
            for label, name in enumerate(names):
                groups.append((label, _walk(os.path.join(directory, name), follow_links, ignored)))
        else:
            groups.append((0, _walk(directory, follow_links, ignored)))

        self.directory, self.class_names, self._groups = directory, names, groups
        self._ignored, self._skip_fn = ignored, on_skip
        self._options = (sample_rate, slice_length, slicing, hop, trim_silence, top_db,
                         normalize_peak, min_rms, max_slices_per_file)
        self.report = LoadReport(files_found=0, files_used=0, examples=0, skipped=[],
                                 ignored=list(ignored))

    @property
    def files(self) -> list[str]:
        """Every audio file found, in reading order (including those outside class
        folders, which are skipped when read)."""
        return [path for _, files in self._groups for path in files
                if _is_audio(os.path.basename(path))]

    def __iter__(self):
        directory, names, groups = self.directory, self.class_names, self._groups
        ignored = list(self._ignored)
        on_skip = self._skip_fn
        (sample_rate, slice_length, slicing, hop, trim_silence, top_db, normalize_peak, min_rms,
         max_slices_per_file) = self._options
        options = (sample_rate, slice_length, slicing, hop, trim_silence, top_db,
                   normalize_peak, min_rms, max_slices_per_file)
        skipped: list[SkippedFile] = []

        def skip(path: str, reason: str, category: str):
            item = SkippedFile(path=path, reason=reason, category=category)
            skipped.append(item)
            if on_skip is not None:
                on_skip(item)

        per_class = {name: 0 for name in names}
        files_found = files_used = examples = 0
        report = LoadReport(files_found=0, files_used=0, examples=0, skipped=skipped,
                            ignored=list(ignored), examples_per_class=per_class)
        self.report = report
        entries = [(label, path) for label, files in groups for path in files]
        to_read = [path for label, path in entries
                   if label >= 0 and _is_audio(os.path.basename(path))]
        results = _read_in_order(to_read, options, self.workers)
        try:
            for label, path in entries:
                if not _is_audio(os.path.basename(path)):
                    ignored.append(path)
                    continue
                files_found += 1
                if label < 0:
                    skip(path, f"{OUTSIDE}: audio directly in {directory!r} has no class when "
                         "the sub-folders are classes; move it into one, or pass labels=None",
                         OUTSIDE)
                    continue
                result = next(results)
                if result[0] == "skip":
                    skip(path, result[1], result[2])
                    continue
                slices = result[1]
                files_used += 1
                examples += slices.shape[0]
                if names:
                    per_class[names[label]] += slices.shape[0]
                report.files_found, report.files_used, report.examples = (
                    files_found, files_used, examples)
                yield slices, label
        finally:
            results.close()  # stops the workers' queue when the caller stops early

        report.files_found, report.files_used, report.examples = files_found, files_used, examples
        report.ignored = ignored

    def check_usable(self) -> None:
        """Raises :class:`NoUsableAudioError` (whose message says how many files were
        found and skipped, with the first reasons) when the last pass over the folder
        gave no example."""
        if not self.report.examples:
            raise NoUsableAudioError(_nothing_usable_message(self.directory, self.report),
                                     self.report)


def _nothing_usable_message(directory: str, report: LoadReport, shown: int = 3) -> str:
    if report.files_found == 0:
        text = (f"no audio files in {directory!r} (looked for "
                f"{', '.join(AUDIO_EXTENSIONS)}, at any depth)")
        if report.ignored:
            text += f"; {len(report.ignored)} other files were ignored"
        return text
    counts = ", ".join(f"{n} {c}" for c, n in report.skipped_by_category().items())
    text = (f"no usable audio in {directory!r}: found {report.files_found} audio "
            f"file{'' if report.files_found == 1 else 's'}, skipped "
            f"{len(report.skipped)} ({counts}). First reasons: ")
    text += "; ".join(str(s) for s in report.skipped[:shown])
    if len(report.skipped) > shown:
        text += f"; ... and {len(report.skipped) - shown} more"
    if any(s.category == OUTSIDE for s in report.skipped):
        text += (". Audio files directly in the folder are only used unlabelled: "
                 "pass labels=None, or move them into class sub-folders")
    return text

