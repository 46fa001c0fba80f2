"""The benchmark scripts run, the plain PyTorch SpecGAN of benchmarks/backends.py is
the package's architecture (same parameter counts and shapes), and its roofline counts
the FLOPs of a layer as a hand count does."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
# 32x32 images (the specgan stack of 5 layers reaches them) and width 2: seconds a step.
SMALL = ["--width", "2", "--batch-size", "4", "--warmup", "1", "--steps", "1",
         "--rounds", "2", "--set", "spectrogram.n_fft=64", "--set",
         "spectrogram.hop_length=32", "--set", "spectrogram.slice_length=1024"]


def _benchmark_module(name):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


def _run_backends(*args, timeout):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, str(BENCHMARKS / "backends.py"), *args],
                          cwd=ROOT, env=env, text=True, capture_output=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    return done.stdout


ARCHITECTURES = [
    {},
    {"generator.base_filters": 3, "discriminator.base_filters": 5,
     "generator.kernel_size": 4, "discriminator.kernel_size": 3, "latent_dim": 7},
    {"spectrogram.n_fft": 64, "spectrogram.hop_length": 64, "spectrogram.slice_length": 2048,
     "generator.num_layers": 4,
     "discriminator.num_layers": 3, "generator.base_filters": 4},
]


@pytest.mark.parametrize("overrides", ARCHITECTURES)
def test_plain_torch_specgan_matches_the_keras_networks(overrides):
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from _torch_specgan import Discriminator, Generator, count_params
        from backends import _arch
    finally:
        sys.path.remove(str(BENCHMARKS))
    from keras_soundgan import SoundGANConfig, build_discriminator, build_generator

    config = SoundGANConfig.from_preset("specgan", **overrides)
    a = _arch(config)
    G = Generator(a["latent_dim"], a["g_base_filters"], a["g_num_layers"], a["g_kernel_size"],
                  a["height"], a["width"])
    D = Discriminator(a["d_base_filters"], a["d_num_layers"], a["d_kernel_size"], a["height"],
                      a["width"])
    assert count_params(G) == build_generator(config).count_params()
    assert count_params(D) == build_discriminator(config).count_params()
    images = G(torch.zeros(2, a["latent_dim"]))
    assert tuple(images.shape) == (2, 1, a["height"], a["width"])
    assert tuple(D(images).shape) == (2, 1)


def test_flops_of_one_layer_match_a_hand_count():
    flops = _benchmark_module("_flops")
    # Conv2D, 5x5, stride 2, 8 -> 16 channels, 64x64 -> 32x32 (the specgan critic's second
    # layer at width 8), counted on the output grid: 2 * 5 * 5 * 8 * 16 * 32 * 32.
    assert flops.conv2d_flops((5, 5), 8, 16, (32, 32)) == 6_553_600
    # Conv2DTranspose, 5x5, stride 2, 8 -> 1 channel, 64x64 -> 128x128 (the generator's last
    # layer at width 8), counted on the input grid: 2 * 5 * 5 * 8 * 1 * 64 * 64.
    assert flops.conv2d_transpose_flops((5, 5), 8, 1, (64, 64)) == 1_638_400
    # Dense 100 -> 2048 (the generator's stem at width 8): 2 * 100 * 2048.
    assert flops.dense_flops(100, 2048) == 409_600
    assert flops.matmul_flops(2048) == 17_179_869_184  # 2 * 2048**3


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_flops_read_from_keras_layers_match_the_hand_count(data_format):
    keras = pytest.importorskip("keras")
    flops = _benchmark_module("_flops")
    shape = (64, 64, 8) if data_format == "channels_last" else (8, 64, 64)
    x = keras.Input(shape)
    y = keras.layers.Conv2D(16, 5, strides=2, padding="same", data_format=data_format,
                            name="conv")(x)
    y = keras.layers.Conv2DTranspose(1, 5, strides=2, padding="same", data_format=data_format,
                                     name="deconv")(y)  # 16 -> 1 channel, 32x32 -> 64x64
    y = keras.layers.Dense(3, name="dense")(keras.layers.Flatten()(y))
    layers = flops.keras_layers(keras.Model(x, y), "discriminator")
    assert [(layer.name, layer.kind, layer.flops) for layer in layers] == [
        ("conv", "conv", 2 * 5 * 5 * 8 * 16 * 32 * 32),  # 6,553,600
        ("deconv", "conv_transpose", 2 * 5 * 5 * 16 * 1 * 32 * 32),  # 819,200
        ("dense", "dense", 2 * 64 * 64 * 3),  # 24,576
    ]
    assert layers[0].shape == "5x5, 8->16, 64x64 -> 32x32"


def test_step_flops_are_the_sum_of_their_parts():
    flops = _benchmark_module("_flops")
    arch = dict(latent_dim=3, g_base_filters=2, g_num_layers=2, g_kernel_size=3,
                d_base_filters=2, d_num_layers=2, d_kernel_size=3, height=8, width=4,
                n_critic=2, batch_size=3)
    step = flops.step_flops(arch)
    # G: Dense 3 -> 2x1x4 (48), ConvT 3x3 4 -> 2 on 2x1 (2*9*4*2*2 = 288), ConvT 3x3 2 -> 1
    # on 4x2 (2*9*2*1*8 = 288). D: Conv 3x3 1 -> 2 to 4x2 (288), Conv 3x3 2 -> 4 to 2x1
    # (288), Dense 8 -> 1 (16).
    assert [layer.flops for layer in step.layers] == [48, 288, 288, 288, 288, 16]
    g, d = 624, 592
    assert (step.forward("generator"), step.forward("discriminator")) == (g, d)
    # batch * (n_critic * (G + 10 D) + 3 G + 2 D)
    assert step.total == 3 * (2 * (g + 10 * d) + 3 * g + 2 * d) == 48_432
    assert sum(part for _, _, part in step.parts) == step.total
    assert sum(step.layer_total(layer) for layer in step.layers) == step.total
    layer, share = step.largest_convolution()
    # Every D layer runs 22 forwards' worth a step (2 critic updates x 10, + 2), every G
    # layer 5 (2 x 1, + 3): the first of D's two 288-FLOP convolutions is the largest.
    assert layer.name == "down0_conv" and share == pytest.approx(22 * 3 * 288 / 48_432)


@pytest.mark.parametrize("overrides", ARCHITECTURES)
def test_flops_from_the_config_are_those_of_the_keras_networks(overrides):
    backends, flops = _benchmark_module("backends"), _benchmark_module("_flops")
    from keras_soundgan import SoundGANConfig, build_discriminator, build_generator

    config = SoundGANConfig.from_preset("specgan", **overrides)
    built = (flops.keras_layers(build_generator(config), "generator")
             + flops.keras_layers(build_discriminator(config), "discriminator"))
    assert [dataclasses.astuple(layer) for layer in built] == [
        dataclasses.astuple(layer) for layer in flops.specgan_layers(backends._arch(config))]


def test_backends_benchmark_runs_keras_torch_against_plain_torch():
    out = _run_backends(*SMALL, "--contenders", "torch,torch-kept-memory", "--peak-size",
                        "256", timeout=120)
    assert "parameter counts: equal" in out
    assert "FLOP counts of the built Keras networks: equal" in out
    assert "Keras backends against plain PyTorch's time (target: every one at most " \
           "1.00x): torch " in out
    rows = [line for line in out.splitlines()
            if line.startswith(("plain-torch ", "torch ", "torch-kept-memory "))]
    assert len(rows) == 3 and all("failed" not in row for row in rows), out
    # The roofline: GFLOP/s and fraction of peak beside the ratios, and a line of its own.
    assert all(row.rstrip().endswith("%") for row in rows), out
    roofline = [line for line in out.splitlines() if line.startswith("roofline: ")]
    assert len(roofline) == 1, out
    assert "GFLOP a step; peak " in roofline[0] and "torch.mm 256x256 float32" in roofline[0]
    assert "plain-torch " in roofline[0] and "% of peak" in roofline[0]
    assert "largest convolution " in roofline[0] and "% of the FLOPs" in roofline[0]


def test_jax_profile_shows_where_the_step_goes():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "jax_profile.py"), "--width", "2", "--batch-size",
         "2", "--steps", "1", "--top", "3", "--mode", "rewritten", "--set",
         "spectrogram.n_fft=64", "--set", "spectrogram.hop_length=32", "--set",
         "spectrogram.slice_length=1024", "--set", "training.n_critic=1"],
        cwd=ROOT, env=env, text=True, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    out = done.stdout
    assert "rewritten: trace and compile" in out and "CPU ms per step" in out, out
    # The profile found the step's XLA operations, convolutions among them.
    rows = out.split("operation\n", 1)[1].splitlines()[1:4]
    assert len(rows) == 3 and all(row.split()[0].isdigit() for row in rows), out


@pytest.mark.slow
def test_griffin_lim_benchmark_runs_every_start(tmp_path):
    picture = tmp_path / "phase.png"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "griffin_lim.py"), "--preset", "tiny", "--sets",
         "drums,tones", "--per-set", "2", "--repeats", "1", "--iters", "2", "--no-extras",
         "--picture", str(picture)],
        cwd=ROOT, env=env, text=True, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    for row in ("librosa.griffinlim loop (baseline)", "GL random start, 2 it.",
                "GL zero start, 2 it.", "PGHI alone", "PGHI + 2 it."):
        assert row in done.stdout, done.stdout
    assert picture.stat().st_size > 0
