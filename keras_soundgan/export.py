"""Ship the generator: SavedModel, LiteRT (``.tflite``) and ONNX, with the audio inside.

:func:`export_model` writes a trained SoundGAN's generator as a standalone artifact
that needs neither Keras nor this package to run. Two signatures (entry points) can
go in it:

* ``spectrogram``: noise ``z [batch, latent_dim]`` -> normalised spectrogram images
  ``[batch, height, width, 1]`` in [-1, 1] (what ``SoundGAN.generate`` returns);
* ``waveform``: noise ``z`` -> audio ``[batch, slice_length]`` float32 at the model's
  sample rate, plus ``sample_rate`` (int32 scalar). The graph holds the whole inverse of
  :class:`~keras_soundgan.audio.spectral.SpectrogramTransform`: de-normalisation with the
  model's statistics, ``exp``, mel -> linear (mel configs) and a fixed number of fast
  Griffin-Lim iterations.

The waveform graph is written with TFLite *builtin* operators only, so the ``.tflite``
file runs with the plain LiteRT runtime on Android and iOS (no Flex delegate):

* STFT: the frames are cut with ``PAD``, ``RESHAPE``, ``STRIDED_SLICE`` and
  ``CONCATENATION`` when ``hop_length`` divides ``n_fft`` (every preset), else with one
  ``GATHER`` over a constant index table; the real DFT is two ``FULLY_CONNECTED``
  products with constant cosine and sine matrices (the Hann window folded in): no
  complex numbers and no FFT op;
* inverse STFT: two ``FULLY_CONNECTED`` products with the inverse real-DFT matrices
  (window folded in), the overlap-add as shifted ``PAD`` + ``ADD`` of hop blocks (or
  ``GATHER`` + ``SUM``), then the exact window-sum-square envelope (a constant ``MUL``),
  as in :mod:`keras_soundgan.audio.spectral`, free last frame included;
* Griffin-Lim and the mel inverse's FISTA steps: ``WHILE`` loops with a fixed trip
  count; the phase is kept as real and imaginary parts, normalised with ``RSQRT``;
* the random initial phase of the Python inverse is replaced by a constant: by default
  the very phase the Python inverse draws for the first sound (``seed=0``), so the
  first sound of a batch equals ``transform.inverse(images)`` to float rounding; every
  sound starts from that same phase pattern (``initial_phase="zero"``: zero phase).

Quantisation (LiteRT) touches the generator, never the audio inverse: ``float16``
stores every constant in float16 (the DFT tables too, which costs nothing measurable);
``dynamic-int8`` stores the generator's weights in int8 and puts the DFT matrices back
in float32 after conversion; ``int8`` quantises the generator's weights and activations
(calibrated on noise) and keeps every op of the inverse in float32.

Metadata travels with the artifact (:func:`export_metadata`): sample rate, latent size
and distribution, slice length, image shape, class names (from a run folder's
``data.json``), the spectrogram config and its statistics, the Griffin-Lim settings and
the signatures. A ``.tflite`` carries it embedded (the model's ``metadata`` table, entry
``keras_soundgan``) and in a sidecar ``<file>.tflite.json``, and its waveform signature
outputs ``sample_rate``; an ONNX file has it in ``metadata_props`` and a sidecar; a
SavedModel in ``assets/keras_soundgan.json``, a ``metadata`` signature and attributes
(``sample_rate``, ``latent_dim``, ``slice_length``, ``latent_distribution``,
``class_names``). The statistics are also inside the waveform graph, as constants.

Export needs the TensorFlow backend. A model trained on JAX or PyTorch is saved to a
``.keras`` file and exported by ``KERAS_BACKEND=tensorflow python -m
keras_soundgan.export`` in a subprocess, which :func:`export_model` does by itself.

Example::

    from keras_soundgan.export import export_model
    export_model("runs/tiny-20250101-120000", "drums.tflite")              # float32
    export_model(model, "drums-int8.tflite", quantize="int8")
    export_model(model, "drums_savedmodel", format="saved_model")
    export_model(model, "drums.onnx", format="onnx", signature="waveform")
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "FORMATS",
    "QUANTIZATIONS",
    "SIGNATURES",
    "INITIAL_PHASES",
    "export_model",
    "export_metadata",
    "litert_metadata",
    "litert_operators",
    "read_metadata",
    "sidecar_path",
]

#: Export formats: a SavedModel folder, a LiteRT ``.tflite`` file, an ONNX file.
FORMATS = ("saved_model", "litert", "onnx")
#: LiteRT quantisations (``None`` is float32).
QUANTIZATIONS = ("float16", "dynamic-int8", "int8")
#: Which entry points to export.
SIGNATURES = ("spectrogram", "waveform", "both")
#: Griffin-Lim's initial phase inside the exported graph.
INITIAL_PHASES = ("random", "zero")
#: Identifies the metadata layout (bumped on incompatible changes).
METADATA_FORMAT = "keras_soundgan.export/1"
#: Name of the metadata asset inside a SavedModel.
METADATA_ASSET = "keras_soundgan.json"
#: Name of the metadata entry inside a ``.tflite`` file.
LITERT_METADATA_NAME = "keras_soundgan"
#: Noise vectors drawn to calibrate int8 quantisation by default.
CALIBRATION_SAMPLES = 128

_SUFFIXES = {"litert": ".tflite", "onnx": ".onnx", "saved_model": ""}
_SYNTHESIS_SCOPE = "synthesis"
#: ONNX opset (onnxruntime 1.17+ runs it; Loop, Gather, MatMul need nothing newer).
ONNX_OPSET = 17
#: Smallest squared modulus when normalising a phase: below it (|x| < 1e-15) the
#: phase is left short of unit modulus instead of dividing by ~0.
_MIN_POWER = 1e-30


# -- the public API --------------------------------------------------------------------------


def export_model(model_or_run_dir, output, format: str = "litert", *, quantize: str | None = None,
                 signature: str = "both", calibration=None, griffin_lim_iters: int | None = None,
                 initial_phase: str = "random", class_names=None,
                 calibration_samples: int = CALIBRATION_SAMPLES, verbose: bool = False) -> Path:
    """Exports a SoundGAN's generator (and, optionally, its audio inverse).

    Args:
        model_or_run_dir: a :class:`~keras_soundgan.SoundGAN`, a run folder (its
            ``model.keras`` is exported and its ``data.json`` gives the class names)
            or a ``.keras`` file.
        output: the file (``litert``: ``.tflite``; ``onnx``: ``.onnx``; the suffix is
            added when missing) or, for ``saved_model``, the folder to write.
        format: ``"litert"`` (default), ``"saved_model"`` or ``"onnx"``.
        quantize: LiteRT only. ``None`` (float32), ``"float16"`` (weights stored as
            float16, computed in float32), ``"dynamic-int8"`` (int8 weights, activations
            quantised on the fly) or ``"int8"`` (int8 weights and activations, ranges
            calibrated on noise; the waveform signature's audio inverse stays float32,
            since 8 bits cannot hold a log-magnitude's range or a phase).
        signature: ``"both"`` (default), ``"spectrogram"`` or ``"waveform"``.
            ONNX has one graph: with ``"both"`` it has both outputs.
        calibration: int8 only. ``None`` or ``"generated"``: ``calibration_samples``
            noise vectors drawn from the model's latent distribution (seeded, so the
            export is reproducible); or an array ``[N, latent_dim]`` of noise to
            calibrate with (or the path of a ``.npy`` file holding one). The
            generator's activation ranges depend on its noise input only, so an array
            of spectrograms is refused (see docs/export.md).
        griffin_lim_iters: Griffin-Lim iterations inside the waveform graph (default:
            the config's ``spectrogram.griffin_lim_iters``).
        initial_phase: ``"random"`` (default: the Python inverse's first phase, baked
            in as a constant) or ``"zero"``.
        class_names: the class names to record in the metadata (default: from the run
            folder's ``data.json``, else none).
        calibration_samples: noise vectors drawn for the default int8 calibration.
        verbose: print TensorFlow's converter output.

    Returns:
        the path written (a ``pathlib.Path``).

    Raises:
        ValueError: an unknown format, quantisation, signature or initial phase; a
            quantisation for a format other than LiteRT; a bad calibration array; a run
            folder without ``model.keras``; a model that is not a SoundGAN.
        RuntimeError: the export subprocess (non-TensorFlow backends) failed.

    Example::

        >>> path = export_model(model, "drums.tflite", quantize="float16")  # doctest: +SKIP
        >>> read_metadata(path)["sample_rate"]                              # doctest: +SKIP
        16000
    """
    format, quantize, signature, initial_phase = _check_options(
        format, quantize, signature, initial_phase)
    if calibration is not None and quantize != "int8":
        raise ValueError(
            f"calibration is used by quantize='int8' only, not quantize={quantize!r}")
    _check_int(calibration_samples, "calibration_samples", 1)
    if griffin_lim_iters is not None:
        _check_int(griffin_lim_iters, "griffin_lim_iters", 0)
    output = _output_path(output, format)
    source, run_class_names = _resolve_source(model_or_run_dir)
    if class_names is None:
        class_names = run_class_names
    class_names = [str(c) for c in (class_names or [])]
    options = dict(format=format, quantize=quantize, signature=signature,
                   griffin_lim_iters=griffin_lim_iters, initial_phase=initial_phase,
                   class_names=class_names, calibration_samples=calibration_samples,
                   verbose=verbose)

    import keras

    if keras.backend.backend() != "tensorflow":
        return _export_in_subprocess(source, output, calibration, options)
    model = _load_model(source)
    if isinstance(calibration, (str, os.PathLike)) and not _is_generated(calibration):
        calibration = _load_calibration_file(calibration)
    return _export_tensorflow(model, output, calibration=calibration, **options)


def export_metadata(model, *, signature: str = "both", format: str = "litert",
                    quantize: str | None = None, griffin_lim_iters: int | None = None,
                    initial_phase: str = "random", class_names=None) -> dict:
    """The metadata written beside and inside an exported artifact (a JSON-ready dict).

    Keys: ``format`` (:data:`METADATA_FORMAT`), ``keras_soundgan_version``,
    ``model_name``, ``sample_rate`` (Hz), ``slice_length`` (samples), ``duration``
    (seconds), ``latent_dim``, ``latent_distribution`` (``"uniform"``: each entry uniform
    in [-1, 1]; ``"normal"``: standard normal), ``image_shape`` ``[H, W, 1]``,
    ``class_names``, ``signatures`` (name -> inputs and outputs with shapes, ``-1`` the
    batch), ``griffin_lim`` (``iterations``, ``momentum``, ``initial_phase``),
    ``spectrogram`` (the full ``SpectrogramConfig``), ``statistics`` (``mean`` and
    ``std``, per frequency bin), ``artifact`` (``format``, ``quantize``,
    ``dynamic_batch``).
    """
    format, quantize, signature, initial_phase = _check_options(
        format, quantize, signature, initial_phase)
    from keras import ops

    import keras_soundgan

    config = model.config
    spec, gen = config.spectrogram, config.generator
    n_iter = spec.griffin_lim_iters if griffin_lim_iters is None else int(griffin_lim_iters)
    z = {"z": {"shape": [-1, gen.latent_dim], "dtype": "float32"}}
    signatures = {}
    if signature in ("waveform", "both"):
        signatures["waveform"] = {"inputs": z, "outputs": {
            "waveform": {"shape": [-1, spec.slice_length], "dtype": "float32"},
            "sample_rate": {"shape": [], "dtype": "int32"}}}
    if signature in ("spectrogram", "both"):
        signatures["spectrogram"] = {"inputs": z, "outputs": {"spectrogram": {
            "shape": [-1, spec.height, spec.width, 1], "dtype": "float32"}}}
    if format == "onnx" and signature == "both":
        signatures = {"both": {"inputs": z, "outputs": {
            **signatures["waveform"]["outputs"], **signatures["spectrogram"]["outputs"]}}}
    return {
        "format": METADATA_FORMAT,
        "keras_soundgan_version": getattr(keras_soundgan, "__version__", "unknown"),
        "model_name": config.name,
        "sample_rate": spec.sample_rate,
        "slice_length": spec.slice_length,
        "duration": spec.slice_length / spec.sample_rate,
        "latent_dim": gen.latent_dim,
        "latent_distribution": gen.latent_distribution,
        "latent_description": ("uniform in [-1, 1], independent entries"
                               if gen.latent_distribution == "uniform"
                               else "standard normal, independent entries"),
        "image_shape": [spec.height, spec.width, 1],
        "class_names": list(class_names or []),
        "signatures": signatures,
        "griffin_lim": {"iterations": n_iter, "momentum": spec.griffin_lim_momentum,
                        "initial_phase": initial_phase},
        "spectrogram": spec.get_config(),
        "statistics": {
            "mean": [float(v) for v in ops.convert_to_numpy(model.spectrogram_mean)],
            "std": [float(v) for v in ops.convert_to_numpy(model.spectrogram_std)],
        },
        "artifact": {"format": format, "quantize": quantize, "dynamic_batch": True},
    }


def sidecar_path(path) -> Path:
    """The metadata JSON written beside an exported file: ``<path>.json``."""
    return Path(os.fspath(path) + ".json")


def read_metadata(path) -> dict:
    """Reads the metadata of an exported artifact: a SavedModel folder's asset, the
    sidecar JSON of a ``.tflite`` / ``.onnx`` file, or, when a ``.tflite`` file has no
    sidecar, the copy embedded in the file itself."""
    path = Path(path)
    if path.is_dir():
        candidate = path / "assets" / METADATA_ASSET
    else:
        candidate = sidecar_path(path)
    if candidate.is_file():
        return json.loads(candidate.read_text(encoding="utf-8"))
    if path.suffix == ".tflite" and path.is_file():
        embedded = litert_metadata(path.read_bytes())
        if embedded is not None:
            return embedded
    raise FileNotFoundError(f"no keras_soundgan metadata for {os.fspath(path)!r} "
                            f"(looked for {os.fspath(candidate)!r})")


def litert_metadata(flatbuffer: bytes) -> dict | None:
    """The metadata embedded in a ``.tflite`` file's bytes (None if it has none)."""
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.Model.GetRootAs(flatbuffer, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name().decode() == LITERT_METADATA_NAME:
            data = model.Buffers(entry.Buffer()).DataAsNumpy()
            return json.loads(bytes(data).decode("utf-8"))
    return None


def litert_operators(path) -> dict:
    """``{operator name: count}`` over every subgraph of a ``.tflite`` file (builtin
    names such as ``FULLY_CONNECTED``; ``CUSTOM:<name>`` for custom and Flex ops)."""
    from tensorflow.lite.python import schema_py_generated as schema

    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    model = schema.Model.GetRootAs(Path(path).read_bytes(), 0)
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    counts: dict = {}
    for g in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(g)
        for o in range(subgraph.OperatorsLength()):
            code = codes[subgraph.Operators(o).OpcodeIndex()]
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            name = (f"CUSTOM:{code.CustomCode().decode()}"
                    if builtin == schema.BuiltinOperator.CUSTOM else names[builtin])
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


# -- options and sources ---------------------------------------------------------------------


def _check_options(format, quantize, signature, initial_phase):
    if format == "tflite":
        format = "litert"
    if format not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(map(repr, FORMATS))}, "
                         f"got {format!r}")
    if quantize in ("none", "float32"):
        quantize = None
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be None or one of "
                         f"{', '.join(map(repr, QUANTIZATIONS))}, got {quantize!r}")
    if quantize is not None and format != "litert":
        raise ValueError(f"quantize={quantize!r} applies to format 'litert' only; "
                         f"{format!r} is exported in float32")
    if signature not in SIGNATURES:
        raise ValueError(f"signature must be one of {', '.join(map(repr, SIGNATURES))}, "
                         f"got {signature!r}")
    if initial_phase not in INITIAL_PHASES:
        raise ValueError(f"initial_phase must be one of "
                         f"{', '.join(map(repr, INITIAL_PHASES))}, got {initial_phase!r}")
    return format, quantize, signature, initial_phase


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def _is_generated(calibration) -> bool:
    return isinstance(calibration, str) and calibration == "generated"


def _output_path(output, format) -> Path:
    output = Path(os.fspath(output))
    suffix = _SUFFIXES[format]
    if format == "saved_model":
        if output.is_file():
            raise ValueError(f"output {os.fspath(output)!r} is a file; a SavedModel is a folder")
        return output
    if output.suffix == "":
        output = output.with_name(output.name + suffix)
    elif output.suffix != suffix:
        raise ValueError(f"a {format} file must end with {suffix!r}, got {os.fspath(output)!r}")
    if output.is_dir():
        raise ValueError(f"output {os.fspath(output)!r} is a folder; give a file name")
    return output


def _resolve_source(source):
    """``(model or .keras path, class names or None)`` for a model, run folder or file."""
    if not isinstance(source, (str, os.PathLike)):
        if not (hasattr(source, "generator") and hasattr(source, "config")
                and hasattr(source, "spectrogram_mean")):
            raise ValueError(
                f"model_or_run_dir must be a SoundGAN, a run folder or a .keras file, got "
                f"{type(source).__name__}")
        return source, None
    path = Path(os.fspath(source))
    if path.is_dir():
        from keras_soundgan.runs import DATA_FILE, MODEL_FILE

        model_file = path / MODEL_FILE
        if not model_file.is_file():
            raise ValueError(
                f"run folder {os.fspath(path)!r} holds no {MODEL_FILE} (train it to the end "
                f"first, or export a checkpoint: {os.fspath(path / 'checkpoints')}/"
                f"epoch-XXXX.keras)")
        class_names = None
        data_file = path / DATA_FILE
        if data_file.is_file():
            try:
                class_names = json.loads(data_file.read_text()).get("class_names")
            except (ValueError, AttributeError):
                class_names = None
        return model_file, class_names
    if path.is_file() and path.suffix == ".keras":
        return path, None
    if path.suffix == ".keras":
        raise ValueError(f"model file {os.fspath(path)!r} does not exist")
    raise ValueError(f"run folder {os.fspath(path)!r} does not exist")


def _load_model(source):
    if not isinstance(source, Path):
        return source
    import keras

    import keras_soundgan.models.soundgan  # noqa: F401  (registers SoundGAN with Keras)

    model = keras.saving.load_model(source, compile=False)
    if not hasattr(model, "generator") or not hasattr(model, "spectrogram_mean"):
        raise ValueError(f"{os.fspath(source)!r} does not hold a SoundGAN")
    return model


def _calibration_noise(model, calibration, samples) -> np.ndarray:
    latent = model.config.generator.latent_dim
    if calibration is None or _is_generated(calibration):
        return model.latent(samples, seed=0)
    if isinstance(calibration, str):
        raise ValueError(f"calibration must be None, 'generated' or an array of noise "
                         f"[N, {latent}], got {calibration!r}")
    array = np.asarray(calibration, dtype=np.float32)
    spec = model.config.spectrogram
    if array.ndim in (3, 4) and array.shape[1:3] == (spec.height, spec.width):
        raise ValueError(
            "calibration: got spectrogram images, but the int8 ranges of a generator are "
            "those of its hidden layers for noise input, so it is calibrated with noise "
            f"[N, {latent}] (default: drawn from the latent distribution). The audio "
            "inverse is not quantised, so real spectrograms would change nothing")
    if array.ndim != 2 or array.shape[1] != latent or len(array) == 0:
        raise ValueError(f"calibration must be noise of shape [N, {latent}] "
                         f"(latent_dim {latent}), got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("calibration contains NaN or infinite values")
    return array


def _load_calibration_file(path) -> np.ndarray:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"calibration file {path!r} does not exist")
    return np.load(path, allow_pickle=False)


# -- other backends: a TensorFlow subprocess ---------------------------------------------------


def _export_in_subprocess(source, output, calibration, options) -> Path:
    with tempfile.TemporaryDirectory(prefix="keras_soundgan_export_") as tmp:
        if not isinstance(source, Path):
            model_file = Path(tmp) / "model.keras"
            source.save(model_file)
            source = model_file
        command = [sys.executable, "-m", "keras_soundgan.export", os.fspath(source),
                   os.fspath(output), "--format", options["format"],
                   "--signature", options["signature"],
                   "--initial-phase", options["initial_phase"],
                   "--calibration-samples", str(options["calibration_samples"]),
                   "--class-names-json", json.dumps(options["class_names"])]
        if options["quantize"]:
            command += ["--quantize", options["quantize"]]
        if options["griffin_lim_iters"] is not None:
            command += ["--griffin-lim-iters", str(options["griffin_lim_iters"])]
        if calibration is not None and not _is_generated(calibration):
            if isinstance(calibration, (str, os.PathLike)):
                calibration = _load_calibration_file(calibration)
            calibration_file = Path(tmp) / "calibration.npy"
            np.save(calibration_file, np.asarray(calibration, dtype=np.float32))
            command += ["--calibration", os.fspath(calibration_file)]
        if options["verbose"]:
            command.append("--verbose")
        env = dict(os.environ, KERAS_BACKEND="tensorflow")
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        errors = [line for line in lines if line.startswith("ValueError: ")]
        if errors:  # the child's own check: the same error as under TensorFlow
            raise ValueError(errors[-1][len("ValueError: "):])
        raise RuntimeError("export under the TensorFlow backend failed:\n"
                           + "\n".join(lines[-15:]))
    if options["verbose"] and result.stdout:
        print(result.stdout, end="")
    return Path(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else output


# -- the TensorFlow side --------------------------------------------------------------------


def _export_tensorflow(model, output: Path, *, format, quantize, signature, griffin_lim_iters,
                       initial_phase, class_names, calibration_samples, verbose,
                       calibration=None) -> Path:
    spec = model.config.spectrogram
    n_iter = spec.griffin_lim_iters if griffin_lim_iters is None else int(griffin_lim_iters)
    metadata = export_metadata(model, signature=signature, format=format, quantize=quantize,
                               griffin_lim_iters=n_iter, initial_phase=initial_phase,
                               class_names=class_names)
    noise = (_calibration_noise(model, calibration, calibration_samples)
             if quantize == "int8" else None)
    functions = _build_functions(model, signature, n_iter, initial_phase, metadata,
                                 combined=format == "onnx",
                                 variables=format == "saved_model")
    output.parent.mkdir(parents=True, exist_ok=True)
    with _quiet_tensorflow(verbose):
        if format == "litert":
            _write_litert(functions, output, quantize, noise, metadata)
        elif format == "onnx":
            _write_onnx(functions, output, metadata)
        else:
            _write_saved_model(functions, output, metadata)
    if format != "saved_model":
        sidecar_path(output).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return output


class _quiet_tensorflow:
    """Silences TensorFlow's Python logger during conversion unless ``verbose``."""

    def __init__(self, verbose):
        self.verbose = verbose

    def __enter__(self):
        import tensorflow as tf

        self._level = tf.get_logger().level
        if not self.verbose:
            tf.get_logger().setLevel("ERROR")

    def __exit__(self, *exc):
        import tensorflow as tf

        tf.get_logger().setLevel(self._level)
        return False


class _Synthesis:
    """The audio inverse as TensorFlow ops that convert to TFLite builtins.

    Holds NumPy constants only; calling it inside a ``tf.function`` trace builds the
    graph: images ``[N, H, W, 1]`` -> waveforms ``[N, slice_length]``. The arithmetic is
    that of ``SpectrogramTransform.inverse`` (see the module docstring for the ops).
    """

    def __init__(self, spec, mean, std, n_iter: int, initial_phase: str = "random",
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

        # Initial phase [1, width, n_bins]: the Python inverse's draw for its first sound.
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
            self.mel_pinv = np.linalg.pinv(mel).astype(np.float32)
            self.mel_t = mel.T.astype(np.float32)
            self.mel_gram = gram.astype(np.float32)
            self.mel_step = float(1.0 / max(np.linalg.eigvalsh(gram)[-1], 1e-12))

    def matrices(self):
        """The constant matrices of the products (DFT, and mel for mel configs) as
        ``FULLY_CONNECTED`` stores its weights: ``[out, in]``."""
        names = ["dft_re", "dft_im", "idft_re", "idft_im"]
        if self.spec.n_mels:
            names += ["mel_pinv", "mel_t", "mel_gram"]
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
            grad = tf.matmul(z, k["mel_gram"]) - target
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
            names += ["mel_pinv", "mel_t", "mel_gram"]
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
        return self.griffin_lim(magnitude, k)

    def griffin_lim(self, magnitude, k):
        """[N, W, n_bins] -> [N, L]; spectral.py's fast Griffin-Lim with a free frame."""
        import tensorflow as tf

        width, alpha = self.spec.width, self.alpha
        zeros = tf.zeros_like(magnitude)
        angle_re, angle_im = zeros + k["phase_re"], zeros + k["phase_im"]
        extra = tf.zeros_like(magnitude[:, :self.free])

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
            norm = tf.math.rsqrt(tf.maximum(a_re * a_re + a_im * a_im, _MIN_POWER))
            return i + 1, a_re * norm, a_im * norm, re, im, extra_re, extra_im

        if self.n_iter:
            _, angle_re, angle_im, _, _, extra_re, extra_im = tf.while_loop(
                lambda i, *_: i < self.n_iter, body,
                (tf.constant(0), angle_re, angle_im, zeros, zeros, extra, extra))
        else:
            extra_re = extra_im = extra
        return self.istft(*spectrum(angle_re, angle_im, extra_re, extra_im), k)


class _Functions:
    """The traced entry points of one export, and what the writers need."""

    def __init__(self, module, ordered, latent_dim, synthesis=None):
        self.module = module
        self.synthesis = synthesis
        self.ordered = ordered  # [(signature key, tf.function)], main entry point first
        self.latent_dim = latent_dim


def _build_functions(model, signature, n_iter, initial_phase, metadata, *,
                     combined=False, variables=False) -> _Functions:
    """tf.functions over the generator, its weights swapped in through
    ``keras.StatelessScope``.

    By default the weights enter the graphs as constants: LiteRT then needs no variable
    ops, and it stores each weight once however many signatures use it. With
    ``variables`` (SavedModel) they are fresh ``tf.Variable`` copies tracked by the
    module, saved once in ``variables/`` instead of once per signature's graph.
    """
    import keras
    import tensorflow as tf
    from keras import ops

    config = model.config
    spec = config.spectrogram
    generator = model.generator
    weights = [(v, ops.convert_to_numpy(v)) for v in generator.weights]
    synthesis = None
    if signature in ("waveform", "both"):
        synthesis = _Synthesis(spec, ops.convert_to_numpy(model.spectrogram_mean),
                               ops.convert_to_numpy(model.spectrogram_std), n_iter,
                               initial_phase)
    z_spec = tf.TensorSpec([None, config.generator.latent_dim], tf.float32, name="z")

    module = tf.Module()
    if variables:
        module.generator_weights = [tf.Variable(value, trainable=False, name=v.name)
                                    for v, value in weights]

    def generate(z):
        if variables:
            values = [w.read_value() for w in module.generator_weights]
        else:
            values = [tf.constant(value) for _, value in weights]
        with keras.StatelessScope(state_mapping=list(zip([v for v, _ in weights], values))):
            return generator(z, training=False)

    def synthesize(images):
        with tf.name_scope(_SYNTHESIS_SCOPE):
            return synthesis(images)

    def rate():
        return tf.constant(spec.sample_rate, tf.int32)

    def spectrogram(z):
        return {"spectrogram": generate(z)}

    def waveform(z):
        return {"waveform": synthesize(generate(z)), "sample_rate": rate()}

    def both(z):
        images = generate(z)
        return {"spectrogram": images, "waveform": synthesize(images),
                "sample_rate": rate()}

    text = json.dumps(metadata, separators=(",", ":"))

    def metadata_fn():
        outputs = {"sample_rate": rate(),
                   "latent_dim": tf.constant(config.generator.latent_dim, tf.int32),
                   "slice_length": tf.constant(spec.slice_length, tf.int32)}
        outputs["json"] = tf.constant(text)
        return outputs

    metadata_fn.__name__ = "metadata"
    ordered = []
    if combined and signature == "both":
        module.both = tf.function(both, input_signature=[z_spec])
        ordered.append(("both", module.both))
    else:
        if signature in ("waveform", "both"):
            module.waveform = tf.function(waveform, input_signature=[z_spec])
            ordered.append(("waveform", module.waveform))
        if signature in ("spectrogram", "both"):
            module.spectrogram = tf.function(spectrogram, input_signature=[z_spec])
            ordered.append(("spectrogram", module.spectrogram))
    module.metadata = tf.function(metadata_fn, input_signature=[])
    return _Functions(module, ordered, config.generator.latent_dim, synthesis)


# -- writers ----------------------------------------------------------------------------------


def _write_saved_model(functions: _Functions, output: Path, metadata: dict) -> None:
    import tensorflow as tf

    module = functions.module
    module.sample_rate = tf.Variable(metadata["sample_rate"], dtype=tf.int32, trainable=False)
    module.latent_dim = tf.Variable(metadata["latent_dim"], dtype=tf.int32, trainable=False)
    module.slice_length = tf.Variable(metadata["slice_length"], dtype=tf.int32,
                                      trainable=False)
    module.latent_distribution = tf.Variable(metadata["latent_distribution"], trainable=False)
    module.class_names = tf.Variable(tf.constant(metadata["class_names"], tf.string,
                                                 shape=[len(metadata["class_names"])]),
                                     trainable=False)
    signatures = {key: fn.get_concrete_function() for key, fn in functions.ordered}
    signatures["serving_default"] = functions.ordered[0][1].get_concrete_function()
    signatures["metadata"] = module.metadata.get_concrete_function()
    with tempfile.TemporaryDirectory(prefix="keras_soundgan_export_") as tmp:
        asset = Path(tmp) / METADATA_ASSET
        asset.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        module.metadata_file = tf.saved_model.Asset(os.fspath(asset))
        if output.exists():
            shutil.rmtree(output)
        tf.saved_model.save(module, os.fspath(output), signatures=signatures)


def _write_litert(functions: _Functions, output: Path, quantize, noise, metadata) -> None:
    import tensorflow as tf

    concrete = [fn.get_concrete_function() for _, fn in functions.ordered]
    converter = tf.lite.TFLiteConverter.from_concrete_functions(concrete, functions.module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic-int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "int8":
        flatbuffer = _quantize_int8(converter, functions, noise)
    else:
        flatbuffer = converter.convert()
    float_matrices = None
    if quantize == "dynamic-int8" and functions.synthesis is not None:
        float_matrices = functions.synthesis.matrices()
    output.write_bytes(_finish_flatbuffer(flatbuffer, functions.ordered[0][0], metadata,
                                          float_matrices))


def _finish_flatbuffer(flatbuffer: bytes, primary: str, metadata: dict,
                       float_matrices=None) -> bytes:
    """Makes ``primary``'s subgraph the first one and embeds the metadata.

    The converter orders subgraphs by signature key; APIs without signatures (Swift's
    ``Interpreter``, ``Interpreter.run`` on Android) run subgraph 0, which should be
    the main entry point. The metadata JSON goes into the model's ``metadata`` table
    under the name ``keras_soundgan`` (read it with :func:`read_metadata`).

    ``float_matrices`` (dynamic-range models): the audio inverse's matrices, which
    the weight-only quantiser made int8 like every constant ``FULLY_CONNECTED`` weight;
    they are put back in float32 (a few hundred KB at most, and the Fourier transforms
    stay exact).
    """
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.ModelT.InitFromObj(schema.Model.GetRootAs(flatbuffer, 0))
    if len(model.signatureDefs) == 1:  # a lone function is named "serving_default"
        model.signatureDefs[0].signatureKey = primary.encode()
        model.subgraphs[model.signatureDefs[0].subgraphIndex].name = primary.encode()
    first = next(s.subgraphIndex for s in model.signatureDefs
                 if s.signatureKey.decode() == primary)
    if first:
        order = [first] + [i for i in range(len(model.subgraphs)) if i != first]
        moved = {old: new for new, old in enumerate(order)}
        model.subgraphs = [model.subgraphs[i] for i in order]
        for signature in model.signatureDefs:
            signature.subgraphIndex = moved[signature.subgraphIndex]
        for subgraph in model.subgraphs:
            for op in subgraph.operators or []:
                for options in (op.builtinOptions, getattr(op, "builtinOptions2", None)):
                    for field in _SUBGRAPH_FIELDS:
                        if options is not None and hasattr(options, field):
                            setattr(options, field, moved[getattr(options, field)])
    model.signatureDefs.sort(key=lambda s: s.subgraphIndex)
    if float_matrices:
        _restore_float_weights(model, float_matrices)
    text = json.dumps(metadata, separators=(",", ":")).encode("utf-8")
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(text, np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name = LITERT_METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata = (model.metadata or []) + [entry]
    model.buffers = [_AlignedBuffer(b) for b in model.buffers]
    builder = flatbuffers.Builder(len(flatbuffer) + len(text) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _restore_float_weights(model, matrices) -> int:
    """Turns int8 ``FULLY_CONNECTED`` weights that dequantise to one of ``matrices``
    (``[out, in]`` float32 arrays) back into those float32 values. Returns how many
    buffers changed."""
    from tensorflow.lite.python import schema_py_generated as schema

    fully_connected = {i for i, code in enumerate(model.operatorCodes)
                       if max(code.builtinCode, code.deprecatedBuiltinCode)
                       == schema.BuiltinOperator.FULLY_CONNECTED}
    restored = {}
    for subgraph in model.subgraphs:
        for op in subgraph.operators or []:
            if op.opcodeIndex not in fully_connected or len(op.inputs) < 2:
                continue
            tensor = subgraph.tensors[op.inputs[1]]
            if tensor.type != schema.TensorType.INT8 or tensor.quantization is None:
                continue
            buffer = model.buffers[tensor.buffer]
            if buffer.data is None or not len(buffer.data):
                continue
            if tensor.buffer not in restored:
                values = _dequantize(np.asarray(buffer.data, np.uint8).view(np.int8),
                                     tuple(tensor.shape), tensor.quantization)
                match = next((m for m in matrices if m.shape == values.shape
                              and np.max(np.abs(m - values)) <= _dequantize_tolerance(
                                  tensor.quantization)), None)
                restored[tensor.buffer] = match
                if match is not None:
                    buffer.data = np.frombuffer(
                        np.ascontiguousarray(match, np.float32).tobytes(), np.uint8)
    # Every tensor reading a restored buffer (the loop bodies hold their own copies of
    # the matrices' tensors) is float32 now.
    changed = {index for index, match in restored.items() if match is not None}
    for subgraph in model.subgraphs:
        for tensor in subgraph.tensors or []:
            if tensor.buffer in changed:
                tensor.type = schema.TensorType.FLOAT32
                tensor.quantization = None
    return len(changed)


def _dequantize(values, shape, quantization) -> np.ndarray:
    values = values.reshape(shape).astype(np.float32)
    scale = np.asarray(quantization.scale, np.float32)
    zero = np.asarray(quantization.zeroPoint if quantization.zeroPoint is not None else [0],
                      np.float32)
    if scale.size > 1:
        axis = quantization.quantizedDimension
        view = [1] * len(shape)
        view[axis] = -1
        scale, zero = scale.reshape(view), zero.reshape(view)
    return (values - zero) * scale


def _dequantize_tolerance(quantization) -> float:
    return float(np.max(np.asarray(quantization.scale))) * 0.5 + 1e-6


#: Builtin-option fields that hold a subgraph index (control flow, calls, composites).
_SUBGRAPH_FIELDS = ("condSubgraphIndex", "bodySubgraphIndex", "thenSubgraphIndex",
                    "elseSubgraphIndex", "initSubgraphIndex", "subgraph",
                    "decompositionSubgraphIndex")


class _AlignedBuffer:
    """Packs a ``BufferT`` with its bytes 16-byte aligned, as the converter writes them."""

    def __init__(self, buffer):
        self.buffer = buffer

    def Pack(self, builder):  # noqa: N802 (flatbuffers' name)
        from tensorflow.lite.python import schema_py_generated as schema

        data = self.buffer.data
        offset = None
        if data is not None and len(data):
            array = np.ascontiguousarray(np.asarray(data, dtype=np.uint8))
            builder.StartVector(1, array.size, 16)
            builder.head = builder.head - array.size
            builder.Bytes[builder.head:builder.head + array.size] = array.tobytes()
            builder.vectorNumElems = array.size
            offset = builder.EndVector()
        schema.BufferStart(builder)
        if offset is not None:
            schema.BufferAddData(builder, offset)
        if getattr(self.buffer, "offset", 0):
            schema.BufferAddOffset(builder, self.buffer.offset)
            schema.BufferAddSize(builder, self.buffer.size)
        return schema.BufferEnd(builder)


def _quantize_int8(converter, functions: _Functions, noise: np.ndarray) -> bytes:
    """Full-integer quantisation of the generator; the audio inverse stays float32.

    Calibrates on ``noise`` (one sample at a time, through every signature that takes
    noise), then quantises with the ops of the ``synthesis`` scope denylisted: int8 has
    no room for a log-magnitude's range or a unit-modulus phase.
    """
    import tensorflow as tf
    from tensorflow.lite.python import convert as tflite_convert

    keys = [key for key, _ in functions.ordered]

    def representative():
        for row in noise:
            sample = {"z": row[None].astype(np.float32)}
            if len(keys) == 1:  # a lone signature is keyed "serving_default" until the end
                yield sample
            else:
                for key in keys:
                    yield key, sample

    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter._experimental_calibrate_only = True  # noqa: SLF001 (the debugger's route)
    with warnings.catch_warnings():  # the calibrator still uses tf.lite.Interpreter
        warnings.simplefilter("ignore", UserWarning)
        calibrated = converter.convert()
    denylist = sorted(_float_tensor_names(calibrated, _SYNTHESIS_SCOPE, "waveform"))
    return tflite_convert.mlir_quantize(calibrated, fully_quantize=False,
                                        denylisted_nodes=denylist or None)


def _float_tensor_names(flatbuffer: bytes, scope: str, signature: str) -> set:
    """Tensors to keep in float32: those of ``scope`` in any subgraph, and the outputs
    of ``signature`` (the last op of the audio inverse writes a tensor named after the
    signature's output, not after its scope)."""
    from tensorflow.lite.python import schema_py_generated as schema

    model = schema.Model.GetRootAsModel(flatbuffer, 0)
    names = set()
    for g in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(g)
        for t in range(subgraph.TensorsLength()):
            name = subgraph.Tensors(t).Name().decode("utf-8", "replace")
            if scope in name:
                names.add(name)
    for s in range(model.SignatureDefsLength()):
        definition = model.SignatureDefs(s)
        if definition.SignatureKey().decode() != signature:
            continue
        subgraph = model.Subgraphs(definition.SubgraphIndex())
        for o in range(definition.OutputsLength()):
            tensor = subgraph.Tensors(definition.Outputs(o).TensorIndex())
            names.add(tensor.Name().decode("utf-8", "replace"))
    return names


def _write_onnx(functions: _Functions, output: Path, metadata: dict) -> None:
    import tensorflow as tf

    try:
        import onnx
        import tf2onnx
    except ImportError as e:
        raise RuntimeError(
            f"ONNX export needs tf2onnx and onnx ({e}); pip install 'keras-soundgan[export]'"
        ) from None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:  # tf2onnx still uses NumPy 1 aliases; Keras ships the patch it uses itself.
            from keras.src.export.tf2onnx_lib import patch_tf2onnx

            patch_tf2onnx()
        except ImportError:  # pragma: no cover - an older or newer Keras
            if "object" not in np.__dict__:
                np.object = object
    key, fn = functions.ordered[0]
    concrete = fn.get_concrete_function()
    spec = [tf.TensorSpec([None, functions.latent_dim], tf.float32, name="z")]
    model_proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec,
                                                   opset=ONNX_OPSET)
    # tf2onnx names the graph's ends after TensorFlow tensors ("z:0", "Identity_1:0");
    # give them the signature's names, through Identity nodes for the outputs (an
    # output may also feed other nodes).
    graph = model_proto.graph
    for graph_input in graph.input:
        if graph_input.name != "z" and graph_input.name.split(":")[0] == "z":
            old_name = graph_input.name
            graph_input.name = "z"
            for node in graph.node:
                node.input[:] = ["z" if name == old_name else name for name in node.input]
    wanted = {tensor.name: name for name, tensor in concrete.structured_outputs.items()}
    for graph_output in graph.output:
        name = wanted.get(graph_output.name)
        if name is None or name == graph_output.name:
            continue
        graph.node.append(onnx.helper.make_node("Identity", [graph_output.name], [name],
                                                name=f"{name}_output"))
        graph_output.name = name
    for value in list(graph.input) + list(graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) and not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"
    onnx.helper.set_model_props(model_proto, {
        "keras_soundgan": json.dumps(metadata, separators=(",", ":")),
        "sample_rate": str(metadata["sample_rate"]),
        "latent_dim": str(metadata["latent_dim"]),
        "latent_distribution": metadata["latent_distribution"],
        "slice_length": str(metadata["slice_length"]),
        "signature": key,
    })
    onnx.save(model_proto, os.fspath(output))


# -- python -m keras_soundgan.export ------------------------------------------------------------


def main(argv=None) -> int:
    """``python -m keras_soundgan.export SOURCE OUTPUT [options]``: what
    :func:`export_model` runs in a TensorFlow subprocess for other backends. Prints the
    path written."""
    parser = argparse.ArgumentParser(
        prog="python -m keras_soundgan.export",
        description="Export a SoundGAN (run folder or .keras file) under TensorFlow.")
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--format", default="litert", choices=FORMATS + ("tflite",))
    parser.add_argument("--quantize", default=None)
    parser.add_argument("--signature", default="both", choices=SIGNATURES)
    parser.add_argument("--initial-phase", default="random", choices=INITIAL_PHASES)
    parser.add_argument("--griffin-lim-iters", type=int, default=None)
    parser.add_argument("--calibration", default=None,
                        help="a .npy file of noise [N, latent_dim] for int8")
    parser.add_argument("--calibration-samples", type=int, default=CALIBRATION_SAMPLES)
    parser.add_argument("--class-names-json", default=None)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    if keras.backend.backend() != "tensorflow":
        print("Error: run with KERAS_BACKEND=tensorflow", file=sys.stderr)
        return 1
    class_names = json.loads(args.class_names_json) if args.class_names_json else None
    try:
        path = export_model(args.source, args.output, args.format, quantize=args.quantize,
                            signature=args.signature, calibration=args.calibration,
                            griffin_lim_iters=args.griffin_lim_iters,
                            initial_phase=args.initial_phase, class_names=class_names,
                            calibration_samples=args.calibration_samples,
                            verbose=args.verbose)
    except (ValueError, FileNotFoundError) as e:
        print(f"ValueError: {e}", file=sys.stderr)
        return 1
    print(os.fspath(path))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
