"""Export from JAX or PyTorch: save the model, then export it under TensorFlow in a
subprocess, ``python -m keras_soundgan.export`` (whose ``main`` is in ``__main__.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["export_in_subprocess"]


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
        if calibration is not None:  # noise given by the caller (export_model loads it)
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
