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
* :func:`histogram_loss`: mean squared difference of the sorted grey levels (the 1-D
  Wasserstein-2 distance between the two images' histograms): brightness and contrast,
  which charging fog changes (recipes B and C) and a blur does not.

Images in the model range [-1, 1], (N, H, W, 1); compared on the [0, 1] scale, like the
paper's pixel losses (:mod:`semgan_core.losses`).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from semgan_core.images import from_model_range

SPECTRUM_POOL = 4        # frequency bins averaged per side (variance of one periodogram)


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
