"""Words by a speech recogniser (CMU ``pocketsphinx``, its US English acoustic model
and dictionary): what it hears in each sound, with a grammar of the class words or its
open vocabulary (:func:`recognise`), whether that sounds like the word asked for by the
dictionary's pronunciations (:func:`sounds_like`, :func:`word_hits`), and the auto
rule's test of real recordings (:func:`words_heard`). pocketsphinx is imported only
inside the functions that use it."""

from __future__ import annotations

import functools
import itertools
import math
import os
import re

import numpy as np

from keras_soundgan.judges.common import check_audio, require

__all__ = ["WORDS_KAPPA", "missing_words", "pronunciations", "recognise", "sounds_like",
           "word_accuracy", "word_hits", "words_heard"]

#: The auto rule judges words only when the grammar recogniser's accuracy on the real
#: recordings is at least this far from chance towards perfect (Cohen's kappa).
WORDS_KAPPA = 0.5

# Clips quieter than this (about 3 steps of 16-bit audio) are silence: no word.
_SILENT_PEAK = 1e-4
# The noise floor under every clip the recogniser hears, in dB below full scale (see
# recognise).
_NOISE_FLOOR_DB = -60.0


def _model_file(*parts) -> str:
    pocketsphinx = require("words")
    return os.path.join(pocketsphinx.get_model_path(), "en-us", *parts)


@functools.lru_cache(maxsize=1)
def pronunciations() -> dict:
    """The recogniser's dictionary (``cmudict-en-us.dict``, shipped with pocketsphinx):
    each word, in lower case, to the set of its pronunciations (phones joined by
    spaces, without stress: ``"two" -> {"T UW"}``). Read once per process.

    Raises:
        ModuleNotFoundError: pocketsphinx is not installed (:data:`EXTRA`).
    """
    table = {}
    with open(_model_file("cmudict-en-us.dict"), encoding="utf-8") as f:
        for line in f:
            word, _, phones = line.strip().partition(" ")
            if phones:
                table.setdefault(re.sub(r"\(\d+\)$", "", word), set()).add(phones.strip())
    return {word: frozenset(ways) for word, ways in table.items()}


def missing_words(names) -> list:
    """The class names that are not words of the recogniser's dictionary (compared in
    lower case), in their order; empty when every one is.

    >>> missing_words(["zero", "One", "hihat"])
    ['hihat']
    """
    table = pronunciations()
    return [name for name in names if str(name).strip().lower() not in table]


def sounds_like(hypothesis: str, word: str, max_readings: int = 256) -> bool:
    """Whether a recogniser's hypothesis counts as ``word``: read as one sequence of
    phones, each of its words in any of its pronunciations in the dictionary, it is a
    pronunciation of ``word``. So the word itself counts, and so do its homophones
    (``"to"`` and ``"too"`` for ``"two"``, ``"for"`` and ``"fore"`` for ``"four"``,
    ``"ate"`` for ``"eight"``, ``"won"`` for ``"one"``) and words that together sound
    the same (``"for tea"`` for ``"forty"``); an empty hypothesis (silence, noise)
    never does.

    Args:
        hypothesis: str. Words separated by spaces, as the recogniser gives them
            (fillers such as ``<sil>`` and ``[NOISE]`` are ignored).
        word: str. The class word.
        max_readings: int. The most phone sequences a hypothesis is read as (the
            product of its words' numbers of pronunciations); beyond them it does not
            count. Defaults to 256.

    Returns:
        bool.

    >>> sounds_like("too", "two"), sounds_like("for", "four")
    (True, True)
    """
    table = pronunciations()
    target = table.get(str(word).strip().lower())
    words = [w for w in str(hypothesis).lower().split()
             if not (w.startswith("<") or w.startswith("["))]
    words = [re.sub(r"\(\d+\)$", "", w) for w in words]
    if not target or not words:
        return False
    if len(words) == 1 and words[0] == str(word).strip().lower():
        return True
    readings = [table.get(w) for w in words]
    if any(r is None for r in readings) or math.prod(len(r) for r in readings) > max_readings:
        return False
    return any(" ".join(reading) in target for reading in itertools.product(*readings))


class _Recogniser:
    """One pocketsphinx decoder per process: the acoustic model and dictionary loaded
    once, a grammar search per vocabulary and the language model added when first
    used."""

    def __init__(self):
        pocketsphinx = require("words")
        self.decoder = pocketsphinx.Decoder(
            hmm=_model_file("en-us"), dict=_model_file("cmudict-en-us.dict"), lm=None,
            loglevel="FATAL")
        self.searches = {}

    def search(self, vocabulary) -> str:
        key = None if vocabulary is None else tuple(vocabulary)
        if key not in self.searches:
            name = f"search{len(self.searches)}"
            if key is None:
                self.decoder.add_lm_file(name, _model_file("en-us.lm.bin"))
            else:
                # Exactly one of the words (pocketsphinx's JSGF takes ' . - in
                # tokens as they are, and refuses quoted ones).
                alternatives = " | ".join(dict.fromkeys(key))
                self.decoder.add_jsgf_string(
                    name, f"#JSGF V1.0;\ngrammar classes;\npublic <word> = {alternatives};\n")
            self.searches[key] = name
        return self.searches[key]

    def __call__(self, pcm: bytes, search: str) -> str:
        decoder = self.decoder
        decoder.activate_search(search)
        # Each clip on its own: without this, the cepstral mean of the clips before
        # carries over, and a clip's words depend on the order they are heard in.
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""


@functools.lru_cache(maxsize=1)
def _recogniser() -> _Recogniser:
    return _Recogniser()


def recognise(audio, sample_rate: int, vocabulary=None) -> list:
    """What pocketsphinx hears in each clip.

    Each clip is brought to a peak of 0.9 (the recogniser judges what is said, not how
    loud), laid over a quiet noise floor, turned into 16-bit PCM at 16 kHz and decoded
    on its own. A clip quieter than about three steps of 16-bit audio is silence, and
    gets an empty hypothesis.

    The noise floor (Gaussian, 60 dB below full scale, the same noise under every
    clip, so that a clip is heard the same whatever else is heard) is there because
    the acoustic model was trained on recordings, which are never exactly silent:
    digital silence (the zeros after a trimmed word, padded to the slice length) leaves
    its energy normalisation nothing to stand on. On 200 held-out words of
    ``examples/make_spoken_digits.py`` (espeak-ng), the grammar recogniser heard 68.5 %
    without it, 88 % with it; the spoken digits of CMU Flite in the tests, 100 % both
    ways.

    Args:
        audio: float array ``[n, samples]`` (or ``[samples]`` for one clip). Finite.
        sample_rate: int. Samples per second; other rates than 16000 are resampled.
        vocabulary: class words, or ``None``. With words, a grammar lets the recogniser
            say exactly one of them (or nothing, when none fits); with ``None``, it
            hears any words of its language model (``en-us.lm.bin``: the open
            vocabulary, about 16 times slower). Defaults to None.

    Returns:
        list of str. The words heard in each clip (``""`` when none), in lower case.

    Raises:
        ModuleNotFoundError: pocketsphinx is not installed (:data:`EXTRA`).
        ValueError: a word of ``vocabulary`` is not in the recogniser's dictionary.
    """
    if vocabulary is not None:
        vocabulary = [str(w).strip().lower() for w in vocabulary]
        if not vocabulary:
            raise ValueError("vocabulary must hold at least one word (or be None)")
        missing = missing_words(vocabulary)
        if missing:
            raise ValueError(f"vocabulary holds words the recogniser's dictionary lacks: "
                             f"{', '.join(missing)}")
    x = check_audio(audio, sample_rate)
    recogniser = _recogniser()
    search = recogniser.search(vocabulary)
    floor = np.random.default_rng(0).standard_normal(x.shape[1]) * 10 ** (_NOISE_FLOOR_DB / 20)
    heard = []
    for clip in x:
        peak = float(np.max(np.abs(clip)))
        if peak < _SILENT_PEAK:
            heard.append("")
            continue
        pcm = np.clip(np.round((clip * (0.9 / peak) + floor) * 32767), -32768, 32767)
        heard.append(recogniser(pcm.astype("<i2").tobytes(), search).lower())
    return heard


def word_hits(hypotheses, requested_words) -> dict:
    """How often hypotheses count as the words asked for (:func:`sounds_like`).

    Args:
        hypotheses: str ``[n]``. What the recogniser heard.
        requested_words: str ``[n]``. The class word of each clip.

    Returns:
        dict. ``accuracy`` (the fraction that count) and ``no_word`` (the fraction of
        empty hypotheses).
    """
    hypotheses, requested_words = list(hypotheses), list(requested_words)
    if len(hypotheses) != len(requested_words) or not hypotheses:
        raise ValueError(f"need as many hypotheses as requested words, at least one; got "
                         f"{len(hypotheses)} and {len(requested_words)}")
    same = {}
    hits = 0
    for heard, word in zip(hypotheses, requested_words):
        if (heard, word) not in same:
            same[heard, word] = sounds_like(heard, word)
        hits += same[heard, word]
    return {"accuracy": hits / len(hypotheses),
            "no_word": sum(not h.strip() for h in hypotheses) / len(hypotheses)}


def word_accuracy(audio, sample_rate: int, words, vocabulary=None) -> float:
    """How often the recogniser hears the word asked for (:func:`recognise`,
    :func:`word_hits`).

    Args:
        audio: float array ``[n, samples]``.
        sample_rate: int. Samples per second.
        words: str ``[n]``. The class word of each clip.
        vocabulary: the class words for a grammar, or ``None`` for the open vocabulary.
            Defaults to None.

    Returns:
        float. In [0, 1].
    """
    return word_hits(recognise(audio, sample_rate, vocabulary), words)["accuracy"]


def words_heard(accuracy: float, num_classes: int, kappa: float = WORDS_KAPPA) -> bool:
    """The auto rule's test of real recordings: whether the grammar recogniser's
    accuracy is at least ``kappa`` of the way from chance (``1 / num_classes``) to
    perfect (Cohen's kappa; 0.5 asks 55 % of ten classes, 60 % of five, 75 % of two).

    >>> words_heard(0.9, 10), words_heard(0.3, 4)
    (True, False)
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    chance = 1 / num_classes
    return (accuracy - chance) / (1 - chance) >= kappa
