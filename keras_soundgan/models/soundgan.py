"""SoundGAN: the generator and the discriminator in one ``keras.Model``.

``fit`` trains both networks adversarially through an overridden ``train_step``. Keras 3
has no backend-agnostic custom ``train_step`` (TensorFlow and PyTorch call
``train_step(data)``, JAX calls a pure ``train_step(state, data)``), so the method
dispatches to a small per-backend module holding only the gradient glue
(``tf_step``, ``jax_step``, ``torch_step``). The losses, the noise, the gradient
penalty's formula and the metrics live here, in ``keras.ops``, shared by all backends.
"""

from __future__ import annotations

import contextlib
import importlib

import keras
import numpy as np
from keras import ops

from keras_soundgan.checks import check_integer
from keras_soundgan.config import SoundGANConfig
from keras_soundgan.models import losses
from keras_soundgan.models.augment import augment, parse_policy
from keras_soundgan.models.discriminator import build_discriminator
from keras_soundgan.models.generator import build_generator
from keras_soundgan.registration import PACKAGE

__all__ = ["ADA_IMAGES", "SoundGAN"]

#: How fast adaptive augmentation moves: its probability can go from 0 to 1 in this
#: many real examples (ADA uses 500,000 for runs of millions; these runs see a few
#: hundred thousand).
ADA_IMAGES = 20_000

_STEP_MODULES = {
    "tensorflow": "keras_soundgan.models.tf_step",
    "jax": "keras_soundgan.models.jax_step",
    "torch": "keras_soundgan.models.torch_step",
}


def _backend_module():
    backend = keras.backend.backend()
    if backend not in _STEP_MODULES:
        raise RuntimeError(
            f"SoundGAN trains on the tensorflow, jax and torch backends, not {backend!r}"
        )
    return importlib.import_module(_STEP_MODULES[backend])


class _Presets:
    """``SoundGAN.presets``: ``{name: metadata}`` of the pretrained presets, read from
    the package's files when asked (keras-hub's ``Backbone.presets``)."""

    def __get__(self, instance, owner):
        from keras_soundgan.pretrained import list_pretrained

        return list_pretrained()


@keras.saving.register_keras_serializable(package=PACKAGE)
class SoundGAN(keras.Model):
    """A spectrogram GAN: a Conv2DTranspose generator and a Conv2D discriminator.

    Args:
        config: a :class:`~keras_soundgan.SoundGANConfig`, its ``get_config()`` dict,
            or a preset name. Defaults to the ``tiny`` preset. (The configuration
            only, untrained: :meth:`from_preset` gives a trained model.)
        class_names: a conditional model's class names, in label order (``None``: the
            labels have numbers only). Saved with the model; ``generate`` and
            ``generate_audio`` then take names as labels, and exports record them.

    Calling the model runs the generator: ``model(z)`` maps noise ``[batch,
    latent_dim]`` to normalised spectrogram images ``[batch, height, width, 1]``
    (``model([z, labels])`` for a conditional model, ``config.generator.num_classes``
    > 0, which ``fit`` trains on ``(images, labels)`` batches).

    The model also holds the spectrogram normalisation statistics (per-frequency-bin
    mean and std of the training data's log magnitude) as non-trainable weights, so a
    saved ``.keras`` file is enough to turn generated images back into audio.

    Example:
        >>> import numpy as np
        >>> from keras_soundgan import SoundGAN
        >>> model = SoundGAN("tiny")
        >>> model.compile()
        >>> images = np.random.uniform(-1, 1, (64, 64, 64, 1)).astype("float32")
        >>> history = model.fit(images, batch_size=32, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['d_loss', 'g_loss']
        >>> model.generate(4, seed=0).shape
        (4, 64, 64, 1)
    """

    def __init__(self, config: SoundGANConfig | dict | str | None = None,
                 class_names=None, **kwargs):
        super().__init__(**kwargs)
        if config is None:
            config = SoundGANConfig.from_preset("tiny")
        elif isinstance(config, str):
            config = SoundGANConfig.from_preset(config)
        elif not isinstance(config, SoundGANConfig):
            config = SoundGANConfig.from_config(config)
        self.config = config
        self.generator = build_generator(config)
        self.discriminator = build_discriminator(config)
        self.num_classes = config.generator.num_classes
        self.class_names = _check_class_names(class_names, self.num_classes)
        self.augmentation = parse_policy(config.training.augmentation)
        # Adaptive augmentation (ADA): the probability of each augmentation, adjusted
        # after every critic update; part of the model's state (saved, resumed).
        self.augment_probability = None
        if self.augmentation and config.training.augmentation_target > 0:
            self.augment_probability = self.add_weight(
                shape=(), initializer="zeros", trainable=False, aggregation="mean",
                name="augment_probability")
        # The auxiliary classifier (AC-GAN) exists for conditional models only.
        self.classification_weight = (config.training.classification_weight
                                      if self.num_classes else 0.0)
        # The exponential moving average of the generator, when configured: a frozen
        # copy (its weights are non-trainable state) that generate() uses.
        self.ema_generator = None
        if config.training.ema_decay > 0:
            self.ema_generator = build_generator(config, name="ema_generator")
            self.ema_generator.set_weights(self.generator.get_weights())
            self.ema_generator.trainable = False
        self.seed_generator = keras.random.SeedGenerator(config.training.seed, name="noise_seed")
        height = config.spectrogram.height
        self.spectrogram_mean = self.add_weight(
            shape=(height,), initializer="zeros", trainable=False, name="spectrogram_mean")
        self.spectrogram_std = self.add_weight(
            shape=(height,), initializer="ones", trainable=False, name="spectrogram_std")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.gp_tracker = (keras.metrics.Mean(name="gradient_penalty")
                           if config.training.loss == "wgan-gp" else None)
        self.d_optimizer = None
        self.g_optimizer = None
        self._compile_kwargs = {}
        self.built = True

    # -- pretrained presets ----------------------------------------------------------------

    presets = _Presets()

    @classmethod
    def from_preset(cls, preset):
        """A trained model: a pretrained preset's name (see :attr:`presets`: ``"drums"``,
        ``"notes"``, ``"speech"``, ``"tiny"``) or a folder written by
        :meth:`save_to_preset`. Its weights, spectrogram statistics and class names
        come with it; ``compile()`` it to fine-tune.

        ``SoundGAN("drums")`` builds the drums *configuration*, untrained.

        Example:
            >>> from keras_soundgan import SoundGAN
            >>> model = SoundGAN.from_preset("drums")
            >>> model.class_names
            ('cymbal', 'hihat', 'kick', 'snare', 'tom')
            >>> model.generate_audio(2, seed=0, labels="kick").shape
            (2, 16384)
        """
        from keras_soundgan.pretrained import load_preset

        return load_preset(preset, cls=cls)

    def save_to_preset(self, directory, weights_dtype: str = "float32", metadata=None):
        """Writes the model to a folder that :meth:`from_preset` reads: its config,
        class names, spectrogram statistics and weights (no optimizer state). See
        :func:`keras_soundgan.pretrained.save_to_preset`."""
        from keras_soundgan.pretrained import save_to_preset

        return save_to_preset(self, directory, weights_dtype=weights_dtype,
                              metadata=metadata)

    # -- Keras plumbing ------------------------------------------------------------------

    def call(self, inputs, training=False):
        return self.generator(inputs, training=training)

    def get_config(self):
        base = super().get_config()
        config = {"name": base.get("name"), "trainable": base.get("trainable", True),
                  "config": self.config.get_config()}
        if self.class_names is not None:
            config["class_names"] = list(self.class_names)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(config=SoundGANConfig.from_config(config.pop("config")), **config)

    def save_own_variables(self, store):
        super().save_own_variables(store)
        # The noise state is not saved by Keras; keep it so that a resumed run draws
        # the same noise as an uninterrupted one.
        store["noise_seed_state"] = self.seed_generator.state

    def load_own_variables(self, store):
        own = self._trainable_variables + self._non_trainable_variables
        for i, variable in enumerate(own):
            variable.assign(store[f"{i}"])
        if "noise_seed_state" in store.keys():
            self.seed_generator.state.assign(store["noise_seed_state"])

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker]
        if self.gp_tracker is not None:
            trackers.append(self.gp_tracker)
        return trackers

    def compile(self, d_optimizer=None, g_optimizer=None, **kwargs):
        """Configures training.

        Args:
            d_optimizer: optimizer (instance, name or config) for the discriminator.
                Default: Adam with ``config.training``'s d_learning_rate and betas.
            g_optimizer: optimizer for the generator. Default: Adam with
                ``config.training``'s g_learning_rate and betas.
            **kwargs: passed to ``keras.Model.compile`` (``jit_compile``,
                ``steps_per_execution``, ``run_eagerly``, ...). ``loss``, ``optimizer``
                and ``metrics`` are not accepted: the losses come from
                ``config.training.loss`` and the metrics are the losses.
        """
        for key in ("loss", "optimizer", "metrics"):
            if key in kwargs:
                raise ValueError(
                    f"SoundGAN.compile() does not take {key!r}: the adversarial losses are "
                    f"set by config.training.loss and the optimizers by d_optimizer and "
                    f"g_optimizer"
                )
        t = self.config.training
        if d_optimizer is None:
            d_optimizer = keras.optimizers.Adam(t.d_learning_rate, beta_1=t.beta_1,
                                                beta_2=t.beta_2, name="d_adam")
        if g_optimizer is None:
            g_optimizer = keras.optimizers.Adam(t.g_learning_rate, beta_1=t.beta_1,
                                                beta_2=t.beta_2, name="g_adam")
        self.d_optimizer = keras.optimizers.get(d_optimizer)
        self.g_optimizer = keras.optimizers.get(g_optimizer)
        if self.d_optimizer is self.g_optimizer:
            raise ValueError("d_optimizer and g_optimizer must be two different optimizers")
        # One optimizer holding both, so that Keras (and JAX's functional state) sees
        # every optimizer variable. Variables are routed by identity, not by path,
        # because paths change when a .keras file is loaded.
        generator_ids = {id(v) for v in self.generator.trainable_variables}
        d_opt, g_opt = self.d_optimizer, self.g_optimizer
        optimizer = keras.optimizers.MultiOptimizer(
            lambda v: g_opt if id(v) in generator_ids else d_opt, name="soundgan_optimizer"
        )
        self._compile_kwargs = dict(kwargs)
        super().compile(optimizer=optimizer, **kwargs)
        # Build now: TensorFlow would otherwise leave it unbuilt and fail after fit.
        optimizer.build(self.trainable_variables)

    def get_compile_config(self):
        if self.d_optimizer is None:
            return None
        return {
            "d_optimizer": keras.optimizers.serialize(self.d_optimizer),
            "g_optimizer": keras.optimizers.serialize(self.g_optimizer),
            **{k: v for k, v in self._compile_kwargs.items()
               if isinstance(v, (int, float, str, bool, type(None)))},
        }

    def compile_from_config(self, config):
        config = dict(config)
        self.compile(
            d_optimizer=keras.optimizers.deserialize(config.pop("d_optimizer")),
            g_optimizer=keras.optimizers.deserialize(config.pop("g_optimizer")),
            **config,
        )

    # -- the shared pieces of a training step (keras.ops only) ----------------------------

    def sample_latent(self, batch_size):
        """Noise ``z`` of shape ``[batch_size, latent_dim]`` from the model's seed state.

        Under a multi-replica ``tf.distribute`` strategy ``batch_size`` is the replica's
        share: the noise is drawn for the global batch and each replica keeps its rows,
        so that N devices see the noise one device would."""
        latent_dim = self.config.generator.latent_dim
        if self.config.generator.latent_distribution == "uniform":
            def draw(n):
                return keras.random.uniform((n, latent_dim), -1.0, 1.0,
                                            seed=self.seed_generator)
        else:
            def draw(n):
                return keras.random.normal((n, latent_dim), seed=self.seed_generator)
        return _per_replica(draw, batch_size)

    def unpack_batch(self, data):
        """``(images, labels or None)`` from a batch ``fit`` received (images, or an
        ``(images, labels)`` tuple); a conditional model requires the labels."""
        if isinstance(data, (tuple, list)):
            real = data[0]
            labels = data[1] if len(data) > 1 else None
        else:
            real, labels = data, None
        real = ops.convert_to_tensor(real)  # numpy would break `real + tensor` on torch
        if not self.num_classes:
            return real, None
        if labels is None:
            raise ValueError(
                "this SoundGAN is conditional (generator.num_classes="
                f"{self.num_classes}): fit it on (images, labels) batches")
        return real, ops.cast(ops.reshape(labels, (-1,)), "int32")

    def _g(self, z, labels, training=True, generator=None):
        generator = generator or self.generator
        z = ops.convert_to_tensor(z)
        return generator(z if labels is None else [z, labels], training=training)

    def _d(self, images, labels, training=True):
        """The discriminator's ``(scores, class logits or None)`` for ``images``, which
        it sees through the configured augmentations."""
        if self.augmentation:
            images = augment(images, self.augmentation, self.seed_generator,
                             draw=lambda fn, n: _per_replica(fn, n),
                             probability=self.augment_probability)
        out = self.discriminator(images if labels is None else [images, labels],
                                 training=training)
        if self.classification_weight:
            return out[0], out[1]
        return out, None

    def _classification_loss(self, logits, labels):
        return self.classification_weight * ops.mean(
            ops.sparse_categorical_crossentropy(labels, logits, from_logits=True))

    def discriminator_loss(self, real, z, input_gradient, labels=None):
        """The discriminator's loss on a real batch and the generator's output for ``z``.

        ``input_gradient(fn, x)`` is the backend's gradient of ``sum(fn(x))`` with
        respect to ``x``, differentiable again (for the gradient penalties).
        ``labels`` are the batch's class labels for a conditional model (the fakes are
        drawn for the same labels). Returns ``(loss, gradient_penalty or None)``.
        """
        t = self.config.training
        real = ops.convert_to_tensor(real)  # numpy would break `real + tensor` on torch
        labels = None if labels is None else ops.convert_to_tensor(labels)
        # The critic's loss needs no gradient through the generator: on torch, do not
        # even record its graph (stop_gradient alone would record, then drop it).
        with getattr(_backend_module(), "no_gradient", contextlib.nullcontext)():
            fake = self._g(z, labels)
        fake = ops.stop_gradient(fake)
        real_scores, real_logits = self._d(real, labels)
        fake_scores, _ = self._d(fake, labels)
        if self.augment_probability is not None:
            self._adapt_augmentation(real_scores)
        loss = losses.discriminator_loss(t.loss, real_scores, fake_scores)
        if real_logits is not None:  # AC-GAN: name the class of the real examples
            loss = loss + self._classification_loss(real_logits, labels)
        penalty = None
        if t.loss == "wgan-gp":
            batch = ops.shape(real)[0]
            alpha = _per_replica(
                lambda n: keras.random.uniform((n, 1, 1, 1), seed=self.seed_generator),
                batch)
            mixed = real + alpha * (fake - real)
            grads = input_gradient(lambda x: self._d(x, labels)[0], mixed)
            penalty = losses.gradient_penalty(grads)
            loss = loss + t.gradient_penalty_weight * penalty
        if t.r1_weight > 0:
            grads = input_gradient(lambda x: self._d(x, labels)[0], real)
            loss = loss + 0.5 * t.r1_weight * losses.r1_penalty(grads)
        return loss, penalty

    def _adapt_augmentation(self, real_scores):
        """ADA's update: ``p += sign(E[sign(D(real))] - target) * batch / ADA_IMAGES``,
        clipped to [0, 1]. ``E[sign(D(real))]`` near 1 means the critic is sure of every
        real example: it is memorising them."""
        overfitting = ops.mean(ops.sign(ops.stop_gradient(real_scores)))
        step = ops.cast(ops.shape(real_scores)[0], "float32") / ADA_IMAGES
        change = ops.sign(overfitting - self.config.training.augmentation_target) * step
        self.augment_probability.assign(
            ops.clip(self.augment_probability + change, 0.0, 1.0))

    def generator_loss(self, z, labels=None):
        """The generator's loss for noise ``z`` (and labels, when conditional): the
        adversarial loss, plus (AC-GAN) the classification loss of its sounds as the
        classes they were asked for."""
        labels = None if labels is None else ops.convert_to_tensor(labels)
        fake = self._g(z, labels)
        scores, logits = self._d(fake, labels)
        loss = losses.generator_loss(self.config.training.loss, scores)
        if logits is not None:
            loss = loss + self._classification_loss(logits, labels)
        return loss

    def update_ema(self):
        """Moves the generator's moving average one step towards its weights (and copies
        its BatchNorm statistics); a no-op without ``training.ema_decay``.

        The decay warms up as in ``tf.train.ExponentialMovingAverage``: at step ``n``
        it is ``min(ema_decay, (1 + n) / (10 + n))``, so that the average follows the
        generator closely while it changes fast and is smooth once it settles (with
        0.999 a plain average would still remember the random start after 1,000 steps).
        """
        if self.ema_generator is None:
            return
        step = ops.cast(self.optimizer.iterations, "float32")
        decay = ops.minimum(self.config.training.ema_decay, (1.0 + step) / (10.0 + step))
        for average, current in zip(self.ema_generator.weights, self.generator.weights):
            if current.trainable:
                average.assign(decay * average + (1.0 - decay) * current)
            else:
                average.assign(current)

    def update_loss_metrics(self, d_loss, g_loss, penalty):
        """Updates the loss trackers and returns the logs ``fit`` shows."""
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        if self.gp_tracker is not None:
            self.gp_tracker.update_state(penalty)
        logs = {m.name: m.result() for m in self.metrics}
        if self.augment_probability is not None:
            logs["augment_probability"] = ops.convert_to_tensor(self.augment_probability)
        return logs

    def _maybe_symbolic_build(self, *args, **kwargs):
        # A private hook of Keras's TensorFlow trainer, called at the start of fit
        # (keras_soundgan.internals.SYMBOLIC_BUILD_HOOK, tested there).
        if _backend_module().skip_symbolic_build(self):
            return None
        return super()._maybe_symbolic_build(*args, **kwargs)

    def train_step(self, *args):
        # TensorFlow and torch: train_step(data); JAX: train_step(state, data).
        return _backend_module().train_step(self, *args)

    def test_step(self, *args):
        raise NotImplementedError(
            "SoundGAN has no validation loss: a GAN's losses do not measure quality. "
            "Use keras_soundgan.metrics on generated audio instead of validation_data."
        )

    # -- generation -----------------------------------------------------------------------

    def latent(self, n: int, seed: int | None = None) -> np.ndarray:
        """``n`` noise vectors from numpy's generator seeded with ``seed``: the same
        noise on every backend for the same seed."""
        n = _positive_int(n, "n")
        rng = np.random.default_rng(seed)
        shape = (n, self.config.generator.latent_dim)
        if self.config.generator.latent_distribution == "uniform":
            return rng.uniform(-1.0, 1.0, shape).astype("float32")
        return rng.standard_normal(shape).astype("float32")

    def generate(self, n: int, seed: int | None = None, batch_size: int = 64,
                 z=None, labels=None) -> np.ndarray:
        """Generates ``n`` normalised spectrogram images, ``[n, height, width, 1]``.

        Uses the moving average of the generator when ``training.ema_decay`` is set.

        Args:
            n: how many.
            seed: seeds the noise (``None`` draws fresh noise); the same seed gives the
                same images from the same weights on every backend.
            batch_size: generator batch size.
            z: noise to use instead of drawing it, ``[n, latent_dim]``.
            labels: for a conditional model, the class of each sound: one int for all,
                or ``n`` ints in ``[0, num_classes)`` (or class names, where the model
                has ``class_names``). Default: every class in turn.
        """
        if z is None:
            z = self.latent(n, seed)
        else:
            z = np.asarray(z, dtype="float32")
            if z.shape != (n, self.config.generator.latent_dim):
                raise ValueError(
                    f"z must have shape ({n}, {self.config.generator.latent_dim}), "
                    f"got {z.shape}")
        batch_size = _positive_int(batch_size, "batch_size")
        labels = self.labels_for(n, labels)
        generator = self.ema_generator or self.generator
        out = []
        for i in range(0, n, batch_size):
            zb = ops.convert_to_tensor(z[i:i + batch_size])
            yb = None if labels is None else ops.convert_to_tensor(labels[i:i + batch_size])
            out.append(ops.convert_to_numpy(self._g(zb, yb, training=False, generator=generator)))
        return np.concatenate(out, axis=0)

    def labels_for(self, n: int, labels=None):
        """The class of each of ``n`` sounds that :meth:`generate` makes for
        ``labels`` (one int, ``n`` ints, or None: every class in turn), checked;
        None for an unconditional model.

        Args:
            n: int. How many sounds.
            labels: None, int or sequence of ``n`` ints. As in :meth:`generate`; where
                the model has ``class_names``, a name or ``n`` names as well.

        Returns:
            int32 array ``[n]``, or None for an unconditional model.
        """
        if not self.num_classes:
            if labels is not None:
                raise ValueError("labels were given, but this SoundGAN is unconditional "
                                 "(generator.num_classes=0)")
            return None
        if labels is None:
            return (np.arange(n) % self.num_classes).astype("int32")
        if isinstance(labels, str) or (np.ndim(labels) > 0 and any(
                isinstance(label, str) for label in labels)):
            labels = self.label_index(labels)
        labels = np.asarray(labels)
        if labels.ndim == 0:
            labels = np.full(n, labels)
        if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be one integer or {n} integers, got {labels!r}")
        bad = labels[(labels < 0) | (labels >= self.num_classes)]
        if bad.size:
            raise ValueError(f"label {int(bad[0])} is not a class of this model: labels are "
                             f"0 to {self.num_classes - 1}")
        return labels.astype("int32")

    def label_index(self, names):
        """The label of a class name (or an int array of the labels of several), with
        an error that lists the classes for a name this model does not know."""
        if isinstance(names, str):
            return int(self.label_index([names])[0])
        classes = list(self.class_names or ())
        indices = []
        for name in names:
            if name not in classes:
                known = (", ".join(classes) if classes
                         else f"numbers only, 0 to {self.num_classes - 1}")
                raise ValueError(f"unknown label {name!r}; this model's labels are: {known}")
            indices.append(classes.index(name))
        return np.asarray(indices, dtype="int32")

    # -- spectrogram statistics -----------------------------------------------------------

    def set_spectrogram_statistics(self, mean, std):
        """Stores the training data's per-bin statistics (``SpectrogramTransform.mean``
        and ``.std``) in the model, so that a saved model can make audio."""
        height = self.config.spectrogram.height
        mean = np.asarray(mean, dtype="float32")
        std = np.asarray(std, dtype="float32")
        if mean.shape != (height,) or std.shape != (height,):
            raise ValueError(
                f"mean and std must have shape ({height},), got {mean.shape} and {std.shape}")
        self.spectrogram_mean.assign(mean)
        self.spectrogram_std.assign(std)

    def spectrogram_transform(self):
        """The :class:`~keras_soundgan.audio.spectral.SpectrogramTransform` that undoes
        the training data's normalisation (built from the stored statistics)."""
        from keras_soundgan.audio.spectral import SpectrogramTransform

        return SpectrogramTransform(
            self.config.spectrogram,
            mean=ops.convert_to_numpy(self.spectrogram_mean),
            std=ops.convert_to_numpy(self.spectrogram_std),
        )

    def generate_audio(self, n: int, seed: int | None = None, batch_size: int = 64,
                       n_iter: int | None = None, labels=None, z=None) -> np.ndarray:
        """Generates ``n`` sounds, ``[n, slice_length]`` float32 at
        ``config.spectrogram.sample_rate``: images, then the inverse transform
        (de-normalisation and Griffin-Lim).

        Args:
            n: how many sounds.
            seed: seeds the noise (``None``: fresh noise), as in :meth:`generate`.
            batch_size: generator batch size.
            n_iter: Griffin-Lim iterations (default: ``spectrogram.griffin_lim_iters``).
            labels: classes for a conditional model, as in :meth:`generate`.
            z: noise to use instead of drawing it, as in :meth:`generate`.
        """
        images = self.generate(n, seed=seed, batch_size=batch_size, labels=labels, z=z)
        return self.spectrogram_transform().inverse(images, n_iter=n_iter)

    def export(self, filepath, format="tf_saved_model", verbose=None,
               input_signature=None, **kwargs):
        """Exports the generator with the audio inverse inside, the Keras way.

        The same as :func:`keras_soundgan.export_model(model, filepath, format, ...)
        <keras_soundgan.export.export_model>`: the artifact's ``waveform`` signature
        gives sound, and its metadata carries the sample rate and the class names.
        ``keras.Model.export`` would write the bare generator (spectrogram images).

        Args:
            filepath: the file or folder to write (see ``export_model``'s ``output``).
            format: ``"tf_saved_model"`` (Keras's default, the same as
                ``"saved_model"``), ``"litert"``, ``"onnx"`` or ``"web"``.
            verbose: bool. Print the converters' logs.
            input_signature: not accepted: the signatures are the generator's own
                (``z``, and ``label`` for a conditional model).
            **kwargs: ``export_model``'s keywords: ``quantize``, ``signature``,
                ``calibration``, ``griffin_lim_iters``, ``initial_phase``,
                ``class_names``, ``calibration_samples``.

        Returns:
            ``pathlib.Path``: what was written.
        """
        from keras_soundgan.export import FORMATS, export_model

        if input_signature is not None:
            raise ValueError("input_signature is not accepted: a SoundGAN export's "
                             "signatures take z (and label for a conditional model)")
        aliases = {"tf_saved_model": "saved_model"}
        if format not in FORMATS and format not in aliases:
            raise ValueError(f"format must be one of {', '.join((*aliases, *FORMATS))}, "
                             f"got {format!r}")
        return export_model(self, filepath, format=aliases.get(format, format),
                            verbose=bool(verbose), **kwargs)


def _per_replica(draw, batch_size):
    """``draw(batch_size)``; on TensorFlow, this replica's rows of the global draw."""
    if keras.backend.backend() == "tensorflow":
        from keras_soundgan.distribute import replica_rows

        return replica_rows(draw, batch_size)
    return draw(batch_size)


def _check_class_names(class_names, num_classes):
    if class_names is None:
        return None
    if isinstance(class_names, str) or not all(isinstance(c, str) for c in class_names):
        raise ValueError(f"class_names must be a list of strings, got {class_names!r}")
    class_names = tuple(class_names)
    if len(class_names) != num_classes or len(set(class_names)) != len(class_names):
        raise ValueError(f"class_names must name the model's {num_classes} classes once "
                         f"each (generator.num_classes), got {list(class_names)}")
    return class_names


def _positive_int(value, name):
    return check_integer(value, name, minimum=1)
