"""Writing files so that a crash, ``kill -9`` or Ctrl-C never leaves half of one.

Shared by :mod:`keras_soundgan.callbacks` (checkpoints) and :mod:`keras_soundgan.runs`
(the run folder), so that neither imports the other for it. Each writes to a
temporary file beside the target, forces it to disk and renames it over the target:
a reader sees the old file or the new one, never a mix. On failure the temporary file
is removed.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["atomic_write_text", "save_model_atomically"]


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes ``text`` (UTF-8) to ``path`` through a temporary file and a rename.

    Args:
        path: str or path-like. The file to write (its folder must exist).
        text: str. The whole content.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def save_model_atomically(model, path: str | os.PathLike) -> None:
    """``model.save(path)`` through a temporary file and a rename: a reader (or a
    resume after ``kill -9``) sees the old file or the new one, never half of one.

    Args:
        model: keras.Model. The model to save.
        path: str or path-like. The ``.keras`` file to write.
    """
    from keras_soundgan.internals import cache_saving_skipsets

    cache_saving_skipsets()  # a save in about half the time (see internals)
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}.keras")
    try:
        model.save(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
