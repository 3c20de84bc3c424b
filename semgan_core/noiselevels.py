"""Evaluation at several SEM noise levels: the levels, their folders, the long table.

A noise level is the shot noise's standard deviation at mid-grey on the [0, 1] grey
scale (the Gaussian equivalent of Poisson counts at the dose ``0.5 / level**2``,
:class:`semgan_core.noise.NoiseModel` ``(sigma=level)``); 0 is the paper's noise-free
degradation. :func:`semgan_core.benchmark.run_evaluation` scores every method at each
level on the same clean crops (:func:`semgan_core.evaluate.test_set`) and writes each
level's tables to its folder (:func:`level_folder`); :func:`levels_frame` gathers them
into one long table, one row per (level, method, PSF), which
:func:`semgan_core.plotting.noise_curves` draws and :func:`levels_text` prints.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from semgan_core.checks import check_number
from semgan_core.labels import method_label

#: Largest noise level (as :func:`semgan_core.datasets.make_dataset` takes it).
MAX_NOISE = 0.5
#: The levels of the noisy evaluation (noise-free, then 0.01, 0.02 and 0.04).
DEFAULT_LEVELS = (0.0, 0.01, 0.02, 0.04)
_METRICS = ("psnr", "ssim")
#: Columns of :func:`levels_frame`.
LEVEL_COLUMNS = ("level", "method", "psf",
                 *(f"{m}{end}" for m in _METRICS for end in ("", "_lo", "_hi")),
                 *(f"{m}_gain{end}" for m in _METRICS for end in ("", "_lo", "_hi")),
                 "seconds_per_image")


def check_noise_level(func, level):
    """A noise level as a float in [0, :data:`MAX_NOISE`].

    Parameters
    ----------
    func : str
        The calling function, for the message.
    level : float

    Returns
    -------
    float

    Raises
    ------
    TypeError
        For a value that is not a number.
    ValueError
        For a negative, infinite, NaN or too large level, e.g.
        ``"test_set: noise must be finite in [0, 0.5], got -0.01"``.
    """
    return check_number(func, "noise", level, low=0, high=MAX_NOISE)


def check_levels(func, levels):
    """Noise levels as a tuple of floats: a non-empty sequence without repeats.

    Raises
    ------
    TypeError, ValueError
        For a level :func:`check_noise_level` refuses, an empty sequence or a repeated
        level.
    """
    if np.ndim(levels) == 0:
        levels = [levels]
    checked = tuple(check_noise_level(func, level) for level in levels)
    if not checked:
        raise ValueError(f"{func}: noise needs at least one level, got none")
    repeated = sorted({x for x in checked if checked.count(x) > 1})
    if repeated:
        raise ValueError(f"{func}: noise levels must differ, got {list(checked)} "
                         f"(repeated: {repeated})")
    return checked


def level_folder(level):
    """Name of a level's sub-folder: ``'noise-0'``, ``'noise-0.01'``, ``'noise-0.02'``."""
    return f"noise-{float(level):g}"


def levels_frame(tables, gains):
    """One long table of several levels' results.

    Parameters
    ----------
    tables : dict of float to pandas.DataFrame
        Each level's table (:func:`semgan_core.evaluate.evaluate_methods`).
    gains : dict of float to pandas.DataFrame
        Each level's paired gains over the (noisy) input
        (:func:`semgan_core.bootstrap.gain_table`), same keys.

    Returns
    -------
    frame : pandas.DataFrame
        Columns :data:`LEVEL_COLUMNS`, one row per (level, method, psf) with the rows of
        each level in table order; the ground truth is left out (it has no PSNR or SSIM)
        and the input's gains are 0.

    Raises
    ------
    ValueError
        If the two dicts do not have the same levels.
    """
    if set(tables) != set(gains):
        raise ValueError(f"levels_frame: tables and gains must have the same levels, got "
                         f"{sorted(tables)} and {sorted(gains)}")
    parts = []
    for level, table in tables.items():
        gain = gains[level].set_index(["method", "psf"])
        part = table[table["method"] != "ground-truth"].copy()
        part.insert(0, "level", float(level))
        for column in (f"{m}_gain{end}" for m in _METRICS for end in ("", "_lo", "_hi")):
            values = [0.0 if method == "blurred" else gain[column].get((method, psf), np.nan)
                      for method, psf in zip(part["method"], part["psf"])]
            part[column] = np.asarray(values, dtype=np.float64)
        parts.append(part[list(LEVEL_COLUMNS)])
    return pd.concat(parts, ignore_index=True)


def levels_text(frame):
    """A compact plain-text table per level, for a terminal.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`levels_frame`.

    Returns
    -------
    text : str
        Per level a heading and one line per method: PSNR and SSIM means with their
        95 % intervals, and the paired gains over the input with theirs.
    """
    lines = []
    for level, part in frame.groupby("level", sort=False):
        lines.append(f"noise {level:g} (shot noise at mid-grey; mean [95 % interval], "
                     "gain over the noisy input [paired 95 % interval]):")
        lines.append(f"  {'method':<40} {'PSNR (dB)':<22} {'SSIM':<22} "
                     f"{'PSNR gain':<22} SSIM gain")
        for row in part.itertuples():
            cells = [f"{row.psnr:6.2f} [{row.psnr_lo:6.2f}, {row.psnr_hi:6.2f}]",
                     f"{row.ssim:.3f} [{row.ssim_lo:.3f}, {row.ssim_hi:.3f}]",
                     f"{row.psnr_gain:+6.2f} [{row.psnr_gain_lo:+6.2f}, "
                     f"{row.psnr_gain_hi:+6.2f}]",
                     f"{row.ssim_gain:+.3f} [{row.ssim_gain_lo:+.3f}, "
                     f"{row.ssim_gain_hi:+.3f}]"]
            lines.append(f"  {method_label(row.method, row.psf):<40} "
                         + " ".join(f"{c:<22}" for c in cells).rstrip())
        lines.append("")
    return "\n".join(lines).rstrip()
