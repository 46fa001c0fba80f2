import json
import os

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from keras_soundgan.audio import cache as cache_lib
from keras_soundgan.audio.io import load_audio_folder
from keras_soundgan.audio.spectral import SpectrogramTransform
from keras_soundgan.cli import main


@pytest.fixture
def config(small_config):
    return small_config  # 16 kHz, 2048-sample slices, 32x32 spectrograms


def _tone(freq, seconds, rate, decay=8.0, seed=0):
    t = np.arange(int(seconds * rate)) / rate
    noise = np.random.default_rng(seed).normal(0, 0.02, t.shape)
    return (0.6 * np.sin(2 * np.pi * freq * t) * np.exp(-decay * t) + noise).astype("float32")


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "sounds"
    for cls, base in (("high", 2000.0), ("low", 200.0)):
        (root / cls).mkdir(parents=True)
        for i in range(6):
            rate = (16000, 22050, 44100)[i % 3]
            sf.write(root / cls / f"{cls}{i}.wav", _tone(base * (1 + i / 10), 0.3, rate,
                                                         seed=i), rate)
    (root / "low" / "broken.wav").write_bytes(b"RIFF not really a wave file")
    return root


def test_build_cache_matches_the_in_memory_path(folder, tmp_path, config):
    skipped = []
    cache = cache_lib.build_cache(folder, tmp_path / "cache", config, on_skip=skipped.append,
                                  batch_size=5)  # several batches: streaming statistics
    assert [os.path.basename(s.path) for s in skipped] == ["broken.wav"]
    assert len(cache) == 12 and cache.class_names == ("high", "low")
    np.testing.assert_array_equal(cache.labels, [0] * 6 + [1] * 6)
    assert cache.log_magnitude.shape == (12, 32, 32)
    waveforms, labels, names, _ = load_audio_folder(folder, 16000, 2048)
    reference = SpectrogramTransform(config.spectrogram).adapt(waveforms)
    np.testing.assert_allclose(cache.transform.mean, reference.mean, atol=1e-4)
    np.testing.assert_allclose(cache.transform.std, reference.std, rtol=1e-4)
    np.testing.assert_allclose(cache.images(), reference.forward(waveforms), atol=1e-4)
    manifest = json.loads((tmp_path / "cache" / "manifest.json").read_text())
    assert "1 skipped" in manifest["report"]["summary"]


def test_dataset_from_the_cache_is_normalised_and_complete(folder, tmp_path, config):
    cache = cache_lib.build_cache(folder, tmp_path / "cache", config)
    batches = list(cache.dataset(4, seed=1))
    assert len(batches) == 3
    images = np.concatenate([np.asarray(x) for x, _ in batches])
    labels = np.concatenate([np.asarray(y) for _, y in batches])
    assert images.shape == (12, 32, 32, 1) and images.min() >= -1 and images.max() <= 1
    assert sorted(labels.tolist()) == [0] * 6 + [1] * 6
    # Every example appears once per epoch, normalised as transform.forward would.
    expected = cache.images()
    order = [int(np.argmin(np.abs(expected - im).sum(axis=(1, 2, 3)))) for im in images]
    assert sorted(order) == list(range(12))
    np.testing.assert_allclose(images, expected[order], atol=1e-5)
    with pytest.raises(ValueError, match="fewer than one batch"):
        cache.dataset(64)


def test_cache_is_reused_and_rebuilt_when_files_or_config_change(folder, tmp_path, config,
                                                                 monkeypatch):
    builds = []
    real_build = cache_lib.build_cache

    def counting_build(*args, **kwargs):
        builds.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(cache_lib, "build_cache", counting_build)
    cache_dir = tmp_path / "cache"
    cache_lib.load_or_build_cache(folder, config, cache_dir)
    cache_lib.load_or_build_cache(folder, config, cache_dir)
    assert len(builds) == 1
    # A changed file (new content, new size and time) makes it stale.
    sf.write(folder / "high" / "high0.wav", _tone(3000, 0.5, 16000), 16000)
    assert not cache_lib.cache_is_current(cache_dir, folder, config)
    cache = cache_lib.load_or_build_cache(folder, config, cache_dir)
    assert len(builds) == 2 and len(cache) == 12
    # A new file too.
    sf.write(folder / "low" / "extra.wav", _tone(150, 0.3, 16000), 16000)
    assert len(cache_lib.load_or_build_cache(folder, config, cache_dir)) == 13
    assert len(builds) == 3
    # And a change of the spectral config.
    other = config.with_overrides({"spectrogram.log_eps": 1e-5})
    cache_lib.load_or_build_cache(folder, other, cache_dir)
    assert len(builds) == 4
    cache_lib.load_or_build_cache(folder, other, cache_dir)
    assert len(builds) == 4


def test_a_cache_folder_as_data_dir_must_match_the_config(folder, tmp_path, config):
    cache_lib.build_cache(folder, tmp_path / "cache", config)
    assert len(cache_lib.load_or_build_cache(tmp_path / "cache", config)) == 12
    other = config.with_overrides({"spectrogram.log_eps": 1e-5})
    with pytest.raises(ValueError, match="different spectrogram config.*spectrogram.log_eps"):
        cache_lib.load_or_build_cache(tmp_path / "cache", other)


def test_an_interrupted_build_leaves_no_cache(folder, tmp_path, config):
    def stop(item):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache_lib.build_cache(folder, tmp_path / "cache", config, on_skip=stop)
    assert not (tmp_path / "cache").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cache")]


def test_nothing_usable_and_missing_folder(tmp_path, config):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.wav").write_bytes(b"junk")
    with pytest.raises(ValueError, match="no usable audio.*1 corrupt"):
        cache_lib.build_cache(tmp_path / "bad", tmp_path / "cache", config)
    with pytest.raises(ValueError, match="does not exist"):
        cache_lib.build_cache(tmp_path / "missing", tmp_path / "cache", config)
    with pytest.raises(ValueError, match="not a spectrogram cache"):
        cache_lib.open_cache(tmp_path / "bad")


def test_default_cache_dir_is_per_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_SOUNDGAN_CACHE", str(tmp_path / "c"))
    a, b = cache_lib.default_cache_dir("x/sounds"), cache_lib.default_cache_dir("y/sounds")
    assert a != b and a.parent == tmp_path / "c" and a.name.startswith("sounds-")


SMALL = ["--set", "spectrogram.slice_length=2048", "--set", "spectrogram.n_fft=64",
         "--set", "spectrogram.hop_length=64", "--set", "generator.num_layers=3",
         "--set", "generator.base_filters=8", "--set", "discriminator.num_layers=3",
         "--set", "discriminator.base_filters=8"]


def test_cli_preprocess_then_train_on_the_cache_and_on_the_folder(folder, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["preprocess", str(folder), "-o", str(tmp_path / "cache"),
                                  *SMALL])
    assert result.exit_code == 0, result.output
    assert "broken.wav" in result.output and "Wrote 12 spectrograms of 32x32" in result.output
    assert "classes: high, low" in result.output
    # --json: the result alone on stdout; -q: nothing there (skips still on stderr).
    result = runner.invoke(main, ["preprocess", str(folder), "-o", str(tmp_path / "c-json"),
                                  *SMALL, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["examples"], report["shape"], report["class_names"]) == (
        12, [32, 32], ["high", "low"])
    assert "broken.wav" in result.stderr
    result = runner.invoke(main, ["preprocess", str(folder), "-o", str(tmp_path / "c-quiet"),
                                  *SMALL, "-q"])
    assert result.exit_code == 0 and result.stdout == "" and "broken.wav" in result.stderr
    result = runner.invoke(main, ["train", str(tmp_path / "cache"), *SMALL, "--epochs", "1",
                                  "--batch-size", "4", "--samples", "2", "-q",
                                  "-o", str(tmp_path / "run1")])
    assert result.exit_code == 0, result.output
    assert "Using the cache" in result.output
    data = json.loads((tmp_path / "run1" / "data.json").read_text())
    assert data["class_names"] == ["high", "low"]
    result = runner.invoke(main, ["train", str(folder), *SMALL, "--epochs", "1",
                                  "--batch-size", "4", "--samples", "2", "-q",
                                  "--cache", str(tmp_path / "c2"), "-o", str(tmp_path / "run2")])
    assert result.exit_code == 0, result.output
    assert "Skipped" in result.output and "broken.wav" in result.output
    assert cache_lib.is_cache(tmp_path / "c2")
    assert len(list((tmp_path / "run2" / "samples").glob("*.wav"))) == 2
    result = runner.invoke(main, ["train", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_the_cache_is_byte_identical_with_one_and_two_workers(folder, tmp_path, config,
                                                              monkeypatch):
    from keras_soundgan.audio import io as aio

    one = cache_lib.build_cache(folder, tmp_path / "one", config, workers=1, batch_size=5)
    monkeypatch.setattr(aio, "PARALLEL_MIN_BYTES", 0)  # the small folder in parallel too
    two = cache_lib.build_cache(folder, tmp_path / "two", config, workers=2, batch_size=5)
    assert len(one) == len(two) == 12
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "two").iterdir())
    for name in names:
        same = (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
        assert same, name


def test_inverse_settings_do_not_rebuild_the_cache(folder, tmp_path, config):
    """Griffin-Lim's iterations and start only change how images become audio: the
    cache stays, and its transform takes the new settings."""
    from keras_soundgan.audio.cache import load_or_build_cache

    data = folder
    first = load_or_build_cache(data, config, tmp_path / "cache")
    changed = config.with_overrides({"spectrogram.griffin_lim_iters": 3,
                                     "spectrogram.phase_init": "random"})
    logs = []
    again = load_or_build_cache(data, changed, tmp_path / "cache", log=logs.append)
    assert "unchanged" in logs[0]
    assert again.transform.config == changed.spectrogram
    np.testing.assert_array_equal(again.transform.mean, first.transform.mean)
    assert load_or_build_cache(tmp_path / "cache", changed).transform.config == changed.spectrogram
