"""Scoring whole real micrographs, which have no ground truth.

A real micrograph has no sharp original to compare with, so the paper judges its
restorations of real images (its Tables 3 and 4) by the no-reference metrics AG, CON and
SF alone (:mod:`semgan_core.metrics`, on 0-255 grey levels). Those rise with detail and
with noise alike. This module scores each restoration of a whole frame by four more
numbers that let a reader tell the two apart:

* ``edge``: the sharpness of the strongest edges (:func:`edge_sharpness`), measured on
  the image lightly smoothed so that noise barely moves it: a restoration that removes
  noise and sharpens edges lowers AG but raises ``edge``;
* ``edge_matched``: the same, with the restoration brought back to the input's noise
  level by added white noise (:func:`matched_edge_sharpness`). On a frame whose noise
  makes up much of ``edge`` (a noisy, low-contrast one), removing the noise lowers
  ``edge`` even where the edges are untouched; at one noise level the score rises only
  if the edges themselves sharpen;
* ``noise``: the noise level of the image (standard deviation on the [0, 1] scale,
  :func:`noise_level`); a restoration that raises AG by amplifying noise raises it too;
* ``reblur``: the re-blur consistency (:func:`reblur_error`): the RMS difference, on the
  [0, 1] scale, between the input and the restoration blurred again with the assumed
  PSF. A restoration that explains the input leaves only the input's noise
  (``reblur`` close to the input's ``noise``); one that invents structure, or removes
  more blur than the PSF put in, leaves more;
* per frame and method, the rise of AG over the input against the rise of the noise
  level (:func:`amplification_table`: their correlation across frames);
* AG of the input with synthetic noise added (:func:`added_noise_metrics`): how much AG
  and SF grow from noise alone, with no restoration at all.
* per frame and method, the factors by which the noise and the edge sharpness change
  (:func:`frame_factors`, summarised by :func:`factor_summary`): a restoration that
  helps a frame lowers the one and raises the other.

The instrument's info bar (:func:`semgan_core.databar.bar_top`) is never scored or
restored: :func:`restore_frame` restores the rows above it and copies the bar's rows
unchanged, and :func:`score_frames` scores the specimen rows only.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy import ndimage

from semgan_core import databar, images, kernels, metrics, noise

#: The method name under which :func:`score_frames` scores the input itself.
INPUT = "input"
#: Columns of a :func:`score_frames` table, after ``frame``, ``source`` and ``method``.
SCORES = ("ag", "con", "sf", "edge", "edge_matched", "noise", "reblur")
#: :func:`edge_sharpness`: Gaussian sigma (pixels) of the smoothing, and the percentile.
EDGE_SIGMA = 1.0
EDGE_PERCENTILE = 99
#: Seed of the white noise :func:`matched_edge_sharpness` adds (fixed, so that a score
#: is a function of its two images).
MATCH_SEED = 0
#: Pixels left out at each border of the re-blur comparison (the PSF's reach and more).
MARGIN = 8
_MIN_SIDE = 2 * MARGIN + 16


def content_rows(image) -> int:
    """Rows of specimen above the instrument's info bar (all rows without a bar).

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]

    Returns
    -------
    int
        The info bar's first row, its frame line included
        (:func:`semgan_core.databar.bar_top`), or ``H``.
    """
    image = images.as_image(image, name="content_rows(image)")
    row = databar.bar_top(image)
    return image.shape[0] if row is None else int(row)


def noise_level(image) -> float:
    """Estimated standard deviation of white noise in ``image``, on the [0, 1] scale.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]

    Returns
    -------
    float
        :func:`semgan_core.noise.estimate_noise`: Immerkaer's estimator (blind to
        smooth structure) over the pixels left after the strongest edges.
    """
    return float(noise.estimate_noise(image))


def edge_sharpness(image) -> float:
    """Sharpness of the strongest edges: the :data:`EDGE_PERCENTILE` th percentile of the
    gradient magnitude (Sobel, per pixel, on 0-255 grey levels) of the image smoothed by
    a Gaussian of sigma :data:`EDGE_SIGMA` pixels.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]

    Returns
    -------
    float

    Notes
    -----
    The smoothing takes white noise's gradient down by a factor of about 5 while a
    step edge keeps most of its height, so the score follows the steepness of real
    edges, not the noise. A blur lowers it, a deblurring raises it.

    Examples
    --------
    >>> step = np.zeros((32, 32), np.float32); step[:, 16:] = 1
    >>> from scipy import ndimage
    >>> edge_sharpness(step) > edge_sharpness(ndimage.gaussian_filter(step, 2))
    True
    """
    x = ndimage.gaussian_filter(images.as_image(image, name="edge_sharpness(image)")
                                .astype(np.float64), EDGE_SIGMA)
    magnitude = np.hypot(ndimage.sobel(x, 0), ndimage.sobel(x, 1)) / 8.0
    return float(255.0 * np.percentile(magnitude, EDGE_PERCENTILE))


def matched_edge_sharpness(observed, restored) -> float:
    """:func:`edge_sharpness` of a restoration at its input's noise level.

    White Gaussian noise of standard deviation ``sqrt(n_in**2 - n_out**2)`` is added to
    ``restored`` (``n``: :func:`noise_level` of each; seed :data:`MATCH_SEED`) before
    the score is taken, so that input and restoration are compared at one noise level.
    A restoration whose noise is at or above the input's is scored as it is; the input
    scored against itself gets its own :func:`edge_sharpness`.

    Parameters
    ----------
    observed, restored : ndarray, shape (H, W), float32 in [0, 1]
        One shape, at least 32 pixels on each side.

    Returns
    -------
    float
        On 0-255 grey levels. Above ``edge_sharpness(observed)`` only if the restoration
        sharpened the edges: a pure denoiser that leaves the edges as they are scores
        about the input's value, where :func:`edge_sharpness` alone would fall by the
        noise's share of the input's score.
    """
    observed, restored = _check_pair("matched_edge_sharpness", observed, restored)
    return _edge_at_noise(restored, noise_level(observed), noise_level(restored))


def _edge_at_noise(restored, noise_in, noise_out):
    """:func:`matched_edge_sharpness` given both noise levels (each estimated once)."""
    missing = noise_in ** 2 - noise_out ** 2
    if missing > 0:
        restored = noise.add_noise(restored, noise.NoiseModel(read_sigma=float(np.sqrt(missing))),
                                   rng=MATCH_SEED)
    return edge_sharpness(restored)


def _check_pair(func, observed, restored):
    observed = images.as_image(observed, name=f"{func}(observed)")
    restored = images.as_image(restored, name=f"{func}(restored)")
    if observed.shape != restored.shape:
        raise ValueError(f"{func}: observed and restored must have one shape, got "
                         f"{observed.shape} and {restored.shape}")
    if min(observed.shape) < _MIN_SIDE:
        raise ValueError(f"{func}: images must be at least {_MIN_SIDE} pixels on each side "
                         f"(a {MARGIN}-pixel border is left out), got {observed.shape}")
    return observed, restored


def reblur_error(observed, restored, psf=kernels.ASSUMED_PSF) -> float:
    """Re-blur consistency: RMS of ``psf * restored - observed`` on the [0, 1] scale.

    Parameters
    ----------
    observed : ndarray, shape (H, W), float32 in [0, 1]
        The blurred input, at least 32 pixels on each side.
    restored : ndarray, shape (H, W), float32 in [0, 1]
        Its restoration.
    psf : ndarray, shape (k, k), optional
        The PSF the restoration assumes (default the 7x7 Gaussian of sigma 1).

    Returns
    -------
    float
        Root mean square over the pixels at least :data:`MARGIN` from the border. The
        input itself scores the RMS of ``psf * observed - observed`` (what one more
        blur changes); a restoration that explains the input scores about its noise.

    Raises
    ------
    ValueError
        For invalid images, images of two shapes or smaller than 32 pixels.

    Examples
    --------
    >>> sharp = np.zeros((64, 64), np.float32); sharp[:, 32:] = 1
    >>> blurred = kernels.convolve(sharp, kernels.ASSUMED_PSF)
    >>> reblur_error(blurred, sharp) < 1e-6 < reblur_error(blurred, blurred)
    True
    """
    observed, restored = _check_pair("reblur_error", observed, restored)
    diff = kernels.convolve(restored, psf).astype(np.float64) - observed
    inner = diff[MARGIN:-MARGIN, MARGIN:-MARGIN]
    return float(np.sqrt(np.mean(inner * inner)))


def score(observed, restored, psf=kernels.ASSUMED_PSF) -> dict[str, float]:
    """All scores of one restoration of one frame (keys :data:`SCORES`).

    Parameters
    ----------
    observed, restored : ndarray, shape (H, W), float32 in [0, 1]
        The input's specimen rows and their restoration (pass ``observed`` twice to
        score the input itself).
    psf : ndarray, optional
        As :func:`reblur_error`.

    Returns
    -------
    dict
        ``ag``, ``con``, ``sf``, ``edge``, ``edge_matched`` (0-255 grey levels),
        ``noise`` (of ``restored``) and ``reblur``.
    """
    observed, restored = _check_pair("score", observed, restored)
    values = metrics.evaluate(None, restored)
    noise_out = noise_level(restored)
    values["edge"] = edge_sharpness(restored)
    values["edge_matched"] = _edge_at_noise(restored, noise_level(observed), noise_out)
    values["noise"] = noise_out
    values["reblur"] = reblur_error(observed, restored, psf)
    return values


def restore_frame(image, restore):
    """Restore the specimen rows of a whole frame; pass the info bar through unchanged.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
    restore : callable
        ``restore(specimen) -> restored``, (h, W) float32 in [0, 1] to the same shape.

    Returns
    -------
    restored : ndarray, shape (H, W), float32 in [0, 1]
        Rows from :func:`content_rows` down are copied from ``image``.

    Raises
    ------
    ValueError
        For an invalid image, or a ``restore`` that changes the shape.
    """
    image = images.as_image(image, name="restore_frame(image)")
    rows = content_rows(image)
    out = image.copy()
    restored = np.asarray(restore(image[:rows]), dtype=np.float32)
    if restored.shape != (rows, image.shape[1]):
        raise ValueError(f"restore_frame: restore returned shape {restored.shape} for "
                         f"specimen rows of shape {(rows, image.shape[1])}")
    out[:rows] = restored
    return out


def score_frames(frames, restorers, *, psf=kernels.ASSUMED_PSF, keep=None):
    """Restore each frame with each method and score it.

    Parameters
    ----------
    frames : dict
        ``{name: (source, image)}``: a frame's source label and its whole image, float32
        in [0, 1] (info bar included).
    restorers : dict
        ``{method: restore(specimen)}`` (e.g.
        :func:`semgan_core.realframes.restorers`). The input is always scored, as
        :data:`INPUT`.
    psf : ndarray, optional
        The PSF of the re-blur score.
    keep : container of str, optional
        Frame names whose restored whole frames are returned (for figures).

    Returns
    -------
    table : pandas.DataFrame
        One row per frame and method: ``frame``, ``source``, ``method``, the
        :data:`SCORES`, ``seconds`` (restoration time) and ``rows`` (specimen rows).
    kept : dict
        ``{frame: {method: whole restored frame}}`` for the frames in ``keep``.

    Raises
    ------
    ValueError
        For an empty ``frames``, a method named :data:`INPUT`, or invalid images.
    """
    if not frames:
        raise ValueError("score_frames: frames is empty; expected {name: (source, image)}")
    if INPUT in restorers:
        raise ValueError(f"score_frames: {INPUT!r} is scored anyway; it cannot name a method")
    rows, kept = [], {}
    for name, (source, image) in frames.items():
        image = images.as_image(image, name=f"score_frames({name})")
        specimen = image[:content_rows(image)]
        shown = kept.setdefault(name, {INPUT: image}) if keep and name in keep else None
        for method, restore in {INPUT: None, **restorers}.items():
            start = time.perf_counter()
            whole = image if restore is None else restore_frame(image, restore)
            seconds = time.perf_counter() - start
            row = score(specimen, whole[:len(specimen)], psf)
            rows.append({"frame": name, "source": source, "method": method, **row,
                         "seconds": seconds, "rows": len(specimen)})
            if shown is not None:
                shown[method] = whole
    return pd.DataFrame(rows), kept


def amplification_table(table) -> pd.DataFrame:
    """How each method's rise in AG and SF goes with its rise in noise, across frames.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`score_frames`.

    Returns
    -------
    pandas.DataFrame
        One row per method (the input left out): ``frames``, the mean ratio of AG, SF
        and noise to the input's (``ag_ratio``, ``sf_ratio``, ``noise_ratio``), the
        mean ``reblur``, and ``corr_ag_noise``: the Pearson correlation across frames of
        the AG rise (output minus input) with the noise rise (0 where either does not
        vary).
    """
    base = table[table["method"] == INPUT].set_index("frame")
    out = []
    for method, rows in table[table["method"] != INPUT].groupby("method", sort=False):
        rows = rows.set_index("frame")
        ref = base.loc[rows.index]
        d_ag, d_noise = rows["ag"] - ref["ag"], rows["noise"] - ref["noise"]
        valid = len(rows) > 1 and d_ag.std() > 0 and d_noise.std() > 0
        out.append({"method": method, "frames": len(rows),
                    "ag_ratio": float((rows["ag"] / ref["ag"]).mean()),
                    "sf_ratio": float((rows["sf"] / ref["sf"]).mean()),
                    "noise_ratio": float((rows["noise"] / ref["noise"]).mean()),
                    "reblur": float(rows["reblur"].mean()),
                    "corr_ag_noise": float(np.corrcoef(d_ag, d_noise)[0, 1]) if valid else 0.0})
    return pd.DataFrame(out)


def frame_factors(table) -> pd.DataFrame:
    """Per method and frame: the factors of noise and edge sharpness over the input's.

    The check that a restoration helps a real frame: its estimated noise does not rise
    (``noise_factor <= 1``) while its strongest edges sharpen at the input's noise level
    (``edge_matched_factor > 1``, :func:`matched_edge_sharpness`). ``edge_factor``
    compares the edges as they are, removed noise included.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`score_frames`.

    Returns
    -------
    pandas.DataFrame
        One row per method (the input left out) and frame: ``method``, ``frame``,
        ``source``, ``noise_factor``, ``edge_factor``, ``edge_matched_factor`` and
        ``passes``.
    """
    base = table[table["method"] == INPUT].set_index("frame")
    rows = table[table["method"] != INPUT]
    ref = base.loc[rows["frame"]]
    out = pd.DataFrame({"method": rows["method"].to_numpy(), "frame": rows["frame"].to_numpy(),
                        "source": rows["source"].to_numpy(),
                        "noise_factor": rows["noise"].to_numpy() / ref["noise"].to_numpy(),
                        "edge_factor": rows["edge"].to_numpy() / ref["edge"].to_numpy(),
                        "edge_matched_factor": rows["edge_matched"].to_numpy()
                        / ref["edge"].to_numpy()})
    out["passes"] = (out["noise_factor"] <= 1) & (out["edge_matched_factor"] > 1)
    return out


def factor_summary(factors) -> pd.DataFrame:
    """Each method's :func:`frame_factors` in one row: medians, ranges and counts.

    Returns
    -------
    pandas.DataFrame
        ``method``, ``frames``, ``noise_median``, ``noise_min``, ``noise_max``, the
        same three of ``edge`` and of ``matched`` (the edge factors as they are and at
        the input's noise level), ``noise_rises`` (frames where the noise rises),
        ``passing`` (frames where it does not and the edges sharpen, :func:`frame_factors`)
        and ``failing`` (the other frames' names, comma-separated).
    """
    out = []
    for method, rows in factors.groupby("method", sort=False):
        spread = {}
        for name, column in (("noise", "noise_factor"), ("edge", "edge_factor"),
                             ("matched", "edge_matched_factor")):
            spread.update({f"{name}_median": rows[column].median(),
                           f"{name}_min": rows[column].min(), f"{name}_max": rows[column].max()})
        n = rows["noise_factor"]
        out.append({"method": method, "frames": len(rows), **spread,
                    "noise_rises": int((n > 1).sum()), "passing": int(rows["passes"].sum()),
                    "failing": ", ".join(rows.loc[~rows["passes"], "frame"])})
    return pd.DataFrame(out)


def added_noise_metrics(image, sigmas, *, rng=None) -> pd.DataFrame:
    """AG, CON, SF and the estimated noise of ``image`` with white noise added.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
    sigmas : sequence of float
        Standard deviations of added Gaussian noise on the [0, 1] scale (0: none), each
        drawn by :func:`semgan_core.noise.add_noise` as read noise.
    rng : numpy.random.Generator, int or None

    Returns
    -------
    pandas.DataFrame
        One row per sigma: ``sigma``, ``ag``, ``con``, ``sf``, ``noise``.
    """
    image = images.as_image(image, name="added_noise_metrics(image)")
    rng = np.random.default_rng(rng)
    rows = []
    for sigma in sigmas:
        noisy = noise.add_noise(image, noise.NoiseModel(read_sigma=float(sigma)), rng=rng)
        rows.append({"sigma": float(sigma), **metrics.evaluate(None, noisy),
                     "noise": noise_level(noisy)})
    return pd.DataFrame(rows)
