"""Whole real frames for the paper's Tables 3 and 4: which frames, which methods, the summary.

The shared real micrographs (:mod:`semgan_core.realdata`) come from several sources;
:func:`select_frames` picks frames spread evenly through each source and reads them
whole (info bar included). :func:`restorers` names every method run on them: the
classical deconvolutions given the assumed PSF (regularised as on the simulated data,
and set from each frame's estimated noise), and the shipped generators tiled over the
frame by :func:`semgan_core.infer.deblur`. :func:`source_table` averages the scores
of :func:`semgan_core.realscore.score_frames` per source and method, and
:func:`verdict_lines` states, for each generator, what the numbers say about the paper's
claim that AG, CON and SF rise after restoration of real images, next to the rise of the
estimated noise. Where the shared micrographs are absent, :func:`synthetic_frames` makes
stand-ins (procedural micrographs, blurred and noisy) so that the scoring can still be
shown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from semgan_core import baselines, images, kernels, noise, realdata, realscore, synth
from semgan_core.checks import check_int

#: The classical methods, each given the assumed PSF, regularised as on the noise-free
#: simulated data.
CLASSICAL = ("wiener", "richardson-lucy", "blind-deconvolution", "constrained-least-squares")
#: The same non-blind methods with their regularisation set from each frame's estimated
#: noise (``'auto'``: :func:`semgan_core.baselines.auto_parameter`).
NOISE_AWARE = ("wiener-auto", "richardson-lucy-auto", "constrained-least-squares-auto")
#: Short labels of the shared sources.
SOURCE_LABELS = {"ncm": "NCM cathodes", "sio2": "SiO2 films (never trained on)",
                 "charging": "FIB/SEM slice with charging", "amsteel": "AM steel",
                 "synthetic": "synthetic stand-ins"}

#: A noise factor at least this share of the AG factor counts as "rising as much".
NOISE_MATCH = 0.9


def pick_evenly(items, n) -> list:
    """``n`` items spread evenly through ``items`` (all of them if there are fewer)."""
    items = list(items)
    if n >= len(items):
        return items
    index = np.linspace(0, len(items) - 1, n).round().astype(int)
    return [items[i] for i in index]


def select_frames(counts) -> dict:
    """Read whole frames of the shared real micrographs, spread evenly through each source.

    Parameters
    ----------
    counts : dict
        ``{subset: n}`` with subsets of :data:`semgan_core.realdata.SUBSETS`.

    Returns
    -------
    frames : dict
        ``{file stem: (subset, image)}``, images float32 in [0, 1], whole; empty when no
        real micrographs are available.

    Raises
    ------
    ValueError
        For an unknown subset or a count below 1.
    """
    frames = {}
    for subset, n in counts.items():
        if subset not in realdata.SUBSETS:
            raise ValueError(f"select_frames: unknown subset {subset!r}; expected one of "
                             f"{sorted(realdata.SUBSETS)}")
        n = check_int("select_frames", f"the count of {subset!r}", n, low=1)
        for path in pick_evenly(realdata.list_real_images(subset), n):
            frames[path.stem] = (subset, images.read_image(path))
    return frames


def synthetic_frames(n, *, shape=(384, 512), sigma=0.01, rng=None) -> dict:
    """Stand-in frames: procedural micrographs blurred with the assumed PSF, with noise.

    Parameters
    ----------
    n : int
        Number of frames.
    shape : (int, int)
        Their size.
    sigma : float
        Shot noise at mid-grey (:class:`semgan_core.noise.NoiseModel`).
    rng : numpy.random.Generator, int or None

    Returns
    -------
    frames : dict
        ``{"synthetic_<i>": ("synthetic", image)}``.
    """
    rng = np.random.default_rng(rng)
    model = noise.NoiseModel(sigma=sigma)
    frames = {}
    for i in range(int(n)):
        clean = synth.micrograph(tuple(shape), rng=rng)[0]
        blurred = kernels.convolve(clean, kernels.ASSUMED_PSF)
        frames[f"synthetic_{i}"] = ("synthetic", noise.add_noise(blurred, model, rng=rng))
    return frames


def restorers(models=(), *, psf=kernels.ASSUMED_PSF, noise_aware=True) -> dict:
    """``{method: restore(specimen)}``: the classical methods, then each shipped model.

    Parameters
    ----------
    models : sequence of str
        Shipped model names (:data:`semgan_core.generators.SHIPPED`), loaded here.
    psf : ndarray
        The PSF given to the classical methods (default the assumed 7x7 Gaussian);
        blind deconvolution starts from it and runs the paper's 10 iterations.
    noise_aware : bool
        Also the methods of :data:`NOISE_AWARE`.

    Returns
    -------
    dict
        Keys :data:`CLASSICAL`, then :data:`NOISE_AWARE` (if asked), then ``models``.
    """
    from semgan_core import generators, infer

    out = {"wiener": lambda x: baselines.wiener(x, psf),
           "richardson-lucy": lambda x: baselines.richardson_lucy(x, psf),
           "blind-deconvolution": lambda x: baselines.blind_deconvolution(x, psf)[0],
           "constrained-least-squares": lambda x: baselines.constrained_least_squares(x, psf)}
    if noise_aware:
        out.update({
            "wiener-auto": lambda x: baselines.wiener(x, psf, balance="auto"),
            "richardson-lucy-auto": lambda x: baselines.richardson_lucy(x, psf,
                                                                        iterations="auto"),
            "constrained-least-squares-auto":
                lambda x: baselines.constrained_least_squares(x, psf, gamma="auto")})
    for name in models:
        generator = generators.load_shipped(name)
        out[name] = lambda x, g=generator: infer.deblur(g, x)
    return out


def source_table(table) -> pd.DataFrame:
    """Mean scores per source and method (the paper's Tables 3 and 4 layout).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`semgan_core.realscore.score_frames`.

    Returns
    -------
    pandas.DataFrame
        Indexed by (source, method) in the table's order, columns ``frames`` and the
        means of :data:`semgan_core.realscore.SCORES` and ``seconds``.
    """
    columns = [*realscore.SCORES, "seconds"]
    grouped = table.groupby(["source", "method"], sort=False)
    out = grouped[columns].mean()
    out.insert(0, "frames", grouped.size())
    return out


def verdict_lines(table, models) -> list[str]:
    """One line per model on the paper's claim that AG, CON and SF rise on real images.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`semgan_core.realscore.score_frames`.
    models : sequence of str
        Methods of ``table`` to judge.

    Returns
    -------
    list of str
        For each model: on how many frames AG, CON and SF all rise over the input, the
        mean factors of AG and of the estimated noise, and the re-blur error against
        the input's; "confirmed" where all three rise on every frame, and, when the noise
        factor is at least :data:`NOISE_MATCH` times the AG factor, that the rise cannot
        be told from noise amplification. With an ``edge`` column, also the mean factor
        of the edge sharpness, as it is and at the input's noise level (``edge_matched``,
        where present), and on how many frames the latter rises while the noise does not.
    """
    base = table[table["method"] == realscore.INPUT].set_index("frame")
    lines = []
    for model in models:
        rows = table[table["method"] == model].set_index("frame")
        ref = base.loc[rows.index]
        rise = ((rows["ag"] > ref["ag"]) & (rows["con"] > ref["con"])
                & (rows["sf"] > ref["sf"]))
        ag = float((rows["ag"] / ref["ag"]).mean())
        nz = float((rows["noise"] / ref["noise"]).mean())
        outcome = "confirmed" if rise.all() else ("partly confirmed" if rise.any()
                                                  else "not confirmed")
        caveat = (" The estimated noise rises about as much or more (at least 90 % of the "
                  "AG factor), so these numbers alone do not show that detail was restored."
                  if nz >= NOISE_MATCH * ag else
                  " The estimated noise rises clearly less than AG.")
        if "edge" in rows:
            matched = rows.get("edge_matched", rows["edge"])
            sharper = (matched > ref["edge"]) & (rows["noise"] <= ref["noise"])
            caveat += (f" Edge sharpness (on the lightly smoothed image) x"
                       f"{float((rows['edge'] / ref['edge']).mean()):.2f}, and x"
                       f"{float((matched / ref['edge']).mean()):.2f} at the input's noise "
                       f"level; the latter rises while the estimated noise does not on "
                       f"{int(sharper.sum())} of {len(rows)} frames.")
        lines.append(f"**{model}**: {outcome}: AG, CON and SF all rise on {int(rise.sum())} "
                     f"of {len(rows)} frames (AG x{ag:.2f} on average, estimated noise "
                     f"x{nz:.2f}; re-blur error {rows['reblur'].mean():.4f} against the "
                     f"input's {ref['reblur'].mean():.4f}).{caveat}")
    return lines
