"""Judges nobody here trained: CREPE for pitch, a speech recogniser for words.

The judge of :mod:`keras_soundgan.metrics` is trained on the run's own data, and a
reader may well ask what it has learnt. These judges were trained by others, on other
data, and ship their weights in their wheels (nothing is downloaded):

* **pitch by CREPE** (Kim et al., *CREPE: A Convolutional Representation for Pitch
  Estimation*, 2018; ``torchcrepe``), where the class names are pitches: a few frames
  of each sound, taken where it is loud, are given to CREPE's full model, and the
  median pitch of the frames it is confident about, rounded to the semitone, must be
  the pitch that was asked for (:func:`crepe_pitch`, :func:`pitch_hits`);
* **words by a speech recogniser** (CMU ``pocketsphinx`` with its US English acoustic
  model and dictionary), where the class names are spoken words: once with a grammar
  that allows exactly one of the class names, once with the open vocabulary of its
  language model (:func:`recognise`), a hypothesis counting when it *sounds like* the
  class word by the dictionary's pronunciations (:func:`sounds_like`).

Both are optional: ``pip install "keras-soundgan[judges]"`` installs them
(:data:`EXTRA`), :func:`available` says which are installed, and the functions that
need a missing one raise a ``ModuleNotFoundError`` that says how to install it.
torch, torchcrepe and pocketsphinx are imported only inside the functions that use
them. :func:`plan_judges` decides which judges apply to a set of class names
(``keras-soundgan evaluate --judges auto|all|none``), and :func:`score_audio` gives a
set of sounds their scores (the fields of :class:`keras_soundgan.metrics.Scores`).

Both judges listen at 16 kHz (:data:`JUDGE_SAMPLE_RATE`, CREPE's rate and the acoustic
model's); sounds at another rate are resampled first (soxr, through librosa).

The package's files, one concern each (as Keras's own ``keras/src/export/``):

* ``common.py``: what both judges share: :data:`EXTRA`, :data:`JUDGE_SAMPLE_RATE`,
  :func:`available`, and the check (and resampling) of the sounds they hear;
* ``pitch.py``: pitch by CREPE (:func:`crepe_pitch`, :func:`pitch_hits`,
  :func:`crepe_pitch_accuracy`);
* ``words.py``: words by pocketsphinx (:func:`recognise`, :func:`sounds_like`,
  :func:`word_hits`, :func:`word_accuracy`, :func:`words_heard`);
* ``plan.py``: which judges apply and the scores they give (:class:`JudgePlan`,
  :func:`plan_judges`, :func:`confirm_words`, :func:`score_audio`).
"""

from __future__ import annotations

# Each file's names in the order they are defined there: the reference page
# (mkdocstrings, members_order: source) lists them in this order.
from keras_soundgan.judges.common import EXTRA, JUDGE_SAMPLE_RATE, available
from keras_soundgan.judges.pitch import (
    CREPE_FRAMES,
    CREPE_CONFIDENCE,
    crepe_pitch,
    pitch_hits,
    crepe_pitch_accuracy,
)
from keras_soundgan.judges.words import (
    WORDS_KAPPA,
    pronunciations,
    missing_words,
    sounds_like,
    recognise,
    word_hits,
    word_accuracy,
    words_heard,
)
from keras_soundgan.judges.plan import (
    JUDGE_MODES,
    JudgePlan,
    plan_judges,
    confirm_words,
    score_audio,
)

__all__ = [
    "CREPE_CONFIDENCE",
    "CREPE_FRAMES",
    "EXTRA",
    "JUDGE_MODES",
    "JUDGE_SAMPLE_RATE",
    "WORDS_KAPPA",
    "JudgePlan",
    "available",
    "confirm_words",
    "crepe_pitch",
    "crepe_pitch_accuracy",
    "missing_words",
    "pitch_hits",
    "plan_judges",
    "pronunciations",
    "recognise",
    "score_audio",
    "sounds_like",
    "word_accuracy",
    "word_hits",
    "words_heard",
]
