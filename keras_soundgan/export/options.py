"""The export's options: formats, quantisations, signatures, and their checks."""

from __future__ import annotations

import os
from pathlib import Path

from keras_soundgan.checks import check_integer

__all__ = ["FORMATS", "FOLDER_FORMATS", "WEB_MODEL_NAME", "QUANTIZATIONS", "SIGNATURES",
           "INITIAL_PHASES", "CALIBRATION_SAMPLES", "check_options", "check_int", "output_path",
           "graph_initial_phase"]

#: Export formats: a SavedModel folder, a LiteRT ``.tflite`` file, an ONNX file, or a
#: folder holding a web page that runs the waveform ``.tflite`` in the browser.
FORMATS = ("saved_model", "litert", "onnx", "web")
#: LiteRT quantisations (``None`` is float32).
QUANTIZATIONS = ("float16", "dynamic-int8", "int8")
#: Which entry points to export.
SIGNATURES = ("spectrogram", "waveform", "both")
#: Griffin-Lim's initial phase inside the exported graph: phase locking computed in the
#: graph (what the Python inverse does by default), or a constant phase.
INITIAL_PHASES = ("lock", "random", "zero")
#: Noise vectors drawn to calibrate int8 quantisation by default.
CALIBRATION_SAMPLES = 128

#: File suffix of each format ("" for the formats written as a folder).
SUFFIXES = {"litert": ".tflite", "onnx": ".onnx", "saved_model": "", "web": ""}
#: Formats written as a folder.
FOLDER_FORMATS = ("saved_model", "web")
#: The waveform model's file name inside a ``web`` folder (its metadata: ``+ ".json"``).
WEB_MODEL_NAME = "model.tflite"


def check_options(format, quantize, signature, initial_phase):
    """``(format, quantize, signature, initial_phase)``, checked and normalised
    (``"tflite"`` is ``"litert"``; ``"none"`` and ``"float32"`` are ``None``; the
    ``web`` format's ``"both"`` is ``"waveform"``, the page's only signature).

    Raises:
        ValueError: an unknown value, or one that does not apply to the format.
    """
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
    if quantize is not None and format not in ("litert", "web"):
        raise ValueError(f"quantize={quantize!r} applies to formats 'litert' and 'web' only; "
                         f"{format!r} is exported in float32")
    if signature not in SIGNATURES:
        raise ValueError(f"signature must be one of {', '.join(map(repr, SIGNATURES))}, "
                         f"got {signature!r}")
    if format == "web":
        if quantize == "int8":
            # Measured with TensorFlow 2.21: the int8 calibrator (calibrator.py,
            # FeedTensor) crashes the process on the fixed-batch model LiteRT.js needs.
            raise ValueError("quantize='int8' is not available for format 'web': "
                             "TensorFlow's int8 calibrator crashes on the fixed-batch model "
                             "the page needs; use 'float16' (half the size) or "
                             "'dynamic-int8'")
        if signature == "spectrogram":
            raise ValueError("signature='spectrogram' does not apply to format 'web': the "
                             "page plays sounds, so it exports the waveform signature")
        signature = "waveform"
    if initial_phase is not None and initial_phase not in INITIAL_PHASES:
        raise ValueError(f"initial_phase must be None or one of "
                         f"{', '.join(map(repr, INITIAL_PHASES))}, got {initial_phase!r}")
    return format, quantize, signature, initial_phase


def graph_initial_phase(initial_phase, spec) -> str:
    """The initial phase the waveform graph computes: ``initial_phase``, or when it is
    None the config's ``spec.phase_init``, with ``"pghi"`` (a heap integration that no
    graph can hold) replaced by ``"lock"``, the phase locking that comes closest."""
    if initial_phase is not None:
        return initial_phase
    return "lock" if spec.phase_init == "pghi" else spec.phase_init


def check_int(value, name, minimum):
    """Raises ValueError naming ``name`` unless ``value`` is an integer (not a bool)
    of at least ``minimum`` (:func:`keras_soundgan.checks.check_integer`)."""
    check_integer(value, name, minimum=minimum)


def output_path(output, format) -> Path:
    """The path to write: ``output`` with the format's suffix added when it has none.

    Raises:
        ValueError: a file where a folder is written (SavedModel, web) or the other way
            round, or a suffix that is not the format's.
    """
    output = Path(os.fspath(output))
    suffix = SUFFIXES[format]
    if format in FOLDER_FORMATS:
        if output.is_file():
            what = "a SavedModel" if format == "saved_model" else "the web page"
            raise ValueError(f"output {os.fspath(output)!r} is a file; {what} is a folder")
        return output
    if output.suffix == "":
        output = output.with_name(output.name + suffix)
    elif output.suffix != suffix:
        raise ValueError(f"a {format} file must end with {suffix!r}, got {os.fspath(output)!r}")
    if output.is_dir():
        raise ValueError(f"output {os.fspath(output)!r} is a folder; give a file name")
    return output
