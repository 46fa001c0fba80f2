"""Tests for keras_soundgan.datasets, the embedded synthetic drum data set."""

import ast
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_soundgan import datasets
from keras_soundgan.datasets import DRUM_CLASSES, load_drums

N = 16  # clips per class for most tests
SR = 16000
LENGTH = 8192


@pytest.fixture(scope="module")
def drums():
    return load_drums(N, seed=0)


def _label(name):
    return DRUM_CLASSES.index(name)


def _power_spectrum(x, sample_rate):
    spec = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64), axis=-1)) ** 2
    return spec, np.fft.rfftfreq(x.shape[-1], d=1.0 / sample_rate)


def _centroid(x, sample_rate):
    spec, freqs = _power_spectrum(x, sample_rate)
    return (spec * freqs).sum(-1) / spec.sum(-1)


def _dominant_hz(x, sample_rate):
    spec, freqs = _power_spectrum(x, sample_rate)
    return freqs[np.argmax(spec, axis=-1)]


def _half_energy_time(x, sample_rate):
    """Seconds until a clip has emitted half of its energy."""
    energy = np.cumsum(np.asarray(x, dtype=np.float64) ** 2, axis=-1)
    return np.argmax(energy >= 0.5 * energy[:, -1:], axis=-1) / sample_rate


# --------------------------------------------------------------------------
# Shapes, dtypes, labels
# --------------------------------------------------------------------------


def test_classes_constant():
    assert isinstance(DRUM_CLASSES, tuple)
    assert len(DRUM_CLASSES) == 6 and len(set(DRUM_CLASSES)) == 6
    assert DRUM_CLASSES[:3] == ("kick", "snare", "hihat")
    assert all(isinstance(name, str) for name in DRUM_CLASSES)


def test_shapes_and_dtypes(drums):
    x, y, names = drums
    assert x.shape == (6 * N, LENGTH) and x.dtype == np.float32
    assert y.shape == (6 * N,) and y.dtype == np.int32
    assert names == DRUM_CLASSES and isinstance(names, tuple)


def test_defaults_and_custom_shape():
    x, y, names = load_drums(num_per_class=2, sample_rate=22050, length=1000, seed=4)
    assert x.shape == (12, 1000) and y.shape == (12,) and names == DRUM_CLASSES
    x, y, _ = load_drums()
    assert x.shape == (6 * 64, 8192)


def test_labels_class_major_and_balanced(drums):
    _, y, names = drums
    np.testing.assert_array_equal(y, np.repeat(np.arange(len(names)), N))
    np.testing.assert_array_equal(np.bincount(y), [N] * len(names))


def test_classes_subset_labels_and_order():
    x, y, names = load_drums(5, classes=["clap", "kick", "rimshot"])
    assert names == ("clap", "kick", "rimshot")
    assert x.shape == (15, LENGTH)
    np.testing.assert_array_equal(np.bincount(y, minlength=3), [5, 5, 5])
    assert set(y.tolist()) == {0, 1, 2}
    # labels index into the returned names, in the requested order
    np.testing.assert_array_equal(y, np.repeat([0, 1, 2], 5))


def test_subset_gives_the_same_clips_as_the_full_set(drums):
    x_all, y_all, _ = drums
    x, y, names = load_drums(N, seed=0, classes=("hihat", "kick"))
    for label, name in enumerate(names):
        np.testing.assert_array_equal(x[y == label], x_all[y_all == _label(name)])


def test_single_class_name_string():
    x, y, names = load_drums(3, classes="tom")
    assert names == ("tom",) and x.shape == (3, LENGTH)
    np.testing.assert_array_equal(y, [0, 0, 0])


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------


def test_same_seed_is_bit_identical(drums):
    x, y, names = load_drums(N, seed=0)
    assert x.tobytes() == drums[0].tobytes()
    np.testing.assert_array_equal(y, drums[1])
    assert names == drums[2]


def test_different_seeds_differ(drums):
    x0, y, _ = drums
    x1, _, _ = load_drums(N, seed=1)
    for label in range(len(DRUM_CLASSES)):
        a, b = x0[y == label], x1[y == label]
        assert not np.allclose(a, b, atol=1e-3), DRUM_CLASSES[label]
    # clips within one class differ too (random pitch, decay, noise)
    for label in range(len(DRUM_CLASSES)):
        a = x0[y == label]
        assert not np.allclose(a[0], a[1], atol=1e-3), DRUM_CLASSES[label]


# --------------------------------------------------------------------------
# Amplitude and envelope
# --------------------------------------------------------------------------


def test_finite_and_within_unit_range(drums):
    x = drums[0]
    assert np.all(np.isfinite(x))
    assert np.abs(x).max() <= 1.0


def test_peak_normalised_to_random_peak(drums):
    peaks = np.abs(drums[0]).max(axis=1)
    assert peaks.min() >= 0.5 - 1e-6
    assert peaks.max() <= 0.95 + 1e-6
    # amplitudes vary across clips rather than all being normalised to one value
    assert peaks.std() > 0.05
    assert peaks.max() - peaks.min() > 0.25


def test_onset_at_start(drums):
    x = np.abs(drums[0])
    peaks = x.max(axis=1, keepdims=True)
    assert np.all(x[:, 0] < 0.1 * peaks[:, 0])  # a (short) attack, no step at t=0
    onset = np.argmax(x >= 0.2 * peaks, axis=1)
    assert onset.max() < 0.005 * SR, "every clip must start within 5 ms"
    assert np.argmax(x, axis=1).max() < 0.06 * SR, "peak within the first 60 ms"


def test_energy_decays_to_near_silence(drums):
    x = np.asarray(drums[0], dtype=np.float64)
    tenth = x.shape[1] // 10
    head = np.mean(x[:, :tenth] ** 2, axis=1)
    tail = np.mean(x[:, -tenth:] ** 2, axis=1)
    assert np.all(tail < 1e-2 * head)
    assert np.all(np.abs(x[:, -1]) < 1e-3)  # ends (faded) in silence


# --------------------------------------------------------------------------
# Acoustic content
# --------------------------------------------------------------------------


def test_spectral_centroids_are_ordered(drums):
    x, y, _ = drums
    c = {name: _centroid(x[y == _label(name)], SR) for name in DRUM_CLASSES}
    mean = {name: v.mean() for name, v in c.items()}
    assert mean["hihat"] > mean["snare"] > mean["kick"]
    assert mean["hihat"] > mean["clap"] > mean["tom"] > mean["kick"]
    assert mean["rimshot"] > mean["tom"]
    # not just on average: every hi-hat is brighter than every kick
    assert c["hihat"].min() > c["kick"].max()
    assert mean["hihat"] > 3000.0 and mean["kick"] < 300.0


def test_kick_and_tom_pitch_ranges(drums):
    x, y, _ = drums
    kick = _dominant_hz(x[y == _label("kick")], SR)
    tom = _dominant_hz(x[y == _label("tom")], SR)
    assert np.all((kick > 30) & (kick < 200))
    assert np.all((tom > 70) & (tom < 450))
    assert np.median(tom) > np.median(kick)


def _band_features(x, sample_rate):
    spec, freqs = _power_spectrum(x, sample_rate)
    edges = np.geomspace(30.0, sample_rate / 2, 25)
    band = np.digitize(freqs, edges)
    energy = np.stack([spec[:, band == i].sum(-1) for i in range(1, 25)], axis=-1)
    return np.log(energy / energy.sum(-1, keepdims=True) + 1e-10)


def test_classes_are_acoustically_distinct():
    # nearest-class-mean classifier on log band energies, fitted on one seed
    # and evaluated on another, must separate the classes well
    x_train, y_train, names = load_drums(24, seed=0)
    x_test, y_test, _ = load_drums(24, seed=1)
    f_train, f_test = _band_features(x_train, SR), _band_features(x_test, SR)
    means = np.stack([f_train[y_train == k].mean(0) for k in range(len(names))])
    pred = np.argmin(((f_test[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    accuracy = np.mean(pred == y_test)
    assert accuracy >= 0.85, accuracy
    for k in range(len(names)):  # every class is mostly recognised
        assert np.mean(pred[y_test == k] == k) >= 0.6, names[k]


# --------------------------------------------------------------------------
# Sample-rate awareness
# --------------------------------------------------------------------------


def test_kick_pitch_in_hz_is_independent_of_sample_rate():
    x8, _, _ = load_drums(12, sample_rate=8000, seed=3, classes=["kick"])
    x16, _, _ = load_drums(12, sample_rate=16000, seed=3, classes=["kick"])
    f8, f16 = _dominant_hz(x8, 8000), _dominant_hz(x16, 16000)
    assert np.all((f16 > 30) & (f16 < 200))
    np.testing.assert_allclose(f8, f16, rtol=0.05, atol=3.0)


@pytest.mark.parametrize("name", ["kick", "tom", "snare"])
def test_decay_in_seconds_is_independent_of_sample_rate(name):
    # same duration in seconds at both rates -> same envelope timing
    x8, _, _ = load_drums(8, sample_rate=8000, length=4096, seed=2, classes=[name])
    x16, _, _ = load_drums(8, sample_rate=16000, length=8192, seed=2, classes=[name])
    t8, t16 = _half_energy_time(x8, 8000), _half_energy_time(x16, 16000)
    np.testing.assert_allclose(t8, t16, rtol=0.15, atol=0.004)


def test_hihat_uses_the_available_bandwidth():
    x8, _, _ = load_drums(8, sample_rate=8000, seed=0, classes=["hihat"])
    x44, _, _ = load_drums(8, sample_rate=44100, seed=0, classes=["hihat"])
    c8, c44 = _centroid(x8, 8000), _centroid(x44, 44100)
    assert np.all(c8 < 4000) and c44.mean() > 2 * c8.mean()


@settings(max_examples=20, deadline=None)
@given(
    sample_rate=st.sampled_from([100, 4000, 8000, 11025, 22050, 44100, 48000]),
    length=st.integers(min_value=32, max_value=3000),
    seed=st.integers(min_value=0, max_value=2**63),
)
def test_any_rate_and_length_gives_valid_clips(sample_rate, length, seed):
    x, y, names = load_drums(1, sample_rate=sample_rate, length=length, seed=seed)
    assert x.shape == (6, length) and x.dtype == np.float32
    assert np.all(np.isfinite(x))
    peaks = np.abs(x).max(axis=1)
    assert np.all(peaks >= 0.5 - 1e-6) and np.all(peaks <= 0.95 + 1e-6)


def test_degenerate_length_is_finite():
    x, _, _ = load_drums(2, length=1)
    assert x.shape == (12, 1) and np.all(np.isfinite(x)) and np.abs(x).max() <= 1.0


# --------------------------------------------------------------------------
# Argument validation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arg, bad",
    [
        ("num_per_class", 0),
        ("num_per_class", -3),
        ("num_per_class", 2.5),
        ("num_per_class", 4.0),
        ("num_per_class", "4"),
        ("num_per_class", True),
        ("num_per_class", None),
        ("sample_rate", 0),
        ("sample_rate", -16000),
        ("sample_rate", 16000.0),
        ("sample_rate", "16000"),
        ("length", 0),
        ("length", -1),
        ("length", 8192.5),
        ("length", np.float32(8)),
        ("seed", -1),
        ("seed", 1.5),
        ("seed", "0"),
        ("seed", None),
    ],
)
def test_invalid_numeric_arguments(arg, bad):
    kind = "an integer >= 0" if arg == "seed" else "a positive integer"
    pattern = rf"^{arg} must be {kind}, got {re.escape(repr(bad))}$"
    with pytest.raises(ValueError, match=pattern):
        load_drums(**{"num_per_class": 1, arg: bad})


def test_error_message_example():
    with pytest.raises(ValueError) as info:
        load_drums(0)
    assert str(info.value) == "num_per_class must be a positive integer, got 0"


def test_numpy_integers_are_accepted():
    x, _, _ = load_drums(np.int64(1), sample_rate=np.int32(8000), length=np.int16(64), seed=np.uint8(3))
    assert x.shape == (6, 64)


@settings(max_examples=25, deadline=None)
@given(bad=st.integers(max_value=0))
def test_nonpositive_counts_rejected(bad):
    for arg in ("num_per_class", "sample_rate", "length"):
        with pytest.raises(ValueError, match=rf"^{arg} must be a positive integer, got {bad}$"):
            load_drums(**{"num_per_class": 1, arg: bad})


@settings(max_examples=25, deadline=None)
@given(bad=st.floats(allow_nan=True, allow_infinity=True))
def test_floats_rejected(bad):
    for arg in ("num_per_class", "sample_rate", "length", "seed"):
        with pytest.raises(ValueError, match=rf"^{arg} must be an? .*integer.*, got "):
            load_drums(**{"num_per_class": 1, arg: bad})


def test_unknown_class_names_argument_value_and_allowed_names():
    with pytest.raises(ValueError, match=r"classes") as info:
        load_drums(2, classes=["kick", "cowbell"])
    message = str(info.value)
    assert "'cowbell'" in message
    assert all(name in message for name in DRUM_CLASSES)


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ([], "at least one"),
        ((), "at least one"),
        (["kick", "kick"], "duplicate"),
        ([1], "1"),
        (["Kick"], "'Kick'"),
        (5, "5"),
        ({"kick", "snare"}, "ordered"),
    ],
)
def test_invalid_classes(bad, fragment):
    with pytest.raises(ValueError, match=r"^classes") as info:
        load_drums(2, classes=bad)
    assert fragment in str(info.value)


# --------------------------------------------------------------------------
# Packaging properties
# --------------------------------------------------------------------------


def test_module_imports_only_numpy_and_stdlib():
    with open(datasets.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    # keras_soundgan.checks imports the standard library alone.
    assert imported <= {"__future__", "numbers", "typing", "numpy", "keras_soundgan"}, imported
    assert {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
            and n.module.startswith("keras_soundgan")} <= {"keras_soundgan.checks"}
