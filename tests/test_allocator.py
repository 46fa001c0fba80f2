"""keras_soundgan.allocator: freed memory kept for the next step, and where the command
line asks for it."""

import platform
import subprocess
import sys

import pytest
from click.testing import CliRunner

from keras_soundgan import cli

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# A "step" that allocates and frees three 16 MB arrays, five times, in a fresh process;
# prints the page faults of each step. Without the settings, glibc trims the freed heap
# (48 MB free at its top is above the trim threshold its own adjustment sets) and the
# next step faults it in again.
STEPS = """
import resource, sys
import numpy as np
if sys.argv[1] == "keep":
    from keras_soundgan.allocator import keep_freed_memory
    assert keep_freed_memory()
faults = []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = [np.ones(4_000_000, dtype=np.float32) for _ in range(3)]
    del arrays
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(*faults)
"""


def _step_faults(mode):
    done = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return [int(n) for n in done.stdout.split()]


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt; elsewhere nothing is set")
def test_freed_memory_is_reused_instead_of_faulted_in_again():
    default, kept = _step_faults("default"), _step_faults("keep")
    # The first step faults its memory in either way (over 1000 pages of 4 KiB).
    assert default[0] > 1000 and kept[0] > 1000, (default, kept)
    # glibc's default gives memory back and faults it in again every step (the
    # comparison can fail); with the settings the later steps reuse it.
    assert min(default[2:]) > 500, default
    assert max(kept[1:]) < 50, kept


def test_elsewhere_nothing_is_set(monkeypatch):
    from keras_soundgan import allocator

    monkeypatch.setattr(allocator.sys, "platform", "darwin")
    assert allocator.keep_freed_memory() is False


@pytest.mark.parametrize("backend, called", [("torch", True), ("tensorflow", False),
                                             ("jax", False)])
def test_the_command_line_keeps_freed_memory_on_pytorch_only(monkeypatch, backend, called):
    from keras_soundgan import allocator

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setenv("KERAS_BACKEND", backend)
    # The command line would set the spin count in this process for good; a value set
    # here is left as it is, and undone after.
    monkeypatch.setenv("GOMP_SPINCOUNT", "1000")
    result = CliRunner().invoke(cli.main, ["presets"])
    assert result.exit_code == 0, result.output
    assert calls == ([1] if called else []), backend
