"""The metadata that travels with an exported artifact: what it is, how to feed it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keras_soundgan.export.options import WEB_MODEL_NAME, check_options, graph_initial_phase
from keras_soundgan.internals import tflite_schema

__all__ = ["METADATA_FORMAT", "METADATA_ASSET", "LITERT_METADATA_NAME", "WAVEFORM_SCALING",
           "export_metadata", "resolve_class_names", "sidecar_path", "read_metadata",
           "litert_metadata"]

#: Identifies the metadata layout (bumped on incompatible changes).
METADATA_FORMAT = "keras_soundgan.export/2"
#: Name of the metadata asset inside a SavedModel.
METADATA_ASSET = "keras_soundgan.json"
#: Name of the metadata entry inside a ``.tflite`` file.
LITERT_METADATA_NAME = "keras_soundgan"
#: How the waveform output is scaled, as recorded in the metadata.
WAVEFORM_SCALING = {
    "peak_limit": 1.0,
    "rule": "each sound is divided by max(1, its peak |sample|): a sound whose peak exceeds "
            "1 is brought to peak 1, quieter sounds are unchanged (as keras-soundgan's WAV "
            "writer does), so the samples can be played or written as they are",
}


def export_metadata(model, *, signature: str = "both", format: str = "litert",
                    quantize: str | None = None, griffin_lim_iters: int | None = None,
                    initial_phase: str | None = None, class_names=None,
                    batch_size: int | None = None) -> dict:
    """The metadata written beside and inside an exported artifact (a JSON-ready dict).

    Args:
        model: SoundGAN. The model being exported.
        signature: str. ``"both"``, ``"waveform"`` or ``"spectrogram"``. Defaults to
            ``"both"``.
        format: str. The artifact's format (``"web"`` describes its ``.tflite``).
            Defaults to ``"litert"``.
        quantize: str or None. The LiteRT quantisation. Defaults to None (float32).
        griffin_lim_iters: int or None. Griffin-Lim iterations in the waveform graph.
            Defaults to the config's.
        initial_phase: str or None. ``"lock"``, ``"random"`` or ``"zero"``. Defaults to
            the config's ``spectrogram.phase_init`` (``"pghi"`` exported as ``"lock"``).
        class_names: list of str or None. The classes, in label order. Defaults to the
            labels' numbers (``"0"``, ``"1"``, ...) for a conditional model, else none.
        batch_size: int or None. A fixed batch; None (default) for a dynamic one.

    Keys: ``format`` (:data:`METADATA_FORMAT`), ``keras_soundgan_version``,
    ``model_name``, ``sample_rate`` (Hz), ``slice_length`` (samples), ``duration``
    (seconds), ``latent_dim``, ``latent_distribution`` (``"uniform"``: each entry uniform
    in [-1, 1]; ``"normal"``: standard normal), ``image_shape`` ``[H, W, 1]``,
    ``conditional``, ``num_classes``, ``class_names`` (label ``i`` is
    ``class_names[i]``), ``signatures`` (name -> inputs and outputs with shapes, ``-1``
    the batch; a conditional model's inputs are ``z`` and an int32 ``label``),
    ``waveform_scaling`` (how the waveform output was scaled: a sound whose peak
    exceeds 1 is divided by its peak), ``griffin_lim`` (``iterations``, ``momentum``,
    ``initial_phase``), ``spectrogram`` (the full ``SpectrogramConfig``),
    ``statistics`` (``mean`` and ``std``, per frequency bin), ``artifact``
    (``format``, ``quantize``, ``dynamic_batch``, ``batch_size``).

    Raises:
        ValueError: an unknown option, or ``class_names`` whose number is not the
            model's number of classes.
    """
    format, quantize, signature, initial_phase = check_options(
        format, quantize, signature, initial_phase)
    from keras import ops

    import keras_soundgan

    config = model.config
    spec, gen = config.spectrogram, config.generator
    num_classes = int(gen.num_classes)
    class_names = resolve_class_names(num_classes, class_names)
    n_iter = spec.griffin_lim_iters if griffin_lim_iters is None else int(griffin_lim_iters)
    initial_phase = graph_initial_phase(initial_phase, spec)
    batch = -1 if batch_size is None else int(batch_size)
    inputs = {"z": {"shape": [batch, gen.latent_dim], "dtype": "float32"}}
    if num_classes:
        inputs["label"] = {"shape": [batch], "dtype": "int32", "minimum": 0,
                           "maximum": num_classes - 1}
    signatures = {}
    if signature in ("waveform", "both"):
        signatures["waveform"] = {"inputs": inputs, "outputs": {
            "waveform": {"shape": [batch, spec.slice_length], "dtype": "float32"},
            "sample_rate": {"shape": [], "dtype": "int32"}}}
    if signature in ("spectrogram", "both"):
        signatures["spectrogram"] = {"inputs": inputs, "outputs": {"spectrogram": {
            "shape": [batch, spec.height, spec.width, 1], "dtype": "float32"}}}
    if format == "onnx" and signature == "both":
        signatures = {"both": {"inputs": inputs, "outputs": {
            **signatures["waveform"]["outputs"], **signatures["spectrogram"]["outputs"]}}}
    metadata = {
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
        "conditional": bool(num_classes),
        "num_classes": num_classes,
        "class_names": class_names,
        "signatures": signatures,
    }
    if signature in ("waveform", "both"):
        metadata["waveform_scaling"] = WAVEFORM_SCALING
    metadata.update({
        "griffin_lim": {"iterations": n_iter, "momentum": spec.griffin_lim_momentum,
                        "initial_phase": initial_phase},
        "spectrogram": spec.get_config(),
        "statistics": {
            "mean": [float(v) for v in ops.convert_to_numpy(model.spectrogram_mean)],
            "std": [float(v) for v in ops.convert_to_numpy(model.spectrogram_std)],
        },
        "artifact": {"format": format, "quantize": quantize,
                     "dynamic_batch": batch_size is None, "batch_size": batch_size},
    })
    return metadata


def resolve_class_names(num_classes: int, class_names) -> list:
    """The class names to record: ``class_names`` as strings, checked against a
    conditional model's ``num_classes``; for a conditional model without names, the
    labels' numbers (``"0"``, ``"1"``, ...); for an unconditional one, the names given
    (the classes of the data it was trained on) or none."""
    names = [str(c) for c in (class_names or [])]
    if not num_classes:
        return names
    if not names:
        return [str(i) for i in range(num_classes)]
    if len(names) != num_classes:
        raise ValueError(f"class_names: {len(names)} names {names} for a conditional model "
                         f"of {num_classes} classes; give one name per class, in label order")
    if len(set(names)) != len(names):
        raise ValueError(f"class_names: the names must differ, got {names}")
    return names


def sidecar_path(path) -> Path:
    """The metadata JSON written beside an exported file: ``<path>.json``."""
    return Path(os.fspath(path) + ".json")


def read_metadata(path) -> dict:
    """Reads the metadata of an exported artifact: a SavedModel folder's asset, a web
    folder's ``model.tflite.json``, the sidecar JSON of a ``.tflite`` / ``.onnx`` file,
    or, when a ``.tflite`` file has no sidecar, the copy embedded in the file itself.

    Raises:
        FileNotFoundError: no metadata where it should be (the message names the path).
    """
    path = Path(path)
    if path.is_dir():
        candidate = path / "assets" / METADATA_ASSET
        if not candidate.is_file() and (path / WEB_MODEL_NAME).is_file():
            return read_metadata(path / WEB_MODEL_NAME)
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
    schema = tflite_schema()

    model = schema.Model.GetRootAs(flatbuffer, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name().decode() == LITERT_METADATA_NAME:
            data = model.Buffers(entry.Buffer()).DataAsNumpy()
            return json.loads(bytes(data).decode("utf-8"))
    return None
