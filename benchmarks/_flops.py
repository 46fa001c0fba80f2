"""Floating-point operations of the specgan training step, counted from the layer shapes:
the roofline of ``benchmarks/backends.py``.

A layer's forward pass, per example, counts its multiply-adds as 2 FLOPs each:

* ``Conv2D``: ``2 * k_h * k_w * c_in * c_out * h_out * w_out`` (every window position
  of the output grid, padded borders included);
* ``Conv2DTranspose``: ``2 * k_h * k_w * c_in * c_out * h_in * w_in``, counted on the
  input grid (every input pixel scatters a ``k_h x k_w x c_out`` patch; the same number as
  ``(k_h / s_h) * (k_w / s_w)`` taps per output pixel at stride ``s``);
* ``Dense``: ``2 * n_in * n_out``.

Biases, activations, reshapes, the gradient penalty's interpolation and norm, and
Adam's updates are elementwise and not counted.

A backward pass costs 2x the forward (one product for the weights' gradient, one for the
inputs' gradient, each the size of the forward product); a pass that needs only the
inputs' gradient costs 1x. So one training step of WGAN-GP, per example of the batch, is

* ``n_critic`` critic updates, each: the generator's forward for the fakes (no gradient,
  1x G); the critic's forward on real, fake and mixed images (3x D); the backward of
  ``D(real)`` and ``D(fake)`` for the critic's weights (2 x 2x D); the gradient
  penalty's input gradient of ``D(mixed)`` (1x D) and its double backward, the input
  gradient differentiated for the critic's weights (2x D: per layer one product for the
  weights and one to carry the gradient on; LeakyReLU's derivative is piecewise
  constant, so nothing flows back into the forward pass of ``D(mixed)``): ``G + 10 D``;
* one generator update: the generator's forward and backward (3x G) and the critic's
  forward and input gradient, its weights frozen (2x D): ``3 G + 2 D``;

times the batch size, where ``G`` and ``D`` are the networks' forward FLOPs per example.
This is the work the step needs: it counts the first layer's input gradient although no
one needs it (a slight overcount), and a framework that does more (the critic's weight
gradients in the generator update, zero gradients pushed through the forward of
``D(mixed)``) gets no credit for it.
"""

from __future__ import annotations

import dataclasses
import math

__all__ = ["PASSES", "Layer", "StepFlops", "conv2d_flops", "conv2d_transpose_flops",
           "dense_flops", "keras_layers", "matmul_flops", "specgan_layers", "step_flops"]

# (phase, network, passes per example, what): the step's parts. A "critic" part happens
# n_critic times a step, a "generator" part once; "passes" are in units of the network's
# forward FLOPs (a backward for weights and inputs is 2).
PASSES = (
    ("critic", "generator", 1, "G forward for the fakes (no gradient)"),
    ("critic", "discriminator", 3, "D forward on real, fake and mixed images"),
    ("critic", "discriminator", 4, "D backward of D(real) and D(fake) (weights + inputs)"),
    ("critic", "discriminator", 1, "gradient penalty: input gradient of D(mixed)"),
    ("critic", "discriminator", 2, "gradient penalty: its double backward"),
    ("generator", "generator", 3, "G forward and backward (weights + inputs)"),
    ("generator", "discriminator", 2, "D forward and input gradient (weights frozen)"),
)


def conv2d_flops(kernel: tuple[int, int], c_in: int, c_out: int,
                 out_size: tuple[int, int]) -> int:
    """Forward FLOPs per example of a 2-D convolution.

    Args:
        kernel: tuple[int, int]. ``(k_h, k_w)``.
        c_in: int. Input channels.
        c_out: int. Output channels (filters).
        out_size: tuple[int, int]. ``(h_out, w_out)``, the output grid.

    Returns:
        int: ``2 * k_h * k_w * c_in * c_out * h_out * w_out``.
    """
    return 2 * kernel[0] * kernel[1] * c_in * c_out * out_size[0] * out_size[1]


def conv2d_transpose_flops(kernel: tuple[int, int], c_in: int, c_out: int,
                           in_size: tuple[int, int]) -> int:
    """Forward FLOPs per example of a 2-D transposed convolution, counted on its input
    grid.

    Args:
        kernel: tuple[int, int]. ``(k_h, k_w)``.
        c_in: int. Input channels.
        c_out: int. Output channels (filters).
        in_size: tuple[int, int]. ``(h_in, w_in)``, the input grid.

    Returns:
        int: ``2 * k_h * k_w * c_in * c_out * h_in * w_in``.
    """
    return 2 * kernel[0] * kernel[1] * c_in * c_out * in_size[0] * in_size[1]


def dense_flops(n_in: int, n_out: int) -> int:
    """Forward FLOPs per example of a dense layer: ``2 * n_in * n_out``."""
    return 2 * n_in * n_out


def matmul_flops(n: int) -> int:
    """FLOPs of the product of two ``n x n`` matrices: ``2 * n**3``."""
    return 2 * n**3


@dataclasses.dataclass(frozen=True)
class Layer:
    """One layer that does products.

    Attributes:
        network: str. ``"generator"`` or ``"discriminator"``.
        name: str. The Keras layer's name (``stem_dense``, ``up0_deconv``,
            ``down0_conv``, ``score``).
        kind: str. ``"dense"``, ``"conv"`` or ``"conv_transpose"``.
        shape: str. Kernel, channels and grid, for people.
        flops: int. Forward FLOPs per example.
    """

    network: str
    name: str
    kind: str
    shape: str
    flops: int


def _conv(network, name, k, c_in, c_out, in_size, out_size):
    return Layer(network, name, "conv", f"{k[0]}x{k[1]}, {c_in}->{c_out}, "
                 f"{in_size[0]}x{in_size[1]} -> {out_size[0]}x{out_size[1]}",
                 conv2d_flops(k, c_in, c_out, out_size))


def _conv_transpose(network, name, k, c_in, c_out, in_size, out_size):
    return Layer(network, name, "conv_transpose", f"{k[0]}x{k[1]}, {c_in}->{c_out}, "
                 f"{in_size[0]}x{in_size[1]} -> {out_size[0]}x{out_size[1]}",
                 conv2d_transpose_flops(k, c_in, c_out, in_size))


def _dense(network, name, n_in, n_out):
    return Layer(network, name, "dense", f"{n_in}->{n_out}", dense_flops(n_in, n_out))


def specgan_layers(arch: dict) -> list[Layer]:
    """The layers of the specgan generator and discriminator, from their shapes.

    Args:
        arch: dict. What ``backends._arch(config)`` gives: ``latent_dim``,
            ``g_base_filters``, ``g_num_layers``, ``g_kernel_size``, ``d_base_filters``,
            ``d_num_layers``, ``d_kernel_size``, ``height``, ``width``.

    Returns:
        list[Layer]: the generator's (dense stem, ``g_num_layers`` stride-2 transposed
        convolutions) then the discriminator's (``d_num_layers`` stride-2 convolutions,
        dense score), as ``build_generator`` and ``build_discriminator`` make them for the
        specgan preset.
    """
    a = arch
    n, k = a["g_num_layers"], (a["g_kernel_size"],) * 2
    h, w = a["height"] // 2**n, a["width"] // 2**n
    channels = a["g_base_filters"] * 2 ** (n - 1)
    layers = [_dense("generator", "stem_dense", a["latent_dim"], h * w * channels)]
    for i in range(n):
        c_in = channels // 2**i
        c_out = 1 if i == n - 1 else channels // 2 ** (i + 1)
        layers.append(_conv_transpose("generator", f"up{i}_deconv", k, c_in, c_out,
                                      (h, w), (2 * h, 2 * w)))
        h, w = 2 * h, 2 * w
    k, h, w, c_in = (a["d_kernel_size"],) * 2, a["height"], a["width"], 1
    for i in range(a["d_num_layers"]):
        c_out = a["d_base_filters"] * 2**i
        out = (-(-h // 2), -(-w // 2))  # "same" padding at stride 2
        layers.append(_conv("discriminator", f"down{i}_conv", k, c_in, c_out, (h, w), out))
        (h, w), c_in = out, c_out
    layers.append(_dense("discriminator", "score", h * w * c_in, 1))
    return layers


def keras_layers(model, network: str) -> list[Layer]:
    """The layers of a built Keras model that do products, read from its layers' kernels
    and their input and output shapes (either ``data_format``).

    Args:
        model: keras.Model. A functional model such as ``build_generator(config)``;
            nested models are walked, a wrapper such as ``SpectralNormalization`` is
            read through (``.layer``).
        network: str. What to call the network in the ``Layer`` objects.

    Returns:
        list[Layer]: its ``Conv2D``, ``Conv2DTranspose`` and ``Dense`` layers in order.
    """
    import keras

    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            layers += keras_layers(layer, network)
            continue
        inner = getattr(layer, "layer", layer)
        if not isinstance(inner, (keras.layers.Conv2D, keras.layers.Conv2DTranspose,
                                  keras.layers.Dense)):
            continue
        kernel = tuple(inner.kernel.shape)
        in_shape, out_shape = tuple(layer.input.shape), tuple(layer.output.shape)
        if isinstance(inner, keras.layers.Dense):
            positions = math.prod(in_shape[1:-1])  # 1, or a Dense on [batch, ..., n_in]
            layers.append(Layer(network, layer.name, "dense", f"{kernel[0]}->{kernel[1]}",
                                positions * dense_flops(kernel[0], kernel[1])))
            continue
        grid = slice(2, 4) if inner.data_format == "channels_first" else slice(1, 3)
        in_size, out_size = in_shape[grid], out_shape[grid]
        if isinstance(inner, keras.layers.Conv2DTranspose):  # kernel [k_h, k_w, out, in]
            layers.append(_conv_transpose(network, layer.name, kernel[:2], kernel[3],
                                          kernel[2], in_size, out_size))
        else:  # kernel [k_h, k_w, in / groups, out]
            layers.append(_conv(network, layer.name, kernel[:2], kernel[2], kernel[3],
                                in_size, out_size))
    return layers


@dataclasses.dataclass(frozen=True)
class StepFlops:
    """The FLOPs of one WGAN-GP training step (see the module's docstring).

    Attributes:
        layers: tuple[Layer, ...]. Both networks' layers.
        n_critic: int. Critic updates per step.
        batch_size: int. Examples per update.
    """

    layers: tuple
    n_critic: int
    batch_size: int

    def forward(self, network: str) -> int:
        """Forward FLOPs per example of ``"generator"`` or ``"discriminator"``."""
        return sum(layer.flops for layer in self.layers if layer.network == network)

    def _repeats(self, phase):
        return self.n_critic if phase == "critic" else 1

    @property
    def parts(self) -> list[tuple[str, str, int]]:
        """``(phase, what, FLOPs)`` of each entry of ``PASSES``, for the whole step."""
        return [(phase, what, self._repeats(phase) * passes * self.batch_size
                 * self.forward(network))
                for phase, network, passes, what in PASSES]

    @property
    def total(self) -> int:
        """FLOPs of the whole step: the sum of ``parts``."""
        return sum(flops for _, _, flops in self.parts)

    def layer_total(self, layer: Layer) -> int:
        """The step's FLOPs in ``layer``: its forward FLOPs times every pass of its
        network in the step, times the batch size."""
        passes = sum(self._repeats(phase) * p for phase, network, p, _ in PASSES
                     if network == layer.network)
        return passes * self.batch_size * layer.flops

    def largest_convolution(self) -> tuple[Layer, float]:
        """The (transposed) convolution with the most FLOPs in the step, and its share
        of the step's FLOPs (0 to 1)."""
        convs = [layer for layer in self.layers if layer.kind != "dense"]
        layer = max(convs, key=self.layer_total)
        return layer, self.layer_total(layer) / self.total


def step_flops(arch: dict, layers: list[Layer] | None = None) -> StepFlops:
    """The FLOPs of one training step of the benchmark's WGAN-GP.

    Args:
        arch: dict. What ``backends._arch(config)`` gives (``n_critic`` and
            ``batch_size``, and the shapes ``specgan_layers`` reads).
        layers: list[Layer] or None. The networks' layers; defaults to
            ``specgan_layers(arch)``. Pass ``keras_layers(...)`` of the generator and
            the discriminator to count a built model.

    Returns:
        StepFlops: ``total``, ``parts``, ``layer_total`` and ``largest_convolution``.
    """
    return StepFlops(tuple(specgan_layers(arch) if layers is None else layers),
                     arch["n_critic"], arch["batch_size"])
