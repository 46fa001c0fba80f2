"""Tests of keras_soundgan.audio.io: decoding, slicing and loading folders of audio.

All audio is synthesised here with NumPy and written with soundfile into tmp_path.
"""

from __future__ import annotations

import math
import os
import shutil

import numpy as np
import pytest
import soundfile as sf

from keras_soundgan.audio import io as aio
from keras_soundgan.audio.io import (
    AUDIO_EXTENSIONS,
    AudioDecodeError,
    LoadReport,
    SkippedFile,
    decode_audio,
    load_audio_folder,
    slice_audio,
)

SR = 16000


def sine(freq, seconds, sr, amp=0.5, channels=1):
    t = np.arange(int(round(seconds * sr))) / sr
    x = amp * np.sin(2 * np.pi * freq * t)
    if channels == 1:
        return x
    return np.stack([x * (1.0 - 0.5 * c) for c in range(channels)], axis=1)


def write(path, data, sr, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, sr, **kw)
    return path


def peak_hz(y, sr):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.argmax(spectrum) * sr / len(y)


def require_mp3():
    """The MP3 cases need a libsndfile that writes MP3 (1.1 or later; soundfile's wheels
    bundle one). Without it they fail with the reason, never drop out silently."""
    if "MP3" not in sf.available_formats():
        pytest.fail(f"libsndfile {sf.__libsndfile_version__} cannot write MP3, so the MP3 "
                    "cases cannot run: install soundfile>=0.12 from its wheel",
                    pytrace=False)


# -- decoding --------------------------------------------------------------------------

# (file name, rate, channels, write options, tone in Hz, exact length expected)
FORMATS = [
    ("a_pcm16_8k_mono.wav", 8000, 1, dict(subtype="PCM_16"), 440.0, True),
    ("b_float_22k_stereo.wav", 22050, 2, dict(subtype="FLOAT"), 1000.0, True),
    ("c_44k_mono.flac", 44100, 1, {}, 2500.0, True),
    ("d_48k_stereo.ogg", 48000, 2, dict(format="OGG", subtype="VORBIS"), 700.0, True),
    ("e_22k_mono.aiff", 22050, 1, dict(format="AIFF"), 1500.0, True),
    ("f_48k_stereo_pcm24.flac", 48000, 2, dict(subtype="PCM_24"), 3000.0, True),
]


def test_mixed_formats_rates_and_channels_decode_to_rate_length_and_pitch(tmp_path):
    seconds = 0.25
    folder = tmp_path / "mixed"
    require_mp3()
    formats = [*FORMATS, ("g_44k_mono.mp3", 44100, 1, dict(format="MP3"), 880.0, False)]
    for name, sr, ch, kw, freq, _ in formats:
        write(folder / name, sine(freq, seconds, sr, channels=ch), sr, **kw)

    for name, sr, ch, kw, freq, exact in formats:
        y = decode_audio(folder / name, SR)
        assert y.dtype == np.float32 and y.ndim == 1, name
        expected = math.ceil(int(round(seconds * sr)) * SR / sr)
        if exact:
            assert len(y) == expected, name
        else:  # MP3 frames add encoder delay/padding
            assert abs(len(y) - expected) < 0.05 * SR, (name, len(y))
        assert abs(peak_hz(y, SR) - freq) < 2 * SR / len(y), name
        # Mono mix-down: the mean of the channels (1.0 and 0.5 times the tone).
        amp = 0.5 * (1.0 if ch == 1 else 0.75)
        mid = y[len(y) // 4: 3 * len(y) // 4]
        assert np.max(np.abs(mid)) == pytest.approx(amp, rel=0.1), name

    x, labels, names, report = load_audio_folder(folder, SR, int(seconds * SR))
    assert x.shape == (len(formats), int(seconds * SR)) and x.dtype == np.float32
    assert labels.dtype == np.int32 and not labels.any() and names == ()
    assert report.files_found == report.files_used == len(formats) and not report.skipped
    for row, (name, *_, freq, _) in zip(x, formats):  # sorted order = file names
        assert abs(peak_hz(row, SR) - freq) < 10, name


def test_decode_is_exact_without_resampling_and_averages_channels(tmp_path):
    rng = np.random.default_rng(0)
    stereo = rng.uniform(-0.9, 0.9, size=(1000, 2)).astype(np.float32)
    write(tmp_path / "s.wav", stereo, SR, subtype="FLOAT")
    np.testing.assert_allclose(decode_audio(tmp_path / "s.wav", SR), stereo.mean(axis=1), atol=1e-7)
    ints = np.array([0, 16384, -32768, 32767], dtype=np.int16)
    write(tmp_path / "i.wav", ints, SR, subtype="PCM_16")
    np.testing.assert_allclose(decode_audio(tmp_path / "i.wav", SR), ints / 32768.0)
    # duration reads only the start
    assert len(decode_audio(tmp_path / "s.wav", SR, duration=0.01)) == 160


def test_mp3_goes_through_librosa_and_soundfile_failures_fall_back_to_librosa(tmp_path, monkeypatch):
    calls = []
    real = aio._read_with_librosa

    def spy(path, duration):
        calls.append(os.path.basename(path))
        return real(path, duration)

    monkeypatch.setattr(aio, "_read_with_librosa", spy)
    require_mp3()
    write(tmp_path / "a.mp3", sine(440, 0.2, 22050), 22050, format="MP3")
    assert abs(peak_hz(decode_audio(tmp_path / "a.mp3", SR), SR) - 440) < 10
    assert calls == ["a.mp3"]
    # A file soundfile refuses (simulated) is decoded by librosa.load instead.
    write(tmp_path / "b.flac", sine(1000, 0.2, 44100), 44100)

    def broken(path, duration):
        raise RuntimeError("simulated soundfile failure")

    monkeypatch.setattr(aio, "_read_with_soundfile", broken)
    y = decode_audio(tmp_path / "b.flac", SR)
    assert len(y) == 3200 and abs(peak_hz(y, SR) - 1000) < 10
    assert calls[-1] == "b.flac"


@pytest.mark.parametrize("case", ["corrupt", "zero_bytes", "no_samples", "nan", "inf",
                                  "folder", "broken_link", "unsupported"])
def test_decode_audio_raises_a_clear_error(tmp_path, case):
    path = tmp_path / "x.wav"
    category = aio.CORRUPT
    if case == "corrupt":
        path.write_bytes(np.random.default_rng(0).bytes(3000))
    elif case == "zero_bytes":
        path.write_bytes(b"")
        category = aio.EMPTY
    elif case == "no_samples":
        write(path, np.zeros((0, 1)), SR)
        category = aio.EMPTY
    elif case in ("nan", "inf"):
        x = sine(440, 0.1, SR)
        x[100] = np.nan if case == "nan" else np.inf
        write(path, x, SR, subtype="FLOAT")
        category = aio.NON_FINITE
    elif case == "folder":
        path.mkdir()
    elif case == "broken_link":
        path.symlink_to(tmp_path / "missing.wav")
    elif case == "unsupported":
        path = tmp_path / "x.m4a"
        path.write_bytes(b"not really aac" * 50)
        category = aio.UNSUPPORTED if shutil.which("ffmpeg") is None else None
    with pytest.raises(AudioDecodeError) as info:
        decode_audio(path, SR)
    err = info.value
    assert isinstance(err, ValueError) and err.path == str(path) and str(path) in str(err)
    assert err.reason and (category is None or err.category == category), err
    if case in ("nan", "inf"):
        assert ("1 NaN" if case == "nan" else "1 infinite") in err.reason
    if case == "folder":
        assert "folder" in err.reason
    if case == "broken_link":
        assert "broken symbolic link" in err.reason


def test_decode_rejects_bad_arguments(tmp_path):
    write(tmp_path / "a.wav", sine(440, 0.1, SR), SR)
    for bad in (0, -1, 16000.5, True):
        with pytest.raises(ValueError, match="sample_rate"):
            decode_audio(tmp_path / "a.wav", bad)


# -- slicing ---------------------------------------------------------------------------


def test_slice_first_pads_short_clips_and_cuts_long_ones():
    x = np.arange(1, 11, dtype=np.float32)
    np.testing.assert_array_equal(slice_audio(x, 4), [[1, 2, 3, 4]])
    np.testing.assert_array_equal(slice_audio(x[:3], 4), [[1, 2, 3, 0]])
    np.testing.assert_array_equal(slice_audio(x[:3], 4, pad=False), [[1, 2, 3, 0]])
    assert slice_audio(np.zeros(0), 4).shape == (0, 4)
    out = slice_audio(x.astype(np.float64), 4)
    assert out.dtype == np.float32 and out.flags.c_contiguous


def test_slice_all_overlap_counts_padding_and_dropped_tail():
    x = np.arange(1, 11, dtype=np.float32)  # n = 10
    out = slice_audio(x, 4, mode="all")  # hop 2: starts 0, 2, 4, 6 (6..9 ends exactly)
    np.testing.assert_array_equal(out, [[1, 2, 3, 4], [3, 4, 5, 6], [5, 6, 7, 8], [7, 8, 9, 10]])
    x11 = np.arange(1, 12, dtype=np.float32)  # n = 11: one more, zero-padded slice
    padded = slice_audio(x11, 4, mode="all")
    assert padded.shape == (5, 4)
    np.testing.assert_array_equal(padded[-1], [9, 10, 11, 0])
    dropped = slice_audio(x11, 4, mode="all", pad=False)  # tail 11 dropped
    np.testing.assert_array_equal(dropped, out)
    # general counts: 1 + ceil((n - L) / hop) with pad, 1 + (n - L) // hop without
    for n, L, hop in [(16000, 4096, 2048), (16000, 4096, 1000), (5000, 1000, 1000), (999, 1000, 10)]:
        y = np.ones(n)
        want_pad = 1 if n <= L else 1 + math.ceil((n - L) / hop)
        want_drop = 1 if n <= L else 1 + (n - L) // hop
        assert len(slice_audio(y, L, "all", hop=hop)) == want_pad
        assert len(slice_audio(y, L, "all", hop=hop, pad=False)) == want_drop
    # a clip shorter than the slice is padded even with pad=False
    np.testing.assert_array_equal(slice_audio(x[:3], 4, "all", pad=False), [[1, 2, 3, 0]])
    # hop larger than the slice leaves gaps; no slice starts past the end
    np.testing.assert_array_equal(slice_audio(x, 3, "all", hop=5), [[1, 2, 3], [6, 7, 8]])
    assert slice_audio(x, 4, "all", max_slices=2).shape == (2, 4)


@pytest.mark.parametrize("kwargs, match", [
    (dict(slice_length=0), "slice_length"),
    (dict(mode="middle"), "mode"),
    (dict(mode="first", hop=2), "hop"),
    (dict(mode="all", hop=0), "hop"),
    (dict(max_slices=0), "max_slices"),
])
def test_slice_rejects_bad_arguments(kwargs, match):
    args = dict(slice_length=4) | kwargs
    with pytest.raises(ValueError, match=match):
        slice_audio(np.ones(10), **args)
    with pytest.raises(ValueError, match="1-D"):
        slice_audio(np.ones((2, 10)), 4)


# -- folders ---------------------------------------------------------------------------


def make_kit(root, sr=SR):
    """kick/ (2 files, one nested), snare/, hat/ (sorted: hat, kick, snare)."""
    write(root / "snare" / "s1.wav", sine(200, 0.1, sr, 0.3), sr)
    write(root / "kick" / "k1.wav", sine(60, 0.1, sr, 0.4), sr)
    write(root / "kick" / "acoustic" / "deep" / "k2.flac", sine(50, 0.1, sr, 0.5), sr)
    write(root / "hat" / "h1.wav", sine(3000, 0.1, sr, 0.6), sr)
    (root / "artwork").mkdir()
    (root / "artwork" / "cover.jpg").write_bytes(b"\xff\xd8 not audio")


def test_class_folders_become_sorted_labels_nested_files_join_their_class(tmp_path):
    make_kit(tmp_path)
    x, y, names, report = load_audio_folder(tmp_path, SR, 1024)
    assert names == ("hat", "kick", "snare")  # "artwork" holds no audio: not a class
    np.testing.assert_array_equal(y, [0, 1, 1, 2])
    assert y.dtype == np.int32 and x.dtype == np.float32 and x.shape == (4, 1024)
    # order inside kick: acoustic/deep/k2.flac sorts before k1.wav
    peaks = np.max(np.abs(x), axis=1)
    np.testing.assert_allclose(peaks, [0.6, 0.5, 0.4, 0.3], atol=0.01)
    assert report.examples_per_class == {"hat": 1, "kick": 2, "snare": 1}
    assert report.ignored == [str(tmp_path / "artwork" / "cover.jpg")]
    # class_names picks and orders classes
    x2, y2, names2, _ = load_audio_folder(tmp_path, SR, 1024, class_names=["snare", "kick"])
    assert names2 == ("snare", "kick")
    np.testing.assert_array_equal(y2, [0, 1, 1])
    with pytest.raises(ValueError, match="no sub-folder 'toms'"):
        load_audio_folder(tmp_path, SR, 1024, class_names=["toms"])


def test_files_beside_class_folders_are_skipped_with_a_reason(tmp_path):
    make_kit(tmp_path)
    write(tmp_path / "loose.wav", sine(440, 0.1, SR), SR)
    seen = []
    x, y, names, report = load_audio_folder(tmp_path, SR, 1024, on_skip=seen.append)
    assert len(x) == 4 and report.files_found == 5 and report.files_used == 4
    assert seen == report.skipped == [SkippedFile(
        str(tmp_path / "loose.wav"), report.skipped[0].reason, aio.OUTSIDE)]
    assert "labels=None" in seen[0].reason
    # labels=None: everything, recursively, unlabelled
    x, y, names, report = load_audio_folder(tmp_path, SR, 1024, labels=None)
    assert names == () and len(x) == 5 and not y.any() and not report.skipped
    with pytest.raises(ValueError, match="labels"):
        load_audio_folder(tmp_path, SR, 1024, labels="folders")


def test_flat_folder_is_unlabelled(tmp_path):
    for i in range(3):
        write(tmp_path / f"take{i}.wav", sine(300 + 100 * i, 0.1, SR), SR)
    x, y, names, report = load_audio_folder(tmp_path, SR, 2048)
    assert x.shape == (3, 2048) and names == () and y.tolist() == [0, 0, 0]
    assert report.summary() == "used 3 of 3 files -> 3 examples"
    assert report.details() == ""


def test_slicing_all_in_the_loader(tmp_path):
    write(tmp_path / "long.wav", sine(440, 1.0, SR), SR)  # 16000 samples
    x, _, _, report = load_audio_folder(tmp_path, SR, 4096, slicing="all")
    assert x.shape == (1 + math.ceil((16000 - 4096) / 2048), 4096) == (7, 4096)
    assert report.examples == 7 and report.files_used == 1
    x, *_ = load_audio_folder(tmp_path, SR, 4096, slicing="all", hop=4096)
    assert len(x) == 4  # 0, 4096, 8192, 12288 (padded)
    x, *_ = load_audio_folder(tmp_path, SR, 4096, slicing="all", max_slices_per_file=2)
    assert len(x) == 2
    with pytest.raises(ValueError, match="hop"):
        load_audio_folder(tmp_path, SR, 4096, hop=100)


def test_silent_slices_of_a_recording_are_dropped(tmp_path):
    speech = np.concatenate([sine(300, 0.5, SR), np.zeros(SR), sine(500, 0.5, SR)])
    write(tmp_path / "talk.wav", speech, SR, subtype="FLOAT")
    x, *_ = load_audio_folder(tmp_path, SR, 4000, slicing="all", hop=4000)
    assert len(x) == 4  # 2 + 2 of sound; the 4 silent slices in the gap are dropped
    x, *_ = load_audio_folder(tmp_path, SR, 4000, slicing="all", hop=4000, min_rms=None)
    assert len(x) == 8


def test_trim_silence_and_peak_normalisation(tmp_path):
    clip = np.concatenate([np.zeros(4800), sine(440, 0.2, SR, amp=0.3), np.zeros(4800)])
    write(tmp_path / "late.wav", clip, SR, subtype="FLOAT")
    x, *_ = load_audio_folder(tmp_path, SR, 8000)
    onset = np.flatnonzero(np.abs(x[0]) > 1e-3)[0]
    assert onset == pytest.approx(4800, abs=2) and np.max(np.abs(x)) == pytest.approx(0.3, rel=1e-3)
    x, *_ = load_audio_folder(tmp_path, SR, 8000, trim_silence=True, normalize_peak=True)
    onset = np.flatnonzero(np.abs(x[0]) > 1e-3)[0]
    assert onset <= 300  # at most half a trim frame of leading silence is left
    assert np.max(np.abs(x)) == pytest.approx(0.95, rel=1e-4)
    tail = np.flatnonzero(np.abs(x[0]) > 1e-3)[-1]
    assert tail < 3200 + 300 + 600  # the trailing silence is gone too (then padded)
    # With a slice shorter than the leading silence the untrimmed file is silent there.
    seen = []
    with pytest.raises(ValueError, match="no usable audio"):
        load_audio_folder(tmp_path, SR, 1024, on_skip=seen.append)
    assert seen[0].category == aio.SILENT and "trim_silence=True" in seen[0].reason


def test_bad_files_are_skipped_and_reported_while_good_ones_load(tmp_path, monkeypatch):
    good = [write(tmp_path / "kick" / "good1.wav", sine(60, 0.2, SR), SR),
            write(tmp_path / "snare" / "good2.flac", sine(200, 0.2, 44100), 44100)]
    bad = {}  # path -> category
    p = tmp_path / "kick" / "corrupt.wav"
    p.write_bytes(np.random.default_rng(1).bytes(5000))
    bad[p] = aio.CORRUPT
    p = tmp_path / "kick" / "empty.wav"
    p.write_bytes(b"")
    bad[p] = aio.EMPTY
    bad[write(tmp_path / "kick" / "headeronly.wav", np.zeros((0, 1)), SR)] = aio.EMPTY
    silent = write(tmp_path / "snare" / "silent.wav", np.zeros(3200), SR)
    bad[silent] = aio.SILENT
    x = sine(200, 0.2, SR)
    x[10] = np.nan
    bad[write(tmp_path / "snare" / "nan.wav", x, SR, subtype="FLOAT")] = aio.NON_FINITE
    x[10] = -np.inf
    bad[write(tmp_path / "snare" / "inf.wav", x, SR, subtype="DOUBLE")] = aio.NON_FINITE
    p = tmp_path / "snare" / "link.wav"
    p.symlink_to(tmp_path / "nowhere.wav")
    bad[p] = aio.CORRUPT
    locked = write(tmp_path / "snare" / "locked.wav", sine(200, 0.2, SR), SR)
    bad[locked] = aio.CORRUPT
    (tmp_path / "snare" / "notes.txt").write_text("recorded 2024")
    (tmp_path / "kick" / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "kick" / "._good1.wav").write_bytes(b"\x00\x05\x16\x07 apple double")

    # Tests run as root, so permissions cannot make a file unreadable: simulate it.
    real_open = open

    def fake_open(path, *args, **kwargs):
        if os.fspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(aio, "open", fake_open, raising=False)

    seen = []
    x, y, names, report = load_audio_folder(tmp_path, SR, 2048, on_skip=seen.append)
    assert names == ("kick", "snare") and y.tolist() == [0, 1]
    assert x.shape == (2, 2048) and np.isfinite(x).all()
    assert report.files_found == len(good) + len(bad) and report.files_used == 2
    assert seen == report.skipped
    got = {s.path: s for s in report.skipped}
    assert set(got) == {str(p) for p in bad}
    for path, category in bad.items():
        item = got[str(path)]
        assert item.category == category and item.reason, item
    assert "Permission denied" in got[str(locked)].reason
    assert "broken symbolic link" in got[str(tmp_path / "snare" / "link.wav")].reason
    assert "NaN" in got[str(tmp_path / "snare" / "nan.wav")].reason
    assert "trim_silence" not in got[str(silent)].reason  # the whole short file was read
    assert sorted(report.ignored) == sorted(str(tmp_path / n) for n in (
        "snare/notes.txt", "kick/photo.jpg", "kick/._good1.wav"))
    summary = report.summary()
    assert "\n" not in summary
    assert summary.startswith(f"used 2 of {2 + len(bad)} files ({len(bad)} skipped: ")
    assert "3 corrupt or unreadable" in summary and "2 empty" in summary
    assert "2 NaN or inf samples" in summary and "1 silent" in summary
    assert summary.endswith("-> 2 examples; 3 other files ignored")
    lines = report.details().splitlines()
    assert len(lines) == len(bad)
    assert all(line.startswith(str(tmp_path)) and ": " in line for line in lines)


def test_summary_format_of_the_report():
    report = LoadReport(files_found=121, files_used=118, examples=340, skipped=[
        SkippedFile("a.wav", "corrupt or unreadable: x", aio.CORRUPT),
        SkippedFile("b.wav", "silent: y", aio.SILENT),
        SkippedFile("c.wav", "corrupt or unreadable: z", aio.CORRUPT)])
    assert report.summary() == (
        "used 118 of 121 files (3 skipped: 2 corrupt or unreadable, 1 silent) -> 340 examples")
    assert report.details() == (
        "a.wav: corrupt or unreadable: x\nb.wav: silent: y\nc.wav: corrupt or unreadable: z")


def test_unsupported_audio_extension_is_skipped_non_audio_is_ignored(tmp_path):
    write(tmp_path / "ok.wav", sine(440, 0.1, SR), SR)
    (tmp_path / "voice.m4a").write_bytes(b"\x00\x00\x00\x18ftypM4A junk" * 10)
    (tmp_path / "readme.txt").write_text("hello")
    _, _, _, report = load_audio_folder(tmp_path, SR, 1024)
    assert report.files_found == 2 and report.files_used == 1
    assert [s.path for s in report.skipped] == [str(tmp_path / "voice.m4a")]
    if shutil.which("ffmpeg") is None:
        assert report.skipped[0].category == aio.UNSUPPORTED
        assert "no decoder for .m4a" in report.skipped[0].reason
    assert report.ignored == [str(tmp_path / "readme.txt")]
    assert {".wav", ".flac", ".ogg", ".mp3", ".aiff", ".m4a"} <= set(AUDIO_EXTENSIONS)


def test_nothing_usable_raises_a_helpful_value_error(tmp_path):
    for i in range(5):
        (tmp_path / f"bad{i}.wav").write_bytes(b"RIFF....WAVEjunk" * (i + 1))
    write(tmp_path / "quiet.wav", np.zeros(1000), SR)
    with pytest.raises(ValueError) as info:
        load_audio_folder(tmp_path, SR, 1024)
    message = str(info.value)
    assert str(tmp_path) in message
    assert "found 6 audio files, skipped 6 (5 corrupt or unreadable, 1 silent)" in message
    assert "bad0.wav: corrupt or unreadable" in message and "and 3 more" in message
    assert info.value.report.files_used == 0 and len(info.value.report.skipped) == 6

    only_text = tmp_path / "docs"
    only_text.mkdir()
    (only_text / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="no audio files in .*docs.*1 other files were ignored"):
        load_audio_folder(only_text, SR, 1024)


def test_missing_folder_or_a_file_instead_of_a_folder(tmp_path):
    missing = tmp_path / "no_such_folder"
    with pytest.raises(ValueError, match=f"'{missing}' does not exist"):
        load_audio_folder(missing, SR, 1024)
    f = write(tmp_path / "a.wav", sine(440, 0.1, SR), SR)
    with pytest.raises(ValueError, match="is not a folder"):
        load_audio_folder(f, SR, 1024)


def test_on_skip_can_abort_loading(tmp_path):
    write(tmp_path / "a.wav", sine(440, 0.1, SR), SR)
    (tmp_path / "b.wav").write_bytes(b"junk" * 100)

    def strict(item):
        raise RuntimeError(f"strict: {item}")

    with pytest.raises(RuntimeError, match="b.wav"):
        load_audio_folder(tmp_path, SR, 1024, on_skip=strict)


def test_order_is_deterministic_and_sorted(tmp_path):
    names = ["m.wav", "b.wav", "z/a.wav", "a.wav", "c/d/e.wav", "c/b.wav"]
    for i, name in enumerate(names):  # created out of order; amplitude tags the file
        write(tmp_path / name, sine(440, 0.05, SR, amp=0.1 * (i + 1)), SR, subtype="FLOAT")
    x1, *_ = load_audio_folder(tmp_path, SR, 512, labels=None)
    x2, *_ = load_audio_folder(tmp_path, SR, 512, labels=None)
    np.testing.assert_array_equal(x1, x2)
    order = ["a.wav", "b.wav", "c/b.wav", "c/d/e.wav", "m.wav", "z/a.wav"]
    expected = [0.1 * (names.index(n) + 1) for n in order]
    np.testing.assert_allclose(np.max(np.abs(x1), axis=1), expected, rtol=1e-3)


def test_symlinked_folders_are_followed_only_when_asked(tmp_path):
    data = tmp_path / "data"
    write(data / "a.wav", sine(440, 0.05, SR), SR)
    write(tmp_path / "elsewhere" / "b.wav", sine(440, 0.05, SR), SR)
    (data / "more").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "elsewhere" / "loop").symlink_to(data, target_is_directory=True)
    x, *_, report = load_audio_folder(data, SR, 512, labels=None)
    assert len(x) == 1 and report.ignored == [str(data / "more")]
    x, *_ = load_audio_folder(data, SR, 512, labels=None, follow_links=True)
    assert len(x) == 2  # and the link loop back to data/ ends


@pytest.mark.parametrize("kwargs, match", [
    (dict(sample_rate=0), "sample_rate"),
    (dict(slice_length=-5), "slice_length"),
    (dict(slicing="random"), "slicing"),
    (dict(top_db=0), "top_db"),
    (dict(min_rms=-1.0), "min_rms"),
    (dict(max_slices_per_file=0), "max_slices_per_file"),
    (dict(labels=None, class_names=["a"]), "class_names"),
])
def test_loader_rejects_bad_arguments(tmp_path, kwargs, match):
    args = dict(sample_rate=SR, slice_length=1024) | kwargs
    with pytest.raises(ValueError, match=match):
        load_audio_folder(tmp_path, **args)


# -- parallel decoding -----------------------------------------------------------------


def test_resampling_equals_librosa_soxr_hq_sample_for_sample():
    """decode_audio calls soxr itself (librosa's import costs seconds in every worker
    process); the result is librosa.resample(res_type="soxr_hq")'s, to the bit."""
    import librosa

    rng = np.random.default_rng(0)
    for rate, n in ((44100, 44100), (22050, 12345), (48000, 7), (8000, 3001), (16001, 999)):
        x = rng.normal(0, 0.3, n).astype(np.float32)
        ours = aio._resample(x, rate, SR)
        theirs = librosa.resample(x, orig_sr=rate, target_sr=SR, res_type="soxr_hq")
        assert ours.dtype == theirs.dtype == np.float32
        np.testing.assert_array_equal(ours, theirs)


def _mixed_folder(root):
    rng = np.random.default_rng(3)
    for i in range(8):
        rate = (16000, 22050, 44100, 48000)[i % 4]
        channels = 1 + i % 2
        write(root / ("a", "b")[i % 2] / f"f{i}.wav",
              sine(100 + 40 * i, 0.3 + 0.1 * i, rate, channels=channels)
              + rng.normal(0, 0.01, (int(round((0.3 + 0.1 * i) * rate)), channels)).squeeze(),
              rate)
    (root / "a" / "broken.wav").write_bytes(b"RIFF but no wave")
    write(root / "b" / "silent.wav", np.zeros(4000), SR)
    write(root / "loose.wav", sine(300, 0.2, SR), SR)


def test_workers_decode_in_other_processes_with_the_same_result_and_report(tmp_path,
                                                                           monkeypatch):
    _mixed_folder(tmp_path)
    serial_skips, parallel_skips = [], []
    serial = load_audio_folder(tmp_path, SR, 4096, slicing="all", workers=1,
                               on_skip=serial_skips.append)
    monkeypatch.setattr(aio, "PARALLEL_MIN_BYTES", 0)  # this small folder in parallel too
    from joblib.externals import loky

    started = []
    real = loky.get_reusable_executor

    def spy(max_workers=None, **kwargs):
        started.append(max_workers)
        return real(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(loky, "get_reusable_executor", spy)
    parallel = load_audio_folder(tmp_path, SR, 4096, slicing="all", workers=2,
                                 on_skip=parallel_skips.append)
    assert started == [2]  # it did run in two worker processes
    np.testing.assert_array_equal(serial[0], parallel[0])
    np.testing.assert_array_equal(serial[1], parallel[1])
    assert serial[2] == parallel[2] and serial[3] == parallel[3]
    assert serial_skips == parallel_skips == serial[3].skipped
    assert [os.path.basename(s.path) for s in serial_skips] == [
        "loose.wav", "broken.wav", "silent.wav"]  # in reading order


def test_workers_argument_is_checked(tmp_path):
    write(tmp_path / "a.wav", sine(440, 0.1, SR), SR)
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            load_audio_folder(tmp_path, SR, 1024, workers=bad)
    assert aio.default_workers() >= 1
