"""Pretrained presets (keras_soundgan/pretrained.py): the shipped models, save_to_preset
and from_preset, fine-tuning, and the command line's --preset and --from-preset."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from keras_soundgan import SoundGAN, SoundGANConfig
from keras_soundgan.cli import main
from keras_soundgan.pretrained import PRESETS_DIR, WEIGHTS_FILE

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("drums", "notes", "speech", "tiny")
SMALL = {"spectrogram.slice_length": 2048, "spectrogram.n_fft": 64,
         "spectrogram.hop_length": 64, "generator.num_layers": 3,
         "generator.base_filters": 8, "generator.latent_dim": 16,
         "discriminator.num_layers": 3, "discriminator.base_filters": 8,
         "training.batch_size": 8}


def test_the_shipped_presets_are_listed_small_and_documented():
    presets = SoundGAN.presets
    assert sorted(presets) == list(SHIPPED)
    total = sum(f.stat().st_size for f in PRESETS_DIR.rglob("*") if f.is_file())
    assert total < 10e6, f"the shipped presets take {total / 1e6:.1f} MB (at most 10)"
    for name, metadata in presets.items():
        assert metadata["description"] and metadata["data"]["licence"], name
        assert metadata["training"]["command"].startswith("keras-soundgan train"), name
        assert metadata["evaluation"]["generated"], name
        config = json.loads((PRESETS_DIR / name / "config.json").read_text())
        assert config["config"]["name"] == name
        # Conditional, with a name for every class.
        assert len(config["class_names"]) == config["config"]["generator"]["num_classes"] > 1


def test_the_docs_table_is_the_presets_metadata():
    """docs/howto/pretrained.md's figures are written by scripts/make_presets.py from
    the shipped metadata, never by hand."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_presets",
                                                  ROOT / "scripts" / "make_presets.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    page = script.DOCS_PAGE.read_text(encoding="utf-8")
    assert script.presets_table(SoundGAN.presets) in page


@pytest.mark.parametrize("name", SHIPPED)
def test_from_preset_gives_a_trained_conditional_model(name):
    model = SoundGAN.from_preset(name)
    assert model.config.name == name and model.class_names
    audio = model.generate_audio(2, seed=0)
    assert audio.shape == (2, model.config.spectrogram.slice_length)
    assert np.isfinite(audio).all()
    # Trained: louder and far from an untrained generator with the same statistics.
    untrained = SoundGAN(model.config)
    untrained.set_spectrogram_statistics(keras.ops.convert_to_numpy(model.spectrogram_mean),
                                         keras.ops.convert_to_numpy(model.spectrogram_std))
    z = model.latent(4, seed=1)
    assert np.abs(model.generate(4, z=z) - untrained.generate(4, z=z)).mean() > 0.1
    # Names as labels.
    first = model.class_names[0]
    np.testing.assert_array_equal(model.generate(2, z=z[:2], labels=first),
                                  model.generate(2, z=z[:2], labels=[0, 0]))


def test_save_to_preset_round_trip_and_clear_errors(tmp_path):
    config = SoundGANConfig.from_preset("tiny", **SMALL, **{"generator.num_classes": 2,
                                                           "training.ema_decay": 0.99})
    keras.utils.set_random_seed(1)
    model = SoundGAN(config, class_names=["low", "high"])
    model.set_spectrogram_statistics(np.linspace(-1, -5, 32), np.full(32, 2.0))
    model.compile()
    model.fit(np.random.default_rng(0).uniform(-1, 1, (16, 32, 32, 1)).astype("float32"),
              np.arange(16) % 2, batch_size=8, epochs=1, verbose=0)
    folder = model.save_to_preset(tmp_path / "mine", metadata={"note": "a test"})
    loaded = SoundGAN.from_preset(folder)
    assert loaded.class_names == ("low", "high")
    assert loaded.config == config
    z = model.latent(3, seed=2)
    np.testing.assert_array_equal(loaded.generate(3, z=z, labels="high"),
                                  model.generate(3, z=z, labels=[1, 1, 1]))
    for mine, theirs in zip(model.discriminator.weights, loaded.discriminator.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(mine),
                                      keras.ops.convert_to_numpy(theirs))
    # The generator it fine-tunes from is the moving average that generated.
    for ema, raw in zip(model.ema_generator.weights, loaded.generator.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(ema),
                                      keras.ops.convert_to_numpy(raw))
    # float16 kernels: half the size, the same sounds to half precision.
    half = model.save_to_preset(tmp_path / "half", weights_dtype="float16")
    assert (half / WEIGHTS_FILE).stat().st_size < 0.6 * (folder / WEIGHTS_FILE).stat().st_size
    np.testing.assert_allclose(SoundGAN.from_preset(half).generate(3, z=z), loaded.generate(3, z=z),
                               atol=2e-2)

    with pytest.raises(ValueError, match="unknown preset 'drumz'.*drums, notes, speech, tiny"):
        SoundGAN.from_preset("drumz")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        SoundGAN.from_preset(tmp_path)
    with pytest.raises(ValueError, match="unknown label 'mid'.*low, high"):
        loaded.generate(1, labels="mid")
    with pytest.raises(ValueError, match="weights_dtype must be one of float32, float16"):
        model.save_to_preset(tmp_path / "x", weights_dtype="int8")
    with pytest.raises(ValueError, match="class_names must name the model's 2 classes"):
        SoundGAN(config, class_names=["one"])
    # Weights that do not fit the config name the file.
    other = json.loads((folder / "config.json").read_text())
    other["config"]["generator"]["base_filters"] = 16
    (folder / "config.json").write_text(json.dumps(other))
    with pytest.raises(ValueError, match=r"model.weights.npz: generator/\d+ has shape"):
        SoundGAN.from_preset(folder)
    (folder / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="config.json is not a keras-soundgan preset"):
        SoundGAN.from_preset(folder)


# From a preset on JAX and PyTorch, the same images and sounds as on TensorFlow:
# tests/test_registration.py, in the fresh processes that also load a model file.


def test_fine_tuning_starts_from_the_preset_weights(tmp_path):
    from keras_soundgan import runs

    preset = SoundGAN.from_preset("tiny")
    seen = {}

    class FirstWeights(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["generator"] = [keras.ops.convert_to_numpy(w)
                                 for w in self.model.generator.weights]
            seen["discriminator"] = [keras.ops.convert_to_numpy(w)
                                     for w in self.model.discriminator.weights]
            seen["steps"] = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    result = runs.train(preset.config.with_overrides({"training.epochs": 1}),
                        tmp_path / "run", from_preset="tiny", verbose=0,
                        callbacks=[FirstWeights()], preview_every=0, num_samples=2)
    source = preset.ema_generator or preset.generator
    for mine, theirs in zip(seen["generator"], source.weights):
        np.testing.assert_array_equal(mine, keras.ops.convert_to_numpy(theirs))
    for mine, theirs in zip(seen["discriminator"], preset.discriminator.weights):
        np.testing.assert_array_equal(mine, keras.ops.convert_to_numpy(theirs))
    assert seen["steps"] == 0  # optimizer-free: a new optimizer, from step 0
    assert result.model.class_names == preset.class_names
    # The preset's config is the default; a config that builds other networks is refused.
    with pytest.raises(ValueError, match=r"generator/\d+ has shape"):
        runs.train(preset.config.with_overrides({"generator.base_filters": 8,
                                                 "training.epochs": 1}),
                   tmp_path / "other", from_preset="tiny", verbose=0)
    with pytest.raises(ValueError, match="from_preset starts a new run"):
        runs.train(None, tmp_path / "run", resume=True, from_preset="tiny")


def test_command_line_generates_and_exports_a_preset_with_no_training(tmp_path,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["generate", "--preset", "drums", "--label", "kick",
                                  "-n", "3", "--seed", "0"])
    assert result.exit_code == 0, result.output
    wavs = sorted((tmp_path / "generated-drums").glob("*.wav"))
    assert [p.name for p in wavs] == ["kick_00.wav", "kick_01.wav", "kick_02.wav"]
    audio, rate = sf.read(wavs[0])
    model = SoundGAN.from_preset("drums")
    assert rate == 16000
    expected = model.generate_audio(3, seed=0, labels="kick")[0]
    expected = expected / max(1.0, np.abs(expected).max())  # the WAV writer's peak limit
    np.testing.assert_allclose(audio, expected, atol=1e-4)  # 16-bit samples
    assert (tmp_path / "generated-drums" / "spectrograms.png").is_file()

    result = runner.invoke(main, ["generate", "--preset", "drums", "--label", "cowbell"])
    assert result.exit_code == 1 and "unknown label 'cowbell'" in result.output
    result = runner.invoke(main, ["generate", "--preset", "nope"])
    assert result.exit_code == 1 and "unknown preset 'nope'" in result.output
    result = runner.invoke(main, ["generate"])
    assert result.exit_code == 2 and "RUN_DIR or --preset" in result.output

    result = runner.invoke(main, ["export", "--preset", "drums", "--format", "web"])
    assert result.exit_code == 0, result.output
    page = tmp_path / "drums-export" / "web"
    meta = json.loads((page / "model.tflite.json").read_text())
    assert meta["class_names"] == list(model.class_names)
    assert "serve it" in result.output


def test_train_from_preset_on_a_folder_with_other_classes(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(4096) / 16000
    for name, f0 in (("low", 110.0), ("high", 660.0)):
        (tmp_path / "sounds" / name).mkdir(parents=True)
        for i in range(16):
            tone = np.sin(2 * np.pi * f0 * (1 + 0.05 * rng.standard_normal()) * t)
            sf.write(tmp_path / "sounds" / name / f"{i}.wav", 0.5 * tone * np.exp(-8 * t),
                     16000)
    runner = CliRunner()
    result = runner.invoke(main, ["train", str(tmp_path / "sounds"), "--from-preset", "tiny",
                                  "--epochs", "1", "--preview-every", "0", "--samples", "2",
                                  "-q", "--cache", str(tmp_path / "cache"),
                                  "--output", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    # The tiny preset has 6 classes, the folder 2: only the class-dependent weights
    # (label embeddings, projection, classifier) start afresh.
    assert "Starting from the weights of the preset 'tiny'; " in result.output
    assert "start afresh (the preset has 6 classes, the data 2)" in result.output
    model = keras.saving.load_model(tmp_path / "run" / "model.keras")
    assert model.class_names == ("high", "low") and model.config.name == "tiny"
    result = runner.invoke(main, ["train", "--from-preset", "tiny", "--preset", "drums"])
    assert result.exit_code == 2 and "--from-preset brings its own config" in result.output
