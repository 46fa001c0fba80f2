"""JAX gradient glue for ``SoundGAN.train_step``; the losses live in soundgan.py.

Keras calls ``train_step(state, data)`` on JAX and wants it pure: every variable's value
comes in through ``state`` and every new value goes out through it. The step keeps the
current value of each variable in a dict and runs the model's ordinary, stateful code
inside ``keras.StatelessScope``s built from that dict: reads see the dict's values and
writes (BatchNorm statistics, the noise seed, optimizer slots, metric totals) are
collected from the scope afterwards. Gradients come from ``jax.value_and_grad`` over
the trainable values of the network being updated.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import keras
from keras.src.backend.common.stateless_scope import get_stateless_scope


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
        before = dict(outer.state_mapping)
        with keras.StatelessScope() as inner:
            inner.state_mapping = dict(before)
            y = fn(x)
        writes = {k: v for k, v in inner.state_mapping.items() if before.get(k) is not v}
        return jnp.sum(y), writes

    grads, writes = jax.grad(total, has_aux=True)(x)
    if outer is not None:
        outer.state_mapping.update(writes)
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
    trainable, non_trainable, optimizer_values, metric_values = state
    groups = (model.trainable_variables, model.non_trainable_variables,
              model.optimizer.variables, model.metrics_variables)
    current = _Values([v for group in groups for v in group],
                      [*trainable, *non_trainable, *optimizer_values, *metric_values])
    real, labels = model.unpack_batch(data)
    batch = real.shape[0]
    d_vars = model.discriminator.trainable_variables
    g_vars = model.generator.trainable_variables

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
