"""``python -m keras_soundgan.export SOURCE OUTPUT [options]``: the export under the
TensorFlow backend that :func:`~keras_soundgan.export.export_model` runs in a subprocess
(:mod:`keras_soundgan.export.relaunch`) for models of other backends."""

from __future__ import annotations

import argparse
import json
import os
import sys

from keras_soundgan.export.api import export_model
from keras_soundgan.export.options import (
    CALIBRATION_SAMPLES,
    FORMATS,
    INITIAL_PHASES,
    SIGNATURES,
)

__all__ = ["main"]


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
    parser.add_argument("--initial-phase", default=None, choices=INITIAL_PHASES)
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
