"""``keras-soundgan train`` while another process keeps a core busy: how threads wait.

    python benchmarks/busy_cpu.py                        # one busy process
    python benchmarks/busy_cpu.py --busy 0               # the same on a quiet machine
    python benchmarks/busy_cpu.py --epochs 20 --rounds 5

PyTorch's CPU pool is GNU OpenMP (libgomp), whose idle threads spin 300,000 times
before they sleep; with every core in use they spin on the cores the working thread
needs. The command line sets ``GOMP_SPINCOUNT=1000`` before PyTorch starts
(``keras_soundgan/threads.py``).
Each contender is the whole command, a new process, timed from its start to its exit
(wall and CPU, the command's children included), the rounds alternating them:

* ``libgomp default (baseline)``: the command line started after ``import torch``, so
  that libgomp has read its settings before the command line sets its own: the command
  as it was before ``OMP_WAIT_POLICY`` was set;
* ``as shipped``: ``keras-soundgan train``;
* ``no spinning``: the same with ``OMP_WAIT_POLICY=PASSIVE`` (idle threads sleep at
  once);
* ``--threads 1``: ``keras-soundgan --threads 1 train``, one thread per pool.

Every run trains the ``tiny`` preset on the embedded drum kit on PyTorch (the backend
whose pool is libgomp's) for ``--epochs`` epochs
(imports, data preparation and the samples included: what a user waits for). While the
rounds run, ``--busy`` processes (default 1) each spin one core (``while True: pass``,
not pinned). Prints the median and min of each and the ratios of medians to the
baseline, with the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tables import table  # noqa: E402

# The command line, as a module started after `import torch` (the baseline).
_AFTER_TORCH = "import torch\nfrom keras_soundgan.cli import main\nmain()"


def contenders(folder: str, epochs: int) -> dict[str, list[str]]:
    cli = str(Path(sys.executable).parent / "keras-soundgan")
    train = ["train", "--preset", "tiny", "--set", f"training.epochs={epochs}", "-q",
             "--overwrite"]
    return {
        "libgomp default (baseline)": [sys.executable, "-c", _AFTER_TORCH, *train,
                                       "--output", os.path.join(folder, "baseline")],
        "as shipped": [cli, *train, "--output", os.path.join(folder, "shipped")],
        "no spinning": ["env", "OMP_WAIT_POLICY=PASSIVE", cli, *train,
                        "--output", os.path.join(folder, "passive")],
        "--threads 1": [cli, "--threads", "1", *train,
                        "--output", os.path.join(folder, "threads-1")],
    }


def timed(command: list[str], env: dict) -> tuple[float, float]:
    """Runs ``command``; returns its wall and CPU seconds (children included)."""
    before = os.times()
    start = time.perf_counter()
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs a run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--busy", type=int, default=1,
                        help="processes spinning a core each during the rounds (default 1)")
    args = parser.parse_args()
    if args.epochs < 1 or args.rounds < 1 or args.busy < 0:
        parser.error("--epochs and --rounds must be at least 1, --busy at least 0")
    env = dict(os.environ, KERAS_BACKEND="torch", TF_CPP_MIN_LOG_LEVEL="3")
    for name in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "KERAS_SOUNDGAN_THREADS"):
        env.pop(name, None)  # each contender's own settings, not the caller's
    load = os.getloadavg()
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(args.busy)]
    try:
        with tempfile.TemporaryDirectory() as folder:
            runs = contenders(folder, args.epochs)
            walls = {name: [] for name in runs}
            cpus = {name: [] for name in runs}
            names = list(runs)
            for r in range(args.rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    wall, cpu = timed(runs[name], env)
                    walls[name].append(wall)
                    cpus[name].append(cpu)
                    print(f"  round {r + 1}/{args.rounds}: {name} {wall:.1f} s "
                          f"(CPU {cpu:.1f} s)", flush=True)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    base_wall = statistics.median(walls[names[0]])
    base_cpu = statistics.median(cpus[names[0]])
    rows = [[name, f"{statistics.median(w):.1f}", f"{min(w):.1f}",
             f"{statistics.median(w) / base_wall:.2f}x", f"{statistics.median(c):.1f}",
             f"{statistics.median(c) / base_cpu:.2f}x"]
            for (name, w), c in zip(walls.items(), cpus.values())]
    print(f"KERAS_BACKEND=torch, tiny preset, {args.epochs} epochs a run, "
          f"{args.rounds} rounds, {args.busy} busy process(es); {os.cpu_count()} CPUs; "
          f"load average at the start {' '.join(f'{x:.2f}' for x in load)}, at the end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(table(rows, ["contender", "median s", "min s", "vs baseline", "median CPU s",
                       "CPU vs baseline"]))


if __name__ == "__main__":
    main()
