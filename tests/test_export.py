"""Export: LiteRT, SavedModel and ONNX artifacts against the Keras model they came from.

Tolerances (measured on this small model, then given margin; docs/export.md has the
numbers):

* spectrogram signature, max |export - Keras| over a batch: float32 1e-4 (measured
  ~1e-8), float16 1e-3 (~2e-5), dynamic-int8 5e-3 (~4e-4), int8 0.03 (~4e-3: the int8
  tanh output has steps of 1/128);
* waveform signature: every sound starts Griffin-Lim from the phase locked in the
  graph from its own magnitude, as the Python inverse does by default, so float32
  matches ``transform.inverse`` sample by sample, every sound of the batch (max 1e-4).
  For the quantised models the comparison is spectral: the magnitude spectrogram of
  the exported sound against the Python sound's (relative Frobenius error), and the
  spectral convergence of both against the target magnitude. With
  ``initial_phase="random"`` only the first sound of a batch shares the Python
  inverse's start (a constant phase baked in);
* conditional models (``cond_model``, loud enough that every sound peaks above 1): each
  exported sound against the Python inverse, peak-limited as the WAV writer does,
  sample by sample in float32 (1e-4) and by magnitude for the quantised models.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert", reason="pip install ai-edge-litert (the export extra)")

from ai_edge_litert.interpreter import Interpreter  # noqa: E402

from keras_soundgan import SoundGANConfig  # noqa: E402
from keras_soundgan.export import (  # noqa: E402
    export_metadata,
    export_model,
    litert_metadata,
    litert_operators,
    read_metadata,
    sidecar_path,
)
from keras_soundgan.models.soundgan import SoundGAN  # noqa: E402

N_ITER = 8
ROOT = Path(__file__).resolve().parent.parent
#: Every operator a float32 .tflite of this package may hold: TFLite builtins only.
BUILTIN_OPS = {
    "ADD", "CONCATENATION", "DEQUANTIZE", "EXP", "FULLY_CONNECTED", "GATHER", "LESS",
    "MAXIMUM", "MUL", "PACK", "PAD", "QUANTIZE", "RESHAPE", "RSQRT", "SHAPE", "SQRT",
    "STRIDED_SLICE", "SUB", "SUM", "TANH", "TRANSPOSE", "TRANSPOSE_CONV", "WHILE",
    "ZEROS_LIKE", "RELU", "DIV", "MATRIX_DIAG", "BATCH_MATMUL", "LEAKY_RELU",
    "ABS", "REDUCE_MAX",  # the waveform's peak limit
    "SELECT_V2",  # a conditional generator's embedding (Keras's take wraps negative indices)
    "RESIZE_NEAREST_NEIGHBOR", "CONV_2D",  # generator.upsampling="resize"
    # the locked initial phase: log magnitudes, climbing to peaks, integrating
    "LOG", "GREATER", "GREATER_EQUAL", "LOGICAL_AND", "CUMSUM", "FLOOR", "SIN", "COS",
}


def _config(**overrides):
    values = {
        "spectrogram.slice_length": 2048,
        "spectrogram.n_fft": 64,
        "spectrogram.hop_length": 32,
        "generator.num_layers": 3,
        "generator.base_filters": 8,
        "generator.latent_dim": 16,
        "discriminator.num_layers": 3,
        "discriminator.base_filters": 8,
    }
    values.update(overrides)
    return SoundGANConfig.from_preset("tiny", **values)


def _model(config):
    import keras

    keras.utils.set_random_seed(0)
    model = SoundGAN(config)
    height = config.spectrogram.height
    # Plausible statistics: log magnitudes falling with frequency, ~1.5 nepers spread.
    model.set_spectrogram_statistics(np.linspace(-2.0, -6.0, height).astype("float32"),
                                     np.full(height, 1.5, "float32"))
    return model


@pytest.fixture(scope="module")
def model():
    return _model(_config())


def _limit_peak(audio):
    """What the WAV writer does to a sound: a peak above 1 brought to 1."""
    return audio / np.maximum(np.max(np.abs(audio), axis=1, keepdims=True), 1.0)


@pytest.fixture(scope="module")
def reference(model):
    """Noise, the Keras images and the Python inverse's sounds (peak-limited) for 4
    sounds, from the config's default start (phase locking), which the export computes
    in its graph too. This model is quiet (peaks ~0.05): the limit changes nothing."""
    z = model.latent(4, seed=1)
    images = model.generate(4, z=z)
    audio = model.spectrogram_transform().inverse(images, n_iter=N_ITER)
    assert np.max(np.abs(audio)) < 1.0
    return z, images, _limit_peak(audio)


@pytest.fixture(scope="module")
def litert_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("litert")


@pytest.fixture(scope="module")
def float_tflite(model, litert_dir):
    return export_model(model, litert_dir / "model.tflite", griffin_lim_iters=N_ITER,
                        class_names=["kick", "snare"])


def _magnitude(model, audio):
    transform = model.spectrogram_transform()
    return np.maximum(np.exp(transform.log_magnitude(audio)) - model.config.spectrogram.log_eps,
                      0.0)


def _relative_error(a, b):
    a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
    return np.linalg.norm(a - b, axis=1) / np.linalg.norm(b, axis=1)


def _spectral_convergence(model, audio, images):
    """||S - |STFT(audio)||| / ||S|| per sound, S the magnitude the images ask for."""
    transform = model.spectrogram_transform()
    target = np.maximum(np.exp(transform.denormalize(images))
                        - model.config.spectrogram.log_eps, 0.0)
    return _relative_error(_magnitude(model, audio), target)


# -- LiteRT, float32 --------------------------------------------------------------------------


def test_litert_spectrogram_matches_keras_with_any_batch(model, reference, float_tflite):
    z, images, _ = reference
    runner = Interpreter(model_path=str(float_tflite),
                         num_threads=1).get_signature_runner("spectrogram")
    out = runner(z=z)["spectrogram"]
    assert out.shape == images.shape
    np.testing.assert_allclose(out, images, atol=1e-4)
    # The batch axis is dynamic: one sound, then three, from the same runner.
    np.testing.assert_allclose(runner(z=z[:1])["spectrogram"], images[:1], atol=1e-4)
    np.testing.assert_allclose(runner(z=z[1:])["spectrogram"], images[1:], atol=1e-4)


def test_litert_waveform_matches_the_python_inverse(model, reference, float_tflite):
    z, images, audio = reference
    runner = Interpreter(model_path=str(float_tflite),
                         num_threads=1).get_signature_runner("waveform")
    out = runner(z=z)
    assert out["waveform"].shape == (4, model.config.spectrogram.slice_length)
    assert out["waveform"].dtype == np.float32
    assert int(out["sample_rate"]) == model.config.spectrogram.sample_rate
    # Every sound starts from the phase locked from its own magnitude, in the graph as
    # in Python: the same samples.
    np.testing.assert_allclose(out["waveform"], audio, atol=1e-4)
    # Batch of one: the same as sound 0 of the batch.
    np.testing.assert_allclose(runner(z=z[:1])["waveform"][0], out["waveform"][0], atol=1e-5)


def test_random_initial_phase_matches_the_first_python_sound(model, reference, tmp_path):
    z, images, _ = reference
    audio = model.spectrogram_transform().inverse(images, n_iter=N_ITER, phase_init="random")
    path = export_model(model, tmp_path / "random.tflite", signature="waveform",
                        griffin_lim_iters=N_ITER, initial_phase="random")
    assert read_metadata(path)["griffin_lim"]["initial_phase"] == "random"
    out = Interpreter(model_path=str(path)).get_signature_runner("waveform")(z=z)["waveform"]
    # Sound 0 starts from the Python inverse's own random phase: the same samples.
    np.testing.assert_allclose(out[0], audio[0], atol=1e-4)
    # The others start from that same phase pattern, not from fresh random phases:
    # as consistent with their target magnitudes as the Python inverse's sounds.
    ours = _spectral_convergence(model, out, images)
    python = _spectral_convergence(model, audio, images)
    assert np.all(ours < python + 0.01), (ours, python)


def test_litert_uses_builtin_ops_only_and_waveform_is_subgraph_zero(float_tflite):
    ops = litert_operators(float_tflite)
    assert set(ops) <= BUILTIN_OPS, sorted(set(ops) - BUILTIN_OPS)
    assert not any(name.startswith("CUSTOM") for name in ops)
    assert "WHILE" in ops and "FULLY_CONNECTED" in ops and "TRANSPOSE_CONV" in ops
    interpreter = Interpreter(model_path=str(float_tflite))
    assert set(interpreter.get_signature_list()) == {"waveform", "spectrogram"}
    # APIs without signatures (Swift's Interpreter, Interpreter.run) use subgraph 0.
    (waveform_input,) = interpreter.get_input_details()
    assert list(waveform_input["shape_signature"]) == [-1, 16]
    shapes = sorted(tuple(d["shape_signature"]) for d in interpreter.get_output_details())
    assert shapes == [(), (-1, 2048)]


def test_litert_metadata_travels_with_the_file(model, float_tflite, tmp_path):
    metadata = read_metadata(float_tflite)
    assert sidecar_path(float_tflite) == Path(str(float_tflite) + ".json")
    assert metadata["sample_rate"] == 16000
    assert metadata["latent_dim"] == 16
    assert metadata["latent_distribution"] == "uniform"
    assert metadata["slice_length"] == 2048
    assert metadata["class_names"] == ["kick", "snare"]
    assert metadata["image_shape"] == [32, 64, 1]
    assert metadata["griffin_lim"] == {"iterations": N_ITER, "momentum": 0.99,
                                       "initial_phase": "lock"}
    assert len(metadata["statistics"]["mean"]) == 32
    assert metadata["artifact"] == {"format": "litert", "quantize": None,
                                    "dynamic_batch": True, "batch_size": None}
    assert metadata["conditional"] is False and metadata["num_classes"] == 0
    assert metadata["waveform_scaling"]["peak_limit"] == 1.0
    assert set(metadata["signatures"]["waveform"]["inputs"]) == {"z"}
    assert set(metadata["signatures"]) == {"waveform", "spectrogram"}
    # The same JSON is embedded in the .tflite: a copy without its sidecar still has it.
    assert litert_metadata(float_tflite.read_bytes()) == metadata
    lone = tmp_path / "lone.tflite"
    lone.write_bytes(float_tflite.read_bytes())
    assert read_metadata(lone) == metadata
    assert metadata == json.loads(json.dumps(export_metadata(
        model, griffin_lim_iters=N_ITER, class_names=["kick", "snare"])))


# -- LiteRT, quantised --------------------------------------------------------------------------

# quantisation: (spectrogram max error, waveform magnitude error vs Python beyond the
#                images' own, allowed rise of the spectral convergence)
# (the largest image error over the images' standard deviation, the sounds' magnitude
# error beyond the images', the spectral convergence beyond Python's), measured on
# generators whose images spread over tanh's range (_spread), 2026-12-06: the first
# about 0.003, 0.06 and 0.13; the second up to 0.01, 0.11 and 0.14. Griffin-Lim
# carries an integer quantiser's small image changes into a different phase, so the
# sounds' magnitudes differ from Python's sounds' more than the images do; what holds
# them to their own images is the spectral convergence.
QUANTIZED = {
    "float16": (0.01, 0.02, 0.01),
    "dynamic-int8": (0.1, 0.15, 0.01),
    "int8": (0.25, 0.2, 0.02),
}


def _image_magnitude(model, images):
    transform = model.spectrogram_transform()
    return np.maximum(np.exp(transform.denormalize(images))
                      - model.config.spectrogram.log_eps, 0.0)


def _spread(model):
    """``model`` with its last layer's kernel scaled up, so that its images spread over
    tanh's range instead of staying near 0 (as a trained generator's do, and unlike a
    fresh one's): there a quantiser's error means something, measured against the
    images' own scale."""
    for generator in filter(None, (model.generator, model.ema_generator)):
        last = [layer for layer in generator.layers if layer.name.endswith("_deconv")][-1]
        last.kernel.assign(last.kernel * 100.0)
    images = model.generate(8, seed=1, labels=[0, 1, 2, 0, 1, 2, 0, 1]
                            if model.config.generator.num_classes else None)
    assert np.std(images) > 0.3 and np.max(np.abs(images)) > 0.9, np.std(images)
    return model


@pytest.fixture(scope="module")
def spread_model():
    return _spread(_model(_config()))


@pytest.mark.parametrize("quantize", list(QUANTIZED))
def test_quantized_litert_stays_within_tolerance(spread_model, float_tflite, litert_dir,
                                                 quantize):
    model = spread_model
    z = model.latent(4, seed=1)
    images = model.generate(4, z=z)
    audio = _limit_peak(model.spectrogram_transform().inverse(images, n_iter=N_ITER))
    spec_tol, magnitude_tol, convergence_tol = QUANTIZED[quantize]
    path = export_model(model, litert_dir / f"model-{quantize}.tflite", quantize=quantize,
                        griffin_lim_iters=N_ITER)
    assert path.stat().st_size < float_tflite.stat().st_size
    assert read_metadata(path)["artifact"]["quantize"] == quantize
    ops = litert_operators(path)
    assert set(ops) <= BUILTIN_OPS, sorted(set(ops) - BUILTIN_OPS)
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    # Dynamic batch works for every quantisation here, int8 included: the model keeps
    # float32 inputs and outputs (QUANTIZE / DEQUANTIZE inside).
    images_out = interpreter.get_signature_runner("spectrogram")(z=z)["spectrogram"]
    # The largest image error, against the images' own spread (their standard deviation).
    assert np.max(np.abs(images_out - images)) < spec_tol * np.std(images)
    audio_out = interpreter.get_signature_runner("waveform")(z=z)["waveform"]
    assert audio_out.shape == audio.shape
    # The sounds differ from Python's by about as much as the quantised images differ
    # from Keras's (each sound's phase is locked from its own magnitude) ...
    images_error = _relative_error(_image_magnitude(model, images_out),
                                   _image_magnitude(model, images))
    error = _relative_error(_magnitude(model, audio_out), _magnitude(model, audio))
    assert np.all(error < images_error + magnitude_tol), (error, images_error)
    # ... and are as consistent with their own images as Python's with Keras's.
    ours = _spectral_convergence(model, audio_out, images_out)
    python = _spectral_convergence(model, audio, images)
    assert np.mean(ours) < np.mean(python) + convergence_tol, (ours, python)


def test_dynamic_int8_keeps_the_fourier_matrices_float(model, litert_dir):
    from tensorflow.lite.python import schema_py_generated as schema

    path = export_model(model, litert_dir / "dyn.tflite", quantize="dynamic-int8",
                        signature="waveform", griffin_lim_iters=2)
    flat = schema.Model.GetRootAs(path.read_bytes(), 0)
    weight_types = {}
    for g in range(flat.SubgraphsLength()):
        subgraph = flat.Subgraphs(g)
        for o in range(subgraph.OperatorsLength()):
            op = subgraph.Operators(o)
            code = flat.OperatorCodes(op.OpcodeIndex())
            if max(code.BuiltinCode(), code.DeprecatedBuiltinCode()) != \
                    schema.BuiltinOperator.FULLY_CONNECTED:
                continue
            output = subgraph.Tensors(op.Outputs(0)).Name().decode()
            weight_types[output] = subgraph.Tensors(op.Inputs(1)).Type()
    generator = [t for name, t in weight_types.items() if "generator" in name]
    synthesis = [t for name, t in weight_types.items() if "synthesis" in name]
    assert generator and all(t == schema.TensorType.INT8 for t in generator)
    assert synthesis and all(t == schema.TensorType.FLOAT32 for t in synthesis)


def test_float16_keeps_the_audio_inverse_float(model, litert_dir):
    """float16 stores the generator's weights in half precision, not the audio
    inverse's constants (a 1e-30 floor would be 0, 2*pi 6.28): no op of the inverse
    reads a half-precision constant, and every generator weight is one."""
    from tensorflow.lite.python import schema_py_generated as schema

    path = export_model(model, litert_dir / "f16.tflite", quantize="float16",
                        signature="waveform", griffin_lim_iters=2)
    flat = schema.Model.GetRootAs(path.read_bytes(), 0)
    dequantize = {i for i in range(flat.OperatorCodesLength())
                  if max(flat.OperatorCodes(i).BuiltinCode(),
                         flat.OperatorCodes(i).DeprecatedBuiltinCode())
                  == schema.BuiltinOperator.DEQUANTIZE}
    half_read_by = {"synthesis": 0, "generator": 0}
    synthesis_constants = 0
    for g in range(flat.SubgraphsLength()):
        subgraph = flat.Subgraphs(g)
        ops = [subgraph.Operators(o) for o in range(subgraph.OperatorsLength())]
        from_half = {op.Outputs(0) for op in ops if op.OpcodeIndex() in dequantize}
        for op in ops:
            if op.OpcodeIndex() in dequantize:
                continue
            name = subgraph.Tensors(op.Outputs(0)).Name().decode()
            for i in range(op.InputsLength()):
                index = op.Inputs(i)
                if index < 0:
                    continue
                for part in half_read_by:
                    if part in name and index in from_half:
                        half_read_by[part] += 1
                tensor = subgraph.Tensors(index)
                if ("synthesis" in name and tensor.Type() == schema.TensorType.FLOAT32
                        and flat.Buffers(tensor.Buffer()).DataLength()):
                    synthesis_constants += 1
    assert half_read_by["synthesis"] == 0 and half_read_by["generator"] > 0, half_read_by
    assert synthesis_constants > 10


def test_float16_export_of_a_silent_sound_is_finite(tmp_path):
    # Images whose magnitude is exactly 0 everywhere: the locked phase's log floor
    # (1e-30) was 0 in half precision, and the sound NaN.
    silent = _model(_config())
    height = silent.config.spectrogram.height
    floor = np.log(silent.config.spectrogram.log_eps) - 20.0
    silent.set_spectrogram_statistics(np.full(height, floor, "float32"),
                                      np.full(height, 1.5, "float32"))
    z = silent.latent(2, seed=1)
    expected = silent.spectrogram_transform().inverse(silent.generate(2, z=z), n_iter=2)
    path = export_model(silent, tmp_path / "silent.tflite", quantize="float16",
                        signature="waveform", griffin_lim_iters=2)
    runner = Interpreter(model_path=str(path), num_threads=1).get_signature_runner("waveform")
    audio = runner(z=z)["waveform"]
    assert np.all(np.isfinite(audio))
    np.testing.assert_allclose(audio, expected, atol=1e-6)


@pytest.mark.parametrize("signature", ["waveform", "both"])
def test_int8_keeps_the_audio_inverse_float(model, litert_dir, signature):
    """Only the generator is int8: no tensor of the audio inverse (the locked phase's
    log magnitude included) and no op writing the waveform is quantised, whether the
    waveform is the only signature or not."""
    from tensorflow.lite.python import schema_py_generated as schema

    path = export_model(model, litert_dir / f"int8-{signature}.tflite", quantize="int8",
                        signature=signature, griffin_lim_iters=2)
    flat = schema.Model.GetRootAs(path.read_bytes(), 0)
    quantized = {schema.TensorType.INT8, schema.TensorType.UINT8, schema.TensorType.INT16}
    waveform = next(flat.SignatureDefs(s) for s in range(flat.SignatureDefsLength())
                    if flat.SignatureDefs(s).SignatureKey().decode() == "waveform")
    outputs = {waveform.Outputs(o).TensorIndex() for o in range(waveform.OutputsLength())}
    seen = 0
    for g in range(flat.SubgraphsLength()):
        subgraph = flat.Subgraphs(g)
        for t in range(subgraph.TensorsLength()):
            tensor = subgraph.Tensors(t)
            if "synthesis" in tensor.Name().decode():
                seen += 1
                assert tensor.Type() not in quantized, tensor.Name()
        if g != waveform.SubgraphIndex():
            continue
        for o in range(subgraph.OperatorsLength()):  # what writes the waveform is float
            op = subgraph.Operators(o)
            if any(op.Outputs(i) in outputs for i in range(op.OutputsLength())):
                for i in range(op.InputsLength()):
                    assert subgraph.Tensors(op.Inputs(i)).Type() not in quantized
    assert seen > 100


def test_int8_calibrates_on_given_noise_and_refuses_spectrograms(model, reference, tmp_path):
    z, images, _ = reference
    noise = model.latent(16, seed=7)
    path = export_model(model, tmp_path / "int8.tflite", quantize="int8",
                        signature="spectrogram", calibration=noise)
    runner = Interpreter(model_path=str(path)).get_signature_runner("spectrogram")
    assert np.max(np.abs(runner(z=z)["spectrogram"] - images)) < 0.05
    with pytest.raises(ValueError, match="calibrated with noise"):
        export_model(model, tmp_path / "x.tflite", quantize="int8", calibration=images)
    with pytest.raises(ValueError, match=r"shape \[N, 16\]"):
        export_model(model, tmp_path / "x.tflite", quantize="int8",
                     calibration=np.zeros((4, 3), "float32"))
    with pytest.raises(ValueError, match="quantize='int8' only"):
        export_model(model, tmp_path / "x.tflite", calibration=noise)


# -- the graph pieces -----------------------------------------------------------------------


@pytest.mark.parametrize("hop", [32, 24], ids=["reshape-framing", "gather-framing"])
def test_builtin_stft_and_griffin_lim_match_spectral(hop):
    """Both framings (reshapes when hop divides n_fft, GATHER otherwise) against the
    tf.signal STFT and Griffin-Lim of keras_soundgan.audio.spectral."""
    import tensorflow as tf

    from keras_soundgan.audio.spectral import SpectrogramTransform, _graphs_for
    from keras_soundgan.config import SpectrogramConfig
    from keras_soundgan.export.synthesis import Synthesis

    config = SpectrogramConfig(slice_length=2048, n_fft=64, hop_length=hop)
    synthesis = Synthesis(config, np.zeros(32, "float32"), np.ones(32, "float32"), n_iter=4)
    assert bool(synthesis.ratio) == (hop == 32)
    x = np.random.default_rng(0).normal(0, 0.1, (2, 2048)).astype("float32")

    @tf.function
    def stft(x):
        k = synthesis.constants()
        return synthesis.stft(x, k)

    re, im = stft(tf.constant(x))
    expected = _graphs_for(config).stft(tf.constant(x)).numpy()
    np.testing.assert_allclose(re.numpy(), expected.real, atol=2e-5)
    np.testing.assert_allclose(im.numpy(), expected.imag, atol=2e-5)

    magnitude = np.abs(expected[:, :config.width]).astype("float32")  # [N, W, F]

    @tf.function
    def griffin_lim(m):
        return synthesis.griffin_lim(m, synthesis.constants())

    ours = griffin_lim(tf.constant(magnitude)).numpy()
    python = SpectrogramTransform(config).griffin_lim(magnitude.transpose(0, 2, 1), n_iter=4)
    np.testing.assert_allclose(ours, python, atol=1e-4)

    random_start = Synthesis(config, np.zeros(32, "float32"), np.ones(32, "float32"), n_iter=4,
                             initial_phase="random")

    @tf.function
    def griffin_lim_random(m):
        return random_start.griffin_lim(m, random_start.constants())

    ours = griffin_lim_random(tf.constant(magnitude)).numpy()
    python = SpectrogramTransform(config).griffin_lim(magnitude.transpose(0, 2, 1), n_iter=4,
                                                      phase_init="random")
    np.testing.assert_allclose(ours[0], python[0], atol=1e-4)


@pytest.fixture(scope="module")
def mel_model():
    return _model(_config(**{"spectrogram.n_mels": 16}))


@pytest.mark.parametrize("quantize", [None, "dynamic-int8"])
def test_mel_waveform_matches_the_python_inverse(mel_model, tmp_path, quantize):
    z = mel_model.latent(2, seed=2)
    audio = mel_model.spectrogram_transform().inverse(mel_model.generate(2, z=z), n_iter=4)
    path = export_model(mel_model, tmp_path / "mel.tflite", signature="waveform",
                        griffin_lim_iters=4, quantize=quantize)
    interpreter = Interpreter(model_path=str(path))
    assert list(interpreter.get_signature_list()) == ["waveform"]
    out = interpreter.get_signature_runner("waveform")(z=z)["waveform"]
    if quantize is None:  # measured 1.0e-4 at most on sounds peaking at 0.012
        np.testing.assert_allclose(out, audio, atol=2e-4)
    else:  # int8 generator weights; the mel and DFT matrices are put back in float32
        error = _relative_error(_magnitude(mel_model, out), _magnitude(mel_model, audio))
        assert np.all(error < 0.02), error
    assert set(litert_operators(path)) <= BUILTIN_OPS


def test_zero_initial_phase(model, reference, tmp_path):
    z, images, audio = reference
    path = export_model(model, tmp_path / "zero.tflite", signature="waveform",
                        griffin_lim_iters=N_ITER, initial_phase="zero")
    assert read_metadata(path)["griffin_lim"]["initial_phase"] == "zero"
    out = Interpreter(model_path=str(path)).get_signature_runner("waveform")(z=z)
    ours = _spectral_convergence(model, out["waveform"], images)
    # About as consistent as a random start (and far less than the locked phase).
    random_start = model.spectrogram_transform().inverse(images, n_iter=N_ITER,
                                                         phase_init="random")
    locked = _spectral_convergence(model, audio, images)
    python = _spectral_convergence(model, random_start, images)
    assert np.mean(ours) < np.mean(python) + 0.05, (ours, python)
    assert np.mean(locked) < np.mean(ours), (locked, ours)


def test_keras_export_gives_the_sound_of_export_model(model, reference, float_tflite,
                                                       tmp_path):
    """``model.export``, the Keras way in, routes to ``export_model``: the same audio,
    metadata and signatures, not Keras's bare generator."""
    import tensorflow as tf

    z, images, audio = reference
    path = model.export(tmp_path / "keras.tflite", format="litert",
                        griffin_lim_iters=N_ITER, class_names=["kick", "snare"])
    assert read_metadata(path)["class_names"] == ["kick", "snare"]
    ours = Interpreter(model_path=str(path)).get_signature_runner("waveform")(z=z)
    theirs = Interpreter(model_path=str(float_tflite)).get_signature_runner("waveform")(z=z)
    np.testing.assert_array_equal(ours["waveform"], theirs["waveform"])
    # Keras's default format is a SavedModel, with the waveform signature.
    saved = model.export(tmp_path / "saved", signature="waveform", griffin_lim_iters=N_ITER)
    waveform = tf.saved_model.load(str(saved)).signatures["waveform"](z=tf.constant(z))
    np.testing.assert_allclose(waveform["waveform"].numpy(), audio, atol=1e-4)
    with pytest.raises(ValueError, match="format must be one of tf_saved_model, "
                                         "saved_model, litert, onnx, web, got 'openvino'"):
        model.export(tmp_path / "x", format="openvino")
    with pytest.raises(ValueError, match="input_signature"):
        model.export(tmp_path / "x", input_signature=[tf.TensorSpec([None, 16])])


# -- SavedModel and ONNX ------------------------------------------------------------------------


def test_saved_model_signatures_assets_and_attributes(model, reference, tmp_path):
    import tensorflow as tf

    z, images, audio = reference
    path = export_model(model, tmp_path / "saved", format="saved_model",
                        griffin_lim_iters=N_ITER, class_names=["kick", "snare"])
    assert (path / "assets" / "keras_soundgan.json").is_file()
    assert read_metadata(path)["artifact"]["format"] == "saved_model"
    loaded = tf.saved_model.load(str(path))
    assert set(loaded.signatures) == {"waveform", "spectrogram", "serving_default",
                                      "metadata"}
    assert int(loaded.sample_rate.numpy()) == 16000
    assert int(loaded.latent_dim.numpy()) == 16
    assert int(loaded.slice_length.numpy()) == 2048
    assert loaded.latent_distribution.numpy() == b"uniform"
    assert list(loaded.class_names.numpy()) == [b"kick", b"snare"]
    spectrogram = loaded.signatures["spectrogram"](z=tf.constant(z))["spectrogram"]
    np.testing.assert_allclose(spectrogram.numpy(), images, atol=1e-5)
    waveform = loaded.signatures["serving_default"](z=tf.constant(z))["waveform"].numpy()
    np.testing.assert_allclose(waveform, audio, atol=1e-4)
    text = loaded.signatures["metadata"]()["json"].numpy().decode()
    assert json.loads(text)["class_names"] == ["kick", "snare"]


def test_onnx_matches_keras(model, reference, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("tf2onnx")
    import onnx

    z, images, audio = reference
    path = export_model(model, tmp_path / "model", format="onnx", griffin_lim_iters=N_ITER)
    assert path.suffix == ".onnx" and sidecar_path(path).is_file()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options,
                                           providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["z"]
    assert session.get_inputs()[0].shape == ["batch", 16]
    names = [o.name for o in session.get_outputs()]
    assert set(names) == {"spectrogram", "waveform", "sample_rate"}
    outputs = dict(zip(names, session.run(None, {"z": z})))
    np.testing.assert_allclose(outputs["spectrogram"], images, atol=1e-4)
    np.testing.assert_allclose(outputs["waveform"], audio, atol=1e-4)
    assert int(outputs["sample_rate"]) == 16000
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert props["sample_rate"] == "16000" and props["latent_distribution"] == "uniform"
    assert json.loads(props["keras_soundgan"])["latent_dim"] == 16


# -- sources, errors, other backends, the example client ------------------------------------


def test_bad_options_raise_clear_errors(model, tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        export_model(model, tmp_path / "m.x", format="coreml")
    with pytest.raises(ValueError, match="quantize must be None or one of"):
        export_model(model, tmp_path / "m.tflite", quantize="int4")
    with pytest.raises(ValueError, match="applies to formats 'litert' and 'web' only"):
        export_model(model, tmp_path / "m.onnx", format="onnx", quantize="float16")
    with pytest.raises(ValueError, match="signature must be one of"):
        export_model(model, tmp_path / "m.tflite", signature="audio")
    with pytest.raises(ValueError, match="must end with '.tflite'"):
        export_model(model, tmp_path / "m.onnx", format="litert")
    with pytest.raises(ValueError, match="griffin_lim_iters"):
        export_model(model, tmp_path / "m.tflite", griffin_lim_iters=-1)
    with pytest.raises(ValueError, match="must be a SoundGAN"):
        export_model(object(), tmp_path / "m.tflite")


def test_run_folder_without_model_names_the_path(tmp_path):
    run = tmp_path / "unfinished-run"
    run.mkdir()
    with pytest.raises(ValueError, match="unfinished-run.*holds no model.keras"):
        export_model(run, tmp_path / "m.tflite")
    with pytest.raises(ValueError, match="missing-run.*does not exist"):
        export_model(tmp_path / "missing-run", tmp_path / "m.tflite")


def test_run_folder_export_reads_class_names(model, reference, tmp_path):
    z, images, _ = reference
    run = tmp_path / "run"
    run.mkdir()
    model.save(run / "model.keras")
    (run / "data.json").write_text(json.dumps({"source": "x", "class_names": ["hat", "tom"]}))
    path = export_model(run, tmp_path / "run.tflite", signature="spectrogram")
    assert read_metadata(path)["class_names"] == ["hat", "tom"]
    runner = Interpreter(model_path=str(path)).get_signature_runner("spectrogram")
    np.testing.assert_allclose(runner(z=z)["spectrogram"], images, atol=1e-4)


@pytest.mark.slow
def test_export_subprocess_round_trip(model, reference, tmp_path):
    """What export_model does on JAX or PyTorch: save, then export in a TF child."""
    from keras_soundgan.export.relaunch import export_in_subprocess

    z, images, _ = reference
    options = dict(format="litert", quantize=None, signature="spectrogram",
                   griffin_lim_iters=None, initial_phase=None, class_names=["a"],
                   calibration_samples=8, verbose=False)
    path = export_in_subprocess(model, tmp_path / "child.tflite", None, options)
    assert read_metadata(path)["class_names"] == ["a"]
    runner = Interpreter(model_path=str(path)).get_signature_runner("spectrogram")
    np.testing.assert_allclose(runner(z=z)["spectrogram"], images, atol=1e-4)
    with pytest.raises(ValueError, match=r"shape \[N, 16\]"):
        export_in_subprocess(model, tmp_path / "bad.tflite", np.zeros((2, 3), "float32"),
                              dict(options, quantize="int8"))


def test_a_model_of_this_backend_exports_its_own_images(tmp_path):
    """A conditional model built on this session's backend gives its own images for
    each label from the .tflite. tests/test_backends.py runs this under JAX and
    PyTorch, where the export goes through the TensorFlow subprocess."""
    config = SoundGANConfig.from_preset("tiny", **{
        "spectrogram.slice_length": 2048, "spectrogram.n_fft": 64,
        "spectrogram.hop_length": 32, "generator.num_layers": 3, "generator.base_filters": 8,
        "generator.latent_dim": 16, "discriminator.num_layers": 3,
        "discriminator.base_filters": 8, "generator.num_classes": 2})
    model = SoundGAN(config)
    z = model.latent(2, seed=0)
    images = model.generate(2, z=z, labels=[1, 0])
    export_model(model, tmp_path / "other.tflite", signature="spectrogram",
                 class_names=["low", "high"])
    runner = Interpreter(model_path=str(tmp_path / "other.tflite")).get_signature_runner(
        "spectrogram")
    out = runner(z=z, label=np.array([1, 0], np.int32))["spectrogram"]
    np.testing.assert_allclose(out, images, atol=1e-4)
    assert read_metadata(tmp_path / "other.tflite")["class_names"] == ["low", "high"]


def test_example_client_writes_wavs_without_tensorflow(model, float_tflite, reference,
                                                       tmp_path):
    import soundfile as sf

    out_dir = tmp_path / "sounds"
    code = (
        "import runpy, sys; sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__'); "
        "bad = [m for m in ('tensorflow', 'keras', 'keras_soundgan') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "examples" / "tflite_client.py"),
         str(float_tflite), "--count", "2", "--seed", "1", "--output", str(out_dir)],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    files = sorted(out_dir.glob("*.wav"))
    assert len(files) == 2
    clip, rate = sf.read(files[0], dtype="float32")
    assert rate == 16000 and clip.shape == (2048,)
    # The client's noise for --seed 1 is model.latent(2, seed=1): the same first sound.
    _, _, audio = reference
    expected = audio[0] / max(1.0, float(np.max(np.abs(audio[0]))))
    np.testing.assert_allclose(clip, expected, atol=2e-4)


# -- conditional models, and the waveform's peak limit -------------------------------------------

CLASSES = ["kick", "snare", "hat"]
LABELS = np.array([0, 1, 2, 1], np.int32)


@pytest.fixture(scope="module")
def cond_model():
    """A 3-class generator with loud statistics: its sounds peak at 1.5 to 3, so the
    waveform's peak limit has work to do."""
    model = _spread(_model(_config(**{"generator.num_classes": 3})))
    height = model.config.spectrogram.height
    model.set_spectrogram_statistics(np.linspace(2.0, -2.0, height).astype("float32"),
                                     np.full(height, 1.5, "float32"))
    return model


@pytest.fixture(scope="module")
def cond_reference(cond_model):
    """Noise, labels, ``model.generate(labels=...)`` and their Python inverse (every
    sound starts from its own locked phase, as in the export), peak-limited; and the
    peaks before the limit."""
    z = cond_model.latent(4, seed=1)
    images = cond_model.generate(4, z=z, labels=LABELS)
    audio = cond_model.spectrogram_transform().inverse(images, n_iter=N_ITER)
    peaks = np.max(np.abs(audio), axis=1)
    assert np.all(peaks > 1.2), peaks  # the limit must change these sounds
    return z, images, _limit_peak(audio), peaks


@pytest.fixture(scope="module")
def cond_tflite(cond_model, litert_dir):
    return export_model(cond_model, litert_dir / "cond.tflite", griffin_lim_iters=N_ITER,
                        class_names=CLASSES)


def test_conditional_litert_takes_a_label_and_matches_keras(cond_model, cond_reference,
                                                            cond_tflite):
    z, images, audio, peaks = cond_reference
    interpreter = Interpreter(model_path=str(cond_tflite), num_threads=1)
    waveform = interpreter.get_signature_runner("waveform")
    assert set(waveform.get_input_details()) == {"z", "label"}
    assert waveform.get_input_details()["label"]["dtype"] == np.int32
    spectrogram = interpreter.get_signature_runner("spectrogram")
    np.testing.assert_allclose(spectrogram(z=z, label=LABELS)["spectrogram"], images, atol=1e-4)
    out = waveform(z=z, label=LABELS)["waveform"]
    np.testing.assert_allclose(out, audio, atol=1e-4)
    # Ready to play: every sound (all peak above 1 here) at peak 1, as the WAV writer
    # leaves it. Another label gives Keras's images for that label.
    np.testing.assert_allclose(np.max(np.abs(out), axis=1), 1.0, atol=1e-6)
    other = (LABELS + 1) % 3
    np.testing.assert_allclose(spectrogram(z=z, label=other)["spectrogram"],
                               cond_model.generate(4, z=z, labels=other), atol=1e-4)
    assert np.max(np.abs(spectrogram(z=z, label=other)["spectrogram"] - images)) > 1e-3
    # Labels outside [0, 3) are the runtime's error (the embedding's GATHER); a negative
    # one too, instead of counting from the end as Keras's `take` would.
    for bad in (3, -1, -4, np.iinfo(np.int32).min):
        with pytest.raises(RuntimeError, match="gather index out of bounds"):
            waveform(z=z[:1], label=np.array([bad], np.int32))
        with pytest.raises(RuntimeError, match="gather index out of bounds"):
            spectrogram(z=z[:2], label=np.array([0, bad], np.int32))
    # Batch of one, as a phone app calls it.
    np.testing.assert_allclose(waveform(z=z[2:3], label=LABELS[2:3])["waveform"], audio[2:3],
                               atol=1e-4)
    assert set(litert_operators(cond_tflite)) <= BUILTIN_OPS
    metadata = read_metadata(cond_tflite)
    assert metadata["conditional"] is True and metadata["num_classes"] == 3
    assert metadata["class_names"] == CLASSES
    assert metadata["signatures"]["waveform"]["inputs"]["label"] == {
        "shape": [-1], "dtype": "int32", "minimum": 0, "maximum": 2}
    assert litert_metadata(cond_tflite.read_bytes())["class_names"] == CLASSES


@pytest.mark.parametrize("quantize", list(QUANTIZED))
def test_conditional_quantized_litert_stays_within_tolerance(cond_model, cond_reference,
                                                             litert_dir, quantize):
    z, images, audio, _ = cond_reference
    spec_tol, magnitude_tol, _ = QUANTIZED[quantize]
    path = export_model(cond_model, litert_dir / f"cond-{quantize}.tflite", quantize=quantize,
                        griffin_lim_iters=N_ITER, class_names=CLASSES)
    assert read_metadata(path)["class_names"] == CLASSES
    assert set(litert_operators(path)) <= BUILTIN_OPS
    interpreter = Interpreter(model_path=str(path), num_threads=1)
    images_out = interpreter.get_signature_runner("spectrogram")(z=z, label=LABELS)
    images_out = images_out["spectrogram"]
    assert np.max(np.abs(images_out - images)) < spec_tol * np.std(images)
    audio_out = interpreter.get_signature_runner("waveform")(z=z, label=LABELS)["waveform"]
    images_error = _relative_error(_image_magnitude(cond_model, images_out),
                                   _image_magnitude(cond_model, images))
    error = _relative_error(_magnitude(cond_model, audio_out), _magnitude(cond_model, audio))
    assert np.all(error < images_error + magnitude_tol), (error, images_error)
    assert np.all(np.max(np.abs(audio_out), axis=1) <= 1.0 + 1e-6)


@pytest.mark.parametrize("quantize", [None, "int8"])
def test_modulated_resize_generator_exports(quantize, tmp_path):
    """conditioning='modulation' (per-class scale and shift of every layer) and
    upsampling='resize' (nearest-neighbour + Conv2D) convert with builtins too."""
    model = _model(_config(**{"generator.num_classes": 3, "generator.conditioning":
                              "modulation", "generator.upsampling": "resize"}))
    for variable in model.generator.weights:  # classes that differ: scales off 1
        if "class_scale" in variable.path or "class_shift" in variable.path:
            variable.assign(np.random.default_rng(0).normal(
                1.0 if "scale" in variable.path else 0.0, 0.3, variable.shape))
    z = model.latent(4, seed=1)
    images = model.generate(4, z=z, labels=LABELS)
    path = export_model(model, tmp_path / "mod.tflite", griffin_lim_iters=2,
                        quantize=quantize)
    ops = litert_operators(path)
    assert set(ops) <= BUILTIN_OPS, sorted(set(ops) - BUILTIN_OPS)
    runner = Interpreter(model_path=str(path)).get_signature_runner("spectrogram")
    out = runner(z=z, label=LABELS)["spectrogram"]
    assert np.max(np.abs(out - images)) < (1e-4 if quantize is None else 0.05)
    if quantize is None:
        other = model.generate(4, z=z, labels=(LABELS + 1) % 3)
        assert np.max(np.abs(other - images)) > 1e-2  # the label shapes every layer


def test_conditional_saved_model_and_onnx_match_keras(cond_model, cond_reference, tmp_path):
    import onnx
    import onnxruntime
    import tensorflow as tf

    z, images, audio, _ = cond_reference
    path = export_model(cond_model, tmp_path / "saved", format="saved_model",
                        griffin_lim_iters=N_ITER, class_names=CLASSES)
    loaded = tf.saved_model.load(str(path))
    assert list(loaded.class_names.numpy()) == [c.encode() for c in CLASSES]
    assert int(loaded.num_classes.numpy()) == 3
    out = loaded.signatures["waveform"](z=tf.constant(z), label=tf.constant(LABELS))
    np.testing.assert_allclose(out["waveform"].numpy(), audio, atol=1e-4)
    out = loaded.signatures["spectrogram"](z=tf.constant(z), label=tf.constant(LABELS))
    np.testing.assert_allclose(out["spectrogram"].numpy(), images, atol=1e-5)
    assert read_metadata(path)["class_names"] == CLASSES
    for bad in (3, -1):  # outside [0, 3): refused, never wrapped to another class
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 3"):
            loaded.signatures["waveform"](z=tf.constant(z[:1]), label=tf.constant([bad]))

    path = export_model(cond_model, tmp_path / "cond.onnx", format="onnx",
                        griffin_lim_iters=N_ITER, class_names=CLASSES)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [(i.name, i.type, i.shape) for i in session.get_inputs()] == [
        ("z", "tensor(float)", ["batch", 16]), ("label", "tensor(int32)", ["batch"])]
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {"z": z, "label": LABELS})))
    np.testing.assert_allclose(outputs["spectrogram"], images, atol=1e-4)
    np.testing.assert_allclose(outputs["waveform"], audio, atol=1e-4)
    for bad in (3, -1):
        with pytest.raises(Exception, match="out of data bounds"):
            session.run(None, {"z": z[:1], "label": np.array([bad], np.int32)})
    props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert json.loads(props["class_names"]) == CLASSES and props["num_classes"] == "3"


def test_conditional_class_names_are_checked_or_numbered(cond_model, tmp_path):
    with pytest.raises(ValueError, match=r"class_names: 2 names .* of 3 classes"):
        export_model(cond_model, tmp_path / "x.tflite", class_names=["kick", "snare"])
    with pytest.raises(ValueError, match="the names must differ"):
        export_model(cond_model, tmp_path / "x.tflite", class_names=["a", "a", "b"])
    metadata = export_metadata(cond_model)
    assert metadata["class_names"] == ["0", "1", "2"]


def test_ema_generator_is_the_one_exported(tmp_path):
    """model.generate uses the moving average of the weights when it is set; so does
    the export."""
    model = _model(_config(**{"training.ema_decay": 0.9}))
    assert model.ema_generator is not None
    for variable in model.ema_generator.trainable_weights:  # make it differ
        variable.assign(variable * 0.5)
    z = model.latent(2, seed=3)
    path = export_model(model, tmp_path / "ema.tflite", signature="spectrogram")
    out = Interpreter(model_path=str(path)).get_signature_runner("spectrogram")(z=z)
    np.testing.assert_allclose(out["spectrogram"], model.generate(2, z=z), atol=1e-4)


def test_export_command_on_a_conditional_run(cond_model, tmp_path):
    from click.testing import CliRunner

    from keras_soundgan.cli import main

    run = tmp_path / "run"
    run.mkdir()
    cond_model.save(run / "model.keras")
    (run / "data.json").write_text(json.dumps({"source": "x", "class_names": CLASSES}))
    result = CliRunner().invoke(main, ["export", str(run), "--griffin-lim-iters", "2"])
    assert result.exit_code == 0, result.output
    assert "classes: kick, snare, hat (input label 0 to 2)" in result.output
    assert read_metadata(run / "export" / "generator.tflite")["class_names"] == CLASSES


# -- the web format (the page itself is tested in a browser: tests/test_web.py) ----------------


def test_web_format_writes_a_static_site_with_a_batch_one_model(cond_model, cond_reference,
                                                                tmp_path):
    from keras_soundgan.export.web import PAGE_FILES, runtime_manifest

    z, _, audio, _ = cond_reference
    site = export_model(cond_model, tmp_path / "site", format="web", griffin_lim_iters=N_ITER,
                        class_names=CLASSES)
    for name in PAGE_FILES + ("model.tflite", "model.tflite.json", "litertjs/MANIFEST.json"):
        assert (site / name).is_file(), name
    manifest = runtime_manifest()
    for name, digest in manifest["files"].items():  # the runtime, byte for byte
        import hashlib

        assert hashlib.sha256((site / "litertjs" / name).read_bytes()).hexdigest() == digest
    metadata = read_metadata(site)
    assert metadata == read_metadata(site / "model.tflite")
    assert metadata["artifact"] == {"format": "web", "quantize": None, "dynamic_batch": False,
                                    "batch_size": 1}
    assert list(metadata["signatures"]) == ["waveform"]
    assert metadata["signatures"]["waveform"]["inputs"]["z"]["shape"] == [1, 16]
    interpreter = Interpreter(model_path=str(site / "model.tflite"))
    (z_input, label_input) = sorted(interpreter.get_input_details(), key=lambda d: d["name"],
                                    reverse=True)
    assert list(z_input["shape_signature"]) == [1, 16]  # static: LiteRT.js needs it
    runner = interpreter.get_signature_runner("waveform")
    out = runner(z=z[1:2], label=LABELS[1:2])["waveform"]
    np.testing.assert_allclose(out, audio[1:2], atol=1e-4)
    with pytest.raises(ValueError, match="does not apply to format 'web'"):
        export_model(cond_model, tmp_path / "site2", format="web", signature="spectrogram")
    with pytest.raises(ValueError, match="'int8' is not available for format 'web'"):
        export_model(cond_model, tmp_path / "site2", format="web", quantize="int8")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file; the web page is a folder"):
        export_model(cond_model, tmp_path / "file", format="web")


# -- the example client, conditional ------------------------------------------------------------


def _client(*args):
    return subprocess.run([sys.executable, str(ROOT / "examples" / "tflite_client.py"),
                           *map(str, args)], capture_output=True, text=True, timeout=300)


def test_example_client_label_by_name_and_bad_labels(cond_model, cond_tflite, cond_reference,
                                                     float_tflite, tmp_path):
    import soundfile as sf

    result = _client(cond_tflite, "--label", "snare", "--count", "2", "--seed", "1",
                     "--output", tmp_path / "snares")
    assert result.returncode == 0, result.stderr[-3000:]
    clip, rate = sf.read(sorted((tmp_path / "snares").glob("*.wav"))[0], dtype="float32")
    z = cond_model.latent(2, seed=1)
    expected = cond_model.spectrogram_transform().inverse(
        cond_model.generate(1, z=z[:1], labels=1), n_iter=N_ITER)
    np.testing.assert_allclose(clip, _limit_peak(expected)[0], atol=2e-4)
    # A label that is not a class: refused, naming the classes.
    result = _client(cond_tflite, "--label", "cowbell", "--output", tmp_path / "x.wav")
    assert result.returncode != 0
    assert "--label 'cowbell' is not a class of" in result.stderr
    assert "kick, snare, hat (or their numbers 0 to 2)" in result.stderr
    assert "Traceback" not in result.stderr
    result = _client(cond_tflite, "--label", "3", "--output", tmp_path / "x.wav")
    assert result.returncode != 0 and "is not a class of" in result.stderr
    # An unconditional model takes no label.
    result = _client(float_tflite, "--label", "kick", "--output", tmp_path / "x.wav")
    assert result.returncode != 0 and "is not conditional" in result.stderr
