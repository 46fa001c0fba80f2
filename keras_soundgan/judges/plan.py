"""Which judges apply to a run and what they say of a set of sounds: the plan
(:class:`JudgePlan`, :func:`plan_judges`), the auto rule's check of the real recordings
(:func:`confirm_words`) and the scores (:func:`score_audio`)."""

from __future__ import annotations

import dataclasses
import re

import numpy as np

from keras_soundgan.judges.common import JUDGE_SAMPLE_RATE, available, missing_message
from keras_soundgan.judges.pitch import CREPE_CONFIDENCE, CREPE_FRAMES, crepe_pitch, pitch_hits
from keras_soundgan.judges.words import missing_words, recognise, word_hits, words_heard

__all__ = ["JUDGE_MODES", "JudgePlan", "confirm_words", "plan_judges", "score_audio"]

#: How the judges are chosen (``keras-soundgan evaluate --judges``).
JUDGE_MODES = ("auto", "all", "none")
_WORD = re.compile(r"[a-z][a-z'.\-]*")


@dataclasses.dataclass(frozen=True)
class JudgePlan:
    """Which independent judges score a run (made by :func:`plan_judges`).

    Attributes:
        mode: str. ``"auto"``, ``"all"`` or ``"none"`` (:data:`JUDGE_MODES`).
        pitches: MIDI numbers of the classes where they are pitches, else ``None``.
        crepe: bool. Pitch by CREPE.
        words: bool. Words by pocketsphinx, with a grammar and the open vocabulary.
        vocabulary: the class names in lower case, in label order, where words apply.
        confirm: bool. Auto mode: words stay only if the recogniser hears the real
            recordings (:func:`confirm_words`).
        notes: tuple of str. One line for each judge that applies but cannot run, or
            was ruled out (evaluate prints them).
        frames: int. CREPE frames a sound. Defaults to :data:`CREPE_FRAMES`.
        crepe_model: str. ``"full"`` or ``"tiny"``. Defaults to ``"full"``.
    """

    mode: str = "auto"
    pitches: tuple | None = None
    crepe: bool = False
    words: bool = False
    vocabulary: tuple | None = None
    confirm: bool = False
    notes: tuple = ()
    frames: int = CREPE_FRAMES
    crepe_model: str = "full"

    @property
    def active(self) -> bool:
        """Whether any independent judge scores the sounds."""
        return self.crepe or self.words

    def as_dict(self) -> dict:
        """What the judges are, as a JSON-ready dict (evaluate's JSON carries it)."""
        out = {"mode": self.mode}
        if self.crepe:
            out["crepe"] = {"model": self.crepe_model, "frames": self.frames,
                            "confidence": CREPE_CONFIDENCE, "sample_rate": JUDGE_SAMPLE_RATE}
        if self.words:
            out["words"] = {"recogniser": "pocketsphinx en-us", "vocabulary":
                            list(self.vocabulary), "sample_rate": JUDGE_SAMPLE_RATE}
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def _looks_like_words(names) -> bool:
    return all(_WORD.fullmatch(str(n).strip().lower()) for n in names)


def plan_judges(class_names, mode: str = "auto", pitches=None) -> JudgePlan:
    """Which independent judges apply to a run with these classes.

    * **Pitch by CREPE** where the class names are pitches (``pitches`` given) and
      torchcrepe is installed, in ``auto`` and ``all`` modes.
    * **Words** where every class name is a word of the recogniser's dictionary.
      In ``all`` mode that is enough. In ``auto`` mode the plan says ``confirm``: many
      drum names are dictionary words too (kick, snare, tom, cymbal, clap), and no
      list of names can tell *tom* the drum from *Tom* said aloud, but the recordings
      can; so words are judged only if the grammar recogniser hears the real held-out
      recordings well above chance (:func:`confirm_words`, :func:`words_heard`).
    * ``none``: neither (pyin's pitch accuracy, which needs no extra, still runs).

    A judge that applies but whose package is missing adds a line to ``notes``
    (without pocketsphinx, its dictionary cannot be read: names that look like words
    are taken for words that might be spoken).

    Args:
        class_names: str ``[classes]``. In label order.
        mode: str. ``"auto"``, ``"all"`` or ``"none"``. Defaults to ``"auto"``.
        pitches: the classes' MIDI numbers where they are pitches
            (:func:`keras_soundgan.metrics.class_pitches`), else ``None``. Defaults to
            None.

    Returns:
        JudgePlan.
    """
    if mode not in JUDGE_MODES:
        raise ValueError(f"judges must be one of {', '.join(JUDGE_MODES)}, got {mode!r}")
    names = [str(n) for n in class_names]
    if mode == "none" or not names:
        return JudgePlan(mode=mode)
    have = available()
    if pitches is not None:
        if have["crepe"]:
            return JudgePlan(mode=mode, pitches=tuple(pitches), crepe=True)
        return JudgePlan(mode=mode, pitches=tuple(pitches), notes=(
            f"Pitch not judged by CREPE: {missing_message('crepe')}",))
    if not have["words"]:
        if _looks_like_words(names):
            return JudgePlan(mode=mode, notes=(
                f"Words not judged: the class names may be spoken words, and "
                f"{missing_message('words')}",))
        return JudgePlan(mode=mode)
    missing = missing_words(names)
    if missing:
        notes = ()
        if mode == "all":
            notes = (f"Words not judged: {', '.join(missing)} "
                     f"{'is' if len(missing) == 1 else 'are'} not in the recogniser's "
                     "dictionary",)
        return JudgePlan(mode=mode, notes=notes)
    vocabulary = tuple(n.strip().lower() for n in names)
    return JudgePlan(mode=mode, words=True, vocabulary=vocabulary, confirm=mode == "auto")


def confirm_words(plan: JudgePlan, audio, sample_rate: int, labels,
                  what: str = "real recordings") -> tuple:
    """The auto rule's second half: keeps words in ``plan`` only if the grammar
    recogniser hears real sounds of the classes as their class well above chance
    (:func:`words_heard`).

    Args:
        plan: JudgePlan. With ``confirm`` set (else it is returned as it is).
        audio: float array ``[n, samples]``. Real sounds of the classes.
        sample_rate: int. Samples per second.
        labels: ints ``[n]``. Their classes.
        what: str. What the sounds are, for the message. Defaults to
            ``"real recordings"``.

    Returns:
        ``(plan, message)``: the plan, words kept or not (``confirm`` cleared), and one
        line saying what was decided and why (``None`` when there was nothing to
        confirm).
    """
    if not (plan.words and plan.confirm):
        return plan, None
    words = [plan.vocabulary[int(i)] for i in labels]
    accuracy = word_hits(recognise(audio, sample_rate, plan.vocabulary), words)["accuracy"]
    classes = len(plan.vocabulary)
    heard = f"the recogniser hears {accuracy:.0%} of the {what} as their class " \
            f"(chance {1 / classes:.0%})"
    if words_heard(accuracy, classes):
        return (dataclasses.replace(plan, confirm=False),
                f"Class names are words and {heard}: judging words (pocketsphinx)")
    note = (f"Words not judged: the class names are dictionary words, but {heard}, so they "
            f"are not taken for spoken words (--judges all judges them anyway)")
    return dataclasses.replace(plan, words=False, confirm=False,
                               notes=plan.notes + (note,)), note


def score_audio(plan: JudgePlan, audio, sample_rate: int, labels) -> dict:
    """The independent judges' scores of a set of sounds, as fields of
    :class:`keras_soundgan.metrics.Scores` (only those of the judges in ``plan``).

    Args:
        plan: JudgePlan.
        audio: float array ``[n, samples]``. The sounds.
        sample_rate: int. Samples per second.
        labels: ints ``[n]``. The class asked for (real sounds: their class).

    Returns:
        dict. With CREPE: ``crepe_pitch_accuracy``, ``crepe_pitch_class_accuracy``,
        ``crepe_unvoiced``; with words: ``word_accuracy`` (the grammar of the class
        names), ``no_word`` (the fraction in which the grammar recogniser hears none of
        them) and ``open_word_accuracy`` (the open vocabulary).
    """
    labels = np.asarray(labels, np.int64)
    out = {}
    if plan.crepe:
        midi = np.asarray(plan.pitches)[labels]
        hits = pitch_hits(crepe_pitch(audio, sample_rate, frames=plan.frames,
                                      model=plan.crepe_model), midi)
        out.update(crepe_pitch_accuracy=hits["accuracy"],
                   crepe_pitch_class_accuracy=hits["class_accuracy"],
                   crepe_unvoiced=hits["unvoiced"])
    if plan.words:
        words = [plan.vocabulary[i] for i in labels]
        grammar = word_hits(recognise(audio, sample_rate, plan.vocabulary), words)
        open_vocabulary = word_hits(recognise(audio, sample_rate), words)
        out.update(word_accuracy=grammar["accuracy"], no_word=grammar["no_word"],
                   open_word_accuracy=open_vocabulary["accuracy"])
    return out
