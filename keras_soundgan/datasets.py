"""Embedded default data set: procedurally synthesised, labelled drum one-shots.

This module is the data set that ``keras-soundgan train`` uses when it is given
no data, and the one the test-suite uses. Every clip is *synthesised* on the
fly with NumPy from a handful of random parameters (pitch, pitch sweep, decay
time, noise colour and level, detuning, ...): nothing is downloaded, read from
disk or cached, and the module imports nothing but NumPy.

Six classes are available, listed in :data:`DRUM_CLASSES` (in a stable order
that defines the default integer labels):

``kick``
    Sine body with a fast exponential downward pitch sweep (from 2.5-5x the
    final pitch down to 40-80 Hz), 0.25-0.7 s decay, a short low-passed noise
    click and mild ``tanh`` saturation.
``snare``
    Two detuned membrane modes (150-250 Hz and ~1.65x that) with a slight pitch
    drop and a short decay, plus band-limited noise (high-pass 0.8-2 kHz,
    low-pass 6-10 kHz) for the snare wires, decaying over 0.15-0.35 s.
``hihat``
    High-passed (4-7 kHz, at most half of Nyquist, so about 4 kHz at the
    default 16 kHz) white noise mixed with six detuned square-wave
    "808 cymbal" partials (band-limited: only harmonics below Nyquist are
    kept). About 30 % of the hats are open (0.3-0.8 s decay), the rest closed
    (0.03-0.12 s).
``clap``
    Three to five short noise bursts 6-14 ms apart followed by a diffuse tail,
    all band-passed around 0.9-1.8 kHz.
``tom``
    Three inharmonic membrane modes (90-260 Hz fundamental, ratios ~1.59 and
    ~2.14, each slightly detuned) with a small downward pitch bend, 0.25-0.6 s
    decay, a little stick noise and mild saturation.
``rimshot``
    Very short (20-70 ms) pair of tones (380-600 Hz and 3.2-3.8x that) plus a
    high-passed noise click and saturation.

All frequencies are in hertz and all times in seconds, so the same sound is
produced at any ``sample_rate`` (partials at or above Nyquist are dropped and
filter corners are clamped below Nyquist, so low sample rates give duller,
band-limited versions of the same drums). Every clip has its onset at sample
0 (with a sub-millisecond to 2 ms attack ramp), decays towards silence, ends
with a short fade-out, and is peak-normalised to a random peak in
[0.5, 0.95].

Example:

>>> from keras_soundgan.datasets import load_drums
>>> x, y, names = load_drums(num_per_class=4, seed=1)
>>> x.shape, x.dtype, y.shape, y.dtype
((24, 8192), dtype('float32'), (24,), dtype('int32'))
>>> names
('kick', 'snare', 'hihat', 'clap', 'tom', 'rimshot')
>>> y[:8].tolist()
[0, 0, 0, 0, 1, 1, 1, 1]
>>> bool(abs(x).max() <= 0.95)
True
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from keras_soundgan.checks import check_integer

__all__ = ["DRUM_CLASSES", "load_drums"]

#: Names of the synthesised drum classes. The position of a name in this
#: tuple is its label when ``load_drums`` is called without ``classes``; the
#: order is part of the public API and will not change.
DRUM_CLASSES: Tuple[str, ...] = ("kick", "snare", "hihat", "clap", "tom", "rimshot")

_LN1000 = float(np.log(1000.0))  # a T60 decay falls by 60 dB = a factor 1000
_TWO_PI = 2.0 * np.pi
# Frequencies (Hz) of the six square-wave oscillators of the TR-808 cymbal,
# used as inharmonic ratios for the metallic hi-hat partials.
_HAT_RATIOS = np.array([205.3, 304.4, 369.6, 522.7, 540.0, 800.0]) / 205.3
_HAT_HARMONICS = np.arange(1, 16, 2)  # odd harmonics 1..15 of each square


_F32 = np.float32


class _Synth:
    """Shared state for synthesising ``n`` clips of one class.

    Signals are float32 (NumPy's float32 ``sin``/``exp``/``tanh`` are several
    times faster than float64); FFT filtering is done in float64.
    """

    def __init__(self, rng: np.random.Generator, n: int, sample_rate: int, length: int):
        self.rng = rng
        self.n = n
        self.sr = float(sample_rate)
        self.nyquist = 0.5 * self.sr
        self.length = length
        self.t = (np.arange(length, dtype=np.float64) / self.sr).astype(_F32)  # s, [L]
        self.freqs = np.fft.rfftfreq(length, d=1.0 / self.sr)  # Hz, [F]

    # -- random parameters (one value per clip, shape [n, cols]) -------------
    def u(self, low: float, high: float, cols: int = 1) -> np.ndarray:
        return self.rng.uniform(low, high, size=(self.n, cols)).astype(_F32)

    # -- envelopes ([n, 1] parameters -> [n, L]) -----------------------------
    def decay(self, t60: np.ndarray, t: Optional[np.ndarray] = None) -> np.ndarray:
        """Exponential decay reaching -60 dB after ``t60`` seconds."""
        t = self.t if t is None else t
        return np.exp(t * (-_LN1000 / t60).astype(_F32))

    def attack(self, x: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """Apply (in place) a smooth 0 -> 1 ramp over the first ``seconds``."""
        k = min(self.length, int(np.ceil(float(np.max(seconds)) * self.sr)) + 1)
        r = np.clip(self.t[:k] / seconds, 0.0, 1.0)
        x[:, :k] *= r * r * (3.0 - 2.0 * r)  # smoothstep: 0 at t=0
        return x

    def sweep_phase(self, f_end: np.ndarray, f_start: np.ndarray, tau: np.ndarray) -> np.ndarray:
        """Phase (rad) of a tone gliding exponentially from f_start to f_end Hz.

        Instantaneous frequency: ``f_end + (f_start - f_end) * exp(-t / tau)``.
        """
        t = self.t
        glide = (f_start - f_end) * tau * (1.0 - np.exp(t * (-1.0 / tau)))
        return _F32(_TWO_PI) * (f_end * t + glide)

    # -- filters (magnitude responses over self.freqs, shape [n, F]) --------
    def lowpass(self, cutoff: np.ndarray, order: int = 2) -> np.ndarray:
        cutoff = np.minimum(cutoff.astype(np.float64), 0.95 * self.nyquist)
        return 1.0 / np.sqrt(1.0 + (self.freqs / cutoff) ** (2 * order))

    def highpass(self, cutoff: np.ndarray, order: int = 2) -> np.ndarray:
        cutoff = np.minimum(cutoff.astype(np.float64), 0.5 * self.nyquist)
        r = (self.freqs / cutoff) ** order
        return r / np.sqrt(1.0 + r * r)

    def bandpass(self, centre: np.ndarray, octaves: np.ndarray) -> np.ndarray:
        """Gaussian band in log-frequency, ``octaves`` = standard deviation."""
        centre = np.minimum(centre.astype(np.float64), 0.5 * self.nyquist)
        f = np.maximum(self.freqs, 1e-3)
        return np.exp(-0.5 * (np.log2(f / centre) / octaves) ** 2)

    # -- sources --------------------------------------------------------------
    def noise(self, response: np.ndarray) -> np.ndarray:
        """Unit-RMS white noise shaped by a zero-phase magnitude response.

        Filtering is done before any envelope is applied, so the non-causal
        zero-phase filter cannot smear energy before the onset. (Uniform
        white noise is drawn because it is cheaper than Gaussian; it has the
        same flat spectrum.)
        """
        white = self.rng.random((self.n, self.length))
        shaped = np.fft.irfft(np.fft.rfft(white, axis=-1) * response, n=self.length, axis=-1)
        return _unit_rms(shaped.astype(_F32))

    def partials(
        self,
        freqs: np.ndarray,
        amps: np.ndarray,
        phases: np.ndarray,
        response: Optional[np.ndarray] = None,
    ) -> np.ndarray:
        """Stationary sum of cosines, built in the frequency domain.

        ``freqs``/``amps``/``phases`` have shape [n, K]; each partial is placed
        on its nearest FFT bin (so frequencies are quantised to
        ``sample_rate / length`` Hz) and partials at or above 95 % of Nyquist
        are dropped. Returns a unit-RMS [n, L] array (or zeros).
        """
        n_bins = self.freqs.shape[0]
        freqs = freqs.astype(np.float64)
        bins = np.rint(freqs * self.length / self.sr).astype(np.int64)
        keep = (freqs < 0.95 * self.nyquist) & (bins >= 1) & (bins < n_bins)
        rows = np.broadcast_to(np.arange(self.n)[:, None], freqs.shape)
        spec = np.zeros((self.n, n_bins), dtype=np.complex128)
        np.add.at(spec, (rows[keep], bins[keep]), (amps * np.exp(1j * phases))[keep])
        if response is not None:
            spec *= response
        return _unit_rms(np.fft.irfft(spec, n=self.length, axis=-1).astype(_F32))


def _unit_rms(x: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(x * x, axis=-1, keepdims=True))
    return x / np.maximum(rms, 1e-12)


def _unit_peak(x: np.ndarray) -> np.ndarray:
    peak = np.max(np.abs(x), axis=-1, keepdims=True)
    return x / np.maximum(peak, 1e-12)


def _saturate(x: np.ndarray, drive: np.ndarray) -> np.ndarray:
    """Soft ``tanh`` clipping of a peak-normalised signal (peak stays 1)."""
    return np.tanh(drive * _unit_peak(x)) / np.tanh(drive)


# ---------------------------------------------------------------------------
# Per-class synthesisers. Each draws ALL of its scalar parameters before any
# noise, so the parameters of a clip do not depend on sample_rate or length.
# ---------------------------------------------------------------------------


def _kick(s: _Synth) -> np.ndarray:
    f_end = s.u(40.0, 80.0)
    f_start = f_end * s.u(2.5, 5.0)
    sweep_tau = s.u(0.005, 0.03)
    t60 = s.u(0.25, 0.7)
    attack = s.u(0.0002, 0.001)
    click_level = s.u(0.05, 0.3)
    click_t60 = s.u(0.004, 0.015)
    click_cutoff = s.u(2500.0, 5000.0)
    drive = s.u(1.0, 3.0)

    f_start = np.minimum(f_start, _F32(0.9 * s.nyquist))
    f_end = np.minimum(f_end, f_start)
    body = np.sin(s.sweep_phase(f_end, f_start, sweep_tau)) * s.decay(t60)
    click = s.noise(s.lowpass(click_cutoff)) * s.decay(click_t60)
    return _saturate(s.attack(body + click_level * click, attack), drive)


def _snare(s: _Synth) -> np.ndarray:
    f0 = s.u(150.0, 250.0)
    ratio2 = s.u(1.55, 1.75)
    amp2 = s.u(0.3, 0.7)
    bend = s.u(1.05, 1.3)
    bend_tau = s.u(0.01, 0.03)
    body_t60 = s.u(0.08, 0.2)
    noise_t60 = s.u(0.15, 0.35)
    noise_level = s.u(0.3, 0.8)
    hp_cutoff = s.u(800.0, 2000.0)
    lp_cutoff = s.u(6000.0, 10000.0)
    attack = s.u(0.0002, 0.001)

    phase = s.sweep_phase(f0, f0 * bend, bend_tau)
    amp2 = amp2 * ((f0 * bend * ratio2) < 0.95 * s.nyquist)
    body = (np.sin(phase) + amp2 * np.sin(ratio2 * phase)) * s.decay(body_t60)
    wires = s.noise(s.highpass(hp_cutoff) * s.lowpass(lp_cutoff)) * s.decay(noise_t60)
    return s.attack(body + noise_level * wires, attack)


def _hihat(s: _Synth) -> np.ndarray:
    is_open = s.rng.random((s.n, 1)) < 0.3
    t60 = np.where(is_open, s.u(0.3, 0.8), s.u(0.03, 0.12))
    base = 205.3 * s.u(0.85, 1.25)
    detune = s.u(0.985, 1.015, cols=_HAT_RATIOS.size)
    phase0 = s.u(0.0, _TWO_PI, cols=_HAT_RATIOS.size)
    metal_level = s.u(0.3, 0.8)
    hp_cutoff = s.u(4000.0, 7000.0)
    attack = s.u(0.0001, 0.0005)

    response = s.highpass(hp_cutoff, order=3)
    # [n, 6, 8] band-limited squares: odd harmonics h with amplitude 1/h.
    h = _HAT_HARMONICS[None, None, :]
    freqs = (base * _HAT_RATIOS * detune)[:, :, None] * h
    amps = np.broadcast_to(1.0 / h, freqs.shape)
    phases = phase0[:, :, None] * h
    metal = s.partials(
        freqs.reshape(s.n, -1), amps.reshape(s.n, -1), phases.reshape(s.n, -1), response
    )
    hiss = s.noise(response)
    return s.attack((hiss + metal_level * metal) * s.decay(t60), attack)


def _clap(s: _Synth, max_bursts: int = 5) -> np.ndarray:
    n_bursts = s.rng.integers(3, max_bursts + 1, size=(s.n, 1))
    gaps = s.u(0.006, 0.014, cols=max_bursts - 1)
    burst_amp = s.u(0.7, 1.0, cols=max_bursts)
    burst_t60 = s.u(0.015, 0.035)
    burst_attack = s.u(0.0002, 0.0006)
    tail_t60 = s.u(0.1, 0.3)
    tail_level = s.u(0.3, 0.6)
    centre = s.u(900.0, 1800.0)
    octaves = s.u(0.6, 1.1)

    onsets = np.concatenate([np.zeros((s.n, 1), _F32), np.cumsum(gaps, axis=1)], axis=1)
    last = np.take_along_axis(onsets, n_bursts - 1, axis=1)
    env = np.zeros((s.n, s.length), _F32)
    bursts = [(onsets[:, b : b + 1], (b < n_bursts) * burst_amp[:, b : b + 1], burst_t60)
              for b in range(max_bursts)]
    for onset, amp, t60 in bursts + [(last, tail_level, tail_t60)]:
        dt = s.t - onset
        ramp = np.clip(dt / burst_attack, 0.0, 1.0)  # 0 before the onset
        env += amp * ramp * s.decay(t60, np.maximum(dt, 0.0))
    return s.noise(s.bandpass(centre, octaves)) * env


def _tom(s: _Synth) -> np.ndarray:
    f0 = s.u(90.0, 260.0)
    bend = s.u(1.1, 1.6)
    bend_tau = s.u(0.02, 0.08)
    t60 = s.u(0.25, 0.6)
    ones = np.ones((s.n, 1), _F32)
    ratios = np.array([1.0, 1.593, 2.135], _F32) * np.concatenate(
        [ones, s.u(0.98, 1.02, cols=2)], axis=1
    )
    amps = np.concatenate([ones, s.u(0.25, 0.6), s.u(0.1, 0.3)], axis=1)
    t60s = t60 * np.concatenate([ones, s.u(0.3, 0.6), s.u(0.2, 0.4)], axis=1)
    noise_level = s.u(0.02, 0.1)
    noise_t60 = s.u(0.01, 0.04)
    noise_cutoff = s.u(1500.0, 4000.0)
    attack = s.u(0.0005, 0.002)
    drive = s.u(1.0, 2.0)

    f_start = np.minimum(f0 * bend, _F32(0.9 * s.nyquist))
    phase = s.sweep_phase(np.minimum(f0, f_start), f_start, bend_tau)
    body = np.zeros((s.n, s.length), _F32)
    for k in range(3):
        r, a, d = ratios[:, k : k + 1], amps[:, k : k + 1], t60s[:, k : k + 1]
        a = a * ((f_start * r) < 0.95 * s.nyquist)
        body += a * np.sin(r * phase) * s.decay(d)
    stick = s.noise(s.lowpass(noise_cutoff)) * s.decay(noise_t60)
    return _saturate(s.attack(body + noise_level * stick, attack), drive)


def _rimshot(s: _Synth) -> np.ndarray:
    f1 = s.u(380.0, 600.0)
    f2 = f1 * s.u(3.2, 3.8)
    amp2 = s.u(0.3, 0.7)
    tone_t60 = s.u(0.02, 0.07)
    t60_2 = tone_t60 * s.u(0.4, 0.8)
    click_level = s.u(0.3, 0.8)
    click_t60 = s.u(0.004, 0.012)
    click_cutoff = s.u(2000.0, 4000.0)
    phase1 = s.u(0.0, _TWO_PI)
    phase2 = s.u(0.0, _TWO_PI)
    attack = s.u(0.00005, 0.0003)
    drive = s.u(1.5, 3.0)

    w = _F32(_TWO_PI) * s.t
    amp1 = (f1 < 0.95 * s.nyquist).astype(_F32)
    amp2 = amp2 * (f2 < 0.95 * s.nyquist)
    tone = amp1 * np.sin(f1 * w + phase1) * s.decay(tone_t60)
    tone += amp2 * np.sin(f2 * w + phase2) * s.decay(t60_2)
    click = s.noise(s.highpass(click_cutoff)) * s.decay(click_t60)
    return _saturate(s.attack(tone + click_level * click, attack), drive)


_SYNTHS: Dict[str, Callable[[_Synth], np.ndarray]] = {
    "kick": _kick,
    "snare": _snare,
    "hihat": _hihat,
    "clap": _clap,
    "tom": _tom,
    "rimshot": _rimshot,
}
assert tuple(_SYNTHS) == DRUM_CLASSES


# ---------------------------------------------------------------------------
# Argument validation
# ---------------------------------------------------------------------------


def _check_classes(classes: Union[None, str, Sequence[str]]) -> Tuple[str, ...]:
    if classes is None:
        return DRUM_CLASSES
    if isinstance(classes, (set, frozenset, dict)):
        # unordered: the labels would depend on hash randomisation
        raise ValueError(
            f"classes must be an ordered sequence (list or tuple) of names from "
            f"{DRUM_CLASSES}, got unordered {type(classes).__name__} {classes!r}"
        )
    names = (classes,) if isinstance(classes, str) else classes
    try:
        names = tuple(names)
    except TypeError:
        raise ValueError(
            f"classes must be None or a sequence of names from {DRUM_CLASSES}, "
            f"got {classes!r}"
        ) from None
    if not names:
        raise ValueError(
            f"classes must name at least one drum class from {DRUM_CLASSES}, got {classes!r}"
        )
    for name in names:
        if not isinstance(name, str) or name not in DRUM_CLASSES:
            raise ValueError(
                f"classes contains unknown drum class {name!r}; "
                f"allowed names are {DRUM_CLASSES}"
            )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"classes contains duplicate names {duplicates}, got {classes!r}")
    return names


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def load_drums(
    num_per_class: int = 64,
    *,
    sample_rate: int = 16000,
    length: int = 8192,
    seed: int = 0,
    classes: Union[None, str, Sequence[str]] = None,
) -> Tuple[np.ndarray, np.ndarray, Tuple[str, ...]]:
    """Synthesise a labelled set of drum one-shots (no download, NumPy only).

    Args:
        num_per_class: Number of clips per class (positive integer, default 64).
        sample_rate: Sample rate in Hz (positive integer, default 16000). All
            synthesis parameters are in Hz and seconds, so a given seed gives
            the same drums at any rate; partials at or above Nyquist are
            dropped and filter corners clamped, so rates below ~16 kHz give
            duller (band-limited) cymbals and noise.
        length: Clip length in samples (positive integer, default 8192, i.e.
            0.512 s at 16 kHz). Sounds longer than the clip are truncated with
            a short fade-out (the last ``min(length // 8, 10 ms)`` samples).
        seed: Non-negative integer seed (default 0). The same arguments always
            give bit-identical output; different seeds give different clips.
            Each class uses its own random stream derived from
            ``(seed, index in DRUM_CLASSES)``, so the clips of a class do not
            depend on which other classes are requested, nor (apart from the
            noise samples, which depend on ``length``) on ``sample_rate``.
        classes: Optional subset of :data:`DRUM_CLASSES` (a sequence of
            distinct names, or a single name), default all six. Its order
            defines the labels: ``labels`` index into the returned
            ``class_names``.

    Returns:
        ``(waveforms, labels, class_names)`` where

        * ``waveforms``: ``float32`` array ``[N, length]`` with
          ``N = num_per_class * len(class_names)``. Each clip has its onset at
          sample 0 (0.05-2 ms attack ramp), decays towards silence, is finite
          and peak-normalised to a random peak drawn uniformly from
          [0.5, 0.95] (so always within [-1, 1]).
        * ``labels``: ``int32`` array ``[N]`` of indices into ``class_names``.
        * ``class_names``: ``tuple`` of the class names, in label order.

        Clips are in **class-major order** (all ``num_per_class`` clips of
        ``class_names[0]``, then of ``class_names[1]``, ...); shuffle before
        batching if needed.

    Raises:
        ValueError: if ``num_per_class``, ``sample_rate`` or ``length`` is not
            a positive integer, ``seed`` is not a non-negative integer, or
            ``classes`` is empty, has duplicates or names an unknown class.
            The message names the offending argument and value.

    Example:

    >>> x, y, names = load_drums(8, classes=["hihat", "kick"], seed=3)
    >>> x.shape, names, y.tolist().count(1)
    ((16, 8192), ('hihat', 'kick'), 8)
    >>> bool(0.5 <= abs(x[0]).max() <= 0.95)
    True
    """
    num_per_class = check_integer(num_per_class, "num_per_class", minimum=1)
    sample_rate = check_integer(sample_rate, "sample_rate", minimum=1)
    length = check_integer(length, "length", minimum=1)
    seed = check_integer(seed, "seed", minimum=0)
    class_names = _check_classes(classes)

    n = num_per_class
    waveforms = np.empty((n * len(class_names), length), dtype=np.float32)
    labels = np.repeat(np.arange(len(class_names), dtype=np.int32), n)

    fade_len = min(length // 8, int(round(0.01 * sample_rate)))
    fade = np.ones(length, dtype=_F32)
    if fade_len > 0:
        ramp = np.arange(1, fade_len + 1) / fade_len
        fade[length - fade_len :] = 0.5 * (1.0 + np.cos(np.pi * ramp))

    for i, name in enumerate(class_names):
        rng = np.random.default_rng([seed, DRUM_CLASSES.index(name)])
        target_peak = rng.uniform(0.5, 0.95, size=(n, 1))
        x = _SYNTHS[name](_Synth(rng, n, sample_rate, length)) * fade
        x[~np.isfinite(x)] = 0.0
        peak = np.max(np.abs(x), axis=-1, keepdims=True).astype(np.float64)
        gain = np.divide(target_peak, peak, out=np.zeros_like(peak), where=peak > 0.0)
        np.clip(x * gain.astype(_F32), -1.0, 1.0, out=waveforms[i * n : (i + 1) * n])
    return waveforms, labels, class_names
