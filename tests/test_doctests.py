"""The ``>>>`` examples of every module of the package run, one test per module.

The modules are found by their source (every file of ``keras_soundgan/`` holding a
``>>>``), so an example added to a new module runs without being listed here. Each test
imports its module and runs its examples with :mod:`doctest` (``NORMALIZE_WHITESPACE``
and ``ELLIPSIS``); a failure shows doctest's report of every example that failed.

The examples of ``audio/io.py`` read a folder of recordings as a user would
(``load_audio_folder("drums/", ...)``); they run in a temporary folder that
:func:`_recordings` fills with the files they name. An example that cannot run here
is marked ``# doctest: +SKIP`` in its docstring; a module whose examples are all
skipped is listed in :data:`ALL_SKIPPED`, with the reason.
"""

import doctest
import importlib
import types
from pathlib import Path

import numpy as np
import pytest

import keras_soundgan

PACKAGE = Path(keras_soundgan.__file__).resolve().parent

# Modules whose every example is skipped, and why (kept honest by the test: a module
# listed here whose examples run, or one not listed whose examples all skip, fails).
ALL_SKIPPED = {
    # Exporting needs a model and writes a .tflite of several MB (the export tests do).
    "keras_soundgan.export.api": "export_model needs a trained model and writes files",
}

OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(_module_name(path) for path in PACKAGE.rglob("*.py")
                 if ">>>" in path.read_text(encoding="utf-8"))


def run_examples(module: types.ModuleType):
    """Runs the examples of ``module`` (those of the objects it defines).

    Returns:
        tuple ``(attempted, failed, report)``: report is doctest's text for the
        examples that failed (empty when none did).
    """
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = []
    for test in finder.find(module, module.__name__):
        runner.run(test, out=report.append)
    return runner.tries, runner.failures, "".join(report)


def _recordings(folder: Path) -> None:
    """The files that io.py's examples read: ``kick.flac``; ``drums/`` with six hits in
    three class folders, two files that are not audio and a silent one; ``speech/``
    with three recordings of two speakers and one file that is not audio."""
    import soundfile as sf

    rate = 16000

    def hit(freq, seconds=0.25):
        t = np.arange(int(rate * seconds)) / rate
        return (0.5 * np.sin(2 * np.pi * freq * t) * np.exp(-8 * t)).astype(np.float32)

    def write(path, audio, samplerate=rate):
        path = folder / path
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, audio, samplerate)

    write("kick.flac", hit(60), 44100)
    for name, freqs in {"clap": (900, 1100), "hihat": (5000, 6000), "kick": (60, 80)}.items():
        for i, freq in enumerate(freqs, 1):
            write(f"drums/{name}/{name}{i}.wav", hit(freq))
    write("drums/clap/silence.wav", np.zeros(4000, np.float32))
    (folder / "drums/kick/kick3.wav").write_bytes(b"not a recording " * 64)
    (folder / "drums/hihat/hihat3.wav").write_bytes(b"RIFF" + bytes(60))
    # Two seconds of speech-like bursts, with silence around them to trim.
    for path, freq in [("speech/alice/take1.wav", 220), ("speech/bob/take1.wav", 140),
                       ("speech/bob/take2.wav", 150)]:
        audio = np.concatenate([np.zeros(rate // 2, np.float32),
                                np.tile(hit(freq, 0.5), 3), np.zeros(rate // 2, np.float32)])
        write(path, audio)
    (folder / "speech/bob/take3.wav").write_bytes(b"not a recording " * 64)


# Files the examples of a module read, made in its test's (temporary) working folder.
FIXTURES = {"keras_soundgan.audio.io": _recordings}


def test_every_module_with_examples_is_found():
    assert len(MODULES) >= 10, MODULES
    assert set(ALL_SKIPPED) <= set(MODULES)
    assert "keras_soundgan.audio.spectral" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_examples(name, tmp_path, monkeypatch):
    module = importlib.import_module(name)
    if name in FIXTURES:
        FIXTURES[name](tmp_path)
        monkeypatch.chdir(tmp_path)
    attempted, failed, report = run_examples(module)
    assert failed == 0, f"{failed} of {attempted} examples of {name} failed:\n{report}"
    if name in ALL_SKIPPED:
        assert attempted == 0, (f"the examples of {name} run now: remove it from "
                                f"ALL_SKIPPED")
    else:
        assert attempted > 0, (f"every example of {name} is skipped: make one run, or "
                               f"list the module in ALL_SKIPPED with the reason")


def test_a_wrong_example_fails():
    """The runner reports a wrong result, as it would in the package's modules."""
    module = types.ModuleType("wrong_example", ">>> 2 * 2\n5\n")
    attempted, failed, report = run_examples(module)
    assert (attempted, failed) == (1, 1)
    assert "Expected:\n    5\nGot:\n    4" in report
