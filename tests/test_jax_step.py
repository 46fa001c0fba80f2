"""The JAX step's convolution rewrite (``jax_step.fast_cpu_convolutions``): XLA's own
results, to float32 rounding, from convolutions XLA:CPU runs fast.

The rewrite works on any JAX computation, so these tests run in every session (JAX comes
with the test extra); the one that trains a SoundGAN needs ``KERAS_BACKEND=jax``, and
tests/test_backends.py runs this file under each backend.
"""

import functools

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest
from jax import lax
from jax.extend import core as jax_core

from keras_soundgan import SoundGAN
from keras_soundgan.models import jax_step

NHWC = ("NHWC", "HWIO", "NHWC")


def _critic(params, x, stride, padding):
    """Strided convolutions (LeakyReLU between them) and a sum: one score per example."""
    for w in params:
        x = lax.conv_general_dilated(x, w, (stride, stride), padding, dimension_numbers=NHWC)
        x = jnp.where(x > 0, x, 0.2 * x)
    return jnp.sum(x, axis=(1, 2, 3))


def _generator(params, x, stride, padding):
    """Transposed convolutions (ReLU between them, tanh at the end)."""
    for i, w in enumerate(params):
        x = lax.conv_transpose(x, w, (stride, stride), padding, dimension_numbers=NHWC)
        x = jnp.tanh(x) if i == len(params) - 1 else jnp.maximum(x, 0.0)
    return x


def _wgan_gp(d_params, g_params, real, z, stride, padding):
    """WGAN-GP's critic loss (a double backward through the critic) and the generator's
    loss, with their gradients: every kind of convolution the SoundGAN step derives."""

    def d_loss(d_params):
        fake = _generator(g_params, z, stride, padding)
        mixed = 0.3 * real + 0.7 * fake

        def score_sum(x):
            return jnp.sum(_critic(d_params, x, stride, padding))

        grads = jax.grad(score_sum)(mixed)
        norms = jnp.sqrt(jnp.sum(grads**2, axis=(1, 2, 3)) + 1e-12)
        return (jnp.mean(_critic(d_params, fake, stride, padding))
                - jnp.mean(_critic(d_params, real, stride, padding))
                + 10.0 * jnp.mean((norms - 1.0) ** 2))

    def g_loss(g_params):
        return -jnp.mean(_critic(d_params, _generator(g_params, z, stride, padding), stride,
                                 padding))

    return jax.value_and_grad(d_loss)(d_params), jax.value_and_grad(g_loss)(g_params)


def _networks(kernel, stride, channels, size, padding, seed=0):
    """Critic and generator weights for ``size`` x ``size`` images: ``channels`` lists the
    critic's widths (the generator mirrors them); real images, and noise maps of the
    size the generator grows to ``size``."""
    rng = np.random.default_rng(seed)
    widths = [1, *channels]
    d_params = [rng.normal(0, 0.3, (kernel, kernel, a, b)).astype("float32")
                for a, b in zip(widths, widths[1:])]
    g_params = [rng.normal(0, 0.3, (kernel, kernel, a, b)).astype("float32")
                for a, b in zip(widths[::-1], widths[::-1][1:])]
    small = size
    for _ in channels:
        small = small // stride if padding == "SAME" else (small - kernel) // stride + 1
    real = rng.uniform(-1, 1, (2, size, size, 1)).astype("float32")
    z = rng.uniform(-1, 1, (2, small, small, channels[-1])).astype("float32")
    return d_params, g_params, real, z


def _convolutions(fn, *args):
    """The params of every convolution in ``fn``'s traced computation."""
    found = []

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive is lax.conv_general_dilated_p:
                found.append(eqn.params)
            for value in eqn.params.values():
                if isinstance(value, jax_core.ClosedJaxpr):
                    walk(value.jaxpr)

    walk(jax.make_jaxpr(fn)(*args).jaxpr)
    return found


def _dilated(convolutions):
    """Those of an input dilated by the stride: the transposed convolutions and their
    kernel gradients, the forms XLA:CPU runs slowly (or swaps into slower ones)."""
    return [p for p in convolutions if any(d > 1 for d in p["lhs_dilation"])]


@pytest.mark.parametrize("kernel, stride, channels, size, padding", [
    (5, 2, (8, 16, 32), 32, "SAME"),      # specgan's shape: a 4x4 map, a 5x5 kernel
    (4, 2, (4, 24), 16, "SAME"),          # tiny/dcgan's even kernel; YNN-sized channels
    (3, 2, (3, 5), 12, "SAME"),           # odd channel counts, 3x3 (a 3x3 map)
    (5, 3, (6, 20), 18, "SAME"),          # stride 3: three phases per axis
    (4, 2, (8, 8), 14, "VALID"),          # valid padding: 2 -> 6 -> 14
])
def test_rewritten_convolutions_give_xlas_values_and_gradients(kernel, stride, channels,
                                                               size, padding):
    args = _networks(kernel, stride, channels, size, padding)
    fn = functools.partial(_wgan_gp, stride=stride, padding=padding)
    fast = jax_step.fast_cpu_convolutions(fn)
    expected, got = jax.jit(fn)(*args), jax.jit(fast)(*args)
    for want, have in zip(jax.tree.leaves(expected), jax.tree.leaves(got)):
        want, have = np.asarray(want), np.asarray(have)
        # Sums of the same products in another order: float32 rounding only.
        np.testing.assert_allclose(have, want, rtol=0,
                                   atol=1e-5 * max(float(np.max(np.abs(want))), 1e-3))
    # Every dilated convolution (transposed ones, their gradients) was rewritten.
    assert len(_dilated(_convolutions(fn, *args))) >= 14
    assert _dilated(_convolutions(fast, *args)) == []


def test_the_rewrite_keeps_pytrees_and_literals():
    def fn(tree, scale):
        x = lax.conv_transpose(tree["x"], tree["w"], (2, 2), "SAME", dimension_numbers=NHWC)
        return {"y": x * scale + 1.0, "n": jnp.float32(2.0)}

    tree = {"x": jnp.ones((1, 3, 3, 2)), "w": jnp.ones((3, 3, 2, 4))}
    got = jax.jit(jax_step.fast_cpu_convolutions(fn))(tree, 0.5)
    want = jax.jit(fn)(tree, 0.5)
    assert set(got) == {"y", "n"}
    np.testing.assert_allclose(got["y"], want["y"], atol=1e-6)
    assert float(got["n"]) == 2.0


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="trains on the JAX backend")
def test_the_jax_step_trains_as_with_xlas_convolutions(small_config, monkeypatch, recwarn):
    # Plain SGD, so that the weights stay as close as the gradients are (Adam divides
    # rounding-sized gradients by their own size and can turn them into whole steps).
    images = np.random.default_rng(0).uniform(
        -1, 1, (16, *small_config.spectrogram.image_shape)).astype("float32")
    weights = {}
    for rewrite in (False, True):
        monkeypatch.setattr(jax_step, "REWRITE_CPU_CONVOLUTIONS", rewrite)
        keras.utils.set_random_seed(0)
        model = SoundGAN(small_config)
        model.compile(d_optimizer=keras.optimizers.SGD(1e-3),
                      g_optimizer=keras.optimizers.SGD(1e-3))
        model.fit(images, batch_size=8, epochs=1, verbose=0, shuffle=False)
        weights[rewrite] = [keras.ops.convert_to_numpy(v) for v in model.trainable_weights]
    for plain, fast in zip(weights[False], weights[True]):
        np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-6)
    # The rewrite ran (it warns when it falls back to XLA's own convolutions).
    assert not [w for w in recwarn if "could not rewrite" in str(w.message)]


def test_a_computation_the_rewrite_cannot_read_runs_as_traced(monkeypatch):
    def broken(*args, **kwargs):
        raise NotImplementedError("an unknown primitive")

    monkeypatch.setattr(jax_step, "_convolution", broken)

    def fn(x, w):
        return lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=NHWC)

    x, w = jnp.ones((1, 3, 3, 2)), jnp.ones((3, 3, 2, 4))
    with pytest.raises(NotImplementedError, match="an unknown primitive"):
        jax_step.fast_cpu_convolutions(fn)(x, w)
    with pytest.warns(UserWarning, match="could not rewrite the JAX step's convolutions"):
        got = jax_step.fast_cpu_convolutions(fn, fallback=True)(x, w)
    np.testing.assert_allclose(got, fn(x, w))
