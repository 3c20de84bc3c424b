"""The fog of a blurred domain, fitted from unpaired images.

Degradations B and C add fog after the blur (eq. 18, :func:`semgan_core.degrade.fog`):
``I = f t + A (1 - t)`` with the transmission ``t = exp(-tau d)``, ``d`` a smooth
random depth field in [0, 1] (:func:`semgan_core.degrade.depth_map`), ``tau`` the
optical depth at the field's maximum and ``A`` the airlight. Fog lifts the dark floor
towards ``A`` and flattens the contrast, so it shows in three per-image statistics that
need no pair of the same field: the dark floor (1st percentile), the mean and the
standard deviation of the lightly smoothed image (:func:`fog_statistics`).

:func:`estimate_fog` draws depth fields for clear images blurred by the estimated PSF
(:mod:`semgan_core.blurfit`) and searches the airlight and the range of ``tau`` whose
fogged copies' statistics have the quantiles closest to the blurred domain's. Without
fog the best range is ``tau = 0``. The restorer's pair synthesis
(:func:`semgan_core.restorer.make_pair_dataset`, ``degrader="psf+fog"``) then fogs its
clear crops with the fitted values (:func:`apply_fog`).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import ndimage

from semgan_core import degrade, images
from semgan_core.blurfit import image_stack

#: Candidate airlights, centre optical depths and half-widths of the tau range.
AIRLIGHTS = tuple(np.round(np.arange(0.5, 1.001, 0.05), 2))
TAUS = tuple(np.round(np.arange(0.0, 2.001, 0.25), 2))
SPREADS = (0.0, 0.25, 0.5)
QUANTILES = np.linspace(0.1, 0.9, 9)
SMOOTH = 1.5                # Gaussian sigma (pixels) before the statistics: noise off
_STEP = 2                   # statistics on every 2nd pixel in each direction


def fog_statistics(stack) -> np.ndarray:
    """Per-image dark floor (1st percentile), mean and standard deviation.

    Parameters
    ----------
    stack : ndarray, shape (N, H, W), float32 in [0, 1]

    Returns
    -------
    stats : ndarray, shape (N, 3), float64
        Of each image smoothed by a Gaussian of sigma :data:`SMOOTH` (so the noise
        barely moves them).
    """
    stack = image_stack("fog_statistics", stack)
    out = np.empty((len(stack), 3))
    for i, x in enumerate(stack):
        s = ndimage.gaussian_filter(x.astype(np.float64), SMOOTH)[::_STEP, ::_STEP]
        out[i] = np.percentile(s, 1), s.mean(), s.std()
    return out


def apply_fog(image, *, airlight, tau, rng=None):
    """Fog one image with a fresh depth field: eq. 18 with ``beta * depth_max = tau``.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
    airlight : float
        A, in [0, 1].
    tau : float
        Optical depth where the depth field is 1, >= 0 (0: no fog).
    rng : numpy.random.Generator, int or None
        Draws the depth field (:func:`semgan_core.degrade.depth_map`).

    Returns
    -------
    foggy : ndarray, shape (H, W), float32 in [0, 1]
    """
    image = images.as_image(image, name="apply_fog: image")
    depth = degrade.depth_map(image.shape, rng=rng)
    return degrade.fog(image, beta=tau, depth=depth, airlight=airlight)


def estimate_fog(blurred, clear_blurred, *, seed=0, airlights=AIRLIGHTS, taus=TAUS,
                 spreads=SPREADS):
    """Fit eq. 18's airlight and optical-depth range from unpaired images.

    Parameters
    ----------
    blurred : ndarray, shape (N, H, W), float32 in [0, 1]
        Images of the blurred (fogged) domain.
    clear_blurred : ndarray, shape (M, H, W), float32 in [0, 1]
        Unrelated clear images, blurred by the estimated PSF (no fog).
    seed : int
        Seed of the depth fields and the tau draws (fixed across the candidates).
    airlights, taus, spreads : sequence of float
        The grid: airlight ``A``; centre ``tau`` and half-width ``w`` of the range
        ``[max(0, tau - w), tau + w]`` from which each image's optical depth is drawn.

    Returns
    -------
    fit : dict
        ``airlight``, ``tau`` (low, high) and ``distance``: the summed mean absolute
        difference between the quantiles (:data:`QUANTILES`) of the three statistics
        (:func:`fog_statistics`) of the fogged clear images and of ``blurred``; also
        ``distance_no_fog``, the same for ``tau = 0``.

    Raises
    ------
    ValueError
        For images that are not (N, H, W) stacks in [0, 1], or an empty grid.
    """
    target = np.quantile(fog_statistics(image_stack("estimate_fog", blurred)), QUANTILES, axis=0)
    clear = image_stack("estimate_fog", clear_blurred).astype(np.float64)
    if not (len(airlights) and len(taus) and len(spreads)):
        raise ValueError("estimate_fog: the airlight, tau and spread grids must not be empty")
    rng = np.random.default_rng(seed)
    depth = np.stack([degrade.depth_map(x.shape, rng=rng) for x in clear]).astype(np.float64)
    u = rng.random(len(clear))[:, None, None]
    smooth_clear = np.stack([ndimage.gaussian_filter(x, SMOOTH)
                             for x in clear])[:, ::_STEP, ::_STEP]
    # the fog is smooth, so smoothing and fogging commute closely: fog the smoothed images
    depth = depth[:, ::_STEP, ::_STEP]

    def distance(a, low, high):
        t = np.exp(-(low + u * (high - low)) * depth)
        fogged = smooth_clear * t + a * (1 - t)
        flat = fogged.reshape(len(fogged), -1)
        stats = np.stack([np.percentile(flat, 1, axis=1), flat.mean(1), flat.std(1)], 1)
        return float(np.abs(np.quantile(stats, QUANTILES, axis=0) - target).mean(0).sum())

    best = None
    for a, tau, w in itertools.product(airlights, taus, spreads):
        low, high = max(0.0, tau - w), tau + w
        if high == 0 and a != airlights[0]:
            continue                      # without fog the airlight does not matter
        d = distance(a, low, high)
        if best is None or d < best[0]:
            best = (d, float(a), low, high)
    d, a, low, high = best
    return {"airlight": a, "tau": [float(low), float(high)], "distance": d,
            "distance_no_fog": distance(airlights[0], 0.0, 0.0)}

