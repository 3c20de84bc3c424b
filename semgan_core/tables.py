"""Markdown tables of evaluation results, which a notebook shows with ``IPython.display``.

Each function takes tables of :func:`semgan_core.evaluate.evaluate_methods` (one row per
method and PSF: means, ``<metric>_lo`` / ``<metric>_hi`` bounds of the 95 % confidence
interval, ``seconds_per_image``) or of :func:`semgan_core.bootstrap.gain_table`, one
table or several by dataset name, and returns a Markdown string:

* :func:`table_markdown`: Tables 1/S1 and 2/S2, means with confidence intervals, the
  best in bold;
* :func:`gains_markdown`: paired gains over the blurred input;
* :func:`runtime_markdown`: milliseconds per image of each method on each dataset;
* :func:`levels_markdown`: one metric (or its gain) at several noise levels
  (:func:`semgan_core.noiselevels.levels_frame`).

Rows are named with :func:`semgan_core.labels.method_label`.
"""

from __future__ import annotations

import numpy as np

from semgan_core.labels import DIGITS, METRIC_LABELS, METRIC_NAMES, method_label


def _cell(row, metric, ci):
    """'mean [lo, hi]' with the metric's decimals; an en dash for NaN."""
    mean = row[metric]
    if mean is None or not np.isfinite(mean):
        return "–"
    d = DIGITS.get(metric, 3)
    lo, hi = row.get(f"{metric}_lo", np.nan), row.get(f"{metric}_hi", np.nan)
    if ci and np.isfinite(lo) and np.isfinite(hi):
        return f"{mean:.{d}f} [{lo:.{d}f}, {hi:.{d}f}]"
    return f"{mean:.{d}f}"


def by_dataset(tables, func):
    """A DataFrame or ``{dataset: DataFrame}`` as a dict (``{"": table}`` for one table),
    checked to hold :func:`evaluate.evaluate_methods`-shaped tables; ``func`` names the
    caller in the error message."""
    tables = tables if isinstance(tables, dict) else {"": tables}
    if not tables:
        raise ValueError(f"{func}: no tables given")
    for name, table in tables.items():
        missing = [c for c in ("method", "psf") if c not in getattr(table, "columns", ())]
        if missing:
            raise ValueError(f"{func}: table {name!r} must be a DataFrame with columns "
                             f"'method' and 'psf' (evaluate.evaluate_methods); missing {missing}")
    return tables


def gains_markdown(gains, *, metrics=("psnr", "ssim")):
    """A Markdown table of paired gains over the blurred input (:func:`bootstrap.gain_table`).

    Parameters
    ----------
    gains : pandas.DataFrame or dict of str to DataFrame
        One gain table, or several by dataset name (then a first "Dataset" column).
    metrics : sequence of str, optional
        Metrics whose ``<m>_gain``, ``<m>_gain_lo``, ``<m>_gain_hi`` columns are shown.

    Returns
    -------
    markdown : str
        Cells read ``+gain [lo, hi]``, the interval in bold when it excludes zero (the
        method differs from the blurred input on these images beyond chance).
    """
    gains = by_dataset(gains, "gains_markdown")
    lead = ["Dataset"] if len(gains) > 1 or next(iter(gains)) else []
    header = lead + ["Method"] + [f"{METRIC_NAMES.get(m, m)} gain" for m in metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, table in gains.items():
        for _, row in table.iterrows():
            cells = [name] if lead else []
            cells.append(method_label(row["method"], row["psf"]))
            for m in metrics:
                gain, lo, hi = row[f"{m}_gain"], row[f"{m}_gain_lo"], row[f"{m}_gain_hi"]
                digits = 2 if m == "psnr" else 3
                interval = f"[{lo:+.{digits}f}, {hi:+.{digits}f}]"
                if lo > 0 or hi < 0:
                    interval = f"**{interval}**"
                cells.append(f"{gain:+.{digits}f} {interval}")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table_markdown(tables, *, metrics, bold_best=True, exclude_from_best=("ground-truth",),
                   ci=True):
    """A Markdown table of means with confidence intervals, the best of each metric in bold.

    Parameters
    ----------
    tables : pandas.DataFrame or dict of str to DataFrame
        One table of :func:`evaluate.evaluate_methods`, or several by dataset name
        (then a first "Dataset" column, and the best is chosen within each dataset).
    metrics : sequence of str
        Columns to show, e.g. ``("ssim", "psnr")``.
    bold_best : bool, optional
        Bold the highest mean of each metric (all of them when tied).
    exclude_from_best : sequence of str, optional
        Methods never bolded (default the ground truth, a reference and not a method).
    ci : bool, optional
        Show ``[lo, hi]`` after each mean when the table has those columns.

    Returns
    -------
    markdown : str
        Cells read ``mean [lo, hi]``; a missing value (NaN) reads "–".

    Raises
    ------
    ValueError
        If a table lacks the ``method``, ``psf`` or a requested metric column.
    """
    tables = by_dataset(tables, "table_markdown")
    metrics = tuple(metrics)
    for name, table in tables.items():
        missing = [m for m in metrics if m not in table.columns]
        if missing or not metrics:
            raise ValueError(f"table_markdown: metrics must be columns of table {name!r}; "
                             f"missing {missing or 'all (none given)'}")
    lead = ["Dataset"] if len(tables) > 1 or "" not in tables else []
    header = lead + ["Method"] + [METRIC_LABELS.get(m, m) for m in metrics]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, table in tables.items():
        eligible = ~table["method"].isin(exclude_from_best)
        best = {m: table.loc[eligible, m].max() for m in metrics}
        for _, row in table.iterrows():
            cells = [_cell(row, m, ci) for m in metrics]
            if bold_best and row["method"] not in exclude_from_best:
                cells = [f"**{c}**" if np.isfinite(row[m]) and row[m] >= best[m] else c
                         for c, m in zip(cells, metrics)]
            lines.append("| " + " | ".join(([name] if lead else [])
                                           + [method_label(row["method"], row["psf"])] + cells)
                         + " |")
    return "\n".join(lines)


def runtime_markdown(tables, *, skip=("blurred", "ground-truth")):
    """Milliseconds per image of each method (rows) on each dataset (columns), Markdown.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Tables of :func:`evaluate.evaluate_methods` by dataset name (a method missing
        from a dataset reads "–").
    skip : sequence of str, optional
        Methods left out (by default those that restore nothing and take 0 s).

    Returns
    -------
    markdown : str
    """
    tables = by_dataset(tables, "runtime_markdown")
    rows = {}
    for name, table in tables.items():
        for _, row in table[~table["method"].isin(skip)].iterrows():
            rows.setdefault(method_label(row["method"], row["psf"]), {})[name] = (
                1e3 * row["seconds_per_image"])
    lines = ["| Method | " + " | ".join(f"{n} (ms / image)" for n in tables) + " |",
             "|---|" + "---|" * len(tables)]
    for label, values in rows.items():
        cells = [f"{values[n]:.1f}" if n in values else "–" for n in tables]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def levels_markdown(levels, *, metric="psnr", gains=False, psf=("assumed",)):
    """A Markdown table of one metric at several noise levels: methods down, levels across.

    Parameters
    ----------
    levels : pandas.DataFrame
        The long table of :func:`semgan_core.noiselevels.levels_frame` (``levels.csv``).
    metric : {'psnr', 'ssim'}, optional
    gains : bool, optional
        Show the paired gains over the noisy input (``+gain [lo, hi]``, the interval in
        bold when it excludes zero) instead of the means (``mean [lo, hi]``).
    psf : sequence of str, optional
        PSF settings of the classical methods shown; rows without a PSF always are.

    Returns
    -------
    markdown : str
        One column per level (``σ = 0.02``), in increasing order; a level a method
        lacks reads "–".

    Raises
    ------
    ValueError
        For another metric, or a frame without the level columns.
    """
    if metric not in ("psnr", "ssim"):
        raise ValueError(f"levels_markdown: metric must be 'psnr' or 'ssim', got {metric!r}")
    missing = [c for c in ("level", "method", "psf", metric)
               if c not in getattr(levels, "columns", ())]
    if missing:
        raise ValueError(f"levels_markdown: levels must be a DataFrame of "
                         f"noiselevels.levels_frame; missing columns {missing}")
    rows = levels[levels["psf"].isin(["-", *psf])]
    steps = sorted(set(rows["level"]))
    cells = {}
    for row in rows.to_dict("records"):
        cells.setdefault((row["method"], row["psf"]), {})[row["level"]] = row
    name = METRIC_NAMES.get(metric, metric) + (" gain" if gains else "")
    lines = [f"| Method | " + " | ".join(f"{name}, σ = {s:g}" for s in steps) + " |",
             "|---|" + "---|" * len(steps)]
    for (method, setting), by_level in cells.items():
        if gains and method == "blurred":
            continue
        out = []
        for s in steps:
            row = by_level.get(s)
            out.append("–" if row is None else _gain_cell(row, metric) if gains
                       else _cell(row, metric, True))
        lines.append(f"| {method_label(method, setting)} | " + " | ".join(out) + " |")
    return "\n".join(lines)


def _gain_cell(row, metric):
    """'+gain [lo, hi]' with the interval in bold when it excludes zero."""
    digits = 2 if metric == "psnr" else 3
    gain, lo, hi = (row[f"{metric}_gain{end}"] for end in ("", "_lo", "_hi"))
    interval = f"[{lo:+.{digits}f}, {hi:+.{digits}f}]"
    return f"{gain:+.{digits}f} " + (f"**{interval}**" if lo > 0 or hi < 0 else interval)
