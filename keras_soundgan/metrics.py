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
* :func:`spectral_convergence`: ``||S - S_hat||_F / ||S||_F`` for spectrogram inversion.

Every score is printed beside the same score of held-out real data by
:func:`evaluate`, so a number always has its ceiling next to it.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

JUDGE_FILE = "judge.keras"


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
    ``|mu_r - mu_f|^2 + Tr(S_r + S_f - 2 (S_r S_f)^(1/2))``."""
    from scipy import linalg

    a = np.asarray(real_features, dtype=np.float64)
    b = np.asarray(fake_features, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(
            f"features must be [n, d] with the same d and n >= 2, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    import warnings

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


def ndb_score(real_features, fake_features, bins: int = 20, alpha: float = 0.05,
              seed: int = 0) -> tuple[int, float]:
    """NDB and NDB/K (Richardson & Weiss 2018).

    The real features are clustered into ``bins`` k-means bins; each generated sample
    goes to its nearest centre; a bin is *different* when a two-proportion z-test
    rejects equal proportions at level ``alpha``. Returns ``(ndb, ndb / bins)``.
    """
    from scipy import stats
    from sklearn.cluster import KMeans

    a = np.asarray(real_features, dtype=np.float64)
    b = np.asarray(fake_features, dtype=np.float64)
    if len(a) < bins:
        raise ValueError(f"ndb_score needs at least bins={bins} real samples, got {len(a)}")
    kmeans = KMeans(n_clusters=bins, n_init=4, random_state=seed).fit(a)
    real_counts = np.bincount(kmeans.labels_, minlength=bins)
    fake_counts = np.bincount(kmeans.predict(b), minlength=bins)
    n_r, n_f = len(a), len(b)
    p_r, p_f = real_counts / n_r, fake_counts / n_f
    pooled = (real_counts + fake_counts) / (n_r + n_f)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n_r + 1 / n_f))
    z = np.divide(p_r - p_f, se, out=np.zeros(bins), where=se > 0)
    p_values = 2 * stats.norm.sf(np.abs(z))
    ndb = int(np.sum(p_values < alpha))
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


# -- the judge ----------------------------------------------------------------------------


def build_judge(image_shape, num_classes: int, width: int = 16) -> keras.Model:
    """A small CNN classifier of normalised spectrograms, with an ``embedding`` layer
    (its 64 features are what the Frechet distance and NDB compare)."""
    if num_classes < 2:
        raise ValueError(f"the judge needs at least 2 classes, got {num_classes}")
    inputs = keras.Input(image_shape)
    x = inputs
    for i in range(3):
        # No BatchNorm: with the few steps a small data set gives, its moving
        # statistics lag and the judge's inference-time confidence collapses.
        x = keras.layers.Conv2D(width * 2**i, 3, strides=2, padding="same",
                                activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)
    embedding = keras.layers.Dense(64, activation="relu", name="embedding")(x)
    outputs = keras.layers.Dense(num_classes, name="logits")(embedding)
    model = keras.Model(inputs, outputs, name="judge")
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def train_judge(images, labels, num_classes: int, epochs: int = 15, batch_size: int = 32,
                seed: int = 0, verbose=0) -> keras.Model:
    """Trains :func:`build_judge` on real images ``[n, H, W, 1]`` and labels ``[n]``."""
    keras.utils.set_random_seed(seed)
    judge = build_judge(images.shape[1:], num_classes)
    judge.fit(images, labels, epochs=epochs, batch_size=batch_size, verbose=verbose,
              shuffle=True)
    return judge


def judge_outputs(judge: keras.Model, images, batch_size: int = 128):
    """``(probabilities [n, classes], embeddings [n, 64])`` of images under the judge."""
    features = keras.Model(judge.inputs, [judge.get_layer("logits").output,
                                          judge.get_layer("embedding").output])
    logits, embeddings = features.predict(np.asarray(images, np.float32),
                                          batch_size=batch_size, verbose=0)
    return np.asarray(keras.ops.softmax(logits, axis=-1)), np.asarray(embeddings)


@dataclasses.dataclass
class Scores:
    """Scores of one set of sounds."""

    inception_score: float
    frechet_distance: float
    ndb: int
    ndb_k: float
    label_accuracy: float | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def split_held_out(images, labels, fraction: float = 0.2, seed: int = 0):
    """A stratified split into ``(train_images, train_labels, held_images, held_labels)``."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        held[idx[:max(1, math.ceil(fraction * len(idx)))]] = True
    return images[~held], labels[~held], images[held], labels[held]


def score(judge, reference_images, images, requested_labels=None, bins: int = 10,
          seed: int = 0) -> Scores:
    """Scores ``images`` against ``reference_images`` (real training data) with the judge."""
    ref_p, ref_e = judge_outputs(judge, reference_images)
    p, e = judge_outputs(judge, images)
    ndb, ndb_k = ndb_score(ref_e, e, bins=bins, seed=seed)
    return Scores(
        inception_score=inception_score(p),
        frechet_distance=frechet_distance(ref_e, e),
        ndb=ndb, ndb_k=ndb_k,
        label_accuracy=None if requested_labels is None else label_accuracy(p, requested_labels),
    )


def score_generator(judge, reference_images, model, n: int, seed: int = 0,
                    bins: int = 10) -> Scores:
    """Scores ``n`` sounds generated by ``model`` (a :class:`~keras_soundgan.SoundGAN`)
    against ``reference_images`` with the judge, as :func:`evaluate_run` does.

    A conditional model is asked for every class in turn, and ``label_accuracy`` says
    how often the judge hears the class requested; the noise comes from ``seed``. This
    scores a model in memory (a checkpoint, a snapshot taken during training, an
    untrained generator) rather than a run folder.
    """
    requested = ((np.arange(n) % model.num_classes).astype("int32")
                 if model.num_classes else None)
    images = model.generate(n, seed=seed, labels=requested)
    return score(judge, reference_images, images, requested, bins, seed)


# -- a whole run --------------------------------------------------------------------------


def real_data_for_run(model, source, cache_dir=None):
    """The real images (normalised with the model's own statistics), labels and class
    names that a run was trained on: ``source`` is ``data.json``'s source (the embedded
    kit or a folder / cache path)."""
    from keras_soundgan.runs import EMBEDDED

    config = model.config
    transform = model.spectrogram_transform()
    if source == EMBEDDED:
        from keras_soundgan.datasets import load_drums

        spec = config.spectrogram
        waveforms, labels, names = load_drums(
            config.data.embedded_per_class, sample_rate=spec.sample_rate,
            length=spec.slice_length, seed=config.training.seed)
        return transform.forward(waveforms), labels, tuple(names)
    from keras_soundgan.audio.cache import load_or_build_cache

    cache = load_or_build_cache(source, config, cache_dir)
    return (transform.normalize(np.asarray(cache.log_magnitude)), np.asarray(cache.labels),
            cache.class_names)


def evaluate_run(run_dir, data_dir=None, num_generated: int | None = None, seed: int = 0,
                 judge_epochs: int = 15, bins: int = 10, log=None) -> dict:
    """Scores a run's generator against its real data, beside the real data's ceiling.

    The judge is trained on 80% of the real data (stratified) the first time and saved
    as ``RUN_DIR/judge.keras``; later evaluations reuse it. The held-out 20% is scored
    as "real (held out)": the ceiling. An untrained generator with the same
    architecture is scored as the floor.

    For a conditional model, sounds are generated for every class in turn and
    ``label_accuracy`` says how often the judge hears the class that was asked for
    (for real data: how often it hears the true class).

    Returns ``{"real (held out)": Scores, "generated": Scores, "untrained": Scores,
    "classes": [...], "num_generated": n}``.
    """
    import json
    from pathlib import Path

    from keras_soundgan.models.soundgan import SoundGAN
    from keras_soundgan.runs import DATA_FILE, load_run

    log = log or (lambda message: None)
    run_dir = Path(run_dir)
    model = load_run(run_dir)
    source = data_dir
    if source is None:
        info_path = run_dir / DATA_FILE
        if not info_path.is_file():
            raise FileNotFoundError(f"{run_dir} has no {DATA_FILE}: pass the data folder")
        source = json.loads(info_path.read_text())["source"]
    images, labels, names = real_data_for_run(model, source)
    if len(names) < 2:
        raise ValueError(
            "evaluate needs labelled data (at least two class sub-folders): its judge is a "
            f"classifier, and {source!r} has {len(names)} classes")
    train_x, train_y, held_x, held_y = split_held_out(images, labels, seed=seed)
    judge_path = run_dir / JUDGE_FILE
    meta_path = run_dir / "judge.json"
    meta = {"source": str(source), "classes": list(names), "seed": seed,
            "epochs": judge_epochs}
    if judge_path.is_file() and meta_path.is_file() and json.loads(
            meta_path.read_text()) == meta:
        judge = keras.saving.load_model(judge_path)
        log(f"Using the judge in {judge_path}")
    else:
        log(f"Training the judge on {len(train_x)} real examples of {len(names)} classes ...")
        judge = train_judge(train_x, train_y, len(names), epochs=judge_epochs, seed=seed)
        judge.save(judge_path)
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    n = num_generated or max(len(held_x), 10 * bins)
    conditional = model.num_classes > 0
    if conditional and model.num_classes != len(names):
        raise ValueError(f"the model has {model.num_classes} classes, the data {len(names)}")
    results = {"real (held out)": score(judge, train_x, held_x,
                                        held_y if conditional else None, bins, seed)}
    results["generated"] = score_generator(judge, train_x, model, n, seed, bins)
    results["untrained"] = score_generator(judge, train_x, SoundGAN(model.config), n,
                                           seed, bins)
    results["classes"] = list(names)
    results["num_generated"] = n
    return results
