import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# JAX's persistent compilation cache, for the subprocesses that run under JAX (the
# nested model and command-line runs, the cross-backend loads): they compile the same
# small models' steps again and again, and XLA's compile dominates them. Measured on
# 2 cores (2026-12-06): test_soundgan and test_conditional_and_stabilisers under JAX
# took 86 s without it, 75 s with an empty cache, 37 s with a filled one. The cache is
# keyed by the program and XLA's flags, so a hit is the same executable; it lives in
# the system's temporary folder, so a fresh machine starts empty.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), "keras-soundgan-tests-jax-cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")


def _jax_xla_flags():
    """XLA's flags for every JAX the suite starts: the pytest workers' own
    (tests/test_jax_step.py) and the subprocesses', which inherit them.

    A few steps of a small model cost far more to compile than to run, so XLA:CPU's
    compile is made cheaper; the steps still run compiled, to the same results.
    ``--xla_backend_optimization_level=0`` skips LLVM's optimisations (about half the
    compile's CPU time, earlier). ``--xla_cpu_use_fusion_emitters=false`` has XLA emit its
    fusions with its older emitters: measured on 2 cores (2026-12-07, jax 0.10.2), the
    first ``fit`` of the small conditional-free model compiled in 1.05-1.33 s instead of
    2.58-2.87 s, and the nested JAX run of the model tests (68 tests, compile cache
    empty) took 101 s and 117 s of CPU instead of 147 s and 185 s. XLA aborts on a flag it
    does not know, so that one is given only to the jaxlib versions it was tried with
    (TensorFlow 2.21's XLA knows it too; the suite runs no TensorFlow XLA).
    """
    from importlib.metadata import PackageNotFoundError, version

    flags = "--xla_backend_optimization_level=0"
    try:
        jaxlib = tuple(int(part) for part in version("jaxlib").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return flags
    if (0, 10) <= jaxlib < (0, 11):
        flags += " --xla_cpu_use_fusion_emitters=false"
    return flags


JAX_XLA_FLAGS = _jax_xla_flags()
# XLA runs each op on one thread too, as TensorFlow does below.
os.environ.setdefault("XLA_FLAGS", JAX_XLA_FLAGS + " --xla_cpu_multi_thread_eigen=false")

# One intra-op thread per process: the suite runs two pytest workers on two cores, and
# most tests start further processes, so more threads only queue for the same cores
# (a subset of four training and export files took 149 s instead of 162 s on 2 cores,
# 2026-12-06). Values already in the environment win.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # PyTorch's CPU pool

import pytest  # noqa: E402


# The tiny preset shrunk further (32x32 images, 8 base filters), with WGAN-GP (the
# default loss) so the gradient penalty is exercised: fast steps. Also imported by the
# scripts that tests run in subprocesses (tests/distributed_fit.py).
SMALL_SETTINGS = {
    "spectrogram.slice_length": 2048,
    "spectrogram.n_fft": 64,
    "spectrogram.hop_length": 64,
    "generator.num_layers": 3,
    "generator.base_filters": 8,
    "generator.latent_dim": 16,
    "discriminator.num_layers": 3,
    "discriminator.base_filters": 8,
    "training.batch_size": 8,
    "training.n_critic": 2,
    "training.loss": "wgan-gp",
}


@pytest.fixture
def small_config():
    """The tiny preset with :data:`SMALL_SETTINGS`."""
    from keras_soundgan import SoundGANConfig

    return SoundGANConfig.from_preset("tiny", **SMALL_SETTINGS)


# The longest tests, in seconds of one run of the whole suite on 2 cores (2026-12-07,
# JAX's compile cache empty, as on a fresh machine). pytest-xdist's work stealing
# hands each of the two workers one contiguous half of the collection and lets an
# idle worker take the far end of the other's queue, so one long test left near the
# end keeps the run going on one core. These go first, each to the start of the half
# with the fewer seconds so far; the short tests fill the gaps. (Tests that share a
# module-scoped fixture stay where they are: moved, they would build it twice.)
LONGEST = {
    "tests/test_backends.py::test_model_cli_and_backend_tests_pass_under[jax]": 172,
    "tests/test_cli.py::test_default_train_with_no_arguments": 115,
    "tests/test_backends.py::test_model_cli_and_backend_tests_pass_under[torch]": 60,
    "tests/test_distribute.py::test_two_tensorflow_devices_train_like_one": 38,
    "tests/test_distribute.py::test_two_workers_train_like_one_process": 31,
    "tests/test_benchmarks.py::test_backends_benchmark_runs_keras_torch_against_plain_torch": 25,
    "tests/test_docs.py::test_page_snippets_run[docs/export.md]": 23,
    "tests/test_distribute.py::test_two_jax_devices_train_like_one": 23,
    "tests/test_docs.py::test_page_snippets_run[docs/howto/resume.md]": 18,
    "tests/test_docs.py::test_page_snippets_run[docs/howto/evaluate.md]": 17,
    "tests/test_training_runs.py::test_minutes_stops_within_one_epoch_of_the_budget_and_resumes": 16,
}


def pytest_collection_modifyitems(config, items):
    if len(items) < 2 * len(LONGEST):
        return  # a selection (a file, a nested backend run): its order is kept
    longest = sorted((item for item in items if item.nodeid in LONGEST),
                     key=lambda item: -LONGEST[item.nodeid])
    rest = [item for item in items if item.nodeid not in LONGEST]
    halves, seconds = ([], []), [0, 0]
    for item in longest:
        side = seconds.index(min(seconds))
        halves[side].append(item)
        seconds[side] += LONGEST[item.nodeid]
    first = len(items) // 2 - len(halves[0])
    items[:] = halves[0] + rest[:first] + halves[1] + rest[first:]


def pytest_sessionfinish(session, exitstatus):
    # `.ci/run` must not fail when a selection collects no test (pytest's exit code 5).
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.OK
