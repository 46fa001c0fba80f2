"""``import keras_soundgan`` makes ``keras.saving.load_model`` read the package's
classes, in a fresh process, on every backend, whichever is imported first, while the
import itself stays free of Keras and TensorFlow (keras_soundgan/registration.py)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from keras_soundgan.registration import PACKAGE, SERIALIZABLE

ROOT = Path(__file__).resolve().parents[1]
# Images generated on another backend from the same weights: see tests/test_backends.py.
SAME_IMAGES_ATOL = 1e-5


def _registered_in_source():
    """``{class name: module}`` of every class decorated with
    ``register_keras_serializable`` in the package's source."""
    found = {}
    for path in sorted((ROOT / "keras_soundgan").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                    "register_keras_serializable" in ast.unparse(d)
                    for d in node.decorator_list):
                found[node.name] = module
    return found


def test_the_table_names_every_registered_class():
    assert _registered_in_source() == SERIALIZABLE


def test_the_real_classes_replace_the_stand_ins():
    import importlib

    import keras

    for name, module in SERIALIZABLE.items():
        real = getattr(importlib.import_module(module), name)
        assert keras.saving.get_registered_object(f"{PACKAGE}>{name}") is real, name


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A conditional tiny model saved on TensorFlow, its noise and its images."""
    import keras

    from keras_soundgan import SoundGAN, SoundGANConfig

    keras.utils.set_random_seed(0)
    config = SoundGANConfig.from_preset("tiny", **{
        "generator.num_classes": 3, "generator.base_filters": 8,
        "discriminator.base_filters": 8})
    model = SoundGAN(config)
    model.compile()
    folder = tmp_path_factory.mktemp("registration")
    model.save(folder / "model.keras")
    z = model.latent(2, seed=3)
    np.save(folder / "z.npy", z)
    np.save(folder / "images.npy", model.generate(2, z=z, labels=[0, 2]))
    return folder


@pytest.fixture(scope="module")
def preset_reference(saved):
    """The drums preset's images and sounds on TensorFlow, for the same noise."""
    from keras_soundgan import SoundGAN

    model = SoundGAN.from_preset("drums")
    z = model.latent(2, seed=5)
    np.save(saved / "preset_z.npy", z)
    return (model.generate(2, z=z, labels=["kick", "snare"]),
            model.generate_audio(2, z=z, labels=["kick", "snare"]))


@pytest.mark.parametrize("backend, first", [("tensorflow", "keras_soundgan"),
                                            ("jax", "keras"),
                                            ("torch", "keras_soundgan")])
def test_load_model_and_presets_after_a_bare_import(saved, preset_reference, backend,
                                                    first):
    """A fresh process per backend (one, since each costs seconds): load_model after
    ``import keras_soundgan``; and ``SoundGAN.from_preset`` (tests/test_pretrained.py)
    giving TensorFlow's images and sounds."""
    if first == "keras":
        imports = ["import keras", "import keras_soundgan"]
    else:  # and the package's import alone imports no Keras (the CLI starts fast)
        imports = ["import keras_soundgan", "assert 'keras' not in sys.modules",
                   "import keras"]
    code = "\n".join([
        "import sys",
        "import numpy as np",
        *imports,
        # The import alone brought neither TensorFlow nor the package's modules.
        "assert 'keras_soundgan.models.soundgan' not in sys.modules",
        f"assert {backend == 'tensorflow'} or 'tensorflow' not in sys.modules",
        f"model = keras.saving.load_model({str(saved / 'model.keras')!r})",
        "assert type(model) is keras.saving.get_registered_object('keras_soundgan>SoundGAN')",
        "assert type(model).__module__ == 'keras_soundgan.models.soundgan'",
        f"z = np.load({str(saved / 'z.npy')!r})",
        f"expected = np.load({str(saved / 'images.npy')!r})",
        "images = model.generate(2, z=z, labels=[0, 2])",
        f"np.testing.assert_allclose(images, expected, atol={SAME_IMAGES_ATOL})",
        "print('loaded', keras.backend.backend())",
        "preset = keras_soundgan.SoundGAN.from_preset('drums')",
        f"z = np.load({str(saved / 'preset_z.npy')!r})",
        f"np.save({str(saved / f'preset_images_{backend}.npy')!r}, "
        "preset.generate(2, z=z, labels=['kick', 'snare']))",
        f"np.save({str(saved / f'preset_audio_{backend}.npy')!r}, "
        "preset.generate_audio(2, z=z, labels=['kick', 'snare']))",
    ])
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    assert f"loaded {backend}" in done.stdout
    images, reference = preset_reference
    np.testing.assert_allclose(np.load(saved / f"preset_images_{backend}.npy"), images,
                               atol=SAME_IMAGES_ATOL)
    # The same sound: Griffin-Lim (momentum 0.99, 32 iterations) carries the images'
    # rounding differences into the samples' phase, as it does for the exports
    # (docs/export.md: up to 7e-2 on trained presets), so the sounds are compared by
    # what is heard, their magnitude spectrograms, and as a whole.
    import librosa

    def relative(a, b):
        return np.linalg.norm(a - b) / np.linalg.norm(b)

    audio = np.load(saved / f"preset_audio_{backend}.npy")
    for mine, theirs in zip(audio, reference):
        spectra = [np.abs(librosa.stft(x, n_fft=1024, hop_length=256)) for x in (mine, theirs)]
        assert relative(*spectra) < 1e-2, relative(*spectra)
        assert relative(mine, theirs) < 5e-2, relative(mine, theirs)
