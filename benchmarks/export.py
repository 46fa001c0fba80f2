"""Exported generators: file size and per-sound latency on one thread, beside Keras.

    python benchmarks/export.py                       # tiny preset, untrained weights
    python benchmarks/export.py --preset specgan --repeats 10
    python benchmarks/export.py --run runs/tiny-20250101-120000

For one model (a preset with random weights and plausible statistics, or a trained run)
this exports every format and quantisation with ``keras_soundgan.export.export_model``
(both signatures; ONNX once per signature, since an ONNX file has one graph) and
measures, for one sound at a time (batch 1), the median latency over ``--repeats``
calls after two warm-up calls:

* ``spectrogram``: noise -> normalised spectrogram image;
* ``waveform``: noise -> audio, with the audio inverse (Griffin-Lim, the preset's
  iterations) inside the artifact.

Everything runs on one thread: LiteRT ``Interpreter(num_threads=1)``, ONNX Runtime
``intra_op_num_threads=1``, TensorFlow (Keras and SavedModel) with one intra-op and one
inter-op thread. The Keras rows are the model itself in the same process:
``model.generate(1, z=z)`` and ``model.spectrogram_transform().inverse(images)``. The
Keras "size" is the generator's float32 weights (``count_params() * 4``), not the
``.keras`` file (which also holds the discriminator and the optimizer).

Columns: size and its ratio to the float32 ``.tflite``; latencies and their ratio to
Keras's (below 1 is faster); ``spec err``, the largest difference of the images from
Keras's; ``SC``, the spectral convergence of the sounds against the magnitude the
images ask for (``||S - |STFT(y)||| / ||S||``, smaller is better, averaged over
``--quality`` sounds); the Keras row's SC is the Python inverse's. The last lines give
the size ratios that the int8 target (at most 30% of float32) is about: the waveform
file holds float32 DFT tables that quantisation leaves alone, so the spectrogram-only
file shows the generator's own ratio.
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

from keras_soundgan.export import export_model  # noqa: E402


def build_model(preset: str | None, run: str | None):
    import keras

    from keras_soundgan import SoundGAN, SoundGANConfig
    from keras_soundgan.runs import load_run

    if run:
        return load_run(run), Path(run).name
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
    transform = model.spectrogram_transform()
    eps = model.config.spectrogram.log_eps
    target = np.maximum(np.exp(transform.denormalize(images)) - eps, 0.0)
    got = np.maximum(np.exp(transform.log_magnitude(audio)) - eps, 0.0)
    n = len(audio)
    return float(np.mean(np.linalg.norm((got - target).reshape(n, -1), axis=1)
                         / np.linalg.norm(target.reshape(n, -1), axis=1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--run", default=None, help="a trained run folder instead")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--quality", type=int, default=8,
                        help="sounds for the spectral convergence")
    parser.add_argument("--keep", default=None, help="keep the artifacts in this folder")
    args = parser.parse_args()

    model, name = build_model(args.preset, args.run)
    spec = model.config.spectrogram
    n_iter = spec.griffin_lim_iters
    transform = model.spectrogram_transform()
    z1 = model.latent(1, seed=0)
    zq = model.latent(args.quality, seed=1)
    images_q = model.generate(args.quality, z=zq)
    keras_audio = transform.inverse(images_q, n_iter=n_iter)

    rows = []
    keras_spec = timed(lambda: model.generate(1, z=z1), args.repeats)
    keras_wave = timed(lambda: transform.inverse(model.generate(1, z=z1), n_iter=n_iter),
                       args.repeats)
    keras_bytes = model.generator.count_params() * 4
    rows.append(("Keras (TF backend)", keras_bytes, keras_spec, keras_wave, 0.0,
                 spectral_convergence(model, keras_audio, images_q)))

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="export_bench_"))
    folder.mkdir(parents=True, exist_ok=True)
    from ai_edge_litert.interpreter import Interpreter

    sizes = {}
    for quantize in (None, "float16", "dynamic-int8", "int8"):
        label = quantize or "float32"
        path = export_model(model, folder / f"model-{label}.tflite", quantize=quantize)
        spec_only = export_model(model, folder / f"spectrogram-{label}.tflite",
                                 quantize=quantize, signature="spectrogram")
        sizes[label] = (size_of(path), size_of(spec_only))
        interpreter = Interpreter(model_path=str(path), num_threads=1)
        spectrogram = interpreter.get_signature_runner("spectrogram")
        waveform = interpreter.get_signature_runner("waveform")
        t_spec = timed(lambda: spectrogram(z=z1), args.repeats)
        t_wave = timed(lambda: waveform(z=z1), args.repeats)
        err = float(np.max(np.abs(spectrogram(z=zq)["spectrogram"] - images_q)))
        sc = spectral_convergence(model, waveform(z=zq)["waveform"], images_q)
        rows.append((f"LiteRT {label}", size_of(path), t_spec, t_wave, err, sc))

    path = export_model(model, folder / "saved_model", format="saved_model")
    loaded = tf.saved_model.load(str(path))
    sm_spec, sm_wave = loaded.signatures["spectrogram"], loaded.signatures["waveform"]
    t_spec = timed(lambda: sm_spec(z=tf.constant(z1)), args.repeats)
    t_wave = timed(lambda: sm_wave(z=tf.constant(z1)), args.repeats)
    err = float(np.max(np.abs(sm_spec(z=tf.constant(zq))["spectrogram"].numpy() - images_q)))
    sc = spectral_convergence(model, sm_wave(z=tf.constant(zq))["waveform"].numpy(), images_q)
    rows.append(("SavedModel", size_of(path), t_spec, t_wave, err, sc))

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
        t_spec = timed(lambda: spec_session.run(["spectrogram"], {"z": z1}), args.repeats)
        t_wave = timed(lambda: wave_session.run(["waveform"], {"z": z1}), args.repeats)
        err = float(np.max(np.abs(spec_session.run(["spectrogram"], {"z": zq})[0] - images_q)))
        sc = spectral_convergence(model, wave_session.run(["waveform"], {"z": zq})[0], images_q)
        rows.append(("ONNX Runtime", sessions["waveform"][1], t_spec, t_wave, err, sc))

    float_size = sizes["float32"][0]
    print(f"\n{name}: {spec.height}x{spec.width} images, {spec.slice_length} samples at "
          f"{spec.sample_rate} Hz, {n_iter} Griffin-Lim iterations, generator "
          f"{model.generator.count_params():,} parameters; one thread, batch 1, median of "
          f"{args.repeats}\n")
    header = (f"{'':20s} {'size':>10s} {'/f32':>6s} {'spectrogram':>12s} {'/Keras':>7s} "
              f"{'waveform':>10s} {'/Keras':>7s} {'spec err':>9s} {'SC':>7s}")
    print(header)
    print("-" * len(header))
    for label, size, t_spec, t_wave, err, sc in rows:
        print(f"{label:20s} {size / 1e6:8.2f}MB {size / float_size:6.2f} "
              f"{t_spec * 1e3:10.2f}ms {t_spec / keras_spec:7.3f} "
              f"{t_wave * 1e3:8.2f}ms {t_wave / keras_wave:7.3f} {err:9.1e} {sc:7.4f}")
    print()
    for label, (both, spec_only) in sizes.items():
        print(f"LiteRT {label:13s} size / float32: both signatures "
              f"{both / sizes['float32'][0]:.3f}, spectrogram only "
              f"{spec_only / sizes['float32'][1]:.3f} ({spec_only / 1e6:.2f} MB)")
    print(f"\nartifacts in {folder}")


if __name__ == "__main__":
    main()
