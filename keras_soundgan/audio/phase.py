"""Phase from magnitude alone: phase-gradient heap integration (PGHI).

A magnitude spectrogram has lost its phase, but not all of it: for a Gaussian window
the STFT's phase and log magnitude are linked (Portnoff 1979), so the phase's
derivatives can be read off the magnitude's, and the phase rebuilt by integrating
them. Prusa, Balazs & Sondergaard ("A noniterative method for reconstruction of phase
from STFT magnitude", IEEE/ACM TASLP 2017) integrate from the largest coefficient
outwards, always next from the largest one already reached (a max-heap), so that the
integration runs through the strong, reliable coefficients first and never across
the near-silent ones. TiFGAN (Marafioti et al., ICML 2019) used it to turn a
spectrogram GAN's images into audio. It works for other windows with a Gaussian of
matching width: for the Hann window of length ``N``, ``gamma = 0.25645 * N**2``.

:func:`pghi_phase` follows the conventions of
:class:`~keras_soundgan.audio.spectral.SpectrogramTransform`: centred frames, periodic
Hann window of length ``n_fft``, each FFT's time origin at its frame's first sample
(like ``numpy.fft.rfft`` of the frame, ``librosa.stft`` and ``tf.signal.stft``). With
``s = log|X|``, ``a`` the hop, ``N = n_fft``, frame ``m`` and bin ``k``, the phase
advances

* from frame to frame (the instantaneous frequency times the hop) by
  ``(a * N / gamma) * ds/dk + 2 * pi * a * k / N``;
* from bin to bin (minus the local group delay) by
  ``-(gamma / (a * N)) * ds/dm + pi``, the ``pi`` because the window's centre sits
  ``N / 2`` samples after the FFT's time origin.

Derivatives are centred differences: the frequency axis mirrored at DC and Nyquist
(where the magnitude of a real signal is symmetric), the first and last frames repeated
(as ``pghipy`` does; on drums this start was a little better than one-sided
differences, elsewhere the same). Each step adds the mean of the two cells'
derivatives (the trapezoidal rule). Cells below ``tol`` times the clip's largest
magnitude are not integrated and keep phase 0; an island of strong cells cut off from
the rest by such cells starts again from its own maximum, at phase 0, as in the paper.

The integration is sequential, one clip at a time, in a Numba kernel (Numba comes with
librosa, a dependency): about 1.5-3 ms for a 129 x 128 ``specgan`` spectrogram on one
CPU core, about the cost of two batched Griffin-Lim iterations. The first call in a
process compiles the kernel (seconds) or loads it from Numba's on-disk cache.

On its own PGHI is a fair start, far better than a random or zero phase, at the
presets' redundancy ``n_fft / hop = 2`` and close to final at 4; a few Griffin-Lim
iterations from it then beat many from a random phase (``benchmarks/griffin_lim.py``
has the figures). :meth:`SpectrogramTransform.inverse` starts from it when the config's
``phase_init`` is ``"pghi"`` (the default).

Example::

    >>> import numpy as np
    >>> magnitude = np.ones((2, 65, 64), np.float32)  # [batch, n_fft // 2 + 1, frames]
    >>> pghi_phase(magnitude, n_fft=128, hop_length=64).shape
    (2, 65, 64)
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["pghi_phase", "HANN_GAMMA", "PGHI_TOL"]

#: ``gamma / n_fft**2`` of the Gaussian that stands in for a Hann window of length
#: ``n_fft`` (Prusa, Balazs & Sondergaard 2017, Table I). On real sounds (drums, speech,
#: notes) factors of 0.2 or 0.3 gave a worse phase than this one at hops of n_fft / 2
#: and n_fft / 4.
HANN_GAMMA = 0.25645
#: Cells below ``PGHI_TOL`` times the clip's largest magnitude keep phase 0. Any value
#: from 1e-3 down gave the same spectral convergence on real sounds; 1e-1 and 1e-2
#: were worse.
PGHI_TOL = 1e-5


def pghi_phase(magnitude, n_fft: int, hop_length: int, *, tol: float = PGHI_TOL,
               gamma: float | None = None) -> np.ndarray:
    """Phase-gradient heap integration: a phase for each cell of a magnitude spectrogram.

    Args:
        magnitude: array ``[batch, n_fft // 2 + 1, frames]`` (or without ``batch``),
            non-negative: ``|STFT|`` with the Nyquist bin, frequency low to high,
            centred frames ``hop_length`` apart, periodic Hann window of ``n_fft``.
        n_fft: int > 0, even. Window and FFT length in samples.
        hop_length: int > 0. Samples between frames.
        tol: float in (0, 1). Cells below ``tol * max`` of their clip keep phase 0.
            Defaults to ``PGHI_TOL`` (1e-5).
        gamma: float > 0. Time-frequency ratio of the window, in samples squared.
            Defaults to ``HANN_GAMMA * n_fft**2`` (the Hann window's).

    Returns:
        float32 phase in radians, the shape of ``magnitude``, wrapped to
        ``[-pi, pi)``. ``magnitude * exp(1j * phase)`` is the STFT estimate.

    Raises:
        ValueError: on a wrong shape, NaN, infinite or negative magnitudes, or a bad
            ``n_fft``, ``hop_length``, ``tol`` or ``gamma``.
    """
    for name, value in (("n_fft", n_fft), ("hop_length", hop_length)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if n_fft % 2:
        raise ValueError(f"n_fft must be even, got {n_fft}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < 1:
        raise ValueError(f"tol must be a number in (0, 1), got {tol!r}")
    if gamma is None:
        gamma = HANN_GAMMA * n_fft ** 2
    elif (isinstance(gamma, bool) or not isinstance(gamma, (int, float))
          or not math.isfinite(gamma) or gamma <= 0):
        raise ValueError(f"gamma must be a finite number > 0, got {gamma!r}")
    try:
        mag = np.asarray(magnitude, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"magnitude must be an array of numbers: {e}") from None
    single = mag.ndim == 2
    if single:
        mag = mag[None]
    bins = n_fft // 2 + 1
    if mag.ndim != 3 or mag.shape[1] != bins:
        raise ValueError(
            f"magnitude must have shape (batch, {bins}, frames) = (batch, n_fft // 2 + 1 "
            f"bins, frames), got {tuple(np.shape(magnitude))}")
    if not np.all(np.isfinite(mag)):
        raise ValueError("magnitude contains NaN or infinite values")
    if np.any(mag < 0):
        raise ValueError("magnitude must be non-negative (it is |STFT|)")

    phase = np.zeros(mag.shape[:1] + mag.shape[2:] + mag.shape[1:2])  # [batch, frames, bins]
    if mag.size:
        log_mag = np.log(np.maximum(mag.transpose(0, 2, 1), np.finfo(np.float64).tiny))
        log_mag = np.ascontiguousarray(log_mag)
        time_step, freq_step = _phase_steps(log_mag, n_fft, hop_length, gamma)
        peak = mag.max(axis=(1, 2))
        # An all-zero clip has nothing to integrate: a floor of +inf leaves it at 0.
        floors = np.where(peak > 0, np.log(np.maximum(peak, np.finfo(np.float64).tiny))
                          + math.log(tol), np.inf)
        _integrate_batch(log_mag, time_step, freq_step, floors, phase)
        phase = np.mod(phase + np.pi, 2 * np.pi) - np.pi
    phase = phase.transpose(0, 2, 1).astype(np.float32)
    return phase[0] if single else phase


def _phase_steps(log_mag: np.ndarray, n_fft: int, hop: int, gamma: float):
    """``log_mag [B, frames, bins]`` -> the phase's advance per frame and per bin at
    each cell (radians), from the log magnitude's centred differences."""
    bins = log_mag.shape[-1]
    # d/dk with mirrored ends: |X| of a real signal is symmetric about DC and Nyquist.
    padded = np.concatenate([log_mag[..., 1:2], log_mag, log_mag[..., -2:-1]], axis=-1)
    d_bin = 0.5 * (padded[..., 2:] - padded[..., :-2])
    # d/dm with the edge frames repeated (half a one-sided difference at the ends).
    padded = np.concatenate([log_mag[:, :1], log_mag, log_mag[:, -1:]], axis=1)
    d_frame = 0.5 * (padded[:, 2:] - padded[:, :-2])
    k = np.arange(bins)
    time_step = (hop * n_fft / gamma) * d_bin + (2.0 * np.pi * hop / n_fft) * k
    freq_step = -(gamma / (hop * n_fft)) * d_frame + np.pi
    return np.ascontiguousarray(time_step), np.ascontiguousarray(freq_step)


# -- the heap integration (Numba) -----------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _integrate_one(log_mag, time_step, freq_step, floor, phase):
    """One clip, arrays ``[frames, bins]``; writes ``phase`` (already zero)."""
    frames, bins = log_mag.shape
    n = frames * bins
    key = log_mag.ravel()
    t_step = time_step.ravel()
    f_step = freq_step.ravel()
    out = phase.ravel()
    done = np.empty(n, np.bool_)
    left = 0
    for i in range(n):
        done[i] = key[i] < floor
        if not done[i]:
            left += 1
    heap = np.empty(n, np.int64)  # a binary max-heap of cell indices ...
    heap_key = np.empty(n, np.float64)  # ... keyed by their log magnitude
    order = np.empty(0, np.int64)  # cells by falling magnitude, for restarts
    next_in_order = 0
    first = True
    while left > 0:
        # (Re)start from the largest cell not reached yet, at phase 0.
        if first:
            start = np.argmax(key)
            first = False
        else:
            if order.size == 0:
                order = np.argsort(-key)
            while done[order[next_in_order]]:
                next_in_order += 1
            start = order[next_in_order]
        done[start] = True
        left -= 1
        heap[0] = start
        heap_key[0] = key[start]
        size = 1
        while size > 0:
            cell = heap[0]
            size -= 1
            if size > 0:  # move the last entry to the root and sift it down
                last, last_key = heap[size], heap_key[size]
                pos = 0
                while True:
                    child = 2 * pos + 1
                    if child >= size:
                        break
                    if child + 1 < size and heap_key[child + 1] > heap_key[child]:
                        child += 1
                    if heap_key[child] <= last_key:
                        break
                    heap[pos] = heap[child]
                    heap_key[pos] = heap_key[child]
                    pos = child
                heap[pos] = last
                heap_key[pos] = last_key
            m = cell // bins
            k = cell - m * bins
            for direction in range(4):
                if direction == 0:  # next frame
                    if m + 1 >= frames:
                        continue
                    other = cell + bins
                    step = 0.5 * (t_step[cell] + t_step[other])
                elif direction == 1:  # previous frame
                    if m == 0:
                        continue
                    other = cell - bins
                    step = -0.5 * (t_step[cell] + t_step[other])
                elif direction == 2:  # next bin
                    if k + 1 >= bins:
                        continue
                    other = cell + 1
                    step = 0.5 * (f_step[cell] + f_step[other])
                else:  # previous bin
                    if k == 0:
                        continue
                    other = cell - 1
                    step = -0.5 * (f_step[cell] + f_step[other])
                if done[other]:
                    continue
                done[other] = True
                left -= 1
                out[other] = out[cell] + step
                other_key = key[other]  # push, sifting up
                pos = size
                size += 1
                while pos > 0:
                    parent = (pos - 1) // 2
                    if heap_key[parent] >= other_key:
                        break
                    heap[pos] = heap[parent]
                    heap_key[pos] = heap_key[parent]
                    pos = parent
                heap[pos] = other
                heap_key[pos] = other_key


@numba.njit(cache=True, nogil=True)
def _integrate_batch(log_mag, time_step, freq_step, floors, phase):
    for i in range(log_mag.shape[0]):
        _integrate_one(log_mag[i], time_step[i], freq_step[i], floors[i], phase[i])
