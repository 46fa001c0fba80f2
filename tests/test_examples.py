"""The scripts in examples/ run (with small settings), as `__main__` in this process."""

import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def run_example(monkeypatch, capsys):
    """``run_example(SCRIPT, *args, cwd=...)`` runs ``python examples/SCRIPT args...``
    from ``cwd`` as ``__main__`` in this process (the examples are plain scripts:
    argparse, then the package) and returns what it printed."""
    def run(script, *args, cwd):
        monkeypatch.chdir(cwd)
        monkeypatch.setattr(sys, "argv", [str(EXAMPLES / script), *args])
        capsys.readouterr()
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
        return capsys.readouterr().out
    return run


@pytest.mark.slow
def test_conditional_drums_example(tmp_path, run_example):
    out = run_example("conditional_drums.py", "--epochs", "1", "--output", "out", cwd=tmp_path)
    assert "Wrote 24 sounds" in out
    audio, rate = sf.read(tmp_path / "out" / "kick_0.wav")
    assert rate == 16000 and audio.shape == (4096,)


@pytest.mark.slow
def test_train_on_folder_and_latent_walk_examples(tmp_path, run_example):
    rng = np.random.default_rng(0)
    for word in ("yes", "no"):
        (tmp_path / "words" / word).mkdir(parents=True)
        for i in range(20):
            t = np.arange(6000) / 16000
            tone = np.sin(2 * np.pi * (300 if word == "yes" else 700) * (1 + i / 50) * t)
            sf.write(tmp_path / "words" / word / f"{i}.wav",
                     (0.5 * tone * np.exp(-4 * t) + rng.normal(0, 0.01, t.shape)), 16000)
    out = run_example("train_on_folder.py", "words", "--epochs", "1", "--output", "run",
                      cwd=tmp_path)
    assert "run folder: run" in out
    out = run_example("latent_walk.py", "run", "3", "17", "--steps", "3", "--output", "walk",
                      cwd=tmp_path)
    assert len(list((tmp_path / "walk").glob("step_*.wav"))) == 3


def test_make_spoken_digits_calls_espeak_for_every_word(tmp_path, monkeypatch):
    """The script's own logic, with espeak-ng replaced by a stub that writes a tone (CI
    machines need not have espeak-ng installed)."""
    calls = []

    def fake_run(cmd, check, capture_output):
        calls.append(cmd)
        path = cmd[cmd.index("-w") + 1]
        sf.write(path, np.zeros(100), 22050)

    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/espeak-ng")
    monkeypatch.setattr("subprocess.run", fake_run)
    module = runpy.run_path(str(EXAMPLES / "make_spoken_digits.py"))
    module["main"]([str(tmp_path / "digits"), "--per-class", "4", "--held-out-per-class", "2"])
    assert len(calls) == 60
    for part, count in (("train", 4), ("held_out", 2)):
        folders = sorted(p.name for p in (tmp_path / "digits" / part).iterdir())
        assert folders == sorted(module["WORDS"])
        assert all(len(list((tmp_path / "digits" / part / w).iterdir())) == count
                   for w in folders)
    voices = {c[c.index("-v") + 1] for c in calls}
    assert len(voices) > 3  # many voices, pitches and speeds
    # Held-out words come from speakers (voice variants) the training part never uses.
    held = {c[c.index("-v") + 1] for c in calls if "held_out" in c[c.index("-w") + 1]}
    train = voices - held
    assert held and all(v.endswith(module["HELD_OUT_VARIANTS"]) for v in held)
    assert not any(v.endswith(module["HELD_OUT_VARIANTS"]) for v in train)


def test_make_spoken_digits_with_flite_holds_out_a_whole_voice(tmp_path, monkeypatch):
    """The flite engine, its binary replaced by a stub: the held-out voice speaks only in
    the held-out part, the three others share the training part evenly."""
    calls = []

    def fake_run(cmd, check, capture_output):
        calls.append(cmd)
        sf.write(cmd[cmd.index("-o") + 1], np.zeros(100), 16000)

    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr("subprocess.run", fake_run)
    module = runpy.run_path(str(EXAMPLES / "make_spoken_digits.py"))
    module["main"]([str(tmp_path / "digits"), "--engine", "flite", "--per-class", "6",
                    "--held-out-per-class", "2", "--held-out-voice", "slt"])
    assert len(calls) == 80 and all(c[0] == "/usr/bin/flite" for c in calls)
    voice = {c[c.index("-o") + 1]: c[c.index("-voice") + 1] for c in calls}
    held = [v for path, v in voice.items() if "/held_out/" in path]
    train = [v for path, v in voice.items() if "/train/" in path]
    assert set(held) == {"slt"} and len(held) == 20
    assert sorted(set(train)) == ["awb", "kal16", "rms"]
    assert all(train.count(v) == 20 for v in set(train))
    speeds = {c[c.index("--setf") + 1] for c in calls}
    assert len(speeds) > 10 and all(s.startswith("duration_stretch=") for s in speeds)
    with pytest.raises(SystemExit, match="--held-out-voice must be one of"):
        module["main"]([str(tmp_path / "x"), "--engine", "flite", "--held-out-voice", "bob"])


def _note_ons(midi_bytes):
    """(seconds, key, velocity) of every note-on in a one-track file written by _fluidsynth.py
    (one tick is one millisecond)."""
    data = midi_bytes[22:]  # MThd (14 bytes) + MTrk header (8 bytes)
    i, now, events = 0, 0, []
    while i < len(data):
        delta = 0
        while True:
            delta = (delta << 7) | (data[i] & 0x7F)
            i += 1
            if data[i - 1] < 0x80:
                break
        now += delta
        status = data[i]
        if status == 0xFF:
            i += 3 + data[i + 2]
        elif status & 0xF0 == 0xC0:
            i += 2
        else:
            if status & 0xF0 == 0x90:
                events.append((now / 1000, data[i + 1], data[i + 2]))
            i += 3
    return events


def _stub_fluidsynth(monkeypatch, calls):
    """Replaces FluidSynth by a stub that renders each MIDI note-on as a decaying tone of
    the note's pitch at its onset, decaying faster for louder notes (CI machines need not have FluidSynth)."""
    import subprocess

    real_run = subprocess.run

    def fake_run(cmd, check=False, capture_output=False, **kwargs):
        if not str(cmd[0]).endswith("fluidsynth"):
            return real_run(cmd, check=check, capture_output=capture_output, **kwargs)
        calls.append(cmd)
        rate = int(cmd[cmd.index("-r") + 1])
        wav, midi = cmd[cmd.index("-F") + 1], cmd[-1]
        notes = _note_ons(Path(midi).read_bytes())
        audio = np.zeros(int((notes[-1][0] + 2) * rate))
        for start, key, velocity in notes:
            t = np.arange(rate) / rate
            decay = 2 + 10 * velocity / 127  # velocity layers: alike, not identical
            tone = 0.3 * np.sin(2 * np.pi * 440 * 2 ** ((key - 69) / 12) * t) * np.exp(-decay * t)
            audio[int(start * rate):int(start * rate) + rate] += tone
        sf.write(wav, np.stack([audio, audio], axis=1), rate)

    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr("subprocess.run", fake_run)


def test_make_notes_writes_one_folder_per_pitch_and_holds_out_instruments(tmp_path, monkeypatch):
    import librosa

    calls = []
    _stub_fluidsynth(monkeypatch, calls)
    soundfont = tmp_path / "gm.sf2"
    soundfont.write_bytes(b"")
    module = runpy.run_path(str(EXAMPLES / "make_notes.py"))
    module["main"]([str(tmp_path / "notes"), "--low", "57", "--high", "60",
                    "--soundfont", str(soundfont)])
    assert len(calls) == len(module["TRAIN"]) + len(module["HELD_OUT"])  # one per instrument
    for part, per_pitch in (("train", 2 * len(module["TRAIN"])),
                            ("held_out", len(module["HELD_OUT"]))):
        folders = sorted(p.name for p in (tmp_path / "notes" / part).iterdir())
        assert folders == ["A#3", "A3", "B3", "C4"]
        assert all(len(list((tmp_path / "notes" / part / f).iterdir())) == per_pitch
                   for f in folders)
    # Each clip starts at its own note: the stub's tone of that pitch.
    audio, rate = sf.read(tmp_path / "notes" / "train" / "A3" / "violin_80.wav")
    assert rate == 16000 and audio.shape == (16384,)
    spectrum = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spectrum) * rate / len(audio) - 220) < 2
    assert module["pitch_name"](60) == librosa.midi_to_note(60, unicode=False) == "C4"
    assert module["pitch_name"](70) == librosa.midi_to_note(70, unicode=False) == "A#4"


def test_make_drums_keeps_distinct_hits_and_holds_out_whole_groups(tmp_path, monkeypatch):
    calls = []
    _stub_fluidsynth(monkeypatch, calls)
    # A SoundFont of its own, as in the notes test: --soundfont must reach the renderer
    # too (it once did not, so the example needed the Debian package's file anyway).
    soundfont = tmp_path / "gm.sf2"
    soundfont.write_bytes(b"")
    module = runpy.run_path(str(EXAMPLES / "make_drums.py"))
    # Two kits; the stub renders the same tones for both, so the second kit adds nothing.
    monkeypatch.setitem(module["main"].__globals__, "drum_kits",
                        lambda soundfont: {0: "Standard", 25: "TR-808"})
    module["main"]([str(tmp_path / "drums"), "--soundfont", str(soundfont)])
    assert all(call[call.index("-F") + 2] == str(soundfont) for call in calls)
    assert len(calls) == 2
    files = {p.parent.parent.name + "/" + p.parent.name + "/" + p.name
             for p in (tmp_path / "drums").rglob("*.wav")}
    assert not any("tr808" in f for f in files)  # identical hits are kept once
    keys = sum(len(k) for k in module["CLASSES"].values())
    assert len(files) == keys * len(module["VELOCITIES"])
    # The velocities of one key differ only in level: one group, never split.
    for name, keys in module["CLASSES"].items():
        for key in keys:
            parts = {f.split("/")[0] for f in files if f"/{name}/standard_{key}_" in f}
            assert len(parts) == 1
    held = {f.split("/")[1] for f in files if f.startswith("held_out/")}
    assert held == set(module["CLASSES"])  # every class has a held-out part


def _hydrogen_kit(root, name, instruments, rate, seed):
    """A Hydrogen kit folder: drumkit.xml (in Hydrogen's namespace, each instrument's
    samples as layers) and its WAV files of decaying noise bursts."""
    rng = np.random.default_rng(seed)
    kit = root / name
    kit.mkdir(parents=True)
    xml = ['<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">',
           f"<name>{name}</name><instrumentList>"]
    for i, (instrument, layers) in enumerate(instruments):
        xml.append(f"<instrument><id>{i}</id><name>{instrument}</name>")
        for layer in range(layers):
            file = f"s{i}_{layer}.wav"
            silence = np.zeros(rate // 10)  # the onset comes after 0.1 s
            hit = rng.normal(0, 0.3, rate) * np.exp(-np.arange(rate) / (rate / (8 + i)))
            sf.write(kit / file, np.concatenate([silence, hit]), rate)
            xml.append(f"<layer><filename>{file}</filename></layer>")
        xml.append("</instrument>")
    xml.append("</instrumentList></drumkit_info>")
    (kit / "drumkit.xml").write_text("".join(xml))


def test_make_acoustic_drums_holds_out_whole_kits_and_starts_at_the_onset(tmp_path,
                                                                          run_example):
    instruments = [("Kick", 2), ("Snare Rock", 1), ("Closed HH", 1), ("Tom Low", 1),
                   ("Crash", 1), ("Cowbell", 1), ("Snare Roll", 1)]
    _hydrogen_kit(tmp_path / "kits", "The Black Pearl 1.0", instruments, 44100, 0)
    _hydrogen_kit(tmp_path / "kits", "BJA_Pacific", instruments, 22050, 1)
    _hydrogen_kit(tmp_path / "kits", "HardElectro1", instruments, 16000, 2)  # synthesised
    out = tmp_path / "acoustic"
    stdout = run_example("make_acoustic_drums.py", str(out), "--drumkits",
                         str(tmp_path / "kits"), "--held-out-kits", "The Black Pearl 1.0",
                         cwd=tmp_path)
    assert "Wrote 6 training and 6 held-out hits of 5 classes from 2 Hydrogen kits" in stdout
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*.wav"))
    # Cowbell and the snare roll are no class; HardElectro1 is not an acoustic kit.
    assert files == sorted(
        f"{part}/{c}/{kit}_{name}_{layer}.wav"
        for part, kit in (("held_out", "theblackpearl10"), ("train", "bjapacific"))
        for c, name, layer in (("kick", "kick", 0), ("kick", "kick", 1),
                               ("snare", "snarerock", 0), ("hihat", "closedhh", 0),
                               ("tom", "tomlow", 0), ("cymbal", "crash", 0)))
    audio, rate = sf.read(out / "train" / "kick" / "bjapacific_kick_0.wav")
    assert rate == 16000 and audio.shape == (16384,)
    assert np.argmax(np.abs(audio) > 0.05 * np.max(np.abs(audio))) < 0.005 * rate  # onset
    # A held-out kit that is not there is refused, naming it.
    proc = subprocess.run([sys.executable, str(EXAMPLES / "make_acoustic_drums.py"),
                           str(tmp_path / "x"), "--drumkits", str(tmp_path / "kits"),
                           "--held-out-kits", "ColomboAcousticDrumkit"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "lacks the held-out kit 'ColomboAcousticDrumkit'" in proc.stderr
