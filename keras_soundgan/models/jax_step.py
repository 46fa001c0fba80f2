"""JAX gradient glue for ``SoundGAN.train_step``; the losses live in soundgan.py.

Keras calls ``train_step(state, data)`` on JAX and wants it pure: every variable's value
comes in through ``state`` and every new value goes out through it. The step keeps the
current value of each variable in a dict and runs the model's ordinary, stateful code
inside ``keras.StatelessScope``s built from that dict: reads see the dict's values and
writes (BatchNorm statistics, the noise seed, optimizer slots, metric totals) are
collected from the scope afterwards. Gradients come from ``jax.value_and_grad`` over
the trainable values of the network being updated.

On a CPU the traced step is evaluated once more with its convolutions rewritten
(``fast_cpu_convolutions``): the same products and sums, arranged so that XLA:CPU
runs them fast; the specgan step takes a sixth of the time (the comment above that
function says what and why; benchmarks/README.md has the profile).
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings

import jax
import jax.numpy as jnp
import keras
from jax import lax
from jax.extend import core as jax_core

from keras_soundgan.internals import get_stateless_scope, stateless_scope_values

__all__ = ["REWRITE_CPU_CONVOLUTIONS", "fast_cpu_convolutions", "input_gradient",
           "train_step"]

# Whether ``train_step`` rewrites its convolutions on a CPU (``fast_cpu_convolutions``).
# The results agree with XLA's own convolutions to float32 rounding; set False to
# compare (benchmarks/backends.py's ``jax-xla-convolutions`` contender does).
REWRITE_CPU_CONVOLUTIONS = True


def input_gradient(fn, x):
    """Gradient of ``sum(fn(x))`` with respect to ``x``, differentiable again.

    Variable writes made by ``fn`` inside an enclosing ``StatelessScope`` are carried
    out of ``jax.grad`` as auxiliary outputs and recorded in that scope, so no inner
    tracer leaks into it.
    """
    outer = get_stateless_scope()

    def total(x):
        if outer is None:
            return jnp.sum(fn(x)), {}
        before = dict(stateless_scope_values(outer))
        with keras.StatelessScope() as inner:
            stateless_scope_values(inner).update(before)
            y = fn(x)
        writes = {k: v for k, v in stateless_scope_values(inner).items()
                  if before.get(k) is not v}
        return jnp.sum(y), writes

    grads, writes = jax.grad(total, has_aux=True)(x)
    if outer is not None:
        stateless_scope_values(outer).update(writes)
    return grads


class _Values:
    """The current value of every variable of the step, by variable identity."""

    def __init__(self, variables, values):
        self.variables = list(variables)
        self.values = {id(v): value for v, value in zip(self.variables, values)}

    def scope(self, overrides=()):
        """A ``StatelessScope`` that reads the current values (or ``overrides``)."""
        mapping = dict(self.values)
        mapping.update({id(v): value for v, value in overrides})
        by_id = {id(v): v for v in self.variables}
        return keras.StatelessScope(state_mapping=[(by_id[k], mapping[k]) for k in mapping])

    def writes(self, scope):
        """The values every variable had when ``scope`` ended."""
        return {id(v): scope.get_current_value(v) for v in self.variables}

    def run(self, fn, *args):
        """Runs stateful ``fn`` and keeps every write it made."""
        with self.scope() as scope:
            out = fn(*args)
        self.values.update(self.writes(scope))
        return out

    def gradient(self, loss_fn, trainable):
        """``(loss, aux), grads`` of ``loss_fn() -> (loss, aux)`` with respect to the
        ``trainable`` variables, keeping every write the loss made. (A layer may assign
        a trainable variable, as spectral normalisation does with its kernel; as under
        TensorFlow, the optimizer then updates the assigned value.)"""

        def pure(params):
            with self.scope(zip(trainable, params)) as scope:
                loss, aux = loss_fn()
            return loss, (aux, self.writes(scope))

        params = [self.values[id(v)] for v in trainable]
        (loss, (aux, writes)), grads = jax.value_and_grad(pure, has_aux=True)(params)
        self.values.update(writes)
        return (loss, aux), grads

    def get(self, variables):
        return [self.values[id(v)] for v in variables]


def train_step(model, state, data):
    step = functools.partial(_train_step, model)
    if REWRITE_CPU_CONVOLUTIONS and jax.default_backend() == "cpu":
        step = fast_cpu_convolutions(step, fallback=True)
    return step(state, data)


def _train_step(model, state, data):
    trainable, non_trainable, optimizer_values, metric_values = state
    groups = (model.trainable_variables, model.non_trainable_variables,
              model.optimizer.variables, model.metrics_variables)
    current = _Values([v for group in groups for v in group],
                      [*trainable, *non_trainable, *optimizer_values, *metric_values])
    real, labels = model.unpack_batch(data)
    batch = real.shape[0]
    d_vars = model.discriminator.trainable_variables
    g_vars = model.generator.trainable_variables

    # Unrolled: the critic's update is traced and compiled n_critic times. In a
    # lax.while_loop it compiles once, but XLA:CPU then ran the specgan step
    # (n_critic=2) 10-20x slower, measured on 2 cores (2026-12-07): 11 s instead of
    # 1.07 s at batch 2 with every value of the step as the loop's carry, 57 s instead
    # of 2.7 s at batch 8 with only the values the critic writes. So the loop stays in
    # Python here; TensorFlow's step uses one (tf_step._repeat).
    for _ in range(model.config.training.n_critic):
        z = current.run(model.sample_latent, batch)
        (d_loss, penalty), grads = current.gradient(
            lambda: model.discriminator_loss(real, z, input_gradient, labels), d_vars)
        current.run(model.d_optimizer.apply, grads, d_vars)
    z = current.run(model.sample_latent, batch)
    (g_loss, _), grads = current.gradient(lambda: (model.generator_loss(z, labels), None),
                                          g_vars)
    current.run(model.g_optimizer.apply, grads, g_vars)
    current.run(model.update_ema)
    current.run(model.optimizer.iterations.assign_add, 1)
    logs = current.run(model.update_loss_metrics, d_loss, g_loss, penalty)
    return logs, tuple(current.get(group) for group in groups)


# -- convolutions that XLA:CPU runs fast -------------------------------------------------
#
# The specgan step (benchmarks/README.md has the profile) spent 70 % of its time in
# convolutions that XLA:CPU runs 10-80x slower than their size warrants, and most of the
# rest in transposed convolutions that multiply inserted zeros. Three rules, each giving
# the same products and sums in another arrangement:
#
# 1. A transposed convolution (the generator's Conv2DTranspose, and autodiff's gradient
#    of a strided convolution with respect to its input) reaches XLA as a convolution of
#    an input dilated by the stride: 3 of every 4 products are with inserted zeros, and
#    when the input is smaller than the kernel (4x4 against 5x5) XLA's algebraic
#    simplifier swaps the operands into a reversed-window convolution that XLA:CPU
#    runs in a naive loop (190 ms instead of 4 at batch 64). ``_subpixel`` computes
#    each output phase from the undilated input with the kernel taps that reach it.
# 2. The kernel gradient of a transposed convolution (in the gradient penalty's second
#    derivative and the generator's update) is a convolution of the dilated small map
#    with the large one as "kernel": XLA swaps it too (13-290 ms each, 3-14 ms after).
#    ``_swapped`` swaps the operands itself, moving the dilation to the kernel side and
#    reversing the small output instead of the window.
# 3. XLA:CPU gives a convolution to YNNPACK only when it has more than 16 input or
#    output channels (``IsConvolutionOpSupportedByYnn`` in XLA's ynn_support.cc);
#    smaller ones go to Eigen, 2x slower for the critic's first layer (1 -> 8
#    channels) even counting the padding. ``_widened`` pads the output channels to 17
#    with zero filters and drops them again.

# The fewest channels (input or output) with which XLA:CPU hands a convolution to YNNPACK.
_YNN_CHANNELS = 17


def fast_cpu_convolutions(fn, fallback=False):
    """``fn`` with every convolution of its traced computation rewritten by the rules
    above, those autodiff derives from the model's included: the rewrite happens on the
    traced computation (a jaxpr), after differentiation, so gradients of gradients are
    covered as well.

    Args:
        fn: callable. A function of arrays and pytrees of arrays (the step).
        fallback: bool. Whether a traced computation the rewrite cannot evaluate (a
            jaxpr of a JAX version it does not know) runs as traced, with a warning,
            instead of raising. Errors of ``fn`` itself are raised either way.
            Defaults to False.
    """

    @functools.wraps(fn)
    def rewritten(*args):
        closed, out_shape = jax.make_jaxpr(fn, return_shape=True)(*args)
        leaves = jax.tree.leaves(args)
        try:
            outs = _evaluate(closed.jaxpr, closed.consts, leaves)
        except Exception as error:
            if not fallback:
                raise
            warnings.warn(
                f"keras_soundgan could not rewrite the JAX step's convolutions for the "
                f"CPU ({type(error).__name__}: {error}); training with XLA's own "
                f"convolutions, several times slower here. Setting keras_soundgan."
                f"models.jax_step.REWRITE_CPU_CONVOLUTIONS = False skips the attempt.",
                stacklevel=2)
            outs = jax_core.jaxpr_as_fun(closed)(*leaves)
        return jax.tree.unflatten(jax.tree.structure(out_shape), outs)

    return rewritten


def _evaluate(jaxpr, consts, args):
    """Evaluates ``jaxpr`` (binding every primitive again, under the caller's trace)
    with its convolutions, and those of the ``jit`` calls it contains, rewritten."""
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))

    def read(var):
        return var.val if isinstance(var, jax_core.Literal) else env[var]

    for eqn in jaxpr.eqns:
        inputs = [read(var) for var in eqn.invars]
        if eqn.primitive is lax.conv_general_dilated_p:
            outputs = [_convolution(*inputs, **eqn.params)]
        elif eqn.primitive.name in ("jit", "pjit"):  # inlined, as XLA would
            inner = eqn.params["jaxpr"]
            outputs = _evaluate(inner.jaxpr, inner.consts, inputs)
        else:
            params, subfuns = eqn.primitive.get_bind_params(eqn.params), ()
            if isinstance(params, tuple):  # older JAX: (subfuns, params)
                subfuns, params = params
            with eqn.ctx.manager:
                out = eqn.primitive.bind(*subfuns, *inputs, **params)
            outputs = out if eqn.primitive.multiple_results else [out]
        env.update(zip(eqn.outvars, outputs))
    return [read(var) for var in jaxpr.outvars]


def _convolution(lhs, rhs, **params):
    """``lax.conv_general_dilated_p`` with ``params``, as one of the rules above where
    one applies, else as it was."""
    dn = params["dimension_numbers"]
    plain = (params["feature_group_count"] == 1 and params["batch_group_count"] == 1
             and all(d == 1 for d in params["rhs_dilation"]))
    dilated = any(d > 1 for d in params["lhs_dilation"])
    channels_last = tuple(dn.lhs_spec) == (0, 3, 1, 2) and tuple(dn.out_spec) == (0, 3, 1, 2)
    in_channels, out_channels = rhs.shape[dn.rhs_spec[1]], rhs.shape[dn.rhs_spec[0]]
    out = None
    if plain and dilated and all(s == 1 for s in params["window_strides"]):
        if channels_last:
            out = _subpixel(lhs, rhs, params)
        if out is None and (math.prod(rhs.shape[d] for d in dn.rhs_spec[2:])
                            > math.prod(lhs.shape[d] for d in dn.lhs_spec[2:])):
            out = _swapped(lhs, rhs, params)
    elif (plain and not dilated and channels_last
          and max(in_channels, out_channels) < _YNN_CHANNELS):
        out = _widened(lhs, rhs, params)
    if out is None:
        out = lax.conv_general_dilated_p.bind(lhs, rhs, **params)
    return out


def _conv(lhs, rhs, params, dimension_numbers, padding, rhs_dilation=None):
    """A stride-1 convolution with ``params``' other settings (precision, type), through
    ``_convolution`` (so that a narrow one is widened too)."""
    n = len(padding)
    return _convolution(lhs, rhs, **dict(
        params, window_strides=(1,) * n, padding=tuple(map(tuple, padding)),
        lhs_dilation=(1,) * n, rhs_dilation=tuple(rhs_dilation or (1,) * n),
        dimension_numbers=dimension_numbers))


def _subpixel(lhs, rhs, params):
    """Rule 1: a stride-1 convolution of a channels-last input dilated by ``s`` (per
    spatial axis) as convolutions of the undilated input, one per output phase (output
    index modulo ``s``) with the kernel taps that meet input samples in that phase,
    interleaved. With few channels (Eigen's case) the phases are one convolution with
    ``prod(s)`` times the output channels, the taps of each phase zero-padded to a
    common window, and a depth-to-space. None where the shapes do not fit (an output
    length not a multiple of ``s``, a kernel shorter than ``s``, negative padding)."""
    dn = params["dimension_numbers"]
    rs = dn.rhs_spec
    kernel = jnp.transpose(rhs, (rs[2], rs[3], rs[1], rs[0]))  # HWIO
    k_len, s = kernel.shape[:2], params["lhs_dilation"]
    a_len = lhs.shape[1:3]
    in_channels, out_channels = kernel.shape[2:]
    as_channels = max(in_channels, out_channels) < _YNN_CHANNELS
    axes = []  # per spatial axis: per phase, (first tap, taps, padding); the common window
    for i in range(2):
        low, high = params["padding"][i]
        out_len = (a_len[i] - 1) * s[i] + 1 + low + high - k_len[i] + 1
        if out_len % s[i] or k_len[i] < s[i]:
            return None
        m = out_len // s[i]
        phases = []
        for r in range(s[i]):
            first = (low - r) % s[i]  # the taps first, first + s, ... meet input samples
            offset = (r + first - low) // s[i]  # output m reads input m + offset + t
            taps = len(range(first, k_len[i], s[i]))
            phases.append((first, taps, offset, (-offset, m + taps + offset - a_len[i] - 1)))
        start = min(offset for _, _, offset, _ in phases)
        window = max(offset - start + taps for _, taps, offset, _ in phases)
        common = (-start, m + window + start - a_len[i] - 1)
        if min(min(pad) for *_, pad in phases) < 0 or min(common) < 0:
            return None
        axes.append((phases, start, window, common))
    nhwc = lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    pieces = []
    for (fh, th, oh, ph), (fw, tw, ow, pw) in itertools.product(axes[0][0], axes[1][0]):
        taps = kernel[fh::s[0], fw::s[1]]
        if as_channels:  # the taps at their place in the common window
            (_, sh, wh, _), (_, sw, ww, _) = axes
            pieces.append(jnp.pad(taps, [(oh - sh, wh - (oh - sh) - th),
                                         (ow - sw, ww - (ow - sw) - tw), (0, 0), (0, 0)]))
        else:
            pieces.append(_conv(lhs, taps, params, nhwc, [ph, pw]))
    if as_channels:
        kernel = jnp.stack(pieces, axis=3).reshape(axes[0][2], axes[1][2], in_channels, -1)
        y = _conv(lhs, kernel, params, nhwc, [axes[0][3], axes[1][3]])
    else:
        y = jnp.stack(pieces, axis=3)
    b, mh, mw = y.shape[:3]
    y = y.reshape(b, mh, mw, s[0], s[1], out_channels).transpose(0, 1, 3, 2, 4, 5)
    return y.reshape(b, mh * s[0], mw * s[1], out_channels)


def _swapped(lhs, rhs, params):
    """Rule 2: a stride-1 convolution of a dilated input whose kernel is spatially the
    larger operand, as the convolution of the kernel by the input (the dilation moving
    to the kernel side), its output reversed. None where a padding would be negative."""
    dn = params["dimension_numbers"]
    s = params["lhs_dilation"]
    a_len = [lhs.shape[d] for d in dn.lhs_spec[2:]]
    k_len = [rhs.shape[d] for d in dn.rhs_spec[2:]]
    pads = []
    for i, (low, high) in enumerate(params["padding"]):
        out_len = (a_len[i] - 1) * s[i] + 1 + low + high - k_len[i] + 1
        new_low = out_len - 1 - low
        pads.append((new_low, out_len + s[i] * (a_len[i] - 1) - k_len[i] - new_low))
    if min(min(p) for p in pads) < 0:
        return None
    ls, rs, os_ = dn.lhs_spec, dn.rhs_spec, dn.out_spec
    swapped = lax.ConvDimensionNumbers(tuple(rs), tuple(ls), (os_[1], os_[0], *os_[2:]))
    y = _conv(rhs, lhs, params, swapped, pads, rhs_dilation=tuple(s))
    return lax.rev(y, tuple(os_[2:]))


def _widened(lhs, rhs, params):
    """Rule 3: a channels-last convolution with at most 16 input and output channels,
    with zero filters added up to ``_YNN_CHANNELS`` outputs and dropped again."""
    dn = params["dimension_numbers"]
    widths = [(0, 0)] * rhs.ndim
    widths[dn.rhs_spec[0]] = (0, _YNN_CHANNELS - rhs.shape[dn.rhs_spec[0]])
    y = lax.conv_general_dilated_p.bind(lhs, jnp.pad(rhs, widths), **params)
    return y[..., :rhs.shape[dn.rhs_spec[0]]]
