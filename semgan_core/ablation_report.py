"""Reading an ablation sweep: intervals over seeds, the table, Fig. 5a and the verdicts.

:func:`summary_table` gathers the runs of :func:`semgan_core.ablation.run_sweep` into one
row per setting with 95 % Student-t intervals over the seeds (few seeds: the t
distribution, not a bootstrap, gives honest widths); :func:`table_markdown` writes it for
the book, :func:`gamma_figure` draws PSNR and SSIM against the edge weight gamma (the
paper's Fig. 5a), :func:`paired_table` gives each setting's difference from gamma = 10
paired by seed, and :func:`verdict_lines` judges the paper's three edge-loss claims.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from semgan_core.ablation import GAMMAS, SETTINGS, edge_difference

LEVEL = 0.95


def t_interval(values, level=LEVEL) -> tuple[float, float]:
    """Student-t confidence interval of the mean of ``values`` (at least 2 of them)."""
    from scipy import stats

    values = np.asarray(values, np.float64)
    if len(values) < 2:
        raise ValueError(f"t_interval: need at least 2 values, got {len(values)}")
    half = stats.t.ppf(0.5 + level / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(
        len(values))
    return float(values.mean() - half), float(values.mean() + half)


def summary_table(runs, *, level=LEVEL) -> pd.DataFrame:
    """Mean and ``level`` Student-t interval over seeds of each setting's scores.

    Parameters
    ----------
    runs : pandas.DataFrame
        From :func:`semgan_core.ablation.run_sweep`.
    level : float
        Coverage of the intervals.

    Returns
    -------
    pandas.DataFrame
        Indexed by setting (in the runs' order): ``seeds``, and for ``psnr``, ``ssim``
        and ``edge_error`` the mean and ``<metric>_lo``, ``<metric>_hi`` (both equal to
        the mean for a setting run with one seed: no interval); then the mean
        ``seconds_per_step``.
    """
    out = {}
    for name, rows in runs.groupby("setting", sort=False):
        entry = {"seeds": len(rows)}
        for metric in ("psnr", "ssim", "edge_error"):
            entry[metric] = float(rows[metric].mean())
            entry[f"{metric}_lo"], entry[f"{metric}_hi"] = (
                t_interval(rows[metric], level) if len(rows) > 1 else (entry[metric],) * 2)
        entry["seconds_per_step"] = float(rows["seconds_per_step"].mean())
        out[name] = entry
    return pd.DataFrame.from_dict(out, orient="index")


def _cell(summary, name, metric, digits):
    """``mean [lo, hi]``, or the mean alone for a setting run with one seed."""
    row = summary.loc[name]
    if row["seeds"] < 2:
        return f"{row[metric]:.{digits}f}"
    return (f"{row[metric]:.{digits}f} [{row[metric + '_lo']:.{digits}f}, "
            f"{row[metric + '_hi']:.{digits}f}]")


def paired_difference(runs, a, b, metric, *, level=LEVEL) -> tuple[float, float, float, int]:
    """Mean over seeds of ``metric(a) - metric(b)``, run by run with the same seed.

    Two settings trained with the same seed share the initial weights and the order of
    the training crops, so the per-seed difference is free of much of the seed-to-seed
    spread that widens each setting's own interval.

    Returns
    -------
    mean, lo, hi : float
        The mean difference and its ``level`` Student-t interval (``lo == hi == mean``
        with one common seed).
    n : int
        Seeds run with both settings (0: ``mean`` etc. are NaN).
    """
    values = {name: runs[runs["setting"] == name].set_index("seed")[metric] for name in (a, b)}
    common = values[a].index.intersection(values[b].index)
    diff = (values[a].loc[common] - values[b].loc[common]).to_numpy(np.float64)
    if len(diff) == 0:
        return math.nan, math.nan, math.nan, 0
    lo, hi = t_interval(diff, level) if len(diff) > 1 else (float(diff[0]),) * 2
    return float(diff.mean()), lo, hi, len(diff)


def _differs(runs, a, b, metric):
    """Whether the paired interval of a - b excludes 0 (at least two common seeds)."""
    mean, lo, hi, n = paired_difference(runs, a, b, metric)
    return n > 1 and (lo > 0 or hi < 0)


def _diff(runs, a, b, metric, digits, unit=""):
    mean, lo, hi, n = paired_difference(runs, a, b, metric)
    interval = f" [{lo:+.{digits}f}, {hi:+.{digits}f}]" if n > 1 else ""
    return f"{mean:+.{digits}f}{unit}{interval}"


def paired_table(runs, *, reference="gamma-10") -> pd.DataFrame:
    """Each setting's paired difference from ``reference`` (:func:`paired_difference`).

    Returns
    -------
    pandas.DataFrame
        Indexed by setting (the reference left out): ``seeds``, and for ``psnr``,
        ``ssim`` and ``edge_error`` the mean difference and its ``_lo``, ``_hi``.
    """
    out = {}
    for name in runs["setting"].unique():
        if name == reference:
            continue
        entry = {}
        for metric in ("psnr", "ssim", "edge_error"):
            mean, lo, hi, n = paired_difference(runs, name, reference, metric)
            entry.update({"seeds": n, metric: mean, f"{metric}_lo": lo, f"{metric}_hi": hi})
        out[name] = entry
    return pd.DataFrame.from_dict(out, orient="index")


def verdict_lines(runs, *, operator_times=None) -> list[str]:
    """One line per edge-loss claim of the paper, judged from the runs of a sweep.

    Claims: (4) over gamma in [0, 20], SSIM and PSNR peak together at gamma = 10 (Fig.
    5a); (5) without the edge loss, artefacts appear at material edges (Fig. 5b; here:
    the edge error of gamma 0 against gamma 10); (6) Kirsch and Sobel edge losses both
    work, and Sobel is cheaper (Table S4). Two settings "differ" when the 95 % interval
    of their paired difference over seeds (:func:`paired_difference`) excludes 0. A
    claim whose settings are missing from ``runs`` is reported as not judged.

    Parameters
    ----------
    runs : pandas.DataFrame
        From :func:`semgan_core.ablation.run_sweep`.
    operator_times : dict, optional
        ``{"sobel": s, "kirsch": s}`` from :func:`semgan_core.ablation.operator_seconds`;
        they decide "cheaper" (without them, the mean training step times do).

    Returns
    -------
    list of str
        Markdown lines: "confirmed", "partly confirmed", "not confirmed" or "not judged",
        each with the numbers (means with 95 % intervals over seeds, paired differences).
    """
    summary = summary_table(runs)
    names = set(summary.index)
    lines = []
    gammas = [g for g in GAMMAS if g in names]
    if len(gammas) >= 2 and "gamma-10" in gammas:
        peaks = {m: max(gammas, key=lambda g: summary.loc[g, m]) for m in ("psnr", "ssim")}
        hits = sum(p == "gamma-10" for p in peaks.values())
        outcome = ("confirmed", "partly confirmed", "not confirmed")[2 - hits]
        gaps = [f"gamma-10 minus the {m.upper()} peak: {_diff(runs, 'gamma-10', p, m, d)}"
                for (m, p), d in zip(peaks.items(), (2, 4)) if p != "gamma-10"]
        tie = not any(_differs(runs, "gamma-10", p, m) for m, p in peaks.items())
        lines.append(f"**Claim 4 (Fig. 5a), PSNR and SSIM peak together at gamma = 10: "
                     f"{outcome}.** PSNR peaks at {peaks['psnr']} "
                     f"({_cell(summary, peaks['psnr'], 'psnr', 2)} dB), SSIM at "
                     f"{peaks['ssim']} ({_cell(summary, peaks['ssim'], 'ssim', 4)}); gamma-10: "
                     f"{_cell(summary, 'gamma-10', 'psnr', 2)} dB, "
                     f"{_cell(summary, 'gamma-10', 'ssim', 4)}"
                     + (f" ({'; '.join(gaps)}, paired over seeds)" if gaps else "") + "."
                     + ("" if hits == 2 else " The paired intervals include 0: the sweep "
                        "cannot tell gamma-10 from the peak." if tie else " A paired interval "
                        "excludes 0: gamma-10 is below the peak."))
    else:
        lines.append("**Claim 4 (Fig. 5a): not judged** (the gamma settings were not run).")
    if {"gamma-0", "gamma-10"} <= names:
        mean = paired_difference(runs, "gamma-0", "gamma-10", "edge_error")[0]
        apart = _differs(runs, "gamma-0", "gamma-10", "edge_error")
        outcome = ("confirmed" if apart and mean > 0 else
                   "not confirmed (the paired interval includes 0)" if not apart else
                   "not confirmed (the edge error is lower without the edge loss)")
        lines.append(f"**Claim 5 (Fig. 5b), more edge artefacts without the edge loss: "
                     f"{outcome}.** Edge error (mean absolute difference of the Sobel maps "
                     f"of G(a) and of the clean original): without the edge loss "
                     f"{_cell(summary, 'gamma-0', 'edge_error', 4)}, with it (gamma 10) "
                     f"{_cell(summary, 'gamma-10', 'edge_error', 4)}; paired difference "
                     f"{_diff(runs, 'gamma-0', 'gamma-10', 'edge_error', 4)}.")
    else:
        lines.append("**Claim 5 (Fig. 5b): not judged** (gamma-0 or gamma-10 was not run).")
    if {"gamma-10", "kirsch"} <= names:
        gap = paired_difference(runs, "kirsch", "gamma-10", "psnr")[0]
        same = not _differs(runs, "kirsch", "gamma-10", "psnr") or gap > 0
        steps = summary.loc[["gamma-10", "kirsch"], "seconds_per_step"]
        times = operator_times or {"sobel": steps["gamma-10"], "kirsch": steps["kirsch"]}
        cheaper = times["sobel"] < times["kirsch"]
        outcome = ("confirmed" if same and cheaper else "partly confirmed" if same or cheaper
                   else "not confirmed")
        timing = ("" if not operator_times else
                  f"; the edge map alone (what decides 'cheaper' here; step times on a "
                  f"shared machine are noisy): Sobel {1e3 * operator_times['sobel']:.2f} ms, "
                  f"Kirsch {1e3 * operator_times['kirsch']:.2f} ms")
        helps = ""
        if "gamma-0" in names:
            beats = [n for n in ("gamma-10", "kirsch") if _differs(runs, n, "gamma-0", "psnr")
                     and paired_difference(runs, n, "gamma-0", "psnr")[0] > 0]
            helps = (f" Against no edge loss (gamma-0), paired PSNR differences: Sobel "
                     f"{_diff(runs, 'gamma-10', 'gamma-0', 'psnr', 2, ' dB')}, Kirsch "
                     f"{_diff(runs, 'kirsch', 'gamma-0', 'psnr', 2, ' dB')}; "
                     + ("neither operator beats it, so 'works' can only mean that the run "
                        "still trains." if not beats else f"{' and '.join(beats)} beat(s) it."))
        lines.append(f"**Claim 6 (Table S4), Kirsch and Sobel both work and Sobel is cheaper: "
                     f"{outcome}.** PSNR with Sobel {_cell(summary, 'gamma-10', 'psnr', 2)} dB, "
                     f"with Kirsch {_cell(summary, 'kirsch', 'psnr', 2)} dB (Kirsch minus "
                     f"Sobel, paired: {_diff(runs, 'kirsch', 'gamma-10', 'psnr', 2, ' dB')}); "
                     f"seconds per training step {steps['gamma-10']:.3f} (Sobel) and "
                     f"{steps['kirsch']:.3f} (Kirsch){timing}.{helps}")
    else:
        lines.append("**Claim 6 (Table S4): not judged** (gamma-10 or kirsch was not run).")
    return lines


def table_markdown(summary) -> str:
    """The summary as a Markdown table: mean [95 % interval] of PSNR, SSIM, edge error.

    The best mean of each metric (highest PSNR and SSIM, lowest edge error) is in bold.
    """
    digits = {"psnr": 2, "ssim": 4, "edge_error": 4}
    best = {"psnr": summary["psnr"].idxmax(), "ssim": summary["ssim"].idxmax(),
            "edge_error": summary["edge_error"].idxmin()}
    lines = ["| setting | gamma | operator | edge reference | seeds | PSNR (dB) | SSIM | "
             "edge error | s/step |", "|" + "---|" * 9]
    for name, row in summary.iterrows():
        options = SETTINGS.get(name, {})
        cells = []
        for metric, d in digits.items():
            text = _cell(summary, name, metric, d)
            cells.append(f"**{text}**" if best[metric] == name else text)
        lines.append(f"| {name} | {options.get('gamma_edge', '')} | "
                     f"{options.get('edge_operator', '')} | {options.get('edge_reference', '')}"
                     f" | {int(row['seeds'])} | {' | '.join(cells)} | "
                     f"{row['seconds_per_step']:.3f} |")
    return "\n".join(lines)


def gamma_figure(summary, *, reference=None, title=None):
    """PSNR and SSIM against gamma, mean and 95 % interval over seeds (the paper's Fig. 5a).

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`summary_table`; its rows of :data:`semgan_core.ablation.GAMMAS` are drawn.
    reference : dict, optional
        ``{"psnr": x, "ssim": y}`` drawn as a dashed line (e.g. the blurred input).
    title : str, optional

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    names = [g for g in GAMMAS if g in summary.index]
    gammas = [SETTINGS[g]["gamma_edge"] for g in names]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    for ax, metric, label in zip(axes, ("psnr", "ssim"), ("PSNR (dB)", "SSIM")):
        rows = summary.loc[names]
        ax.errorbar(gammas, rows[metric], yerr=[rows[metric] - rows[f"{metric}_lo"],
                                                rows[f"{metric}_hi"] - rows[metric]],
                    marker="o", capsize=4, label="mean, 95 % interval over seeds")
        if reference is not None:
            ax.axhline(reference[metric], color="grey", linestyle="--", label="blurred input")
        ax.set(xlabel="edge weight gamma", ylabel=label, xticks=gammas)
        ax.legend(fontsize=9)
    if title:
        fig.suptitle(title)
    return fig



def artefact_rows(restorations, blurred, clean, *, n=2, operator="sobel", limit=2.0):
    """The panels of the paper's Fig. 5b, for :func:`semgan_core.plotting.image_grid`.

    Per crop, two rows: the blurred input, each restoration and the clean original; then,
    under each image but the original, its edge map minus the original's (red: edges the
    original lacks, such as halos and ringing; blue: edges it misses), and under the
    original its own edge map, so no panel is empty.

    Parameters
    ----------
    restorations : dict of str to ndarray, shape (N, H, W)
        Setting name -> G applied to ``blurred``, float32 in [0, 1].
    blurred, clean : ndarray, shape (N, H, W), float32 in [0, 1]
    n : int, optional
        How many crops (the first ``n``).
    operator : {'sobel', 'kirsch'}
    limit : float, optional
        The colour scale of the differences, ``[-limit, limit]``.

    Returns
    -------
    rows : list of dict
        Title -> image, or title -> (image, imshow options) for the edge maps.
    """
    diff = {"cmap": "RdBu_r", "vmin": -limit, "vmax": limit}
    rows = []
    for i in range(min(n, len(clean))):
        zero = np.zeros_like(np.asarray(clean[i], np.float32))
        rows.append({"blurred input": blurred[i],
                     **{f"G(a), {name}": x[i] for name, x in restorations.items()},
                     "clean original": clean[i]})
        rows.append({"edges: input - clean": (edge_difference(blurred[i], clean[i],
                                                              operator=operator), diff),
                     **{f"edges: {name} - clean": (edge_difference(x[i], clean[i],
                                                                   operator=operator), diff)
                        for name, x in restorations.items()},
                     "edges of the original": (edge_difference(clean[i], zero,
                                                               operator=operator),
                                               {"cmap": "Greys", "vmin": 0,
                                                "vmax": 2 * limit})})
    return rows
