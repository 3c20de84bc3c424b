"""The blur and the noise of a blurred domain, from unpaired images.

For ``b = k * c + n`` (a clear image ``c`` blurred by ``k``, white noise ``n``) the mean
power spectra of unrelated blurred and clear images obey ``P_b = |K|^2 P_c + P_n``:
:func:`estimate_psf` takes the noise's share off (:func:`noise_power`) and returns the
zero-phase kernel with modulus ``sqrt((P_b - P_n) / P_c)``. :func:`noise_levels` gives
each blurred image's shot noise, from Immerkaer's estimator
(:func:`semgan_core.noise.estimate_noise`). The restorer's pair synthesis
(:mod:`semgan_core.restorer`) uses both.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from semgan_core import checks, images, noise

PSF_SIZE = 15              # side of the estimated point-spread function
BAND = 0.4                 # noise_power: spectrum beyond this many cycles per pixel
BAND_CAP = 1.25            # noise_power: at most this times the estimated noise power


def noise_levels(blurred) -> np.ndarray:
    """Each image's shot noise as its standard deviation at mid-grey (Gaussian equivalent).

    Parameters
    ----------
    blurred : ndarray, shape (N, H, W), float32 in [0, 1]
        Images of the blurred domain.

    Returns
    -------
    sigma : ndarray, shape (N,), float64
        ``estimate_noise(x) * sqrt(0.5 / mean(x))``: for shot noise the variance at grey
        level ``s`` is ``s / dose``, so the mean variance over an image is
        ``mean(x) / dose`` and the level at mid-grey ``sqrt(0.5 / dose)``.

    Raises
    ------
    ValueError
        For images that are not a (N, H, W) stack in [0, 1].
    """
    stack = image_stack("noise_levels", blurred)
    out = [noise.estimate_noise(x) * math.sqrt(noise.MID_GREY / max(float(x.mean()), 1e-3))
           for x in stack]
    return np.asarray(out, np.float64)


def mean_power_spectrum(stack) -> np.ndarray:
    """Mean power spectrum of mean-removed, Hann-windowed images.

    Parameters
    ----------
    stack : ndarray, shape (N, H, W), float32 in [0, 1]

    Returns
    -------
    power : ndarray, shape (H, W), float64, unshifted (frequency 0 at [0, 0])

    Notes
    -----
    White noise of standard deviation ``s`` adds ``s**2 * sum(window**2)`` at every
    frequency (:func:`noise_power`).
    """
    stack = image_stack("mean_power_spectrum", stack)
    h, w = stack.shape[1:]
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.zeros((h, w))
    for x in stack.astype(np.float64):
        power += np.abs(np.fft.fft2((x - x.mean()) * window)) ** 2
    return power / len(stack)


def noise_power(power, sigma) -> float:
    """The white noise's share of a mean power spectrum (:func:`mean_power_spectrum`).

    Parameters
    ----------
    power : ndarray, shape (H, W)
        A domain's mean power spectrum.
    sigma : array_like
        Each image's noise standard deviation (:func:`semgan_core.noise.estimate_noise`).

    Returns
    -------
    float
        The median power beyond :data:`BAND` cycles per pixel (where a blur leaves only
        noise), kept between the estimated noise's power and :data:`BAND_CAP` times it.

    Notes
    -----
    Immerkaer's estimate with the strongest edges left out reads a few percent low on
    blurred micrographs (measured: 0.0231 for a true 0.0240); left in, the remaining
    noise power makes the estimated PSF too narrow. The spectrum's outer band measures
    the noise power itself when the blur has removed the signal there; the cap keeps a
    weak blur's remaining signal from being taken for noise.
    """
    h, w = power.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    estimate = float(np.mean(np.square(sigma))) * float(np.sum(window ** 2))
    fy, fx = np.meshgrid(np.fft.fftfreq(h), np.fft.fftfreq(w), indexing="ij")
    band = float(np.median(power[np.hypot(fy, fx) > BAND]))
    return float(np.clip(band, estimate, BAND_CAP * estimate))


def estimate_psf(blurred, clear, *, size=PSF_SIZE, blurred_noise=None, clear_noise=None):
    """The blur's point-spread function from the two domains' mean power spectra.

    Parameters
    ----------
    blurred, clear : ndarray, shape (N, H, W) and (M, H, W), float32 in [0, 1]
        Unrelated images of the blurred and the clear domain (same crop size).
    size : int, optional
        Odd side of the returned kernel.
    blurred_noise, clear_noise : array_like, optional
        Each image's white-noise standard deviation (:func:`semgan_core.noise.
        estimate_noise`); the noise power (:func:`noise_power`) is taken off its
        domain's spectrum first.

    Returns
    -------
    psf : ndarray, shape (size, size), float32, non-negative, sums to 1

    Raises
    ------
    ValueError
        For stacks of different crop sizes, or a ``size`` that is not odd, below 3 or
        larger than the crops.

    Notes
    -----
    For ``b = k * c + n`` the mean spectra obey ``P_b = |K|^2 P_c + P_n``, so
    ``|K| = sqrt((P_b - P_n) / P_c)`` (clipped to [0, 1]; frequency 0 set to 1). The
    phase is not identifiable from unrelated images: the kernel is the zero-phase
    (symmetric) one with that modulus, cut to ``size`` and renormalised.
    """
    size = checks.check_int("estimate_psf", "size", size, low=3)
    pb, pc = mean_power_spectrum(blurred), mean_power_spectrum(clear)
    if pb.shape != pc.shape:
        raise ValueError(f"estimate_psf: blurred crops are {pb.shape}, clear ones {pc.shape}; "
                         "expected the same size")
    if size % 2 == 0 or size > min(pb.shape):
        raise ValueError(f"estimate_psf: size must be odd and at most {min(pb.shape)}, "
                         f"got {size}")
    if blurred_noise is not None:
        pb = pb - noise_power(pb, blurred_noise)
    if clear_noise is not None:
        pc = pc - noise_power(pc, clear_noise)
    ratio = np.clip(pb, 0, None) / np.maximum(pc, 1e-3 * pc.max())
    ratio = 0.5 * (ratio + np.roll(ratio[::-1, ::-1], 1, axis=(0, 1)))   # even: real kernel
    modulus = np.sqrt(np.clip(ratio, 0.0, 1.0))
    modulus[0, 0] = 1.0
    kernel = np.real(np.fft.fftshift(np.fft.ifft2(modulus)))
    cy, cx, r = kernel.shape[0] // 2, kernel.shape[1] // 2, size // 2
    kernel = np.clip(kernel[cy - r:cy + r + 1, cx - r:cx + r + 1], 0, None)
    return (kernel / kernel.sum()).astype(np.float32)


def image_stack(func, array) -> np.ndarray:
    """``array`` as a non-empty (N, H, W) stack of valid images, or a one-line
    ``ValueError`` naming ``func`` (shared with :mod:`semgan_core.fogfit`)."""
    stack = np.asarray(array)
    if stack.ndim != 3:
        raise ValueError(f"{func}: expected a stack of shape (N, H, W), got shape "
                         f"{stack.shape}")
    if not len(stack):
        raise ValueError(f"{func}: the stack holds no images (shape {stack.shape})")
    return np.stack([images.as_image(x, name=f"{func}: image") for x in stack])


def read_psf(path) -> np.ndarray:
    """A point-spread function from a file: ``.npy``, or JSON holding a 2-D list or an
    object with a ``"psf"`` key (a paired folder's ``manifest.json`` from
    :func:`semgan_core.restorer.make_pair_dataset`).

    Returns
    -------
    psf : ndarray, shape (p, q), float32, odd sides, non-negative, sums to 1

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ValueError
        One line naming the file, if it holds no valid PSF.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"read_psf: {str(path)!r} is not a file")
    try:
        if path.suffix == ".npy":
            value = np.load(path, allow_pickle=False)
        else:
            value = json.loads(path.read_text())
            value = value["psf"] if isinstance(value, dict) else value
        psf = np.asarray(value, np.float64)
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise ValueError(f"read_psf: {str(path)!r} holds no PSF ({type(exc).__name__}: "
                         f"{exc})") from None
    if (psf.ndim != 2 or psf.shape[0] % 2 == 0 or psf.shape[1] % 2 == 0
            or not np.all(np.isfinite(psf)) or psf.min() < 0 or psf.sum() <= 0):
        raise ValueError(f"read_psf: {str(path)!r}: expected a 2-D kernel with odd sides, "
                         f"finite and non-negative, got shape {psf.shape}")
    return (psf / psf.sum()).astype(np.float32)
