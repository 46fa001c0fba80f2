"""The judges nobody here trained (keras_soundgan.judges): CREPE hears the pitch of
tones and none in noise, the recogniser hears spoken digits and no words in noise,
homophones count, the auto rule keeps drum names away from the recogniser, and
`evaluate` carries their scores, real recordings included.

The spoken digits are committed fixtures (tests/data/words, made with CMU Flite), so
no speech synthesiser is needed here. CREPE's full model costs about 30 ms of wall time
a frame on two cores: the tests give it a few frames of a few clips."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from keras_soundgan import judges
from keras_soundgan.cli import main

WORDS_DIR = Path(__file__).resolve().parent / "data" / "words"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SR = 16000
REASON = 'the judges extra is not installed: pip install "keras-soundgan[judges]"'


def _crepe():
    return pytest.importorskip("torchcrepe", reason=REASON)


def _pocketsphinx():
    return pytest.importorskip("pocketsphinx", reason=REASON)


def _tone(midi, seconds=0.5, sample_rate=SR, seed=0):
    """A decaying harmonic tone (five partials of random strength and phase)."""
    rng = np.random.default_rng(seed + midi)
    f0 = 440.0 * 2 ** ((midi - 69) / 12)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    x = sum(rng.uniform(0.2, 1) / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6))
            for k in range(1, 6))
    return (0.3 * x * np.exp(-3 * t)).astype(np.float32)


def _noise(n, samples, seed=0):
    return (0.3 * np.random.default_rng(seed).standard_normal((n, samples))).astype(np.float32)


def _spoken(words=DIGITS, voices=("slt", "awb")):
    """The committed fixtures as ``(audio [n, 16000], words [n])``, padded to 1 s."""
    clips, said = [], []
    for word in words:
        for voice in voices:
            x, rate = sf.read(WORDS_DIR / f"{word}_{voice}.flac", dtype="float32")
            assert rate == SR and x.ndim == 1
            clips.append(np.pad(x, (0, SR))[:SR])
            said.append(word)
    return np.stack(clips), said


# -- without the extra --------------------------------------------------------------------


def test_importing_the_package_and_the_module_imports_no_judge():
    code = ("import sys, keras_soundgan, keras_soundgan.judges as j; j.available(); "
            "print(sorted(m for m in ('torch', 'torchcrepe', 'pocketsphinx') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("package, judge", [("torchcrepe", "crepe"), ("pocketsphinx", "words")])
def test_a_missing_package_is_named_with_the_extra(monkeypatch, package, judge):
    monkeypatch.setitem(sys.modules, package, None)  # as if not installed
    assert judges.available()[judge] is False
    call = ((lambda: judges.crepe_pitch(_tone(60), SR)) if judge == "crepe"
            else (lambda: judges.recognise(np.zeros(SR), SR)))
    if judge == "crepe":
        monkeypatch.setattr(judges.pitch, "_CREPE_MODELS", {})
    else:
        # No cached recogniser (the cache is words.py's, where recognise looks it up).
        monkeypatch.setattr(judges.words, "_recogniser", judges.words._Recogniser)
    with pytest.raises(ModuleNotFoundError, match=r'needs .+ not installed: pip install '
                                                  r'"keras-soundgan\[judges\]"'):
        call()


def test_a_judge_whose_package_is_missing_is_left_out_with_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchcrepe", None)
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)
    plan = judges.plan_judges(["C4", "E4"], pitches=(60, 64))
    assert not plan.active and len(plan.notes) == 1
    note = plan.notes[0]
    assert note.startswith("Pitch not judged by CREPE: ") and judges.EXTRA in note
    plan = judges.plan_judges(["yes", "no"])
    assert not plan.active and "pocketsphinx" in plan.notes[0] and judges.EXTRA in plan.notes[0]
    # Names that cannot be words (numbered classes) get no line.
    assert judges.plan_judges(["0", "1"]).notes == ()


def test_pitch_hits_and_the_auto_threshold():
    assert judges.pitch_hits([60.2, 71.9, float("nan"), 57.0], [60, 60, 62, 57]) == {
        "accuracy": 0.5, "class_accuracy": 0.75, "unvoiced": 0.25}
    with pytest.raises(ValueError, match="estimated and requested"):
        judges.pitch_hits([60.0], [60, 61])
    # Halfway from chance to perfect: 55 % of ten classes, 60 % of five, 75 % of two.
    assert judges.words_heard(0.55, 10) and not judges.words_heard(0.54, 10)
    assert judges.words_heard(0.75, 2) and not judges.words_heard(0.7, 2)
    with pytest.raises(ValueError, match="num_classes"):
        judges.words_heard(1.0, 1)
    with pytest.raises(ValueError, match="judges must be one of auto, all, none"):
        judges.plan_judges(["a", "b"], mode="some")


# -- pitch by CREPE -------------------------------------------------------------------------


def test_crepe_hears_tones_from_c3_to_b4_and_no_pitch_in_noise():
    _crepe()
    midi = [48, 52, 55, 59, 62, 65, 69, 71]  # C3, E3, G3, B3, D4, F4, A4, B4
    tones = np.stack([_tone(m) for m in midi])
    estimated = judges.crepe_pitch(tones, SR, frames=3)
    assert np.abs(estimated - midi).max() < 0.25, estimated
    assert judges.pitch_hits(estimated, midi)["accuracy"] == 1.0
    # An octave error is a miss, as with pyin; the pitch class still counts.
    octave = judges.pitch_hits(estimated, np.asarray(midi) - 12)
    assert octave["accuracy"] == 0.0 and octave["class_accuracy"] == 1.0
    # White noise: CREPE is confident of no frame, so no clip has a pitch (chance or
    # below: a clip without a pitch is a miss).
    hits = judges.pitch_hits(judges.crepe_pitch(_noise(4, 8000), SR, frames=3), midi[:4])
    assert hits["unvoiced"] == 1.0 and hits["accuracy"] == 0.0


def test_crepe_resamples_loads_once_and_gives_the_threads_back():
    _crepe()
    import torch

    threads = torch.get_num_threads()
    tones = np.stack([_tone(m, sample_rate=22050) for m in (57, 64)])
    assert judges.crepe_pitch_accuracy(tones, 22050, [57, 64], frames=2, threads=1) == 1.0
    model = judges.pitch._CREPE_MODELS["full"]
    judges.crepe_pitch(tones[:1], 22050, frames=1)
    assert judges.pitch._CREPE_MODELS["full"] is model and torch.get_num_threads() == threads
    with pytest.raises(ValueError, match="frames must be a positive integer"):
        judges.crepe_pitch(tones, 22050, frames=0)
    with pytest.raises(ValueError, match="model must be 'full' or 'tiny'"):
        judges.crepe_pitch(tones, 22050, model="large")
    with pytest.raises(ValueError, match="midi_numbers must be integers"):
        judges.crepe_pitch_accuracy(tones, 22050, [57.0, 64.0])


# -- words by pocketsphinx ------------------------------------------------------------------


def test_homophones_count_by_the_dictionary():
    _pocketsphinx()
    assert judges.sounds_like("two", "two") and judges.sounds_like("Two", "two")
    for heard, word in [("to", "two"), ("too", "two"), ("for", "four"), ("fore", "four"),
                        ("ate", "eight"), ("won", "one"), ("for tea", "forty"),
                        ("<sil> two [NOISE]", "two"), ("fire(2)", "fire")]:
        assert judges.sounds_like(heard, word), (heard, word)
    for heard, word in [("", "two"), ("they eat", "eight"), ("two two", "two"),
                        ("taylor", "two"), ("fire", "four"), ("two", "xyzzy")]:
        assert not judges.sounds_like(heard, word), (heard, word)
    hits = judges.word_hits(["to", "for", "ate", "", "taylor"],
                            ["two", "four", "eight", "one", "two"])
    assert hits == {"accuracy": 0.6, "no_word": 0.2}
    assert judges.missing_words(["zero", "One", "hihat", "rimshot"]) == ["hihat", "rimshot"]


def test_the_recogniser_hears_spoken_digits_with_the_grammar_and_nothing_in_noise():
    _pocketsphinx()
    audio, said = _spoken()
    heard = judges.recognise(audio, SR, vocabulary=DIGITS)
    assert heard == said
    # Each clip is heard on its own: the order of the clips changes nothing.
    assert judges.recognise(audio[::-1], SR, vocabulary=DIGITS) == said[::-1]
    # Noise and silence: no word at all, or chance at most.
    noise = judges.recognise(_noise(6, 8000), SR, vocabulary=DIGITS)
    assert judges.word_hits(noise, said[:6])["accuracy"] <= 0.2
    assert judges.recognise(np.zeros((2, 8000)), SR, vocabulary=DIGITS) == ["", ""]
    with pytest.raises(ValueError, match="dictionary lacks: hihat"):
        judges.recognise(audio[:1], SR, vocabulary=["kick", "hihat"])


def test_the_open_vocabulary_hears_most_digits_and_no_words_in_noise():
    _pocketsphinx()
    audio, said = _spoken(voices=("awb",))
    heard = judges.recognise(audio, SR)
    # Measured: nine of the ten of this voice ("two" is heard as "dude"; of the other
    # voice's, "four" as "fire" and "two" as "q").
    assert judges.word_hits(heard, said)["accuracy"] >= 0.8, heard
    assert judges.recognise(_noise(3, 8000), SR) == ["", "", ""]


def test_the_auto_rule_keeps_drum_names_away_from_the_recogniser():
    _pocketsphinx()
    from keras_soundgan.datasets import load_drums

    names = ("kick", "snare", "clap", "tom")  # all four are dictionary words
    plan = judges.plan_judges(names)
    assert plan.words and plan.confirm and plan.vocabulary == names
    audio, labels, kit = load_drums(4, length=4096, seed=0)
    keep = np.isin(labels, [kit.index(n) for n in names])
    drums = np.asarray([names.index(kit[i]) for i in labels[keep]])
    kept, message = judges.confirm_words(plan, audio[keep], SR, drums, "real drum hits")
    assert not kept.active and "not taken for spoken words" in message
    assert kept.notes[-1] == message
    # Real spoken words pass it.
    audio, said = _spoken(("two", "six", "nine"))
    plan = judges.plan_judges(["two", "six", "nine"])
    kept, message = judges.confirm_words(plan, audio, SR,
                                         [("two", "six", "nine").index(w) for w in said])
    assert kept.words and not kept.confirm and "judging words" in message
    # all: dictionary words are enough; a name outside the dictionary is said.
    assert judges.plan_judges(names, "all").confirm is False
    assert judges.plan_judges(["kick", "hihat"], "all").notes == (
        "Words not judged: hihat is not in the recogniser's dictionary",)
    assert not judges.plan_judges(names, "none").active


def test_score_audio_gives_the_fields_of_its_judges():
    _pocketsphinx()
    audio, said = _spoken(("six", "nine"), voices=("awb",))
    plan = judges.plan_judges(["six", "nine"], "all")
    scores = judges.score_audio(plan, audio, SR, [0, 1])
    assert scores == {"word_accuracy": 1.0, "no_word": 0.0,
                      "open_word_accuracy": scores["open_word_accuracy"]}
    assert 0 <= scores["open_word_accuracy"] <= 1
    assert plan.as_dict()["words"]["vocabulary"] == ["six", "nine"]


# -- evaluate -------------------------------------------------------------------------------


def test_an_evaluation_scores_recordings_and_sounds_with_crepe_ratios_to_the_recordings():
    """Evaluation with a plan and recordings: the recordings' row has only CREPE's
    scores, the real row through the inverse and a generator's get ratios to it."""
    _crepe()
    from keras_soundgan import metrics

    midi = (57, 60, 64)
    held_y = np.repeat(np.arange(3), 2)

    class Inverse:  # images -> tones of each image's class, known from its first pixel
        config = type("C", (), {"sample_rate": SR})

        @staticmethod
        def inverse(images):
            return np.stack([_tone(midi[int(round(i[0, 0, 0]))], seconds=0.25)
                             for i in images])

    def images_of(labels):
        images = np.zeros((len(labels), 16, 16, 1), "float32")
        images[:, 0, 0, 0] = labels
        return images

    class Notes:
        num_classes = 3

        def __init__(self, offset=0):
            self.offset = offset

        def generate(self, n, seed=None, labels=None):
            return images_of((np.asarray(labels) + self.offset) % 3)

        def spectrogram_transform(self):
            return Inverse()

    plan = judges.JudgePlan(pitches=midi, crepe=True, frames=1)
    recordings = np.stack([_tone(midi[c], seconds=0.25, seed=1) for c in held_y])
    recordings[-1] = _noise(1, recordings.shape[1])[0]  # a recording CREPE cannot hear
    judge = metrics.build_judge((16, 16, 1), 3, augment=False)
    evaluation = metrics.Evaluation(judge, images_of(np.repeat(np.arange(3), 4)),
                                    images_of(held_y), held_y, ("A3", "C4", "E4"), Inverse(),
                                    num_generated=6, draws=2, bins=3, judges=plan,
                                    recordings=recordings, recording_labels=held_y)
    recorded = evaluation.recorded
    assert recorded.as_dict() == {"n": 6, "crepe_pitch_accuracy": 5 / 6,
                                  "crepe_pitch_class_accuracy": 5 / 6, "crepe_unvoiced": 1 / 6}
    assert evaluation.real.crepe_pitch_accuracy == 1.0
    assert evaluation.real.crepe_pitch_accuracy_ratio == pytest.approx(6 / 5)
    assert evaluation.real.inception_score_ratio is None  # its own ratios stay unset
    wrong = evaluation.score_model(Notes(offset=1))  # every note the next class's pitch
    assert wrong.crepe_pitch_accuracy == 0.0 and wrong.crepe_pitch_accuracy_ratio == 0.0
    assert evaluation.as_dict()["independent_judges"]["crepe"]["frames"] == 1
    with pytest.raises(ValueError, match="recordings and recording_labels go together"):
        metrics.Evaluation(judge, images_of(held_y), images_of(held_y), held_y,
                           ("A3", "C4", "E4"), Inverse(), 6, recordings=recordings)

SPEECH = ["--preset", "speech", "--set", "generator.num_layers=3", "--set",
          "generator.base_filters=8", "--set", "discriminator.num_layers=3", "--set",
          "discriminator.base_filters=8", "--set", "training.n_critic=1", "--set",
          "spectrogram.griffin_lim_iters=4"]
CLASSES = ("two", "six", "nine")


@pytest.fixture(scope="module")
def words(tmp_path_factory):
    """A conditional run trained one epoch on three spoken digits (each fixture louder
    and softer, faster and slower), with the fixtures themselves held out."""
    _pocketsphinx()
    import librosa

    root = tmp_path_factory.mktemp("words")
    for word in CLASSES:
        for voice in ("slt", "awb"):
            x, _ = sf.read(WORDS_DIR / f"{word}_{voice}.flac", dtype="float32")
            (root / "held_out" / word).mkdir(parents=True, exist_ok=True)
            sf.write(root / "held_out" / word / f"{voice}.wav", x, SR)
            (root / "train" / word).mkdir(parents=True, exist_ok=True)
            for speed in (1.0, 1.08):
                y = librosa.resample(x, orig_sr=SR * speed, target_sr=SR) if speed != 1 else x
                for gain in (1.0, 0.6):
                    sf.write(root / "train" / word / f"{voice}_{speed}_{gain}.wav", gain * y, SR)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KERAS_SOUNDGAN_CACHE", str(root / "cache"))
        result = CliRunner().invoke(main, [
            "train", str(root / "train"), *SPEECH, "--conditional", "--epochs", "1",
            "--batch-size", "8", "--samples", "1", "-o", str(root / "run"), "-q",
            "--preview-every", "0"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        yield root


def _evaluate(root, *args):
    result = CliRunner().invoke(main, ["evaluate", str(root / "run"), "--held-out",
                                       str(root / "held_out"), "-n", "10", *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow  # a judge trains, the open vocabulary decodes 32 clips: 16 s at a load of 3
def test_evaluate_judges_words_of_real_recordings_and_generated_ones(words):
    out = _evaluate(words, "--output", str(words / "scores.json"))
    assert "the recogniser hears 100% of the real held-out recordings as their class" in out
    assert "judging words (pocketsphinx)" in out
    assert 'Judges trained elsewhere (not on this data); "/ real" is against real ' \
           "(recordings):" in out
    assert f"real (recordings): the 6 recordings of {words / 'held_out'}" in out
    values = json.loads((words / "scores.json").read_text())
    recorded = values["real (recordings)"]
    # The recordings row holds the independent judges' scores only.
    assert recorded == {"n": 6, "word_accuracy": 1.0, "no_word": 0.0,
                        "open_word_accuracy": recorded["open_word_accuracy"]}
    assert recorded["open_word_accuracy"] >= 0.5
    for name in ("real (held out)", "generated", "untrained"):
        row = values[name]
        for field in ("word_accuracy", "open_word_accuracy"):
            assert 0 <= row[field] <= 1
            assert row[f"{field}_ratio"] == pytest.approx(row[field] / recorded[field])
        assert "inception_score" in row
    assert values["independent_judges"]["words"]["vocabulary"] == sorted(CLASSES)
    assert values["recordings"].startswith("the 6 recordings of ")


def test_evaluate_judges_none_gives_the_rows_of_before(words):
    out = _evaluate(words, "--judges", "none", "--output", str(words / "none.json"))
    assert "Judges trained elsewhere" not in out and "pocketsphinx" not in out
    values = json.loads((words / "none.json").read_text())
    assert "real (recordings)" not in values and "word_accuracy" not in values["generated"]
    assert values["independent_judges"] == {"mode": "none"}


def test_evaluate_goes_on_when_the_recogniser_is_missing(words, monkeypatch):
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)
    out = _evaluate(words)
    lines = [line for line in out.splitlines() if "pip install" in line]
    assert lines == ['Words not judged: the class names may be spoken words, and words by '
                     'pocketsphinx needs pocketsphinx, which is not installed: pip install '
                     '"keras-soundgan[judges]"']
    assert "Judges trained elsewhere" not in out


def test_without_a_held_out_folder_the_recordings_are_the_held_out_split(words):
    """The recordings of the held-out 20% are the sounds of the held-out spectrograms:
    the training folder read as its cache was, and split the same way."""
    from keras_soundgan.evaluation import real_data_for_run, real_recordings
    from keras_soundgan.metrics import split_held_out
    from keras_soundgan.runs import load_run

    model = load_run(words / "run")
    images, labels, names = real_data_for_run(model, words / "train")
    _, _, held_images, held_labels = split_held_out(images, np.asarray(labels), seed=3)
    audio, audio_labels, described = real_recordings(model, words / "train", names,
                                                     seed=3, data_labels=labels)
    assert np.array_equal(audio_labels, held_labels) and len(audio) == len(held_images)
    assert described.startswith(f"the {len(audio)} recordings of the held-out 20% of ")
    spectrograms = model.spectrogram_transform().forward(audio)
    assert np.allclose(spectrograms, held_images, atol=1e-4)
    # Read whole and then split (without the labels), the same recordings.
    whole, whole_labels, _ = real_recordings(model, words / "train", names, seed=3)
    assert np.array_equal(whole, audio) and np.array_equal(whole_labels, audio_labels)
    # A cache folder holds no recordings: said, and none.
    cache = next((words / "cache").iterdir())
    assert real_recordings(model, cache, names)[:2] == (None, None)
    # Recordings that are not those of the spectrograms are not used.
    assert real_recordings(model, words / "train", names, data_labels=labels[:-1])[0] is None


def test_the_files_of_the_package_import_one_way_and_no_private_names():
    """common <- pitch, words <- plan <- __init__: no circle, and no file imports
    another's underscore names; outside the judges, only the package's argument checks."""
    import ast

    allowed = {"common": set(), "pitch": {"common"}, "words": {"common"},
               "plan": {"common", "pitch", "words"},
               "__init__": {"common", "pitch", "words", "plan"}}
    folder = Path(judges.__file__).parent

    def node_module(node):
        return node.module if isinstance(node, ast.ImportFrom) else None

    for name, may in allowed.items():
        tree = ast.parse((folder / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if node_module(node) == "keras_soundgan.checks":
                continue
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "keras_soundgan"):
                assert node.module.startswith("keras_soundgan.judges."), (name, node.module)
                assert node.module.rsplit(".", 1)[1] in may, (name, node.module)
                assert not any(a.name.startswith("_") for a in node.names), name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("keras_soundgan") for a in node.names), name


def test_the_command_line_offers_the_modes_of_the_library():
    """cli.py repeats the modes so that `--help` imports nothing: they agree."""
    from keras_soundgan.cli import evaluate

    option = next(p for p in evaluate.params if p.name == "judges")
    assert tuple(option.type.choices) == judges.JUDGE_MODES and option.default == "auto"
