"""Unpaired statistic-matching losses: the power spectrum and the grey-level histogram.

Not in the paper: terms of this reproduction's CPU recipe (``lambda_spectral``,
``lambda_histogram``; the book's reproduction notes show why they are needed). Like the
adversarial term they compare a translated image with an *unrelated* image of the
target domain, so they need no pairs; unlike a discriminator they measure a fixed
statistic, which a generator cannot satisfy with adversarial-example noise.

* :func:`spectral_loss`: squared difference of the amplitude spectra (Hann window,
  mean removed, power averaged over :data:`SPECTRUM_POOL` x :data:`SPECTRUM_POOL`
  frequency bins). A blur multiplies the amplitude spectrum by ``|K(f)|``; a linear
  filter ``H`` that matches the mean spectra, ``|H|^2 = P_clear / P_blurred``, is
  *power spectrum equalization*, a classical restoration filter (Gonzalez & Woods),
  here learned from unpaired images. Computed from the mean spectra of dataset A's
  training split (gain capped at 8) it takes the validation PSNR from 21.5 to 27.7 dB
  (Wiener with the true PSF: 29.5 dB).
* :func:`equalization_loss` with :class:`SpectrumStats` (``spectral_target="mean"``):
  the same equalization aimed at directly. Each translation's spectral gain,
  ``log |G(x)|(f) - log |x|(f)``, is pulled towards the ratio of the two domains' *mean*
  amplitude spectra (running means over the training stream, capped at
  ``spectral_cap``), each frequency weighted by the target domain's mean amplitude.
  Matching one unrelated image per step (:func:`spectral_loss`) is a regression onto a
  target whose amplitude varies from image to image far more than the blur changes it; its least-squares optimum shrinks the gain where that variance is
  large (the low frequencies, measured: 0.74 at 1/16 cycles per pixel, where a blur's
  inverse is 1.08), which lowers the contrast of real micrographs.
* :func:`histogram_loss`: mean squared difference of the sorted grey levels (the 1-D
  Wasserstein-2 distance between the two images' histograms): brightness and contrast,
  which charging fog changes (degradations B and C) and a blur does not.

Images in the model range [-1, 1], (N, H, W, 1); compared on the [0, 1] scale, like the
paper's pixel losses (:mod:`semgan_core.losses`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from semgan_core.images import from_model_range

SPECTRUM_POOL = 4        # frequency bins averaged per side (variance of one periodogram)
SPECTRUM_FLOOR = 1.0 / (255.0 * np.sqrt(12.0))   # 8-bit rounding noise's amplitude, added
                         # to every amplitude before a log (frequencies at the floor count less)
STATS_WINDOW = 500       # batches in the running means of :class:`SpectrumStats`


def _as01(x) -> tf.Tensor:
    return from_model_range(tf.cast(tf.convert_to_tensor(x), tf.float32))[..., 0]


def amplitude_spectrum(x) -> tf.Tensor:
    """Amplitude spectrum of each image: Hann-windowed, mean removed, the power averaged
    over :data:`SPECTRUM_POOL` x :data:`SPECTRUM_POOL` frequency bins, square root.

    Parameters
    ----------
    x : tensor, (N, H, W, 1), model range

    Returns
    -------
    spectrum : float32 tensor, (N, H // SPECTRUM_POOL, (W // 2 + 1) // SPECTRUM_POOL),
        in grey-level units ([0, 1] scale; the window's energy divided out)
    """
    x = _as01(x)
    height, width = x.shape[1], x.shape[2]
    window = np.outer(np.hanning(height), np.hanning(width)).astype(np.float32)
    x = (x - tf.reduce_mean(x, axis=[1, 2], keepdims=True)) * window
    power = tf.square(tf.abs(tf.signal.rfft2d(x))) / float(np.sum(window ** 2))
    power = tf.nn.avg_pool2d(power[..., None], SPECTRUM_POOL, SPECTRUM_POOL, "VALID")[..., 0]
    return tf.sqrt(power + 1e-12)


def spectral_loss(translated, target) -> tf.Tensor:
    """Squared difference of amplitude spectra (:func:`amplitude_spectrum`), relative to
    the target's mean amplitude.

    Parameters
    ----------
    translated, target : tensor, (N, H, W, 1), model range, same shape
        G(a) and an unrelated clear image b (or F(b) and a blurred image a).

    Returns
    -------
    loss : scalar float32 tensor (0 for equal spectra; about 1 when the spectra differ
        by their own size)

    Notes
    -----
    Amplitudes, not log powers: the log weighs every frequency alike, and its minimum
    (measured on dataset A) lies at ever stronger sharpening, because the frequencies a
    blur has pushed to the 8-bit noise floor differ most in log power; amplitudes weigh
    each frequency by its energy, and the expected loss is smallest near power spectrum
    equalization.
    """
    ours, theirs = amplitude_spectrum(translated), amplitude_spectrum(target)
    scale = tf.stop_gradient(tf.reduce_mean(theirs))
    return tf.reduce_mean(tf.square(ours - theirs)) / tf.square(scale)


def spectrum_shape(size: int) -> tuple[int, int]:
    """Shape of :func:`amplitude_spectrum` for one ``size`` x ``size`` image."""
    return size // SPECTRUM_POOL, (size // 2 + 1) // SPECTRUM_POOL


class SpectrumStats(tf.Module):
    """Running mean amplitude spectra of the two domains (blurred ``a``, clear ``b``).

    A mean over the last :data:`STATS_WINDOW` batches or so (the plain mean until then),
    kept in variables so that checkpoints carry it and resumed runs go on unchanged.

    Parameters
    ----------
    size : int
        Side of the square training crops.
    """

    def __init__(self, size: int, name: str = "spectrum_stats") -> None:
        super().__init__(name=name)
        self.size = int(size)
        shape = spectrum_shape(self.size)
        mean = dict(synchronization=tf.VariableSynchronization.ON_WRITE,
                    aggregation=tf.VariableAggregation.MEAN, trainable=False)
        self.mean_a = tf.Variable(tf.zeros(shape), name="mean_a", **mean)
        self.mean_b = tf.Variable(tf.zeros(shape), name="mean_b", **mean)
        self.count = tf.Variable(0.0, name="count", trainable=False,
                                 synchronization=tf.VariableSynchronization.ON_WRITE,
                                 aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)

    def update(self, real_a, real_b) -> tuple[tf.Tensor, tf.Tensor]:
        """Fold one batch of each domain (model range, (N, H, W, 1)) into the means.

        Returns
        -------
        spectra : (tensor, tensor)
            The batches' own amplitude spectra (:func:`amplitude_spectrum`, no gradient),
            for :func:`equalization_loss`.
        """
        for batch in (real_a, real_b):
            height, width = batch.shape[1], batch.shape[2]
            if (height, width) != (self.size, self.size):
                raise ValueError(
                    f"SpectrumStats: training crops of {tuple(batch.shape[1:3])} pixels, but "
                    f"the running spectra were made for image_size={self.size} (the "
                    f"config's image_size must be the crops' side)")
        count = self.count.assign_add(1.0)
        rate = 1.0 / tf.minimum(count, float(STATS_WINDOW))
        spectra = []
        for mean, batch in ((self.mean_a, real_a), (self.mean_b, real_b)):
            spectrum = tf.stop_gradient(amplitude_spectrum(batch))
            mean.assign_add(rate * (tf.reduce_mean(spectrum, 0) - mean))
            spectra.append(spectrum)
        return tuple(spectra)

    def log_gain(self, cap: float, *, towards: str = "b") -> tf.Tensor:
        """``log`` of the capped ratio of the mean spectra: clear over blurred for
        ``towards='b'`` (what G should do), its inverse for ``'a'`` (F)."""
        ratio = tf.math.log(self.mean_b + SPECTRUM_FLOOR) - tf.math.log(self.mean_a
                                                                         + SPECTRUM_FLOOR)
        ratio = ratio if towards == "b" else -ratio
        bound = float(np.log(cap))
        return tf.stop_gradient(tf.clip_by_value(ratio, -bound, bound))

    def weight(self, towards: str = "b") -> tf.Tensor:
        """Bin weights for :func:`equalization_loss`: the mean amplitude spectrum of the
        target domain (clear for ``towards='b'``), divided by its mean."""
        mean = self.mean_b if towards == "b" else self.mean_a
        return tf.stop_gradient(mean / (tf.reduce_mean(mean) + 1e-12))


def equalization_loss(translated, source_spectrum, log_gain, weight) -> tf.Tensor:
    """Weighted mean squared difference between a translation's spectral gain and
    ``log_gain``.

    Parameters
    ----------
    translated : tensor, (N, H, W, 1), model range
        G(a) (or F(b)).
    source_spectrum : tensor, (N, *spectrum_shape)
        :func:`amplitude_spectrum` of a (or b), e.g. as :meth:`SpectrumStats.update`
        returns it: the gain is measured on each image's own pair, so a linear filter
        sees the same target whatever the image shows.
    log_gain : tensor, :func:`spectrum_shape`
        Target log gain per frequency bin (:meth:`SpectrumStats.log_gain`).
    weight : tensor, :func:`spectrum_shape`
        Weight of each bin (:meth:`SpectrumStats.weight`): the target domain's mean
        amplitude. Uniform weights let the many high-frequency bins, where little of an
        image's energy lies, decide the fit; a 15x15 filter fitted that way overshoots at
        low frequencies (measured: 15.6 dB on dataset A from 22.3 dB; amplitude weights:
        25.7 dB).

    Returns
    -------
    loss : scalar float32 tensor (0 when every bin has the target gain)
    """
    gain = (tf.math.log(amplitude_spectrum(translated) + SPECTRUM_FLOOR)
            - tf.math.log(tf.stop_gradient(source_spectrum) + SPECTRUM_FLOOR))
    return tf.reduce_mean(weight[None] * tf.square(gain - log_gain[None]))


def histogram_loss(translated, target) -> tf.Tensor:
    """Mean squared difference of the sorted grey levels of each image pair ([0, 1]).

    Parameters
    ----------
    translated, target : tensor, (N, H, W, 1), model range, same shape

    Returns
    -------
    loss : scalar float32 tensor (0 when one image is a permutation of the other)
    """
    flat = lambda x: tf.sort(tf.reshape(_as01(x), [tf.shape(x)[0], -1]), axis=-1)  # noqa: E731
    return tf.reduce_mean(tf.square(flat(translated) - flat(target)))
