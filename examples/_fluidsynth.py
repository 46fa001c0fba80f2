"""Render notes with FluidSynth and a General MIDI SoundFont: the shared part of
``make_notes.py`` and ``make_drums.py``.

A Standard MIDI File with the notes one after another is written, FluidSynth renders it
to a WAV file in one call, and the recording is cut back into one clip per note. Nothing
is downloaded: Debian's ``fluidsynth`` and ``fluid-soundfont-gm`` packages are enough.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
DRUM_CHANNEL = 9  # General MIDI percussion (MIDI channel 10)


def _variable_length(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def write_midi(path, notes, *, channel: int, program: int, bank: int = 0,
               spacing: float, duration: float) -> None:
    """Writes a one-track MIDI file: ``notes`` (``(pitch, velocity)`` pairs) start every
    ``spacing`` seconds and last ``duration`` seconds, on ``channel`` with ``program``
    (and ``bank``) selected first. One tick is one millisecond."""
    events = [(0, bytes([0xB0 | channel, 0, bank // 128])),      # bank select (MSB, LSB)
              (0, bytes([0xB0 | channel, 32, bank % 128])),
              (0, bytes([0xC0 | channel, program]))]
    for i, (pitch, velocity) in enumerate(notes):
        start = round(1000 * (0.1 + i * spacing))
        events.append((start, bytes([0x90 | channel, pitch, velocity])))
        events.append((start + round(1000 * duration), bytes([0x80 | channel, pitch, 0])))
    events.sort(key=lambda e: e[0])
    track, now = b"\x00\xFF\x51\x03" + (1_000_000).to_bytes(3, "big"), 0  # 60 bpm
    for time, data in events:
        track += _variable_length(time - now) + data
        now = time
    track += _variable_length(round(1000 * spacing)) + b"\xFF\x2F\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 1000)  # 1000 ticks per quarter
    Path(path).write_bytes(header + b"MTrk" + struct.pack(">I", len(track)) + track)


def render(notes, *, program: int, bank: int = 0, channel: int = 0, sample_rate: int = 16000,
           length: int = 16384, spacing: float = 2.0, duration: float = 0.8,
           soundfont: str = SOUNDFONT, gain: float = 2.0) -> list[np.ndarray]:
    """Renders ``notes`` (``(pitch, velocity)`` pairs) and returns one mono clip of
    ``length`` samples per note, starting at its onset. Reverb and chorus are off."""
    fluidsynth = shutil.which("fluidsynth")
    if fluidsynth is None:
        raise SystemExit("fluidsynth is not installed (apt-get install fluidsynth "
                         "fluid-soundfont-gm)")
    if not Path(soundfont).is_file():
        raise SystemExit(f"SoundFont {soundfont} not found (apt-get install fluid-soundfont-gm)")
    with tempfile.TemporaryDirectory() as tmp:
        midi, wav = Path(tmp) / "notes.mid", Path(tmp) / "notes.wav"
        write_midi(midi, notes, channel=channel, program=program, bank=bank,
                   spacing=spacing, duration=duration)
        subprocess.run([fluidsynth, "-ni", "-q", "-R", "0", "-C", "0", "-g", str(gain),
                        "-r", str(sample_rate), "-F", str(wav), soundfont, str(midi)],
                       check=True, capture_output=True)
        audio, rate = sf.read(wav, dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    assert rate == sample_rate, (rate, sample_rate)
    clips = []
    for i in range(len(notes)):
        start = round((0.1 + i * spacing) * sample_rate)
        clip = audio[start:start + length]
        clips.append(np.pad(clip, (0, length - len(clip))))
    return clips


def write_clip(path, clip, sample_rate: int) -> bool:
    """Writes ``clip`` as 16-bit WAV unless it is silent; returns whether it did."""
    peak = float(np.max(np.abs(clip)))
    if peak < 1e-3:
        return False
    if peak > 0.99:
        clip = clip * (0.99 / peak)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, clip, sample_rate, subtype="PCM_16")
    return True
