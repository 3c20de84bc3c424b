"""A constrained generator: a learned deconvolution filter and a smooth tone field.

The paper's generators are U-Nets (:mod:`semgan_core.models`). At CPU scale, trained
unpaired, a U-Net does not sharpen (the book's reproduction notes show the curves):
the discriminator's pixel gradient is mostly adversarial-example noise, and a network
with a U-Net's capacity follows the noise. A diagnostic probe found that the same
gradient, projected onto one shift-invariant filter, points at the truth. This module is
that projection made into an architecture, the generator of the CPU recipe
(``recipe="filter"``, :mod:`semgan_core.cpu_recipe`):

.. math::

    G(x) = (x + k \\ast x) \\cdot e^{g(x)} + o(x)

* ``k`` (:class:`LearnedFilter`): one ``filter_size`` x ``filter_size`` kernel with
  zero sum, zero at the start (so G starts as the identity), applied with reflected
  borders. ``x + k * x`` can express any linear shift-invariant filter of that support
  that keeps the mean grey level: a Wiener-like inverse of a blur for G, a blur for F.
* ``g`` and ``o`` (:class:`ToneField`): a log-gain and an offset that vary slowly over the
  image, predicted by a small network from the local mean and spread of the input on a
  grid of ``TONE_CELL`` x ``TONE_CELL`` pixel cells and upsampled bilinearly; zero at the
  start. They can undo (G) or add (F) the charging fog of degradations B and C,
  ``I = f t + A (1 - t)``, whose inverse ``f = I / t - A (1 - t) / t`` is exactly a smooth
  gain and offset.

The generator can only do what deconvolution and a smooth contrast correction can do:
it cannot invent texture, which is the point. 15x15 taps and 2 739 weights in all, so a
step is dominated by the discriminators. Inputs and outputs in the model range
[-1, 1] (the output is not clipped; ``images.from_model_range`` clips).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

import keras
from keras import layers

from semgan_core import models

TONE_CELL = 16          # pixels per side of one tone-field cell
TONE_CHANNELS = 16      # width of the tone network
TONE_STATS = ("mean", "mean+spread")    # what the tone network sees of each cell
FILTER_GAIN = 10.0      # kernel = FILTER_GAIN * weights: Adam's step of ~lr per weight is
                        # FILTER_GAIN * lr per tap (an inverse filter's taps are O(1))
TONE_GAIN = 10.0        # fields = TONE_GAIN * network output: the same for the tone field


@keras.saving.register_keras_serializable(package="semgan")
class LearnedFilter(layers.Layer):
    """``x + k * x`` with one learned square kernel ``k`` (zero-initialised), reflected
    borders; single-channel images ``(N, H, W, 1)``.

    Parameters
    ----------
    size : int
        Odd kernel side.
    gain : float
        ``k = gain * weights`` (a per-layer learning-rate multiplier under Adam).
    """

    def __init__(self, size: int = 15, gain: float = FILTER_GAIN, **kwargs) -> None:
        super().__init__(**kwargs)
        if int(size) != size or size < 1 or size % 2 == 0:
            raise ValueError(f"LearnedFilter: size must be an odd positive integer, "
                             f"got {size!r}")
        self.size, self.gain = int(size), float(gain)

    def build(self, input_shape) -> None:
        self.weights_k = self.add_weight(name="kernel", shape=(self.size, self.size, 1, 1),
                                         initializer="zeros")

    def call(self, x):
        # By FFT: TensorFlow's CPU conv2d with one channel and a 15x15 kernel took 0.6 s
        # (forward and backward, 4 images of 256x256, one thread); this takes ~0.02 s.
        # Cross-correlation as conv2d computes it: y[i, j] = sum k[u, v] p[i + u, j + v]
        # on the reflected padding p; circularly, with k at the top left, no index wraps
        # for i < H, j < W.
        r = self.size // 2
        height, width = tf.shape(x)[1], tf.shape(x)[2]
        padded = tf.pad(tf.cast(x[..., 0], tf.float32), [[0, 0], [r, r], [r, r]], "REFLECT")
        shape = tf.shape(padded)[1:]
        kernel = self._detail_kernel()
        kernel = tf.pad(kernel, [[0, shape[0] - self.size], [0, shape[1] - self.size]])
        spectrum = tf.signal.rfft2d(padded) * tf.math.conj(tf.signal.rfft2d(kernel))
        detail = tf.signal.irfft2d(spectrum, fft_length=shape)[:, :height, :width, None]
        return x + tf.cast(detail, x.dtype)

    def _detail_kernel(self):
        """``k = gain * (s - mean(s))``, ``s`` the point-symmetric part of the weights.

        Zero sum: ``delta + k`` keeps the mean grey level, as a blur and its inverse do
        (brightness is the tone field's job). Point-symmetric (``k(u) = k(-u)``): a real,
        zero-phase frequency response, as the Gaussian, disk and centred motion PSFs of
        degradations A-C and their inverses have; power-spectrum matching (matching.py) says
        nothing about phase, so the symmetry fixes it instead of leaving it free (a
        modelling choice: a filter without it was not compared under the final losses).
        """
        w = tf.cast(self.weights_k[:, :, 0, 0], tf.float32)
        w = 0.5 * (w + w[::-1, ::-1])
        return self.gain * (w - tf.reduce_mean(w))

    def compute_output_shape(self, input_shape):
        return input_shape

    def kernel(self):
        """The effective filter ``delta + k`` as a NumPy array (size x size, sum 1)."""
        k = self._detail_kernel().numpy()
        k[self.size // 2, self.size // 2] += 1.0
        return k

    def get_config(self):
        return {**super().get_config(), "size": self.size, "gain": self.gain}


@keras.saving.register_keras_serializable(package="semgan")
class ToneField(layers.Layer):
    """Smooth log-gain ``g`` and offset ``o`` fields from the local statistics of
    ``x`` (input), applied to ``y``: ``y * exp(g) + o``; zero fields at the start.

    Called on ``[x, y]``. Height and width must be multiples of :data:`TONE_CELL`.
    """

    def __init__(self, channels: int = TONE_CHANNELS, cell: int = TONE_CELL,
                 stats: str = "mean", **kwargs) -> None:
        super().__init__(**kwargs)
        if stats not in TONE_STATS:
            raise ValueError(f"ToneField: stats must be one of {TONE_STATS}, got {stats!r}")
        self.channels, self.cell, self.stats = int(channels), int(cell), stats
        # one attribute per layer (not a list): TensorFlow checkpoints track attributes,
        # so resumed runs and the convergence study restore the tone network too
        self.conv1 = layers.Conv2D(self.channels, 3, padding="same", name="tone1")
        self.act1 = layers.LeakyReLU(0.2)
        self.conv2 = layers.Conv2D(self.channels, 3, padding="same", name="tone2")
        self.act2 = layers.LeakyReLU(0.2)
        self.conv_out = layers.Conv2D(2, 1, kernel_initializer="zeros", name="tone_out")

    @property
    def net(self):
        """The tone network's layers, in order."""
        return [self.conv1, self.act1, self.conv2, self.act2, self.conv_out]

    def build(self, input_shape) -> None:
        shape = (None, None, None, 2 if self.stats == "mean+spread" else 1)
        for layer in self.net:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def fields(self, x):
        """``(g, o)`` at full resolution for input ``x``."""
        pool = lambda t: tf.nn.avg_pool2d(t, self.cell, self.cell, "VALID")  # noqa: E731
        h = mean = pool(x)
        if self.stats == "mean+spread":
            spread = tf.sqrt(tf.maximum(pool(x * x) - mean * mean, 0.0) + 1e-6)
            h = tf.concat([mean, spread], -1)
        for layer in self.net:
            h = layer(h)
        h = h * TONE_GAIN
        size = tf.shape(x)[1:3]
        h = tf.image.resize(tf.cast(h, tf.float32), size, method="bilinear")
        h = tf.cast(h, x.dtype)
        return h[..., :1], h[..., 1:]

    def call(self, inputs):
        x, y = inputs
        gain, offset = self.fields(x)
        return y * tf.exp(gain) + offset

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "channels": self.channels, "cell": self.cell,
                "stats": self.stats}


def build_filter_generator(size: int = 15, *, gain: float = FILTER_GAIN, tone: str = "mean",
                           name: str = "G") -> keras.Model:
    """``G(x) = (x + k * x) exp(g(x)) + o(x)``, the identity at initialisation.

    Parameters
    ----------
    size : int
        Side of the learned filter (odd).
    gain : float
        :class:`LearnedFilter`'s learning-rate multiplier.
    tone : {'mean', 'mean+spread', 'none'}
        What the tone network sees of each cell (:class:`ToneField`), or no tone field
        (``G(x) = x + k * x``). Blur keeps a cell's mean but lowers its spread, so a tone
        field that sees the spread can tell blurred from clear input and boost the
        contrast of the former only, which fools a high-pass discriminator without
        sharpening; one that sees the mean alone cannot.
    name : str
        Model name.

    Returns
    -------
    model : keras.Model
        Input ``(None, None, None, 1)`` in [-1, 1], H and W multiples of 128 (checked as
        the U-Net's are, so the two kinds are interchangeable everywhere); output the same
        shape, unclipped.
    """
    image = keras.Input(shape=(None, None, 1), name="image")
    x = models.InputSizeCheck(name="size_check")(image)
    out = LearnedFilter(size, gain, name="filter")(x)
    if tone != "none":
        out = ToneField(stats=tone, name="tone")([x, out])
    return keras.Model(image, out, name=name)


def kernel_response(kernel, n: int = 256) -> np.ndarray:
    """Frequency response of a centred square kernel (odd side) on an ``n`` x ``n`` grid.

    Parameters
    ----------
    kernel : array_like, (k, k), k odd and at most ``n``
    n : int

    Returns
    -------
    response : complex ndarray, (n, n // 2 + 1)
        ``numpy.fft.rfft2`` of the kernel with its centre tap moved to the origin (real
        for a point-symmetric kernel); rows ``numpy.fft.fftfreq(n)``.
    """
    kernel = np.asarray(kernel, np.float64)
    size = kernel.shape[0]
    if kernel.ndim != 2 or kernel.shape[1] != size or size % 2 == 0:
        raise ValueError(f"kernel_response: kernel must be square with an odd side, got "
                         f"shape {kernel.shape}")
    if n < size:
        raise ValueError(f"kernel_response: n={n} is smaller than the kernel ({size})")
    padded = np.zeros((n, n), np.float64)
    padded[:size, :size] = kernel
    padded = np.roll(padded, (-(size // 2), -(size // 2)), axis=(0, 1))
    return np.fft.rfft2(padded)


def frequency_response(model, n: int = 256):
    """Frequency response of a filter generator's learned filter ``delta + k``.

    Parameters
    ----------
    model : keras.Model or LearnedFilter
        A generator built by :func:`build_filter_generator` (its layer ``"filter"``), or
        the layer itself.
    n : int
        Side of the frequency grid (at least the filter size).

    Returns
    -------
    freqs : ndarray, (n // 2 + 1,)
        Frequencies along each axis, cycles per pixel (0 to 0.5).
    response : ndarray, (n, n // 2 + 1)
        Real response (the filter is point-symmetric, so zero-phase) on the ``rfft2``
        grid, rows ``numpy.fft.fftfreq(n)``; 1 everywhere for the identity.
    """
    layer = model if isinstance(model, LearnedFilter) else model.get_layer("filter")
    return np.fft.rfftfreq(n), kernel_response(layer.kernel(), n).real
