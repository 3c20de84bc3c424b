"""The multi-scale U-Net generator and the PatchGAN discriminator (paper Fig. 1b, 1c).

Both networks take and return NHWC tensors in the model range [-1, 1] (see
:func:`semgan_core.images.to_model_range`); ``width`` multiplies every channel count
(this project's addition, for CPU profiles).

Generator (adopted reading of "Principle and network analysis"; NOTES.md section 2)
-------------------------------------------------------------------------------
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
* Inputs: sides must be multiples of 128 (7 stride-2 layers); see :func:`check_input_size`.

Bottleneck and ``bottleneck_norm``
----------------------------------
The *bottleneck layers* are the three layers whose output lies at the coarsest scale,
H/128 x W/128 (2x2 at a 256 input, 1x1 at 128): the 7th and 8th convolutions and the
1st deconvolution. Instance norm there normalises each channel over 4 pixels (256
input), and over one pixel (128 input) it outputs exactly its offset beta whatever the
input, so nothing passes the bottleneck. ``bottleneck_norm=False`` drops the norm (and
gives those layers a bias) at these three layers only.

Experiment (a supervised proxy, not a CycleGAN run): width 0.25, 256x256, MSE fit of
blurred (recipe A kernel) -> clean synthetic pairs, 64 training and 16 test pairs,
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

import numbers

import keras
from keras import layers

#: Input sides must be multiples of this (7 stride-2 layers).
SIZE_MULTIPLE = 128
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


def check_input_size(height: int, width: int) -> None:
    """Raise unless both sides are positive multiples of 128.

    Parameters
    ----------
    height, width : int
        Image size in pixels.

    Raises
    ------
    ValueError
        Naming the received size and the nearest valid sizes (pad, or crop, to one).
    """
    h, w = int(height), int(width)
    if h <= 0 or w <= 0 or h % SIZE_MULTIPLE or w % SIZE_MULTIPLE:
        up = [-(-max(s, 1) // SIZE_MULTIPLE) * SIZE_MULTIPLE for s in (h, w)]
        raise ValueError(
            f"check_input_size: image size {h}x{w} is not supported; the generator needs "
            f"sides that are positive multiples of {SIZE_MULTIPLE} (7 stride-2 layers), "
            f"e.g. pad to {up[0]}x{up[1]}"
        )


@keras.saving.register_keras_serializable(package="semgan")
class InputSizeCheck(layers.Layer):
    """Identity layer that calls :func:`check_input_size` on a static input shape.

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
                    name: str = "G") -> keras.Model:
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

    Returns
    -------
    model : keras.Model
        Input ``(None, None, None, 1)`` in [-1, 1]; output of the same shape, tanh.
        Sides must be multiples of 128 (``ValueError`` from :func:`check_input_size`).

    Examples
    --------
    >>> g = build_generator(0.125)
    >>> sum(isinstance(l, MultiBlock) for l in g.layers)
    14
    """
    _check_width("build_generator", width)
    inputs = keras.Input(shape=(None, None, 1), name="image")
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
    _check_width("build_discriminator", width)
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


def _check_width(func: str, width: float) -> None:
    """Raise ValueError unless ``width`` is a positive real number."""
    if not isinstance(width, numbers.Real) or isinstance(width, bool) or not width > 0:
        raise ValueError(f"{func}: width must be a positive number, got {width!r}")


def _conv_flops(kernel_shape, height: int, width: int) -> int:
    """2 k_h k_w c_in c_out H W: one convolution's multiply-adds, counted as 2 FLOPs."""
    kh, kw, cin, cout = (int(s) for s in kernel_shape)
    return 2 * kh * kw * cin * cout * int(height) * int(width)


def _layer_flops(layer, in_shape, out_shape) -> int:
    """Forward FLOPs of one layer given its static input and output shapes (0 if no conv)."""
    if isinstance(layer, layers.Conv2DTranspose):      # each input pixel scatters k x k
        return _conv_flops(layer.kernel.shape, *in_shape[1:3])
    if isinstance(layer, layers.Conv2D):
        return _conv_flops(layer.kernel.shape, *out_shape[1:3])
    if isinstance(layer, MultiBlock):
        return sum(_conv_flops(conv.kernel.shape, *out_shape[1:3])
                   for conv in (layer.conv1, layer.conv3))
    return 0


def _parents(node) -> list[str]:
    """Names of the layers whose outputs a serialised inbound node refers to, in order."""
    if isinstance(node, dict):
        if "keras_history" in node:
            return [node["keras_history"][0]]
        return [name for value in node.values() for name in _parents(value)]
    if isinstance(node, (list, tuple)):
        return [name for value in node for name in _parents(value)]
    return []


def _static_shapes(model: keras.Model, size) -> dict:
    """``{layer name: (input shape, output shape)}`` of a functional model on a batch-1
    input of ``size``, propagated with ``compute_output_shape`` (no weights, no data)."""
    h, w = (size, size) if isinstance(size, int) else size
    shapes = {}
    for spec in model.get_config()["layers"]:
        layer = model.get_layer(spec["name"])
        parents = _parents(spec["inbound_nodes"][:1])
        if not parents:                                  # an InputLayer
            shapes[layer.name] = (None, (1, int(h), int(w), layer.output.shape[-1]))
            continue
        inputs = [shapes[name][1] for name in parents]
        in_shape = inputs if len(inputs) > 1 else inputs[0]
        shapes[layer.name] = (in_shape, tuple(layer.compute_output_shape(in_shape)))
    return shapes


def count_flops(model: keras.Model, size: int | tuple[int, int]) -> int:
    """Analytic forward FLOPs of one image through ``model`` (batch 1).

    Parameters
    ----------
    model : keras.Model
        A generator or discriminator from this module (any functional model works).
    size : int or (int, int)
        Input height and width.

    Returns
    -------
    flops : int
        Sum over ``Conv2D`` (and the two convolutions inside each :class:`MultiBlock`)
        of ``2 k k c_in c_out H_out W_out``, and over ``Conv2DTranspose`` of
        ``2 k k c_in c_out H_in W_in`` (each input pixel scatters a k x k x c_out patch,
        so a stride-2 layer costs a quarter of what its output size suggests). Biases,
        norms, activations, additions and concatenations are left out (< 1 %).

    Notes
    -----
    Spatial sizes are propagated through the graph with each layer's
    ``compute_output_shape``; nothing is run or allocated.
    """
    shapes = _static_shapes(model, size)
    return sum(_layer_flops(model.get_layer(name), *io) for name, io in shapes.items())


def layer_table(model: keras.Model, size: int | tuple[int, int] = 256) -> list[dict]:
    """One row per convolution, Multi block and skip concatenation of ``model``.

    Parameters
    ----------
    model : keras.Model
    size : int or (int, int)
        Input height and width used for the output shapes and FLOPs.

    Returns
    -------
    rows : list of dict
        Keys ``name``, ``type``, ``kernel`` (e.g. ``"4x4"``, ``""`` if none), ``stride``,
        ``output`` (``(H, W, C)``), ``params`` and ``gflop``, in graph order.
    """
    kinds = (layers.Conv2D, layers.Conv2DTranspose, MultiBlock, layers.Concatenate)
    rows = []
    for name, (in_shape, out_shape) in _static_shapes(model, size).items():
        layer = model.get_layer(name)
        if not isinstance(layer, kinds):
            continue
        conv = isinstance(layer, (layers.Conv2D, layers.Conv2DTranspose))
        rows.append({
            "name": layer.name, "type": type(layer).__name__,
            "kernel": "x".join(map(str, layer.kernel_size)) if conv else
            ("1x1 + 3x3" if isinstance(layer, MultiBlock) else ""),
            "stride": layer.strides[0] if conv else 1,
            "output": tuple(int(s) for s in out_shape[1:]),
            "params": int(layer.count_params()),
            "gflop": _layer_flops(layer, in_shape, out_shape) / 1e9,
        })
    return rows


def model_table(widths=(1.0, 0.5, 0.25), size: int = 256, *,
                bottleneck_norm: bool = False) -> list[dict]:
    """Parameters and forward GFLOP of the generator and discriminator per width.

    Parameters
    ----------
    widths : sequence of float
        Channel multipliers.
    size : int
        Square input side for the FLOP count (multiple of 128).
    bottleneck_norm : bool
        Passed to :func:`build_generator` (changes the count by 3 x 512 x width).

    Returns
    -------
    rows : list of dict
        Keys ``width``, ``generator_params``, ``discriminator_params``,
        ``generator_gflop``, ``discriminator_gflop`` (one image, batch 1).
    """
    check_input_size(size, size)
    rows = []
    for width in widths:
        gen = build_generator(width, bottleneck_norm=bottleneck_norm)
        disc = build_discriminator(width)
        rows.append({
            "width": float(width),
            "generator_params": int(gen.count_params()),
            "discriminator_params": int(disc.count_params()),
            "generator_gflop": count_flops(gen, size) / 1e9,
            "discriminator_gflop": count_flops(disc, size) / 1e9,
        })
    return rows
