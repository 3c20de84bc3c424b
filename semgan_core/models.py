"""The multi-scale U-Net generator and the PatchGAN discriminator (paper Fig. 1b, 1c).

Both networks take and return NHWC tensors in the model range [-1, 1] (see
:func:`semgan_core.images.to_model_range`); ``width`` multiplies every channel count
(this project's addition, for CPU profiles).

Generator (adopted reading of "Principle and network analysis")
----------------------------------------------------------------
* Encoder: 8 ``Conv2D``, channels 64-128-256-512-512-512-512-512, stride 2 except the
  8th (stride 1). Strided layers use 4x4 kernels (pix2pix); the stride-1 layers (8th conv,
  1st deconv) use 3x3 kernels: they act at the coarsest scale (2x2 at a 256 input),
  where a 4x4 kernel mostly multiplies padding, and 3x3 gives the ~74 M parameters
  expected of this reading (73.44 M; 4x4 would give 77.11 M).
* Decoder: 8 ``Conv2DTranspose``, stride 1 for the 1st, 2 for the rest, channels
  512-512-512-512-256-128-64 then 1. The 8th deconvolution is the output layer: 1
  channel, tanh, no norm. So there are exactly 8 of each and output size = input size.
* Every other layer is followed by instance norm (``GroupNormalization(groups=-1)``;
  not at the three bottleneck layers by default, see below) and LeakyReLU(0.2).
  U-Net skips concatenate encoder output i (i = 7..1) with the output of
  deconvolution 8 - i.
* 14 :class:`MultiBlock` layers: one on each of the 7 encoder skip paths (the encoder's
  main path continues without it) and one after each of the first 7 deconvolutions.
* Inputs: sides must be multiples of 128 (7 stride-2 layers); see
  :func:`semgan_core.checks.check_input_size`.

Bottleneck and ``bottleneck_norm``
----------------------------------
The *bottleneck layers* are the three layers whose output lies at the coarsest scale,
H/128 x W/128 (2x2 at a 256 input, 1x1 at 128): the 7th and 8th convolutions and the
1st deconvolution. Instance norm there normalises each channel over 4 pixels (256
input), and over one pixel (128 input) it outputs exactly its offset beta whatever the
input, so nothing passes the bottleneck. ``bottleneck_norm=False`` drops the norm (and
gives those layers a bias) at these three layers only.

Experiment (a supervised proxy, not a CycleGAN run): width 0.25, 256x256, MSE fit of
blurred (degradation A kernel) -> clean synthetic pairs, 64 training and 16 test pairs,
Adam 2e-4 (beta1 0.5), batch 1, same seed for both settings; seeds 0 / 1; shared
2-core CPU (0.13-0.22 s per step). The blurred inputs score 28.34 dB.

==========================================  ===============  ===============
measure (seed 0 / seed 1)                   norm=True        norm=False
==========================================  ===============  ===============
gradient norm at init                       1.777 / 1.670    1.777 / 1.668
bottleneck std across inputs, 128 input     0 / 0 (exact)    0.023 / 0.023
test PSNR after 200 steps (dB)              23.06 / 23.04    23.07 / 23.05
train MSE, mean of steps 751-800            0.0142 / 0.0133  0.0133 / 0.0096
test PSNR after 800 steps (dB)              22.77 / 24.41    23.80 / 24.63
==========================================  ===============  ===============

Default: ``bottleneck_norm=False``. After 200 steps the settings do not differ
(0.01 dB); after 800, dropping the norm gave a lower training loss and a higher test
PSNR for both seeds (+1.03 and +0.21 dB), and it keeps 128-pixel inputs meaningful.
The effect is small and measured on two seeds only; the paper's literal reading (a
norm after every layer) remains available as ``bottleneck_norm=True``.

Discriminator (Fig. 1c)
-----------------------
Five 4x4 ``Conv2D``, strides 2, 2, 2, 1, 1, channels 64-128-256-512-1; instance norm and
LeakyReLU(0.2) after each but the last (the first layer included, as the paper says;
pix2pix omits it). 'same' padding: a 256 input gives a 32x32 patch map (pix2pix's
padding-1 convolutions give 30x30); each output sees a 70x70 receptive field.
Output is linear (least-squares GAN).
"""

from __future__ import annotations

import math

import keras
from keras import layers

from semgan_core import checks, noise
from semgan_core.checks import check_input_size

ENCODER_CHANNELS = (64, 128, 256, 512, 512, 512, 512, 512)
ENCODER_STRIDES = (2, 2, 2, 2, 2, 2, 2, 1)
DECODER_CHANNELS = (512, 512, 512, 512, 256, 128, 64, 1)
DECODER_STRIDES = (1, 2, 2, 2, 2, 2, 2, 2)
DISCRIMINATOR_CHANNELS = (64, 128, 256, 512, 1)
DISCRIMINATOR_STRIDES = (2, 2, 2, 1, 1)
LEAK = 0.2


def _channels(base: int, width: float) -> int:
    """``base * width`` rounded, at least 1."""
    return max(1, int(round(base * width)))


def _init() -> keras.initializers.Initializer:
    """Kernel initialiser of every convolution: N(0, 0.02) (pix2pix / CycleGAN)."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


@keras.saving.register_keras_serializable(package="semgan")
class InputSizeCheck(layers.Layer):
    """Identity layer that calls :func:`semgan_core.checks.check_input_size` on a static
    input shape.

    Symbolic inputs with unknown sides (``None``) pass; a concrete 200x200 batch raises
    ``ValueError`` before any convolution runs (eagerly, or when a function is traced).
    """

    def call(self, inputs):
        height, width = inputs.shape[1], inputs.shape[2]
        if height is not None and width is not None:
            check_input_size(height, width)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="semgan")
class NoiseLevelMap(layers.Layer):
    """The input's estimated noise level as a constant map of the input's size.

    Immerkaer's estimator on each image of the batch (the mean absolute response to the
    3x3 difference of Laplacians times ``sqrt(pi / 2) / 6``, on the [0, 1] grey scale;
    :func:`semgan_core.noise.estimate_noise` with ``edge_fraction=0``), times ``scale``,
    broadcast to (N, H, W, 1). No weights: a network that sees it beside the image is
    told how noisy its input is (noise-level maps as in FFDNet) instead of having to
    infer it from local features.
    """

    def __init__(self, scale=25.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)

    def call(self, inputs):
        ops = keras.ops
        x = (ops.cast(inputs, "float32") + 1.0) / 2.0            # model range -> [0, 1]
        mask = ops.reshape(ops.convert_to_tensor(noise.IMMERKAER_MASK, "float32"), (3, 3, 1, 1))
        response = ops.conv(x, mask, strides=1, padding="valid")
        sigma = ops.mean(ops.abs(response), axis=(1, 2, 3), keepdims=True)
        sigma = sigma * (math.sqrt(math.pi / 2) / 6 * self.scale)
        return ops.cast(ops.ones_like(x) * sigma, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="semgan")
class ContrastGain(layers.Layer):
    """Scale a residual by its input's contrast: ``r * std(x) / reference``.

    Called on ``[image, residual]`` (both (N, H, W, 1)); the standard deviation is taken
    over each image of the batch (each tile in tiled inference: the extent the U-Net's
    instance norms see), ``sqrt(var + epsilon ** 2)``. No weights.

    Why: the U-Net's first convolution is linear and followed by instance norm, so its
    features do not change when the input's contrast is scaled about its mean, and
    neither does ``U-Net(x)``. A residual ``x + U-Net(x)`` then adds a correction of the
    size learnt on crops of typical contrast to a flat crop as well, and sharpens (or
    stretches) it too much. Times the input's own standard deviation the correction
    scales with the contrast, as the blur's does; ``reference`` (model range) is the
    typical crop's, so a generator trained without the gain starts from the same
    output on such crops.
    """

    def __init__(self, reference=0.25, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.reference = checks.check_number("ContrastGain", "reference", reference,
                                             low=0, strict=True)
        self.epsilon = checks.check_number("ContrastGain", "epsilon", epsilon, low=0)

    def call(self, inputs):
        image, residual = inputs
        ops = keras.ops
        var = ops.var(ops.cast(image, "float32"), axis=(1, 2, 3), keepdims=True)
        gain = ops.sqrt(var + self.epsilon ** 2) / self.reference
        return residual * ops.cast(gain, residual.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "reference": self.reference,
                "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="semgan")
class MultiBlock(layers.Layer):
    """Multi-scale residual block (paper Fig. 1b inset).

    ``y = x + LeakyReLU(conv1x1(x) + conv3x3(x))``: parallel 1x1 and 3x3 convolutions,
    stride 1, as many filters as input channels, fused by a sum (a concatenation and a
    1x1 fusion conv would add 2C^2 parameters per block, 77.98 M in all at width 1) and a
    residual skip. No norm inside: the block's input is already normalised, and at the
    bottleneck a norm would be degenerate.
    """

    def build(self, input_shape):
        filters = int(input_shape[-1])
        self.conv1 = layers.Conv2D(filters, 1, padding="same", kernel_initializer=_init(),
                                   name="conv1x1")
        self.conv3 = layers.Conv2D(filters, 3, padding="same", kernel_initializer=_init(),
                                   name="conv3x3")
        self.conv1.build(input_shape)
        self.conv3.build(input_shape)

    def call(self, inputs):
        fused = self.conv1(inputs) + self.conv3(inputs)
        return inputs + keras.ops.leaky_relu(fused, negative_slope=LEAK)

    def compute_output_shape(self, input_shape):
        return input_shape


def _norm_act(x, *, norm: bool, name: str):
    """Instance norm (optional) then LeakyReLU(0.2)."""
    if norm:
        x = layers.GroupNormalization(groups=-1, name=f"{name}_in")(x)
    return layers.LeakyReLU(negative_slope=LEAK, name=f"{name}_act")(x)


def _encoder(x, width: float, bottleneck_norm: bool):
    """The 8 convolutions; returns the bottleneck tensor and the 7 skip tensors."""
    skips = []
    for i, (base, stride) in enumerate(zip(ENCODER_CHANNELS, ENCODER_STRIDES), start=1):
        norm = bottleneck_norm or i < 7          # conv7 and conv8 output at H/128
        x = layers.Conv2D(_channels(base, width), 4 if stride == 2 else 3,
                          strides=stride, padding="same", use_bias=not norm,
                          kernel_initializer=_init(), name=f"enc{i}_conv")(x)
        x = _norm_act(x, norm=norm, name=f"enc{i}")
        if i < 8:
            skips.append(MultiBlock(name=f"enc{i}_multi")(x))
    return x, skips


def _decoder(x, skips, width: float, bottleneck_norm: bool):
    """The 8 deconvolutions; the 8th is the output layer (1 channel, tanh, float32)."""
    for i, (base, stride) in enumerate(zip(DECODER_CHANNELS[:-1], DECODER_STRIDES), start=1):
        norm = bottleneck_norm or i > 1                 # deconv1 outputs at H/128
        x = layers.Conv2DTranspose(_channels(base, width), 4 if stride == 2 else 3,
                                   strides=stride, padding="same", use_bias=not norm,
                                   kernel_initializer=_init(), name=f"dec{i}_deconv")(x)
        x = _norm_act(x, norm=norm, name=f"dec{i}")
        x = MultiBlock(name=f"dec{i}_multi")(x)
        x = layers.Concatenate(name=f"dec{i}_skip")([x, skips[-i]])
    n = len(DECODER_CHANNELS)
    return layers.Conv2DTranspose(DECODER_CHANNELS[-1], 4, strides=DECODER_STRIDES[-1],
                                  padding="same", activation="tanh", dtype="float32",
                                  kernel_initializer=_init(), name=f"dec{n}_deconv")(x)


def build_generator(width: float = 1.0, *, bottleneck_norm: bool = False,
                    name: str = "G", channels: int = 1) -> keras.Model:
    """Build the multi-scale U-Net generator (G or F).

    Parameters
    ----------
    width : float
        Channel multiplier (paper: 1.0); each layer gets ``max(1, round(c * width))``.
    bottleneck_norm : bool
        Instance norm at the three H/128 bottleneck layers; off by default (the module
        docstring gives the measurement). True is the paper's literal reading.
    name : str
        Model name.
    channels : int
        Input channels (1: the image; more when filtered copies of it are stacked
        on, :func:`semgan_core.recipes.build_unet`).

    Returns
    -------
    model : keras.Model
        Input ``(None, None, None, channels)`` in [-1, 1]; output ``(None, None, None,
        1)``, tanh.
        Sides must be multiples of 128 (``ValueError`` from
        :func:`semgan_core.checks.check_input_size`).

    Examples
    --------
    >>> g = build_generator(0.125)
    >>> sum(isinstance(l, MultiBlock) for l in g.layers)
    14
    """
    checks.check_positive("build_generator", "width", width)
    channels = checks.check_int("build_generator", "channels", channels, low=1)
    inputs = keras.Input(shape=(None, None, channels), name="image")
    x = InputSizeCheck(name="size_check")(inputs)
    x, skips = _encoder(x, width, bottleneck_norm)
    outputs = _decoder(x, skips, width, bottleneck_norm)
    return keras.Model(inputs, outputs, name=name)


#: Which of the discriminator's four hidden layers get instance norm, per ``norm`` option.
DISCRIMINATOR_NORMS = {"all": (1, 2, 3, 4), "inner": (2, 3), "none": ()}


def build_discriminator(width: float = 1.0, *, norm: str = "all",
                        name: str = "D", channels: int = 1) -> keras.Model:
    """Build the PatchGAN discriminator (D_A or D_B).

    Parameters
    ----------
    width : float
        Channel multiplier; the last layer always has 1 channel.
    norm : {'all', 'inner', 'none'}
        Instance norm after every hidden layer (``"all"``, the paper), after layers 2
        and 3 only (``"inner"``) or nowhere. A diagnostic probe found the paper's
        discriminator nearly blind to a sigma-1 blur at width 0.25: the norm after
        layer 1 divides out the high-frequency energy that tells the classes apart,
        and the norm after layer 4 pins the mean of the patch map (an option of this
        reproduction, for the convergence study).
    name : str
        Model name.
    channels : int
        Input channels (2 for the trainer's ``disc_input="both"``: image and detail).

    Returns
    -------
    model : keras.Model
        Input ``(None, None, None, channels)`` in [-1, 1]; output ``(None, H/8, W/8, 1)``,
        linear (least-squares GAN): a 32x32 patch map for a 256x256 input.
    """
    checks.check_positive("build_discriminator", "width", width)
    if norm not in DISCRIMINATOR_NORMS:
        raise ValueError(f"build_discriminator: norm must be one of "
                         f"{sorted(DISCRIMINATOR_NORMS)}, got {norm!r}")
    inputs = keras.Input(shape=(None, None, channels), name="image")
    x = inputs
    n = len(DISCRIMINATOR_CHANNELS)
    for i, (base, stride) in enumerate(zip(DISCRIMINATOR_CHANNELS, DISCRIMINATOR_STRIDES), 1):
        last, normed = i == n, i in DISCRIMINATOR_NORMS[norm]
        x = layers.Conv2D(1 if last else _channels(base, width), 4, strides=stride,
                          padding="same", use_bias=not normed, kernel_initializer=_init(),
                          dtype="float32" if last else None, name=f"d{i}_conv")(x)
        if not last:
            x = _norm_act(x, norm=normed, name=f"d{i}")
    return keras.Model(inputs, x, name=name)
