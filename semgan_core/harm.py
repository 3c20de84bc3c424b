"""Does a restorer leave alone what needs no restoring? The no-harm checks.

A restorer is run on every micrograph, also on ones that are already sharp or only a
little blurred. :func:`harm_inputs` makes three inputs from clean crops, and
:func:`no_harm_table` scores each restorer's output against the clean crop:

``sharp``
    the clean crop itself: a restorer that does no harm gives it back (the identity
    scores PSNR ``inf`` and SSIM 1);
``light blur``
    the crop blurred by :data:`LIGHT_BLUR` (7x7 Gaussian of sigma 0.6, lighter than
    the paper's sigma 1), noise-free;
``light blur + noise``
    the same plus shot noise of sigma :data:`NOISE_SIGMA` at mid-grey
    (:class:`semgan_core.noise.NoiseModel`), seeded.

Means carry 95 % percentile-bootstrap intervals (:mod:`semgan_core.bootstrap`: the
same resamples of the crops for every row). For the two degraded inputs the table also
gives the input's own scores and each restorer's paired gain over it. A PSNR of
identical images is ``inf``; a mean or bound that includes one is ``inf`` too, and
:func:`harm_markdown` prints it as "inf".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from semgan_core import bootstrap, images, kernels, metrics, noise
from semgan_core.checks import check_int
from semgan_core.labels import method_label

#: The light blur of the second and third checks, and the noise of the third.
LIGHT_BLUR = kernels.gaussian_kernel(7, 0.6)
NOISE_SIGMA = 0.01
#: The checks, in table order.
CHECKS = ("sharp", "light blur", "light blur + noise")
_METRICS = {"psnr": metrics.psnr, "ssim": metrics.ssim}
#: Columns of :func:`no_harm_table`.
COLUMNS = ("check", "method", "n",
           *(f"{p}{m}{e}" for p in ("", "input_") for m in _METRICS for e in ("", "_lo", "_hi")),
           *(f"{m}_gain{e}" for m in _METRICS for e in ("", "_lo", "_hi")))


def _clean_stack(func, clean):
    if np.ndim(clean) != 3 or len(clean) == 0:
        raise ValueError(f"{func}: clean must be a non-empty stack of shape (N, H, W), got "
                         f"shape {np.shape(clean)}")
    return np.stack([images.as_image(x, name=f"{func}: clean[{i}]") for i, x in enumerate(clean)])


def harm_inputs(clean, *, rng=0):
    """The input of each check, made from clean crops.

    Parameters
    ----------
    clean : ndarray, shape (N, H, W), float32 in [0, 1]
    rng : numpy.random.Generator, int or None, optional
        Seed of the shot noise (the same seed gives the same inputs).

    Returns
    -------
    inputs : dict of str to ndarray, shape (N, H, W), float32 in [0, 1]
        By check (:data:`CHECKS`).

    Raises
    ------
    ValueError
        If ``clean`` is not a non-empty (N, H, W) stack in [0, 1].
    """
    clean = _clean_stack("harm_inputs", clean)
    rng = np.random.default_rng(rng)
    blurred = np.stack([kernels.convolve(x, LIGHT_BLUR) for x in clean])
    model = noise.NoiseModel(sigma=NOISE_SIGMA)
    noisy = np.stack([noise.add_noise(x, model, rng=rng) for x in blurred])
    return dict(zip(CHECKS, (clean, blurred, noisy)))


def _restore(method, image):
    """A Keras model (it has ``predict_on_batch``) runs tiled as in evaluate_methods: one
    tile, the smallest multiple of 128 up to 256 covering the image; any other callable
    takes and returns an (H, W) image in [0, 1]."""
    if hasattr(method, "predict_on_batch"):
        from semgan_core import infer  # TensorFlow only when a model is given

        return infer.deblur(method, image, tile=infer.covering_tile(image.shape))
    return images.as_image(np.asarray(method(image)), name="no_harm_table: restored image")


def _summary(values, index):
    """Mean and percentile-bootstrap bounds; ``+inf`` values (identical images) allowed."""
    means = values[index].mean(axis=1)
    if np.isnan(means).any():
        return np.nan, np.nan, np.nan
    tail = 50 * (1 - bootstrap.CI_LEVEL)
    lo, hi = np.percentile(means, [tail, 100 - tail],
                           method="linear" if np.isfinite(means).all() else "inverted_cdf")
    return float(values.mean()), float(lo), float(hi)


def no_harm_table(clean, restorers, *, rng=0, n_boot=bootstrap.N_BOOT):
    """Score each restorer on the three no-harm checks.

    Parameters
    ----------
    clean : ndarray, shape (N, H, W), float32 in [0, 1]
        Clean crops, each at least 16x16.
    restorers : dict of str to keras.Model or callable
        Restorers by table key (e.g. ``{"unet-restorer": G}``). A Keras model (a
        generator of :func:`semgan_core.generators.load_generator`) runs through
        :func:`semgan_core.infer.deblur` as :func:`semgan_core.evaluate.evaluate_methods`
        runs it; any other callable maps an (H, W) float32 image in [0, 1] to one.
    rng : numpy.random.Generator, int or None, optional
        Seed of the noise (:func:`harm_inputs`) and of the bootstrap.
    n_boot : int, optional
        Bootstrap resamples.

    Returns
    -------
    table : pandas.DataFrame
        One row per (check, restorer), columns :data:`COLUMNS`: ``n`` crops; ``psnr``
        (dB, peak 1) and ``ssim`` of the output against the clean crop, each with
        ``_lo`` / ``_hi`` bounds; ``input_psnr``, ``input_ssim`` (and bounds) of the
        input itself (``inf`` and 1 on ``sharp``); ``psnr_gain``, ``ssim_gain`` (and
        bounds): the paired gain over the input, NaN on ``sharp``.

    Raises
    ------
    ValueError
        For an invalid stack, an empty ``restorers``, a bad ``n_boot``, or a restorer
        whose output is not an image in [0, 1] of the input's shape.

    Examples
    --------
    >>> from semgan_core import synth
    >>> clean = np.stack([synth.micrograph(64, rng=i)[0] for i in range(4)])
    >>> table = no_harm_table(clean, {"identity": lambda x: x}, n_boot=100)
    >>> table[["check", "psnr", "ssim", "psnr_gain"]].round(2).to_dict("records")[0]
    {'check': 'sharp', 'psnr': inf, 'ssim': 1.0, 'psnr_gain': nan}
    """
    clean = _clean_stack("no_harm_table", clean)
    if not isinstance(restorers, dict) or not restorers:
        raise ValueError(f"no_harm_table: restorers must be a non-empty dict of name to "
                         f"model or callable, got {restorers!r}")
    n_boot = check_int("no_harm_table", "n_boot", n_boot, low=1)
    rng = np.random.default_rng(rng)
    inputs = harm_inputs(clean, rng=rng)
    index = rng.integers(0, len(clean), (n_boot, len(clean)))
    rows = []
    for check, stack in inputs.items():
        scores = {"input": _scores(clean, stack)}
        for name, method in restorers.items():
            restored = [_restore(method, x) for x in stack]
            if any(r.shape != x.shape for r, x in zip(restored, stack)):
                raise ValueError(f"no_harm_table: restorer {name!r} changed the image shape")
            scores[name] = _scores(clean, restored)
            row = {"check": check, "method": name, "n": len(clean)}
            for m in _METRICS:
                for prefix, key in (("", name), ("input_", "input")):
                    mean_lo_hi = _summary(scores[key][m], index)
                    row.update(zip((f"{prefix}{m}{e}" for e in ("", "_lo", "_hi")), mean_lo_hi))
                gain = ((np.nan,) * 3 if check == CHECKS[0]       # no gain over the truth
                        else _summary(scores[name][m] - scores["input"][m], index))
                row[f"{m}_gain"], row[f"{m}_gain_lo"], row[f"{m}_gain_hi"] = gain
            rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _scores(clean, restored):
    return {m: np.array([f(c, r) for c, r in zip(clean, restored)], np.float64)
            for m, f in _METRICS.items()}


def _cell(mean, lo, hi, digits, sign=""):
    if np.isnan(mean):
        return "–"
    text = f"{mean:{sign}.{digits}f} [{lo:{sign}.{digits}f}, {hi:{sign}.{digits}f}]"
    return text.replace("+inf", "inf")


def harm_markdown(table):
    """The table of :func:`no_harm_table` as Markdown: per check, the input, then each
    restorer (mean [95 % interval]; gains with the interval in bold when it excludes 0).

    Parameters
    ----------
    table : pandas.DataFrame

    Returns
    -------
    markdown : str
    """
    lines = ["| Input | Method | PSNR (dB) | SSIM | PSNR gain | SSIM gain |",
             "|---|---|---|---|---|---|"]
    for check, part in table.groupby("check", sort=False):
        first = part.iloc[0]
        lines.append(f"| {check} | input itself | "
                     + " | ".join(_cell(*(first[f"input_{m}{e}"] for e in ("", "_lo", "_hi")),
                                        d) for m, d in (("psnr", 2), ("ssim", 3))) + " | | |")
        for _, row in part.iterrows():
            cells = [_cell(*(row[f"{m}{e}"] for e in ("", "_lo", "_hi")), d)
                     for m, d in (("psnr", 2), ("ssim", 3))]
            for m, d in (("psnr", 2), ("ssim", 3)):
                gain = [row[f"{m}_gain{e}"] for e in ("", "_lo", "_hi")]
                cell = _cell(*gain, d, sign="+")
                if not np.isnan(gain[0]) and (gain[1] > 0 or gain[2] < 0):
                    head, interval = cell.split(" [", 1)
                    cell = f"{head} **[{interval}**"
                cells.append(cell)
            lines.append(f"| {check} | {method_label(row['method'])} | " + " | ".join(cells)
                         + " |")
    return "\n".join(lines)
