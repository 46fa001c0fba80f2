"""The audio inverse as a graph of TFLite builtin operators (see the package docstring)."""

from __future__ import annotations

import math

import numpy as np

from keras_soundgan.audio.phase import locked_phase_graph

__all__ = ["SYNTHESIS_SCOPE", "MIN_POWER", "Synthesis"]

#: Name scope of the audio inverse's ops (int8 quantisation keeps them in float32).
SYNTHESIS_SCOPE = "synthesis"
#: Smallest squared modulus when normalising a phase: below it (|x| < 1e-15) the
#: phase is left short of unit modulus instead of dividing by ~0.
MIN_POWER = 1e-30


class Synthesis:
    """The audio inverse as TensorFlow ops that convert to TFLite builtins.

    Holds NumPy constants only; calling it inside a ``tf.function`` trace builds the
    graph: images ``[N, H, W, 1]`` -> waveforms ``[N, slice_length]``. The arithmetic is
    that of ``SpectrogramTransform.inverse`` (see the module docstring for the ops).
    """

    def __init__(self, spec, mean, std, n_iter: int, initial_phase: str = "lock",
                 seed: int = 0):
        import tensorflow as tf

        from keras_soundgan.audio.spectral import ENVELOPE_FLOOR, MEL_INVERSE_STEPS

        self.spec = c = spec
        self.n_iter = int(n_iter)
        self.mel_steps = MEL_INVERSE_STEPS
        n_fft, hop, length, width = c.n_fft, c.hop_length, c.slice_length, c.width
        self.n_bins = n_bins = n_fft // 2 + 1
        # All frames of the centred STFT: the image's `width` and the free one(s).
        self.n_frames = n_frames = 1 + length // hop
        self.free = n_frames - width
        pad = n_fft // 2
        window = tf.signal.hann_window(n_fft, periodic=True).numpy().astype(np.float64)

        # Real DFT of a windowed frame: frames [.., n_fft] @ [n_fft, n_bins].
        k = np.arange(n_fft)[:, None]
        angle = 2.0 * np.pi * ((k * np.arange(n_bins)[None]) % n_fft) / n_fft
        self.dft_re = (window[:, None] * np.cos(angle)).astype(np.float32)
        self.dft_im = (-window[:, None] * np.sin(angle)).astype(np.float32)
        # Inverse real DFT (irfft: DC and Nyquist once, other bins twice; their imaginary
        # parts ignored) times the synthesis window: [n_bins, n_fft].
        weight = np.full(n_bins, 2.0 / n_fft)
        weight[0] = weight[-1] = 1.0 / n_fft
        idft_im = -weight[:, None] * np.sin(angle.T)
        idft_im[0] = idft_im[-1] = 0.0
        self.idft_re = (weight[:, None] * np.cos(angle.T) * window[None]).astype(np.float32)
        self.idft_im = (idft_im * window[None]).astype(np.float32)

        # When hop divides n_fft, framing and overlap-add are reshapes, slices and pads;
        # otherwise one GATHER each, through the index tables below.
        self.ratio = n_fft // hop if n_fft % hop == 0 else 0
        # Framing: frame t holds padded samples t*hop .. t*hop + n_fft - 1, i.e. clip
        # samples t*hop - pad + j; outside the clip they point at an appended zero.
        position = np.arange(n_frames)[:, None] * hop + np.arange(n_fft)[None] - pad
        inside = (position >= 0) & (position < length)
        self.frame_index = np.where(inside, position, length).astype(np.int32)

        # Overlap-add: clip sample s (padded s + pad) sums frame t's sample s + pad - t*hop
        # over the frames that cover it; unused slots point at an appended zero.
        cover = -(-n_fft // hop)
        ola = np.full((length, cover), n_frames * n_fft, np.int64)
        filled = np.zeros(length, np.int64)
        for t in range(n_frames):
            s = np.arange(n_fft) + t * hop - pad
            keep = (s >= 0) & (s < length)
            s, j = s[keep], np.arange(n_fft)[keep]
            ola[s, filled[s]] = t * n_fft + j
            filled[s] += 1
        self.ola_index = ola.astype(np.int32)
        # The exact window-sum-square envelope, floored like spectral.py's.
        total = (n_frames - 1) * hop + n_fft
        envelope = np.zeros(total)
        for t in range(n_frames):
            envelope[t * hop:t * hop + n_fft] += window ** 2
        envelope = np.maximum(envelope, ENVELOPE_FLOOR * envelope.max())
        inv_envelope = np.zeros(length)
        stop = min(length, total - pad)
        inv_envelope[:stop] = 1.0 / envelope[pad:pad + stop]
        self.inv_envelope = inv_envelope.astype(np.float32)

        # Initial phase: locked in the graph from the magnitude (as the Python inverse
        # does), or [1, width, n_bins] constants: the Python inverse's random draw for
        # its first sound, or zero.
        self.initial_phase = initial_phase
        if initial_phase == "random":
            phase = tf.random.stateless_uniform(
                [1, width, n_bins], seed=tf.constant([seed, 0], tf.int64),
                maxval=2.0 * math.pi, alg="philox")
            self.phase_re = tf.cos(phase).numpy()
            self.phase_im = tf.sin(phase).numpy()
        else:
            self.phase_re = np.ones((1, width, n_bins), np.float32)
            self.phase_im = np.zeros((1, width, n_bins), np.float32)
        self.alpha = float(c.griffin_lim_momentum / (1.0 + c.griffin_lim_momentum))

        self.scale = (np.float32(c.clip_std) * np.asarray(std, np.float32)).astype(np.float32)
        self.mean = np.asarray(mean, np.float32)
        if c.n_mels:
            fmax = c.fmax if c.fmax is not None else c.sample_rate / 2
            mel = tf.signal.linear_to_mel_weight_matrix(
                num_mel_bins=c.n_mels, num_spectrogram_bins=n_bins,
                sample_rate=c.sample_rate, lower_edge_hertz=c.fmin, upper_edge_hertz=fmax,
            ).numpy().astype(np.float64)  # [F, n_mels], as spectral.py builds it
            gram = mel @ mel.T
            self.mel = mel.astype(np.float32)
            self.mel_pinv = np.linalg.pinv(mel).astype(np.float32)
            self.mel_t = mel.T.astype(np.float32)
            self.mel_step = float(1.0 / max(np.linalg.eigvalsh(gram)[-1], 1e-12))

    def matrices(self):
        """The constant matrices of the products (DFT, and mel for mel configs) as
        ``FULLY_CONNECTED`` stores its weights: ``[out, in]``."""
        names = ["dft_re", "dft_im", "idft_re", "idft_im"]
        if self.spec.n_mels:
            names += ["mel_pinv", "mel", "mel_t"]
        return [np.ascontiguousarray(getattr(self, name).T) for name in names]

    # -- graph pieces (call inside a trace) --

    def stft(self, x, k):
        """[N, L] -> real and imaginary parts [N, n_frames, n_bins] (centred STFT)."""
        import tensorflow as tf

        c = self.spec
        if self.ratio:  # hop divides n_fft: frames are `ratio` consecutive hop blocks
            pad = c.n_fft // 2
            blocks = self.n_frames + self.ratio - 1
            padded = tf.pad(x, [[0, 0], [pad, pad]])[:, :blocks * c.hop_length]
            padded = tf.reshape(padded, [-1, blocks, c.hop_length])
            frames = tf.concat([padded[:, j:j + self.n_frames] for j in range(self.ratio)],
                               axis=-1)
        else:
            extended = tf.concat([x, tf.zeros_like(x[:, :1])], axis=1)
            frames = tf.gather(extended, k["frame_index"], axis=1)  # [N, T, n_fft]
        return tf.matmul(frames, k["dft_re"]), tf.matmul(frames, k["dft_im"])

    def istft(self, re, im, k):
        """Real and imaginary parts [N, n_frames, n_bins] -> [N, L]."""
        import tensorflow as tf

        c = self.spec
        frames = tf.matmul(re, k["idft_re"]) + tf.matmul(im, k["idft_im"])  # [N, T, n_fft]
        if self.ratio:  # overlap-add: the hop blocks of frame t land on blocks t .. t+r-1
            r, hop, t = self.ratio, c.hop_length, self.n_frames
            pieces = tf.reshape(frames, [-1, t, r, hop])
            signal = tf.pad(pieces[:, :, 0], [[0, 0], [0, r - 1], [0, 0]])
            for j in range(1, r):
                signal += tf.pad(pieces[:, :, j], [[0, 0], [j, r - 1 - j], [0, 0]])
            signal = tf.reshape(signal, [-1, (t + r - 1) * hop])
            pad = c.n_fft // 2
            short = pad + c.slice_length - (t + r - 1) * hop
            if short > 0:
                signal = tf.pad(signal, [[0, 0], [0, short]])
            return signal[:, pad:pad + c.slice_length] * k["inv_envelope"]
        flat = tf.reshape(frames, [-1, self.n_frames * c.n_fft])
        flat = tf.concat([flat, tf.zeros_like(flat[:, :1])], axis=1)
        summed = tf.reduce_sum(tf.gather(flat, k["ola_index"], axis=1), axis=-1)
        return summed * k["inv_envelope"]

    def mel_to_linear(self, mel, k):
        """[N, W, n_mels] -> [N, W, n_bins]: spectral.py's FISTA, in a WHILE loop."""
        import tensorflow as tf

        target = tf.matmul(mel, k["mel_t"])
        x0 = tf.nn.relu(tf.matmul(mel, k["mel_pinv"]))

        def body(i, x, z, t):
            grad = tf.matmul(tf.matmul(z, k["mel"]), k["mel_t"]) - target
            x_next = tf.nn.relu(z - self.mel_step * grad)
            t_next = (1.0 + tf.sqrt(1.0 + 4.0 * t * t)) / 2.0
            z = x_next + ((t - 1.0) / t_next) * (x_next - x)
            return i + 1, x_next, z, t_next

        _, x, _, _ = tf.while_loop(
            lambda i, *_: i < self.mel_steps, body,
            (tf.constant(0), x0, x0, tf.constant(1.0)))
        return x

    def constants(self) -> dict:
        """The graph's constants, made in the graph being traced: ``{name: tensor}``."""
        import tensorflow as tf

        names = ["dft_re", "dft_im", "idft_re", "idft_im", "inv_envelope", "phase_re",
                 "phase_im", "scale", "mean"]
        if not self.ratio:
            names += ["frame_index", "ola_index"]
        if self.spec.n_mels:
            names += ["mel_pinv", "mel", "mel_t"]
        return {name: tf.constant(getattr(self, name)) for name in names}

    def __call__(self, images):
        import tensorflow as tf

        c = self.spec
        k = self.constants()
        x = tf.transpose(tf.reshape(images, [-1, c.height, c.width]), [0, 2, 1])  # [N, W, H]
        log_magnitude = x * k["scale"] + k["mean"]
        magnitude = tf.nn.relu(tf.exp(log_magnitude) - c.log_eps)
        if c.n_mels:
            magnitude = self.mel_to_linear(magnitude, k)
        else:  # the Nyquist bin, dropped by the forward transform, comes back as zeros
            magnitude = tf.concat([magnitude, tf.zeros_like(magnitude[..., :1])], axis=-1)
        return self.limit_peak(self.griffin_lim(magnitude, k))

    @staticmethod
    def limit_peak(audio):
        """[N, L] -> [N, L], ready to play: a sound whose peak |sample| exceeds 1 is
        divided by its peak (as the package's WAV writer does); quieter sounds are left
        as they are. ``ABS``, ``REDUCE_MAX``, ``MAXIMUM`` and ``DIV``."""
        import tensorflow as tf

        peak = tf.reduce_max(tf.abs(audio), axis=1, keepdims=True)
        return audio / tf.maximum(peak, 1.0)

    def griffin_lim(self, magnitude, k):
        """[N, W, n_bins] -> [N, L]; spectral.py's fast Griffin-Lim with a free frame."""
        import tensorflow as tf

        width, alpha = self.spec.width, self.alpha
        zeros = tf.zeros_like(magnitude)
        extra = tf.zeros_like(magnitude[:, :self.free])
        if self.initial_phase == "lock":  # the free frame(s) start as the last one
            full = tf.concat([magnitude] + [magnitude[:, -1:]] * self.free, axis=1)
            phase = locked_phase_graph(full, self.spec.n_fft, self.spec.hop_length)
            cos, sin = tf.cos(phase), tf.sin(phase)
            angle_re, angle_im = cos[:, :width], sin[:, :width]
            start_re, start_im = full[:, width:] * cos[:, width:], full[:, width:] * sin[:, width:]
        else:
            angle_re, angle_im = zeros + k["phase_re"], zeros + k["phase_im"]
            start_re = start_im = extra

        def spectrum(angle_re, angle_im, extra_re, extra_im):
            re, im = magnitude * angle_re, magnitude * angle_im
            if self.free:
                re, im = tf.concat([re, extra_re], 1), tf.concat([im, extra_im], 1)
            return re, im

        def body(i, angle_re, angle_im, prev_re, prev_im, extra_re, extra_im):
            re, im = self.stft(self.istft(*spectrum(angle_re, angle_im, extra_re, extra_im),
                                          k), k)
            extra_re, extra_im = re[:, width:], im[:, width:]
            re, im = re[:, :width], im[:, :width]
            a_re, a_im = re - alpha * prev_re, im - alpha * prev_im
            norm = tf.math.rsqrt(tf.maximum(a_re * a_re + a_im * a_im, MIN_POWER))
            return i + 1, a_re * norm, a_im * norm, re, im, extra_re, extra_im

        if self.n_iter:
            _, angle_re, angle_im, _, _, extra_re, extra_im = tf.while_loop(
                lambda i, *_: i < self.n_iter, body,
                (tf.constant(0), angle_re, angle_im, zeros, zeros, start_re, start_im))
        else:
            extra_re, extra_im = start_re, start_im
        return self.istft(*spectrum(angle_re, angle_im, extra_re, extra_im), k)
