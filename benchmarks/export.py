"""Exported generators: size, per-sound latency and the sound's consistency, beside Python.

    python benchmarks/export.py                                  # tiny preset, untrained
    python benchmarks/export.py --preset specgan --repeats 10
    python benchmarks/export.py --run runs/drums --run runs/notes --run runs/speech

For each model (a preset with random weights and plausible statistics, or a trained run
folder: give ``--run`` several times) this exports every format and quantisation with
``keras_soundgan.export.export_model`` (both signatures; ONNX once per signature, since
an ONNX file has one graph) and measures, for one sound at a time (batch 1), the median
latency over ``--repeats`` calls after two warm-up calls:

* ``spectrogram``: noise -> normalised spectrogram image;
* ``waveform``: noise -> audio, with the audio inverse (the locked initial phase and
  the preset's Griffin-Lim iterations) inside the artifact.

Everything runs on one thread: LiteRT ``Interpreter(num_threads=1)``, ONNX Runtime
``intra_op_num_threads=1``, TensorFlow (Keras and SavedModel) with one intra-op and one
inter-op thread. The Python rows are the model itself in the same process:
``model.generate(1, z=z)`` and ``model.spectrogram_transform().inverse(images)``, from
the default locked phase (what every export computes too) and, as the reference the
exports are held to, from PGHI (``phase_init="pghi"``, the Python default before the
locked phase). The row "LiteRT float32, random start" is the export as it was before
(one constant random phase baked into the graph): the latency to keep. The web page
runs the float32 ``.tflite`` with a batch of one (its latency in the browser:
``benchmarks/web.py``; its sound equals LiteRT's, tests/test_web.py).

Columns: size and its ratio to the float32 ``.tflite``; latencies and their ratio to
Python's (below 1 is faster); ``spec err``, the largest difference of the images from
Keras's; ``SC``, the spectral convergence of each format's sounds against the magnitude
of its own images (``||S - |STFT(y)||| / ||S||``, smaller is better, averaged over
``--quality`` sounds, after the gain that fits best: the peak limit is a level, not a
phase; quantised images differ a little from Keras's), and ``/PGHI``, that
SC divided by the Python PGHI row's (the target: at most 1.25); ``max diff``, the
largest sample difference from Python's default sounds (peak-limited as the exports
limit them). The last lines give the size ratios that the int8 target (at most 30% of
float32) is about: the waveform file holds float32 DFT tables that quantisation leaves
alone, so the spectrogram-only file shows the generator's own ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "tensorflow"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

from _tables import table  # noqa: E402  (benchmarks/_tables.py)

from keras_soundgan.export import export_model  # noqa: E402


def build_model(preset: str | None, run: str | None):
    import keras

    from keras_soundgan import SoundGAN, SoundGANConfig
    from keras_soundgan.runs import load_run

    if run:
        model = load_run(run)
        return model, f"{run} (`{model.config.name}` preset, trained)"
    keras.utils.set_random_seed(0)
    model = SoundGAN(SoundGANConfig.from_preset(preset))
    height = model.config.spectrogram.height
    model.set_spectrogram_statistics(np.linspace(-2.0, -6.0, height).astype("float32"),
                                     np.full(height, 1.5, "float32"))
    return model, f"{preset} (untrained)"


def timed(fn, repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` calls, after two warm-up calls."""
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def spectral_convergence(model, audio, images) -> float:
    """Mean over sounds of ``||S - g |STFT(y)||| / ||S||``, ``g`` the gain that fits
    best: the exports limit each sound's peak to 1 (as the WAV writer does), a level
    that says nothing of the phase, and trained generators make sounds far above 1."""
    transform = model.spectrogram_transform()
    eps = model.config.spectrogram.log_eps
    n = len(audio)
    target = np.maximum(np.exp(transform.denormalize(images)) - eps, 0.0).reshape(n, -1)
    got = np.maximum(np.exp(transform.log_magnitude(audio)) - eps, 0.0).reshape(n, -1)
    gain = np.sum(got * target, axis=1) / np.maximum(np.sum(got * got, axis=1), 1e-30)
    return float(np.mean(np.linalg.norm(gain[:, None] * got - target, axis=1)
                         / np.linalg.norm(target, axis=1)))


def limit_peak(audio):
    return audio / np.maximum(np.max(np.abs(audio), axis=1, keepdims=True), 1.0)


def labels_for(model, n):
    return None if not model.num_classes else np.arange(n, dtype=np.int32) % model.num_classes


def measure(model, name, args, folder: Path) -> list[str]:
    """Exports ``model`` in every format and returns the table's lines."""
    from ai_edge_litert.interpreter import Interpreter

    spec = model.config.spectrogram
    n_iter = spec.griffin_lim_iters
    transform = model.spectrogram_transform()
    z1, zq = model.latent(1, seed=0), model.latent(args.quality, seed=1)
    y1, yq = labels_for(model, 1), labels_for(model, args.quality)
    feed1 = {"z": z1} if y1 is None else {"z": z1, "label": y1}
    feedq = {"z": zq} if yq is None else {"z": zq, "label": yq}
    images_q = model.generate(args.quality, z=zq, labels=yq)
    python_audio = limit_peak(transform.inverse(images_q))

    rows, references = [], {}

    def row(label, size, t_spec, t_wave, images, audio):
        sc = spectral_convergence(model, audio, images)
        err = float(np.max(np.abs(images - images_q)))
        diff = float(np.max(np.abs(limit_peak(audio) - python_audio)))
        rows.append([label, size, t_spec, t_wave, err, sc, diff])
        references.setdefault(label, (t_spec, t_wave, sc))

    t_spec = timed(lambda: model.generate(1, z=z1, labels=y1), args.repeats)
    for phase_init in ("lock", "pghi"):
        t_wave = timed(lambda: transform.inverse(model.generate(1, z=z1, labels=y1),
                                                 phase_init=phase_init), args.repeats)
        label = "Python" if phase_init == "lock" else "Python, PGHI start"
        row(label, model.generator.count_params() * 4, t_spec, t_wave, images_q,
            transform.inverse(images_q, phase_init=phase_init))

    sizes = {}
    variants = [(None, None), ("float16", None), ("dynamic-int8", None), ("int8", None),
                (None, "random")]
    for quantize, initial_phase in variants:
        label = (quantize or "float32") + ("-random" if initial_phase else "")
        path = export_model(model, folder / f"model-{label}.tflite", quantize=quantize,
                            initial_phase=initial_phase)
        spec_only = export_model(model, folder / f"spectrogram-{label}.tflite",
                                 quantize=quantize, signature="spectrogram")
        sizes[label] = (size_of(path), size_of(spec_only))
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        spectrogram = interpreter.get_signature_runner("spectrogram")
        waveform = interpreter.get_signature_runner("waveform")
        t_spec = timed(lambda: spectrogram(**feed1), args.repeats)
        t_wave = timed(lambda: waveform(**feed1), args.repeats)
        title = (f"LiteRT {quantize or 'float32'}"
                 + (", random start (before)" if initial_phase else ""))
        row(title, size_of(path), t_spec, t_wave, spectrogram(**feedq)["spectrogram"],
            waveform(**feedq)["waveform"])

    path = export_model(model, folder / "saved_model", format="saved_model")
    loaded = tf.saved_model.load(str(path))
    sm_spec, sm_wave = loaded.signatures["spectrogram"], loaded.signatures["waveform"]
    tensors1 = {k: tf.constant(v) for k, v in feed1.items()}
    tensorsq = {k: tf.constant(v) for k, v in feedq.items()}
    row("SavedModel", size_of(path), timed(lambda: sm_spec(**tensors1), args.repeats),
        timed(lambda: sm_wave(**tensors1), args.repeats),
        sm_spec(**tensorsq)["spectrogram"].numpy(), sm_wave(**tensorsq)["waveform"].numpy())

    try:
        import onnxruntime
    except ImportError:
        onnxruntime = None
    if onnxruntime is not None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        sessions = {}
        for signature in ("spectrogram", "waveform"):
            path = export_model(model, folder / f"{signature}.onnx", format="onnx",
                                signature=signature)
            sessions[signature] = (onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]), size_of(path))
        spec_session, wave_session = sessions["spectrogram"][0], sessions["waveform"][0]
        row("ONNX Runtime", sessions["waveform"][1],
            timed(lambda: spec_session.run(["spectrogram"], feed1), args.repeats),
            timed(lambda: wave_session.run(["waveform"], feed1), args.repeats),
            spec_session.run(["spectrogram"], feedq)[0], wave_session.run(["waveform"], feedq)[0])

    python_spec, python_wave, _ = references["Python"]
    pghi_sc = references["Python, PGHI start"][2]
    float_size = sizes["float32"][0]
    lines = [f"\n{name}: {spec.height}x{spec.width} images, {spec.slice_length} samples at "
             f"{spec.sample_rate} Hz, n_fft {spec.n_fft}, hop {spec.hop_length}, "
             f"{n_iter} Griffin-Lim iterations, generator "
             f"{model.generator.count_params():,} parameters; one thread, batch 1, median "
             f"of {args.repeats}; SC over {args.quality} sounds\n"]
    lines.append(table(
        [[label, f"{size / 1e6:.2f}MB", f"{size / float_size:.2f}", f"{ts * 1e3:.2f}ms",
          f"{ts / python_spec:.3f}", f"{tw * 1e3:.1f}ms", f"{tw / python_wave:.3f}",
          f"{err:.1e}", f"{sc:.4f}", f"{sc / pghi_sc:.2f}", f"{diff:.1e}"]
         for label, size, ts, tw, err, sc, diff in rows],
        ["", "size", "/f32", "spectrogram", "/Python", "waveform", "/Python", "spec err",
         "SC", "/PGHI", "max diff"]))
    lines.append("")
    for label, (both, spec_only) in sizes.items():
        if not label.endswith("-random"):
            lines.append(f"LiteRT {label:13s} size / float32: both signatures "
                         f"{both / float_size:.3f}, spectrogram only "
                         f"{spec_only / sizes['float32'][1]:.3f} ({spec_only / 1e6:.2f} MB)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", action="append", default=None,
                        help="a preset with untrained weights (repeatable; default tiny)")
    parser.add_argument("--run", action="append", default=[],
                        help="a trained run folder (repeatable)")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quality", type=int, default=8,
                        help="sounds for the spectral convergence")
    parser.add_argument("--keep", default=None, help="keep the artifacts in this folder")
    args = parser.parse_args()
    sources = [(None, run) for run in args.run]
    sources += [(preset, None) for preset in (args.preset or ([] if args.run else ["tiny"]))]
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="export_bench_"))
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    for index, (preset, run) in enumerate(sources):
        model, name = build_model(preset, run)
        folder = root / f"{index}-{Path(run or preset).name}"  # run folders may share a name
        folder.mkdir(parents=True, exist_ok=True)
        print("\n".join(measure(model, name, args, folder)), flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}; artifacts in {root}")


if __name__ == "__main__":
    main()
