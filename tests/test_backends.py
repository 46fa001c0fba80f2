"""SoundGAN on every Keras backend, from the one ``python -m pytest`` command.

The Keras backend is fixed when keras is first imported, so the other backends run in
subprocesses with ``KERAS_BACKEND`` set:

* the model and network tests (test_soundgan.py, test_networks.py, test_augment.py,
  test_conditional_and_stabilisers.py), the command line's train, SIGTERM, resume and
  evaluate once each, and the tests of what differs between backends (the inverse of
  the backend's tensors, the export, the judge's compilation), in one nested pytest
  run under each backend other than this session's (one process start and one JAX
  compile cache for all); a nested run fails here on a failure, on a skip, on nothing
  collected and on a named test missing (its JUnit report is read), so that a test
  cannot quietly stop running under one backend;
* a ``.keras`` file saved under this session's backend (TensorFlow by default) loads
  under each other backend with the same weights, optimizer state and noise state, and
  training continues there;
* the same weights and the same noise give the same spectrograms on every backend.

jax and torch come with the ``test`` extra; a missing one fails these tests instead of
skipping them. Two knobs only make the subprocesses cheaper on small shared CPUs, and
each yields to a value already in the environment: torch gets ``OMP_NUM_THREADS=1``
(OpenMP threads busy-wait, and on 2 loaded cores a torch convolution ran about 15x
slower with 2 threads than with 1), and JAX inherits the suite's ``XLA_FLAGS``
(tests/conftest.py: JAX's train steps still run under ``jit``, but XLA's CPU compile,
which dominates tests of a few steps, is made cheaper, and each op runs on one thread,
as TensorFlow's do).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import keras
import numpy as np
import pytest

from keras_soundgan import SoundGAN

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("tensorflow", "jax", "torch")
OTHER_BACKENDS = [b for b in BACKENDS if b != keras.backend.backend()]
# Two float32 implementations of the same convolutions differ by rounding only: about
# 3e-7 was measured for this model, whose images (tanh outputs) reach about 0.8.
SAME_IMAGES_ATOL = 1e-5


def _require(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.fail(
            f"{backend} is not installed, so SoundGAN cannot be tested with "
            f"KERAS_BACKEND={backend}. The test extra installs every backend: "
            f"pip install -e '.[test]'",
            pytrace=False,
        )


def _run(backend, args, timeout, what=None):
    """Runs ``python args...`` from the repository root with ``KERAS_BACKEND=backend``;
    ``what`` names it in a failure message (default: the command line)."""
    _require(backend)
    env = dict(os.environ, KERAS_BACKEND=backend)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if backend == "torch":
        env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
    output = (proc.stdout + proc.stderr)[-6000:]
    what = what or f"`python {' '.join(args)}`"
    assert proc.returncode == 0, (
        f"under KERAS_BACKEND={backend}, {what} exited with {proc.returncode}; the end "
        f"of its output:\n{output}")
    return proc


# The tests of the model, its networks and its training.
MODEL_TESTS = ["tests/test_soundgan.py", "tests/test_networks.py", "tests/test_augment.py",
               "tests/test_conditional_and_stabilisers.py"]
# Tests of a backend's own step module that need that backend (jax_step's rewrite of the
# step's convolutions against XLA's own, in training).
STEP_TESTS = {"jax": ["tests/test_jax_step.py"]}
# The command line's train (stopped by SIGTERM, resumed, generate and export from the
# checkpoint) and evaluate, once under each other backend.
CLI_TESTS = [
    "tests/test_training_runs.py::test_sigterm_is_handled_like_ctrl_c_then_generate_and_resume",
    "tests/test_cli.py::test_evaluate_scores_the_run_beside_real_data",
]
# What differs from backend to backend: the inverse takes the backend's tensors and
# gives NumPy; a model built there exports through the TensorFlow subprocess; the judge
# trains compiled where the backend can.
BACKEND_TESTS = [
    "tests/test_spectral.py::test_inverse_takes_the_backends_tensors_and_gives_numpy",
    "tests/test_export.py::test_a_model_of_this_backend_exports_its_own_images",
    "tests/test_metrics.py::test_the_judge_trains_compiled_where_the_backend_can",
]
# Eager-only tests too slow on one backend, and what covers their subject there.
SLOW_EAGER_TESTS = {
    # 30 eager training calls of keras.layers.SpectralNormalization: its ops.cond
    # compiles anew on every eager JAX call (about 3 s each, 96 s in all). Spectral
    # normalisation under JAX is trained (jitted) by test_soundgan and
    # test_conditional_and_stabilisers.
    "jax": ["tests/test_networks.py::test_spectral_normalisation_bounds_each_layer"],
}


def _nested_pytest(backend, tests, tmp_path, deselect=()):
    """Runs ``pytest tests...`` under ``backend`` in a subprocess; fails on a failure, on
    a skip (a test that cannot run under a backend is deselected above, with the reason)
    and on nothing collected. Returns the counts and the names of the tests run
    (``file::name``, parameters included)."""
    report = tmp_path / f"{backend}.xml"
    args = ["-m", "pytest", *tests, *(a for test in deselect for a in ("--deselect", test)),
            "-q", "-p", "no:cacheprovider", "-n", "0", f"--junitxml={report}"]
    _run(backend, args, timeout=1200)
    suite = ElementTree.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    cases = list(suite.iter("testcase"))
    skipped = [case.get("classname", "") + "::" + case.get("name", "")
               for case in cases if case.find("skipped") is not None]
    assert counts["tests"] > 0, f"under {backend}, no test was collected from {tests}"
    assert not skipped, f"under {backend}, these tests were skipped: {skipped}"
    names = {"tests/" + case.get("classname", "").split(".")[-1] + ".py::" + case.get("name")
             for case in cases}
    return counts, names


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_model_cli_and_backend_tests_pass_under(backend, tmp_path):
    named = [*CLI_TESTS, *BACKEND_TESTS]
    counts, names = _nested_pytest(
        backend, [*MODEL_TESTS, *STEP_TESTS.get(backend, []), *named], tmp_path,
        deselect=SLOW_EAGER_TESTS.get(backend, []))
    assert counts["tests"] >= 50 + len(named), counts  # the model files hold more than 50
    missing = [test for test in named if test not in names]
    assert not missing, f"under {backend}, these tests did not run: {missing}"


# -- a model saved here, loaded under the other backends -------------------------------

_LOAD_AND_CONTINUE = r"""
import json, sys
import keras
import numpy as np
from keras_soundgan import SoundGAN  # noqa: F401  (registers SoundGAN for loading)

path, out = sys.argv[1], sys.argv[2]
model = keras.saving.load_model(path + "/model.keras")
data = np.load(path + "/reference.npz")["data"]
to_np = keras.ops.convert_to_numpy


def numbered(key, variables):
    return {f"{key}_{i}": to_np(v) for i, v in enumerate(variables)}


arrays = {"images": model.generate(6, seed=11), "seed_state": to_np(model.seed_generator.state),
          **numbered("weights", model.weights),
          **numbered("optimizer_variables", model.optimizer.variables)}
history = model.fit(data, batch_size=8, epochs=1, verbose=0, shuffle=False)
arrays.update(numbered("trained_weights", model.trainable_weights))
np.savez(out + "/arrays.npz", **arrays)
with open(out + "/result.json", "w") as f:
    json.dump({"backend": keras.backend.backend(), "history": history.history,
               "iterations": [int(model.optimizer.iterations),
                              int(model.d_optimizer.iterations),
                              int(model.g_optimizer.iterations)]}, f)
"""

_saved = {}
_continued = {}


@pytest.fixture
def saved(small_config, tmp_path_factory):
    """A SoundGAN (BatchNorm in its generator) trained 2 steps here and saved, once."""
    if not _saved:
        config = small_config.with_overrides({"generator.normalization": "batch",
                                              "training.loss": "wgan-gp"})
        path = tmp_path_factory.mktemp("saved_here")
        data = np.random.default_rng(0).uniform(
            -1, 1, (16, *config.spectrogram.image_shape)).astype("float32")
        model = SoundGAN(config)
        model.compile()
        model.fit(data, batch_size=8, epochs=1, verbose=0)
        # A fresh generator's images stay near 0; a larger last layer spreads them
        # over tanh's whole range, so that the cross-backend comparison means something.
        # generate() draws from the moving average of the generator where there is one
        # (the tiny preset keeps one), so its last layer is scaled too.
        for generator in filter(None, (model.generator, model.ema_generator)):
            last = [layer for layer in generator.layers
                    if layer.name.endswith("_deconv")][-1]
            last.kernel.assign(last.kernel * 30.0)
        model.save(path / "model.keras")
        to_np = keras.ops.convert_to_numpy
        np.savez(path / "reference.npz", data=data)
        _saved.update(
            path=path, model=model, images=model.generate(6, seed=11),
            weights=[to_np(v) for v in model.weights],
            optimizer_variables=[to_np(v) for v in model.optimizer.variables],
            seed_state=to_np(model.seed_generator.state))
    return _saved


def _load_and_continue_under(backend, saved, tmp_path_factory):
    """Runs the loading script once per backend; returns its JSON and arrays."""
    if backend not in _continued:
        out = tmp_path_factory.mktemp(f"loaded_under_{backend}")
        _continued[backend] = None  # a failure fails the other test without a rerun
        _run(backend, ["-c", _LOAD_AND_CONTINUE, str(saved["path"]), str(out)], timeout=600,
             what="the script that loads the saved model and trains it further")
        with open(out / "result.json") as f:
            result = json.load(f)
        arrays = dict(np.load(out / "arrays.npz"))
        for key in ("weights", "optimizer_variables", "trained_weights"):
            n = len([k for k in arrays if k.startswith(key + "_")])
            result[key] = [arrays[f"{key}_{i}"] for i in range(n)]
        result.update(images=arrays["images"], seed_state=arrays["seed_state"])
        _continued[backend] = result
    if _continued[backend] is None:
        pytest.fail(f"loading the saved model under {backend} failed (see the test "
                    f"above)", pytrace=False)
    return _continued[backend]


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_keras_file_saved_here_loads_and_continues_training_under(backend, saved,
                                                                   tmp_path_factory):
    result = _load_and_continue_under(backend, saved, tmp_path_factory)
    assert result["backend"] == backend
    assert len(result["weights"]) == len(saved["weights"])
    for loaded, original, var in zip(result["weights"], saved["weights"],
                                     saved["model"].weights):
        np.testing.assert_array_equal(loaded, original, err_msg=var.path)
    assert len(result["optimizer_variables"]) == len(saved["optimizer_variables"])
    for loaded, original in zip(result["optimizer_variables"], saved["optimizer_variables"]):
        np.testing.assert_array_equal(loaded, original)
    np.testing.assert_array_equal(result["seed_state"], saved["seed_state"])
    # 2 more steps after the 2 made here, n_critic = 2 critic updates each.
    assert result["iterations"] == [4, 8, 4]
    assert set(result["history"]) == {"d_loss", "g_loss", "gradient_penalty"}
    assert all(np.all(np.isfinite(v)) for v in result["history"].values())
    trainable = saved["model"].trainable_weights
    assert len(result["trained_weights"]) == len(trainable)
    moved = [not np.allclose(after, keras.ops.convert_to_numpy(var))
             for after, var in zip(result["trained_weights"], trainable)]
    # Only WGAN-GP's last critic bias has an exactly zero gradient.
    assert sum(moved) >= len(trainable) - 1


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_same_weights_and_noise_give_the_same_spectrograms_under(backend, saved,
                                                                 tmp_path_factory):
    result = _load_and_continue_under(backend, saved, tmp_path_factory)
    assert result["images"].shape == saved["images"].shape == (6, 32, 32, 1)
    assert np.abs(saved["images"]).max() > 0.5  # images that use tanh's range
    np.testing.assert_allclose(result["images"], saved["images"], rtol=0,
                               atol=SAME_IMAGES_ATOL)
