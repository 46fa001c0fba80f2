"""Preprocessing throughput: keras_soundgan's front end vs a pure-librosa pipeline.

    python benchmarks/preprocess.py                      # 200 synthetic WAVs, 9 rounds
    python benchmarks/preprocess.py --files 400 --repeats 3
    python benchmarks/preprocess.py --rates 16000        # no resampling: STFT-bound case
    python benchmarks/preprocess.py --dir ~/samples      # a real folder (read-only)

Both pipelines do the same work on the same files, with the specgan preset's
spectrogram settings (16 kHz, 16384-sample slices, n_fft 256, hop 128, 128x128 images):

    decode -> mono -> resample to 16 kHz -> slice (first 16384 samples, zero-padded)
    -> |STFT| (centred, constant padding, periodic Hann, Nyquist bin dropped, first
    128 frames) -> log(. + 1e-6) -> per-bin mean/std over all clips and frames
    -> (x - mean) / (3 std), clipped to [-1, 1]

* keras_soundgan: ``keras_soundgan.audio.io.decode_audio`` per file (libsndfile, channel
  mean, soxr's HQ resampler as ``librosa.resample(res_type="soxr_hq")``; plain soundfile +
  that resampler
  when io.py is not importable), then the whole batch through
  ``SpectrogramTransform.adapt`` and ``SpectrogramTransform.forward`` (TensorFlow graphs).
* librosa (the baseline): ``librosa.load(path, sr=16000)`` per file (mono, soxr_hq),
  ``librosa.stft`` per clip, NumPy log, statistics and normalisation.
* keras-soundgan preprocess (build_cache), N workers: the package's own path, what
  ``keras-soundgan preprocess --workers N`` runs: N processes decode and resample the
  files while the main one computes the spectrograms into the cache; one contender per
  count of ``--workers`` (default: 1 and every core). Their caches must be identical,
  byte for byte. The worker processes start once, in the warm-up call (its time is
  printed), and are reused by the timed rounds, as by every later build in a process.

The contenders run alternately, R rounds (the order rotates every round), on a machine
whose cores are shared, so only ratios measured in the same run mean anything. The
script prints the median and min wall time of each, its throughput in seconds of
(source) audio per second, the ratio of medians against librosa, the CPU seconds of
each (this process and its worker processes: what the work costs, whatever share of
the cores a shared machine lends), a per-stage profile,
the largest differences between the two pipelines' outputs (equal quality), and a few
keras_soundgan variants that show what would make it faster (one STFT pass instead of
two, threaded decoding, decoding only the first slice's worth of each file, a faster
stereo mix-down), a librosa pipeline given the same decoding tricks, and the spectral
stage alone (decoded slices in memory -> images) for four implementations.

Nothing is downloaded: the default corpus is generated into a temporary folder
(``--files`` WAVs of 1-2 s at 22.05 and 44.1 kHz, mono and stereo, 16-bit PCM, tones
plus noise) and deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import os
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from _tables import table  # noqa: E402  (benchmarks/_tables.py)

BASELINE = "librosa"
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".au", ".caf", ".w64", ".rf64")


# -- corpus ------------------------------------------------------------------------------

PACKAGE = "keras-soundgan preprocess (build_cache)"


def make_corpus(folder: str, n_files: int, rates, min_s: float, max_s: float,
                seed: int) -> list[str]:
    """Writes ``n_files`` synthetic WAVs (tones + noise) and returns their paths."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n_files):
        rate = rates[i % len(rates)]
        channels = 1 + (i // len(rates)) % 2  # every rate gets mono and stereo files
        n = int(rate * rng.uniform(min_s, max_s))
        t = np.arange(n) / rate
        f0 = rng.uniform(55.0, 1500.0)
        tone = sum(rng.uniform(0.1, 0.4) / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6.3))
                   for k in range(1, 5) if k * f0 < 7000)
        envelope = np.exp(-t * rng.uniform(0.5, 4.0))
        x = (tone * envelope)[:, None] + rng.normal(0, 0.02, (n, channels))
        x = x / max(1.0, float(np.abs(x).max()) / 0.9)
        path = os.path.join(folder, f"clip_{i:05d}.wav")
        sf.write(path, x.astype(np.float32), rate, subtype="PCM_16")
        paths.append(path)
    return paths


def list_folder(folder: str) -> list[str]:
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        paths += [os.path.join(root, f) for f in sorted(files)
                  if not f.startswith(".") and f.lower().endswith(AUDIO_SUFFIXES)]
    return paths


def source_seconds(paths) -> float:
    return sum(sf.info(p).duration for p in paths)


# -- shared pieces -------------------------------------------------------------------------


class Stages:
    """Accumulates wall time per named stage."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def slice_clip(y: np.ndarray, length: int, mode: str) -> np.ndarray:
    """``[k, length]``: the first slice ("first") or every slice at 50 % overlap ("all");
    a short clip or tail is zero-padded (the same rule for both pipelines)."""
    n = len(y)
    if mode == "first" or n <= length:
        starts = [0]
    else:
        hop = length // 2
        starts = list(range(0, n - length + hop, hop))
        starts = [s for s in starts if s < n]
    needed = starts[-1] + length
    if needed > n:
        y = np.pad(y, (0, needed - n))
    return np.stack([y[s:s + length] for s in starts]).astype(np.float32, copy=False)


def _soundfile_decode(path, sample_rate, *, duration=None, matmul_mono=False):
    """decode_audio's recipe with soundfile directly (used when io.py cannot be imported).

    ``matmul_mono``: mix the channels down as ``data @ [1/c, ..., 1/c]`` instead of
    ``data.mean(axis=1)``, which NumPy computes as a slow strided reduction over the
    interleaved ``[frames, channels]`` array (about 40x slower for stereo).
    """
    import librosa

    with sf.SoundFile(path) as f:
        rate = f.samplerate
        frames = -1 if duration is None else int(math.ceil(duration * rate))
        data = f.read(frames=frames, dtype="float32", always_2d=True)
    channels = data.shape[1]
    if channels == 1:
        audio = data[:, 0]
    elif matmul_mono:
        audio = data @ np.full(channels, 1.0 / channels, np.float32)
    else:
        audio = data.mean(axis=1, dtype=np.float32)
    if rate != sample_rate:
        audio = librosa.resample(audio, orig_sr=rate, target_sr=sample_rate, res_type="soxr_hq")
    return np.ascontiguousarray(audio, dtype=np.float32)


def get_decoder():
    try:
        from keras_soundgan.audio.io import decode_audio
        return decode_audio, "keras_soundgan.audio.io.decode_audio"
    except Exception as e:  # noqa: BLE001 - io.py is optional here
        print(f"note: keras_soundgan.audio.io not importable ({type(e).__name__}: {e}); "
              "decoding with soundfile + librosa.resample(soxr_hq)", file=sys.stderr)
        return _soundfile_decode, "soundfile + librosa.resample(soxr_hq)"


# -- the pipelines -------------------------------------------------------------------------


def ksg_spectral(waves, config, *, one_pass=False, stages=None):
    """waves [N, L] -> images through SpectrogramTransform (public API only)."""
    from keras_soundgan.audio.spectral import STD_FLOOR, SpectrogramTransform

    st = stages or Stages()
    if one_pass:  # one log_magnitude call, statistics in NumPy, then normalize
        with st("log |STFT|"):
            logmag = SpectrogramTransform(config).log_magnitude(waves)
        with st("stats"):
            mean = logmag.mean(axis=(0, 2), dtype=np.float64)
            std = np.maximum(logmag.std(axis=(0, 2), dtype=np.float64), STD_FLOOR)
            transform = SpectrogramTransform(config, mean=mean, std=std)
        with st("normalise"):
            images = transform.normalize(logmag)
    else:  # what the package does: adapt, then forward (two STFT passes)
        with st("adapt (log |STFT| + stats)"):
            transform = SpectrogramTransform(config).adapt(waves)
        with st("forward (log |STFT| + normalise)"):
            images = transform.forward(waves)
    return {"waves": waves, "images": images, "mean": transform.mean, "std": transform.std}


def librosa_spectral(waves, config, *, batched=False, stages=None):
    """waves [N, L] -> images with librosa.stft (per clip, or one call) and NumPy."""
    import librosa

    st = stages or Stages()
    kwargs = dict(n_fft=config.n_fft, hop_length=config.hop_length, win_length=config.n_fft,
                  window="hann", center=True, pad_mode="constant")
    height, width = config.height, config.width
    with st("log |STFT|"):
        if batched:
            spec = librosa.stft(waves, **kwargs)[:, :height, :width]
            logmag = np.log(np.abs(spec) + config.log_eps)
        else:
            logmag = np.empty((len(waves), height, width), np.float32)
            for i, y in enumerate(waves):
                spec = librosa.stft(y, **kwargs)
                logmag[i] = np.log(np.abs(spec[:height, :width]) + config.log_eps)
    with st("stats"):
        mean = logmag.mean(axis=(0, 2), dtype=np.float64)
        std = np.maximum(logmag.std(axis=(0, 2), dtype=np.float64), 1e-5)
    with st("normalise"):
        scale = (config.clip_std * std)[:, None]
        images = np.clip((logmag - mean[:, None]) / scale, -1.0, 1.0).astype(np.float32)[..., None]
    return {"waves": waves, "images": images, "mean": mean.astype(np.float32),
            "std": std.astype(np.float32), "logmag": logmag}


def _map(fn, items, threads):
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(fn, items))
    return [fn(x) for x in items]


def ksg_pipeline(paths, config, decode, mode, *, one_pass=False, threads=0,
                 first_only=False, stages=None):
    """keras_soundgan: decode_audio per file, then the batch through the transform."""
    st = stages or Stages()
    sr, length = config.sample_rate, config.slice_length
    # A little more than one slice keeps the resampler's end effects out of the slice.
    duration = (length / sr + 0.05) if first_only else None
    with st("decode+resample"):
        decoded = _map(lambda p: decode(p, sr, duration=duration) if duration else decode(p, sr),
                       paths, threads)
    with st("slice"):
        waves = np.concatenate([slice_clip(y, length, mode) for y in decoded])
    return ksg_spectral(waves, config, one_pass=one_pass, stages=st)


def librosa_pipeline(paths, config, mode, *, threads=0, first_only=False, stages=None):
    """Pure librosa/NumPy: librosa.load, librosa.stft per clip, NumPy statistics."""
    import librosa

    st = stages or Stages()
    sr, length = config.sample_rate, config.slice_length
    duration = (length / sr + 0.05) if first_only else None
    with st("decode+resample"):  # mono=True, res_type="soxr_hq" (librosa's default)
        decoded = _map(lambda p: librosa.load(p, sr=sr, mono=True, duration=duration)[0],
                       paths, threads)
    with st("slice"):
        waves = np.concatenate([slice_clip(y, length, mode) for y in decoded])
    return librosa_spectral(waves, config, stages=st)


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its living child processes (the
    decoding workers, which a shared machine lends CPU to unevenly: their CPU time is
    what the work costs, whatever the load). Children are read from /proc (Linux)."""
    total = time.process_time()
    me, tick = str(os.getpid()), os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def interleave(contenders, repeats, label, cpu=None):
    """Runs every contender once per round, rotating the order; returns times, stages
    (and fills ``cpu``, when given, with each run's CPU seconds)."""
    names = list(contenders)
    times = {n: [] for n in names}
    stages = {n: [] for n in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            st = Stages()
            c0 = cpu_seconds() if cpu is not None else 0.0
            t0 = time.perf_counter()
            contenders[name](st)
            times[name].append(time.perf_counter() - t0)
            if cpu is not None:
                cpu.setdefault(name, []).append(cpu_seconds() - c0)
            stages[name].append(st.seconds)
        print(f"  {label} round {r + 1}/{repeats}: " +
              ", ".join(f"{n} {times[n][-1]:.3f}" for n in names), flush=True)
    return times, stages


# -- reporting -------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200, help="synthetic files (default 200)")
    parser.add_argument("--dir", default=None, help="use the audio files under this folder instead")
    parser.add_argument("--rates", default="22050,44100",
                        help="sample rates of the synthetic files (default 22050,44100)")
    parser.add_argument("--min-seconds", type=float, default=1.0)
    parser.add_argument("--max-seconds", type=float, default=2.0)
    parser.add_argument("--slicing", choices=("first", "all"), default="first",
                        help="one slice per file (default) or all slices at 50%% overlap")
    parser.add_argument("--repeats", "-R", type=int, default=9, help="rounds (default 9)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="decoder threads of the threaded variants (default: all cores)")
    parser.add_argument("--workers", default=None,
                        help="comma-separated worker counts of build_cache to time, each a "
                             "contender (default: 1 and every core, e.g. 1,2)")
    parser.add_argument("--no-variants", action="store_true",
                        help="time only keras_soundgan and librosa (no variants, no "
                             "spectral-stage section)")
    parser.add_argument("--tolerance", type=float, default=1e-2,
                        help="max |image difference| accepted as equal (default 1e-2; images "
                             "are in [-1, 1])")
    parser.add_argument("--rtol", type=float, default=1e-5,
                        help="max |STFT| difference accepted, relative to the clip's peak "
                             "(default 1e-5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    warnings.filterwarnings("ignore", category=UserWarning)
    import librosa
    import tensorflow as tf

    from keras_soundgan.audio.spectral import SpectrogramTransform
    from keras_soundgan.config import SoundGANConfig

    config = SoundGANConfig.from_preset("specgan").spectrogram
    decode, decoder_name = get_decoder()
    first = args.slicing == "first"
    k = args.threads

    with tempfile.TemporaryDirectory(prefix="ksg_preprocess_") as tmp:
        if args.dir:
            paths = list_folder(args.dir)
            if not paths:
                sys.exit(f"no audio files ({', '.join(AUDIO_SUFFIXES)}) under {args.dir!r}")
            corpus = f"{len(paths)} files under {args.dir}"
        else:
            rates = [int(r) for r in args.rates.split(",")]
            t0 = time.perf_counter()
            paths = make_corpus(tmp, args.files, rates, args.min_seconds, args.max_seconds,
                                args.seed)
            corpus = (f"{len(paths)} synthetic WAVs (16-bit, {args.min_seconds:g}-"
                      f"{args.max_seconds:g} s, {'/'.join(str(r) for r in rates)} Hz, "
                      f"mono+stereo; written in {time.perf_counter() - t0:.1f} s)")
        audio_s = source_seconds(paths)
        corpus_bytes = sum(os.path.getsize(p) for p in paths)

        def ksg(**kw):
            return lambda st=None: ksg_pipeline(paths, config, decode, args.slicing,
                                                stages=st, **kw)

        def lib(**kw):
            return lambda st=None: librosa_pipeline(paths, config, args.slicing, stages=st, **kw)

        # The package's own preprocessing: `keras-soundgan preprocess`, i.e. build_cache
        # (streams files, reads only what "first" slicing needs, one STFT pass, writes the
        # cache). Measured against the same librosa baseline.
        from keras_soundgan.audio.cache import build_cache

        full_config = SoundGANConfig.from_preset("specgan").with_overrides(
            {"data.slicing": args.slicing, "data.min_rms": 0.0})
        cache_root = tempfile.mkdtemp(prefix="ksg_cache_")
        source_dir = args.dir or tmp

        from keras_soundgan.audio.io import PARALLEL_MIN_BYTES, default_workers

        worker_counts = sorted({int(w) for w in args.workers.split(",")} if args.workers
                               else {1, default_workers()})

        def package_preprocess(workers):
            def run(st=None):
                cache = build_cache(source_dir, os.path.join(cache_root, f"cache{workers}"),
                                    full_config, workers=workers)
                return {"images": cache.images(),
                        "bytes": open(cache.directory / "log_magnitude.f32", "rb").read()}
            return run

        packages = {f"{PACKAGE}, {w} worker{'s' if w > 1 else ''}": package_preprocess(w)
                    for w in worker_counts}
        contenders = {"keras_soundgan": ksg(), BASELINE: lib(), **packages}
        if not args.no_variants:
            contenders["ksg: one STFT pass"] = ksg(one_pass=True)
            contenders[f"ksg: {k} decode threads"] = ksg(threads=k)
            if first:
                contenders["ksg: decode 1st slice only"] = ksg(first_only=True)
            fast_decode = functools.partial(_soundfile_decode, matmul_mono=True)
            contenders["ksg: matmul mono mix-down"] = lambda st=None: ksg_pipeline(
                paths, config, fast_decode, args.slicing, stages=st)
            contenders["ksg: all of the above"] = lambda st=None: ksg_pipeline(
                paths, config, fast_decode, args.slicing, one_pass=True, threads=k,
                first_only=first, stages=st)
            # The decoding tricks are not specific to keras_soundgan: the same for librosa.
            label = f"librosa: {k} threads" + (" + 1st slice only" if first else "")
            contenders[label] = lib(threads=k, first_only=first)

        print(f"corpus: {corpus}; {audio_s:.1f} s of source audio, "
              f"{corpus_bytes / 2**20:.1f} MB")
        if corpus_bytes < PARALLEL_MIN_BYTES and max(worker_counts) > 1:
            print(f"note: below PARALLEL_MIN_BYTES ({PARALLEL_MIN_BYTES / 2**20:.0f} MB) "
                  "build_cache decodes in one process whatever --workers says")
        print(f"config: specgan spectrogram ({config.sample_rate} Hz, slice {config.slice_length}, "
              f"n_fft {config.n_fft}, hop {config.hop_length}, {config.height}x{config.width}); "
              f"slicing={args.slicing}")
        gpus = len(tf.config.list_physical_devices("GPU"))
        print(f"decoder: {decoder_name}; librosa {librosa.__version__}, TF {tf.__version__}, "
              f"{os.cpu_count()} CPU cores visible, GPUs: {gpus}")

        # Warm-up: traces the TF graphs, imports lazily loaded modules, fills the page cache.
        warm, outputs = {}, {}
        for name, run in contenders.items():
            t0 = time.perf_counter()
            outputs[name] = run()
            warm[name] = time.perf_counter() - t0
        print("warm-up (first call, excluded; keras_soundgan's includes tracing the TF graph): "
              + ", ".join(f"{n} {s:.2f} s" for n, s in warm.items()))
        cpu = {}
        times, stage_times = interleave(contenders, args.repeats, "pipelines", cpu)

    names = list(contenders)
    base = statistics.median(times[BASELINE])
    rows = []
    for name in [BASELINE] + [n for n in names if n != BASELINE]:
        med = statistics.median(times[name])
        rows.append((name + (" (baseline)" if name == BASELINE else ""), f"{med:.3f}",
                     f"{min(times[name]):.3f}", f"{audio_s / med:.0f}", f"{base / med:.2f}x"))
    cpu_rows = []
    base_cpu = statistics.median(cpu[BASELINE])
    for name in [BASELINE] + [n for n in names if n != BASELINE]:
        used, wall = statistics.median(cpu[name]), statistics.median(times[name])
        cpu_rows.append((name, f"{used:.3f}", f"{used / wall:.2f}", f"{base_cpu / used:.2f}x"))
    ksg_out, ref = outputs["keras_soundgan"], outputs[BASELINE]
    waves = ksg_out["waves"]
    print(f"\nthroughput: whole pipeline, {args.repeats} alternating rounds, {len(paths)} files "
          f"-> {len(waves)} slices, {audio_s:.1f} s of source audio")
    print(table(rows, ("pipeline", "median s", "min s", "audio s/s", "speed vs librosa")))
    print("\nCPU seconds (this process and its worker processes; median over the rounds):")
    print(table(cpu_rows, ("pipeline", "CPU s", "CPU s / wall s", "librosa CPU / CPU")))

    print("\nwhere the time goes (median seconds per stage over the rounds):")
    for name in ("keras_soundgan", BASELINE):
        per_stage = {key: statistics.median(s[key] for s in stage_times[name])
                     for key in stage_times[name][0]}
        total = statistics.median(times[name])
        print(f"  {name}: " + ", ".join(f"{key} {v:.3f} ({100 * v / total:.0f}%)"
                                        for key, v in per_stage.items()))
    share = statistics.median(s["decode+resample"] for s in stage_times[BASELINE]) / base
    print(f"  decoding+resampling is {100 * share:.0f}% of the librosa pipeline, and the same "
          f"work in both (libsndfile, channel mean, soxr_hq): a spectrogram stage taking no "
          f"time at all would cap the speed-up at {1 / share:.2f}x (Amdahl)")

    # -- the spectral stage alone ---------------------------------------------------------
    if not args.no_variants:
        spectral = {
            "librosa.stft per clip": lambda st=None: librosa_spectral(waves, config, stages=st),
            "ksg adapt + forward": lambda st=None: ksg_spectral(waves, config, stages=st),
            "ksg log_magnitude once": lambda st=None: ksg_spectral(waves, config, one_pass=True,
                                                                   stages=st),
            "librosa.stft batched": lambda st=None: librosa_spectral(waves, config, batched=True,
                                                                     stages=st),
        }
        spectral_out = {n: f() for n, f in spectral.items()}  # warm-up
        repeats = max(args.repeats, 7)
        s_times, s_stages = interleave(spectral, repeats, "spectral")
        s_base = statistics.median(s_times["librosa.stft per clip"])
        rows = []
        for name in spectral:
            med = statistics.median(s_times[name])
            stages = {key: statistics.median(s[key] for s in s_stages[name])
                      for key in s_stages[name][0]}
            diff = np.abs(spectral_out[name]["images"]
                          - spectral_out["librosa.stft per clip"]["images"]).max()
            rows.append((name + (" (baseline)" if name == "librosa.stft per clip" else ""),
                         f"{med:.3f}", f"{min(s_times[name]):.3f}", f"{s_base / med:.2f}x",
                         f"{diff:.1e}",
                         ", ".join(f"{key.split(' (')[0]} {v:.3f}" for key, v in stages.items())))
        print(f"\nspectral stage only (the {len(waves)} decoded slices in memory -> normalised "
              f"images), {repeats} alternating rounds:")
        print(table(rows, ("spectral stage", "median s", "min s", "speed vs librosa",
                           "max |img diff|", "stages (median s)")))

    # -- equal quality ----------------------------------------------------------------------
    ksg_logmag = SpectrogramTransform(config).log_magnitude(waves)
    mag_ksg, mag_ref = np.exp(ksg_logmag), np.exp(ref["logmag"])
    peak = mag_ref.max(axis=(1, 2), keepdims=True)
    relative = (np.abs(mag_ksg - mag_ref) / peak).max()
    image_diff = np.abs(ksg_out["images"] - ref["images"])
    print("\nequal output? |keras_soundgan - librosa|:")
    wave_diff = np.abs(waves - ref["waves"]).max()
    print(f"  waveforms (decode_audio vs librosa.load)  max {wave_diff:.2e}")
    print(f"  |STFT|, relative to each clip's peak      max {relative:.2e}")
    log_diff = np.abs(ksg_logmag - ref["logmag"]).max()
    print(f"  log |STFT|                                max {log_diff:.2e}"
          f"  (largest where |STFT| ~ 1e-5: float32 rounding magnified by the log)")
    mean_diff = np.abs(ksg_out["mean"] - ref["mean"]).max()
    std_diff = np.abs(ksg_out["std"] - ref["std"]).max()
    print(f"  per-bin mean / std                        max {mean_diff:.2e} / {std_diff:.2e}")
    print(f"  normalised images                         max {image_diff.max():.2e}, "
          f"99.99th pct {np.percentile(image_diff, 99.99):.2e}, mean {image_diff.mean():.2e}")
    for name in names[2:]:
        if name in packages:
            continue
        other = "keras_soundgan" if name.startswith("ksg") else BASELINE
        d = np.abs(outputs[name]["images"] - outputs[other]["images"]).max()
        print(f"  images of {name!r} vs {other}: max {d:.2e}")
    package_diff = max(np.abs(outputs[name]["images"] - ref["images"]).max()
                       for name in packages)
    first = next(iter(packages))
    identical = all(outputs[name]["bytes"] == outputs[first]["bytes"] for name in packages)
    print(f"  caches of {', '.join(f'{w}' for w in worker_counts)} workers byte-identical: "
          f"{'yes' if identical else 'NO'}")
    ok = (relative <= args.rtol and image_diff.max() <= args.tolerance
          and package_diff <= args.tolerance and identical)
    print(f"  equal within tolerance (|STFT| {args.rtol:g} of peak, images {args.tolerance:g}): "
          f"{'yes' if ok else 'NO'}")
    if not ok:
        sys.exit(1)

if __name__ == "__main__":
    main()
