"""Percentile-bootstrap confidence intervals of means over test images, and paired gains.

Each table cell of the evaluation is a mean over images with a 95 % percentile-bootstrap
confidence interval: ``n_boot`` resamples of the images (with replacement, seeded, the
same resamples for every method, so intervals of two methods are comparable). The
*paired* gain of a method over a reference (:func:`gain_table`) resamples the per-image
differences, which says whether one method beats the other on this kind of image.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CI_LEVEL = 0.95
N_BOOT = 1000


def bootstrap_ci(values, *, n_boot=N_BOOT, rng=0, level=CI_LEVEL):
    """Percentile-bootstrap confidence interval of a mean.

    Parameters
    ----------
    values : array_like, shape (N,)
        One number per image.
    n_boot : int, optional
        Resamples of the N values, drawn with replacement.
    rng : numpy.random.Generator, int or None, optional
        Seed of the resampling.
    level : float, optional
        Coverage, default 0.95 (the 2.5th and 97.5th percentiles).

    Returns
    -------
    lo, hi : float
        NaN if any value is NaN.
    """
    rng = np.random.default_rng(rng)
    values = np.asarray(values, dtype=np.float64)
    return _ci(values, rng.integers(0, len(values), (n_boot, len(values))), level)


def _ci(values, index, level=CI_LEVEL):
    if np.isnan(values).any():
        return np.nan, np.nan
    means = values[index].mean(axis=1)
    tail = 50 * (1 - level)
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def summary_table(per_image, metrics, *, n_boot=N_BOOT, rng=0, level=CI_LEVEL):
    """Means, bootstrap intervals and times of each (method, psf), in the order of
    ``per_image``.

    Every (method, psf) is resampled with the same ``n_boot`` draws of the images (one
    generator seeded with ``rng``), so the intervals of two methods are comparable.

    Parameters
    ----------
    per_image : pandas.DataFrame
        One row per (image, method, psf), with the images in the same order for every
        (method, psf): columns ``method``, ``psf``, the metrics and ``seconds``.
    metrics : sequence of str
        The metric columns summarised.
    n_boot, rng, level : optional
        As :func:`bootstrap_ci`.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``method``, ``psf``, the metrics' means, ``<m>_lo`` and ``<m>_hi`` for
        each metric, and ``seconds_per_image``.
    """
    n_images = int(per_image.groupby(["method", "psf"], sort=False).size().iloc[0])
    index = np.random.default_rng(rng).integers(0, n_images, (n_boot, n_images))
    rows = []
    for (method, psf), group in per_image.groupby(["method", "psf"], sort=False):
        row = {"method": method, "psf": psf}
        for m in metrics:
            values = group[m].to_numpy(dtype=np.float64)
            row[m] = float(values.mean())
            row[f"{m}_lo"], row[f"{m}_hi"] = _ci(values, index, level)
        row["seconds_per_image"] = float(group["seconds"].mean())
        rows.append(row)
    columns = ["method", "psf", *metrics,
               *(f"{m}_{end}" for m in metrics for end in ("lo", "hi")), "seconds_per_image"]
    return pd.DataFrame(rows, columns=columns)


def gain_table(per_image, *, reference="blurred", metrics=("psnr", "ssim"), n_boot=N_BOOT,
               rng=0, level=CI_LEVEL):
    """Each method's mean gain over ``reference`` on the same images, with a paired
    bootstrap interval.

    Two methods scored on the same test images share each image's difficulty; the
    interval of the *difference* of their means resamples images, not methods, and so
    says whether one beats the other on this kind of image, which the overlap of the
    two separate intervals of :func:`summary_table` cannot (they are much wider).

    Parameters
    ----------
    per_image : pandas.DataFrame
        :func:`semgan_core.evaluate.evaluate_methods`' ``per_image``.
    reference : str, optional
        The method every other one is compared with (default the blurred input).
    metrics : sequence of str, optional
        Metric columns of ``per_image``.
    n_boot, rng, level : optional
        As :func:`bootstrap_ci`.

    Returns
    -------
    gains : pandas.DataFrame
        One row per (method, psf) other than the reference: for each metric ``m``,
        ``m_gain`` (mean of method minus reference, per image) and ``m_gain_lo``,
        ``m_gain_hi``.
    """
    ref = per_image[per_image["method"] == reference].set_index("image")
    if ref.empty:
        raise ValueError(f"gain_table: no rows of the reference method {reference!r}")
    index = np.random.default_rng(rng).integers(0, len(ref), (n_boot, len(ref)))
    rows = []
    for (method, psf), group in per_image.groupby(["method", "psf"], sort=False):
        if method in (reference, "ground-truth"):
            continue
        group = group.set_index("image").loc[ref.index]
        row = {"method": method, "psf": psf}
        for m in metrics:
            diff = group[m].to_numpy(np.float64) - ref[m].to_numpy(np.float64)
            row[f"{m}_gain"] = float(diff.mean())
            row[f"{m}_gain_lo"], row[f"{m}_gain_hi"] = _ci(diff, index, level)
        rows.append(row)
    return pd.DataFrame(rows)
