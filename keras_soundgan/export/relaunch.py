"""Export from JAX or PyTorch: save the model, then export it under TensorFlow in a
subprocess, ``python -m keras_soundgan.export`` (whose ``main`` is here)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from keras_soundgan.export.api import export_model, is_generated, load_calibration_file
from keras_soundgan.export.options import (
    CALIBRATION_SAMPLES,
    FORMATS,
    INITIAL_PHASES,
    SIGNATURES,
)

__all__ = ["export_in_subprocess", "main"]


def export_in_subprocess(source, output, calibration, options) -> Path:
    with tempfile.TemporaryDirectory(prefix="keras_soundgan_export_") as tmp:
        if not isinstance(source, Path):
            model_file = Path(tmp) / "model.keras"
            source.save(model_file)
            source = model_file
        command = [sys.executable, "-m", "keras_soundgan.export", os.fspath(source),
                   os.fspath(output), "--format", options["format"],
                   "--signature", options["signature"],
                   "--calibration-samples", str(options["calibration_samples"]),
                   "--class-names-json", json.dumps(options["class_names"])]
        if options["initial_phase"]:
            command += ["--initial-phase", options["initial_phase"]]
        if options["quantize"]:
            command += ["--quantize", options["quantize"]]
        if options["griffin_lim_iters"] is not None:
            command += ["--griffin-lim-iters", str(options["griffin_lim_iters"])]
        if calibration is not None and not is_generated(calibration):
            if isinstance(calibration, (str, os.PathLike)):
                calibration = load_calibration_file(calibration)
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
