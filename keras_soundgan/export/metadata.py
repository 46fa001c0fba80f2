"""The metadata that travels with an exported artifact: what it is, how to feed it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keras_soundgan.export.options import check_options

__all__ = ["METADATA_FORMAT", "METADATA_ASSET", "LITERT_METADATA_NAME", "export_metadata",
           "sidecar_path", "read_metadata", "litert_metadata"]

#: Identifies the metadata layout (bumped on incompatible changes).
METADATA_FORMAT = "keras_soundgan.export/1"
#: Name of the metadata asset inside a SavedModel.
METADATA_ASSET = "keras_soundgan.json"
#: Name of the metadata entry inside a ``.tflite`` file.
LITERT_METADATA_NAME = "keras_soundgan"


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
    format, quantize, signature, initial_phase = check_options(
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
