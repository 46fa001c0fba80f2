"""Pretrained presets: trained SoundGANs that ship inside the package, keras-hub style.

A configuration preset (``SoundGANConfig.from_preset("drums")``, ``SoundGAN("drums")``)
is a recipe; a pretrained preset is a model that has followed it and makes sound now::

    from keras_soundgan import SoundGAN

    SoundGAN.presets                        # {"drums": {...}, "notes": ..., ...}
    model = SoundGAN.from_preset("drums")   # trained weights, statistics, class names
    audio = model.generate_audio(8, seed=0, labels="kick")
    model.save_to_preset("my-kit")          # a folder that from_preset reads back

A preset folder holds two files:

* ``config.json``: ``{"format": "keras_soundgan.preset", "version": 1, "config": the
  SoundGANConfig, "class_names": [...], "metadata": {...}}``; the metadata of a shipped
  preset says what it was trained on, how, under which licence, and its scores.
* ``model.weights.npz``: the generator (its moving average, when the model keeps one),
  the discriminator (so that fine-tuning starts from a critic that knows the sounds)
  and the spectrogram statistics, by position; no optimizer state. The shipped presets
  store their kernels in float16 (half the size); they are float32 once loaded.

The shipped presets live in ``keras_soundgan/presets/<name>/``;
``scripts/make_presets.py`` makes their data from Debian packages, trains them and
writes these folders.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

__all__ = ["PRESETS_DIR", "list_pretrained", "load_preset", "load_preset_weights",
           "read_preset", "save_to_preset"]

#: Where the shipped presets live (package data).
PRESETS_DIR = Path(__file__).resolve().parent / "presets"
FORMAT = "keras_soundgan.preset"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.npz"
WEIGHTS_DTYPES = ("float32", "float16")


def list_pretrained() -> dict:
    """``{name: metadata}`` of the shipped presets, sorted by name."""
    found = {}
    for path in sorted(PRESETS_DIR.glob(f"*/{CONFIG_FILE}")):
        found[path.parent.name] = json.loads(path.read_text(encoding="utf-8")).get(
            "metadata", {})
    return found


def _folder(preset) -> Path:
    """The folder of ``preset``: a shipped name, or a folder written by
    :func:`save_to_preset`."""
    if not isinstance(preset, (str, os.PathLike)):
        raise TypeError(f"preset must be a preset name or a folder, got {preset!r}")
    path = Path(preset)
    if path.is_dir():
        if not (path / CONFIG_FILE).is_file():
            raise FileNotFoundError(f"{path} is not a preset folder: it has no {CONFIG_FILE} "
                                    "(write one with model.save_to_preset)")
        return path
    shipped = PRESETS_DIR / str(preset)
    if isinstance(preset, str) and "/" not in preset and (shipped / CONFIG_FILE).is_file():
        return shipped
    names = ", ".join(list_pretrained()) or "none"
    raise ValueError(f"unknown preset {os.fspath(preset)!r}: not a folder, and the "
                     f"pretrained presets are {names}")


def save_to_preset(model, directory, *, weights_dtype: str = "float32",
                   metadata: dict | None = None) -> Path:
    """Writes ``model`` to a preset folder that :func:`load_preset` reads.

    Args:
        model: a :class:`~keras_soundgan.SoundGAN`.
        directory: the folder to write (created; its two files are replaced).
        weights_dtype: ``"float32"`` (default, exact) or ``"float16"`` (kernels in half
            precision: half the size, and what the shipped presets use).
        metadata: JSON-serialisable facts to keep with it (what it was trained on, its
            scores); ``SoundGAN.presets`` shows them for shipped presets.

    Returns:
        ``pathlib.Path``: the folder.
    """
    from keras import ops

    from keras_soundgan.files import atomic_write_text

    if weights_dtype not in WEIGHTS_DTYPES:
        raise ValueError(f"weights_dtype must be one of {', '.join(WEIGHTS_DTYPES)}, "
                         f"got {weights_dtype!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    def stored(variable):
        value = np.asarray(ops.convert_to_numpy(variable))
        if weights_dtype == "float16" and value.ndim >= 2 and value.dtype == np.float32:
            return value.astype(np.float16)  # kernels; biases and statistics stay float32
        return value

    arrays = {"spectrogram_mean": stored(model.spectrogram_mean),
              "spectrogram_std": stored(model.spectrogram_std)}
    for net, layer in _networks(model, for_saving=True):
        for i, variable in enumerate(layer.weights):
            arrays[f"{net}/{i:04d}"] = stored(variable)
    temporary = directory / f".{WEIGHTS_FILE}.tmp.npz"
    np.savez(temporary, **arrays)
    os.replace(temporary, directory / WEIGHTS_FILE)
    atomic_write_text(directory / CONFIG_FILE, json.dumps({
        "format": FORMAT,
        "version": VERSION,
        "config": model.config.get_config(),
        "class_names": list(model.class_names or ()),
        "metadata": dict(metadata or {}),
    }, indent=2) + "\n")
    return directory


def read_preset(preset) -> tuple:
    """``(SoundGANConfig, class names or None, metadata)`` of a preset, without its
    weights (see :func:`load_preset` for ``preset``)."""
    from keras_soundgan.config import SoundGANConfig

    config_file = _folder(preset) / CONFIG_FILE
    try:
        info = json.loads(config_file.read_text(encoding="utf-8"))
        if info.get("format") != FORMAT:
            raise ValueError(f"its format is {info.get('format')!r}, not {FORMAT!r}")
        if info.get("version", 0) > VERSION:
            raise ValueError(f"it is version {info['version']}; this keras-soundgan "
                             f"reads up to version {VERSION}: upgrade it")
        config = SoundGANConfig.from_config(info["config"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{config_file} is not a keras-soundgan preset: {error}") from error
    return config, info.get("class_names") or None, info.get("metadata", {})


def load_preset(preset, cls):
    """The model of a preset: a shipped name (:func:`list_pretrained`) or a folder
    written by :func:`save_to_preset`. ``SoundGAN.from_preset`` calls it.

    Args:
        preset: str or path-like.
        cls: the class to build (:class:`~keras_soundgan.SoundGAN`; passed in, so that
            this module does not import the model's and close a circle).

    Returns:
        The model, uncompiled (``compile()`` it to fine-tune).

    Raises:
        ValueError: an unknown name, or a folder whose files do not fit together.
    """
    config, class_names, _ = read_preset(preset)
    model = cls(config, class_names=class_names)
    load_preset_weights(model, preset, statistics=True)
    return model


def load_preset_weights(model, preset, statistics: bool = True,
                        skip_mismatched: bool = False) -> int:
    """Puts a preset's weights into ``model`` (built from a config with the same
    networks): the generator (and its moving average) and the discriminator; with
    ``statistics``, the spectrogram statistics too. A fine-tuning run keeps its own
    data's statistics (``statistics=False``).

    Args:
        model: the :class:`~keras_soundgan.SoundGAN` to fill.
        preset: a shipped name or a preset folder.
        statistics: bool. Also the spectrogram statistics.
        skip_mismatched: bool. Leave the weights whose shape differs as they are
            (those that depend on the number of classes, when fine-tuning on other
            classes) instead of refusing.

    Returns:
        int: how many weights were left as they were.

    Raises:
        ValueError: the weights do not fit the model's networks (named by the file).
    """
    weights_file = _folder(preset) / WEIGHTS_FILE
    try:
        with np.load(weights_file) as arrays:
            return _assign(model, {key: arrays[key] for key in arrays.files}, weights_file,
                           statistics, skip_mismatched)
    except (OSError, KeyError) as error:
        raise ValueError(f"{weights_file} cannot be read as a preset's weights: "
                         f"{error}") from error


def _networks(model, for_saving=False):
    """``(name, network)`` pairs of what a preset stores: the generator that generates
    (the moving average when there is one) under ``generator``, and the critic."""
    generator = model.ema_generator or model.generator
    pairs = [("generator", generator), ("discriminator", model.discriminator)]
    if not for_saving and model.ema_generator is not None:
        pairs.append(("generator", model.generator))  # training continues from the average
    return pairs


def _assign(model, arrays, path, statistics, skip_mismatched=False):
    expected = {"spectrogram_mean", "spectrogram_std"}
    pairs = []
    for net, layer in _networks(model):
        for i, variable in enumerate(layer.weights):
            key = f"{net}/{i:04d}"
            expected.add(key)
            pairs.append((variable, key))
    if statistics:
        pairs += [(getattr(model, key), key) for key in ("spectrogram_mean", "spectrogram_std")]
    extra = sorted(set(arrays) - expected)
    if extra:
        raise ValueError(f"{path} holds weights this configuration has no place for "
                         f"({', '.join(extra[:3])}): the config and weights do not match")
    skipped = 0
    for variable, key in pairs:  # every check first: nothing is half loaded
        if key not in arrays:
            raise ValueError(f"{path} lacks {key}: the config and weights do not match")
        if tuple(arrays[key].shape) != tuple(variable.shape) and not skip_mismatched:
            raise ValueError(f"{path}: {key} has shape {tuple(arrays[key].shape)}, the "
                             f"model's {variable.path} {tuple(variable.shape)}")
    for variable, key in pairs:
        if tuple(arrays[key].shape) != tuple(variable.shape):
            skipped += 1
            continue
        variable.assign(arrays[key].astype(variable.dtype))
    return skipped
