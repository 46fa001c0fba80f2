"""Data parallelism on the engines Keras already uses: ``tf.distribute`` and
``keras.distribution``.

``config.training.distribute`` picks one; :func:`distribution_for` builds it, and
:func:`keras_soundgan.train` (``keras-soundgan train --distribute ...``) creates, loads
and fits the model inside its :meth:`Distribution.scope`:

- ``none`` (any backend): one device.
- ``mirrored`` (TensorFlow): ``tf.distribute.MirroredStrategy`` over this machine's
  GPUs (or its CPUs when it has none).
- ``multi-worker`` (TensorFlow): ``tf.distribute.MultiWorkerMirroredStrategy``; every
  host in ``TF_CONFIG`` runs the same command.
- ``data-parallel`` (JAX): ``keras.distribution.DataParallel`` over every device of
  every process (``keras.distribution.initialize`` joins the processes).
- ``auto``: ``mirrored`` on TensorFlow, ``data-parallel`` on JAX.

``training.batch_size`` is the global batch, split evenly over the devices, and the
training step draws its noise for the global batch (each TensorFlow replica takes its
own rows of it; JAX sees the global batch), with the losses scaled so that the summed
gradients are the global batch's mean and BatchNorm synchronised across replicas.
N devices therefore compute what one device computes for the same global batch, up
to the order of floating-point sums (tested with two CPU devices on both engines).

This module chooses and builds the engines; inside a step, ``tf_step.py`` reads the
TensorFlow replica context (and works around two Keras issues, explained there).
"""

from __future__ import annotations

import contextlib
import json
import os

import keras

from keras_soundgan.config import SoundGANConfig

__all__ = ["JAX_PROCESS_VARIABLES", "Distribution", "distribution_for", "replica_rows",
           "resolve_kind", "synchronized_batch_norm"]

# keras.distribution.initialize() reads these when the processes are not given.
JAX_PROCESS_VARIABLES = ("KERAS_DISTRIBUTION_JOB_ADDRESSES",
                         "KERAS_DISTRIBUTION_NUM_PROCESSES",
                         "KERAS_DISTRIBUTION_PROCESS_ID")

_ENGINES = {"mirrored": "tensorflow", "multi-worker": "tensorflow",
            "data-parallel": "jax"}


class Distribution:
    """One device, or a data-parallel engine: what :func:`distribution_for` returns.

    Attributes:
        kind: ``none``, ``mirrored``, ``multi-worker`` or ``data-parallel``.
        num_replicas: how many devices share each global batch.
        is_chief: whether this process writes the run folder (the first worker or
            process; always true on one host).
        engine: the ``tf.distribute.Strategy`` or ``keras.distribution.Distribution``
            (``None`` for ``none``).
    """

    def __init__(self, kind: str, num_replicas: int = 1, is_chief: bool = True, engine=None):
        self.kind = kind
        self.num_replicas = num_replicas
        self.is_chief = is_chief
        self.engine = engine

    def scope(self):
        """The context in which models are built, loaded and fitted."""
        if self.engine is None:
            return contextlib.nullcontext()
        return self.engine.scope()

    def describe(self) -> str:
        """One line for the training log."""
        if self.engine is None:
            return "one device"
        plural = "" if self.num_replicas == 1 else "s"
        return f"{self.kind} over {self.num_replicas} device{plural}"

    def __repr__(self):
        return f"Distribution({self.kind!r}, num_replicas={self.num_replicas})"


def resolve_kind(kind: str, backend: str | None = None) -> str:
    """``auto`` to the engine of ``backend`` (default: Keras's backend), with a clear
    error for a kind the backend cannot run."""
    backend = backend or keras.backend.backend()
    if kind == "auto":
        if backend == "tensorflow":
            return "mirrored"
        if backend == "jax":
            return "data-parallel"
        raise ValueError(
            f"training.distribute='auto' has no data-parallel engine on the {backend} "
            "backend: use KERAS_BACKEND=tensorflow (mirrored, multi-worker) or "
            "KERAS_BACKEND=jax (data-parallel), or distribute='none'")
    needed = _ENGINES.get(kind)
    if needed is not None and needed != backend:
        raise ValueError(
            f"training.distribute={kind!r} runs on the {needed} backend, but Keras is "
            f"using {backend!r}: set KERAS_BACKEND={needed}"
            + (" or use distribute='data-parallel' (JAX)" if needed == "tensorflow"
               else " or use distribute='mirrored' (TensorFlow)"))
    return kind


def distribution_for(config: SoundGANConfig) -> Distribution:
    """Builds the data-parallel engine ``config.training`` asks for.

    Call it before any other TensorFlow or JAX work of the process (a
    ``MultiWorkerMirroredStrategy`` and ``keras.distribution.initialize`` must come
    first). Raises ``ValueError`` naming the field when the backend, the number of
    devices or the batch size do not fit.
    """
    t = config.training
    kind = resolve_kind(t.distribute)
    if kind == "none":
        if t.devices > 1:
            raise ValueError(f"training.devices={t.devices} needs training.distribute "
                             "(auto, mirrored, multi-worker or data-parallel)")
        return Distribution("none")
    if kind == "mirrored":
        dist = _mirrored(t.devices)
    elif kind == "multi-worker":
        dist = _multi_worker(t.devices)
    else:
        dist = _data_parallel(t.devices)
    if t.batch_size % dist.num_replicas:
        raise ValueError(
            f"training.batch_size={t.batch_size} is the global batch and must be a "
            f"multiple of the {dist.num_replicas} devices of distribute={kind!r}")
    return dist


def _take(devices, wanted, what):
    if wanted > len(devices):
        raise ValueError(f"training.devices={wanted} but this machine has "
                         f"{len(devices)} {what}: {', '.join(devices)}")
    return devices[:wanted] if wanted else devices


def _mirrored(wanted: int) -> Distribution:
    import tensorflow as tf

    gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    devices = _take(gpus or [d.name for d in tf.config.list_logical_devices("CPU")],
                    wanted, "GPUs" if gpus else "CPU devices")
    strategy = tf.distribute.MirroredStrategy(devices)
    return Distribution("mirrored", strategy.num_replicas_in_sync, True, strategy)


def _multi_worker(wanted: int) -> Distribution:
    import tensorflow as tf

    if "TF_CONFIG" not in os.environ:
        raise ValueError(
            "training.distribute='multi-worker' needs the TF_CONFIG environment variable "
            "naming every worker and this one's index (see the docs: Training on several "
            "machines); for one machine use 'mirrored'")
    try:
        cluster = json.loads(os.environ["TF_CONFIG"])
        task = cluster["task"]
        is_chief = task["type"] == "chief" or (
            task["type"] == "worker" and int(task["index"]) == 0
            and "chief" not in cluster.get("cluster", {}))
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"TF_CONFIG is not valid JSON with 'cluster' and 'task' ({e})") from None
    if wanted:
        raise ValueError("training.devices cannot be combined with 'multi-worker': every "
                         "worker uses all its GPUs (limit them with CUDA_VISIBLE_DEVICES)")
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    return Distribution("multi-worker", strategy.num_replicas_in_sync, is_chief, strategy)


def _data_parallel(wanted: int) -> Distribution:
    if all(name in os.environ for name in JAX_PROCESS_VARIABLES):
        # Several hosts: join them before JAX touches a device.
        keras.distribution.initialize()
    devices = _take(keras.distribution.list_devices(), wanted, "devices")
    engine = keras.distribution.DataParallel(devices=devices)
    is_chief = os.environ.get("KERAS_DISTRIBUTION_PROCESS_ID", "0") == "0"
    return Distribution("data-parallel", len(devices), is_chief, engine)


def replica_rows(draw, batch_size):
    """``draw(n)`` for the global batch, and the rows of it that belong to this
    TensorFlow replica (its ``batch_size`` local examples).

    Outside a multi-replica ``tf.distribute`` step this is ``draw(batch_size)``. Inside
    one, every replica draws the same global tensor (the seed state is mirrored) and
    keeps its own slice, so the noise of N replicas is the noise one device would draw.
    """
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return draw(batch_size)
    sizes = context.all_gather(tf.reshape(tf.cast(batch_size, tf.int32), [1]), axis=0)
    start = tf.reduce_sum(sizes[:context.replica_id_in_sync_group])
    everything = draw(tf.reduce_sum(sizes))
    return everything[start:start + batch_size]


def synchronized_batch_norm() -> bool:
    """Whether BatchNorm built now should average its statistics over replicas (a
    TensorFlow strategy with several replicas is in scope)."""
    if keras.backend.backend() != "tensorflow":
        return False
    import tensorflow as tf

    return tf.distribute.has_strategy() and \
        tf.distribute.get_strategy().num_replicas_in_sync > 1
