"""PSNR and SSIM against the SEM noise level, one line per method, with intervals."""

from __future__ import annotations

import math

import numpy as np

from semgan_core.labels import method_label
from semgan_core.plotting.panels import COLUMN_WIDTH

_NEEDED = ("level", "method", "psf", "psnr", "psnr_lo", "psnr_hi", "ssim", "ssim_lo",
           "ssim_hi")


def noise_curves(levels, *, psf=("assumed",), methods=None, title=None, width=COLUMN_WIDTH):
    """PSNR and SSIM of each method against the noise level, with 95 % intervals.

    Parameters
    ----------
    levels : pandas.DataFrame
        The long table of :func:`semgan_core.noiselevels.levels_frame` (``levels.csv``
        of the ``evaluate`` command read back): columns ``level``, ``method``, ``psf``,
        ``psnr``, ``ssim`` and their ``_lo`` / ``_hi`` bounds.
    psf : sequence of str, optional
        PSF settings of the classical methods to draw (default the assumed PSF, the
        realistic case); rows without a PSF (the input, the generators) are always drawn.
    methods : sequence of str, optional
        Method keys to draw, in this order (default: all, in table order).
    title : str, optional
        Figure title (e.g. the degradation and the test set).
    width : float, optional
        Figure width in inches (the default fits the book's text column).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Two panels, PSNR (dB) and SSIM against the noise level (the shot noise's
        standard deviation at mid-grey); each line is a (method, PSF) row, its markers
        the means, its band the 95 % confidence interval; the input is black and dashed.
        The legend is below both panels.

    Raises
    ------
    ValueError
        If ``levels`` lacks a column, or ``methods`` names a method it does not hold.
    """
    import matplotlib.pyplot as plt

    missing = [c for c in _NEEDED if c not in getattr(levels, "columns", ())]
    if missing:
        raise ValueError(f"noise_curves: levels must be a DataFrame of "
                         f"noiselevels.levels_frame; missing columns {missing}")
    rows = levels[levels["psf"].isin(["-", *psf])]
    order = list(dict.fromkeys(rows["method"])) if methods is None else list(methods)
    unknown = [m for m in order if m not in set(rows["method"])]
    if unknown:
        raise ValueError(f"noise_curves: methods {unknown} are not in levels (with psf "
                         f"{list(psf)}); it holds {sorted(set(rows['method']))}")
    fig, axes = plt.subplots(1, 2, figsize=(width, 4.2), constrained_layout=True)
    for method in order:
        for setting, part in rows[rows["method"] == method].groupby("psf", sort=False):
            part = part.sort_values("level")
            style = ({"color": "black", "ls": "--"} if method == "blurred" else {})
            for ax, key in zip(axes, ("psnr", "ssim")):
                x = part["level"].to_numpy(float)
                line, = ax.plot(x, part[key].to_numpy(float), marker="o", ms=4,
                                label=method_label(method, setting), **style)
                ax.fill_between(x, part[f"{key}_lo"].to_numpy(float),
                                part[f"{key}_hi"].to_numpy(float), color=line.get_color(),
                                alpha=0.2, lw=0)
    ticks = np.unique(rows["level"].to_numpy(float))
    for ax, unit in zip(axes, ("PSNR (dB)", "SSIM")):
        ax.set(xlabel="noise level (shot noise std at mid-grey)", ylabel=unit, title=unit)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=9)
    fig.set_figheight(3.8 + 0.25 * math.ceil(len(labels) / 2))
    return fig
