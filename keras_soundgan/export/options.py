"""The export's options: formats, quantisations, signatures, and their checks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["FORMATS", "QUANTIZATIONS", "SIGNATURES", "INITIAL_PHASES", "CALIBRATION_SAMPLES",
           "check_options", "check_int", "output_path"]

#: Export formats: a SavedModel folder, a LiteRT ``.tflite`` file, an ONNX file.
FORMATS = ("saved_model", "litert", "onnx")
#: LiteRT quantisations (``None`` is float32).
QUANTIZATIONS = ("float16", "dynamic-int8", "int8")
#: Which entry points to export.
SIGNATURES = ("spectrogram", "waveform", "both")
#: Griffin-Lim's initial phase inside the exported graph.
INITIAL_PHASES = ("random", "zero")
#: Noise vectors drawn to calibrate int8 quantisation by default.
CALIBRATION_SAMPLES = 128

SUFFIXES = {"litert": ".tflite", "onnx": ".onnx", "saved_model": ""}


def check_options(format, quantize, signature, initial_phase):
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


def check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")



def output_path(output, format) -> Path:
    output = Path(os.fspath(output))
    suffix = SUFFIXES[format]
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
