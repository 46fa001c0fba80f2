"""What both judges share: how to install them (:data:`EXTRA`), which are installed
(:func:`available`), the rate they listen at (:data:`JUDGE_SAMPLE_RATE`), and the check
(and resampling) of the sounds they hear. Imports nothing else of the package."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np

from keras_soundgan.checks import check_integer

__all__ = ["EXTRA", "JUDGE_SAMPLE_RATE", "available", "check_audio", "missing_message",
           "require"]

#: How to install the judges: the package extra that holds torchcrepe and pocketsphinx.
EXTRA = 'pip install "keras-soundgan[judges]"'
#: The rate both judges listen at, in Hz (CREPE's and the acoustic model's).
JUDGE_SAMPLE_RATE = 16000

_PACKAGES = {"crepe": ("torchcrepe", "pitch by CREPE"),
             "words": ("pocketsphinx", "words by pocketsphinx")}


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


def missing_message(judge: str) -> str:
    """The line that says a judge's package is missing, and how to install it
    (:data:`EXTRA`); ``judge`` is ``"crepe"`` or ``"words"``."""
    package, what = _PACKAGES[judge]
    return f"{what} needs {package}, which is not installed: {EXTRA}"


def require(judge: str):
    """Imports the package of a judge, or raises ModuleNotFoundError saying how to
    install it."""
    package = _PACKAGES[judge][0]
    try:
        return __import__(package)
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(missing_message(judge)) from error


def check_audio(audio, sample_rate) -> np.ndarray:
    """The sounds as float32 ``[n, samples]`` at :data:`JUDGE_SAMPLE_RATE` (resampled
    from ``sample_rate`` with soxr, through librosa, imported only then), or a
    ValueError for a bad shape, non-finite samples or a bad rate."""
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"audio must have shape [n, samples], got {np.shape(audio)}")
    if not np.isfinite(x).all():
        bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise ValueError(f"audio clip {bad} holds NaN or infinite samples")
    sample_rate = check_integer(sample_rate, "sample_rate", minimum=1)
    if sample_rate != JUDGE_SAMPLE_RATE and len(x):
        import librosa

        x = librosa.resample(x, orig_sr=int(sample_rate), target_sr=JUDGE_SAMPLE_RATE,
                             res_type="soxr_hq", axis=-1).astype(np.float32)
    return x
