"""Phase reconstruction: keras_soundgan's Griffin-Lim from a random, zero, PGHI or locked start
against a loop of librosa.griffinlim, on real sounds.

    python benchmarks/griffin_lim.py                       # specgan, drums + tones, 3 rounds
    python benchmarks/griffin_lim.py --make-sounds /tmp/sounds   # + speech, notes, kits
    python benchmarks/griffin_lim.py --sounds /tmp/sounds --preset tiny
    python benchmarks/griffin_lim.py --sounds /tmp/sounds \\
        --set spectrogram.n_fft=512 --set spectrogram.hop_length=128   # redundancy 4
    python benchmarks/griffin_lim.py --sounds /tmp/sounds --through-images \\
        --set spectrogram.n_mels=64                        # images, mel inverse included
    python benchmarks/griffin_lim.py --prototype            # + a candidate graph change

Phase recovery for the magnitudes ``S = |STFT|`` of a batch of clips at a preset's
spectrogram settings (``--preset``, default specgan: 16 kHz, 16384 samples, n_fft 256,
hop 128, periodic Hann, centred with constant padding; ``--set`` changes them), of the
image's ``width`` frames with the Nyquist bin. The sets, ``--per-set`` (24) clips each:

* ``drums``: the embedded kit, ``keras_soundgan.datasets.load_drums``, classes in turn;
* ``tones``: synthetic harmonic tones with vibrato, decay and a noise floor;
* ``speech``, ``notes`` and ``kits`` (with ``--sounds DIR`` or ``--make-sounds DIR``,
  which runs the makers of ``examples/``): spoken digits from espeak-ng
  (``make_spoken_digits.py``, silence trimmed), notes of General MIDI instruments
  from C3 to B4 (``make_notes.py``) and one-shots of the General MIDI drum kits
  (``make_drums.py``), both rendered by fluidsynth with the FluidR3 soundfont; the
  makers' held-out parts (``DIR/<set>/held_out``), spread over the classes, their first
  ``slice_length`` samples.

The contenders, ``--iters`` iterations (default: the preset's ``griffin_lim_iters``,
32 for tiny, 16 for specgan) with momentum ``--momentum`` (0.99):

* librosa (the baseline): ``librosa.griffinlim`` on each clip in a Python loop, random
  start, same n_fft, hop, window, center, pad_mode, momentum and n_iter. librosa cannot
  take ``length=slice_length`` with ``width`` frames when the hop divides it (its STFT
  of the clip has one frame more and its update fails to broadcast), so it returns its
  natural ``(width - 1) * hop`` samples, zero-padded (the zeros its own STFT pads with);
* keras_soundgan ``SpectrogramTransform.griffin_lim(S, n_iter, phase_init=...)``, the
  whole batch in one call: ``random`` (the start of the package before PGHI), ``zero``,
  ``pghi`` with ``n_iter=0`` (PGHI alone) and with ``--pghi-iters`` (4 and
  ``--iters``) iterations, and ``lock`` (the locked phase, the default start since it
  is what exported generators compute too) alone and with as many iterations; the last
  lines give the locked start's spectral convergence as a ratio to PGHI's (the target
  of the exports: at most 1.25x). The first call of each (tracing the TF graph;
  compiling or loading the Numba kernel) is timed separately and excluded.

With ``--through-images`` the keras_soundgan contenders run the package's whole inverse,
``transform.inverse(transform.forward(waves))`` (the transform adapted on the same
clips): values beyond 3 standard deviations are clipped and, with ``n_mels``, the mel
bands go through the non-negative least-squares inverse first. librosa still gets the
exact ``S`` (more information than the images hold).

Quality is the spectral convergence ``||S - |STFT(y)||| / ||S||`` per clip
(``keras_soundgan.metrics.spectral_convergence``, with the same ``librosa.stft`` for
every output), averaged over clips and rounds (each round draws new random phases).
Reference rows (one run each, unless ``--no-extras``): librosa given the extra frame and
``length``; keras_soundgan's random start one clip per call; and, where ``pghipy`` is
installed (``pip install pghipy``; not a dependency), its ``pghi`` against
``keras_soundgan.audio.phase.pghi_phase`` on the same magnitudes with the same
Hann-window ``gamma``, both turned into audio by ``librosa.istft`` (the phase step alone
is timed). With ``--prototype`` a candidate change to the TF graph joins the rounds (a
real-arithmetic phase update; it did not pay off, see benchmarks/README.md).

The contenders alternate for ``--repeats`` rounds; the script prints median times, ms
per clip, the ratio of medians against librosa, and the spectral convergences per set.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from _tables import table  # noqa: E402  (benchmarks/_tables.py)

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "librosa.griffinlim loop"
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


def make_sounds(folder: Path) -> None:
    """Writes ``folder/speech``, ``folder/notes`` and ``folder/kits`` with the data-set
    makers of ``examples/`` (espeak-ng and fluidsynth)."""
    for tool in ("espeak-ng", "fluidsynth"):
        if shutil.which(tool) is None:
            sys.exit(f"--make-sounds needs {tool} (apt-get install {tool})")
    examples = ROOT / "examples"
    for script, name, extra in (("make_spoken_digits.py", "speech",
                                 ["--per-class", "5", "--held-out-per-class", "5"]),
                                ("make_notes.py", "notes", []), ("make_drums.py", "kits", [])):
        subprocess.run([sys.executable, str(examples / script), str(folder / name), *extra],
                       check=True)


def load_sets(names, per_set: int, sample_rate: int, length: int, sounds: Path | None,
              seed: int):
    """``{name: waves [n, length]}`` for each set name, ``per_set`` clips each."""
    from keras_soundgan.audio.io import load_audio_folder
    from keras_soundgan.datasets import load_drums

    sets = {}
    for name in names:
        if name == "drums":
            per_class = -(-per_set // 6)
            waves, _, _ = load_drums(per_class, sample_rate=sample_rate, length=length,
                                     seed=seed)
            order = np.argsort(np.arange(len(waves)) % per_class, kind="stable")
            waves = waves[order[:per_set]]  # the classes in turn
        elif name == "tones":
            waves = tones(per_set, sample_rate, length, seed)
        else:
            if sounds is None or not (sounds / name).is_dir():
                sys.exit(f"the {name} set needs --sounds DIR with DIR/{name} "
                         f"(make it with --make-sounds DIR)")
            folder = sounds / name
            if (folder / "held_out").is_dir():  # the makers' split: sounds of its own
                folder = folder / "held_out"
            waves, *_ = load_audio_folder(folder, sample_rate, length,
                                          trim_silence=name == "speech")
            pick = np.linspace(0, len(waves) - 1, min(per_set, len(waves))).round()
            waves = waves[pick.astype(int)]  # spread over the classes
        sets[name] = np.asarray(waves, np.float32)
    return sets


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


def draw(path: Path, index: int, sets, starts, transform, S, images, seed: int):
    """Spectrograms of clip ``index`` of each set (columns): the original, then what a
    random start, PGHI alone and PGHI with the most iterations rebuild from it (rows), in
    dB below the original's peak (0 to -80 dB in steps of 2 dB, which keeps the PNG
    small; linear bins)."""
    from keras_soundgan.audio.spectral import SpectrogramTransform
    from keras_soundgan.visualize import save_spectrogram_grid

    offsets = np.cumsum([0] + [len(w) for w in sets.values()])[:-1]
    pick = offsets + min(index, min(len(w) for w in sets.values()) - 1)
    waves = np.concatenate(list(sets.values()))[pick]
    linear = SpectrogramTransform(transform.config.replace(n_mels=0))
    to_db = 20.0 / np.log(10.0)
    peak = linear.log_magnitude(waves).max(axis=(1, 2), keepdims=True)

    def picture(y):
        db = np.round((linear.log_magnitude(y) - peak) * to_db / 2.0) * 2.0
        return np.clip(db / 40.0 + 1.0, -1.0, 1.0)

    rows, names = [picture(waves)], ["original"]
    shown = [name for name in starts if starts[name][0] == "random"] + ["PGHI alone"]
    shown.append(max((name for name in starts if starts[name][0] == "pghi"),
                     key=lambda name: starts[name][1]))
    for name in shown:
        phase_init, n_iter = starts[name]
        if images is not None:
            y = transform.inverse(images[pick], n_iter=n_iter, phase_init=phase_init,
                                  seed=seed)
        else:
            y = transform.griffin_lim(S[pick], n_iter=n_iter, phase_init=phase_init, seed=seed)
        rows.append(picture(y))
        names.append(name)
    save_spectrogram_grid(path, np.concatenate(rows), columns=len(pick), scale=1)
    print(f"{path}: columns {', '.join(sets)} (clip {index}); rows {'; '.join(names)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="specgan",
                        help="spectrogram settings (default specgan)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="spectrogram.FIELD=VALUE", help="change a setting (repeatable)")
    parser.add_argument("--sets", default=None,
                        help="comma-separated sets (default: drums,tones, plus speech,notes "
                             "with --sounds or --make-sounds)")
    parser.add_argument("--sounds", type=Path, help="folder with speech/ and notes/")
    parser.add_argument("--make-sounds", type=Path, metavar="DIR",
                        help="render speech (espeak-ng) and notes (fluidsynth) into DIR first")
    parser.add_argument("--per-set", type=int, default=24, help="clips per set (default 24)")
    parser.add_argument("--iters", type=int, default=None,
                        help="Griffin-Lim iterations (default: the preset's)")
    parser.add_argument("--pghi-iters", default=None,
                        help="comma-separated iterations after PGHI (default: 4 and --iters)")
    parser.add_argument("--momentum", type=float, default=0.99)
    parser.add_argument("--repeats", "-R", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--through-images", action="store_true",
                        help="run the package's whole inverse on forward-transformed images")
    parser.add_argument("--tf-threads", type=int, default=0,
                        help="TF intra-op threads (default 0: TF's choice, all cores)")
    parser.add_argument("--no-extras", action="store_true", help="skip the reference rows")
    parser.add_argument("--prototype", action="store_true",
                        help="also time a prototype of the TF graph with the phase update in "
                             "real arithmetic (a candidate change to spectral.py)")
    parser.add_argument("--picture", type=Path, metavar="PNG",
                        help="also draw clip --picture-index of each set (columns): the "
                             "original, then each keras_soundgan start (rows)")
    parser.add_argument("--picture-index", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    if args.make_sounds is not None:
        make_sounds(args.make_sounds)
        args.sounds = args.make_sounds
    names = args.sets.split(",") if args.sets else ["drums", "tones"] + [
        name for name in ("speech", "notes", "kits")
        if args.sounds is not None and (args.sounds / name).is_dir()]

    warnings.filterwarnings("ignore", category=UserWarning)
    import librosa
    import tensorflow as tf

    if args.tf_threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.tf_threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.tf_threads)

    from keras_soundgan.audio.phase import HANN_GAMMA, pghi_phase
    from keras_soundgan.audio.spectral import SpectrogramTransform
    from keras_soundgan.config import SoundGANConfig, parse_override
    from keras_soundgan.metrics import spectral_convergence

    overrides = dict(parse_override(o) for o in args.overrides)
    config = SoundGANConfig.from_preset(args.preset, **overrides).spectrogram
    sr, length, n_fft, hop, width = (config.sample_rate, config.slice_length, config.n_fft,
                                     config.hop_length, config.width)
    iters = config.griffin_lim_iters if args.iters is None else args.iters
    pghi_iters = ([int(k) for k in args.pghi_iters.split(",")] if args.pghi_iters
                  else sorted({min(4, iters), iters}))
    stft_kwargs = dict(n_fft=n_fft, hop_length=hop, win_length=n_fft, window="hann",
                       center=True, pad_mode="constant")
    gl_kwargs = dict(n_iter=iters, momentum=args.momentum, **stft_kwargs)

    sets = load_sets(names, args.per_set, sr, length, args.sounds, args.seed)
    waves = np.concatenate(list(sets.values()))
    kinds = np.concatenate([[name] * len(w) for name, w in sets.items()])
    full = np.abs(librosa.stft(waves, **stft_kwargs)).astype(np.float32)  # [N, F, frames]
    S = np.ascontiguousarray(full[..., :width])  # the image's frames
    transform = SpectrogramTransform(config)
    if args.through_images:
        transform.adapt(waves)
        images = transform.forward(waves)

    def convergence(y: np.ndarray) -> np.ndarray:
        """Per clip ||S - |STFT(y)||| / ||S||."""
        rebuilt = np.abs(librosa.stft(np.asarray(y, np.float32), **stft_kwargs))[..., :width]
        return np.array([spectral_convergence(s, r) for s, r in zip(S, rebuilt)])

    def ours(phase_init, n_iter):
        def run(seed):
            if args.through_images:
                return transform.inverse(images, n_iter=n_iter, momentum=args.momentum,
                                         seed=seed, phase_init=phase_init)
            return transform.griffin_lim(S, n_iter=n_iter, momentum=args.momentum,
                                         seed=seed, phase_init=phase_init)
        return run

    def run_librosa(seed, frames=width):
        out = np.zeros((len(S), length), np.float32)
        for i in range(len(S)):
            if frames == width:  # natural length (width - 1) * hop, then zero-padded
                y = librosa.griffinlim(S[i], random_state=seed * 100003 + i, **gl_kwargs)
            else:  # the extra frame too, and length=slice_length
                y = librosa.griffinlim(full[i], random_state=seed * 100003 + i,
                                       length=length, **gl_kwargs)
            out[i, :min(len(y), length)] = y[:length]
        return out

    source = "images (whole inverse)" if args.through_images else "exact magnitudes"
    print(f"{len(S)} clips ({', '.join(f'{len(w)} {n}' for n, w in sets.items())}), "
          f"{args.preset} with {overrides or 'no changes'}: {sr} Hz, {length} samples, n_fft "
          f"{n_fft}, hop {hop} (redundancy {n_fft / hop:g}), "
          f"{f'{config.n_mels} mel bands' if config.n_mels else 'linear'}; keras_soundgan "
          f"from {source}; {iters} iterations, momentum {args.momentum}")
    print(f"librosa {librosa.__version__}, TF {tf.__version__}, {os.cpu_count()} CPU cores "
          f"visible, GPUs: {len(tf.config.list_physical_devices('GPU'))}, TF intra-op threads: "
          f"{args.tf_threads or 'default'}")

    starts = {f"GL random start, {iters} it.": ("random", iters),
              f"GL zero start, {iters} it.": ("zero", iters),
              "PGHI alone": ("pghi", 0)}
    starts.update({f"PGHI + {k} it.": ("pghi", k) for k in pghi_iters if k})
    starts["locked alone"] = ("lock", 0)
    starts.update({f"locked + {k} it.": ("lock", k) for k in pghi_iters if k})
    contenders = {BASELINE: run_librosa}
    contenders.update({name: ours(*start) for name, start in starts.items()})
    if args.prototype and not args.through_images:
        prototype = real_arithmetic_prototype(transform)
        if prototype is not None:
            S_tensor = tf.constant(S)

            def run_prototype(seed):
                return prototype(S_tensor, tf.constant(iters),
                                 tf.constant(args.momentum, tf.float32),
                                 tf.constant([seed, 0], tf.int64)).numpy()

            contenders[PROTOTYPE] = run_prototype
    warm = []
    for name, fn in contenders.items():  # first calls: tracing, Numba, librosa's caches
        t0 = time.perf_counter()
        fn(10_000)
        warm.append(f"{name} {time.perf_counter() - t0:.2f} s")
    print("first calls (excluded): " + "; ".join(warm))

    names_c = list(contenders)
    times = {n: [] for n in names_c}
    sc = {n: [] for n in names_c}
    for r in range(args.repeats):
        for name in names_c[r % len(names_c):] + names_c[:r % len(names_c)]:
            t0 = time.perf_counter()
            y = contenders[name](args.seed + r)
            times[name].append(time.perf_counter() - t0)
            sc[name].append(convergence(y))
        print(f"  round {r + 1}/{args.repeats}: " +
              ", ".join(f"{n} {times[n][-1]:.2f} s" for n in names_c), flush=True)

    extras = {}
    if not args.no_extras:
        t0 = time.perf_counter()
        y = run_librosa(args.seed, frames=width + 1)
        extras["ref: librosa with the extra frame and length"] = (
            time.perf_counter() - t0, convergence(y))
        t0 = time.perf_counter()
        y = np.concatenate([transform.griffin_lim(S[i:i + 1], n_iter=iters,
                                                  momentum=args.momentum, seed=args.seed + i,
                                                  phase_init="random")
                            for i in range(len(S))])
        extras["ref: GL random start, one clip per call"] = (time.perf_counter() - t0,
                                                             convergence(y))
        try:
            import pghipy
        except ImportError:
            print("pghipy is not installed: no check against it (pip install pghipy)")
        else:
            gamma = HANN_GAMMA * n_fft ** 2
            spec = np.ascontiguousarray(S.transpose(0, 2, 1)).astype(np.float64)
            pghipy.pghi(spec[0], win_length=n_fft, hop_length=hop, gamma=gamma)  # compile
            pghi_phase(S[:1], n_fft, hop)
            t0 = time.perf_counter()
            theirs = np.stack([pghipy.pghi(s, win_length=n_fft, hop_length=hop, gamma=gamma,
                                           tol=1e-5) for s in spec]).transpose(0, 2, 1)
            t_theirs = time.perf_counter() - t0
            t0 = time.perf_counter()
            mine = pghi_phase(S, n_fft, hop)
            t_mine = time.perf_counter() - t0

            def synthesise(phase):
                y = librosa.istft(S * np.exp(1j * phase), **{k: v for k, v in stft_kwargs.items()
                                                             if k != "pad_mode"})
                out = np.zeros((len(S), length), np.float32)
                out[:, :min(length, y.shape[1])] = y[:, :length]
                return out

            extras["ref: pghipy.pghi + librosa.istft (phase step timed)"] = (
                t_theirs, convergence(synthesise(theirs)))
            extras["ref: pghi_phase + librosa.istft (phase step timed)"] = (
                t_mine, convergence(synthesise(mine)))
            differ = np.abs(np.angle(np.exp(1j * (mine - theirs)))) > 1e-3
            from importlib.metadata import version

            print(f"pghipy {version('pghipy')} vs pghi_phase on the same "
                  f"magnitudes: phases differ (> 1e-3 rad) in {differ.mean():.2%} of the cells")

    if args.picture is not None:
        draw(args.picture, args.picture_index, sets, starts, transform, S,
             images if args.through_images else None, args.seed)

    base = statistics.median(times[BASELINE])
    columns = list(sets)
    rows = []
    for name in names_c:
        med = statistics.median(times[name])
        values = np.stack(sc[name])  # [rounds, N]
        rows.append((name + (" (baseline)" if name == BASELINE else ""), f"{med:.2f}",
                     f"{1e3 * med / len(S):.1f}", f"{base / med:.2f}x",
                     f"{values.mean():.4f}",
                     *(f"{values[:, kinds == c].mean():.4f}" for c in columns)))
    for name, (seconds, values) in extras.items():
        rows.append((name, f"{seconds:.2f}", f"{1e3 * seconds / len(S):.1f}",
                     f"{base / seconds:.2f}x", f"{values.mean():.4f}",
                     *(f"{values[kinds == c].mean():.4f}" for c in columns)))
    print(f"\n{args.repeats} alternating rounds, {len(S)} clips (spectral convergence: mean "
          f"over clips and rounds, lower is better):")
    print(table(rows, ("method", "median s", "ms/clip", "speed vs librosa", "SC all",
                       *(f"SC {c}" for c in columns))))
    random_name = f"GL random start, {iters} it."
    random_sc = np.stack(sc[random_name]).mean()
    random_time = statistics.median(times[random_name])
    for name in ["PGHI alone"] + [f"PGHI + {k} it." for k in pghi_iters if k]:
        print(f"{name}: SC {np.stack(sc[name]).mean():.4f} vs {random_sc:.4f} from a random "
              f"start with {iters} iterations, "
              f"{random_time / statistics.median(times[name]):.2f}x its speed")
    for k in [0] + [k for k in pghi_iters if k]:  # the locked start (default) against PGHI
        lock, pghi = (("locked alone", "PGHI alone") if k == 0
                      else (f"locked + {k} it.", f"PGHI + {k} it."))
        ratio = np.stack(sc[lock]).mean() / np.stack(sc[pghi]).mean()
        print(f"{lock}: SC {ratio:.2f}x PGHI's with as many iterations (target: at most "
              f"1.25x), {statistics.median(times[pghi]) / statistics.median(times[lock]):.2f}x "
              f"its speed")


if __name__ == "__main__":
    main()
