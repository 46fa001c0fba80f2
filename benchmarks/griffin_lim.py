"""Griffin-Lim: keras_soundgan's batched TF graph vs a loop of librosa.griffinlim.

    python benchmarks/griffin_lim.py                  # 64 clips, 32 iterations, 5 rounds
    python benchmarks/griffin_lim.py --repeats 3 --iters 16
    python benchmarks/griffin_lim.py --tf-threads 1   # TF on one core, like NumPy
    python benchmarks/griffin_lim.py --prototype      # + a candidate graph change

Phase recovery for a batch of ``--batch`` (64) linear magnitudes of the specgan preset
(16 kHz, 16384 samples, n_fft 256, hop 128, periodic Hann, centred with constant
padding; 129 bins x 128 frames, the image's frames), ``--iters`` (32) iterations of fast
Griffin-Lim with momentum ``--momentum`` (0.99):

* keras_soundgan: ``SpectrogramTransform.griffin_lim(S, n_iter, momentum, seed)``, the
  whole batch in one compiled ``tf.function`` call (the first call, which traces the
  graph, is timed separately and excluded);
* librosa (the baseline): ``librosa.griffinlim`` on each clip in a Python loop, same
  n_fft, hop, window, center, pad_mode, momentum and n_iter. librosa cannot take
  ``length=16384`` with 128 frames (the STFT of 16384 samples has 129 frames and its
  update fails to broadcast), so it returns its natural (128 - 1) * 128 = 16256 samples,
  zero-padded here to 16384 (the same zeros its own centred STFT pads with).

The magnitudes are ``|STFT|`` of real-ish signals: half drum one-shots from
``keras_soundgan.datasets.load_drums`` (all six classes), half synthetic harmonic tones
with vibrato, decay and a noise floor. Quality is the spectral convergence
``||S - |STFT(y)||| / ||S||`` (Frobenius norms over the 129 x 128 target; smaller is
better), computed with the same ``librosa.stft`` for both outputs, averaged over the
clips and over the rounds (each round draws new initial phases). A reference row gives
librosa the 129th frame too (the one the image drops) with ``length=16384``: more
information than either contender gets. A second one runs keras_soundgan's graph one clip
per call (is the speed from batching?). With ``--prototype`` a third contender, timed in
the same rounds, is a prototype of the TF graph with the phase update in real arithmetic
(a candidate change to spectral.py, not in the package; it did not pay off, see
benchmarks/README.md).

The contenders alternate for ``--repeats`` rounds; the script prints median and min
times, the ratio of medians against librosa, and the spectral convergences.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from _tables import table  # noqa: E402  (benchmarks/_tables.py)

BASELINE = "librosa.griffinlim loop"
CONTENDER = "keras_soundgan (batched TF)"
PROTOTYPE = "prototype: real-arithmetic update"


def tones(n: int, sample_rate: int, length: int, seed: int) -> np.ndarray:
    """``[n, length]`` harmonic tones: vibrato, attack/decay envelope, noise floor."""
    rng = np.random.default_rng(seed)
    t = np.arange(length) / sample_rate
    out = np.empty((n, length), np.float32)
    for i in range(n):
        f0 = rng.uniform(80.0, 1200.0)
        vibrato = 1.0 + rng.uniform(0.0, 0.02) * np.sin(2 * np.pi * rng.uniform(3, 7) * t)
        phase = 2 * np.pi * np.cumsum(f0 * vibrato) / sample_rate
        x = sum(rng.uniform(0.2, 1.0) / k * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
                for k in range(1, 9) if k * f0 < sample_rate / 2 - 500)
        attack = np.minimum(t / rng.uniform(0.005, 0.05), 1.0)
        x = x * attack * np.exp(-t * rng.uniform(0.5, 5.0)) + rng.normal(0, 0.003, length)
        out[i] = 0.8 * x / np.abs(x).max()
    return out


def signals(batch: int, sample_rate: int, length: int, seed: int):
    """Half drums (classes interleaved), half tones; returns waves [batch, L] and kinds."""
    from keras_soundgan.datasets import load_drums

    n_drums = batch // 2
    per_class = -(-n_drums // 6)
    drums, labels, _ = load_drums(per_class, sample_rate=sample_rate, length=length, seed=seed)
    order = np.argsort(np.arange(len(drums)) % per_class, kind="stable")  # round-robin classes
    waves = np.concatenate([drums[order[:n_drums]],
                            tones(batch - n_drums, sample_rate, length, seed)])
    kinds = np.array(["drums"] * n_drums + ["tones"] * (batch - n_drums))
    return waves.astype(np.float32), kinds


def real_arithmetic_prototype(transform):
    """A prototype of SpectrogramTransform.griffin_lim's graph with the phase update in
    real arithmetic (not part of the package; built on its private STFT helpers).

    Same algorithm, seed and free frame as ``_SpectralGraphs.griffin_lim_graph``, but the
    projection ``a / (|a| + tiny)`` and the momentum step work on real and imaginary parts
    as float32 tensors instead of a complex division by a cast complex modulus. Returns a
    ``tf.function`` with the package graph's signature, or None if the private helpers
    are not there any more.
    """
    import math

    import tensorflow as tf

    graphs = getattr(transform, "_graphs", None)
    if graphs is None or not all(hasattr(graphs, a) for a in ("stft", "istft", "_n_frames")):
        return None
    width = transform.config.width
    free = graphs._n_frames - width
    tiny = float(np.finfo(np.float32).tiny)

    def graph(magnitude, n_iter, momentum, seed):
        mag = tf.transpose(magnitude, [0, 2, 1])  # [N, W, F]
        phase = tf.random.stateless_uniform(tf.shape(mag), seed=seed, maxval=2.0 * math.pi,
                                            alg="philox")
        re, im = tf.cos(phase), tf.sin(phase)
        prev_re, prev_im = tf.zeros_like(mag), tf.zeros_like(mag)
        shape = tf.shape(mag)
        extra = tf.zeros([shape[0], free, shape[2]], tf.complex64)
        alpha = momentum / (1.0 + momentum)

        def frames(re, im, extra):
            known = tf.complex(mag * re, mag * im)
            return tf.concat([known, extra], axis=1) if free else known

        for _ in tf.range(n_iter):
            rebuilt = graphs.stft(graphs.istft(frames(re, im, extra)))
            extra = rebuilt[:, width:]
            r_re, r_im = tf.math.real(rebuilt[:, :width]), tf.math.imag(rebuilt[:, :width])
            a_re, a_im = r_re - alpha * prev_re, r_im - alpha * prev_im
            # max(., tiny) keeps |re|, |im| <= 1 where the squares underflow
            inv = tf.math.rsqrt(tf.maximum(a_re * a_re + a_im * a_im, tiny))
            re, im = a_re * inv, a_im * inv
            prev_re, prev_im = r_re, r_im
        return graphs.istft(frames(re, im, extra))

    f = transform.config.n_fft // 2 + 1
    return tf.function(graph, input_signature=[
        tf.TensorSpec([None, f, width], tf.float32), tf.TensorSpec([], tf.int32),
        tf.TensorSpec([], tf.float32), tf.TensorSpec([2], tf.int64)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--iters", type=int, default=32)
    parser.add_argument("--momentum", type=float, default=0.99)
    parser.add_argument("--repeats", "-R", type=int, default=5, help="rounds (default 5)")
    parser.add_argument("--tf-threads", type=int, default=0,
                        help="TF intra-op threads (default 0: TF's choice, all cores)")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the reference rows (librosa with 129 frames, TF one clip "
                             "at a time)")
    parser.add_argument("--prototype", action="store_true",
                        help="also time a prototype of the TF graph with the phase update in "
                             "real arithmetic (a candidate change to spectral.py)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    warnings.filterwarnings("ignore", category=UserWarning)
    import librosa
    import tensorflow as tf

    if args.tf_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.tf_threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.tf_threads)

    from keras_soundgan.audio.spectral import SpectrogramTransform
    from keras_soundgan.config import SoundGANConfig

    config = SoundGANConfig.from_preset("specgan").spectrogram
    sr, length, n_fft, hop, width = (config.sample_rate, config.slice_length, config.n_fft,
                                     config.hop_length, config.width)
    stft_kwargs = dict(n_fft=n_fft, hop_length=hop, win_length=n_fft, window="hann",
                       center=True, pad_mode="constant")
    gl_kwargs = dict(n_iter=args.iters, momentum=args.momentum, **stft_kwargs)

    waves, kinds = signals(args.batch, sr, length, args.seed)
    full = np.abs(librosa.stft(waves, **stft_kwargs)).astype(np.float32)  # [N, 129, 129]
    S = np.ascontiguousarray(full[..., :width])  # [N, 129, 128]: the image's frames
    transform = SpectrogramTransform(config)

    def spectral_convergence(y: np.ndarray) -> np.ndarray:
        """Per clip ||S - |STFT(y)||| / ||S|| over the 129 x 128 target."""
        rebuilt = np.abs(librosa.stft(np.asarray(y, np.float32), **stft_kwargs))[..., :width]
        return (np.linalg.norm((S - rebuilt).reshape(len(S), -1), axis=1)
                / np.linalg.norm(S.reshape(len(S), -1), axis=1))

    def run_tf(seed):
        return transform.griffin_lim(S, n_iter=args.iters, momentum=args.momentum, seed=seed)

    def run_librosa(seed, frames=width):
        out = np.zeros((len(S), length), np.float32)
        for i in range(len(S)):
            if frames == width:  # natural length (width - 1) * hop, then zero-padded
                y = librosa.griffinlim(S[i], random_state=seed * 100003 + i, **gl_kwargs)
            else:  # the 129th frame too, and length=16384
                y = librosa.griffinlim(full[i], random_state=seed * 100003 + i, length=length,
                                       **gl_kwargs)
            out[i, :len(y)] = y
        return out

    print(f"{args.batch} magnitudes 129x{width} ({(kinds == 'drums').sum()} drums, "
          f"{(kinds == 'tones').sum()} tones) of specgan ({sr} Hz, {length} samples, n_fft "
          f"{n_fft}, hop {hop}); {args.iters} iterations, momentum {args.momentum}")
    print(f"librosa {librosa.__version__}, TF {tf.__version__}, {os.cpu_count()} CPU cores "
          f"visible, GPUs: {len(tf.config.list_physical_devices('GPU'))}, TF intra-op threads: "
          f"{args.tf_threads or 'default'}")

    t0 = time.perf_counter()
    run_tf(10_000)
    tf_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_librosa(10_000)
    lib_warm = time.perf_counter() - t0
    print(f"warm-up (excluded): {CONTENDER} first call {tf_warm:.2f} s (traces and compiles "
          f"the graph), librosa {lib_warm:.2f} s")

    contenders = {CONTENDER: run_tf, BASELINE: run_librosa}
    prototype = real_arithmetic_prototype(transform) if args.prototype else None
    if prototype is not None:
        S_tensor = tf.constant(S)

        def run_prototype(seed):
            return prototype(S_tensor, tf.constant(args.iters),
                             tf.constant(args.momentum, tf.float32),
                             tf.constant([seed, 0], tf.int64)).numpy()

        t0 = time.perf_counter()
        run_prototype(10_000)
        print(f"warm-up (excluded): {PROTOTYPE} first call {time.perf_counter() - t0:.2f} s")
        contenders[PROTOTYPE] = run_prototype
    names = list(contenders)
    times = {n: [] for n in names}
    sc = {n: [] for n in names}
    for r in range(args.repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            y = contenders[name](args.seed + r)
            times[name].append(time.perf_counter() - t0)
            sc[name].append(spectral_convergence(y))
        print(f"  round {r + 1}/{args.repeats}: " +
              ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names), flush=True)

    extras = {}
    if not args.no_extras:
        t0 = time.perf_counter()
        y = run_librosa(args.seed, frames=width + 1)
        extras["ref: librosa, 129 frames, length=16384"] = (time.perf_counter() - t0,
                                                            spectral_convergence(y))
        t0 = time.perf_counter()
        y = np.concatenate([transform.griffin_lim(S[i:i + 1], n_iter=args.iters,
                                                  momentum=args.momentum, seed=args.seed + i)
                            for i in range(len(S))])
        extras["ref: keras_soundgan, one clip per call"] = (time.perf_counter() - t0,
                                                            spectral_convergence(y))

    base = statistics.median(times[BASELINE])
    drums = kinds == "drums"
    rows = []
    for name in [BASELINE, CONTENDER] + [n for n in names if n not in (BASELINE, CONTENDER)]:
        med = statistics.median(times[name])
        values = np.stack(sc[name])  # [rounds, N]
        rows.append((name + (" (baseline)" if name == BASELINE else ""), f"{med:.2f}",
                     f"{min(times[name]):.2f}",
                     f"{1e3 * med / (len(S) * args.iters):.2f}", f"{base / med:.2f}x",
                     f"{values.mean():.4f}", f"{values[:, drums].mean():.4f}",
                     f"{values[:, ~drums].mean():.4f}"))
    for name, (seconds, values) in extras.items():
        rows.append((name, f"{seconds:.2f}", "(1 run)",
                     f"{1e3 * seconds / (len(S) * args.iters):.2f}", f"{base / seconds:.2f}x",
                     f"{values.mean():.4f}", f"{values[drums].mean():.4f}",
                     f"{values[~drums].mean():.4f}"))
    print(f"\n{args.repeats} alternating rounds, batch {len(S)}, {args.iters} iterations "
          f"(spectral convergence: mean over clips and rounds, lower is better):")
    print(table(rows, ("method", "median s", "min s", "ms/clip/iter", "speed vs librosa",
                       "SC all", "SC drums", "SC tones")))
    ours, theirs = np.stack(sc[CONTENDER]).mean(), np.stack(sc[BASELINE]).mean()
    print(f"\nspeed-up {base / statistics.median(times[CONTENDER]):.2f}x (target >= 3x); "
          f"spectral convergence {ours:.4f} vs {theirs:.4f}: "
          f"{'equal or better' if ours <= theirs * 1.01 else 'WORSE'} (within 1%)")
    if PROTOTYPE in times:
        proto = statistics.median(times[PROTOTYPE])
        print(f"{PROTOTYPE} vs keras_soundgan's graph: "
              f"{statistics.median(times[CONTENDER]) / proto:.2f}x, spectral convergence "
              f"{np.stack(sc[PROTOTYPE]).mean():.4f} (a candidate for spectral.py, not in it)")


if __name__ == "__main__":
    main()
