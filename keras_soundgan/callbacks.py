"""Callbacks for ``SoundGAN.fit``: previews, TensorBoard audio, safe checkpoints.

All of them work from Python's ``fit`` as well as from ``keras-soundgan train``::

    model.fit(dataset, epochs=100, callbacks=[
        AudioPreview("previews/", every=5),
        TensorBoardAudio("logs/", every=5),
        Checkpoint("checkpoints/"),
        TimeLimit(minutes=15),        # last: stops before a wall-clock budget runs out
    ])

Scalars for TensorBoard come from Keras's own ``keras.callbacks.TensorBoard``. NaN
losses are caught by :class:`Checkpoint`, batch by batch and again at the epoch's end,
and it never saves a non-finite state. (``keras.callbacks.TerminateOnNaN`` is not used:
it reads the ``loss`` entry of the logs, which a GAN's ``d_loss`` and ``g_loss`` are
not.)
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import keras
import numpy as np

from keras_soundgan.checks import check_integer, check_number
from keras_soundgan.files import atomic_write_text, save_model_atomically
from keras_soundgan.run_folder import CHECKPOINT_STATE, checkpoint_files, latest_checkpoint

# save_model_atomically (keras_soundgan.files) is imported here too, where it was first.
__all__ = ["AudioPreview", "Checkpoint", "TensorBoardAudio", "TimeLimit"]



class _Every(keras.callbacks.Callback):
    def __init__(self, every: int):
        super().__init__()
        self.every = check_integer(every, "every", minimum=1)

    def _due(self, epoch: int) -> bool:
        return (epoch + 1) % self.every == 0


_last_preview = {}


def _preview(model, n: int, seed: int):
    """``(images, audio)`` generated from fixed noise by ``model`` as it is now.

    The last result is kept until the model takes another step, so that
    :class:`AudioPreview` and :class:`TensorBoardAudio` at the same epoch with the
    same ``n`` and ``seed`` generate and invert the sounds once between them."""
    step = int(keras.ops.convert_to_numpy(model.optimizer.iterations)) \
        if model.optimizer is not None else None
    key = (step, n, seed)
    if _last_preview.get("model") is not model or _last_preview.get("key") != key:
        images = model.generate(n, seed=seed)
        audio = model.spectrogram_transform().inverse(images)
        _last_preview.update(model=model, key=key, result=(images, audio))
    return _last_preview["result"]


class AudioPreview(_Every):
    """Every ``every`` epochs, writes ``n`` sounds from the same fixed noise (WAV) and
    their spectrograms (PNG) to ``output_dir/epoch-XXXX_*.wav`` and ``epoch-XXXX.png``,
    so that runs can be judged by ear and by eye as they learn."""

    def __init__(self, output_dir, every: int = 5, n: int = 4, seed: int = 1234):
        super().__init__(every)
        self.output_dir, self.n, self.seed = Path(output_dir), n, seed

    def on_epoch_end(self, epoch, logs=None):
        if self._due(epoch):
            from keras_soundgan.samples import write_sounds

            images, audio = _preview(self.model, self.n, self.seed)
            write_sounds(self.output_dir, images, audio,
                         self.model.config.spectrogram.sample_rate,
                         prefix=f"epoch-{epoch + 1:04d}", png_name=f"epoch-{epoch + 1:04d}.png")


class TensorBoardAudio(_Every):
    """Every ``every`` epochs, logs generated audio (``tf.summary.audio``) and
    spectrogram images (``tf.summary.image``) from fixed noise to ``log_dir``.
    Combine with ``keras.callbacks.TensorBoard(log_dir)`` for the loss curves."""

    def __init__(self, log_dir, every: int = 5, n: int = 4, seed: int = 1234):
        super().__init__(every)
        self.log_dir, self.n, self.seed = Path(log_dir), n, seed
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        if not self._due(epoch):
            return
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.log_dir / "samples"))
        images, audio = _preview(self.model, self.n, self.seed)
        peak = np.maximum(np.abs(audio).max(axis=1, keepdims=True), 1.0)
        rate = self.model.config.spectrogram.sample_rate
        with self._writer.as_default():
            tf.summary.audio("generated", (audio / peak)[..., None], rate, step=epoch + 1,
                             max_outputs=self.n)
            tf.summary.image("spectrograms", (images[:, ::-1] + 1.0) / 2.0, step=epoch + 1,
                             max_outputs=self.n)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class Checkpoint(keras.callbacks.Callback):
    """Saves the whole model (weights, both optimizers, noise state) at the end of every
    epoch, atomically, and records the last good epoch in ``latest.json``.

    The file ``epoch-XXXX.keras`` is written under a temporary name and renamed, then
    ``latest.json`` is replaced the same way, so after a crash or ``kill -9`` the state
    points at a complete checkpoint. The newest ``keep`` checkpoints are kept.

    When a batch's loss is NaN or infinite, training stops after that batch; nothing
    is saved for its epoch, ``nan_epoch`` records the epoch (1-based), and the last
    good checkpoint stays. An epoch whose weights end non-finite is not saved either.

    Args:
        directory: the folder of the checkpoints and ``latest.json``.
        keep: int >= 1. How many of the newest checkpoints to keep.
    """

    def __init__(self, directory, keep: int = 2):
        super().__init__()
        self.keep = check_integer(keep, "keep", minimum=1)
        self.directory = Path(directory)
        self.nan_epoch = None

    @staticmethod
    def latest(directory):
        """``(epoch, path)`` of the last complete checkpoint in ``directory``, or None
        (:func:`keras_soundgan.run_folder.latest_checkpoint`: a damaged
        ``latest.json`` falls back to the newest checkpoint file)."""
        return latest_checkpoint(directory)

    def on_train_batch_end(self, batch, logs=None):
        if logs and not all(math.isfinite(float(v)) for v in logs.values()):
            self.model.stop_training = True  # stop now; on_epoch_end will not save

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        finite = all(math.isfinite(float(v)) for v in logs.values()) and all(
            np.isfinite(keras.ops.convert_to_numpy(v)).all()
            for v in self.model.trainable_variables)
        if not finite:
            self.nan_epoch = epoch + 1
            self.model.stop_training = True
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch + 1:04d}.keras"
        save_model_atomically(self.model, self.directory / name)
        atomic_write_text(self.directory / CHECKPOINT_STATE, json.dumps(
            {"epoch": epoch + 1, "file": name,
             "step": int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)),
             "logs": {k: float(v) for k, v in logs.items()}}, indent=2) + "\n")
        for _, path in checkpoint_files(self.directory)[:-self.keep]:
            path.unlink(missing_ok=True)



class TimeLimit(keras.callbacks.Callback):
    """Stops training at the end of an epoch so that it fits a wall-clock budget.

    The clock starts with training (``on_train_begin``: the first epoch's graph tracing
    counts). At the end of every epoch, training stops if one more epoch would end past
    the budget. An epoch is expected to take as long as the last one did, from the end
    of the epoch before (other callbacks' saving included); for the first epoch, whose
    first step also traces and compiles the graph, the steps after the first one are
    timed instead. So training ends less than about one epoch before the budget, never
    after it by more than the epochs' variation; the first epoch always runs, however
    long it takes.

    Put it after the other callbacks, so that their end-of-epoch work (a
    :class:`Checkpoint`) counts in the epoch's time.

    Args:
        minutes: float > 0. The budget, in minutes.

    Attributes:
        elapsed: float. Seconds from the start of training to the end of the last epoch.
        stopped_epoch: int or None. The epoch (1-based) after which the budget stopped
            training, or None while it has not.
    """

    def __init__(self, minutes: float):
        super().__init__()
        self.minutes = check_number(minutes, "minutes", minimum=0, strict=True)
        self.elapsed = 0.0
        self.stopped_epoch = None
        self._start = self._last = self._first_step = None
        self._steps = 0
        self._epochs = 0

    def on_train_begin(self, logs=None):
        self._start = self._last = time.monotonic()
        self.elapsed = 0.0
        self.stopped_epoch = None
        self._epochs = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._steps += 1
        if self._steps == 1:
            self._first_step = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        now = time.monotonic()
        epoch_seconds = now - self._last
        if self._epochs == 0 and self._steps > 1:
            # The first step traced and compiled: time the others, as a whole epoch.
            epoch_seconds = (now - self._first_step) * self._steps / (self._steps - 1)
        self._epochs += 1
        self._last = now
        self.elapsed = now - self._start
        if self.elapsed + epoch_seconds > self.minutes * 60:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True
