"""The scripts in examples/ run (with small settings)."""

import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _run(script, *args, cwd):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.slow
def test_conditional_drums_example(tmp_path):
    out = _run("conditional_drums.py", "--epochs", "1", "--output", "out", cwd=tmp_path)
    assert "Wrote 24 sounds" in out
    audio, rate = sf.read(tmp_path / "out" / "kick_0.wav")
    assert rate == 16000 and audio.shape == (4096,)


@pytest.mark.slow
def test_train_on_folder_and_latent_walk_examples(tmp_path):
    rng = np.random.default_rng(0)
    for word in ("yes", "no"):
        (tmp_path / "words" / word).mkdir(parents=True)
        for i in range(20):
            t = np.arange(6000) / 16000
            tone = np.sin(2 * np.pi * (300 if word == "yes" else 700) * (1 + i / 50) * t)
            sf.write(tmp_path / "words" / word / f"{i}.wav",
                     (0.5 * tone * np.exp(-4 * t) + rng.normal(0, 0.01, t.shape)), 16000)
    out = _run("train_on_folder.py", "words", "--epochs", "1", "--output", "run", cwd=tmp_path)
    assert "run folder: run" in out
    out = _run("latent_walk.py", "run", "3", "17", "--steps", "3", "--output", "walk",
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
    module["main"]([str(tmp_path / "digits"), "--per-class", "2"])
    assert len(calls) == 20
    folders = sorted(p.name for p in (tmp_path / "digits").iterdir())
    assert folders == sorted(module["WORDS"])
    voices = {c[c.index("-v") + 1] for c in calls}
    assert len(voices) > 3  # many voices, pitches and speeds
