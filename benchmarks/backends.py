"""SpecGAN training steps on each Keras backend against plain PyTorch.

    python benchmarks/backends.py                         # specgan at width 8, 1 thread
    python benchmarks/backends.py --width 16 --threads 2
    python benchmarks/backends.py --contenders all        # + XLA, channels_last, torch.compile
    python benchmarks/backends.py --width 4 --batch-size 8 --rounds 1 --steps 1 --warmup 1

Times the training step of the ``specgan`` preset (WGAN-GP, ``n_critic`` = 5 critic
updates with a double-backward gradient penalty and one generator update, Adam with the
preset's betas, batch 64 of 128x128 images) on

* ``tensorflow``, ``jax``, ``torch``: ``SoundGAN.fit`` on each Keras backend, each in
  its own subprocess with ``KERAS_BACKEND`` set (the backend is fixed when keras is
  imported), with ``compile()``'s defaults (on a CPU: a ``tf.function`` without XLA on
  TensorFlow, ``jax.jit`` on JAX, eager on torch);
* ``plain-torch`` (the baseline): the same networks and the same update rule written by
  hand in ``torch.nn``, without Keras (``benchmarks/_torch_specgan.py``);

and, when named in ``--contenders`` (``all`` names them all), the variants
``tensorflow-xla`` (``compile(jit_compile=True)``), ``torch-compile`` (Keras torch with
``jit_compile=True``, i.e. ``torch.compile``), ``jax-xla-convolutions`` (Keras on JAX
with the step's convolution rewrite turned off, ``jax_step.REWRITE_CPU_CONVOLUTIONS``:
XLA's own convolutions, as before the rewrite), ``plain-torch-cl`` (the baseline in
torch's ``channels_last`` memory format), and ``torch-kept-memory`` and
``plain-torch-kept-memory`` (Keras on PyTorch and the baseline with
``keras_soundgan.allocator.keep_freed_memory()`` called first, as the command line does
on PyTorch: ``malloc`` keeps freed memory for the next step instead of faulting it in
again).

The full specgan width (``base_filters`` 64, 6.5 TFLOP per step by the count below)
takes minutes per step on a small CPU, so ``--width`` (default 8; 107 GFLOP per step)
sets ``generator.base_filters`` and ``discriminator.base_filters`` for every contender;
everything else is the preset's (``--set SECTION.FIELD=VALUE`` changes more,
``--batch-size`` the batch). The script checks that the plain PyTorch networks have exactly the parameter counts of the Keras
generator and discriminator on every backend, and stops if not.

Every contender gets the same threads (``--threads``, default 1): ``OMP_NUM_THREADS``
and ``MKL_NUM_THREADS``, TensorFlow's intra- and inter-op threads, ``torch.set_num_threads``
(Keras torch and plain torch) and, with one thread, XLA's CPU flags for JAX
(``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``; XLA cannot be
given another number, so with more threads it keeps its default, all cores). With
fewer threads than cores, every contender's process is also restricted to that many
cores (``sched_setaffinity``): XLA's flags alone still let JAX keep 1.8 cores busy with
``--threads 1``. ``--threads 0`` leaves every framework at its default. The
``cpu/wall`` column (process CPU time over wall time) shows how many cores a contender
really kept busy.

Each contender warms up for ``--warmup`` steps (tracing, compilation), then the
contenders take turns: every round, each runs ``--steps`` steps in turn (the order
rotating from round to round) while the others wait, for ``--rounds`` rounds. A Keras
contender runs one ``fit`` over all its steps, paused between rounds by a callback (its
per-step time runs from the start of a round's first step to the end of its last, so it
includes ``fit``'s own work between steps). The table gives, per contender, the median
and min milliseconds per step over the rounds and the ratio of its median to
``plain-torch``'s: below 1.00x is faster than plain PyTorch. On a shared machine the
wall times move with the load; the median CPU milliseconds per step (process CPU time,
one thread) and their ratio to plain PyTorch's are printed beside them, as a check that
moves less: they count only the work a contender did.

The roofline: the step's floating-point operations are counted from the networks' layer
shapes (``benchmarks/_flops.py``: 2 FLOPs a multiply-add of every convolution,
transposed convolution and dense layer; a backward pass 2x the forward, an input
gradient alone 1x, the gradient penalty's double backward 2x; elementwise work not
counted), and every Keras contender reports the count read from its own built networks,
which should equal it (a warning says where it does not). The machine's peak is
measured in the same run by a ``peak`` process with the contenders' threads and cores:
``torch.mm`` of two ``--peak-size`` square float32 matrices (default 2048),
``--peak-repeats`` times (default 3) after the contenders' turns in every round; the
best of all is the peak (``--peak-size 0`` skips it). Each contender's achieved
GFLOP/s is the step's FLOPs over its median step time, and ``of peak`` is that over the
peak; the roofline line after the table repeats them, with the largest convolution's
share of the step's FLOPs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _flops import keras_layers, matmul_flops, step_flops  # noqa: E402  (benchmarks/_flops.py)
from _tables import table  # noqa: E402  (benchmarks/_tables.py)

ROOT = os.path.dirname(HERE)
BASELINE = "plain-torch"
# name -> (KERAS_BACKEND, compile kwargs or None for plain torch, description)
CONTENDERS = {
    "plain-torch": ("torch", None, "plain PyTorch, no Keras (baseline)"),
    "tensorflow": ("tensorflow", {}, "Keras on TensorFlow: tf.function (no XLA)"),
    "jax": ("jax", {}, "Keras on JAX: jax.jit (XLA), convolutions rewritten for the CPU"),
    "torch": ("torch", {}, "Keras on PyTorch: eager"),
    "tensorflow-xla": ("tensorflow", {"jit_compile": True},
                       "Keras on TensorFlow: jit_compile=True (XLA)"),
    "torch-compile": ("torch", {"jit_compile": True},
                      "Keras on PyTorch: jit_compile=True (torch.compile)"),
    "plain-torch-cl": ("torch", None, "plain PyTorch, channels_last memory format"),
    "jax-xla-convolutions": ("jax", {}, "Keras on JAX: jax.jit, XLA's own convolutions "
                                        "(REWRITE_CPU_CONVOLUTIONS off)"),
    "torch-kept-memory": ("torch", {}, "Keras on PyTorch: eager, freed memory kept "
                                       "(keep_freed_memory, as the command line runs it)"),
    "plain-torch-kept-memory": ("torch", None, "plain PyTorch, freed memory kept "
                                               "(keep_freed_memory)"),
}
# The contenders whose worker calls keras_soundgan.allocator.keep_freed_memory() first.
KEPT_MEMORY = tuple(name for name in CONTENDERS if name.endswith("-kept-memory"))
DEFAULT_CONTENDERS = "plain-torch,tensorflow,jax,torch"
PEAK = "peak"  # the worker that measures the matrix-multiply peak (torch.mm, float32)
MESSAGE = "@@backends@@ "  # prefixes the workers' reports on stdout


# -- the workers (one subprocess per contender) ----------------------------------------------


def _set_threads(backend: str, threads: int):
    if not threads:
        return
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    elif backend == "torch":
        import torch

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(threads)


def _send(**message):
    print(MESSAGE + json.dumps(message), flush=True)


def _wait_for_go():
    line = sys.stdin.readline()
    if line.strip() != "go":
        sys.exit(0)  # the parent is done or gone


def _arch(config) -> dict:
    """What the plain PyTorch model needs from a SoundGANConfig."""
    g, d, t, s = config.generator, config.discriminator, config.training, config.spectrogram
    return dict(latent_dim=g.latent_dim, g_base_filters=g.base_filters, g_num_layers=g.num_layers,
                g_kernel_size=g.kernel_size, d_base_filters=d.base_filters,
                d_num_layers=d.num_layers, d_kernel_size=d.kernel_size, height=s.height,
                width=s.width, n_critic=t.n_critic,
                gradient_penalty_weight=t.gradient_penalty_weight,
                g_learning_rate=t.g_learning_rate, d_learning_rate=t.d_learning_rate,
                beta_1=t.beta_1, beta_2=t.beta_2, latent_distribution=g.latent_distribution,
                batch_size=t.batch_size)


def plain_torch_worker(arch: dict, warmup: int, steps: int, rounds: int, threads: int,
                       channels_last: bool):
    import torch

    from _torch_specgan import WGANGP, count_params

    _set_threads("torch", threads)
    model = WGANGP(arch, seed=0, channels_last=channels_last)
    real = torch.rand(arch["batch_size"], 1, arch["height"], arch["width"]) * 2 - 1
    start = time.perf_counter()
    for _ in range(warmup):
        losses = model.step(real)
    _send(kind="ready", warmup_s=time.perf_counter() - start,
          g_params=count_params(model.G), d_params=count_params(model.D),
          threads=torch.get_num_threads(), version=f"torch {torch.__version__}")
    for _ in range(rounds):
        _wait_for_go()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            losses = model.step(real)
        _send(kind="round", wall=(time.perf_counter() - t0) / steps,
              cpu=(time.process_time() - c0) / steps, losses=losses)


def peak_worker(size: int, repeats: int, rounds: int, threads: int):
    """The machine's peak: ``torch.mm`` of two ``size x size`` float32 matrices,
    ``repeats`` times a round; reports the best (shortest) of each round."""
    import torch

    _set_threads("torch", threads)
    generator = torch.Generator().manual_seed(0)
    a, b = (torch.rand(size, size, generator=generator) for _ in range(2))
    out = torch.empty(size, size)
    start = time.perf_counter()
    torch.mm(a, b, out=out)
    _send(kind="ready", warmup_s=time.perf_counter() - start, threads=torch.get_num_threads(),
          version=f"torch {torch.__version__}")
    for _ in range(rounds):
        _wait_for_go()
        times = []
        c0 = time.process_time()
        for _ in range(repeats):
            t0 = time.perf_counter()
            torch.mm(a, b, out=out)
            times.append(time.perf_counter() - t0)
        _send(kind="round", wall=min(times), cpu=(time.process_time() - c0) / repeats,
              gflops=matmul_flops(size) / min(times) / 1e9)


def keras_worker(config_dict: dict, compile_kwargs: dict, warmup: int, steps: int,
                 rounds: int, threads: int, rewrite_convolutions: bool = True):
    backend = os.environ["KERAS_BACKEND"]
    _set_threads(backend, threads)
    import keras
    import numpy as np

    from keras_soundgan import SoundGAN, SoundGANConfig

    if backend == "jax":
        from keras_soundgan.models import jax_step

        jax_step.REWRITE_CPU_CONVOLUTIONS = rewrite_convolutions

    config = SoundGANConfig.from_config(config_dict)
    batch = config.training.batch_size
    keras.utils.set_random_seed(0)
    real = np.random.default_rng(0).uniform(
        -1, 1, (batch, *config.spectrogram.image_shape)).astype("float32")
    model = SoundGAN(config)
    model.compile(**compile_kwargs)

    if backend == "tensorflow":
        import tensorflow as tf

        data = tf.data.Dataset.from_tensors(real).repeat()
    else:
        tensor = keras.ops.convert_to_tensor(real)

        def forever():
            while True:
                yield (tensor,)

        data = forever()

    class Lockstep(keras.callbacks.Callback):
        """Reports the warm-up, then pauses before every round of ``steps`` steps until
        the parent says go, and reports the round's time per step."""

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            if batch >= warmup and (batch - warmup) % steps == 0:
                _wait_for_go()
                self.t0, self.c0 = time.perf_counter(), time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            losses = [float(v) for v in (logs or {}).values()]  # waits for async backends
            if batch == warmup - 1:
                _send(kind="ready", warmup_s=time.perf_counter() - self.start,
                      g_params=self.model.generator.count_params(),
                      d_params=self.model.discriminator.count_params(),
                      threads=_threads_in_use(backend),
                      version=_versions(backend), jit_compile=self.model.jit_compile,
                      flops=[dataclasses.astuple(layer) for layer in
                             keras_layers(self.model.generator, "generator")
                             + keras_layers(self.model.discriminator, "discriminator")])
            elif batch >= warmup and (batch - warmup + 1) % steps == 0:
                _send(kind="round", wall=(time.perf_counter() - self.t0) / steps,
                      cpu=(time.process_time() - self.c0) / steps, losses=losses)

    model.fit(data, epochs=1, steps_per_epoch=warmup + steps * rounds, verbose=0,
              shuffle=False, callbacks=[Lockstep()])


def _threads_in_use(backend):
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.config.threading.get_intra_op_parallelism_threads() or "default"
    if backend == "torch":
        import torch

        return torch.get_num_threads()
    return os.environ.get("XLA_FLAGS") or "default"


def _versions(backend):
    import keras

    module = __import__(backend)
    return f"keras {keras.__version__}, {backend} {module.__version__}"


def worker_main(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", required=True, choices=[*CONTENDERS, PEAK])
    parser.add_argument("--spec", required=True, help="JSON: what the worker runs")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec)
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if 0 < spec["threads"] < len(cores):
        # XLA (JAX) does not take a thread count: its flags above left it at 1.8 cores
        # busy with one "thread". Restricting every contender to as many cores as
        # threads holds them all to the same budget.
        os.sched_setaffinity(0, cores[:spec["threads"]])
    if args.worker == PEAK:
        return peak_worker(spec["peak_size"], spec["peak_repeats"], spec["rounds"],
                           spec["threads"])
    _, compile_kwargs, _ = CONTENDERS[args.worker]
    if args.worker in KEPT_MEMORY:
        from keras_soundgan.allocator import keep_freed_memory

        if not keep_freed_memory():
            raise SystemExit(f"{args.worker}: this C library has no mallopt settings")
    common = dict(warmup=spec["warmup"], steps=spec["steps"], rounds=spec["rounds"],
                  threads=spec["threads"])
    if compile_kwargs is None:
        plain_torch_worker(spec["arch"], channels_last=args.worker == "plain-torch-cl",
                           **common)
    else:
        keras_worker(spec["config"], compile_kwargs,
                     rewrite_convolutions=args.worker != "jax-xla-convolutions", **common)


# -- the parent: start the workers, run the rounds, print the table ---------------------------


class Worker:
    def __init__(self, name: str, spec: dict, threads: int):
        backend = "torch" if name == PEAK else CONTENDERS[name][0]
        env = dict(os.environ, KERAS_BACKEND=backend, PYTHONUNBUFFERED="1")
        if threads:
            for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                        "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
                env[var] = str(threads)
            if backend == "jax" and threads == 1:
                # XLA's CPU threads can be set to one, not to another number: with more
                # threads, XLA keeps its default (all cores).
                flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
                env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + flags).strip()
        self.name = name
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--worker", name,
             "--spec", json.dumps(spec)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True,
            env=env, cwd=ROOT)
        self.messages = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            if line.startswith(MESSAGE):
                self.messages.put(json.loads(line[len(MESSAGE):]))
        self.messages.put(None)

    def receive(self, timeout: float | None = None) -> dict:
        try:
            message = self.messages.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"{self.name} had not finished after {timeout:.0f} s "
                               f"(--timeout); stopped") from None
        if message is not None:
            return message
        self.proc.wait()
        self.stderr.seek(0)
        lines = [line for line in self.stderr.read().splitlines() if line.strip()]
        errors = [line for line in lines
                  if re.match(r"[\w.]*(Error|Exception)\b|F\d{4} ", line)]
        raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: "
                           + (errors[-1] if errors else " | ".join(lines[-3:]))[:400])

    def go(self, timeout: float | None = None) -> dict:
        try:
            self.proc.stdin.write("go\n")
            self.proc.stdin.flush()
        except OSError:  # it has exited; receive() says why
            pass
        return self.receive(timeout)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


def largest_convolution(flops) -> str:
    """The (transposed) convolution with the most of the step's FLOPs and its share, and
    the others with as many."""
    layer, share = flops.largest_convolution()
    ties = [other.name for other in flops.layers if other != layer and other.kind != "dense"
            and flops.layer_total(other) == flops.layer_total(layer)]
    return (f"{layer.network} {layer.name} ({layer.shape}) {share:.1%} of the FLOPs"
            + (f" ({', '.join(ties)} as many)" if ties else ""))


def flops_summary(flops) -> str:
    """What one step's FLOPs are made of, for the header."""
    g, d = flops.forward("generator"), flops.forward("discriminator")
    rows = [(f"{phase} update: {what}", flops.n_critic if phase == "critic" else 1,
             f"{part / 1e9:.4g}", f"{part / flops.total:.1%}")
            for phase, what, part in flops.parts]
    return (f"FLOPs per step, counted from the layer shapes (multiply-add = 2; backward = 2x "
            f"forward, input gradient alone 1x; elementwise work not counted): forward per "
            f"example G {g / 1e6:.4g} MFLOP, D {d / 1e6:.4g} MFLOP; batch {flops.batch_size}:\n"
            + table(rows, ("part of the step", "times", "GFLOP", "share"))
            + f"\nstep: {flops.total / 1e9:.4g} GFLOP; largest convolution "
            + largest_convolution(flops))


def main():
    if "--worker" in sys.argv:
        return worker_main(sys.argv[1:])
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="contenders: " + "; ".join(f"{n}: {d}" for n, (_, _, d) in CONTENDERS.items()))
    parser.add_argument("--preset", default="specgan")
    parser.add_argument("--width", type=int, default=8,
                        help="generator.base_filters and discriminator.base_filters "
                             "(default 8; the preset's own is 64); 0 keeps the preset's")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="examples per step (default: the preset's, 64 for specgan)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.FIELD=VALUE", help="more config overrides")
    parser.add_argument("--contenders", default=DEFAULT_CONTENDERS,
                        help=f"comma-separated, or 'all' (default {DEFAULT_CONTENDERS}); "
                             f"plain-torch, the baseline, is always included")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for every contender (default 1; 0: each framework's "
                             "default)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed steps first (tracing, compilation; default 2)")
    parser.add_argument("--steps", type=int, default=1, help="timed steps per round (default 1)")
    parser.add_argument("--rounds", "-R", type=int, default=7, help="rounds (default 7)")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds a contender may take for its warm-up, or for one "
                             "round, before it is stopped and reported as failed (default "
                             "300; torch.compile of the step compiled for over 4 minutes "
                             "here)")
    parser.add_argument("--peak-size", type=int, default=2048,
                        help="the peak's matrices: torch.mm of two N x N float32 matrices "
                             "(default 2048; 0: no peak, no fraction of peak)")
    parser.add_argument("--peak-repeats", type=int, default=3,
                        help="matrix multiplies per round for the peak (default 3)")
    args = parser.parse_args()
    if args.warmup < 1 or args.steps < 1 or args.rounds < 1:
        parser.error("--warmup, --steps and --rounds must be at least 1")
    if args.peak_size < 0 or args.peak_repeats < 1:
        parser.error("--peak-size must be at least 0 and --peak-repeats at least 1")

    from keras_soundgan.config import SoundGANConfig, parse_override

    overrides = {}
    if args.width:
        overrides.update({"generator.base_filters": args.width,
                          "discriminator.base_filters": args.width})
    if args.batch_size:
        overrides["training.batch_size"] = args.batch_size
    overrides.update(dict(parse_override(o) for o in args.overrides))
    config = SoundGANConfig.from_preset(args.preset).with_overrides(overrides)
    g, d, t = config.generator, config.discriminator, config.training
    unsupported = [f"{what}={value!r}" for what, value, plain in (
        ("training.loss", t.loss, "wgan-gp"), ("generator.stem", g.stem, "dense"),
        ("generator.normalization", g.normalization, "none"),
        ("generator.num_classes", g.num_classes, 0),
        ("discriminator.head", d.head, "dense"),
        ("discriminator.normalization", d.normalization, "none"),
        ("discriminator.spectral_norm", d.spectral_norm, False),
        ("generator.activation", g.activation, "relu"),
        ("discriminator.activation", d.activation, "leaky_relu"),
        ("training.r1_weight", t.r1_weight, 0.0), ("training.ema_decay", t.ema_decay, 0.0),
    ) if value != plain]
    if unsupported:
        sys.exit("the plain PyTorch baseline implements the specgan architecture only; "
                 "not: " + ", ".join(unsupported))

    names = [n.strip() for n in args.contenders.split(",") if n.strip()]
    if names == ["all"]:
        names = list(CONTENDERS)
    unknown = [n for n in names if n not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contender {unknown[0]!r}; contenders: {', '.join(CONTENDERS)}")
    names = [BASELINE] + [n for n in dict.fromkeys(names) if n != BASELINE]

    spec = dict(config=config.get_config(), arch=_arch(config), warmup=args.warmup,
                steps=args.steps, rounds=args.rounds, threads=args.threads,
                peak_size=args.peak_size, peak_repeats=args.peak_repeats)
    flops = step_flops(spec["arch"])
    s = config.spectrogram
    print(f"{config.name}: {s.height}x{s.width} images, batch {t.batch_size}, {t.loss} with "
          f"n_critic={t.n_critic}, gradient penalty {t.gradient_penalty_weight:g} (double "
          f"backward), Adam(g {t.g_learning_rate:g}, d {t.d_learning_rate:g}, betas "
          f"{t.beta_1:g}/{t.beta_2:g}); G: {g.num_layers} x ConvTranspose {g.kernel_size}x"
          f"{g.kernel_size}, base_filters {g.base_filters}; D: {d.num_layers} x Conv "
          f"{d.kernel_size}x{d.kernel_size}, base_filters {d.base_filters}")
    print(f"threads per contender: {args.threads or 'framework defaults'}; "
          f"{os.cpu_count()} CPU cores visible; load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"{args.warmup} warm-up steps, then {args.rounds} rounds of {args.steps} steps each, "
          f"taking turns")
    print(flops_summary(flops))

    workers, ready, failed = {}, {}, {}
    peak, peak_gflops = None, []  # the peak's worker, and its best GFLOP/s of each round
    try:
        for name in names:  # one at a time, so that the warm-ups do not overlap
            worker = Worker(name, spec, args.threads)
            try:
                ready[name] = worker.receive(args.timeout)
                workers[name] = worker
            except RuntimeError as e:
                failed[name] = str(e)
                worker.close()
                if name == BASELINE:
                    sys.exit(f"the baseline failed: {e}")
                continue
            r = ready[name]
            print(f"  {name}: ready after {r['warmup_s']:.1f} s ({r['version']}; threads "
                  f"{r['threads']}{'; jit_compile=' + str(r['jit_compile']) if 'jit_compile' in r else ''})",
                  flush=True)

        base_counts = (ready[BASELINE]["g_params"], ready[BASELINE]["d_params"])
        print(f"parameters: plain PyTorch G {base_counts[0]:,}, D {base_counts[1]:,}; " + ", ".join(
            f"{n} G {ready[n]['g_params']:,} D {ready[n]['d_params']:,}"
            for n in ready if n != BASELINE))
        mismatch = [n for n in ready if (ready[n]["g_params"], ready[n]["d_params"]) != base_counts]
        if mismatch:
            sys.exit(f"parameter counts differ from plain PyTorch's: {', '.join(mismatch)}")
        print("parameter counts: equal")
        counted = [(layer.network, layer.kind, layer.flops) for layer in flops.layers]
        differ = [n for n in ready if "flops" in ready[n]
                  and [(row[0], row[2], row[4]) for row in ready[n]["flops"]] != counted]
        if differ:  # the roofline below still uses the count from the config
            print("WARNING: the FLOPs counted from the built Keras networks differ from those "
                  f"counted from the config for {', '.join(differ)} (benchmarks/_flops.py)")
        else:
            print("FLOP counts of the built Keras networks: equal to the count above")

        if args.peak_size:
            worker = Worker(PEAK, spec, args.threads)
            try:
                r = worker.receive(args.timeout)
                peak = worker
                print(f"  {PEAK}: ready after {r['warmup_s']:.1f} s ({r['version']}; threads "
                      f"{r['threads']})", flush=True)
                peak_threads = r["threads"]
            except RuntimeError as e:
                failed[PEAK] = str(e)
                worker.close()

        wall = {n: [] for n in workers}
        cpu = {n: [] for n in workers}
        losses = {}
        for r in range(args.rounds):
            live = [n for n in names if n in workers]
            order = live[r % len(live):] + live[:r % len(live)]
            for name in order:
                try:
                    result = workers[name].go(args.timeout)
                except RuntimeError as e:
                    failed[name] = str(e)
                    workers.pop(name).close()
                    continue
                wall[name].append(result["wall"])
                cpu[name].append(result["cpu"])
                losses[name] = result["losses"]
            if peak is not None:  # after the contenders, under the round's load
                try:
                    peak_gflops.append(peak.go(args.timeout)["gflops"])
                except RuntimeError as e:
                    failed[PEAK] = str(e)
                    peak.close()
                    peak = None
            print(f"  round {r + 1}/{args.rounds}: " + ", ".join(
                f"{n} {1e3 * wall[n][-1]:.0f} ms" for n in names if n in workers and wall[n])
                + (f", {PEAK} {peak_gflops[-1]:.3g} GFLOP/s" if peak is not None else ""),
                flush=True)
    finally:
        for worker in workers.values():
            worker.close()
        if peak is not None:
            peak.close()

    if BASELINE not in wall or not wall[BASELINE]:
        sys.exit("the baseline did not finish")
    base = statistics.median(wall[BASELINE])
    base_cpu = statistics.median(cpu[BASELINE])
    peak_best = max(peak_gflops) if peak_gflops else None
    achieved = {n: flops.total / statistics.median(wall[n]) / 1e9
                for n in names if n not in failed and wall.get(n)}
    rows = []
    for name in names:
        if name not in achieved:
            rows.append((name, CONTENDERS[name][2], "failed", "", "", "", "", "", "", ""))
            continue
        med, med_cpu = statistics.median(wall[name]), statistics.median(cpu[name])
        rows.append((name, CONTENDERS[name][2], f"{1e3 * med:.0f}", f"{1e3 * min(wall[name]):.0f}",
                     f"{sum(cpu[name]) / sum(wall[name]):.2f}", f"{med / base:.2f}x",
                     f"{1e3 * med_cpu:.0f}", f"{med_cpu / base_cpu:.2f}x",
                     f"{achieved[name]:.3g}",
                     f"{achieved[name] / peak_best:.1%}" if peak_best else "-"))
    print(f"\nms per training step (median and min over {args.rounds} rounds of {args.steps} "
          f"steps; load average now " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + "):")
    print(table(rows, ("contender", "what", "median ms", "min ms", "cpu/wall",
                       "time vs plain torch", "median cpu ms", "cpu vs plain torch",
                       "GFLOP/s", "of peak")))
    if peak_best:
        source = (f"torch.mm {args.peak_size}x{args.peak_size} float32, best of "
                  f"{args.peak_repeats} x {len(peak_gflops)} rounds, {peak_threads} "
                  f"thread{'s' if peak_threads != 1 else ''}; median of rounds "
                  f"{statistics.median(peak_gflops):.3g}")
    else:
        source = "not measured" + (f": {failed[PEAK]}" if PEAK in failed else "")
    print(f"\nroofline: {flops.total / 1e9:.4g} GFLOP a step; peak "
          + (f"{peak_best:.3g} GFLOP/s" if peak_best else "-") + f" ({source}); "
          + ", ".join(f"{n} {g:.3g} GFLOP/s" + (f" = {g / peak_best:.1%} of peak"
                                                if peak_best else "")
                      for n, g in achieved.items())
          + "; largest convolution " + largest_convolution(flops))
    for name, error in failed.items():
        print(f"\n{name} failed: {error}")
    # The target: every Keras backend, with compile()'s defaults, at or under 1.00x.
    defaults = [n for n in ("tensorflow", "jax", "torch") if n in names]
    if defaults:
        ratios = {n: statistics.median(wall[n]) / base if wall.get(n) else None
                  for n in defaults}
        met = all(r is not None and r <= 1.0 for r in ratios.values())
        print("\nKeras backends against plain PyTorch's time (target: every one at most "
              "1.00x): " + ", ".join(f"{n} " + ("failed" if r is None else f"{r:.2f}x")
                                     for n, r in ratios.items())
              + f": {'met' if met else 'NOT met'}")

if __name__ == "__main__":
    main()
