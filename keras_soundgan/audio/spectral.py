"""The spectral front end: waveforms to normalised spectrogram images, and back.

One :class:`SpectrogramTransform`, built from one
:class:`~keras_soundgan.config.SpectrogramConfig`, holds both directions and the
statistics that link them, so whatever was done to the training data can be undone
on the generator's output.

Forward (``forward``), per example::

    waveform [L]                       float, L = slice_length samples
      -> centred STFT                  zero-pad n_fft//2 both sides (librosa's
                                       center=True, pad_mode="constant"), periodic
                                       Hann window, frame = FFT = n_fft, hop = hop_length;
                                       the first width = ceil(L / hop) frames are kept
      -> |X|                           n_fft//2 + 1 bins
      -> linear: drop the Nyquist bin  height = n_fft // 2      (as SpecGAN does)
         mel:    |X| @ mel filterbank  height = n_mels          (HTK mel, no area norm)
      -> log(. + log_eps)              "log magnitude", [height, width]
      -> (x - mean) / (clip_std * std) mean, std: per frequency bin, from adapt()
      -> clip to [-1, 1]               image [height, width, 1]

Inverse (``inverse``) undoes each step: ``x * clip_std * std + mean``, then
``max(exp(x) - log_eps, 0)``, then (mel only) a non-negative least-squares map from
the mel bands back to the linear bins, then the Nyquist bin put back as zeros, then a
phase read off the magnitude itself (:mod:`keras_soundgan.audio.phase`), and
``griffin_lim_iters`` iterations of fast Griffin-Lim (Perraudin, Balazs & Sondergaard
2013, the same update as ``librosa.griffinlim``) refine it. ``phase_init`` (config or
argument) picks the start: ``"lock"`` (the default: the phase-gradient derivatives of
PGHI integrated by phase locking, in the TF graph; exported generators compute the
very same start, so they make the same sounds), ``"pghi"`` (phase-gradient heap
integration, Prusa, Balazs & Sondergaard 2017: a heap, so Python only), ``"random"`` (a
seeded uniform phase, the start before PGHI) or ``"zero"``. Values clipped by the
forward direction and the phase are lost; everything else comes back.

On real sounds (embedded drums, espeak-ng speech, fluidsynth notes and drum kits) the
locked and PGHI starts with the presets' iterations beat a random start with as many at
every preset setting (``benchmarks/griffin_lim.py`` has the figures). The locked start
is part of the one TF graph of the inverse; PGHI's heap runs in NumPy and Numba between
two TF graphs (magnitude, then Griffin-Lim).

Images are ``[height, width]``: frequency from low (row 0) to high, time frames
left to right, with a trailing channel axis of 1.

All the signal processing but PGHI's heap integration (sequential, on the CPU) is
TensorFlow (``tf.signal``) inside ``tf.function`` graphs with fixed-shape signatures
whose batch axis is ``None``, so it runs on a GPU when there is one and does not
retrace per batch size. The public methods take NumPy arrays (or
anything ``np.asarray`` understands: TF, JAX or CPU torch tensors) and return NumPy
arrays, so callers on any Keras backend can use them. Inside a ``tf.data`` pipeline use
:meth:`SpectrogramTransform.tf_forward`, which takes and returns ``tf.Tensor``.

Three details differ from a naive ``tf.signal`` implementation:

* ``tf.signal.inverse_stft`` with ``inverse_stft_window_fn`` normalises by the
  steady-state window overlap and so attenuates the first and last frames. Here the
  overlap-add is done with ``tf.signal.overlap_and_add`` and divided by the exact
  window-sum-square envelope (as ``librosa.istft`` does), so the clip edges, where a
  one-shot's attack sits, come back at the right level.
* When ``hop_length`` divides ``slice_length`` (every preset), the centred STFT has
  ``width + 1`` frames and the image keeps ``width``: the clip's last ``hop_length``
  samples are then covered only by the fading tail of the last kept window. Dividing by
  that window's near-zero square turns any phase error into a click of amplitude 100 or
  more, so Griffin-Lim carries the dropped frame as a free frame (kept consistent with
  the estimate, its magnitude never imposed); the tail then comes back at the right
  level. From a random start the free frame starts at zero; from a locked, PGHI or
  zero start, which Griffin-Lim changes less, it starts as a copy of the last frame's
  magnitude with its own phase from the same method: starting it at zero left the last
  hop up to 20% too quiet after 32 iterations.
* Mel to linear: a non-negative least-squares solution of ``X M = Y`` (``M`` the
  filterbank, on magnitudes), like ``librosa.feature.inverse.mel_to_stft`` but batched in
  TF: the pseudo-inverse solution clipped at zero, refined by ``MEL_INVERSE_STEPS``
  (100) FISTA projected-gradient steps of size ``1 / lambda_max(M M^T)``. On tone
  signals with n_fft 128 / 32 mels the refinement lowers the error of the recovered
  linear magnitude from 0.35 to 0.23 (relative), and the spectral convergence after
  32 Griffin-Lim iterations from 0.35 to about 0.22; with n_fft 256 / 64 mels from 0.38
  to about 0.25. It costs about as much as a few Griffin-Lim iterations.

The mel filterbank is ``tf.signal.linear_to_mel_weight_matrix``: HTK mel scale,
no area normalisation (``librosa.filters.mel(htk=True, norm=None)``, not librosa's
Slaney default), triangles linear in mel rather than in Hz (weights differ from
librosa's by up to about 0.01), the DC bin always zero.

Example::

    >>> import numpy as np
    >>> from keras_soundgan.config import SpectrogramConfig
    >>> from keras_soundgan.audio.spectral import SpectrogramTransform
    >>> config = SpectrogramConfig(slice_length=4096, n_fft=128, hop_length=64)
    >>> waves = np.random.default_rng(0).normal(0, 0.1, (8, 4096)).astype("float32")
    >>> transform = SpectrogramTransform(config).adapt(waves)
    >>> images = transform.forward(waves)
    >>> images.shape, float(images.min()) >= -1, float(images.max()) <= 1
    ((8, 64, 64, 1), True, True)
    >>> transform.inverse(images, n_iter=8).shape
    (8, 4096)
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from keras_soundgan.audio.phase import locked_phase_graph, pghi_phase
from keras_soundgan.checks import check_integer
from keras_soundgan.config import PHASE_INITS, SpectrogramConfig
from keras_soundgan.registration import PACKAGE

__all__ = ["SpectrogramTransform"]

#: Smallest per-bin standard deviation; keeps silent bins from dividing by zero.
STD_FLOOR = 1e-5
#: FISTA steps of the non-negative least-squares mel -> linear inverse.
MEL_INVERSE_STEPS = 100
#: Floor of the overlap-add envelope, relative to its peak. It never binds when
#: hop_length <= n_fft / 2 (the envelope stays >= 0.5 of its peak inside the clip); it
#: keeps larger hops from dividing by ~0 between frames.
ENVELOPE_FLOOR = 1e-3
#: Examples per call into the TF graphs (bounds the memory of one call).
_CHUNK = 256
_FORMAT = "keras_soundgan.SpectrogramTransform/1"
_TINY32 = float(np.finfo(np.float32).tiny)


# -- input checks ------------------------------------------------------------------------


def _as_float_array(value: Any, name: str) -> np.ndarray:
    """``value`` as a float32 NumPy array; ValueError naming ``name`` if impossible."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # torch
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except Exception as e:  # noqa: BLE001 - report any conversion failure the same way
        raise ValueError(f"{name} must be an array of numbers, got {type(value).__name__}: {e}")
    if array.dtype == object or not (np.issubdtype(array.dtype, np.floating)
                                     or np.issubdtype(array.dtype, np.integer)
                                     or array.dtype == bool):
        raise ValueError(f"{name} must be an array of numbers, got dtype {array.dtype}")
    return array


def _check_finite(array: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")


def _shape_str(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


# -- the transform -------------------------------------------------------------------------


class BinStatistics:
    """Per-frequency-bin mean and std of log magnitudes, accumulated batch by batch.

    Chan et al.'s parallel update of count, mean and sum of squared deviations in
    float64: one pass, memory of one batch, the same result as numpy on the whole set.
    ``std`` is floored at ``STD_FLOOR`` so silent bins never divide by zero.

    Example::

        stats = BinStatistics(height)
        for log_mag in batches:              # each [B, height, width]
            stats.update(log_mag)
        mean, std = stats.mean, stats.std    # float32 [height]
    """

    def __init__(self, height: int):
        self.count = 0
        self._mean = np.zeros(height, np.float64)
        self._m2 = np.zeros(height, np.float64)

    def update(self, log_mag) -> None:
        """Adds a batch ``[B, height, width]`` (every frame counts once)."""
        x = np.asarray(log_mag, dtype=np.float64)
        if x.ndim != 3 or x.shape[1] != len(self._mean):
            raise ValueError(
                f"log_mag must have shape [batch, {len(self._mean)}, frames], got {x.shape}")
        n_b = x.shape[0] * x.shape[2]
        if n_b == 0:
            return
        mean_b = x.mean(axis=(0, 2))
        m2_b = np.square(x - mean_b[None, :, None]).sum(axis=(0, 2))
        total = self.count + n_b
        delta = mean_b - self._mean
        self._mean = self._mean + delta * (n_b / total)
        self._m2 = self._m2 + m2_b + np.square(delta) * (self.count * n_b / total)
        self.count = total

    @property
    def mean(self) -> np.ndarray:
        return self._mean.astype(np.float32)

    @property
    def std(self) -> np.ndarray:
        if self.count == 0:
            raise ValueError("no data: call update() first")
        return np.maximum(np.sqrt(self._m2 / self.count), STD_FLOOR).astype(np.float32)


@keras.saving.register_keras_serializable(package=PACKAGE)
class SpectrogramTransform:
    """Waveforms <-> normalised spectrogram images, both directions from one config.

    Args:
        config: a :class:`SpectrogramConfig` (or its ``get_config()`` dict).
        mean: per-frequency-bin mean of the log magnitude, float32 ``[config.height]``;
            leave it ``None`` and call :meth:`adapt` to compute it from data.
        std: per-frequency-bin standard deviation of the log magnitude, likewise.

    Shapes (``L = config.slice_length``, ``H = config.height``, ``W = config.width``):

    * waveforms ``[N, L]`` float in [-1, 1] (a single ``[L]`` is a batch of one);
    * log magnitude ``[N, H, W]``: ``log(|STFT| + log_eps)``, natural log;
    * images ``[N, H, W, 1]`` float32 in [-1, 1];
    * linear magnitude for :meth:`griffin_lim` ``[N, n_fft // 2 + 1, W]``.

    Example::

        >>> config = SpectrogramConfig(slice_length=4096, n_fft=128, hop_length=64, n_mels=32)
        >>> transform = SpectrogramTransform(config)
        >>> transform.log_magnitude(np.zeros(4096, "float32")).shape
        (1, 32, 64)
    """

    def __init__(self, config: SpectrogramConfig, mean=None, std=None):
        if isinstance(config, Mapping):
            config = SpectrogramConfig.from_config(config)
        if not isinstance(config, SpectrogramConfig):
            raise ValueError(
                f"config must be a SpectrogramConfig or its get_config() dict, "
                f"got {type(config).__name__}"
            )
        self.config = config
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        if (mean is None) != (std is None):
            raise ValueError("mean and std must be given together (or both left None)")
        if mean is not None:
            self._set_statistics(mean, std)
        self._graphs = _graphs_for(config)

    # -- statistics ----------------------------------------------------------------------

    @property
    def mel_matrix(self) -> np.ndarray | None:
        """The mel filterbank, float32 ``[n_fft // 2 + 1, n_mels]`` (``mel = |X| @ M``),
        from ``tf.signal.linear_to_mel_weight_matrix``; None for linear configs."""
        return self._graphs.mel_matrix

    @property
    def is_adapted(self) -> bool:
        """Whether the normalisation statistics (``mean``, ``std``) are set."""
        return self.mean is not None and self.std is not None

    def _set_statistics(self, mean, std) -> None:
        h = self.config.height
        values = {}
        for name, value in (("mean", mean), ("std", std)):
            array = _as_float_array(value, name).astype(np.float32)
            if array.shape != (h,):
                raise ValueError(
                    f"{name} must have shape ({h},) (one value per frequency bin), "
                    f"got {_shape_str(array.shape)}"
                )
            _check_finite(array, name)
            values[name] = array
        if np.any(values["std"] <= 0):
            raise ValueError("std must be > 0 in every bin")
        self.mean, self.std = values["mean"], values["std"]

    def adapt(self, data, batch_size: int = 256) -> "SpectrogramTransform":
        """Computes the per-frequency-bin ``mean`` and ``std`` of the log magnitude.

        The statistics are over all frames of all examples, accumulated in one
        streaming pass (Chan et al.'s parallel update of count, mean and sum of
        squared deviations, in float64), so memory stays bounded by one batch and a
        data set larger than RAM works. ``std`` is floored at ``STD_FLOOR`` (1e-5).

        Args:
            data: waveforms as a NumPy array ``[N, L]`` (read ``batch_size`` rows at a
                time, so a ``np.memmap`` works); or any iterable of batches ``[B, L]``
                (arrays or tensors, or ``(waveforms, labels)`` tuples); or a
                ``tf.data.Dataset`` of such batches (an unbatched one, with elements
                ``[L]``, is batched here).
            batch_size: rows per step when ``data`` is an array or unbatched dataset.

        Returns:
            ``self``, with ``mean`` and ``std`` set (float32, shape ``[height]``).

        Example (``waves`` ``[N, L]``, ``labels`` ``[N]``)::

            ds = tf.data.Dataset.from_tensor_slices((waves, labels)).batch(64)
            transform = SpectrogramTransform(config).adapt(ds)
        """
        batch_size = check_integer(batch_size, "batch_size", minimum=1)
        stats = BinStatistics(self.config.height)
        for batch in _iterate_batches(data, batch_size):
            stats.update(self.log_magnitude(batch))
        if stats.count == 0:
            raise ValueError("adapt: data holds no waveforms")
        self.mean, self.std = stats.mean, stats.std
        return self

    def _require_statistics(self, method: str) -> None:
        if not self.is_adapted:
            raise RuntimeError(
                f"SpectrogramTransform.{method}() needs the normalisation statistics: "
                f"call adapt() first (or pass mean= and std=)"
            )

    # -- forward ----------------------------------------------------------------------

    def log_magnitude(self, waveforms) -> np.ndarray:
        """``log(|STFT| + log_eps)``: linear (``n_fft // 2`` bins) or mel (``n_mels``).

        Args:
            waveforms: ``[N, slice_length]`` (or ``[slice_length]``) float samples.

        Returns:
            float32 ``[N, height, width]``; frequency low to high along axis 1.
        """
        x = self._check_waveforms(waveforms, "waveforms")
        return self._run_chunked(self._graphs.log_magnitude_fn, x)

    def normalize(self, log_mag) -> np.ndarray:
        """Log magnitude ``[N, H, W]`` -> images ``[N, H, W, 1]`` float32 in [-1, 1].

        ``clip((x - mean[:, None]) / (clip_std * std[:, None]), -1, 1)``.
        """
        self._require_statistics("normalize")
        x = self._check_images(log_mag, "log_mag")
        scale = self.config.clip_std * self.std[:, None]
        images = np.clip((x - self.mean[:, None]) / scale, -1.0, 1.0)
        return images.astype(np.float32)[..., None]

    def denormalize(self, images) -> np.ndarray:
        """Images ``[N, H, W, 1]`` (or ``[N, H, W]``) -> log magnitude ``[N, H, W]``.

        ``x * clip_std * std[:, None] + mean[:, None]``; the exact inverse of
        :meth:`normalize` wherever the forward direction did not clip.
        """
        self._require_statistics("denormalize")
        x = self._check_images(images, "images")
        scale = self.config.clip_std * self.std[:, None]
        return (x * scale + self.mean[:, None]).astype(np.float32)

    def forward(self, waveforms) -> np.ndarray:
        """Waveforms ``[N, L]`` (or ``[L]``) -> normalised images ``[N, H, W, 1]``.

        Raises:
            RuntimeError: if the statistics are not set (call :meth:`adapt` first).
            ValueError: on a wrong shape or NaN/infinite samples.
        """
        self._require_statistics("forward")
        return self.normalize(self.log_magnitude(waveforms))

    def tf_forward(self, waveforms: tf.Tensor) -> tf.Tensor:
        """:meth:`forward` as TensorFlow ops, for ``tf.data.Dataset.map``.

        Takes a float ``tf.Tensor`` ``[N, L]`` or ``[L]`` and returns float32
        ``[N, H, W, 1]`` or ``[H, W, 1]``. The statistics are captured as constants
        when the calling graph is traced (adapt before building the pipeline). No
        input checks beyond TensorFlow's own.
        """
        self._require_statistics("tf_forward")
        waveforms = tf.convert_to_tensor(waveforms, tf.float32)
        single = waveforms.shape.rank == 1
        if single:
            waveforms = waveforms[None]
        logmag = self._graphs.log_magnitude_graph(waveforms)
        mean = tf.constant(self.mean)[:, None]
        scale = tf.constant(self.config.clip_std * self.std)[:, None]
        images = tf.clip_by_value((logmag - mean) / scale, -1.0, 1.0)[..., None]
        return images[0] if single else images

    # -- inverse ----------------------------------------------------------------------

    def inverse(self, images, n_iter: int | None = None, momentum: float | None = None,
                seed: int = 0, phase_init: str | None = None) -> np.ndarray:
        """Images ``[N, H, W, 1]`` (or ``[N, H, W]``) -> waveforms ``[N, L]`` float32.

        Undoes the normalisation, ``exp(x) - log_eps`` (clamped at 0), maps mel bands
        back to linear bins (mel configs), puts back the dropped Nyquist bin as zeros
        and runs Griffin-Lim from the initial phase ``phase_init`` (see
        :meth:`griffin_lim`).

        Args:
            images: generated or forward-transformed images, values in [-1, 1].
            n_iter: int >= 0. Griffin-Lim iterations. Defaults to
                ``config.griffin_lim_iters``.
            momentum: float >= 0. Fast Griffin-Lim momentum (0 is the classic
                algorithm). Defaults to ``config.griffin_lim_momentum``.
            seed: int. Seeds the random initial phase of ``phase_init="random"``; same
                seed, same output. The other starts are deterministic. Defaults to 0.
            phase_init: str. ``"lock"``, ``"pghi"``, ``"random"`` or ``"zero"``. Defaults
                to ``config.phase_init``.

        Returns:
            float32 waveforms ``[N, slice_length]``.
        """
        self._require_statistics("inverse")
        x = self._check_images(images, "images")
        n_iter, momentum, seed = self._check_gl_args(n_iter, momentum, seed)
        phase_init = self._check_phase_init(phase_init)
        mean, std = tf.constant(self.mean), tf.constant(self.std)
        graphs = self._graphs
        if phase_init == "lock":
            return self._run_chunked(
                lambda chunk: graphs.inverse_lock_fn(chunk, mean, std, n_iter, momentum), x)
        if phase_init == "random":
            return self._run_chunked(
                lambda chunk, i: graphs.inverse_fn(chunk, mean, std, n_iter, momentum,
                                                   tf.constant([seed, i], tf.int64)),
                x, with_index=True)

        def run(chunk):
            magnitude = graphs.magnitude_fn(chunk, mean, std)
            phase = self._initial_phase(magnitude.numpy(), phase_init)
            return graphs.griffin_lim_from_fn(magnitude, tf.constant(phase), n_iter, momentum)

        return self._run_chunked(run, x)

    def griffin_lim(self, magnitude, n_iter: int | None = None,
                    momentum: float | None = None, seed: int = 0,
                    phase_init: str | None = None) -> np.ndarray:
        """Fast Griffin-Lim: linear magnitude -> waveforms ``[N, slice_length]``.

        The algorithm of Perraudin, Balazs & Sondergaard (2013) with the update of
        ``librosa.griffinlim``: ``angles = rebuilt - momentum / (1 + momentum) *
        previous_rebuilt``, normalised to unit modulus. It starts from

        * ``"lock"``: PGHI's phase derivatives integrated by phase locking
          (:func:`~keras_soundgan.audio.phase.locked_phase`), in the graph: what
          exported generators compute too; with ``n_iter=0`` the result is the locked
          phase alone;
        * ``"pghi"``: phase-gradient heap integration
          (:func:`~keras_soundgan.audio.phase.pghi_phase`), a phase computed from the
          magnitude itself; with ``n_iter=0`` the result is PGHI alone;
        * ``"random"``: a uniformly random phase from a stateless Philox generator
          seeded with ``seed`` (the same on CPU and GPU), as ``librosa.griffinlim``;
        * ``"zero"``: zero phase (``librosa.griffinlim(init=None)``).

        Its inverse STFT divides the overlap-add by the exact window-sum-square
        envelope, so the first and last frames are right.

        Args:
            magnitude: non-negative ``[N, n_fft // 2 + 1, width]`` (or without ``N``):
                ``|STFT|`` with the Nyquist bin, frequency low to high.
            n_iter: int >= 0. Iterations. Defaults to ``config.griffin_lim_iters``.
            momentum: float >= 0. 0 is classic Griffin-Lim. Defaults to
                ``config.griffin_lim_momentum``.
            seed: int. Seed of the random initial phase (``phase_init="random"``
                only). Defaults to 0.
            phase_init: str. ``"lock"``, ``"pghi"``, ``"random"`` or ``"zero"``. Defaults
                to ``config.phase_init``.

        Returns:
            float32 waveforms ``[N, slice_length]``.
        """
        c = self.config
        f = c.n_fft // 2 + 1
        mag = _as_float_array(magnitude, "magnitude").astype(np.float32)
        if mag.ndim == 2:
            mag = mag[None]
        if mag.ndim != 3 or mag.shape[1:] != (f, c.width):
            raise ValueError(
                f"magnitude must have shape (N, {f}, {c.width}) = (batch, n_fft // 2 + 1 "
                f"bins, width frames), got {_shape_str(np.shape(magnitude))}"
            )
        _check_finite(mag, "magnitude")
        if np.any(mag < 0):
            raise ValueError("magnitude must be non-negative (it is |STFT|)")
        n_iter, momentum, seed = self._check_gl_args(n_iter, momentum, seed)
        phase_init = self._check_phase_init(phase_init)
        graphs = self._graphs
        if phase_init == "lock":
            return self._run_chunked(
                lambda chunk: graphs.griffin_lim_lock_fn(chunk, n_iter, momentum), mag)
        if phase_init == "random":
            return self._run_chunked(
                lambda chunk, i: graphs.griffin_lim_fn(chunk, n_iter, momentum,
                                                       tf.constant([seed, i], tf.int64)),
                mag, with_index=True)
        return self._run_chunked(
            lambda chunk: graphs.griffin_lim_from_fn(
                chunk, tf.constant(self._initial_phase(chunk.numpy(), phase_init)), n_iter,
                momentum),
            mag)

    def _initial_phase(self, magnitude: np.ndarray, phase_init: str) -> np.ndarray:
        """The starting phase of ``"pghi"`` or ``"zero"``, float32 ``[N, F, frames]``.

        ``frames`` counts the free frame too (when ``hop_length`` divides
        ``slice_length``): Griffin-Lim starts it as a copy of the last frame's
        magnitude, and PGHI integrates its phase as if it were one.
        """
        c = self.config
        n_frames = 1 + c.slice_length // c.hop_length
        if phase_init == "zero":
            return np.zeros(magnitude.shape[:2] + (n_frames,), np.float32)
        free = n_frames - magnitude.shape[2]
        if free:
            last = magnitude[:, :, -1:]
            magnitude = np.concatenate([magnitude] + [last] * free, axis=2)
        return pghi_phase(magnitude, c.n_fft, c.hop_length)

    # -- serialisation ----------------------------------------------------------------

    def get_config(self) -> dict:
        """``{"spectrogram": ..., "mean": list | None, "std": list | None}``."""
        return {
            "spectrogram": self.config.get_config(),
            "mean": None if self.mean is None else [float(v) for v in self.mean],
            "std": None if self.std is None else [float(v) for v in self.std],
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "SpectrogramTransform":
        """The inverse of :meth:`get_config`."""
        if not isinstance(config, Mapping) or "spectrogram" not in config:
            raise ValueError(
                "config must be a dict with keys 'spectrogram', 'mean' and 'std' "
                "(SpectrogramTransform.get_config())"
            )
        return cls(config["spectrogram"], mean=config.get("mean"), std=config.get("std"))

    def save(self, path) -> str:
        """Writes ``mean``, ``std`` and the config (JSON) to the ``.npz`` file ``path``.

        The file is written at exactly ``path`` (no suffix is added). Returns the path.
        """
        path = os.fspath(path)
        empty = np.zeros((0,), np.float32)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            format=np.array(_FORMAT),
            spectrogram=np.array(json.dumps(self.config.get_config())),
            mean=empty if self.mean is None else self.mean,
            std=empty if self.std is None else self.std,
        )
        with open(path, "wb") as f:
            f.write(buffer.getvalue())
        return path

    @classmethod
    def load(cls, path) -> "SpectrogramTransform":
        """Reads a file written by :meth:`save`."""
        path = os.fspath(path)
        with np.load(path, allow_pickle=False) as data:
            if "format" not in data or str(data["format"][()]) != _FORMAT:
                raise ValueError(f"{path!r} is not a file written by SpectrogramTransform.save")
            config = json.loads(str(data["spectrogram"][()]))
            mean, std = data["mean"], data["std"]
        if mean.size == 0:
            mean = std = None
        return cls(config, mean=mean, std=std)

    def __reduce__(self):
        return (_from_config, (type(self), self.get_config()))

    def __repr__(self) -> str:
        c = self.config
        kind = f"{c.n_mels} mel bands" if c.n_mels else f"{c.height} linear bins"
        return (f"SpectrogramTransform({c.height}x{c.width} images, {kind}, "
                f"n_fft={c.n_fft}, hop={c.hop_length}, adapted={self.is_adapted})")

    # -- checks -----------------------------------------------------------------------

    def _check_waveforms(self, waveforms, name: str) -> np.ndarray:
        length = self.config.slice_length
        x = _as_float_array(waveforms, name)
        if not np.issubdtype(x.dtype, np.floating):
            raise ValueError(
                f"{name} must be floating point in [-1, 1], got dtype {x.dtype} "
                f"(divide integer PCM by its full scale, e.g. 32768 for int16)"
            )
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != length:
            raise ValueError(
                f"{name} must have shape (N, {length}) or ({length},) "
                f"(slice_length samples), got {_shape_str(np.shape(waveforms))}"
            )
        x = x.astype(np.float32, copy=False)
        _check_finite(x, name)
        return x

    def _check_images(self, images, name: str) -> np.ndarray:
        h, w = self.config.height, self.config.width
        x = _as_float_array(images, name)
        if x.ndim == 4 and x.shape[-1] == 1:
            x = x[..., 0]
        if x.ndim != 3 or x.shape[1:] != (h, w):
            raise ValueError(
                f"{name} must have shape (N, {h}, {w}, 1) or (N, {h}, {w}) "
                f"(height x width of this config), got {_shape_str(np.shape(images))}"
            )
        x = x.astype(np.float32, copy=False)
        _check_finite(x, name)
        return x

    def _check_gl_args(self, n_iter, momentum, seed):
        c = self.config
        n_iter = c.griffin_lim_iters if n_iter is None else n_iter
        momentum = c.griffin_lim_momentum if momentum is None else momentum
        n_iter = check_integer(n_iter, "n_iter", minimum=0)
        if (isinstance(momentum, bool) or not isinstance(momentum, (int, float, np.number))
                or not math.isfinite(momentum) or momentum < 0):
            raise ValueError(f"momentum must be a finite number >= 0, got {momentum!r}")
        seed = check_integer(seed, "seed")
        return (tf.constant(int(n_iter), tf.int32), tf.constant(float(momentum), tf.float32),
                int(seed))

    def _check_phase_init(self, phase_init) -> str:
        if phase_init is None:
            return self.config.phase_init
        if phase_init not in PHASE_INITS:
            raise ValueError(f"phase_init must be one of "
                             f"{', '.join(map(repr, PHASE_INITS))}, got {phase_init!r}")
        return phase_init

    @staticmethod
    def _run_chunked(fn, x: np.ndarray, with_index: bool = False) -> np.ndarray:
        outputs = []
        for i, start in enumerate(range(0, max(len(x), 1), _CHUNK)):
            chunk = tf.constant(x[start:start + _CHUNK])
            out = fn(chunk, i) if with_index else fn(chunk)
            outputs.append(out.numpy())
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)


# -- the TensorFlow graphs -------------------------------------------------------------------


class _SpectralGraphs:
    """The TensorFlow side of a config: constants and compiled graphs.

    Depends on the config only (the statistics are graph inputs), so transforms with
    equal configs share one instance (see :func:`_graphs_for`) and a reloaded or
    copied transform does not trace again.
    """

    def __init__(self, config: SpectrogramConfig):
        self.config = c = config
        n_fft, hop, width = c.n_fft, c.hop_length, c.width
        self._n_bins = n_fft // 2 + 1
        self._window = tf.signal.hann_window(n_fft, periodic=True)
        if c.n_mels:
            fmax = c.fmax if c.fmax is not None else c.sample_rate / 2
            mel = tf.signal.linear_to_mel_weight_matrix(
                num_mel_bins=c.n_mels, num_spectrogram_bins=self._n_bins,
                sample_rate=c.sample_rate, lower_edge_hertz=c.fmin, upper_edge_hertz=fmax,
            ).numpy().astype(np.float64)  # [F, n_mels]: mel = linear @ mel
            gram = mel @ mel.T  # [F, F]
            self.mel_matrix = mel.astype(np.float32)
            self._mel = tf.constant(self.mel_matrix)
            self._mel_pinv = tf.constant(np.linalg.pinv(mel).astype(np.float32))
            self._mel_t = tf.constant(mel.T.astype(np.float32))
            self._mel_step = float(1.0 / max(np.linalg.eigvalsh(gram)[-1], 1e-12))
        else:
            self.mel_matrix = None
        # All frames of the centred STFT of an L-sample clip: 1 + L // hop. The images
        # keep the first `width` of them; when hop divides L one more frame exists,
        # whose left half is the only thing covering the clip's last samples. Griffin-Lim
        # keeps it as a free frame (see griffin_lim_graph).
        self._n_frames = 1 + c.slice_length // hop
        # Exact window-sum-square envelope of the overlap-add (padded coordinates),
        # floored so that a hop above n_fft / 2 cannot divide by ~0 between frames.
        window = self._window.numpy().astype(np.float64)
        total = (self._n_frames - 1) * hop + n_fft
        envelope = np.zeros(total)
        for t in range(self._n_frames):
            envelope[t * hop:t * hop + n_fft] += window ** 2
        envelope = np.maximum(envelope, ENVELOPE_FLOOR * envelope.max())
        self._inv_envelope = tf.constant((1.0 / envelope).astype(np.float32))
        self._ola_length = total

        h, w, f, length = c.height, width, self._n_bins, c.slice_length
        # Fixed signatures with a None batch axis: a new batch size does not retrace.
        # No AutoGraph: the graphs' loops are written as tf.while_loop, and converting
        # the Python source took more than half of a first call's trace (1.1-1.4 s of
        # 2.0-2.4 s for the drums preset's inverse on 2 cores, 2026-12-06), which every
        # new process pays before its first sound (issue 18's 5 s target).
        function = functools.partial(tf.function, autograph=False)
        self.log_magnitude_fn = function(
            self.log_magnitude_graph,
            input_signature=[tf.TensorSpec([None, length], tf.float32)])
        self.griffin_lim_fn = function(
            self.griffin_lim_graph,
            input_signature=[tf.TensorSpec([None, f, w], tf.float32),
                             tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32),
                             tf.TensorSpec([2], tf.int64)])
        self.inverse_fn = function(
            self.inverse_graph,
            input_signature=[tf.TensorSpec([None, h, w], tf.float32),
                             tf.TensorSpec([h], tf.float32), tf.TensorSpec([h], tf.float32),
                             tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32),
                             tf.TensorSpec([2], tf.int64)])
        self.magnitude_fn = function(
            self.magnitude_graph,
            input_signature=[tf.TensorSpec([None, h, w], tf.float32),
                             tf.TensorSpec([h], tf.float32), tf.TensorSpec([h], tf.float32)])
        self.griffin_lim_lock_fn = function(
            self.griffin_lim_lock_graph,
            input_signature=[tf.TensorSpec([None, f, w], tf.float32),
                             tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32)])
        self.inverse_lock_fn = function(
            self.inverse_lock_graph,
            input_signature=[tf.TensorSpec([None, h, w], tf.float32),
                             tf.TensorSpec([h], tf.float32), tf.TensorSpec([h], tf.float32),
                             tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32)])
        self.griffin_lim_from_fn = function(
            self.griffin_lim_from_graph,
            input_signature=[tf.TensorSpec([None, f, w], tf.float32),
                             tf.TensorSpec([None, f, self._n_frames], tf.float32),
                             tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32)])

    def stft(self, waveforms: tf.Tensor) -> tf.Tensor:
        """[N, L] -> complex64 [N, 1 + L // hop, n_fft//2 + 1]: all centred frames.

        Centred like librosa (``center=True, pad_mode="constant"``): the waveform is
        zero-padded by ``n_fft // 2`` on both sides, so frame ``t`` is centred on
        sample ``t * hop``. The images use the first ``width`` frames.
        """
        c = self.config
        pad = c.n_fft // 2
        padded = tf.pad(waveforms, [[0, 0], [pad, pad]])
        return tf.signal.stft(padded, frame_length=c.n_fft, frame_step=c.hop_length,
                              fft_length=c.n_fft, window_fn=tf.signal.hann_window,
                              pad_end=False)

    def istft(self, spec: tf.Tensor) -> tf.Tensor:
        """complex64 [N, 1 + L // hop, n_fft//2 + 1] -> [N, L]; inverts :meth:`stft`.

        Overlap-add of the windowed inverse FFTs divided by the exact window-sum-square
        envelope (not ``tf.signal.inverse_stft``, which attenuates the clip edges),
        then the centring padding removed.
        """
        c = self.config
        frames = tf.signal.irfft(spec, fft_length=[c.n_fft]) * self._window
        signal = tf.signal.overlap_and_add(frames, c.hop_length) * self._inv_envelope
        pad = c.n_fft // 2
        short = pad + c.slice_length - self._ola_length
        if short > 0:  # only for hop > n_fft / 2: the last samples are in no frame
            signal = tf.pad(signal, [[0, 0], [0, short]])
        return signal[:, pad:pad + c.slice_length]

    def log_magnitude_graph(self, waveforms: tf.Tensor) -> tf.Tensor:
        magnitude = tf.abs(self.stft(waveforms)[:, :self.config.width])  # [N, W, F]
        if self.config.n_mels:
            magnitude = tf.tensordot(magnitude, self._mel, axes=1)  # [N, W, n_mels]
        else:
            magnitude = magnitude[..., :-1]  # drop the Nyquist bin
        logmag = tf.math.log(magnitude + self.config.log_eps)
        return tf.transpose(logmag, [0, 2, 1])  # [N, H, W]

    def mel_to_linear(self, mel: tf.Tensor) -> tf.Tensor:
        """Non-negative least squares: [N, W, n_mels] -> [N, W, F] with X @ M ~ mel.

        Starts from ``max(mel @ pinv(M), 0)`` and takes ``MEL_INVERSE_STEPS`` FISTA
        (accelerated projected-gradient) steps of size ``1 / lambda_max(M M^T)``.
        """
        target = tf.tensordot(mel, self._mel_t, axes=1)  # mel @ M^T
        x = tf.nn.relu(tf.tensordot(mel, self._mel_pinv, axes=1))

        def step(i, x, z, t):
            # (z M) M^T: through the n_mels bands, not the [F, F] Gram matrix (the same
            # product, n_mels / F of its cost).
            grad = tf.tensordot(tf.tensordot(z, self._mel, axes=1), self._mel_t, axes=1) - target
            x_next = tf.nn.relu(z - self._mel_step * grad)
            t_next = (1.0 + tf.sqrt(1.0 + 4.0 * t * t)) / 2.0
            return i + 1, x_next, x_next + ((t - 1.0) / t_next) * (x_next - x), t_next

        _, x, _, _ = tf.while_loop(lambda i, *_: i < MEL_INVERSE_STEPS, step,
                                   [tf.constant(0), x, x, tf.constant(1.0)])
        return x

    def griffin_lim_graph(self, magnitude, n_iter, momentum, seed):
        """[N, F, width] magnitude -> [N, L] waveforms (fast Griffin-Lim from a
        uniformly random phase drawn from ``seed``)."""
        spec_mag = tf.cast(tf.transpose(magnitude, [0, 2, 1]), tf.complex64)  # [N, W, F]
        phase = tf.random.stateless_uniform(tf.shape(spec_mag), seed=seed,
                                            maxval=2.0 * math.pi, alg="philox")
        shape = tf.shape(spec_mag)
        extra = tf.zeros([shape[0], self._n_frames - self.config.width, shape[2]],
                         tf.complex64)
        return self._griffin_lim(spec_mag, tf.complex(tf.cos(phase), tf.sin(phase)), extra,
                                 n_iter, momentum)

    def griffin_lim_from_graph(self, magnitude, phase, n_iter, momentum):
        """[N, F, width] magnitude and initial phase [N, F, all frames] (radians) ->
        [N, L] waveforms.

        ``phase`` covers the free frame(s) too (see :meth:`_griffin_lim`): they start
        as the image's last frame's magnitude with their own phase column.
        """
        return self._griffin_lim_from_phase(tf.transpose(magnitude, [0, 2, 1]),
                                            tf.transpose(phase, [0, 2, 1]), n_iter, momentum)

    def griffin_lim_lock_graph(self, magnitude, n_iter, momentum):
        """[N, F, width] magnitude -> [N, L] waveforms: fast Griffin-Lim from the
        locked phase (:func:`~keras_soundgan.audio.phase.locked_phase_graph`), computed
        in the graph over every frame, the free one(s) as a copy of the last."""
        c = self.config
        magnitude = tf.transpose(magnitude, [0, 2, 1])  # [N, W, F]
        phase = locked_phase_graph(self._with_free_frames(magnitude), c.n_fft, c.hop_length)
        return self._griffin_lim_from_phase(magnitude, phase, n_iter, momentum)

    def _with_free_frames(self, magnitude):
        """[N, W, F] -> [N, all frames, F]: the free frame(s) a copy of the last."""
        free = self._n_frames - self.config.width
        return tf.concat([magnitude] + [magnitude[:, -1:]] * free, axis=1) if free else magnitude

    def _griffin_lim_from_phase(self, magnitude, phase, n_iter, momentum):
        """Magnitude [N, W, F] and initial phase [N, all frames, F] -> [N, L]."""
        width = self.config.width
        angles = tf.complex(tf.cos(phase), tf.sin(phase))
        extra = tf.cast(self._with_free_frames(magnitude)[:, width:], tf.complex64)
        return self._griffin_lim(tf.cast(magnitude, tf.complex64), angles[:, :width],
                                 extra * angles[:, width:], n_iter, momentum)

    def _griffin_lim(self, spec_mag, angles, extra, n_iter, momentum):
        """Fast Griffin-Lim: complex64 magnitude and unit-modulus angles [N, W, F] and
        the free frames' initial STFT [N, free, F] -> [N, L].

        When ``hop`` divides ``L`` the centred STFT has one frame more than the image
        (centred on sample ``L``; its left half is the only frame besides the image's
        last one that covers the clip's final samples). Its magnitude is unknown, so it
        is a free frame: each iteration keeps it as the STFT of the current estimate,
        without projecting its magnitude. Dropping it instead would leave the final
        ``hop`` samples covered by the tail of one window only, and dividing by that
        window's ~0 square there turns small phase errors into a loud click.
        """
        width = self.config.width
        free = self._n_frames - width
        previous = tf.zeros_like(spec_mag)
        alpha = tf.cast(momentum / (1.0 + momentum), tf.complex64)

        def frames(angles, extra):
            known = spec_mag * angles
            return tf.concat([known, extra], axis=1) if free else known

        def step(i, angles, extra, previous):
            rebuilt = self.stft(self.istft(frames(angles, extra)))
            angles = rebuilt[:, :width] - alpha * previous
            angles = angles / tf.cast(tf.abs(angles) + _TINY32, tf.complex64)
            return i + 1, angles, rebuilt[:, width:], rebuilt[:, :width]

        _, angles, extra, _ = tf.while_loop(lambda i, *_: i < n_iter, step,
                                            [tf.constant(0), angles, extra, previous])
        return self.istft(frames(angles, extra))

    def magnitude_graph(self, images, mean, std):
        """Images [N, H, W] -> linear magnitude [N, n_fft // 2 + 1, W]: the
        normalisation undone, ``exp``, mel -> linear or the Nyquist bin put back."""
        c = self.config
        logmag = images * (c.clip_std * std)[:, None] + mean[:, None]  # [N, H, W]
        magnitude = tf.nn.relu(tf.exp(logmag) - c.log_eps)
        magnitude = tf.transpose(magnitude, [0, 2, 1])  # [N, W, H]
        if c.n_mels:
            linear = self.mel_to_linear(magnitude)
        else:
            linear = tf.pad(magnitude, [[0, 0], [0, 0], [0, 1]])  # Nyquist bin = 0
        return tf.transpose(linear, [0, 2, 1])

    def inverse_lock_graph(self, images, mean, std, n_iter, momentum):
        return self.griffin_lim_lock_graph(self.magnitude_graph(images, mean, std), n_iter,
                                           momentum)

    def inverse_graph(self, images, mean, std, n_iter, momentum, seed):
        return self.griffin_lim_graph(self.magnitude_graph(images, mean, std), n_iter,
                                      momentum, seed)


@functools.lru_cache(maxsize=None)
def _graphs_for(config: SpectrogramConfig) -> _SpectralGraphs:
    return _SpectralGraphs(config)


def _from_config(cls, config):
    return cls.from_config(config)


def _iterate_batches(data, batch_size: int):
    """Yields waveform batches from an array, a tf.data.Dataset or an iterable."""
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        if isinstance(spec, (tuple, list)):
            data = data.map(lambda *e: e[0])
            spec = spec[0]
        if not isinstance(spec, tf.TensorSpec):
            raise ValueError(
                "data: a tf.data.Dataset must yield waveform batches or "
                f"(waveforms, labels) tuples, got elements {data.element_spec}"
            )
        if spec.shape.rank == 1:
            data = data.batch(batch_size)
        for batch in data:
            yield batch.numpy()
        return
    if isinstance(data, (np.ndarray, tf.Tensor)) or (
            hasattr(data, "__array__") and hasattr(data, "shape")):
        if len(np.shape(data)) == 1:
            data = data[None]
        for start in range(0, int(np.shape(data)[0]), batch_size):
            yield data[start:start + batch_size]
        return
    if isinstance(data, Iterable) and not isinstance(data, (str, bytes, Mapping)):
        for batch in data:
            yield batch[0] if isinstance(batch, tuple) else batch
        return
    raise ValueError(
        "data must be a waveform array [N, L], an iterable of waveform batches or a "
        f"tf.data.Dataset, got {type(data).__name__}"
    )
