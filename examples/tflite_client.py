"""Make sounds with an exported keras_soundgan model: the calls an app makes.

Export a trained run first (the waveform signature holds the audio inverse)::

    keras-soundgan export runs/tiny-20250101-120000 --format litert --output drums.tflite

then, with nothing but ``pip install ai-edge-litert numpy soundfile``::

    python examples/tflite_client.py drums.tflite --seed 3 --count 4 --output sounds/
    python examples/tflite_client.py drums.tflite --label snare --count 4 --output snares/

This file imports only ai_edge_litert, numpy, soundfile and the standard library: no
TensorFlow, no Keras, no keras_soundgan. It

1. reads the metadata: the sidecar ``drums.tflite.json`` if it is there, else the copy
   embedded in the ``.tflite`` file (its ``keras_soundgan`` metadata entry);
2. draws the noise the model was trained on: ``latent_dim`` values per sound, uniform
   in [-1, 1] or standard normal (``latent_distribution``), seeded with numpy's
   ``default_rng(seed)``, so ``--seed 3`` gives the spectrograms ``model.generate(n,
   seed=3)`` gives in Python (the sounds differ by their phase: Python's inverse
   starts Griffin-Lim from PGHI by default, the export from a fixed phase);
3. for a conditional model, turns ``--label`` (a class name from the metadata's
   ``class_names``, or its number) into the int32 ``label`` input; without
   ``--label``, the classes take turns, as ``model.generate`` does;
4. runs the ``waveform`` signature: noise ``z [n, latent_dim]`` (and ``label [n]``) in,
   ``waveform [n, slice_length]`` float32 samples and ``sample_rate`` out; the samples
   are ready to play (the model limits each sound's peak to 1, see the metadata's
   ``waveform_scaling``);
5. writes 16-bit WAV files.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import soundfile as sf
from ai_edge_litert.interpreter import Interpreter


def read_metadata(model_path: str) -> dict:
    """The export's metadata: the sidecar JSON, or the copy inside the model file."""
    sidecar = model_path + ".json"
    if os.path.isfile(sidecar):
        with open(sidecar, encoding="utf-8") as f:
            return json.load(f)
    from ai_edge_litert import schema_py_generated as schema  # ships with ai-edge-litert

    with open(model_path, "rb") as f:
        model = schema.Model.GetRootAs(f.read(), 0)
    for i in range(model.MetadataLength()):
        if model.Metadata(i).Name() == b"keras_soundgan":
            data = model.Buffers(model.Metadata(i).Buffer()).DataAsNumpy()
            return json.loads(bytes(data).decode("utf-8"))
    raise SystemExit(f"{model_path} has no keras_soundgan metadata; was it exported by "
                     "keras-soundgan export?")


def draw_noise(metadata: dict, count: int, seed: int | None) -> np.ndarray:
    """``[count, latent_dim]`` float32 noise from the model's latent distribution."""
    rng = np.random.default_rng(seed)
    shape = (count, metadata["latent_dim"])
    if metadata["latent_distribution"] == "uniform":
        return rng.uniform(-1.0, 1.0, shape).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def label_index(metadata: dict, label: str, model_path: str) -> int:
    """The class number of ``label``: a name from ``class_names`` or a number. Exits
    with a message naming the classes when it is neither, or when the model is not
    conditional."""
    names = metadata.get("class_names", [])
    if not metadata.get("num_classes"):
        raise SystemExit(f"--label {label!r}: {model_path} is not conditional (it takes no "
                         "label); leave --label out")
    if label in names:
        return names.index(label)
    if label.isdigit() and int(label) < metadata["num_classes"]:
        return int(label)
    raise SystemExit(f"--label {label!r} is not a class of {model_path}; its classes are "
                     f"{', '.join(names)} (or their numbers 0 to {metadata['num_classes'] - 1})")


def generate(model_path: str, count: int = 1, seed: int | None = None,
             threads: int = 1, label: str | None = None) -> tuple[np.ndarray, int]:
    """Runs the model: ``(waveforms [count, slice_length], sample_rate)``."""
    metadata = read_metadata(model_path)
    interpreter = Interpreter(model_path=model_path, num_threads=threads)
    if "waveform" not in interpreter.get_signature_list():
        raise SystemExit(f"{model_path} has no waveform signature; export it with "
                         "--signature waveform or both")
    waveform = interpreter.get_signature_runner("waveform")
    inputs = {"z": draw_noise(metadata, count, seed)}
    if label is not None:
        inputs["label"] = np.full(count, label_index(metadata, label, model_path), np.int32)
    elif metadata.get("num_classes"):  # every class in turn
        inputs["label"] = (np.arange(count) % metadata["num_classes"]).astype(np.int32)
    outputs = waveform(**inputs)  # resizes the batch to `count` by itself
    return outputs["waveform"], int(outputs["sample_rate"])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="the exported .tflite file")
    parser.add_argument("--count", "-n", type=int, default=1, help="sounds to make")
    parser.add_argument("--seed", type=int, default=None, help="noise seed")
    parser.add_argument("--threads", type=int, default=1, help="interpreter threads")
    parser.add_argument("--label", default=None,
                        help="conditional models: the class to make (a name from the "
                             "metadata's class_names, or its number); default: each in turn")
    parser.add_argument("--output", "-o", default="sound.wav",
                        help="a .wav file (one sound) or a folder (several)")
    args = parser.parse_args(argv)

    waveforms, rate = generate(args.model, args.count, args.seed, args.threads, args.label)
    if args.count == 1 and args.output.endswith(".wav"):
        paths = [args.output]
    else:
        os.makedirs(args.output, exist_ok=True)
        paths = [os.path.join(args.output, f"sound_{i:02d}.wav") for i in range(args.count)]
    for path, clip in zip(paths, waveforms):
        sf.write(path, clip, rate, subtype="PCM_16")  # peak <= 1 already
        print(f"wrote {path} ({len(clip) / rate:.2f} s at {rate} Hz)")


if __name__ == "__main__":
    main()
