"""Quality metrics for generated sounds, with a judge trained on the user's own data.

No embedding model can be downloaded at run time, so, as WaveGAN's authors did for
SC09, a small classifier (the *judge*) is trained on the real spectrograms and used to
score generated ones:

* :func:`inception_score`: ``exp(E_x KL(p(y|x) || p(y)))``, high when each sound is
  clearly one class and all classes appear (Salimans et al. 2016);
* :func:`frechet_distance` between Gaussians fitted to the judge's embeddings of real
  and generated sounds (Heusel et al. 2017), 0 for identical sets;
* :func:`ndb_score`: the number of statistically different bins over K k-means bins of
  the real data, divided by K (Richardson & Weiss 2018), 0 when the proportions match;
* :func:`label_accuracy`: how often the judge hears the class a conditional model was
  asked for;
* :func:`pitch_accuracy`: where the classes are pitches (``C4``, ``A#3``, ``60``), how
  often a pitch tracker (``librosa.pyin``) hears the pitch that was asked for, with no
  judge at all;
* :func:`spectral_convergence`: ``||S - S_hat||_F / ||S||_F`` for spectrogram inversion.

Beside the judge trained here, :mod:`keras_soundgan.judges` holds judges trained by
others (CREPE for pitch, pocketsphinx for words; ``pip install
"keras-soundgan[judges]"``): :func:`keras_soundgan.evaluation.prepare_evaluation` decides which apply, and they
score the real held-out *recordings* too (the row ``real (recordings)``). Scoring a
run folder (its data, its held-out part, its judge on disk) is
:mod:`keras_soundgan.evaluation`'s; this module needs no run, cache or model.

:func:`keras_soundgan.evaluation.evaluate_run` (``keras-soundgan evaluate``) prints every score beside the same
score of real held-out data, so that a number always has its anchor next to it: the
ceiling of the Inception score and of the accuracies, and the floor of the Frechet
distance (real training data against real held-out data). Set-level scores (Inception
score, Frechet distance, NDB) depend on how many sounds they are computed from, so
generated and real sets are scored with the same number of sounds
(:class:`Evaluation`).
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
import weakref

import keras
import numpy as np

from keras_soundgan.checks import check_integer

__all__ = [
    "JUDGE_FILE",
    "JUDGE_META_FILE",
    "JUDGE_SETTINGS",
    "JUDGE_VERSION",
    "Evaluation",
    "Scores",
    "build_judge",
    "class_pitches",
    "estimate_pitch",
    "frechet_distance",
    "held_out_mask",
    "inception_score",
    "judge_outputs",
    "label_accuracy",
    "ndb_score",
    "parse_pitch",
    "pitch_accuracy",
    "score",
    "score_generator",
    "spectral_convergence",
    "split_held_out",
    "train_judge",
]

JUDGE_FILE = "judge.keras"
JUDGE_META_FILE = "judge.json"
#: What a judge is (its architecture and how it is trained). Saved in ``judge.json``
#: and bumped whenever :func:`build_judge` or :func:`train_judge` change, so that a
#: judge saved by an older version is trained again rather than silently reused.
#: Version 1: global average pooling, 15 epochs. Version 2: pooling over time only
#: (frequency kept), early stopping on a validation split, time-shift and noise
#: augmentation (docs/howto/evaluate.md has their accuracies on real held-out data).
JUDGE_VERSION = 2
# How evaluate trains its judge (recorded in judge.json; train_judge's defaults).
JUDGE_SETTINGS = {"validation_fraction": 0.15, "patience": 6, "width": 16,
                   "pooling": "time", "augment": True, "max_frames": 64,
                   "learning_rate": 2e-3}
# The stages that evaluate_run reports to its `progress` callback (besides the cache's,
# keras_soundgan.audio.cache.PROGRESS_STAGE, when the data must be read first).
_JUDGE_STAGE = "Training the judge"


# -- the scores (numpy; hand-checkable) ----------------------------------------------------


def inception_score(probabilities, eps: float = 1e-12) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` from class probabilities ``[n, classes]``.

    Ranges from 1 (every sound gets the same prediction) to the number of classes
    (confident predictions spread evenly over every class).
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"probabilities must have shape [n, classes], got {p.shape}")
    marginal = p.mean(axis=0, keepdims=True)
    kl = (p * (np.log(p + eps) - np.log(marginal + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def frechet_distance(real_features, fake_features) -> float:
    """Frechet distance between Gaussians fitted to two sets of features ``[n, d]``:
    ``|mu_r - mu_f|^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))``.

    The estimate is biased upwards, more so the fewer the rows (Chong & Forsyth 2020):
    compare distances computed from the same number of rows (:class:`Evaluation` does).
    """
    from scipy import linalg

    a = np.asarray(real_features, dtype=np.float64)
    b = np.asarray(fake_features, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(
            f"features must be [n, d] with the same d and n >= 2, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():
        # Dead ReLU features make covariances singular; the square root is still fine
        # (and the regularised fallback below catches the cases where it is not).
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(cov_a @ cov_b)
        if not np.isfinite(covmean).all():  # regularise as the reference FID code does
            offset = np.eye(len(cov_a)) * 1e-6
            covmean = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    covmean = covmean.real
    value = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * covmean))
    return max(value, 0.0)


def _fit_bins(real_features, bins: int, seed: int):
    from sklearn.cluster import KMeans

    a = np.asarray(real_features, dtype=np.float64)
    if len(a) < bins:
        raise ValueError(f"ndb_score needs at least bins={bins} real samples, got {len(a)}")
    return KMeans(n_clusters=bins, n_init=4, random_state=seed).fit(a)


def _ndb(kmeans, fake_features, alpha: float) -> int:
    from scipy import stats

    bins = kmeans.n_clusters
    real_counts = np.bincount(kmeans.labels_, minlength=bins)
    fake_counts = np.bincount(kmeans.predict(np.asarray(fake_features, np.float64)),
                              minlength=bins)
    n_r, n_f = real_counts.sum(), fake_counts.sum()
    p_r, p_f = real_counts / n_r, fake_counts / n_f
    pooled = (real_counts + fake_counts) / (n_r + n_f)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_r + 1 / n_f))
    z = np.divide(p_r - p_f, se, out=np.zeros(bins), where=se > 0)
    p_values = 2 * stats.norm.sf(np.abs(z))
    return int(np.sum(p_values < alpha))


def ndb_score(real_features, fake_features, bins: int = 20, alpha: float = 0.05,
              seed: int = 0) -> tuple[int, float]:
    """NDB and NDB/K (Richardson & Weiss 2018).

    The real features are clustered into ``bins`` k-means bins; each generated sample
    goes to its nearest centre; a bin is *different* when a two-proportion z-test
    rejects equal proportions at level ``alpha``. Returns ``(ndb, ndb / bins)``.
    """
    ndb = _ndb(_fit_bins(real_features, bins, seed), fake_features, alpha)
    return ndb, ndb / bins


def label_accuracy(probabilities, requested_labels) -> float:
    """Fraction of sounds whose most likely class is the one requested."""
    p = np.asarray(probabilities)
    y = np.asarray(requested_labels)
    if len(p) != len(y):
        raise ValueError(f"{len(p)} predictions for {len(y)} labels")
    return float(np.mean(np.argmax(p, axis=1) == y))


def spectral_convergence(reference, estimate) -> float:
    """``||S - S_hat||_F / ||S||_F`` over whole magnitude spectrograms (lower is better)."""
    s = np.asarray(reference, dtype=np.float64)
    e = np.asarray(estimate, dtype=np.float64)
    if s.shape != e.shape:
        raise ValueError(f"shapes differ: {s.shape} and {e.shape}")
    return float(np.linalg.norm(s - e) / max(np.linalg.norm(s), 1e-12))


# -- pitch ----------------------------------------------------------------------------------

# A letter, any sharps or flats, and an octave: C4, A#3, Db4, C♯4, B♭3, C-1.
_NOTE_NAME = re.compile(r"[A-Ga-g][#♯b♭]*-?\d+")
_MIDI_NUMBER = re.compile(r"\d{1,3}")
# MIDI 12 is C0 (16.4 Hz), the bottom of hearing: folders named 0..11 are far more
# likely numbered classes (spoken digits) than pitches no pitch tracker can follow.
_LOWEST_PITCH, _HIGHEST_PITCH = 12, 127


def parse_pitch(name) -> int:
    """The MIDI number of a pitch class name.

    Scientific pitch notation with sharps or flats (``"C4"`` -> 60, ``"A#3"``,
    ``"Bb3"`` and ``"B♭3"`` -> 58, ``"Db4"`` and ``"C♯4"`` -> 61; the letter may be lower
    case) or a MIDI number written out (``"60"``), from 12 (C0, 16.4 Hz) to 127 (G9).

    Args:
        name: str. A class name, as a class folder is named.

    Returns:
        int. The MIDI number (69 is A4, 440 Hz).

    Raises:
        ValueError: ``name`` is not a pitch, or is outside MIDI 12..127.

    >>> parse_pitch("A4"), parse_pitch("Db4"), parse_pitch("60")
    (69, 61, 60)
    """
    text = str(name).strip()
    if _MIDI_NUMBER.fullmatch(text):
        midi = int(text)
    elif _NOTE_NAME.fullmatch(text):
        import librosa

        midi = int(librosa.note_to_midi(text))
    else:
        raise ValueError(f"{name!r} is not a pitch: expected a note name with its octave "
                         "(C4, A#3, Db4, C♯4) or a MIDI number (60)")
    if not _LOWEST_PITCH <= midi <= _HIGHEST_PITCH:
        raise ValueError(f"pitch {name!r} is MIDI {midi}, outside {_LOWEST_PITCH} (C0) to "
                         f"{_HIGHEST_PITCH} (G9)")
    return midi


def class_pitches(class_names) -> tuple[int, ...] | None:
    """The MIDI numbers of a set of class names when every one of them is a pitch
    (:func:`parse_pitch`), else ``None``: one name that is not a pitch (``"kick"``,
    ``"7"``) makes the set unpitched.

    >>> class_pitches(["C4", "C#4", "D4"]), class_pitches(["kick", "C4"])
    ((60, 61, 62), None)
    """
    names = list(class_names)
    if not names:
        return None
    try:
        return tuple(parse_pitch(name) for name in names)
    except ValueError:
        return None


def _pyin_frame_length(sample_rate: int, fmin: float) -> int:
    # Two periods of fmin in a frame (librosa warns below that), and about 64 ms at
    # least (librosa's default 2048 samples at 22050 Hz is 93 ms): 2048 at 16 kHz.
    needed = max(2 * sample_rate / fmin + 2, 0.064 * sample_rate)
    return int(2 ** math.ceil(math.log2(needed)))


def estimate_pitch(audio, sample_rate: int, fmin: float, fmax: float,
                   resolution: float = 0.25) -> np.ndarray:
    """The pitch of each clip, as a MIDI number: the median fundamental frequency of the
    frames that ``librosa.pyin`` finds voiced, or NaN when it finds none.

    Args:
        audio: float array ``[n, samples]`` (or ``[samples]`` for one clip). Finite.
        sample_rate: int. Samples per second.
        fmin: float. Lowest frequency searched, in Hz.
        fmax: float. Highest frequency searched, in Hz; at most ``sample_rate / 2``.
        resolution: float. pyin's pitch grid, in semitones. Defaults to 0.25: four times
            coarser than pyin's own default and about 7x faster (its Viterbi decoding
            grows with the square of the grid), with the same accuracy at the semitone
            on the 576 notes of ``examples/make_notes.py``.

    Returns:
        float64 ``[n]``: fractional MIDI numbers (69.0 is 440 Hz), NaN for unvoiced clips.
    """
    import librosa

    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError(f"audio must have shape [n, samples], got {np.shape(audio)}")
    if not np.isfinite(x).all():
        bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise ValueError(f"audio clip {bad} holds NaN or infinite samples")
    sample_rate = check_integer(sample_rate, "sample_rate", minimum=1)
    if not 0 < fmin < fmax <= sample_rate / 2:
        raise ValueError(f"need 0 < fmin < fmax <= sample_rate / 2 = {sample_rate / 2}, "
                         f"got fmin={fmin} and fmax={fmax}")
    if len(x) == 0:
        return np.zeros(0)
    f0, voiced, _ = librosa.pyin(x, fmin=fmin, fmax=fmax, sr=sample_rate,
                                 frame_length=_pyin_frame_length(sample_rate, fmin),
                                 resolution=resolution)
    pitches = np.full(len(x), np.nan)
    for i, (frequencies, flags) in enumerate(zip(f0, voiced)):
        if flags.any():
            pitches[i] = librosa.hz_to_midi(np.median(frequencies[flags]))
    return pitches


def _pitch_range(midi_numbers, sample_rate: int) -> tuple[float, float]:
    # An octave either side of the requested pitches, so that an octave error is heard
    # as one (a miss) instead of being folded into the range.
    import librosa

    low, high = float(np.min(midi_numbers)), float(np.max(midi_numbers))
    fmin = float(librosa.midi_to_hz(low - 12))
    fmax = min(float(librosa.midi_to_hz(high + 12)), sample_rate / 2)
    if fmax <= librosa.midi_to_hz(high + 0.5):
        raise ValueError(f"pitch MIDI {high:g} ({librosa.midi_to_hz(high):.0f} Hz) cannot be "
                         f"tracked at a sample rate of {sample_rate} Hz")
    return fmin, fmax


def _pitch_hits(estimated, requested) -> dict:
    from keras_soundgan.judges import pitch_hits

    hits = pitch_hits(estimated, requested)
    return {"pitch_accuracy": hits["accuracy"], "pitch_class_accuracy": hits["class_accuracy"],
            "unvoiced": hits["unvoiced"]}


def pitch_accuracy(audio, sample_rate: int, midi_numbers, fmin: float | None = None,
                   fmax: float | None = None) -> float:
    """How often a clip's pitch is the one requested, by a pitch tracker alone.

    Each clip's pitch (:func:`estimate_pitch`: the median ``librosa.pyin`` f0 of its
    voiced frames) is rounded to the nearest semitone; the clip is right when that is
    its requested MIDI number exactly. An octave error is a miss, and so is a clip in
    which pyin finds no voiced frame.

    Args:
        audio: float array ``[n, samples]``, e.g. ``model.generate_audio(n, labels=...)``.
        sample_rate: int. Samples per second.
        midi_numbers: ints ``[n]``. The requested pitch of each clip (:func:`parse_pitch`
            turns class names into them).
        fmin: float. Lowest frequency searched, in Hz. Defaults to an octave below the
            lowest requested pitch.
        fmax: float. Highest frequency searched, in Hz. Defaults to an octave above the
            highest requested pitch (at most ``sample_rate / 2``).

    Returns:
        float. The fraction of clips heard at their requested pitch, in [0, 1].

    >>> import numpy as np
    >>> t = np.arange(8000) / 16000
    >>> tones = [np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 261.63 * t)]
    >>> pitch_accuracy(np.stack(tones), 16000, [69, 60])
    1.0
    """
    requested = np.asarray(midi_numbers)
    x = np.asarray(audio)
    n = 1 if x.ndim == 1 else len(x)
    if requested.ndim != 1 or len(requested) != n:
        raise ValueError(f"midi_numbers must hold one pitch per clip: {n} clips, "
                         f"got {requested.shape}")
    if n == 0:
        raise ValueError("pitch_accuracy needs at least one clip")
    if not np.issubdtype(requested.dtype, np.integer):
        raise ValueError(f"midi_numbers must be integers, got {requested.dtype}")
    low, high = _pitch_range(requested, sample_rate)
    estimated = estimate_pitch(x, sample_rate, fmin or low, fmax or high)
    return _pitch_hits(estimated, requested)["pitch_accuracy"]


# -- the judge ----------------------------------------------------------------------------


def build_judge(image_shape, num_classes: int, width: int = 16, pooling: str = "time",
                augment: bool = True, max_frames: int = 64,
                learning_rate: float = 2e-3) -> keras.Model:
    """A small CNN classifier of normalised spectrograms, with an ``embedding`` layer
    (its 64 features are what the Frechet distance and NDB compare).

    Args:
        image_shape: ``(height, width, 1)``: frequency bins by frames.
        num_classes: int. At least 2.
        width: int. Filters of the first of three stride-2 convolutions (then 2x, 4x).
            Defaults to 16.
        pooling: ``"time"`` averages the last feature map over time only and keeps
            where in frequency things are (pitch, formants, the band of a hi-hat);
            ``"global"`` averages over frequency too (the version-1 judge). Defaults
            to ``"time"``.
        augment: bool. While training only, shift each spectrogram in time by up to
            10% of its length and add Gaussian noise (0.1). Defaults to True.
        max_frames: int. Wider spectrograms are first averaged over time by the
            integer factor ``width // max_frames``; 0 never. Defaults to 64.
        learning_rate: float. Of the Adam optimizer. Defaults to 2e-3.
    """
    if num_classes < 2:
        raise ValueError(f"the judge needs at least 2 classes, got {num_classes}")
    if pooling not in ("time", "global"):
        raise ValueError(f"pooling must be 'time' or 'global', got {pooling!r}")
    inputs = keras.Input(image_shape)
    x = inputs
    if max_frames and image_shape[1] // max_frames > 1:
        x = keras.layers.AveragePooling2D((1, image_shape[1] // max_frames),
                                          name="frame_pooling")(x)
    if augment:
        # Silence is -1 after normalisation: what shifts in is silence.
        x = keras.layers.RandomTranslation(0.0, 0.1, fill_mode="constant",
                                           fill_value=-1.0, name="time_shift")(x)
        x = keras.layers.GaussianNoise(0.1, name="noise")(x)
    for i in range(3):
        # No BatchNorm: with the few steps a small data set gives, its moving
        # statistics lag and the judge's inference-time confidence collapses.
        x = keras.layers.Conv2D(width * 2**i, 3, strides=2, padding="same",
                                activation="relu")(x)
    if pooling == "time":
        x = keras.layers.AveragePooling2D((1, x.shape[2]), name="time_pooling")(x)
        x = keras.layers.Flatten()(x)
    else:
        x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    embedding = keras.layers.Dense(64, activation="relu", name="embedding")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(embedding)
    model = keras.Model(inputs, outputs, name="judge")
    if augment and keras.backend.backend() == "jax":
        # RandomTranslation says it cannot be compiled (TensorFlow's image transform
        # has no XLA kernel), which makes Keras train the whole judge eagerly; JAX's
        # own transform compiles. On 2 cores (2026-12-06) 40 epochs of 80 images took
        # 21-25 s eagerly and 7-8.5 s compiled, with the same losses.
        model.get_layer("time_shift").supports_jit = True
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def train_judge(images, labels, num_classes: int, epochs: int = 40, batch_size: int = 32,
                seed: int = 0, verbose=0, validation_fraction: float = 0.15,
                patience: int = 6, progress=None, **judge_options) -> keras.Model:
    """Trains :func:`build_judge` on real images ``[n, H, W, 1]`` and labels ``[n]``.

    A stratified ``validation_fraction`` of the examples (at least one per class) is
    held back, training stops when its loss has not improved for ``patience`` epochs,
    and the weights of the best epoch are kept. With ``validation_fraction=0``, or a
    class of a single example, it trains all ``epochs`` on everything.

    Args:
        images: float32 ``[n, height, width, 1]``, normalised spectrograms.
        labels: int ``[n]`` in ``[0, num_classes)``.
        num_classes: int.
        epochs: int. The most epochs. Defaults to 40.
        batch_size: int. Defaults to 32.
        seed: int. Seeds the split, the weights and the augmentation. Defaults to 0.
        verbose: passed to ``fit``. Defaults to 0.
        validation_fraction: float in [0, 0.5]. Defaults to 0.15.
        patience: int. Defaults to 6.
        progress: callable or None. Called as ``progress("Training the judge", done,
            total)`` before the first epoch and after each, ``done`` of the ``total`` =
            ``epochs``; when training stops early, a last call gives the epochs run as
            both ``done`` and ``total``. Defaults to None.
        **judge_options: ``width``, ``pooling``, ``augment``, ``max_frames`` and
            ``learning_rate`` of :func:`build_judge`.

    Returns:
        The trained judge; ``judge.history.history`` holds the per-epoch losses and
        accuracies (``val_accuracy`` too when there was a validation split).
    """
    if not 0 <= validation_fraction <= 0.5:
        raise ValueError(f"validation_fraction must be in [0, 0.5], got {validation_fraction}")
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels)
    keras.utils.set_random_seed(seed)
    judge = build_judge(images.shape[1:], num_classes, **judge_options)
    counts = np.bincount(labels, minlength=num_classes)
    callbacks, validation = [], None
    if validation_fraction > 0 and counts[counts > 0].min() >= 2:
        fit_x, fit_y, val_x, val_y = split_held_out(images, labels, validation_fraction,
                                                    seed=seed + 1)
        validation = (val_x, val_y)
        callbacks = [keras.callbacks.EarlyStopping("val_loss", patience=patience,
                                                   restore_best_weights=True)]
    else:
        fit_x, fit_y = images, labels
    if progress is not None:
        callbacks.append(_EpochProgress(progress, _JUDGE_STAGE, epochs))
    judge.fit(fit_x, fit_y, epochs=epochs, batch_size=batch_size, verbose=verbose,
              shuffle=True, validation_data=validation, callbacks=callbacks)
    return judge


class _EpochProgress(keras.callbacks.Callback):
    """``progress(stage, epochs done, epochs)`` before the first epoch and after each;
    at the end, the epochs run as the total too (early stopping ends the training
    before ``epochs``)."""

    def __init__(self, progress, stage: str, epochs: int):
        super().__init__()
        self._progress, self._stage, self._epochs = progress, stage, epochs
        self._done = 0

    def on_train_begin(self, logs=None):
        self._progress(self._stage, 0, self._epochs)

    def on_epoch_end(self, epoch, logs=None):
        self._done = epoch + 1
        self._progress(self._stage, self._done, self._epochs)

    def on_train_end(self, logs=None):
        if self._done < self._epochs:
            self._progress(self._stage, self._done, self._done)


_FEATURES = weakref.WeakKeyDictionary()  # judge -> its (logits, embedding) model


def judge_outputs(judge: keras.Model, images, batch_size: int = 128):
    """``(probabilities [n, classes], embeddings [n, 64])`` of images under the judge."""
    features = _FEATURES.get(judge)
    if features is None:  # made once per judge, so that predict traces once
        features = keras.Model(judge.inputs, [judge.get_layer("logits").output,
                                              judge.get_layer("embedding").output])
        _FEATURES[judge] = features
    logits, embeddings = features.predict(np.asarray(images, np.float32),
                                          batch_size=batch_size, verbose=0)
    return np.asarray(keras.ops.softmax(logits, axis=-1)), np.asarray(embeddings)


# -- scoring a set --------------------------------------------------------------------------


@dataclasses.dataclass
class Scores:
    """Scores of one set of sounds.

    Every field is optional: a row has the scores that apply to it (the row of real
    recordings, ``real (recordings)``, has only the independent judges' and ``n``).

    Attributes:
        inception_score: float. Higher is better, at most the number of classes.
        frechet_distance: float. To the real training data's embeddings; lower is better.
        ndb: float. Statistically different bins (of K) against the real training data.
        ndb_k: float. ``ndb / K``, in [0, 1]; lower is better.
        label_accuracy: float. How often the judge hears the requested (for real data:
            the true) class; ``None`` for an unconditional generator.
        n: int. Sounds scored (label and pitch accuracy use all of them).
        sample_size: int. Sounds in each draw the set-level scores are computed from.
        draws: int. Draws averaged (1 when the draw is the whole set).
        frechet_distance_std: float. Spread of the Frechet distance over the draws.
        per_class_accuracy: dict. Label accuracy of each class, by class name.
        pitch_accuracy: float. Where classes are pitches: how often ``librosa.pyin``
            hears the requested pitch, to the semitone (octave errors are misses).
        pitch_class_accuracy: float. The same with the octave ignored.
        unvoiced: float. Fraction of clips in which pyin hears no pitch at all.
        inception_score_ratio: float. The Inception score divided by real held-out
            data's (its ceiling); ``None`` in the real row, and wherever real data
            scores 0.
        frechet_distance_ratio: float. The Frechet distance divided by the real-to-real
            distance (its floor).
        label_accuracy_ratio: float. Label accuracy divided by real held-out data's.
        pitch_accuracy_ratio: float. Pitch accuracy divided by real held-out data's.
        crepe_pitch_accuracy: float. Where classes are pitches and torchcrepe is
            installed: how often CREPE hears the requested pitch, to the semitone
            (:func:`keras_soundgan.judges.crepe_pitch`; octave errors are misses).
        crepe_pitch_class_accuracy: float. The same with the octave ignored.
        crepe_unvoiced: float. Fraction of clips in which CREPE is confident of no frame.
        word_accuracy: float. Where classes are spoken words: how often pocketsphinx,
            with a grammar of the class names, hears the requested word
            (:func:`keras_soundgan.judges.recognise`).
        no_word: float. Fraction of clips in which that grammar recogniser hears none.
        open_word_accuracy: float. The same with the recogniser's open vocabulary (a
            homophone counts: :func:`keras_soundgan.judges.sounds_like`).
        crepe_pitch_accuracy_ratio: float. CREPE pitch accuracy divided by the real
            recordings' (or, without recordings, real held-out data's).
        word_accuracy_ratio: float. Word accuracy divided by the real recordings'.
        open_word_accuracy_ratio: float. Open-vocabulary word accuracy divided by the
            real recordings'.
    """

    inception_score: float | None = None
    frechet_distance: float | None = None
    ndb: float | None = None
    ndb_k: float | None = None
    label_accuracy: float | None = None
    n: int | None = None
    sample_size: int | None = None
    draws: int | None = None
    frechet_distance_std: float | None = None
    per_class_accuracy: dict | None = None
    pitch_accuracy: float | None = None
    pitch_class_accuracy: float | None = None
    unvoiced: float | None = None
    inception_score_ratio: float | None = None
    frechet_distance_ratio: float | None = None
    label_accuracy_ratio: float | None = None
    pitch_accuracy_ratio: float | None = None
    crepe_pitch_accuracy: float | None = None
    crepe_pitch_class_accuracy: float | None = None
    crepe_unvoiced: float | None = None
    word_accuracy: float | None = None
    no_word: float | None = None
    open_word_accuracy: float | None = None
    crepe_pitch_accuracy_ratio: float | None = None
    word_accuracy_ratio: float | None = None
    open_word_accuracy_ratio: float | None = None

    def as_dict(self) -> dict:
        """The scores that are set, as a JSON-ready dict."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}

    def with_ratios(self, real: Scores, recorded: Scores | None = None) -> Scores:
        """A copy with the ``*_ratio`` fields set against ``real`` (held-out real data),
        those of the independent judges against ``recorded`` (the real recordings)
        where given, else against ``real``."""
        return dataclasses.replace(
            self.with_judge_ratios(real if recorded is None else recorded),
            inception_score_ratio=_ratio(self.inception_score, real.inception_score),
            frechet_distance_ratio=_ratio(self.frechet_distance, real.frechet_distance),
            label_accuracy_ratio=_ratio(self.label_accuracy, real.label_accuracy),
            pitch_accuracy_ratio=_ratio(self.pitch_accuracy, real.pitch_accuracy))

    def with_judge_ratios(self, recorded: Scores) -> Scores:
        """A copy with the independent judges' ``*_ratio`` fields set against
        ``recorded`` (the real recordings' scores)."""
        return dataclasses.replace(self, **{
            f"{name}_ratio": _ratio(getattr(self, name), getattr(recorded, name))
            for name in _JUDGE_ACCURACIES})


# The independent judges' accuracies that get a ratio to real recordings'.
_JUDGE_ACCURACIES = ("crepe_pitch_accuracy", "word_accuracy", "open_word_accuracy")


def _ratio(mine, theirs):  # none where real data scores 0: nothing to compare to
    return None if mine is None or not theirs else float(mine / theirs)


def held_out_mask(labels, fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """Which examples a stratified split holds out (a function of the labels alone, so
    that the recordings of a data set split as its spectrograms do)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        held[idx[:max(1, math.ceil(fraction * len(idx)))]] = True
    return held


def split_held_out(images, labels, fraction: float = 0.2, seed: int = 0):
    """A stratified split into ``(train_images, train_labels, held_images, held_labels)``."""
    held = held_out_mask(labels, fraction, seed)
    return images[~held], labels[~held], images[held], labels[held]


def _draw_subsets(n: int, size: int, draws: int, seed: int, labels=None,
                  counts=None) -> list[np.ndarray]:
    """Index arrays of ``draws`` subsets of ``range(n)``: ``size`` indices each, or, with
    ``labels`` and ``counts``, ``counts[c]`` indices of each class ``c``. A subset that
    must be the whole set is drawn once."""
    if labels is not None and counts is not None:
        labels = np.asarray(labels)
        have = np.bincount(labels, minlength=len(counts))
        if np.any(have < counts):
            raise ValueError(f"cannot draw {counts.tolist()} examples per class from "
                             f"{have.tolist()}")
        if np.array_equal(have, counts):
            return [np.arange(n)]
        rng = np.random.default_rng(seed)
        by_class = [np.flatnonzero(labels == c) for c in range(len(counts))]
        return [np.sort(np.concatenate([rng.choice(idx, k, replace=False)
                                        for idx, k in zip(by_class, counts)]))
                for _ in range(draws)]
    if size >= n:
        return [np.arange(n)]
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(n, size, replace=False)) for _ in range(draws)]


def _set_scores(kmeans, reference_embeddings, probabilities, embeddings, subsets,
                alpha: float = 0.05) -> dict:
    inception, frechet, ndb = [], [], []
    for idx in subsets:
        inception.append(inception_score(probabilities[idx]))
        frechet.append(frechet_distance(reference_embeddings, embeddings[idx]))
        ndb.append(_ndb(kmeans, embeddings[idx], alpha))
    bins = kmeans.n_clusters
    return {"inception_score": float(np.mean(inception)),
            "frechet_distance": float(np.mean(frechet)),
            "frechet_distance_std": float(np.std(frechet)),
            "ndb": float(np.mean(ndb)), "ndb_k": float(np.mean(ndb)) / bins,
            "sample_size": len(subsets[0]), "draws": len(subsets)}


def _per_class(probabilities, requested, class_names) -> dict:
    predicted = np.argmax(probabilities, axis=1)
    return {name: float(np.mean(predicted[requested == c] == c))
            for c, name in enumerate(class_names) if np.any(requested == c)}


def score(judge, reference_images, images, requested_labels=None, bins: int = 10,
          seed: int = 0, sample_size: int | None = None, draws: int = 1) -> Scores:
    """Scores ``images`` against ``reference_images`` (real training data) with the judge.

    The Inception score, Frechet distance and NDB are averaged over ``draws`` random
    subsets of ``sample_size`` images (default: the whole set, once), so that sets of
    different sizes can be compared at the same size; label accuracy uses every image.
    """
    _, ref_e = judge_outputs(judge, reference_images)
    p, e = judge_outputs(judge, images)
    size = len(p) if sample_size is None else min(sample_size, len(p))
    subsets = _draw_subsets(len(p), size, draws, seed)
    result = _set_scores(_fit_bins(ref_e, bins, seed), ref_e, p, e, subsets)
    requested = None if requested_labels is None else np.asarray(requested_labels)
    return Scores(
        **result, n=len(p),
        label_accuracy=None if requested is None else label_accuracy(p, requested))


def score_generator(judge, reference_images, model, n: int, seed: int = 0,
                    bins: int = 10) -> Scores:
    """Scores ``n`` sounds generated by ``model`` (a :class:`~keras_soundgan.SoundGAN`)
    against ``reference_images`` with the judge, every class in turn for a conditional
    model, all ``n`` at once (no draws, no ratios).

    This is the plain scorer of a model in memory; to score a model exactly as
    ``keras-soundgan evaluate`` does (same held-out labels, same number of sounds as
    the real row, ratios to it, pitch accuracy), use :meth:`Evaluation.score_model`.
    """
    requested = ((np.arange(n) % model.num_classes).astype("int32")
                 if model.num_classes else None)
    images = model.generate(n, seed=seed, labels=requested)
    return score(judge, reference_images, images, requested, bins, seed)


# -- a whole run --------------------------------------------------------------------------


@dataclasses.dataclass(eq=False)
class Evaluation:
    """How a run is scored: its judge, its real data and the protocol, fixed once so
    that every generator scored with it (the run's, an untrained one, snapshots taken
    during training) is scored the same way as real held-out data.

    Made by :func:`prepare_evaluation`. The protocol:

    * The judge's embeddings of ``reference_images`` (the real data the judge was
      trained on) are the reference of every Frechet distance and NDB: for real
      held-out data this is the real-to-real distance, the floor.
    * Every set is scored with the same number of sounds, ``sample_size`` (the
      smaller of the held-out set and ``num_generated``): the Inception score, Frechet
      distance and NDB/K of a larger set are the mean over ``draws`` random subsets of
      that size. A conditional generator is asked for the held-out set's labels (in
      a seeded order, repeated to ``num_generated``), and each draw takes as many
      sounds of each class as the held-out draw has, so the class mix matches too.
    * Label and pitch accuracy use every sound.
    * The independent judges in ``judges`` (:mod:`keras_soundgan.judges`) hear every
      sound, and the real recordings (``recordings``): their ratios are to the
      recordings' scores (:attr:`recorded`), the ceiling a generator is measured
      against; without recordings, to real held-out data's through the inverse.

    Attributes:
        judge: keras.Model. The classifier (:func:`build_judge`).
        reference_images: float32 ``[n, H, W, 1]``. The judge's training data.
        held_out_images: float32 ``[m, H, W, 1]``. Real data the judge never saw.
        held_out_labels: int32 ``[m]``.
        class_names: tuple of str.
        transform: the run's SpectrogramTransform (its ``inverse`` turns spectrograms
            into audio for the pitch tracker, as ``generate`` does).
        num_generated: int. Sounds generated per model.
        draws: int. Subsets averaged where a set is larger than ``sample_size``.
        seed: int. Seeds the generated noise, the requested labels and the draws.
        bins: int. K of NDB/K.
        pitches: MIDI numbers of the classes when they are pitches, else ``None``.
        info: dict. Where the data came from and what the judge is (for the JSON).
        model: the run's trained SoundGAN, when made by :func:`prepare_evaluation`
            (its row is ``evaluation.score_model(evaluation.model)``).
        judges: :class:`keras_soundgan.judges.JudgePlan` or ``None``. The independent
            judges that score the sounds; ``None``: none.
        recordings: float32 ``[r, samples]`` or ``None``. The real held-out recordings
            at the run's rate, cut as its training data was (:func:`real_recordings`).
        recording_labels: int32 ``[r]`` or ``None``. Their classes.

    Also set when it is made: ``sample_size`` (int), ``requested_labels`` (int32
    ``[num_generated]``: the labels a conditional generator is asked for) and
    ``class_counts`` (the number of sounds of each class in a draw).
    """

    judge: keras.Model
    reference_images: np.ndarray
    held_out_images: np.ndarray
    held_out_labels: np.ndarray
    class_names: tuple
    transform: object
    num_generated: int
    draws: int = 10
    seed: int = 0
    bins: int = 10
    pitches: tuple | None = None
    info: dict = dataclasses.field(default_factory=dict)
    model: object = None
    judges: object = None
    recordings: np.ndarray | None = None
    recording_labels: np.ndarray | None = None

    def __post_init__(self):
        if self.num_generated < 2:
            raise ValueError(f"num_generated must be at least 2, got {self.num_generated}")
        self.draws = check_integer(self.draws, "draws", minimum=1)
        if (self.recordings is None) != (self.recording_labels is None) or (
                self.recordings is not None and len(self.recordings) != len(
                    self.recording_labels)):
            raise ValueError("recordings and recording_labels go together, one label a "
                             "recording")
        self.held_out_labels = np.asarray(self.held_out_labels, np.int32)
        m = len(self.held_out_labels)
        self.sample_size = min(m, self.num_generated)
        if self.sample_size < 2:
            raise ValueError(f"the held-out set has {m} examples; at least 2 are needed")
        order = np.random.default_rng(self.seed).permutation(self.held_out_labels)
        self.requested_labels = np.resize(order, self.num_generated).astype(np.int32)
        self.class_counts = np.bincount(self.requested_labels[:self.sample_size],
                                        minlength=len(self.class_names))
        self._reference = judge_outputs(self.judge, self.reference_images)
        self._kmeans = _fit_bins(self._reference[1], self.bins, self.seed)
        self._real = None
        self._recorded = None

    def _score(self, images, labels, requested, audio_fn) -> Scores:
        p, e = judge_outputs(self.judge, images)
        stratified = labels is not None
        subsets = _draw_subsets(len(p), self.sample_size, self.draws, self.seed + 1,
                                labels if stratified else None,
                                self.class_counts if stratified else None)
        result = _set_scores(self._kmeans, self._reference[1], p, e, subsets)
        scores = Scores(**result, n=len(p))
        if requested is not None:
            scores.label_accuracy = label_accuracy(p, requested)
            scores.per_class_accuracy = _per_class(p, requested, self.class_names)
            audio = None
            if self.pitches is not None:
                midi = np.asarray(self.pitches)[requested]
                sample_rate = self.transform.config.sample_rate
                low, high = _pitch_range(self.pitches, sample_rate)  # the same for every row
                audio = audio_fn()
                scores = dataclasses.replace(scores, **_pitch_hits(
                    estimate_pitch(audio, sample_rate, low, high), midi))
            if self.judged:
                from keras_soundgan.judges import score_audio

                audio = audio_fn() if audio is None else audio
                scores = dataclasses.replace(scores, **score_audio(
                    self.judges, audio, self.transform.config.sample_rate, requested))
        return scores

    @property
    def judged(self) -> bool:
        """Whether judges trained elsewhere score this evaluation's sets."""
        return self.judges is not None and self.judges.active

    @property
    def recorded(self) -> Scores | None:
        """The independent judges' scores of the real held-out recordings (computed
        once; only those fields and ``n`` are set): the anchors of their ratios.
        ``None`` without independent judges or without recordings."""
        if self._recorded is None and self.judged and self.recordings is not None:
            from keras_soundgan.judges import score_audio

            self._recorded = Scores(n=len(self.recordings), **score_audio(
                self.judges, self.recordings, self.transform.config.sample_rate,
                self.recording_labels))
        return self._recorded

    @property
    def real(self) -> Scores:
        """The scores of the real held-out data (computed once): the anchors. Its
        sounds are the held-out spectrograms through the run's inverse, as generated
        sounds are made; the independent judges' ratios in it are to the recordings'
        (:attr:`recorded`): how much of them the inverse keeps."""
        if self._real is None:
            images, labels = self.held_out_images, self.held_out_labels
            real = self._score(images, labels, labels, lambda: self.transform.inverse(images))
            if self.recorded is not None:  # how much of the recordings' the inverse keeps
                real = real.with_judge_ratios(self.recorded)
            self._real = real
        return self._real

    def score_model(self, model) -> Scores:
        """Generates :attr:`num_generated` sounds with ``model`` (a
        :class:`~keras_soundgan.SoundGAN`) and scores them as the real row is scored,
        with the ``*_ratio`` fields set against :attr:`real`. A conditional model is
        asked for :attr:`requested_labels`; its audio for the pitch tracker is made as
        ``keras-soundgan generate`` makes it (the model's own inverse)."""
        conditional = bool(model.num_classes)
        if conditional and model.num_classes != len(self.class_names):
            raise ValueError(f"the model has {model.num_classes} classes, the data "
                             f"{len(self.class_names)}")
        requested = self.requested_labels if conditional else None
        images = model.generate(self.num_generated, seed=self.seed, labels=requested)
        scores = self._score(images, requested, requested,
                             lambda: model.spectrogram_transform().inverse(images))
        return scores.with_ratios(self.real, self.recorded)

    def as_dict(self) -> dict:
        """The protocol, as a JSON-ready dict (evaluate's JSON carries it)."""
        return {"classes": list(self.class_names), "num_generated": self.num_generated,
                "sample_size": self.sample_size, "draws": self.draws, "seed": self.seed,
                "bins": self.bins, "reference_size": len(self.reference_images),
                "held_out_size": len(self.held_out_labels),
                "pitches": None if self.pitches is None else list(self.pitches),
                **({"independent_judges": self.judges.as_dict()} if self.judges is not None
                   else {}),
                **self.info}
