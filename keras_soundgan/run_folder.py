"""The run folder: its layout, and its readers (all but :func:`load_model_file` without
Keras or TensorFlow).

A run folder holds everything needed to listen to, continue or export a model::

    RUN_DIR/
      config.json         the full SoundGANConfig (every section, every field)
      data.json           where the training data came from, and its class names
      statistics.npz      the spectrogram statistics on their own (mean, std, config)
      checkpoints/        epoch-XXXX.keras (the last two) and latest.json, written
                          atomically at the end of every epoch: what --resume reads
      previews/           epoch-XXXX_*.wav and epoch-XXXX.png from fixed noise, every
                          few epochs
      logs/               TensorBoard: loss curves, generated audio and spectrograms
      history.csv         the losses of every epoch, appended as training goes
      model.keras         the trained SoundGAN when training ends (both networks,
                          optimizer state and the spectrogram statistics)
      samples/            sample_00.wav ... and spectrograms.png, generated at the end

The first three are written before the first step, so a run can always be resumed
(``keras-soundgan train --resume RUN_DIR``) from its last complete epoch.
:mod:`keras_soundgan.runs` writes it; this module reads it (``keras-soundgan runs``,
``--resume latest``) fast enough for the command line, which imports no Keras to list.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import warnings
import zipfile
from pathlib import Path

__all__ = [
    "CHECKPOINTS_DIR", "CHECKPOINT_STATE", "CONFIG_FILE", "DATA_FILE", "EMBEDDED",
    "HISTORY_FILE", "LOGS_DIR", "MODEL_FILE", "PREVIEWS_DIR", "RUNS_ROOT", "SAMPLES_DIR",
    "STATISTICS_FILE", "RunSummary", "checkpoint_files", "class_names_of_run",
    "describe_run", "find_run", "latest_checkpoint", "list_runs", "model_damage",
    "model_file", "read_data", "read_history",
]

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.json"
STATISTICS_FILE = "statistics.npz"
HISTORY_FILE = "history.csv"
DATA_FILE = "data.json"
SAMPLES_DIR = "samples"
CHECKPOINTS_DIR = "checkpoints"
CHECKPOINT_STATE = "latest.json"
PREVIEWS_DIR = "previews"
LOGS_DIR = "logs"
#: ``data.json``'s source for the embedded drum kit.
EMBEDDED = "embedded drum kit"
#: Where ``keras-soundgan train`` puts run folders by default.
RUNS_ROOT = "runs"


def read_data(run_dir) -> dict:
    """A run's ``data.json``: ``{"source": folder or EMBEDDED, "class_names": [...]}``.

    Raises:
        FileNotFoundError: the run has none.
        ValueError: it is damaged (named).
    """
    path = Path(run_dir) / DATA_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("class_names", []), list):
            raise ValueError("not an object with a class_names list")
    except FileNotFoundError:
        raise FileNotFoundError(f"{os.fspath(path)!r} does not exist (is "
                                f"{os.fspath(run_dir)!r} a run folder?)") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{os.fspath(path)} is damaged: {error}") from None
    return data


def class_names_of_run(run_dir) -> tuple:
    """The class names a run was trained with (from ``data.json``), or ``()``."""
    path = Path(run_dir) / DATA_FILE
    if not path.is_file():
        return ()
    return tuple(read_data(run_dir).get("class_names", ()))


def checkpoint_files(directory):
    """``[(epoch, path)]`` of the ``epoch-XXXX.keras`` files in ``directory``, oldest
    first (by number: epoch 10000 comes after 9999)."""
    found = []
    for path in Path(directory).glob("epoch-*.keras"):
        number = path.stem.removeprefix("epoch-")
        if number.isdigit():
            found.append((int(number), path))
    return sorted(found)


def latest_checkpoint(directory):
    """``(epoch, path)`` of the last complete checkpoint in ``directory``, or None.

    A damaged ``latest.json`` (a disk that filled up, a hand edit) does not lose the
    run: the newest ``epoch-XXXX.keras`` is used instead (checkpoints are written
    under a temporary name and renamed, so each one is complete), with a warning.
    """
    directory = Path(directory)
    state = directory / CHECKPOINT_STATE
    if not state.is_file():
        return None
    try:
        info = json.loads(state.read_text(encoding="utf-8"))
        epoch, path = int(info["epoch"]), directory / str(info["file"])
    except (OSError, UnicodeDecodeError, ValueError, TypeError, KeyError) as error:
        found = checkpoint_files(directory)
        warnings.warn(f"{state} is damaged ({type(error).__name__}: {error}); "
                      + (f"using the newest checkpoint, {found[-1][1].name}" if found
                         else "and there is no checkpoint beside it"), stacklevel=2)
        return found[-1] if found else None
    if not path.is_file():
        return None
    return epoch, path


def read_history(run_dir) -> dict:
    """The losses of every epoch of a run, ``{"d_loss": [...], ...}`` (from
    ``history.csv``; an epoch logged twice because of a resume counts once)."""
    path = Path(run_dir) / HISTORY_FILE
    if not path.is_file():
        return {}
    rows = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows[int(row.pop("epoch"))] = row
    # CSVLogger adds empty ("NA") val_ columns: SoundGAN has no validation losses.
    keys = sorted({k for row in rows.values() for k, v in row.items() if v != "NA"})
    return {k: [float(rows[e][k]) for e in sorted(rows)] for k in keys}


def model_file(run_dir: str | os.PathLike) -> tuple[Path, str | None]:
    """The ``.keras`` file that holds a run's model: ``(path, note)``.

    ``RUN_DIR/model.keras`` when training finished; otherwise (a run stopped by Ctrl-C,
    SIGTERM, ``kill -9`` or a crash) its last complete checkpoint, with ``note``
    saying so (``None`` for ``model.keras``).

    Raises:
        FileNotFoundError: the folder does not exist, or holds neither ``model.keras``
            nor a checkpoint.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise FileNotFoundError(f"run folder {os.fspath(run_dir)!r} does not exist")
    path = run / MODEL_FILE
    if path.is_file():
        return path, None
    latest = latest_checkpoint(run / CHECKPOINTS_DIR)
    if latest is None:
        what = ("its training stopped before the first epoch ended"
                if (run / CONFIG_FILE).is_file() else "is it a run folder?")
        raise FileNotFoundError(
            f"{os.fspath(run_dir)!r} holds no {MODEL_FILE} and no checkpoint ({what})")
    epoch, path = latest
    return path, (f"{os.fspath(run_dir)} has no {MODEL_FILE} (its training did not finish): "
                  f"using its last checkpoint, epoch {epoch} ({path})")


def model_damage(path) -> str | None:
    """What is wrong with a ``.keras`` file that is not a whole one, or None."""
    try:
        if os.path.getsize(path) == 0:
            return "it is empty (0 bytes)"
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()  # reads every member and checks its CRC
            names = set(archive.namelist())
    except zipfile.BadZipFile as e:
        return f"it is not a complete .keras (zip) archive: {e}"
    except (EOFError, OSError) as e:
        return f"it cannot be read whole: {e}"
    if bad is not None:
        return f"its {bad} fails its checksum"
    missing = {"config.json", "metadata.json"} - names
    if missing:
        return f"it lacks the {' and '.join(sorted(missing))} of a .keras file"
    return None


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """What ``keras-soundgan runs`` shows of a run folder.

    Attributes:
        path: the folder.
        preset: the config's name (the preset it started from), or None.
        epochs: epochs completed (the last checkpoint's, else ``history.csv``'s).
        classes: the class names (empty: unconditional or unlabelled).
        state: ``"complete"`` (``model.keras``), ``"interrupted"`` (checkpoints only:
            resume it), ``"not started"`` (no epoch finished) or ``"damaged"``.
        problem: what is damaged, or None.
        modified: the time of the folder's newest file (seconds since the epoch).
    """

    path: Path
    preset: str | None
    epochs: int
    classes: tuple
    state: str
    problem: str | None
    modified: float

    def as_dict(self) -> dict:
        return {**dataclasses.asdict(self), "path": os.fspath(self.path),
                "classes": list(self.classes)}


def describe_run(run_dir) -> RunSummary:
    """A :class:`RunSummary` of ``run_dir``, which is checked, never loaded."""
    run = Path(run_dir)
    problems = []
    preset = None
    try:
        preset = json.loads((run / CONFIG_FILE).read_text(encoding="utf-8")).get("name")
    except FileNotFoundError:
        problems.append(f"no {CONFIG_FILE}")
    except (ValueError, UnicodeDecodeError, AttributeError) as error:
        problems.append(f"{CONFIG_FILE} is damaged ({error})")
    classes = ()
    try:
        classes = tuple(read_data(run).get("class_names", ()))
    except (FileNotFoundError, ValueError) as error:
        problems.append(str(error).replace(os.fspath(run / DATA_FILE), DATA_FILE))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        latest = latest_checkpoint(run / CHECKPOINTS_DIR)
    problems += [str(w.message).split(" (")[0].replace(os.fspath(run) + os.sep, "")
                 for w in caught]
    history = read_history(run) if (run / HISTORY_FILE).is_file() else {}
    epochs = latest[0] if latest else len(next(iter(history.values()), []))
    model = run / MODEL_FILE
    if model.is_file():
        damage = model_damage(model)
        if damage:
            problems.append(f"{MODEL_FILE}: {damage}")
        state = "complete"
    elif latest:
        state = "interrupted"
    else:
        state = "not started"
    if problems:
        state = "damaged"
    files = [p for p in run.rglob("*") if p.is_file()] or [run]
    return RunSummary(path=run, preset=preset, epochs=epochs, classes=classes, state=state,
                      problem="; ".join(problems) or None,
                      modified=max(p.stat().st_mtime for p in files))


def _is_run(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in
                                 (CONFIG_FILE, MODEL_FILE, CHECKPOINTS_DIR))


def list_runs(root=RUNS_ROOT) -> list:
    """:class:`RunSummary` of every run folder directly under ``root``, oldest first
    (by their newest file)."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted((describe_run(p) for p in root.iterdir() if _is_run(p)),
                  key=lambda summary: summary.modified)


def find_run(name, root=RUNS_ROOT) -> Path:
    """The run folder ``name`` stands for: a folder path; ``"latest"``, the run under
    ``root`` written to last; or a run's folder name under ``root``.

    Raises:
        FileNotFoundError: no such run (the error lists those under ``root``).
    """
    path = Path(name)
    if path.is_dir():
        return path
    runs = list_runs(root)
    if name == "latest" and runs:
        return runs[-1].path
    if (Path(root) / name).is_dir() and os.sep not in str(name):
        return Path(root) / name
    known = ", ".join(r.path.name for r in runs[-5:]) or "none"
    raise FileNotFoundError(f"no run {os.fspath(name)!r}: not a folder, and the newest "
                            f"runs under {os.fspath(root)}/ are: {known}")


def load_model_file(path: str | os.PathLike, *, run_dir=None, compile: bool = True):
    """``keras.saving.load_model(path)`` for a SoundGAN ``.keras`` file, with an error
    that says the file is damaged when it is (Keras reports a truncated file as "File
    not found").

    Args:
        path: str or path-like. The ``.keras`` file.
        run_dir: str, path-like or None. The run folder it belongs to: the error then
            names the run's last checkpoint. Defaults to None.
        compile: bool. Passed to ``keras.saving.load_model``. Defaults to True.

    Raises:
        ValueError: the file is damaged (cut short, not a ``.keras`` archive, a member
            failing its checksum).
    """
    import keras  # SoundGAN is registered with Keras: keras_soundgan.registration

    path = Path(path)
    try:
        return keras.saving.load_model(path, compile=compile)
    except Exception as error:  # noqa: BLE001 - re-raised unless the file is damaged
        problem = model_damage(path)
        if problem is None:
            raise
        hint = ""
        if run_dir is not None and path.name == MODEL_FILE:
            latest = latest_checkpoint(Path(run_dir) / CHECKPOINTS_DIR)
            if latest is not None:
                hint = (f"; the run's last checkpoint is epoch {latest[0]} ({latest[1]}): "
                        f"remove the damaged {MODEL_FILE} and it is used instead")
        raise ValueError(f"{os.fspath(path)} is damaged: {problem}{hint}") from error
