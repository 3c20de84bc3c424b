"""Figures and tables of the book: one function per figure type.

Each function takes NumPy images or the tables of :func:`semgan_core.evaluate.evaluate_methods`
(one row per method and PSF: means, ``<metric>_lo`` / ``<metric>_hi`` bounds of the 95 %
confidence interval, ``seconds_per_image``) and returns a matplotlib Figure or a Markdown
string, which a notebook shows with ``IPython.display.Markdown``:

* :func:`method_panels`: the paper's Fig. 2, one panel per method with a zoomed inset
  of the same region (:func:`detail_region` picks it, :func:`metric_caption` writes the
  panel titles);
* :func:`kernel_panels`: PSFs at one pixel scale with their :func:`rms_radius`;
* :func:`table_markdown`: Tables 1/S1 and 2/S2, means with confidence intervals, the
  best in bold;
* :func:`runtime_markdown`: milliseconds per image of each method on each dataset;
* :func:`verdict_claims` and :func:`verdict_runtime`: the verdict on the paper's claims
  (NOTES.md section 7) as sentences built from the numbers of the tables, so the text
  cannot disagree with them.
"""

from __future__ import annotations

import math

import numpy as np

from semgan_core.images import as_image

#: Display names of :mod:`semgan_core.evaluate`'s methods (others are shown as given).
METHOD_LABELS = {"blurred": "Blurred input", "cyclegan": "CycleGAN",
                 "supervised-oracle": "Supervised U-Net (paired oracle)",
                 "wiener": "Wiener", "richardson-lucy": "Richardson-Lucy",
                 "blind-deconvolution": "Blind deconvolution",
                 "constrained-least-squares": "Constrained least squares",
                 "ground-truth": "Ground truth"}
METRIC_LABELS = {"ssim": "SSIM", "psnr": "PSNR (dB)", "ag": "AG", "con": "CON", "sf": "SF"}
_NAMES = {**METRIC_LABELS, "psnr": "PSNR"}
#: Decimals shown per metric.
DIGITS = {"ssim": 3, "psnr": 2, "ag": 2, "con": 1, "sf": 2}
#: The classical baselines the paper's claims compare against.
CLASSICAL = ("wiener", "richardson-lucy", "blind-deconvolution", "constrained-least-squares")
_INSET_COLOR = "gold"


def method_label(method, psf="-"):
    """Display name of a table row, e.g. ``'Wiener (assumed PSF)'``."""
    name = METHOD_LABELS.get(method, method)
    return name if psf in ("-", "", None) else f"{name} ({psf} PSF)"


def _check_inset(inset, shape):
    """Validate (y0, x0, side) against the image shape."""
    try:
        y0, x0, side = (int(v) for v in inset)
    except (TypeError, ValueError):
        raise ValueError(f"method_panels: inset must be (y0, x0, size) integers, got "
                         f"{inset!r}") from None
    if side < 2 or y0 < 0 or x0 < 0 or y0 + side > shape[0] or x0 + side > shape[1]:
        raise ValueError(f"method_panels: inset {inset!r} must be a square of at least 2 "
                         f"pixels inside the {shape[0]}x{shape[1]} images")
    return y0, x0, side


def _add_inset(ax, image, y0, x0, side):
    """Outline the region and show it enlarged in the corner farthest from it."""
    from matplotlib.patches import Rectangle

    h, w = image.shape
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), side, side, fill=False,
                           edgecolor=_INSET_COLOR, linewidth=1.2))
    left = 0.01 if x0 + side / 2 > w / 2 else 0.53
    bottom = 0.53 if y0 + side / 2 > h / 2 else 0.01
    zoom = ax.inset_axes([left, bottom, 0.46, 0.46])
    zoom.imshow(image[y0:y0 + side, x0:x0 + side], cmap="gray", vmin=0, vmax=1,
                interpolation="nearest")
    zoom.set_xticks([])
    zoom.set_yticks([])
    for spine in zoom.spines.values():
        spine.set_edgecolor(_INSET_COLOR)
        spine.set_linewidth(1.5)
    return zoom


def method_panels(images, *, inset=None, titles=None, ncols=4, panel_size=3.0):
    """One gray-scale panel per method, each with a zoomed inset of the same region.

    Parameters
    ----------
    images : dict of str to ndarray, shape (H, W), float32 in [0, 1]
        Panel title to image, in display order (e.g. blurred, each method, ground truth).
        All images must have the same shape.
    inset : tuple of int (y0, x0, size), optional
        A square region, outlined in every panel and shown enlarged in the panel's
        corner farthest from it. Default: no inset.
    titles : dict of str to str, optional
        An extra title line per panel (e.g. its metrics), keyed like ``images``.
    ncols : int, optional
        Panels per row.
    panel_size : float, optional
        Side of one panel in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``images`` is empty, the images differ in shape or are not valid images, or
        ``inset`` is not a square inside them.
    """
    import matplotlib.pyplot as plt

    if not images:
        raise ValueError("method_panels: images is empty; pass {title: image}")
    arrays = {k: as_image(v, name=f"method_panels(images[{k!r}])") for k, v in images.items()}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) > 1:
        raise ValueError(f"method_panels: all images must have the same shape, got "
                         f"{sorted(shapes)}")
    region = None if inset is None else _check_inset(inset, shapes.pop())
    ncols = max(1, min(int(ncols), len(arrays)))
    nrows = math.ceil(len(arrays) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size * ncols, panel_size * nrows
                                                    + 0.4), squeeze=False, layout="constrained")
    for ax, (name, image) in zip(axes.flat, arrays.items()):
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        extra = (titles or {}).get(name)
        ax.set_title(name if extra is None else f"{name}\n{extra}", fontsize=9)
        if region is not None:
            _add_inset(ax, image, *region)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig


def detail_region(image, *, size=64):
    """The square with the most detail (largest mean gradient magnitude), for an inset.

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
        Usually the ground truth.
    size : int, optional
        Side of the square, at most the image's smaller side.

    Returns
    -------
    inset : tuple of int
        ``(y0, x0, size)``, as :func:`method_panels` takes it.
    """
    from scipy.ndimage import uniform_filter

    image = as_image(image, name="detail_region(image)")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not (
            2 <= size <= min(image.shape)):
        raise ValueError(f"detail_region: size must be an integer from 2 to {min(image.shape)}"
                         f" (the image's smaller side), got {size!r}")
    gy, gx = np.gradient(image.astype(np.float64))
    energy = uniform_filter(np.hypot(gy, gx), size, mode="constant")
    half = size // 2  # window centres whose square lies inside the image
    inner = energy[half:image.shape[0] - size + half + 1, half:image.shape[1] - size + half + 1]
    y0, x0 = np.unravel_index(np.argmax(inner), inner.shape)
    return int(y0), int(x0), int(size)


def metric_caption(values):
    """Two short lines of metrics for a panel title, e.g. 'SSIM 0.937, PSNR 29.68 dB'.

    ``values`` is a dict like :func:`metrics.evaluate`'s (missing keys are left out).
    """
    first = [f"SSIM {values['ssim']:.3f}" if "ssim" in values else "",
             f"PSNR {values['psnr']:.2f} dB" if "psnr" in values else ""]
    second = [f"{_NAMES[m]} {values[m]:.{DIGITS[m] - 1}f}" for m in ("ag", "con", "sf")
              if m in values]
    return "\n".join(line for line in (", ".join(p for p in first if p), ", ".join(second))
                     if line)


def rms_radius(kernel):
    """RMS distance of a PSF's mass from its centroid, in pixels (sqrt(2) sigma for a
    Gaussian of standard deviation sigma)."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2 or not np.isfinite(k).all() or (k < 0).any() or k.sum() <= 0:
        raise ValueError(f"rms_radius: kernel must be a 2-D non-negative array with a "
                         f"positive sum, got shape {k.shape}")
    k = k / k.sum()
    y, x = np.mgrid[:k.shape[0], :k.shape[1]]
    cy, cx = (k * y).sum(), (k * x).sum()
    return float(np.sqrt((k * ((y - cy) ** 2 + (x - cx) ** 2)).sum()))


def kernel_panels(kernels, *, panel_size=2.4):
    """PSFs side by side at one pixel scale, each titled with its size and RMS radius.

    Parameters
    ----------
    kernels : dict of str to ndarray, shape (p, q)
        Title to kernel (non-negative, positive sum; shown normalised to its maximum).

    Returns
    -------
    figure : matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    if not kernels:
        raise ValueError("kernel_panels: kernels is empty; pass {title: kernel}")
    radii = {name: rms_radius(k) for name, k in kernels.items()}
    extent = max(max(np.shape(k)) for k in kernels.values()) / 2
    fig, axes = plt.subplots(1, len(kernels), figsize=(panel_size * len(kernels), panel_size
                                                       + 0.5), squeeze=False, layout="constrained")
    for ax, (name, k) in zip(axes.flat, kernels.items()):
        k = np.asarray(k, dtype=np.float64)
        p, q = k.shape
        ax.imshow(k / k.max(), cmap="magma", vmin=0, vmax=1, interpolation="nearest",
                  extent=(-q / 2, q / 2, p / 2, -p / 2))
        ax.set_facecolor("black")  # outside the kernel's support: zero
        ax.set_xlim(-extent, extent)
        ax.set_ylim(extent, -extent)
        ax.set_title(f"{name}\n{p}x{q}, RMS radius {radii[name]:.2f} px", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


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


def _as_dict(tables, func):
    """A DataFrame or {dataset: DataFrame} as a dict ({"": table} for one table)."""
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
    """A Markdown table of paired gains over the blurred input (:func:`evaluate.gain_table`).

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
    gains = _as_dict(gains, "gains_markdown")
    lead = ["Dataset"] if len(gains) > 1 or next(iter(gains)) else []
    header = lead + ["Method"] + [f"{_NAMES.get(m, m)} gain" for m in metrics]
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
    tables = _as_dict(tables, "table_markdown")
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
    tables = _as_dict(tables, "runtime_markdown")
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


def _prose(row):
    """'Wiener with the assumed PSF' (for sentences; no nested parentheses)."""
    name = METHOD_LABELS.get(row["method"], row["method"])
    return name if row["psf"] in ("-", "", None) else f"{name} with the {row['psf']} PSF"


def _value(row, metric):
    """A metric's mean with its decimals (and 'dB' for PSNR)."""
    text = f"{row[metric]:.{DIGITS.get(metric, 3)}f}"
    return f"{text} dB" if metric == "psnr" else text


def _rivals(table, psf):
    """The classical rows a claim compares with: the non-blind ones given ``psf``, and
    blind deconvolution (which always starts from the assumed PSF)."""
    keep = table["method"].isin(CLASSICAL) & ((table["psf"] == psf)
                                              | (table["method"] == "blind-deconvolution"))
    return table[keep]


def _best(rows, metric):
    return rows.loc[rows[metric].idxmax()]


def _needs(name, table, psf):
    """A bullet: what a network would have to beat on one dataset (its rows are missing)."""
    rivals = _rivals(table, psf)
    parts = [f"{_NAMES[m]} above {_value(b, m)} ({_prose(b)})"
             for m in ("ssim", "psnr", "ag", "con", "sf") for b in [_best(rivals, m)]]
    truth = table[table["method"] == "ground-truth"]
    if len(truth):
        parts[4] += ("; the ground truth has " + ", ".join(
            f"{_NAMES[m]} {_value(truth.iloc[0], m)}" for m in ("ag", "con", "sf")))
    blurred = table[table["method"] == "blurred"]
    gain = "" if not len(blurred) else (
        f", that is {_best(rivals, 'psnr')['psnr'] - blurred.iloc[0]['psnr']:+.2f} dB from "
        f"the blurred input's {_value(blurred.iloc[0], 'psnr')}")
    return (f"- {name}: claim 1 needs {parts[0]} and {parts[1]}{gain}; claim 2 needs "
            f"{parts[2]}, {parts[3]} and {parts[4]}.")


def _compare(row, best, metric):
    """Whether ``row`` beats ``best`` on ``metric``, and 'SSIM 0.950 vs 0.940 (...)'."""
    win = bool(row[metric] > best[metric])
    lo, hi = f"{metric}_lo", f"{metric}_hi"
    apart = (row[lo] > best[hi]) if win else (row[hi] < best[lo])
    return win, (f"{_NAMES[metric]} {_value(row, metric)} vs {_value(best, metric)} "
                 f"({_prose(best)}; 95 % intervals "
                 f"{'apart' if apart else 'overlap'})")


def _claim1(name, table, method, psf):
    """(wins on both, {metric: margin}, sentence) for one dataset."""
    row = table[table["method"] == method].iloc[0]
    rivals = _rivals(table, psf)
    outcome = [(m, best, *_compare(row, best, m))
               for m in ("ssim", "psnr") for best in [_best(rivals, m)]]
    margins = {m: float(row[m] - best[m]) for m, best, _, _ in outcome}
    wins = all(win for _, _, win, _ in outcome)
    clear = all(row[f"{m}_lo"] > best[f"{m}_hi"] for m, best, _, _ in outcome)
    return wins, margins, clear, f"- {name}: " + "; ".join(text for *_, text in outcome) + "."


def _claim2(name, table, method, psf):
    """(highest on all three, sentence) for one dataset: AG, CON, SF against the rest."""
    row = table[table["method"] == method].iloc[0]
    others = table[(table["method"] == "blurred") | table.index.isin(_rivals(table, psf).index)]
    truth = table[table["method"] == "ground-truth"]
    texts, wins = [], []
    for m in ("ag", "con", "sf"):
        best = _best(others, m)
        wins.append(bool(row[m] > best[m]))
        ref = f", ground truth {_value(truth.iloc[0], m)}" if len(truth) else ""
        texts.append(f"{_NAMES[m]} {_value(row, m)} vs {_value(best, m)} "
                     f"({_prose(best)}{ref})")
    return all(wins), f"- {name}: " + "; ".join(texts) + "."


def verdict_claims(tables, *, method="cyclegan", psf="assumed",
                   weights_hint="weights/cyclegan_<recipe>.keras"):
    """The verdict on the paper's claims 1 and 2 (NOTES.md section 7), from the tables.

    Claim 1: the network has higher SSIM and PSNR than every classical method (Wiener,
    Richardson-Lucy, constrained least squares given ``psf``, and blind deconvolution), by
    the largest margins on datasets B and C. Claim 2: it has the highest AG, CON and SF
    of the methods (the classical ones and the blurred input).

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Tables of :func:`evaluate.evaluate_methods` by dataset name ('A', 'B', 'C').
    method : str, optional
        The network's row name.
    psf : {'assumed', 'oracle'}, optional
        The PSF the non-blind classical methods are given in the comparison.
    weights_hint : str, optional
        Where the missing weights would be, for the sentence that says so.

    Returns
    -------
    markdown : str
        Paragraphs in plain words with the numbers: for datasets without the network's
        rows, that the claims cannot be judged there and what the network would need
        to beat; otherwise each claim confirmed or not, per dataset.
    """
    tables = _as_dict(tables, "verdict_claims")
    label = METHOD_LABELS.get(method, method)
    have = {n: t for n, t in tables.items() if (t["method"] == method).any()}
    lacking = [n for n in tables if n not in have]
    paragraphs = []
    if lacking:
        paragraphs.append(
            f"**Claims 1 and 2 cannot be judged yet on dataset{'s' * (len(lacking) > 1)} "
            f"{', '.join(lacking)}:** the {label} rows are missing because no trained weights "
            f"are shipped yet (`{weights_hint}`). What the {label} would have to beat (classical "
            f"methods with the {psf} PSF):\n\n"
            + "\n".join(_needs(n, tables[n], psf) for n in lacking))
    if have:
        one = {n: _claim1(n, t, method, psf) for n, t in have.items()}
        two = {n: _claim2(n, t, method, psf) for n, t in have.items()}
        ok1 = [n for n, (wins, *_) in one.items() if wins]
        by_means = [n for n in ok1 if not one[n][2]]
        margin = ""
        if {"A", "B", "C"} <= set(one):
            m = {k: {n: one[n][1][k] for n in "ABC"} for k in ("ssim", "psnr")}
            larger = all(v["B"] > v["A"] and v["C"] > v["A"] for v in m.values())
            margin = (" Margins over the best classical method (A, B, C): SSIM "
                      + ", ".join(f"{v:+.3f}" for v in m["ssim"].values()) + "; PSNR "
                      + ", ".join(f"{v:+.2f}" for v in m["psnr"].values()) + " dB, so the "
                      f"margins are {'' if larger else 'not '}largest on B and C.")
        paragraphs.append(
            f"**Claim 1 (higher SSIM and PSNR than every classical method, {psf} PSF): "
            f"{_outcome(ok1, have)}"
            + (f" (on {', '.join(by_means)} by the means only: a 95 % interval overlaps)"
               if by_means else "") + f".**{margin}\n\n"
            + "\n".join(s for *_, s in one.values()))
        ok2 = [n for n, (wins, _) in two.items() if wins]
        paragraphs.append(
            f"**Claim 2 (highest AG, CON and SF of the methods): {_outcome(ok2, have)}.**\n\n"
            + "\n".join(s for _, s in two.values()))
    return "\n\n".join(paragraphs)


def _outcome(confirmed, judged):
    """'confirmed on A, B', 'not confirmed' or 'confirmed on A; not on B, C'."""
    rest = [n for n in judged if n not in confirmed]
    if not rest:
        return f"confirmed on {', '.join(confirmed)}"
    if not confirmed:
        return f"not confirmed on {', '.join(rest)}"
    return f"confirmed on {', '.join(confirmed)}; not on {', '.join(rest)}"


def verdict_runtime(tables, *, networks, iterative=("richardson-lucy", "blind-deconvolution")):
    """Whether each network is faster than the iterative deconvolutions, in words.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Tables of :func:`evaluate.evaluate_methods` (``seconds_per_image``) by dataset.
    networks : sequence of str
        Row names of the networks (rows absent from every table are ignored).
    iterative : sequence of str, optional
        Row names of the iterative methods compared with.

    Returns
    -------
    markdown : str
        One sentence per network with its mean time per image over the datasets and
        that of each iterative method.
    """
    tables = _as_dict(tables, "verdict_runtime")
    seconds = {}
    for name in (*networks, *iterative):
        values = [s for t in tables.values()
                  for s in t.loc[t["method"] == name, "seconds_per_image"]]
        if values:
            seconds[name] = float(np.mean(values))
    slow = {n: seconds[n] for n in iterative if n in seconds}
    nets = [n for n in networks if n in seconds]
    if not nets or not slow:
        return ("No network or no iterative method was timed, so the speed claim cannot be "
                "checked.")
    sentences = []
    for net in nets:
        times = " and ".join(f"{METHOD_LABELS.get(n, n)} {1e3 * s:.1f} ms" for n, s in slow.items())
        ratios = " and ".join(f"{seconds[net] / s:.2f}" for s in slow.values())
        faster = [n for n, s in slow.items() if seconds[net] < s]
        word = ("faster than all of them" if len(faster) == len(slow) else
                "slower than all of them" if not faster else
                f"faster only than {', '.join(METHOD_LABELS.get(n, n) for n in faster)}")
        sentences.append(f"{METHOD_LABELS.get(net, net)}: {1e3 * seconds[net]:.1f} ms per image "
                         f"against {times}, that is {ratios} times their time: {word}.")
    return " ".join(sentences)
