"""Configuration: Keras-serializable dataclasses, validation and named presets.

A :class:`SoundGANConfig` has five sections, one per stage of the data path:

* :class:`SpectrogramConfig`: audio rate, slice length and the spectral front end
  (what turns audio into the spectrogram "images" and back);
* :class:`GeneratorConfig` and :class:`DiscriminatorConfig`: the two networks;
* :class:`TrainingConfig`: loss, optimisers, batch size, epochs, seed;
* :class:`DataConfig`: how recordings are cut into examples (slicing, trimming).

Every section validates itself when it is constructed, and the whole config checks
that the sections agree (for example that the generator's layer stack can reach the
spectrogram's height and width). A bad value raises :class:`ValueError` naming the
field, the value and what is allowed, before any training starts.

Configs round-trip through ``get_config`` / ``from_config`` (and so through
``keras.saving.serialize_keras_object``) and through JSON files::

    >>> from keras_soundgan import SoundGANConfig
    >>> config = SoundGANConfig.from_preset("specgan", latent_dim=64)
    >>> config.generator.latent_dim
    64
    >>> SoundGANConfig.from_config(config.get_config()) == config
    True
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import typing
from typing import Any, Mapping

import keras

from keras_soundgan.checks import check_choice, check_integer
from keras_soundgan.config_presets import RECIPES
from keras_soundgan.registration import PACKAGE

__all__ = [
    "SpectrogramConfig",
    "GeneratorConfig",
    "DiscriminatorConfig",
    "TrainingConfig",
    "DataConfig",
    "SoundGANConfig",
    "PRESETS",
    "list_presets",
]

LOSSES = ("wgan-gp", "non-saturating", "hinge", "least-squares")
DISTRIBUTE = ("none", "auto", "mirrored", "multi-worker", "data-parallel")
LATENT_DISTRIBUTIONS = ("uniform", "normal")
NORMALIZATIONS = ("none", "batch", "layer")
GENERATOR_STEMS = ("dense", "conv_transpose")
UPSAMPLINGS = ("transpose", "resize")
CONDITIONINGS = ("input", "modulation")
DISCRIMINATOR_HEADS = ("dense", "conv")
PROJECTIONS = ("global", "frequency")
PHASE_INITS = ("lock", "pghi", "random", "zero")


#: The augmentations of ``training.augmentation``, in the order they are applied
#: (:mod:`keras_soundgan.models.augment`).
AUGMENTATIONS = ("gain", "time_shift", "cutout")


def parse_policy(policy: str) -> tuple[str, ...]:
    """``"time_shift,cutout"`` -> ``("time_shift", "cutout")``; ``""`` -> ``()``.

    Raises ValueError naming an unknown augmentation.
    """
    if not isinstance(policy, str):
        raise ValueError(f"an augmentation policy is a comma-separated string, got {policy!r}")
    names = tuple(name.strip() for name in policy.split(",") if name.strip())
    for name in names:
        if name not in AUGMENTATIONS:
            raise ValueError(f"unknown augmentation {name!r}; augmentations are: "
                             + ", ".join(AUGMENTATIONS))
    if len(set(names)) != len(names):
        raise ValueError(f"augmentation policy {policy!r} names one augmentation twice")
    return names


def _fail(section: str, field: str, value: Any, allowed: str) -> typing.NoReturn:
    raise ValueError(f"{section}.{field} must be {allowed}, got {value!r}")


def _check_int(config, section, field, minimum=1):
    """Checks the integer field ``field`` of ``config`` (a NumPy integer is stored as a
    plain ``int``, so that the config stays JSON-serialisable)."""
    value = check_integer(getattr(config, field), f"{section}.{field}", minimum=minimum)
    object.__setattr__(config, field, value)


def _check_float(section, field, value, minimum=None, strict=False, maximum=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        _fail(section, field, value, "a finite number")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        _fail(section, field, value, f"a number {'>' if strict else '>='} {minimum}")
    if maximum is not None and value >= maximum:
        _fail(section, field, value, f"a number < {maximum}")


def _check_choice(section, field, value, choices):
    check_choice(value, f"{section}.{field}", choices)


def _check_bool(section, field, value):
    if not isinstance(value, bool):
        _fail(section, field, value, "true or false")


def _check_activation(section, field, value):
    if not isinstance(value, str):
        _fail(section, field, value, "the name of a keras activation, such as 'relu'")
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        _fail(section, field, value, "the name of a keras activation, such as 'relu'")


class _Section:
    """Shared behaviour of the config dataclasses: (de)serialization and replace."""

    section_name = ""

    def get_config(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]):
        if isinstance(config, cls):
            return config
        if not isinstance(config, Mapping):
            raise ValueError(
                f"{cls.section_name} must be a mapping of field names to values, "
                f"got {type(config).__name__}"
            )
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(config) - set(names))
        if unknown:
            raise ValueError(
                f"unknown field {cls.section_name}.{unknown[0]}; "
                f"{cls.section_name} has: {', '.join(names)}"
            )
        return cls(**dict(config))

    def replace(self, **changes):
        """Returns a copy with ``changes`` applied (and validated)."""
        return self.from_config({**self.get_config(), **changes})


@keras.saving.register_keras_serializable(package=PACKAGE)
@dataclasses.dataclass(frozen=True)
class SpectrogramConfig(_Section):
    """How audio becomes a spectrogram image and back.

    Attributes:
        sample_rate: audio rate in Hz; input audio is resampled to it.
        slice_length: samples per training example (16384 is about 1 s at 16 kHz).
        n_fft: STFT window and FFT size in samples.
        hop_length: STFT hop in samples.
        n_mels: 0 for linear frequency bins (``n_fft // 2`` of them, the Nyquist bin
            dropped as in SpecGAN), or the number of mel bands.
        fmin: lowest mel band edge in Hz.
        fmax: highest mel band edge in Hz (``None`` means ``sample_rate / 2``).
        log_eps: added to the magnitude before the log: ``log(|X| + log_eps)``.
        clip_std: normalised values are ``(log|X| - mean) / (clip_std * std)``
            clipped to [-1, 1] (SpecGAN uses 3 standard deviations).
        griffin_lim_iters: Griffin-Lim iterations when turning images into audio.
        griffin_lim_momentum: momentum of the fast Griffin-Lim (Perraudin et al.
            2013); 0 gives the classic algorithm.
        phase_init: where Griffin-Lim starts: ``lock`` (the default: the phase read
            off the magnitude itself with PGHI's phase derivatives, integrated by phase
            locking in the TF graph; exported generators compute the same start, so
            they make the same sounds as Python), ``pghi`` (phase-gradient heap
            integration, Prusa et al. 2017: Python only, exports use ``lock``),
            ``random`` (uniform random phase, seeded) or ``zero``. From ``lock`` or
            ``pghi`` a few iterations beat many from ``random``
            (``griffin_lim_iters=0`` is the start alone); see
            :mod:`keras_soundgan.audio.phase`.

    The image is ``height x width``: ``height`` frequency bins (low to high) by
    ``width = ceil(slice_length / hop_length)`` frames.
    """

    section_name = "spectrogram"

    sample_rate: int = 16000
    slice_length: int = 16384
    n_fft: int = 256
    hop_length: int = 128
    n_mels: int = 0
    fmin: float = 0.0
    fmax: float | None = None
    log_eps: float = 1e-6
    clip_std: float = 3.0
    griffin_lim_iters: int = 16
    griffin_lim_momentum: float = 0.99
    phase_init: str = "lock"

    def __post_init__(self):
        s = self.section_name
        _check_int(self, s, "sample_rate")
        _check_int(self, s, "slice_length")
        _check_int(self, s, "n_fft", minimum=4)
        if self.n_fft % 2:
            _fail(s, "n_fft", self.n_fft, "an even integer")
        _check_int(self, s, "hop_length")
        if self.hop_length > self.n_fft:
            _fail(s, "hop_length", self.hop_length, f"at most n_fft ({self.n_fft})")
        _check_int(self, s, "n_mels", minimum=0)
        if self.n_mels > self.n_fft // 2 + 1:
            _fail(s, "n_mels", self.n_mels,
                  f"0 (linear) or at most n_fft // 2 + 1 = {self.n_fft // 2 + 1}")
        nyquist = self.sample_rate / 2
        _check_float(s, "fmin", self.fmin, minimum=0)
        if self.fmax is not None:
            _check_float(s, "fmax", self.fmax, minimum=0, strict=True)
            if self.fmax > nyquist:
                _fail(s, "fmax", self.fmax, f"at most sample_rate / 2 = {nyquist:g} Hz, or None")
        if self.fmin >= (self.fmax if self.fmax is not None else nyquist):
            _fail(s, "fmin", self.fmin, "below fmax")
        _check_float(s, "log_eps", self.log_eps, minimum=0, strict=True)
        _check_float(s, "clip_std", self.clip_std, minimum=0, strict=True)
        _check_int(self, s, "griffin_lim_iters", minimum=0)
        _check_float(s, "griffin_lim_momentum", self.griffin_lim_momentum, minimum=0, maximum=1)
        _check_choice(s, "phase_init", self.phase_init, PHASE_INITS)

    @property
    def height(self) -> int:
        """Frequency bins of the image."""
        return self.n_mels if self.n_mels else self.n_fft // 2

    @property
    def width(self) -> int:
        """Frames of the image."""
        return -(-self.slice_length // self.hop_length)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(height, width, 1)``: the shape of one spectrogram image."""
        return (self.height, self.width, 1)

    @property
    def duration(self) -> float:
        """Seconds of audio in one slice."""
        return self.slice_length / self.sample_rate


@keras.saving.register_keras_serializable(package=PACKAGE)
@dataclasses.dataclass(frozen=True)
class GeneratorConfig(_Section):
    """The Conv2DTranspose generator: noise ``z`` to a spectrogram image.

    A stem turns ``z`` into a ``height / 2**num_layers`` by ``width / 2**num_layers``
    map with ``base_filters * 2**(num_layers - 1)`` channels; each of ``num_layers``
    stride-2 Conv2DTranspose layers doubles the size and halves the channels, the last
    one giving one channel through tanh.

    Attributes:
        latent_dim: size of the noise vector ``z``.
        base_filters: channels of the widest layer divided by ``2**(num_layers-1)``
            (SpecGAN's ``dim``, DCGAN's ``ngf``).
        num_layers: stride-2 upsampling layers.
        kernel_size: square kernel size of every transposed convolution.
        activation: keras activation name between layers (``relu``, ``leaky_relu``).
        stem: ``dense`` (SpecGAN: Dense to the first map) or ``conv_transpose``
            (DCGAN: a valid Conv2DTranspose of a 1x1 noise image).
        normalization: ``none``, ``batch`` or ``layer``, after each hidden layer.
        latent_distribution: ``uniform`` in [-1, 1] (SpecGAN) or ``normal``.
        num_classes: 0 for an unconditional model; otherwise both networks are
            conditioned on a class label in ``[0, num_classes)``: the generator sees a
            learned embedding of it beside ``z``, the discriminator scores by projection
            (Miyato & Koyama 2018). ``keras-soundgan train --conditional`` sets it from
            the data's class folders.
        upsampling: ``transpose`` (a stride-2 Conv2DTranspose per layer, as SpecGAN
            and DCGAN) or ``resize`` (nearest-neighbour upsampling by 2, then a
            Conv2D: no checkerboard artefacts; Odena et al. 2016).
        conditioning: how a conditional generator hears its label: ``input`` (a label
            embedding beside ``z`` only) or ``modulation`` (also a per-class scale and
            shift of every hidden layer's channels, so the label shapes the sound at
            every scale: class-conditional batch normalisation with ``normalization=
            "batch"``, de Vries et al. 2017, Miyato & Koyama 2018). Ignored by
            unconditional models.
    """

    section_name = "generator"

    latent_dim: int = 100
    base_filters: int = 64
    num_layers: int = 5
    kernel_size: int = 5
    activation: str = "relu"
    stem: str = "dense"
    normalization: str = "none"
    latent_distribution: str = "uniform"
    num_classes: int = 0
    upsampling: str = "transpose"
    conditioning: str = "input"

    def __post_init__(self):
        s = self.section_name
        _check_int(self, s, "latent_dim")
        _check_int(self, s, "base_filters")
        _check_int(self, s, "num_layers")
        _check_int(self, s, "kernel_size")
        _check_activation(s, "activation", self.activation)
        _check_choice(s, "stem", self.stem, GENERATOR_STEMS)
        _check_choice(s, "normalization", self.normalization, NORMALIZATIONS)
        _check_choice(s, "latent_distribution", self.latent_distribution, LATENT_DISTRIBUTIONS)
        _check_int(self, s, "num_classes", minimum=0)
        if self.num_classes == 1:
            _fail(s, "num_classes", 1, "0 (unconditional) or at least 2")
        _check_choice(s, "upsampling", self.upsampling, UPSAMPLINGS)
        _check_choice(s, "conditioning", self.conditioning, CONDITIONINGS)


@keras.saving.register_keras_serializable(package=PACKAGE)
@dataclasses.dataclass(frozen=True)
class DiscriminatorConfig(_Section):
    """The Conv2D discriminator (critic): spectrogram image to one score.

    ``num_layers`` stride-2 Conv2D layers with ``base_filters * 2**i`` channels, then a
    head: ``dense`` (flatten and Dense(1), SpecGAN) or ``conv`` (a valid convolution
    over the remaining map to a 1x1 score, DCGAN).

    Attributes:
        base_filters: channels of the first layer (SpecGAN's ``dim``, DCGAN's ``ndf``).
        num_layers: stride-2 downsampling layers.
        kernel_size: square kernel size of every convolution.
        activation: keras activation name (``leaky_relu`` has slope 0.2).
        head: ``dense`` or ``conv``.
        normalization: ``none``, ``batch`` or ``layer``, after each hidden layer but
            the first. Batch normalisation is refused with ``wgan-gp``: the gradient
            penalty is defined per example.
        spectral_norm: wrap every convolution and the head in
            ``keras.layers.SpectralNormalization`` (Miyato et al. 2018), which bounds
            the critic's Lipschitz constant and steadies training.
        projection: what a conditional discriminator compares with the label's
            embedding: ``global`` (features averaged over frequency and time, as
            Miyato & Koyama) or ``frequency`` (averaged over time only, so the label
            can be checked against *where* in frequency the energy is: a pitch). Also
            the input of the auxiliary classifier (``training.classification_weight``).
            Ignored by unconditional models.
    """

    section_name = "discriminator"

    base_filters: int = 64
    num_layers: int = 5
    kernel_size: int = 5
    activation: str = "leaky_relu"
    head: str = "dense"
    normalization: str = "none"
    spectral_norm: bool = False
    projection: str = "global"

    def __post_init__(self):
        s = self.section_name
        _check_int(self, s, "base_filters")
        _check_int(self, s, "num_layers")
        _check_int(self, s, "kernel_size")
        _check_activation(s, "activation", self.activation)
        _check_choice(s, "head", self.head, DISCRIMINATOR_HEADS)
        _check_choice(s, "normalization", self.normalization, NORMALIZATIONS)
        _check_bool(s, "spectral_norm", self.spectral_norm)
        _check_choice(s, "projection", self.projection, PROJECTIONS)


@keras.saving.register_keras_serializable(package=PACKAGE)
@dataclasses.dataclass(frozen=True)
class TrainingConfig(_Section):
    """How the two networks are trained.

    Attributes:
        loss: ``wgan-gp`` (Gulrajani et al. 2017), ``non-saturating`` (Goodfellow et
            al. 2014), ``hinge`` (Lim & Ye 2017) or ``least-squares`` (Mao et al. 2017).
        gradient_penalty_weight: lambda of the WGAN-GP penalty (used with ``wgan-gp``).
        n_critic: discriminator updates per generator update, each on fresh noise and
            the same real batch.
        batch_size: examples per step.
        epochs: passes over the data set.
        g_learning_rate: the generator's Adam learning rate.
        d_learning_rate: the discriminator's Adam learning rate.
        beta_1: Adam's first-moment decay (both networks).
        beta_2: Adam's second-moment decay (both networks).
        seed: seeds the noise, the data shuffling and the weight initialisation.
        r1_weight: gamma of the R1 penalty ``gamma / 2 * E[||grad D(real)||^2]``
            (Mescheder et al. 2018) added to the discriminator's loss; 0 turns it off.
        ema_decay: keep an exponential moving average of the generator's weights with
            this decay (e.g. 0.999; Karras et al. 2018) and generate with it; 0 turns
            it off.
        augmentation: differentiable augmentations the discriminator sees on real and
            generated images alike (DiffAugment, Zhao et al. 2020), comma-separated
            from ``gain``, ``time_shift`` and ``cutout`` (see
            :mod:`keras_soundgan.models.augment`); ``""`` for none.
        augmentation_target: 0 applies the augmentations to every example
            (DiffAugment); above 0, each is applied with a probability that adapts
            (ADA, Karras et al. 2020): it rises while ``E[sign(D(real))]``, how sure the
            critic is of the real examples, is above this target (ADA uses 0.6) and
            falls while it is below, starting from 0. Needs a loss whose critic scores
            are centred on 0 (``non-saturating`` or ``hinge``).
        classification_weight: weight of an auxiliary classification loss (AC-GAN,
            Odena et al. 2017): the discriminator also learns to name the class of
            real examples, and the generator is rewarded when its sounds are named as
            the class it was asked for. 0 turns it off; conditional models only
            (ignored otherwise).
        distribute: data parallelism for ``keras_soundgan.train`` and
            ``keras-soundgan train`` (see :mod:`keras_soundgan.distribute`): ``none``
            (one device), ``mirrored`` (TensorFlow ``MirroredStrategy`` over this
            machine's GPUs), ``multi-worker`` (TensorFlow
            ``MultiWorkerMirroredStrategy`` over the hosts in ``TF_CONFIG``),
            ``data-parallel`` (JAX, ``keras.distribution.DataParallel`` over every
            device of every process), or ``auto`` (``mirrored`` on TensorFlow,
            ``data-parallel`` on JAX). ``batch_size`` stays the global batch: each of
            N devices gets ``batch_size / N`` examples, so N devices train like one.
        devices: how many devices to use with ``distribute`` (0: all of them).
    """

    section_name = "training"

    loss: str = "wgan-gp"
    gradient_penalty_weight: float = 10.0
    n_critic: int = 5
    batch_size: int = 64
    epochs: int = 10
    g_learning_rate: float = 1e-4
    d_learning_rate: float = 1e-4
    beta_1: float = 0.5
    beta_2: float = 0.9
    seed: int = 0
    r1_weight: float = 0.0
    ema_decay: float = 0.0
    augmentation: str = ""
    augmentation_target: float = 0.0
    classification_weight: float = 0.0
    distribute: str = "none"
    devices: int = 0

    def __post_init__(self):
        s = self.section_name
        _check_choice(s, "loss", self.loss, LOSSES)
        _check_float(s, "gradient_penalty_weight", self.gradient_penalty_weight, minimum=0)
        if self.loss == "wgan-gp" and self.gradient_penalty_weight <= 0:
            _fail(s, "gradient_penalty_weight", self.gradient_penalty_weight,
                  "> 0 with loss 'wgan-gp' (without the penalty the critic is unbounded)")
        _check_int(self, s, "n_critic")
        _check_int(self, s, "batch_size")
        _check_int(self, s, "epochs")
        _check_float(s, "g_learning_rate", self.g_learning_rate, minimum=0, strict=True)
        _check_float(s, "d_learning_rate", self.d_learning_rate, minimum=0, strict=True)
        _check_float(s, "beta_1", self.beta_1, minimum=0, maximum=1)
        _check_float(s, "beta_2", self.beta_2, minimum=0, maximum=1)
        _check_int(self, s, "seed", minimum=0)
        _check_float(s, "r1_weight", self.r1_weight, minimum=0)
        _check_float(s, "ema_decay", self.ema_decay, minimum=0, maximum=1)
        try:
            parse_policy(self.augmentation)
        except ValueError as e:
            _fail(s, "augmentation", self.augmentation,
                  f"a comma-separated list of {', '.join(AUGMENTATIONS)} ({e})")
        _check_float(s, "augmentation_target", self.augmentation_target, minimum=0,
                     maximum=1)
        if self.augmentation_target > 0 and self.loss not in ("non-saturating", "hinge"):
            _fail(s, "augmentation_target", self.augmentation_target,
                  f"0 with loss {self.loss!r}: adaptive augmentation reads the sign of "
                  "the critic's scores, which means real/fake only for 'non-saturating' "
                  "and 'hinge'")
        _check_float(s, "classification_weight", self.classification_weight, minimum=0)
        _check_choice(s, "distribute", self.distribute, DISTRIBUTE)
        _check_int(self, s, "devices", minimum=0)
        if self.devices and self.batch_size % self.devices:
            _fail(s, "batch_size", self.batch_size,
                  f"a multiple of training.devices ({self.devices}): every device gets "
                  "an equal share of the global batch")


@keras.saving.register_keras_serializable(package=PACKAGE)
@dataclasses.dataclass(frozen=True)
class DataConfig(_Section):
    """How recordings become training examples (used for folders of audio).

    Attributes:
        slicing: ``first`` (one example from the start of each file: one-shots) or
            ``all`` (every slice of every file, ``slice_hop`` apart: long recordings).
        slice_hop: samples between slices with ``all``; 0 means half a slice.
        trim_silence: trim leading and trailing silence first.
        top_db: what counts as silence when trimming (dB below the loudest frame).
        normalize_peak: scale each file to a peak of 0.95.
        min_rms: files and slices quieter than this RMS are skipped as silent.
        embedded_per_class: examples per class of the embedded drum kit (used when no
            folder is given).
    """

    section_name = "data"

    slicing: str = "first"
    slice_hop: int = 0
    trim_silence: bool = False
    top_db: float = 60.0
    normalize_peak: bool = False
    min_rms: float = 1e-4
    embedded_per_class: int = 64

    def __post_init__(self):
        s = self.section_name
        _check_choice(s, "slicing", self.slicing, ("first", "all"))
        _check_int(self, s, "slice_hop", minimum=0)
        if self.slice_hop and self.slicing != "all":
            _fail(s, "slice_hop", self.slice_hop, "0 unless slicing is 'all'")
        _check_bool(s, "trim_silence", self.trim_silence)
        _check_float(s, "top_db", self.top_db, minimum=0, strict=True)
        _check_bool(s, "normalize_peak", self.normalize_peak)
        _check_float(s, "min_rms", self.min_rms, minimum=0)
        _check_int(self, s, "embedded_per_class")


_SECTIONS = {
    "spectrogram": SpectrogramConfig,
    "generator": GeneratorConfig,
    "discriminator": DiscriminatorConfig,
    "training": TrainingConfig,
    "data": DataConfig,
}


@keras.saving.register_keras_serializable(package=PACKAGE)
@dataclasses.dataclass(frozen=True)
class SoundGANConfig:
    """The whole configuration of a SoundGAN: five sections and a name.

    Build one from a preset, with overrides, and check it before training::

        >>> config = SoundGANConfig.from_preset("tiny", epochs=2, batch_size=16)
        >>> config.spectrogram.image_shape
        (64, 64, 1)

    Overrides name a field either plainly (``latent_dim=64``) when only one section
    has that field, or as ``"section.field"`` in a mapping passed to
    :meth:`with_overrides` (``{"generator.base_filters": 32}``).
    """

    spectrogram: SpectrogramConfig = dataclasses.field(default_factory=SpectrogramConfig)
    generator: GeneratorConfig = dataclasses.field(default_factory=GeneratorConfig)
    discriminator: DiscriminatorConfig = dataclasses.field(default_factory=DiscriminatorConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    name: str = "custom"

    def __post_init__(self):
        for section, cls in _SECTIONS.items():
            value = getattr(self, section)
            if not isinstance(value, cls):
                object.__setattr__(self, section, cls.from_config(value))
        if not isinstance(self.name, str) or not self.name:
            _fail("config", "name", self.name, "a non-empty string")
        self._check_shapes()
        if self.training.loss == "wgan-gp" and self.discriminator.normalization == "batch":
            _fail("discriminator", "normalization", "batch",
                  "'none' or 'layer' with loss 'wgan-gp' (the gradient penalty is "
                  "per example; batch statistics break it)")

    def _check_shapes(self):
        spec, gen = self.spectrogram, self.generator
        factor = 2 ** gen.num_layers
        for axis, size, hint in (
            ("height", spec.height,
             "n_mels" if spec.n_mels else "n_fft (height is n_fft // 2)"),
            ("width", spec.width, "slice_length or hop_length (width is "
             "ceil(slice_length / hop_length))"),
        ):
            if size % factor:
                raise ValueError(
                    f"spectrogram {axis} {size} is not reachable by the generator: "
                    f"generator.num_layers={gen.num_layers} stride-2 layers need a "
                    f"multiple of {factor}; change spectrogram.{hint} or "
                    f"generator.num_layers"
                )
        if self.discriminator.num_layers > int(math.log2(min(spec.height, spec.width))):
            _fail("discriminator", "num_layers", self.discriminator.num_layers,
                  f"at most log2(min(height, width)) = "
                  f"{int(math.log2(min(spec.height, spec.width)))} for a "
                  f"{spec.height}x{spec.width} spectrogram")

    # -- serialization -------------------------------------------------------------

    def get_config(self) -> dict:
        """A JSON-ready dict: ``{"name": ..., "spectrogram": {...}, ...}``."""
        config = {"name": self.name}
        for section in _SECTIONS:
            config[section] = getattr(self, section).get_config()
        return config

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "SoundGANConfig":
        if isinstance(config, SoundGANConfig):
            return config
        if not isinstance(config, Mapping):
            raise ValueError(f"a config must be a mapping, got {type(config).__name__}")
        allowed = ["name", *_SECTIONS]
        unknown = sorted(set(config) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown config section {unknown[0]!r}; a config has: {', '.join(allowed)}"
            )
        return cls(**{
            key: (_SECTIONS[key].from_config(value) if key in _SECTIONS else value)
            for key, value in config.items()
        })

    def to_json(self, path: str | os.PathLike | None = None, indent: int = 2) -> str:
        """Returns the config as JSON text, and writes it to ``path`` if given."""
        text = json.dumps(self.get_config(), indent=indent) + "\n"
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        return text

    @classmethod
    def from_json(cls, path: str | os.PathLike, preset: str | None = None) -> "SoundGANConfig":
        """Reads a config written by :meth:`to_json`.

        A file may also hold a partial config with a ``"preset"`` key: its sections
        override that preset's (``{"preset": "tiny", "training": {"epochs": 3}}``).
        ``preset`` is used when the file names none; without either, missing
        sections and fields take the dataclass defaults.
        """
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            raise ValueError(f"config file {os.fspath(path)!r} does not exist") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"config file {os.fspath(path)!r} is not valid JSON: {e}") from None
        if not isinstance(data, dict):
            raise ValueError(f"config file {os.fspath(path)!r} must hold a JSON object")
        try:
            preset = data.pop("preset", preset)
            if preset is not None:
                base = cls.from_preset(preset)
                overrides = {}
                for key, value in data.items():
                    if key in _SECTIONS and isinstance(value, Mapping):
                        overrides.update({f"{key}.{k}": v for k, v in value.items()})
                    else:
                        overrides[key] = value
                return base.with_overrides(overrides)
            return cls.from_config(data)
        except ValueError as e:
            raise ValueError(f"config file {os.fspath(path)!r}: {e}") from None

    # -- presets and overrides ---------------------------------------------------------

    @classmethod
    def from_preset(cls, preset: str, **overrides) -> "SoundGANConfig":
        """The named preset (see :func:`list_presets`) with ``overrides`` applied."""
        if preset not in PRESETS:
            raise ValueError(
                f"unknown preset {preset!r}; presets are: {', '.join(PRESETS)}"
            )
        return PRESETS[preset]().with_overrides(overrides)

    def with_overrides(self, overrides: Mapping[str, Any]) -> "SoundGANConfig":
        """Returns a copy with fields replaced.

        Keys are ``"section.field"``, a plain field name that only one section has,
        ``"name"``, or a section name mapped to a dict of its fields.
        """
        changes: dict[str, dict] = {section: {} for section in _SECTIONS}
        name = self.name
        for key, value in overrides.items():
            if key == "name":
                name = value
                continue
            if key in _SECTIONS:
                if not isinstance(value, Mapping):
                    raise ValueError(f"override {key!r} must be a mapping of its fields")
                for field, v in value.items():
                    changes[key][_field_of(key, field)] = v
                continue
            if "." in key:
                section, field = key.split(".", 1)
                if section not in _SECTIONS:
                    raise ValueError(
                        f"unknown config section {section!r} in {key!r}; sections are: "
                        f"{', '.join(_SECTIONS)}"
                    )
                changes[section][_field_of(section, field)] = value
                continue
            owners = [s for s, c in _SECTIONS.items()
                      if key in {f.name for f in dataclasses.fields(c)}]
            if not owners:
                raise ValueError(f"unknown config field {key!r}; {_all_fields_hint()}")
            if len(owners) > 1:
                raise ValueError(
                    f"config field {key!r} is ambiguous: it is in "
                    f"{' and '.join(owners)}; write it as "
                    + " or ".join(f"'{s}.{key}'" for s in owners)
                )
            changes[owners[0]][key] = value
        sections = {s: getattr(self, s).replace(**c) if c else getattr(self, s)
                    for s, c in changes.items()}
        return SoundGANConfig(name=name, **sections)

    def summary(self) -> str:
        """A readable multi-line description."""
        spec = self.spectrogram
        lines = [f"SoundGANConfig {self.name!r}: {spec.height}x{spec.width} spectrograms, "
                 f"{spec.duration:.3f} s at {spec.sample_rate} Hz"]
        for section in _SECTIONS:
            fields = ", ".join(f"{k}={v!r}" for k, v in getattr(self, section).get_config().items())
            lines.append(f"  {section}: {fields}")
        return "\n".join(lines)


def _field_of(section: str, field: str) -> str:
    names = [f.name for f in dataclasses.fields(_SECTIONS[section])]
    if field not in names:
        raise ValueError(f"unknown field {section}.{field}; {section} has: {', '.join(names)}")
    return field


def _all_fields_hint() -> str:
    return "fields are: " + "; ".join(
        f"{s}: {', '.join(f.name for f in dataclasses.fields(c))}" for s, c in _SECTIONS.items()
    )


def parse_override(text: str) -> tuple[str, Any]:
    """Parses ``"section.field=value"`` (the CLI's ``--set``); the value is JSON when it
    parses as JSON (``3``, ``0.5``, ``true``, ``null``), else a string."""
    if "=" not in text:
        raise ValueError(f"override {text!r} must look like section.field=value")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


# -- presets ---------------------------------------------------------------------------


def _preset(name: str, recipe: typing.Callable[[], dict]) -> typing.Callable[[], "SoundGANConfig"]:
    def build() -> SoundGANConfig:
        return SoundGANConfig.from_config(recipe())

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"The {name!r} preset's config (keras_soundgan/config_presets.py)."
    return build


#: Each preset's name and the function that builds its config; the recipes, and why
#: they are what they are, are in :mod:`keras_soundgan.config_presets`.
PRESETS: dict[str, typing.Callable[[], SoundGANConfig]] = {
    name: _preset(name, recipe) for name, recipe in RECIPES.items()}


def list_presets() -> list[str]:
    """Names accepted by :meth:`SoundGANConfig.from_preset`."""
    return list(PRESETS)
