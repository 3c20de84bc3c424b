"""Curves of training: the loss terms of a run, and the convergence study's scores.

* :func:`loss_curves`: a run's logged losses (``losses.csv``), grouped in panels;
* :func:`convergence_curves`: PSNR and SSIM of each study variant on the validation
  pairs against training step or time, with the reference lines.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from semgan_core.checks import check_choice

#: Panels of :func:`loss_curves`: title to the loss columns drawn in it.
LOSS_GROUPS = {
    "generators, eq. 16 total": ("gen_total",),
    "generator terms (unweighted)": ("gan_g", "gan_f", "cycle", "identity", "edge",
                                     "spectral", "histogram"),
    "discriminators": ("disc_a", "disc_b"),
}
_LOG_SCALE = ("generator terms (unweighted)",)
#: Line styles of the study's reference lines.
_REFERENCE_STYLES = {"blurred": "--", "wiener-true-psf": ":", "wiener-assumed-psf": "-."}


def loss_curves(losses, *, groups=None, width=9.0):
    """The loss terms of a training run against the step, one panel per group.

    Parameters
    ----------
    losses : path-like or dict of str to ndarray
        A run folder (read with :func:`semgan_core.runlog.read_losses`) or its columns
        (``step`` and the loss terms).
    groups : dict of str to sequence of str, optional
        Panel title to the columns drawn in it (default :data:`LOSS_GROUPS`). Columns
        that are absent or never finite (a term switched off is logged as NaN) are not
        drawn, and a panel left with nothing to draw is left out.
    width : float, optional
        Figure width in inches.

    Returns
    -------
    figure : matplotlib.figure.Figure
        The unweighted generator terms on a logarithmic axis.

    Raises
    ------
    ValueError
        If there is no ``step`` column or no column of any group has a finite value.
    """
    import matplotlib.pyplot as plt

    if not isinstance(losses, dict):
        from semgan_core import runlog

        losses = runlog.read_losses(losses)
    if "step" not in losses:
        raise ValueError(f"loss_curves: losses must have a 'step' column, got "
                         f"{sorted(losses)}")
    drawn = {title: [n for n in names if n in losses and np.isfinite(losses[n]).any()]
             for title, names in (LOSS_GROUPS if groups is None else groups).items()}
    drawn = {title: names for title, names in drawn.items() if names}
    if not drawn:
        raise ValueError("loss_curves: no column of the groups has a finite value; "
                         f"columns are {sorted(losses)}")
    fig, axes = plt.subplots(1, len(drawn), figsize=(width, 3.4), squeeze=False,
                             layout="constrained")
    for ax, (title, names) in zip(axes[0], drawn.items()):
        for name in names:
            ax.plot(losses["step"], losses[name], label=name)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        if title in _LOG_SCALE:
            ax.set_yscale("log")
        ax.legend(fontsize=9)
        ax.grid(alpha=0.3)
    return fig


def _band(runs, key, x):
    """x (step, or mean seconds), and mean, min, max over seeds of ``key`` on the steps
    all runs share."""
    steps = sorted(set.intersection(*(set(r["steps"]) for r in runs)))
    where = [[r["steps"].index(s) for s in steps] for r in runs]
    values = np.array([[r[key][i] for i in ix] for r, ix in zip(runs, where)], float)
    xs = (np.asarray(steps, float) if x == "steps" else
          np.array([[r["seconds"][i] for i in ix] for r, ix in zip(runs, where)]).mean(0))
    return xs, values.mean(0), values.min(0), values.max(0)


def convergence_curves(study, *, x="steps", variants=None, path=None, width=9.0):
    """PSNR and SSIM against training step, one line per study variant, reference lines.

    Parameters
    ----------
    study : dict
        From :func:`semgan_core.study.harness.run_variants` (or its
        ``convergence.json`` read back).
    x : {'steps', 'seconds'}
        Horizontal axis: training step or trainer wall time.
    variants : sequence of str, optional
        Variants to draw (default: all).
    path : path-like, optional
        Also save the figure there (PNG, 150 dpi).
    width : float, optional
        Figure width in inches (the default fits the book's text column).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Two panels (PSNR in dB, SSIM); each variant's mean over seeds, with a band from
        the minimum to the maximum when there are several seeds; dashed horizontal
        lines for the blurred input and Wiener (true and assumed PSF).

    Raises
    ------
    ValueError
        For another ``x``.
    """
    import matplotlib.pyplot as plt

    check_choice("convergence_curves", "x", x, ("steps", "seconds"))
    names = list(variants or study["variants"])
    fig, axes = plt.subplots(1, 2, figsize=(width, 4.2), constrained_layout=True)
    for name in names:
        runs = list(study["variants"][name]["runs"].values())
        if not runs:
            continue
        for ax, key in zip(axes, ("psnr", "ssim")):
            steps, mean, low, high = _band(runs, key, x)
            line, = ax.plot(steps, mean, marker=".", label=name)
            if len(runs) > 1:
                ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.2)
    for ax, key, unit in zip(axes, ("psnr", "ssim"), ("PSNR (dB)", "SSIM")):
        for ref, values in study.get("reference", {}).items():
            if math.isfinite(values[key]):
                ax.axhline(values[key], color="0.3", ls=_REFERENCE_STYLES.get(ref, "--"),
                           lw=1, label=ref)
        ax.set(xlabel="training step" if x == "steps" else "training time (s)",
               ylabel=unit, title=f"{unit} on validation pairs")
        ax.grid(alpha=0.3)
    handles, labels = axes[1].get_legend_handles_labels()  # below both panels
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=9)
    fig.set_figheight(3.8 + 0.25 * math.ceil(len(labels) / 3))
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)
    return fig
