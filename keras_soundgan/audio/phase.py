"""Phase from magnitude alone: phase-gradient heap integration (PGHI) and phase locking.

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
(as ``pghipy`` does; on drums PGHI alone came out a little better so than with
one-sided differences, 0.298 against 0.312 spectral convergence at n_fft 256, hop 128;
elsewhere the same). Each step adds the mean of the two cells'
derivatives (the trapezoidal rule). Cells below ``tol`` times the clip's largest
magnitude are not integrated and keep phase 0; an island of strong cells cut off from
the rest by such cells starts again from its own maximum, at phase 0, as in the paper.

The integration is sequential within a clip: a Numba kernel (Numba comes with librosa)
that releases the GIL, the clips of a batch spread over the CPU's cores in threads.
PGHI with N Griffin-Lim iterations took 1.0-2.5x the time of N iterations from a random
start on two shared cores (``benchmarks/griffin_lim.py``). The first call in a process
compiles the kernel (seconds) or loads it from Numba's on-disk cache.

On its own PGHI is a fair start at the presets' redundancy ``n_fft / hop = 2``, far
better than a random or zero phase, and at 4 it beats 16 Griffin-Lim iterations from a
random phase; Griffin-Lim from it then beats Griffin-Lim from a random phase with as
many iterations, on drums, speech and notes (``benchmarks/griffin_lim.py`` has the
figures). :meth:`SpectrogramTransform.inverse` starts from it when the config's
``phase_init`` is ``"pghi"``.

A heap has no place in an exported graph, so the default start is
:func:`locked_phase` (``phase_init="lock"``): the same derivatives, integrated by phase
locking (each bin's phase follows its spectral peak's, and peaks advance from frame to
frame), written as TensorFlow ops that are all TFLite builtins
(:func:`locked_phase_graph`). The Python inverse and every exported file compute it
the same way, so they make the same sound. On real sounds through the presets' images,
Griffin-Lim from it reaches PGHI's spectral convergence with as many iterations; on
synthetic onsets and sweeps at redundancy 2 it is a little behind (tests/test_spectral.py
and ``benchmarks/griffin_lim.py`` have the figures).

Example::

    >>> import numpy as np
    >>> magnitude = np.ones((2, 65, 64), np.float32)  # [batch, n_fft // 2 + 1, frames]
    >>> pghi_phase(magnitude, n_fft=128, hop_length=64).shape
    (2, 65, 64)
    >>> locked_phase(magnitude, n_fft=128, hop_length=64).shape
    (2, 65, 64)
"""

from __future__ import annotations

import concurrent.futures
import math
import os

import numba
import numpy as np

from keras_soundgan.checks import check_integer

__all__ = ["pghi_phase", "locked_phase", "locked_phase_graph", "HANN_GAMMA", "PGHI_TOL"]

#: ``gamma / n_fft**2`` of the Gaussian that stands in for a Hann window of length
#: ``n_fft`` (Prusa, Balazs & Sondergaard 2017). On notes at n_fft 256 and 512, factors
#: of 0.2 or 0.3 gave a clearly worse phase (PGHI alone: spectral convergence 0.10-0.11
#: against 0.08, and 0.06-0.09 against 0.03); on drums and speech, and at n_fft 128,
#: the three were within 0.01.
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
    mag, single, gamma = _check_arguments(magnitude, n_fft, hop_length, tol, gamma)
    phase = np.zeros(mag.shape, np.float32)
    if mag.size:
        constants = (float(hop_length * n_fft / gamma), float(2.0 * np.pi * hop_length / n_fft),
                     float(gamma / (hop_length * n_fft)), math.log(tol))
        # One clip at a time is sequential; clips go to threads (the kernel releases the
        # GIL). Plain threads, not Numba's parallel layer: GNU OpenMP breaks in processes
        # forked after using it, and the workqueue layer is not thread-safe.
        workers = min(len(mag), _cpu_count())
        if workers <= 1:
            _pghi_batch(mag, *constants, phase)
        else:
            bounds = np.linspace(0, len(mag), workers + 1).round().astype(int)
            with concurrent.futures.ThreadPoolExecutor(workers) as pool:
                list(pool.map(lambda a, b: _pghi_batch(mag[a:b], *constants, phase[a:b]),
                              bounds[:-1], bounds[1:]))
    return phase[0] if single else phase


def _check_arguments(magnitude, n_fft, hop_length, tol, gamma):
    """``(magnitude as float32 [batch, bins, frames], single, gamma)``, checked."""
    for name, value in (("n_fft", n_fft), ("hop_length", hop_length)):
        check_integer(value, name, minimum=1)
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
        mag = np.asarray(magnitude, dtype=np.float32)
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
    return np.ascontiguousarray(mag), single, float(gamma)


def _cpu_count() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


# -- the heap integration (Numba) -----------------------------------------------------


@numba.njit(cache=True, nogil=True)
def _pghi_one(magnitude, time_scale, bin_advance, freq_scale, log_tol, phase):
    """One clip: ``magnitude`` and ``phase`` ``[bins, frames]``; fills ``phase``
    (already zero). Cell ``k * frames + m`` is bin ``k`` of frame ``m``."""
    bins, frames = magnitude.shape
    n = bins * frames
    key = np.empty(n, np.float64)  # log magnitude
    peak = 0.0
    for k in range(bins):
        for m in range(frames):
            value = np.float64(magnitude[k, m])
            peak = max(peak, value)
            key[k * frames + m] = math.log(max(value, 1e-300))
    if peak <= 0.0:
        return
    floor = math.log(peak) + log_tol
    # The phase's advance at each cell: per frame (the instantaneous frequency times the
    # hop) and per bin (minus the group delay, plus pi: the FFT's time origin is the
    # frame's first sample, half a window before its centre).
    t_step = np.empty(n, np.float64)
    f_step = np.empty(n, np.float64)
    for k in range(bins):
        up = k + 1 if k + 1 < bins else bins - 2  # mirrored at Nyquist ...
        down = k - 1 if k > 0 else 1  # ... and at DC
        for m in range(frames):
            after = min(m + 1, frames - 1)  # the edge frames repeated
            before = max(m - 1, 0)
            d_bin = 0.5 * (key[up * frames + m] - key[down * frames + m])
            d_frame = 0.5 * (key[k * frames + after] - key[k * frames + before])
            t_step[k * frames + m] = time_scale * d_bin + bin_advance * k
            f_step[k * frames + m] = math.pi - freq_scale * d_frame
    out = np.zeros(n, np.float64)
    done = np.empty(n, np.bool_)
    left = 0
    for i in range(n):
        done[i] = key[i] < floor
        if not done[i]:
            left += 1
    heap = np.empty(n, np.int64)  # a binary max-heap of cells ...
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
            k = cell // frames
            m = cell - k * frames
            for direction in range(4):
                if direction == 0:  # next frame
                    if m + 1 >= frames:
                        continue
                    other = cell + 1
                    step = 0.5 * (t_step[cell] + t_step[other])
                elif direction == 1:  # previous frame
                    if m == 0:
                        continue
                    other = cell - 1
                    step = -0.5 * (t_step[cell] + t_step[other])
                elif direction == 2:  # next bin
                    if k + 1 >= bins:
                        continue
                    other = cell + frames
                    step = 0.5 * (f_step[cell] + f_step[other])
                else:  # previous bin
                    if k == 0:
                        continue
                    other = cell - frames
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
    two_pi = 2.0 * math.pi
    for k in range(bins):  # wrapped to [-pi, pi)
        for m in range(frames):
            value = out[k * frames + m] + math.pi
            phase[k, m] = value - two_pi * math.floor(value / two_pi) - math.pi


@numba.njit(cache=True, nogil=True)
def _pghi_batch(magnitude, time_scale, bin_advance, freq_scale, log_tol, phase):
    """``magnitude`` and ``phase`` ``[batch, bins, frames]``: clip after clip."""
    for i in range(magnitude.shape[0]):
        _pghi_one(magnitude[i], time_scale, bin_advance, freq_scale, log_tol, phase[i])


# -- phase locking (TensorFlow, no heap) ------------------------------------------------


def locked_phase(magnitude, n_fft: int, hop_length: int, *, tol: float = PGHI_TOL,
                 gamma: float | None = None) -> np.ndarray:
    """Phase locking with PGHI's phase derivatives: a phase for each cell, no heap.

    PGHI's derivatives (see the module docstring), integrated without a heap, so that
    the whole method is a fixed graph of TensorFlow ops that also runs inside exported
    LiteRT, ONNX and SavedModel files (:func:`locked_phase_graph`). In each frame every
    bin climbs to its spectral peak (a local maximum of the magnitude across bins).
    A peak's phase is the previous frame's phase at its bin plus the frame-to-frame
    advance (the instantaneous frequency times the hop: PGHI's time step); every other
    bin's phase is its peak's plus the bin-to-bin steps down from the peak (PGHI's
    frequency steps, minus the group delay). Frame 0 is integrated up its bins from
    DC. This is the phase locking of phase vocoders (Laroche & Dolson 1999; Prusa &
    Holighaus's "phase vocoder done right", 2017, without its heap). The recursion over
    frames is one gather per frame; it is composed for every frame at once with a
    log-depth scan, so a clip costs ``log2(frames)`` gathers, not ``frames``.

    On real sounds through the presets' images it starts Griffin-Lim as well as PGHI
    does (``benchmarks/griffin_lim.py --through-images``); on exact magnitudes of
    synthetic sweeps and clicks at ``n_fft / hop = 2`` it is up to 1.3x PGHI's
    spectral convergence after 8 iterations (tests/test_spectral.py).

    Args:
        magnitude: array ``[batch, n_fft // 2 + 1, frames]`` (or without ``batch``),
            non-negative: ``|STFT|`` with the Nyquist bin, frequency low to high,
            centred frames ``hop_length`` apart, periodic Hann window of ``n_fft``.
        n_fft: int > 0, even. Window and FFT length in samples.
        hop_length: int > 0. Samples between frames.
        tol: float in (0, 1). Log magnitudes are floored at ``tol`` times the clip's
            largest magnitude. Defaults to ``PGHI_TOL`` (1e-5).
        gamma: float > 0. Time-frequency ratio of the window, in samples squared.
            Defaults to ``HANN_GAMMA * n_fft**2`` (the Hann window's).

    Returns:
        float32 phase in radians, the shape of ``magnitude``, wrapped to
        ``[-pi, pi)``.

    Raises:
        ValueError: on a wrong shape, NaN, infinite or negative magnitudes, or a bad
            ``n_fft``, ``hop_length``, ``tol`` or ``gamma``.

    Example::

        >>> magnitude = np.ones((2, 65, 64), np.float32)
        >>> locked_phase(magnitude, n_fft=128, hop_length=64).shape
        (2, 65, 64)
    """
    import tensorflow as tf

    mag, single, gamma = _check_arguments(magnitude, n_fft, hop_length, tol, gamma)
    if not mag.size:
        return np.zeros(np.shape(magnitude), np.float32)
    frames = tf.transpose(tf.constant(mag), [0, 2, 1])
    phase = locked_phase_graph(frames, n_fft, hop_length, tol=tol, gamma=gamma).numpy()
    phase = np.transpose(phase, [0, 2, 1])
    phase = ((phase + np.pi) % (2.0 * np.pi) - np.pi).astype(np.float32)
    return phase[0] if single else phase


def locked_phase_graph(magnitude, n_fft: int, hop_length: int, *, tol: float = PGHI_TOL,
                       gamma: float | None = None):
    """Phase locking with PGHI's phase derivatives, as TensorFlow ops (no heap).

    Call inside a ``tf.function`` trace (or eagerly). Every op converts to a TFLite
    builtin (``LOG``, ``CUMSUM``, ``GATHER``, comparisons and arithmetic), so the same
    code runs in :meth:`SpectrogramTransform.inverse
    <keras_soundgan.audio.spectral.SpectrogramTransform.inverse>` and inside exported
    generators. See :func:`locked_phase` for the method.

    Args:
        magnitude: float32 ``tf.Tensor`` ``[batch, frames, n_fft // 2 + 1]``
            (frames first, as the package's Griffin-Lim holds them), non-negative.
            ``frames`` and the bin count must be static.
        n_fft: int > 0, even. Window and FFT length in samples.
        hop_length: int > 0. Samples between frames.
        tol: float in (0, 1). Log magnitudes are floored at ``tol`` times the clip's
            largest magnitude before they are differentiated. Defaults to ``PGHI_TOL``.
        gamma: float > 0. Time-frequency ratio of the window. Defaults to
            ``HANN_GAMMA * n_fft**2``.

    Returns:
        float32 ``tf.Tensor`` ``[batch, frames, n_fft // 2 + 1]``: the phase in radians
        (frame 0 unwrapped, later frames wrapped to ``[0, 2 pi)``).
    """
    import tensorflow as tf

    if gamma is None:
        gamma = HANN_GAMMA * n_fft ** 2
    frames, bins = magnitude.shape[-2], magnitude.shape[-1]
    if frames is None or bins is None:
        raise ValueError("locked_phase_graph needs static frame and bin counts, got "
                         f"{magnitude.shape}")
    two_pi = 2.0 * math.pi
    time_scale = hop_length * n_fft / gamma
    freq_scale = gamma / (hop_length * n_fft)
    # The phase advance of bin k from frame to frame, 2 pi hop k / n_fft, taken modulo
    # 2 pi in float64 before it meets float32.
    bin_advance = np.mod(two_pi * hop_length * np.arange(bins) / n_fft, two_pi)

    peak = tf.reduce_max(magnitude, axis=[1, 2], keepdims=True)
    floor = tf.maximum(peak * tol, 1e-30)
    s = tf.math.log(tf.maximum(magnitude, floor))  # [B, T, F]
    # Centred differences: across bins mirrored at DC and Nyquist, across frames with
    # the first and last frames repeated (as pghi_phase).
    above = tf.concat([s[..., 1:], s[..., bins - 2:bins - 1]], axis=-1)
    below = tf.concat([s[..., 1:2], s[..., :-1]], axis=-1)
    d_bin = 0.5 * (above - below)
    later = tf.concat([s[:, 1:], s[:, -1:]], axis=1)
    earlier = tf.concat([s[:, :1], s[:, :-1]], axis=1)
    d_frame = 0.5 * (later - earlier)
    t_step = time_scale * d_bin + tf.constant(bin_advance, tf.float32)
    f_step = math.pi - freq_scale * d_frame
    # Trapezoidal steps: frame m-1 -> m per bin [B, T-1, F]; bin k -> k+1 per frame.
    advance = _wrap(0.5 * (t_step[:, 1:] + t_step[:, :-1]))
    up_bins = 0.5 * (f_step[..., 1:] + f_step[..., :-1])
    # psi: the phase integrated up the bins of each frame from DC, [B, T, F].
    psi = tf.concat([tf.zeros_like(s[..., :1]), tf.math.cumsum(up_bins, axis=-1)], axis=-1)

    # Each bin climbs to its spectral peak: one step to the larger neighbour while it
    # is larger, pointer-jumped to the end of the climb.
    # Neighbours with the edge bins repeated: DC never climbs down, the top bin never up.
    left = tf.concat([s[..., :1], s[..., :-1]], axis=-1)
    right = tf.concat([s[..., 1:], s[..., -1:]], axis=-1)
    index = tf.constant(np.arange(bins), tf.int32)
    anchor = tf.where((right > s) & (right >= left), index + 1,
                      tf.where(left > s, index - 1, index))
    for _ in range(max(1, math.ceil(math.log2(bins)))):
        anchor = _take(anchor, anchor)
    # A bin's phase is its peak's plus the climb down from the peak; a peak's is the
    # previous frame's phase at its bin plus the advance. Frame m from frame m-1:
    # phase_m = phase_{m-1}[A_m] + D_m.
    relative = psi - _take(psi, anchor)
    maps = anchor[:, 1:]
    offsets = _take(advance, maps) + relative[:, 1:]
    # Compose the maps of frames 1..m for every m at once (a log-depth scan):
    # (A, D) after (A', D') is (A'[A], D'[A] + D).
    shift = 1
    while shift < frames - 1:
        earlier_maps, earlier_offsets = maps[:, :-shift], offsets[:, :-shift]
        later_maps = maps[:, shift:]
        maps = tf.concat([maps[:, :shift], _take(earlier_maps, later_maps)], axis=1)
        offsets = tf.concat(
            [offsets[:, :shift],
             _wrap(_take(earlier_offsets, later_maps) + offsets[:, shift:])], axis=1)
        shift *= 2
    first = psi[:, :1]  # frame 0: integrated up its bins alone
    rest = _take(first + tf.zeros_like(offsets), maps) + offsets
    return tf.concat([first, _wrap(rest)], axis=1)


def _wrap(x):
    """``x`` modulo 2 pi, in ``[0, 2 pi)`` (``FLOOR``, not ``FLOOR_MOD``)."""
    import tensorflow as tf

    return x - (2.0 * math.pi) * tf.math.floor(x / (2.0 * math.pi))


def _take(params, index):
    """``params[..., index]`` along the last axis, row by row (``take_along_axis``):
    ``params`` and ``index`` share their shape. One ``GATHER`` in TFLite, ``GatherND``
    in ONNX."""
    import tensorflow as tf

    return tf.gather(params, index, batch_dims=index.shape.rank - 1)
