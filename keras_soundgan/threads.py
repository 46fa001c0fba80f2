"""CPU threads: how many each framework uses, and how its idle threads wait.

Every framework reads its thread settings from the environment when it starts, so
:func:`set_thread_environment` sets them before TensorFlow, PyTorch or JAX is imported
(the command line calls it first thing, and passes ``--threads`` on):

* ``GOMP_SPINCOUNT=1000``, unless the environment sets it or ``OMP_WAIT_POLICY``.
  PyTorch's CPU operations run on an OpenMP pool (GNU libgomp in the PyPI wheels),
  whose idle threads spin 300,000 times by default before they sleep. With another
  process busy on the same cores they spin on the cores the working thread needs.
  ``keras-soundgan train`` on PyTorch (10 epochs of the ``tiny`` preset, 2 threads on
  2 cores, 2026-12-06, ``python benchmarks/busy_cpu.py``) took 35.2 s with 1000
  spins against 61.5 s with libgomp's default while a third process kept a core
  busy, and 24.7 s against 25.0 s on the quiet machine (no spinning at all,
  ``OMP_WAIT_POLICY=PASSIVE``: 33.9 s and 26.5 s). TensorFlow and JAX keep pools of
  their own, which this setting does not touch.
* With ``threads``, in place of what the environment holds: ``TF_NUM_INTRAOP_THREADS``
  and ``TF_NUM_INTEROP_THREADS`` (TensorFlow, which runs the spectral transforms on
  every backend), ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS`` (PyTorch's intra-op pool
  and the libraries below it) and, on JAX, XLA's flags for one thread
  (``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``). XLA has no
  setting for another number, so JAX takes ``threads=1`` or none.

Example:

>>> from keras_soundgan.threads import thread_environment
>>> thread_environment(1, "torch")["OMP_NUM_THREADS"]
'1'
>>> thread_environment(None, "tensorflow")
{'GOMP_SPINCOUNT': '1000'}
"""

from __future__ import annotations

import os
import sys

from keras_soundgan.checks import check_integer

__all__ = ["THREADS_VARIABLE", "set_thread_environment", "thread_environment"]

#: The environment variable that gives the command line's ``--threads``.
THREADS_VARIABLE = "KERAS_SOUNDGAN_THREADS"

# XLA's CPU flags for one thread (JAX reads XLA_FLAGS when its CPU client starts).
_XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
# The modules that read these variables when they are first imported.
_FRAMEWORKS = ("tensorflow", "torch", "jax")


def thread_environment(threads: int | None, backend: str) -> dict[str, str]:
    """The environment variables that give every framework ``threads`` CPU threads
    (None: each framework's own default, all cores) and OpenMP threads that spin
    briefly before they sleep.

    Args:
        threads: int or None. Threads per framework pool, at least 1.
        backend: str. The Keras backend, ``"tensorflow"``, ``"jax"`` or ``"torch"``
            (JAX takes only ``threads=1``).

    Returns:
        A dict of variable names to values; ``XLA_FLAGS`` holds only the flags to add.
    """
    env = {"GOMP_SPINCOUNT": "1000"}
    if threads is None:
        return env
    threads = check_integer(threads, "threads", minimum=1)
    if backend == "jax" and threads != 1:
        raise ValueError(
            f"threads={threads} cannot be given to JAX: XLA's CPU backend runs on one "
            f"thread or on all cores (XLA has no setting for another number); use "
            f"threads=1, or none for all cores")
    value = str(threads)
    env.update({"TF_NUM_INTRAOP_THREADS": value, "TF_NUM_INTEROP_THREADS": value,
                "OMP_NUM_THREADS": value, "MKL_NUM_THREADS": value})
    if backend == "jax":
        env["XLA_FLAGS"] = _XLA_ONE_THREAD
    return env


def set_thread_environment(threads: int | None = None, backend: str | None = None,
                           environ=None) -> dict[str, str]:
    """Sets :func:`thread_environment` in ``environ`` (default ``os.environ``): the
    thread counts in place of those there, ``GOMP_SPINCOUNT`` only where neither it
    nor ``OMP_WAIT_POLICY`` is set, XLA's flags appended to ``XLA_FLAGS``. Returns
    what was set.

    Call it before TensorFlow, PyTorch or JAX is imported: they read these variables
    when they start.

    Args:
        threads: int or None. See :func:`thread_environment`.
        backend: str or None. The Keras backend; default ``KERAS_BACKEND``, else
            ``"tensorflow"`` (Keras's default).
        environ: the mapping to change (for subprocesses); default ``os.environ``.

    Raises:
        RuntimeError: ``threads`` is given and a framework is imported already, so
            that the setting would not take effect.
    """
    environ = os.environ if environ is None else environ
    backend = backend or environ.get("KERAS_BACKEND") or "tensorflow"
    wanted = thread_environment(threads, backend)
    started = [name for name in _FRAMEWORKS if name in sys.modules]
    if threads is not None and started and environ is os.environ:
        raise RuntimeError(
            f"threads={threads} must be set before {' and '.join(started)} "
            f"{'is' if len(started) == 1 else 'are'} imported: they read their thread "
            f"settings when they start")
    changed = {}
    for name, value in wanted.items():
        if name == "XLA_FLAGS":
            value = (environ.get(name, "") + " " + value).strip()
        elif name == "GOMP_SPINCOUNT" and (name in environ or "OMP_WAIT_POLICY" in environ):
            continue  # the user's choice of waiting
        changed[name] = environ[name] = value
    return changed
