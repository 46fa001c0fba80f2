"""Where the JAX training step's time goes on a CPU: an XLA profile of one step, and
the time of each of its convolutions, with XLA's own convolutions and with the rewrite.

    python benchmarks/jax_profile.py                     # specgan, width 8, batch 64
    python benchmarks/jax_profile.py --convolutions      # + every distinct convolution
    python benchmarks/jax_profile.py --batch-size 16 --top 30 --mode rewritten

The step is ``benchmarks/backends.py``'s: the ``specgan`` preset with ``--width`` (default
8) base filters on both sides, batch 64 of 128x128 images, one thread on one core
(``--threads 0``: XLA's default threads). For each mode, ``xla`` (XLA's own convolutions,
``jax_step.REWRITE_CPU_CONVOLUTIONS`` off) and ``rewritten`` (the default), the script
compiles ``SoundGAN.train_step`` with ``jax.jit`` as ``fit`` does (the state donated),
times ``--steps`` steps (process CPU time, the median), then records one step with
``jax.profiler.trace`` and adds up the time of each XLA operation in the trace (read
from its XPlane file with TensorFlow's ``xplane_pb2``). Operations are grouped by kind:
a convolution by its output shape and window, marked ``ynn`` when XLA:CPU hands it to
YNNPACK and ``conv`` when it runs it itself (Eigen, or a naive loop for a reversed
window); other fusions by name. The profile's times are wall times inside the step.

``--convolutions`` also times every distinct convolution of the step's traced
computation on its own (random operands of its shapes; CPU ms per call, the median),
as XLA runs it and as ``jax_step.fast_cpu_convolutions`` rewrites it, with the number
of times the step runs it.
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import re
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_BACKEND"] = "jax"

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _tables import table  # noqa: E402  (benchmarks/_tables.py)


def _cpu_ms(fn, steps):
    """Median process CPU milliseconds of ``fn()`` (which blocks until done)."""
    times = []
    for _ in range(steps):
        start = time.process_time()
        fn()
        times.append(1e3 * (time.process_time() - start))
    return statistics.median(times)


def _hlo_index(hlo):
    """``name -> kind`` for the instructions of an optimized HLO module's text."""
    bodies = {m.group(1): m.group(2) for m in re.finditer(
        r"\n(?:ENTRY )?%(\S+) [^\n]*\{\n(.*?)\n\}", hlo, re.S)}

    def convolution(line):
        shape = line.split(" = ", 1)[1].split(" ", 1)[0].split("{")[0]
        window = re.search(r"window=\{([^}]*)\}", line).group(1)
        return f"{shape} {window}"

    kinds = {}
    for line in hlo.splitlines():
        m = re.match(r"\s*(?:ROOT )?%(\S+) = ", line)
        if not m:
            continue
        name = m.group(1)
        if " convolution(" in line:
            kinds[name] = "conv " + convolution(line)
            continue
        called = re.search(r"calls=%([\w.\-]+)", line)
        body = bodies.get(called.group(1), "") if called and "fusion(" in line else ""
        inner = [b for b in body.splitlines() if " convolution(" in b]
        if inner:
            library = "ynn " if "__ynn_fusion" in line else "fus "
            kinds[name] = library + convolution(inner[0])
        else:
            kinds[name] = re.sub(r"[.\d]+$", "", name)
    return kinds


def _profile(step, state, data, hlo, top):
    """Rows (ms, share, calls, kind) of one traced step's XLA operations, the largest
    first, and their total in ms."""
    import jax
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    kinds = _hlo_index(hlo)
    with tempfile.TemporaryDirectory() as folder:
        with jax.profiler.trace(folder):
            logs, state = step(state, data)
            jax.block_until_ready(logs)
        space = xplane_pb2.XSpace()
        path = glob.glob(os.path.join(folder, "**", "*.xplane.pb"), recursive=True)[0]
        with open(path, "rb") as f:
            space.ParseFromString(f.read())
    total, calls = collections.Counter(), collections.Counter()
    for plane in space.planes:
        names = {k: v.name for k, v in plane.event_metadata.items()}
        for line in plane.lines:
            for event in line.events:
                kind = kinds.get(names.get(event.metadata_id, ""))
                if kind is not None:
                    total[kind] += event.duration_ps / 1e9
                    calls[kind] += 1
    whole = sum(total.values())
    rows = [(f"{ms:.0f}", f"{100 * ms / whole:.1f}%", calls[kind], kind)
            for kind, ms in total.most_common(top)]
    return rows, whole, state


def _convolutions(fn, *args):
    """``{(lhs shape, rhs shape, params): times the traced ``fn`` runs it}``."""
    import jax
    from jax import lax
    from jax.extend import core as jax_core

    found = collections.Counter()
    params_of = {}

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive is lax.conv_general_dilated_p:
                key = (tuple(eqn.invars[0].aval.shape), tuple(eqn.invars[1].aval.shape),
                       repr(sorted(eqn.params.items())))
                found[key] += 1
                params_of[key] = eqn.params
            for value in eqn.params.values():
                if isinstance(value, jax_core.ClosedJaxpr):
                    walk(value.jaxpr)

    walk(jax.make_jaxpr(fn)(*args).jaxpr)
    return [(key[0], key[1], params_of[key], n) for key, n in found.items()]


def _time_convolutions(convolutions, reps):
    import jax
    import numpy as np
    from jax import lax

    from keras_soundgan.models.jax_step import fast_cpu_convolutions

    rng = np.random.default_rng(0)
    rows, totals = [], [0.0, 0.0]
    for lhs_shape, rhs_shape, params, count in convolutions:
        lhs = jax.numpy.asarray(rng.standard_normal(lhs_shape, dtype=np.float32))
        rhs = jax.numpy.asarray(rng.standard_normal(rhs_shape, dtype=np.float32))

        def conv(a, b, params=params):
            return lax.conv_general_dilated_p.bind(a, b, **params)

        times = []
        outputs = []
        for fn in (jax.jit(conv), jax.jit(fast_cpu_convolutions(conv))):
            outputs.append(np.asarray(fn(lhs, rhs)))
            times.append(_cpu_ms(lambda fn=fn: fn(lhs, rhs).block_until_ready(), reps))
        scale = max(float(np.max(np.abs(outputs[0]))), 1e-30)
        error = float(np.max(np.abs(outputs[0] - outputs[1]))) / scale
        dn = params["dimension_numbers"]
        what = (f"{lhs_shape} * {rhs_shape} stride {params['window_strides']} pad "
                f"{tuple(map(tuple, params['padding']))} lhs dil {params['lhs_dilation']} "
                f"rhs dil {params['rhs_dilation']} dims {dn.lhs_spec}{dn.rhs_spec}{dn.out_spec}")
        rows.append((what, count, f"{times[0]:.1f}", f"{times[1]:.1f}",
                     f"{times[0] / times[1]:.1f}x", f"{error:.0e}"))
        totals[0] += count * times[0]
        totals[1] += count * times[1]
    return rows, totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="specgan")
    parser.add_argument("--width", type=int, default=8,
                        help="generator and discriminator base_filters (default 8); 0 keeps "
                             "the preset's")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.FIELD=VALUE", help="more config overrides")
    parser.add_argument("--threads", type=int, default=1, choices=(0, 1),
                        help="1 (default): one XLA thread on one core; 0: XLA's default")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per mode (default 3)")
    parser.add_argument("--top", type=int, default=15, help="profile rows shown (default 15)")
    parser.add_argument("--mode", choices=("both", "xla", "rewritten"), default="both")
    parser.add_argument("--convolutions", action="store_true",
                        help="also time every distinct convolution on its own")
    args = parser.parse_args()
    if args.steps < 1 or args.top < 1 or args.batch_size < 1:
        parser.error("--steps, --top and --batch-size must be at least 1")
    if args.threads == 1:
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_"
                                   "eigen=false intra_op_parallelism_threads=1").strip()
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])

    import jax
    import keras
    import numpy as np

    from keras_soundgan import SoundGAN, SoundGANConfig
    from keras_soundgan.config import parse_override
    from keras_soundgan.models import jax_step

    overrides = {"training.batch_size": args.batch_size}
    if args.width:
        overrides.update({"generator.base_filters": args.width,
                          "discriminator.base_filters": args.width})
    overrides.update(dict(parse_override(o) for o in args.overrides))
    config = SoundGANConfig.from_preset(args.preset).with_overrides(overrides)
    keras.utils.set_random_seed(0)
    model = SoundGAN(config)
    model.compile()
    images = np.random.default_rng(0).uniform(
        -1, 1, (args.batch_size, *config.spectrogram.image_shape)).astype("float32")
    data = (jax.numpy.asarray(images),)

    def fresh_state():
        groups = (model.trainable_variables, model.non_trainable_variables,
                  model.optimizer.variables, model.metrics_variables)
        return tuple([jax.numpy.array(v.value) for v in group] for group in groups)

    g, d = config.generator, config.discriminator
    print(f"{config.name}: batch {args.batch_size}, base_filters G {g.base_filters} "
          f"D {d.base_filters}, n_critic {config.training.n_critic}; JAX {jax.__version__}, "
          f"Keras {keras.__version__}; threads: {'1 (one core)' if args.threads else 'XLA default'}"
          f"; load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    modes = {"xla": False, "rewritten": True}
    for mode, rewrite in modes.items():
        if args.mode not in ("both", mode):
            continue
        jax_step.REWRITE_CPU_CONVOLUTIONS = rewrite
        step = jax.jit(lambda state, data: model.train_step(state, data), donate_argnums=0)
        start = time.perf_counter()
        compiled = step.lower(fresh_state(), data).compile()
        compile_s = time.perf_counter() - start
        state = fresh_state()
        logs, state = compiled(state, data)  # the first run allocates

        def run():
            nonlocal state
            logs, state = compiled(state, data)
            jax.block_until_ready(logs)

        cpu = _cpu_ms(run, args.steps)
        rows, whole, state = _profile(compiled, state, data, compiled.as_text(), args.top)
        print(f"\n{mode}: trace and compile {compile_s:.1f} s; {cpu:.0f} CPU ms per step "
              f"(median of {args.steps}); one profiled step, {whole:.0f} ms in XLA "
              f"operations, the largest:")
        print(table(rows, ("ms", "share", "calls", "operation")))
    jax_step.REWRITE_CPU_CONVOLUTIONS = True

    if args.convolutions:
        jax_step.REWRITE_CPU_CONVOLUTIONS = False  # XLA's own convolutions, to time both ways
        convolutions = _convolutions(lambda s, x: model.train_step(s, x), fresh_state(), data)
        jax_step.REWRITE_CPU_CONVOLUTIONS = True
        rows, totals = _time_convolutions(convolutions, reps=5)
        print(f"\nevery distinct convolution of the step ({sum(r[1] for r in rows)} in all), "
              f"CPU ms per call alone (median of 5):")
        print(table(rows, ("convolution", "per step", "xla ms", "rewritten ms", "speed-up",
                           "max diff")))
        print(f"per step, counting repeats: xla {totals[0]:.0f} ms, rewritten "
              f"{totals[1]:.0f} ms")


if __name__ == "__main__":
    main()
