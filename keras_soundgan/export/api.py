"""``export_model``: checks the options, finds the model, and hands it to a writer
(under TensorFlow; other backends go through :mod:`keras_soundgan.export.relaunch`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from keras_soundgan.export.metadata import export_metadata, resolve_class_names, sidecar_path
from keras_soundgan.export.options import (
    CALIBRATION_SAMPLES,
    WEB_MODEL_NAME,
    check_int,
    check_options,
    graph_initial_phase,
    output_path,
)

__all__ = ["export_model", "export_tensorflow", "resolve_source", "load_model",
           "is_generated", "load_calibration_file"]


def export_model(model_or_run_dir, output, format: str = "litert", *, quantize: str | None = None,
                 signature: str = "both", calibration=None, griffin_lim_iters: int | None = None,
                 initial_phase: str | None = None, class_names=None,
                 calibration_samples: int = CALIBRATION_SAMPLES, verbose: bool = False,
                 progress=None) -> Path:
    """Exports a SoundGAN's generator (and, optionally, its audio inverse).

    Args:
        model_or_run_dir: a :class:`~keras_soundgan.SoundGAN`, a run folder (its
            ``model.keras`` is exported and its ``data.json`` gives the class names)
            or a ``.keras`` file.
        output: the file (``litert``: ``.tflite``; ``onnx``: ``.onnx``; the suffix is
            added when missing) or, for ``saved_model`` and ``web``, the folder to write.
        format: ``"litert"`` (default), ``"saved_model"``, ``"onnx"`` or ``"web"`` (a
            folder with ``model.tflite``, the waveform signature with a batch of one,
            its metadata, and a page that plays it in the browser with LiteRT.js:
            serve it with ``python -m http.server``; see docs/web.md).
        quantize: LiteRT and web only. ``None`` (float32), ``"float16"`` (weights
            stored as float16, computed in float32), ``"dynamic-int8"`` (int8 weights,
            activations quantised on the fly) or ``"int8"`` (int8 weights and
            activations, ranges calibrated on noise; the waveform signature's audio
            inverse stays float32, since 8 bits cannot hold a log-magnitude's range or a
            phase; not for web: TensorFlow 2.21's calibrator crashes on its fixed batch).
        signature: ``"both"`` (default), ``"spectrogram"`` or ``"waveform"``.
            ONNX has one graph: with ``"both"`` it has both outputs. The web format
            exports the waveform signature only. A conditional model's signatures take
            ``z`` and an int32 ``label`` ``[batch]``; every waveform output has its peak
            limited to 1 inside the graph (a louder sound is divided by its peak).
        calibration: int8 only. ``None`` or ``"generated"``: ``calibration_samples``
            noise vectors drawn from the model's latent distribution (seeded, so the
            export is reproducible); or an array ``[N, latent_dim]`` of noise to
            calibrate with (or the path of a ``.npy`` file holding one). The
            generator's activation ranges depend on its noise input only, so an array
            of spectrograms is refused (see docs/export.md).
        griffin_lim_iters: Griffin-Lim iterations inside the waveform graph (default:
            the config's ``spectrogram.griffin_lim_iters``).
        initial_phase: Griffin-Lim's start inside the waveform graph: ``"lock"`` (phase
            locking computed from the magnitude in the graph, as the Python inverse
            does by default), ``"random"`` (the Python inverse's random phase for its
            first sound, baked in as a constant) or ``"zero"``. Defaults to the config's
            ``spectrogram.phase_init``, with ``"pghi"`` (Python only) exported as
            ``"lock"``; so by default every sound equals ``model.generate_audio``'s.
        class_names: the class names to record in the metadata, in label order
            (default: the run folder's ``data.json``, else the model's own
            ``class_names``; for a conditional model without them, ``"0"``, ``"1"``,
            ...). A conditional model needs one name per class.
        calibration_samples: noise vectors drawn for the default int8 calibration.
        verbose: print TensorFlow's converter output.
        progress: callable or None. Called as ``progress(stage, done, total)`` as the
            export goes on, with the stage ``"Exporting FORMAT"`` (``"Exporting litert
            (float16)"`` with a quantisation) and ``done`` of its ``total`` steps:
            loading the model (from a file), tracing the signatures, converting (and
            quantising) and writing the metadata (and the page), from 0 to ``total``.
            Steps, not time: the conversion takes most of it. Under JAX or PyTorch
            the TensorFlow subprocess is one step. ``keras-soundgan export`` draws a
            bar with it. Defaults to None: nothing is reported.

    Returns:
        the path written (a ``pathlib.Path``).

    Raises:
        ValueError: an unknown format, quantisation, signature or initial phase; a
            quantisation for a format other than LiteRT or web; class names that do not
            match a conditional model's classes; a bad calibration array; a run
            folder without ``model.keras``; a model that is not a SoundGAN.
        RuntimeError: the export subprocess (non-TensorFlow backends) failed.

    Example::

        >>> path = export_model(model, "drums.tflite", quantize="float16")  # doctest: +SKIP
        >>> read_metadata(path)["sample_rate"]                              # doctest: +SKIP
        16000
    """
    format, quantize, signature, initial_phase = check_options(
        format, quantize, signature, initial_phase)
    if calibration is not None and quantize != "int8":
        raise ValueError(
            f"calibration is used by quantize='int8' only, not quantize={quantize!r}")
    check_int(calibration_samples, "calibration_samples", 1)
    if griffin_lim_iters is not None:
        check_int(griffin_lim_iters, "griffin_lim_iters", 0)
    output = output_path(output, format)
    source, run_class_names = resolve_source(model_or_run_dir)
    if class_names is None:
        class_names = run_class_names
    class_names = [str(c) for c in (class_names or [])]
    if not isinstance(source, Path):  # a model at hand: check the names before any work
        resolve_class_names(int(source.config.generator.num_classes), class_names)
    options = dict(format=format, quantize=quantize, signature=signature,
                   griffin_lim_iters=griffin_lim_iters, initial_phase=initial_phase,
                   class_names=class_names, calibration_samples=calibration_samples,
                   verbose=verbose)

    import keras

    stage = progress_stage(format, quantize)
    report = progress or _no_progress
    if keras.backend.backend() != "tensorflow":
        from keras_soundgan.export.relaunch import export_in_subprocess

        if calibration is not None and not is_generated(calibration):
            if isinstance(calibration, (str, os.PathLike)):
                calibration = load_calibration_file(calibration)
            calibration = np.asarray(calibration, dtype=np.float32)
        else:
            calibration = None  # the subprocess draws it, as here
        report(stage, 0, 1)
        path = export_in_subprocess(source, output, calibration, options)
        report(stage, 1, 1)
        return path
    loading = int(isinstance(source, Path))  # a step of its own: a model file to load
    total = loading + EXPORT_STEPS
    report(stage, 0, total)
    model = load_model(source)
    if isinstance(calibration, (str, os.PathLike)) and not is_generated(calibration):
        calibration = load_calibration_file(calibration)
    return export_tensorflow(
        model, output, calibration=calibration,
        progress=lambda name, done, _: report(name, loading + done, total), **options)


#: The steps :func:`export_tensorflow` reports: tracing, converting, writing the rest.
EXPORT_STEPS = 3


def progress_stage(format: str, quantize: str | None) -> str:
    """The stage an export reports to its ``progress`` callback: ``"Exporting litert"``,
    ``"Exporting litert (float16)"``, ..."""
    return f"Exporting {format}" + (f" ({quantize})" if quantize else "")


def _no_progress(stage, done, total):
    pass



def is_generated(calibration) -> bool:
    return isinstance(calibration, str) and calibration == "generated"


def resolve_source(source):
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
        import logging

        from keras_soundgan.run_folder import class_names_of_run, model_file as run_model_file

        try:  # model.keras, or the last checkpoint of a run that did not finish
            model_file, note = run_model_file(path)
        except FileNotFoundError as e:
            raise ValueError(str(e)) from None
        if note:
            logging.getLogger("keras_soundgan").warning(note)
        try:
            class_names = list(class_names_of_run(path)) or None
        except ValueError as error:  # a damaged data.json: the model's own names, if any
            logging.getLogger("keras_soundgan").warning(f"{error}; its class names are not used")
            class_names = None
        return model_file, class_names
    if path.is_file() and path.suffix == ".keras":
        return path, None
    if path.suffix == ".keras":
        raise ValueError(f"model file {os.fspath(path)!r} does not exist")
    raise ValueError(f"run folder {os.fspath(path)!r} does not exist")


def load_model(source):
    if not isinstance(source, Path):
        return source
    from keras_soundgan.run_folder import load_model_file

    model = load_model_file(source, compile=False)  # says so when the file is damaged
    if not hasattr(model, "generator") or not hasattr(model, "spectrogram_mean"):
        raise ValueError(f"{os.fspath(source)!r} does not hold a SoundGAN")
    return model


def calibration_noise(model, calibration, samples) -> np.ndarray:
    latent = model.config.generator.latent_dim
    if calibration is None or is_generated(calibration):
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


def load_calibration_file(path) -> np.ndarray:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"calibration file {path!r} does not exist")
    return np.load(path, allow_pickle=False)



def export_tensorflow(model, output: Path, *, format, quantize, signature, griffin_lim_iters,
                      initial_phase, class_names, calibration_samples, verbose,
                      calibration=None, progress=None) -> Path:
    """Writes ``model`` (a loaded SoundGAN, TensorFlow backend) to ``output`` in
    ``format``, with checked options (see :func:`export_model`). Returns ``output``.
    ``progress(stage, done, total)`` is told of its :data:`EXPORT_STEPS` steps (see
    :func:`export_model`)."""
    from keras_soundgan.export.signatures import build_functions

    stage = progress_stage(format, quantize)
    report = progress or _no_progress
    report(stage, 0, EXPORT_STEPS)
    spec = model.config.spectrogram
    n_iter = spec.griffin_lim_iters if griffin_lim_iters is None else int(griffin_lim_iters)
    initial_phase = graph_initial_phase(initial_phase, spec)
    # Names given (or a run's data.json) first, else those the model keeps.
    class_names = list(class_names or getattr(model, "class_names", None) or [])
    web = format == "web"
    batch_size = 1 if web else None  # LiteRT.js runs static shapes only
    metadata = export_metadata(model, signature=signature, format=format, quantize=quantize,
                               griffin_lim_iters=n_iter, initial_phase=initial_phase,
                               class_names=class_names, batch_size=batch_size)
    noise = (calibration_noise(model, calibration, calibration_samples)
             if quantize == "int8" else None)
    functions = build_functions(model, signature, n_iter, initial_phase, metadata,
                                combined=format == "onnx",
                                variables=format == "saved_model", batch_size=batch_size)
    report(stage, 1, EXPORT_STEPS)
    target = output / WEB_MODEL_NAME if web else output
    target.parent.mkdir(parents=True, exist_ok=True)
    with quiet_tensorflow(verbose):
        if format in ("litert", "web"):
            from keras_soundgan.export.litert import write_litert

            write_litert(functions, target, quantize, noise, metadata)
        elif format == "onnx":
            from keras_soundgan.export.onnx import write_onnx

            write_onnx(functions, target, metadata)
        else:
            from keras_soundgan.export.saved_model import write_saved_model

            write_saved_model(functions, target, metadata)
    report(stage, 2, EXPORT_STEPS)
    if format != "saved_model":
        sidecar_path(target).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    if web:
        from keras_soundgan.export.web import write_page

        write_page(output)
    report(stage, 3, EXPORT_STEPS)
    return output


class quiet_tensorflow:
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
