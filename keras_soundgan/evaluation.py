"""Evaluating a run folder: its real data, its held-out part, its judge, every score.

:func:`evaluate_run` is ``keras-soundgan evaluate``: it reads the run (its model, the
data it was trained on, its saved judge), holds out real data, trains or reuses the
judge and scores the generated sounds beside real held-out data's with
:mod:`keras_soundgan.metrics` (the scores themselves, which need no run) and, where
they apply, the judges trained elsewhere (:mod:`keras_soundgan.judges`).
:func:`prepare_evaluation` does all of it but the scoring, for scripts that score
several models against the same judge and held-out set (``scripts/score_vs_time.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import keras
import numpy as np

from keras_soundgan.metrics import (
    Evaluation,
    JUDGE_FILE,
    JUDGE_META_FILE,
    JUDGE_SETTINGS,
    JUDGE_VERSION,
    class_pitches,
    held_out_mask,
    split_held_out,
    train_judge,
)

__all__ = ["evaluate_run", "held_out_data", "prepare_evaluation", "real_data_for_run",
           "real_recordings"]

_SCORING_STAGE = "Scoring sets"


def real_data_for_run(model, source, cache_dir=None, progress=None):
    """The real images (normalised with the model's own statistics), labels and class
    names that a run was trained on: ``source`` is ``data.json``'s source (the embedded
    kit or a folder / cache path). A folder whose cache must be built first reports
    its files to ``progress`` (see :func:`~keras_soundgan.audio.cache.build_cache`)."""
    from keras_soundgan.run_folder import EMBEDDED

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

    cache = load_or_build_cache(source, config, cache_dir, progress=progress)
    return (transform.normalize(np.asarray(cache.log_magnitude)), np.asarray(cache.labels),
            cache.class_names)


def held_out_data(model, folder, class_names, cache_dir=None, progress=None):
    """Real held-out examples from ``folder`` (class sub-folders, or a cache folder),
    read with the run's own spectrogram and data config and normalised with its
    statistics, labelled in the order of ``class_names`` (matched by name).

    Returns ``(images [m, H, W, 1], labels int32 [m])``. Raises ValueError when the
    folder's classes are not exactly ``class_names``. A folder whose cache must be
    built first reports its files to ``progress`` (see
    :func:`~keras_soundgan.audio.cache.build_cache`).
    """
    from keras_soundgan.audio.cache import load_or_build_cache

    cache = load_or_build_cache(folder, model.config, cache_dir, progress=progress)
    theirs, mine = list(cache.class_names), list(class_names)
    if set(theirs) != set(mine) or len(theirs) != len(mine):
        missing = [c for c in mine if c not in theirs]
        extra = [c for c in theirs if c not in mine]
        parts = []
        if missing:
            parts.append(f"lacks {', '.join(missing)}")
        if extra:
            parts.append(f"has classes the training data lacks: {', '.join(extra)}")
        if not theirs:
            parts = ["has no class sub-folders"]
        raise ValueError(f"the held-out folder {os.fspath(folder)!r} "
                         f"{'; '.join(parts)} (its classes must be the training data's: "
                         f"{', '.join(mine)})")
    index = np.asarray([mine.index(name) for name in theirs], np.int32)
    labels = index[np.asarray(cache.labels)]
    return model.spectrogram_transform().normalize(np.asarray(cache.log_magnitude)), labels


def real_recordings(model, source, class_names, held_out=None, seed: int = 0,
                    data_labels=None):
    """The real held-out *recordings* of an evaluation, for the judges that listen to
    sounds as recorded (:mod:`keras_soundgan.judges`).

    They are read as the run's training data was (its rate, slice length, slicing,
    trimming and normalisation: :func:`keras_soundgan.audio.cache.folder_options`),
    so they are the waveforms of the held-out spectrograms, before any spectrogram:

    * with ``held_out`` (a folder of recordings): all of its recordings;
    * without it: the same stratified 20% (``seed``) of the training data
      (``source``: a folder or the embedded kit) as :func:`prepare_evaluation` holds
      out of its spectrograms.

    Args:
        model: the run's SoundGAN (its config says how to read).
        source: the training data: ``data.json``'s source or a folder.
        class_names: str ``[classes]``. In label order.
        held_out: a folder of held-out recordings, or ``None``. Defaults to None.
        seed: int. Of the split without ``held_out``. Defaults to 0.
        data_labels: ints ``[n]`` or ``None``. The labels of the run's data in order.
            Given, a training folder is read file by file and only its held-out slices
            are kept (memory for 20% of it), and the labels of what was read must be
            these; ``None``: all of it is read first, then split. Defaults to None.

    Returns:
        ``(audio, labels, description)``: float32 ``[r, samples]`` at the run's rate,
        int32 ``[r]`` in the order of ``class_names``, and one line saying where they
        came from; ``(None, None, why)`` where there are no recordings to read (a
        spectrogram cache instead of a folder).
    """
    from keras_soundgan.audio.cache import folder_options, is_cache
    from keras_soundgan.audio.io import AudioFolder, load_audio_folder
    from keras_soundgan.run_folder import EMBEDDED

    config = model.config
    folder = source if held_out is None else held_out
    split = (f"the held-out 20% of {source} (seed {seed}), the same sounds as the held-out "
             "spectrograms")
    if held_out is None and source == EMBEDDED:
        from keras_soundgan.datasets import load_drums

        spec = config.spectrogram
        audio, labels, _ = load_drums(config.data.embedded_per_class,
                                      sample_rate=spec.sample_rate, length=spec.slice_length,
                                      seed=config.training.seed)
    elif is_cache(folder):
        return None, None, (f"{os.fspath(folder)} is a spectrogram cache, which holds no "
                            "recordings")
    elif held_out is None and data_labels is not None:  # file by file, held-out slices kept
        data_labels = np.asarray(data_labels)
        held = held_out_mask(data_labels, seed=seed)
        kept, kept_labels, done, same = [], [], 0, True
        for slices, label in AudioFolder(folder, **folder_options(config),
                                         class_names=list(class_names)):
            end = done + len(slices)
            # The slices of the spectrograms, in their order? (Read on either way, so
            # that the decoding workers finish.)
            same = same and end <= len(data_labels) and np.all(data_labels[done:end] == label)
            if same:
                kept.append(slices[held[done:end]])
                kept_labels += [label] * int(held[done:end].sum())
            done = end
        if not same or done != len(data_labels):
            return None, None, (f"the recordings of {source} are not those of its "
                                f"{len(data_labels)} spectrograms")
        return (np.concatenate(kept).astype(np.float32), np.asarray(kept_labels, np.int32),
                f"the {len(kept_labels)} recordings of {split}")
    else:
        audio, labels, _, _ = load_audio_folder(folder, **folder_options(config),
                                                class_names=list(class_names))
    labels = np.asarray(labels, np.int32)
    if held_out is not None:
        return (np.asarray(audio, np.float32), labels,
                f"the {len(labels)} recordings of {os.path.abspath(os.fspath(held_out))}")
    if data_labels is not None and not np.array_equal(labels, np.asarray(data_labels)):
        return None, None, (f"the recordings of {source} are not those of its spectrograms "
                            f"({len(labels)} slices, {len(data_labels)} spectrograms)")
    held = held_out_mask(labels, seed=seed)
    return (np.asarray(audio, np.float32)[held], labels[held],
            f"the {int(held.sum())} recordings of {split}")


def _digest(images, labels) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(images, np.float32).tobytes())
    h.update(np.ascontiguousarray(labels, np.int64).tobytes())
    return h.hexdigest()[:16]


def prepare_evaluation(run_dir, data_dir=None, held_out=None, num_generated: int | None = None,
                       seed: int = 0, judge_epochs: int = 40, bins: int = 10, draws: int = 10,
                       log=None, judges: str = "auto", progress=None) -> Evaluation:
    """Sets up the scoring of a run: its real data, its judge and the protocol.

    Args:
        run_dir: a run folder (``model.keras``, ``data.json``).
        data_dir: the real training data; defaults to the data the run was trained on.
        held_out: a folder of real held-out examples with the same class sub-folders,
            read with the run's config. Without it, a stratified 20% of the training
            data is held out (seeded) and the judge trains on the other 80%.
        num_generated: int. Sounds each scored generator makes. Defaults to as many as
            the held-out set, and at least ``10 * bins``.
        seed: int. Seeds the split, the judge, the noise, the requested labels and the
            draws. Defaults to 0.
        judge_epochs: int. The judge's most epochs (it stops early). Defaults to 40.
        bins: int. K of NDB/K. Defaults to 10.
        draws: int. Subsets averaged where a set is larger than the sample size.
            Defaults to 10.
        log: called with progress messages.
        judges: str. The independent judges (:func:`keras_soundgan.judges.plan_judges`):
            ``"auto"`` (CREPE where class names are pitches; words where they are
            dictionary words and the recogniser hears the real recordings well above
            chance), ``"all"`` (words wherever the names are dictionary words) or
            ``"none"``. Defaults to ``"auto"``. A judge whose package is missing is
            left out, with a message.
        progress: callable or None. Called as ``progress(stage, done, total)`` while
            the long work goes on: ``"Computing spectrograms"`` (files, when the data's
            cache must be built first: :func:`~keras_soundgan.audio.cache.build_cache`)
            and ``"Training the judge"`` (epochs: :func:`train_judge`). Each stage
            starts with ``done`` 0 and ends with ``done == total``. Defaults to None:
            nothing is reported (``log`` messages are separate).

    The judge is trained the first time and saved as ``RUN_DIR/judge.keras``, with
    ``judge.json`` recording what it is (:data:`JUDGE_VERSION`, its settings, the data
    it was trained on); it is reused only when all of that matches.
    """
    from keras_soundgan.judges import JUDGE_MODES
    from keras_soundgan.run_folder import DATA_FILE, class_names_of_run, read_data
    from keras_soundgan.runs import load_run

    if judges not in JUDGE_MODES:  # before the judge trains
        raise ValueError(f"judges must be one of {', '.join(JUDGE_MODES)}, got {judges!r}")
    model = load_run(run_dir, log=log)  # says so when a checkpoint stands in for the model
    log = log or (lambda message: None)
    run_dir = Path(run_dir)
    source = data_dir
    if source is None:
        info_path = run_dir / DATA_FILE
        if not info_path.is_file():
            raise FileNotFoundError(f"{run_dir} has no {DATA_FILE}: pass the data folder")
        source = read_data(run_dir)["source"]
    images, labels, names = real_data_for_run(model, source, progress=progress)
    names = tuple(names)
    if len(names) < 2:
        raise ValueError(
            "evaluate needs labelled data (at least two class sub-folders): its judge is a "
            f"classifier, and {source!r} has {len(names)} classes")
    if model.num_classes:
        if model.num_classes != len(names):
            raise ValueError(f"the model has {model.num_classes} classes, the data "
                             f"{len(names)} ({source})")
        trained_on = class_names_of_run(run_dir)
        if trained_on and tuple(trained_on) != names:
            raise ValueError(f"the model was trained on the classes {', '.join(trained_on)}, "
                             f"in that order; {source} has {', '.join(names)}")
    labels = np.asarray(labels, np.int32)
    if held_out is None:
        train_x, train_y, held_x, held_y = split_held_out(images, labels, seed=seed)
        held_from = f"a stratified 20% of {source} (seed {seed})"
    else:
        train_x, train_y = images, labels
        held_x, held_y = held_out_data(model, held_out, names, progress=progress)
        held_from = os.path.abspath(os.fspath(held_out))
        log(f"Held-out real data: {len(held_y)} examples from {held_from}")

    settings = {"version": JUDGE_VERSION, "max_epochs": judge_epochs, "seed": seed,
                **JUDGE_SETTINGS}
    meta = {"judge": settings, "source": str(source), "classes": list(names),
            "held_out": held_out is not None, "examples": len(train_y),
            "data": _digest(train_x, train_y)}
    judge_path, meta_path = run_dir / JUDGE_FILE, run_dir / JUDGE_META_FILE
    saved = None
    if meta_path.is_file():
        try:
            saved = json.loads(meta_path.read_text())
        except ValueError:
            saved = None
    if judge_path.is_file() and saved is not None and {
            k: v for k, v in saved.items() if k != "trained"} == meta:
        judge = keras.saving.load_model(judge_path)
        log(f"Using the judge in {judge_path}")
    else:
        if judge_path.is_file():
            log(f"The judge in {judge_path} was trained with other settings or data: "
                "training a new one")
        log(f"Training the judge on {len(train_x)} real examples of {len(names)} classes ...")
        judge = train_judge(train_x, train_y, len(names), epochs=judge_epochs, seed=seed,
                            progress=progress, **JUDGE_SETTINGS)
        history = judge.history.history
        meta["trained"] = {"epochs": len(history["loss"])}
        if "val_accuracy" in history:
            best = int(np.argmin(history["val_loss"]))
            meta["trained"]["validation_accuracy"] = float(history["val_accuracy"][best])
        judge.save(judge_path)
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        meta.pop("trained")
        saved = json.loads(meta_path.read_text())
    n = num_generated or max(len(held_y), 10 * bins)
    info = {"source": str(source), "held_out": held_from,
            "judge": {**settings, **saved.get("trained", {})}}
    transform = model.spectrogram_transform()
    plan, recordings, recording_labels = _independent_judges(
        model, transform, source, held_out, names, labels, held_x, held_y, seed, judges,
        info, log)
    return Evaluation(judge, train_x, held_x, held_y, names, transform,
                      n, draws=draws, seed=seed, bins=bins, pitches=class_pitches(names),
                      info=info, model=model, judges=plan, recordings=recordings,
                      recording_labels=recording_labels)


def _independent_judges(model, transform, source, held_out, names, labels, held_x, held_y,
                        seed, mode, info, log):
    """The independent judges that apply (their plan), and the real recordings they
    hear; writes where those came from into ``info``."""
    from keras_soundgan.judges import confirm_words, plan_judges

    plan = plan_judges(names, mode, class_pitches(names))
    for note in plan.notes:
        log(note)
    if not plan.active:
        return plan, None, None
    recordings, recording_labels, described = real_recordings(
        model, source, names, held_out, seed, labels if held_out is None else None)
    if recordings is None:
        described = (f"none ({described}): the independent judges' real row is the held-out "
                     "spectrograms through the run's inverse")
    log(f"Real recordings for the independent judges: {described}")
    if plan.confirm:
        sample_rate = model.config.spectrogram.sample_rate
        if recordings is not None:
            plan, message = confirm_words(plan, recordings, sample_rate, recording_labels,
                                          "real held-out recordings")
        else:
            plan, message = confirm_words(plan, transform.inverse(held_x), sample_rate,
                                          held_y, "real held-out sounds (through the inverse)")
        log(message)
        if not plan.active:
            return plan, None, None
    info["recordings"] = described
    return plan, recordings, recording_labels


def evaluate_run(run_dir, data_dir=None, num_generated: int | None = None, seed: int = 0,
                 judge_epochs: int = 40, bins: int = 10, log=None, held_out=None,
                 draws: int = 10, judges: str = "auto", progress=None) -> dict:
    """Scores a run's generator against real data, beside real held-out data's scores.

    The judge trains on the run's training data (``data_dir`` if given): all of it
    when ``held_out`` names a folder of real held-out examples, else 80% of it, the
    other 20% (stratified) being held out. The held-out real data is scored as
    "real (held out)": the ceiling of the Inception score and accuracies, and the floor
    of the Frechet distance (real training data against real held-out data). An
    untrained generator of the same architecture is scored as the floor of the rest.
    See :class:`Evaluation` for how sets of different sizes are made comparable, and
    :func:`prepare_evaluation` for the arguments.

    For a conditional model, sounds are generated for the held-out set's labels and
    ``label_accuracy`` says how often the judge hears the class that was asked for
    (for real data: how often it hears the true class); where class names are
    pitches, ``pitch_accuracy`` says how often ``librosa.pyin`` hears the pitch.

    The independent judges (``judges``, see :func:`prepare_evaluation` and
    :mod:`keras_soundgan.judges`) score the real held-out recordings as the row
    ``"real (recordings)"``, and every other row; the generated rows' ratios of their
    scores are to the recordings'.

    ``progress``, a callable or None, is called as ``progress(stage, done, total)``
    with :func:`prepare_evaluation`'s stages, then ``"Scoring sets"``: ``done`` of the
    ``total`` rows scored (3, or 4 with the real recordings), from 0 to ``total``.
    ``keras-soundgan evaluate`` draws a bar a stage with it.

    Returns ``{"real (recordings)": Scores (only with independent judges), "real (held
    out)": Scores, "generated": Scores, "untrained": Scores, "classes": [...],
    "num_generated": n, "sample_size": ..., "draws": ..., "seed": ..., ...}``
    (everything of :meth:`Evaluation.as_dict`).
    """
    from keras_soundgan.models.soundgan import SoundGAN

    evaluation = prepare_evaluation(
        run_dir, data_dir, held_out, num_generated=num_generated, seed=seed,
        judge_epochs=judge_epochs, bins=bins, draws=draws, log=log, judges=judges,
        progress=progress)
    model = evaluation.model
    plan = evaluation.judges
    if evaluation.pitches is not None and log is not None:
        log("Class names are pitches: tracking the pitch of every sound (librosa.pyin"
            + (f"; and CREPE, {plan.frames} frames a sound" if plan.crepe else "") + ") ...")
    if plan.words and log is not None:
        log("Class names are spoken words: recognising every sound (pocketsphinx, with a "
            "grammar of the class names and with its open vocabulary) ...")

    def untrained():
        keras.utils.set_random_seed(seed)  # the untrained generator's weights
        return evaluation.score_model(SoundGAN(model.config))

    # The rows, in the order of the results: each a set of sounds to score.
    rows = [("real (held out)", lambda: evaluation.real),
            ("generated", lambda: evaluation.score_model(model)),
            ("untrained", untrained)]
    if evaluation.judged and evaluation.recordings is not None:
        rows.insert(0, ("real (recordings)", lambda: evaluation.recorded))
    report_progress = progress or (lambda stage, done, total: None)
    report_progress(_SCORING_STAGE, 0, len(rows))
    results = {}
    for done, (name, scores) in enumerate(rows, 1):
        results[name] = scores()
        report_progress(_SCORING_STAGE, done, len(rows))
    results.update(evaluation.as_dict())
    return results
