"""The benchmark scripts run, and the plain PyTorch SpecGAN of benchmarks/backends.py is
the package's architecture (same parameter counts and shapes)."""

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


def _run_backends(*args, timeout):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, str(BENCHMARKS / "backends.py"), *args],
                          cwd=ROOT, env=env, text=True, capture_output=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("overrides", [
    {},
    {"generator.base_filters": 3, "discriminator.base_filters": 5,
     "generator.kernel_size": 4, "discriminator.kernel_size": 3, "latent_dim": 7},
    {"spectrogram.n_fft": 64, "spectrogram.hop_length": 64, "spectrogram.slice_length": 2048,
     "generator.num_layers": 4,
     "discriminator.num_layers": 3, "generator.base_filters": 4},
])
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


def test_backends_benchmark_runs_keras_torch_against_plain_torch():
    out = _run_backends(*SMALL, "--contenders", "torch", timeout=120)
    assert "parameter counts: equal" in out
    assert "Keras backends against plain PyTorch's time (target: every one at most " \
           "1.00x): torch " in out
    rows = [line for line in out.splitlines() if line.startswith(("plain-torch ", "torch "))]
    assert len(rows) == 2 and all("failed" not in row for row in rows), out


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
