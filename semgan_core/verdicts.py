"""The verdict on the paper's claims, as sentences built from the numbers of the tables.

The paper claims (Results, Tables 1/S1 and 2/S2, and its introduction):

1. the network restores the simulated datasets A, B and C with higher SSIM and PSNR than
   every classical method (Wiener, Richardson-Lucy, constrained least squares and blind
   deconvolution), by the largest margins on B and C;
2. its output has the highest average gradient (AG), contrast (CON) and spatial
   frequency (SF) of the methods;
3. networks are faster than iterative deconvolution.

:func:`verdict_claims` (claims 1 and 2) and :func:`verdict_runtime` (claim 3) read the
tables of :func:`semgan_core.evaluate.evaluate_methods` and write the verdict in plain
words with the numbers, so the text cannot disagree with the tables;
:func:`best_classical` and :func:`oracle_share` are the comparisons they and the book's
sentences rest on.
"""

from __future__ import annotations

import numpy as np

from semgan_core.evaluate import CLASSICAL
from semgan_core.labels import DIGITS, METHOD_LABELS, METRIC_NAMES, method_prose
from semgan_core.tables import by_dataset


def _prose(row):
    """'Wiener with the assumed PSF' (for sentences; no nested parentheses)."""
    return method_prose(row["method"], row["psf"])


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


def best_classical(table, *, psf="assumed", metric="psnr"):
    """The classical method with the highest mean of ``metric`` in one table.

    Parameters
    ----------
    table : pandas.DataFrame
        A table of :func:`evaluate.evaluate_methods`.
    psf : {'assumed', 'oracle'}, optional
        The PSF the non-blind methods were given (blind deconvolution, which always
        starts from the assumed PSF, competes in both).
    metric : str, optional
        A metric column.

    Returns
    -------
    row : pandas.Series
        The winning row (``method``, ``psf``, the metrics...).

    Raises
    ------
    ValueError
        If the table has no classical row for ``psf``.
    """
    rivals = _rivals(table, psf)
    if rivals.empty:
        raise ValueError(f"best_classical: the table has no classical method with the "
                         f"{psf!r} PSF; methods are {sorted(set(table['method']))}")
    return _best(rivals, metric)


def oracle_share(table, *, method="filter-unpaired", oracle="filter-paired",
                 reference="blurred", metric="psnr"):
    """How much of the paired oracle's gain over the input a model reaches.

    Parameters
    ----------
    table : pandas.DataFrame
        A table of :func:`evaluate.evaluate_methods` holding the three rows.
    method, oracle, reference : str, optional
        Row keys: the model, its paired upper bound and the input both start from.
    metric : str, optional
        A metric column.

    Returns
    -------
    gain, oracle_gain, share : float
        ``method - reference``, ``oracle - reference`` (means) and their ratio (NaN
        when the oracle gains nothing).

    Raises
    ------
    ValueError
        If a row is missing.
    """
    means = table.set_index("method")[metric]
    missing = [m for m in (method, oracle, reference) if m not in means.index]
    if missing:
        raise ValueError(f"oracle_share: the table has no rows {missing}")
    base, ours, ceiling = (float(means.loc[m]) for m in (reference, method, oracle))
    share = (ours - base) / (ceiling - base) if ceiling != base else float("nan")
    return ours - base, ceiling - base, share


def _needs(name, table, psf):
    """A bullet: what a network would have to beat on one dataset (its rows are missing)."""
    rivals = _rivals(table, psf)
    parts = [f"{METRIC_NAMES[m]} above {_value(b, m)} ({_prose(b)})"
             for m in ("ssim", "psnr", "ag", "con", "sf") for b in [_best(rivals, m)]]
    truth = table[table["method"] == "ground-truth"]
    if len(truth):
        parts[4] += ("; the ground truth has " + ", ".join(
            f"{METRIC_NAMES[m]} {_value(truth.iloc[0], m)}" for m in ("ag", "con", "sf")))
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
    return win, (f"{METRIC_NAMES[metric]} {_value(row, metric)} vs {_value(best, metric)} "
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
        texts.append(f"{METRIC_NAMES[m]} {_value(row, m)} vs {_value(best, m)} "
                     f"({_prose(best)}{ref})")
    return all(wins), f"- {name}: " + "; ".join(texts) + "."


def verdict_claims(tables, *, method="filter-unpaired", psf="assumed",
                   weights_hint="weights/filter_unpaired_<degradation>.keras"):
    """The verdict on the paper's claims 1 and 2, from the tables.

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
    tables = by_dataset(tables, "verdict_claims")
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
    tables = by_dataset(tables, "verdict_runtime")
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
        times = " and ".join(f"{METHOD_LABELS.get(n, n)} {1e3 * s:.1f} ms"
                             for n, s in slow.items())
        ratios = " and ".join(f"{seconds[net] / s:.2f}" for s in slow.values())
        faster = [n for n, s in slow.items() if seconds[net] < s]
        word = ("faster than all of them" if len(faster) == len(slow) else
                "slower than all of them" if not faster else
                f"faster only than {', '.join(METHOD_LABELS.get(n, n) for n in faster)}")
        sentences.append(f"{METHOD_LABELS.get(net, net)}: {1e3 * seconds[net]:.1f} ms per image "
                         f"against {times}, that is {ratios} times their time: {word}.")
    return " ".join(sentences)
