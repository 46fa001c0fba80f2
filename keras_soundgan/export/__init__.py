"""Ship the generator: SavedModel, LiteRT (``.tflite``), ONNX and a web page, with the
audio inside.

:func:`export_model` writes a trained SoundGAN's generator as a standalone artifact
that needs neither Keras nor this package to run. Two signatures (entry points) can
go in it:

* ``spectrogram``: noise ``z [batch, latent_dim]`` -> normalised spectrogram images
  ``[batch, height, width, 1]`` in [-1, 1] (what ``SoundGAN.generate`` returns);
* ``waveform``: noise ``z`` -> audio ``[batch, slice_length]`` float32 at the model's
  sample rate, plus ``sample_rate`` (int32 scalar). The graph holds the whole inverse of
  :class:`~keras_soundgan.audio.spectral.SpectrogramTransform`: de-normalisation with the
  model's statistics, ``exp``, mel -> linear (mel configs) and a fixed number of fast
  Griffin-Lim iterations, then the WAV writer's peak limit (a sound whose peak exceeds
  1 is divided by its peak), so the samples are ready to play.

A conditional generator's signatures take an int32 ``label [batch]`` beside ``z`` (the
class of each sound, ``class_names[label]`` in the metadata), in every format and
quantisation. The ``web`` format writes a folder with the waveform ``.tflite`` (batch 1)
and a page that runs it in the browser with LiteRT.js (:mod:`keras_soundgan.export.web`).

The waveform graph is written with TFLite *builtin* operators only, so the ``.tflite``
file runs with the plain LiteRT runtime on Android and iOS (no Flex delegate):

* STFT: the frames are cut with ``PAD``, ``RESHAPE``, ``STRIDED_SLICE`` and
  ``CONCATENATION`` when ``hop_length`` divides ``n_fft`` (every preset), else with one
  ``GATHER`` over a constant index table; the real DFT is two ``FULLY_CONNECTED``
  products with constant cosine and sine matrices (the Hann window folded in): no
  complex numbers and no FFT op;
* inverse STFT: two ``FULLY_CONNECTED`` products with the inverse real-DFT matrices
  (window folded in), the overlap-add as shifted ``PAD`` + ``ADD`` of hop blocks (or
  ``GATHER`` + ``SUM``), then the exact window-sum-square envelope (a constant ``MUL``),
  as in :mod:`keras_soundgan.audio.spectral`, free last frame included;
* Griffin-Lim and the mel inverse's FISTA steps: ``WHILE`` loops with a fixed trip
  count; the phase is kept as real and imaginary parts, normalised with ``RSQRT``;
* the initial phase is the Python inverse's default, the locked phase read off each
  sound's magnitude (:func:`~keras_soundgan.audio.phase.locked_phase_graph`: ``LOG``,
  comparisons, ``CUMSUM``, ``GATHER``, ``SIN``, ``COS``), so every sound of a batch
  equals ``model.generate_audio``'s to float rounding. ``initial_phase="random"`` bakes
  in a constant instead, the phase the Python inverse draws for its first sound with
  ``phase_init="random"`` (the export before the locked phase), and ``"zero"`` zero
  phase.

Quantisation (LiteRT) touches the generator, never the audio inverse: ``float16``
stores the generator's weights in float16, while the inverse's ops read the float32
constants of a float32 conversion of the same graph (in half precision its 1e-30
floors became 0 and some trained sounds NaN);
``dynamic-int8`` stores the generator's weights in int8 and puts the DFT matrices back
in float32 after conversion; ``int8`` quantises the generator's weights and activations
(calibrated on noise) and keeps every op of the inverse in float32.

Metadata travels with the artifact (:func:`export_metadata`): sample rate, latent size
and distribution, slice length, image shape, the number of classes and their names
(from a run folder's ``data.json``), how the waveform is scaled, the spectrogram
config and its statistics, the Griffin-Lim settings and the signatures. A ``.tflite`` carries it embedded (the model's ``metadata`` table, entry
``keras_soundgan``) and in a sidecar ``<file>.tflite.json``, and its waveform signature
outputs ``sample_rate``; an ONNX file has it in ``metadata_props`` and a sidecar; a
SavedModel in ``assets/keras_soundgan.json``, a ``metadata`` signature and attributes
(``sample_rate``, ``latent_dim``, ``slice_length``, ``latent_distribution``,
``num_classes``, ``class_names``). The statistics are also inside the waveform graph, as constants.

Export needs the TensorFlow backend. A model trained on JAX or PyTorch is saved to a
``.keras`` file and exported by ``KERAS_BACKEND=tensorflow python -m
keras_soundgan.export`` in a subprocess, which :func:`export_model` does by itself.

The package's files, one concern each (as Keras's own ``keras/src/export/``):

* ``api.py``: :func:`export_model`, finding the model, handing it to a writer;
* ``options.py``: the formats, quantisations and signatures, and their checks;
* ``metadata.py``: :func:`export_metadata`, :func:`read_metadata`, the sidecar;
* ``synthesis.py``: the audio inverse in TFLite builtin operators;
* ``signatures.py``: the traced entry points every writer converts;
* ``litert.py``, ``onnx.py``, ``saved_model.py``: the writers (LiteRT with its
  quantisation and flatbuffer edits);
* ``web.py`` (and ``web_page/``): the page of the ``web`` format, with LiteRT.js;
* ``relaunch.py``: the TensorFlow subprocess for other backends; ``__main__.py``
  its entry point (``python -m keras_soundgan.export``).

Example::

    from keras_soundgan.export import export_model
    export_model("runs/tiny-20250101-120000", "drums.tflite")              # float32
    export_model(model, "drums-int8.tflite", quantize="int8")
    export_model(model, "drums_savedmodel", format="saved_model")
    export_model(model, "drums.onnx", format="onnx", signature="waveform")
    export_model("runs/kit", "drum-pads", format="web")    # cd drum-pads && python -m http.server
"""

from __future__ import annotations

from keras_soundgan.export.api import export_model
from keras_soundgan.export.litert import litert_operators
from keras_soundgan.export.metadata import (
    export_metadata,
    litert_metadata,
    read_metadata,
    sidecar_path,
)
from keras_soundgan.export.options import FORMATS, INITIAL_PHASES, QUANTIZATIONS, SIGNATURES

__all__ = [
    "FORMATS",
    "QUANTIZATIONS",
    "SIGNATURES",
    "INITIAL_PHASES",
    "export_model",
    "export_metadata",
    "litert_metadata",
    "litert_operators",
    "read_metadata",
    "sidecar_path",
]
