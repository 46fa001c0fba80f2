"""CPU threads: the environment each framework reads, and the command line's --threads."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from keras_soundgan.cli import main
from keras_soundgan.threads import (THREADS_VARIABLE, set_thread_environment,
                                    thread_environment)

ROOT = Path(__file__).resolve().parent.parent
COUNTS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS",
          "MKL_NUM_THREADS")


def test_no_count_leaves_the_pools_alone_and_shortens_openmps_spinning():
    for backend in ("tensorflow", "jax", "torch"):
        assert thread_environment(None, backend) == {"GOMP_SPINCOUNT": "1000"}


@pytest.mark.parametrize("backend", ["tensorflow", "torch"])
def test_a_count_goes_to_every_pool(backend):
    env = thread_environment(np.int64(3), backend)
    assert {name: env[name] for name in COUNTS} == dict.fromkeys(COUNTS, "3")
    assert "XLA_FLAGS" not in env


def test_jax_takes_one_thread_through_xlas_flags_and_refuses_more():
    assert "--xla_cpu_multi_thread_eigen=false" in thread_environment(1, "jax")["XLA_FLAGS"]
    with pytest.raises(ValueError, match="threads=2 cannot be given to JAX"):
        thread_environment(2, "jax")


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_a_bad_count_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        thread_environment(bad, "torch")


def test_counts_replace_the_environments_and_the_spinning_yields_to_it():
    environ = {"OMP_NUM_THREADS": "8", "OMP_WAIT_POLICY": "ACTIVE",
               "XLA_FLAGS": "--xla_backend_optimization_level=0"}
    changed = set_thread_environment(1, "jax", environ=environ)
    assert environ["OMP_NUM_THREADS"] == "1" == changed["OMP_NUM_THREADS"]
    # The user's own wait policy (or spin count) stands.
    assert "GOMP_SPINCOUNT" not in environ and "GOMP_SPINCOUNT" not in changed
    assert environ["XLA_FLAGS"].startswith("--xla_backend_optimization_level=0 --xla_cpu")
    assert set_thread_environment(None, "torch", environ={"GOMP_SPINCOUNT": "5"}) == {}
    assert set_thread_environment(None, "torch", environ={}) == {"GOMP_SPINCOUNT": "1000"}


def test_a_count_after_a_framework_started_is_refused(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", sys.modules.get("torch", object()))
    for name in COUNTS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="threads=2 must be set before .*torch"):
        set_thread_environment(2, "torch")
    assert "OMP_NUM_THREADS" not in os.environ  # nothing half-set


def test_the_command_line_refuses_a_bad_count_before_anything_runs(monkeypatch):
    runner = CliRunner()
    result = runner.invoke(main, ["--threads", "0", "presets"])
    assert result.exit_code == 2 and "--threads" in result.output
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv(THREADS_VARIABLE, "2")
    result = runner.invoke(main, ["presets"])
    assert result.exit_code == 2, result.output
    assert "threads=2 cannot be given to JAX" in result.output


CHILD = """
import json, os, sys
from keras_soundgan.cli import main
main.main(sys.argv[1:], standalone_mode=False)
import torch
names = ("GOMP_SPINCOUNT", "OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")
print(json.dumps({"threads": torch.get_num_threads(),
                  "env": {name: os.environ.get(name) for name in names}}))
"""


@pytest.mark.parametrize("args, threads", [(["presets"], None),
                                           (["--threads", "1", "presets"], 1)])
def test_the_command_line_sets_the_threads_before_pytorch_starts(args, threads):
    env = {k: v for k, v in os.environ.items()
           if k not in (*COUNTS, "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", THREADS_VARIABLE)}
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=ROOT, capture_output=True,
                          text=True, env=dict(env, KERAS_BACKEND="torch"), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["env"]["GOMP_SPINCOUNT"] == "1000"
    if threads is None:  # PyTorch's own default count
        assert report["env"]["OMP_NUM_THREADS"] is None
    else:
        assert report["threads"] == threads
        assert report["env"]["TF_NUM_INTRAOP_THREADS"] == str(threads)
