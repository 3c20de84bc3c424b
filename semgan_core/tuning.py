"""Choosing the baselines' regularisation on training pairs (never on test images).

:func:`training_pairs` builds the synthetic training set (``synth.micrograph`` images
degraded, optionally with SEM noise, and rounded to 8-bit as the datasets store them);
:func:`tune` grid-searches one method's parameter for the best mean PSNR over it, which
chose the noise-free defaults of :mod:`semgan_core.baselines`; :func:`fit_noise_rules`
fits the noise-aware rules (parameter as a power law of the estimated noise) from the
best parameter at several noise levels, and :func:`validate_rules` measures them on
pairs of other seeds. ``python -m semgan_core.tuning`` re-fits the rules and prints the
constants to paste into ``baselines.py`` with the validation table (one to four
minutes on two cores).
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from semgan_core import baselines, degrade, kernels, metrics, synth
from semgan_core.checks import check_choice
from semgan_core.noise import NoiseModel, estimate_noise

#: The grid the noise-free defaults were chosen from (quarter decades, 1e-6 to 1e-1).
TUNING_GRID = tuple(float(v) for v in 10 ** np.arange(-6, -0.9, 0.25))
#: Grids of the noise-aware fits: eighth decades up to 1, and iteration counts.
NOISY_GRID = tuple(float(v) for v in 10 ** np.arange(-6, 0.01, 0.125))
RL_GRID = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30)
#: Noise levels (shot noise, sigma at mid-grey) of the fits; seeds of fit and validation.
NOISE_LEVELS = (0.005, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08)
FIT_SEED = 1000
VALIDATION_SEED = 5000

#: The methods by name, and the keyword :func:`tune` varies for each.
_TUNED_KEYWORD = {"wiener": "balance", "richardson_lucy": "iterations",
                  "constrained_least_squares": "gamma", "blind_deconvolution": "iterations"}
_RULE_GRIDS = {"wiener": NOISY_GRID, "constrained_least_squares": NOISY_GRID,
               "richardson_lucy": RL_GRID}


def training_pairs(n=16, *, size=256, degradation="A", seed=FIT_SEED, noise=None):
    """The synthetic training set the baselines' parameters are chosen on.

    Parameters
    ----------
    n : int, optional
        Number of pairs; image ``i`` is ``synth.micrograph(size, rng=seed + i)``.
    size : int, optional
        Side of each image.
    degradation : {'A', 'B', 'C'}, optional
        ``degrade.degrade(clean, degradation, rng=seed + i, noise=noise)``.
    seed : int, optional
        First seed (1000 keeps the set apart from the datasets' default seed 0; the
        rules are validated from :data:`VALIDATION_SEED`).
    noise : semgan_core.noise.NoiseModel or None, optional
        SEM noise of the degraded images (None: the paper's noise-free degradations).

    Returns
    -------
    blurred, clean : ndarray, shape (n, size, size), float32 in [0, 1]
        Both rounded to 8-bit levels, as the datasets store them.
    """
    clean = np.stack([synth.micrograph(size, rng=seed + i)[0] for i in range(n)])
    blurred = np.stack([degrade.degrade(c, degradation, rng=seed + i, noise=noise)[0]
                        for i, c in enumerate(clean)])
    levels = np.float32(255)
    return np.round(blurred * levels) / levels, np.round(clean * levels) / levels


def tune(method, blurred, clean, psf, grid):
    """Grid-search one method's parameter for the best mean PSNR over training pairs.

    Parameters
    ----------
    method : {'wiener', 'constrained_least_squares', 'richardson_lucy', \
'blind_deconvolution'}
        The parameter varied is ``balance``, ``gamma`` or ``iterations`` respectively.
    blurred, clean : sequence of ndarray, shape (H, W), float32 in [0, 1]
        Training pairs (e.g. from :func:`training_pairs`), same length.
    psf : ndarray
        The PSF given to the method (``psf0`` for the blind one).
    grid : sequence of float or int
        Candidate values, tried in order; ties go to the first.

    Returns
    -------
    best : float or int
        The grid value with the highest mean PSNR.
    results : list of dict
        ``{"value": v, "psnr": mean PSNR in dB}`` per grid value, in grid order.

    Raises
    ------
    ValueError
        For an unknown method, an empty grid or training set, or unequal lengths.
    """
    check_choice("tune", "method", method, tuple(_TUNED_KEYWORD))
    if len(grid) == 0 or len(blurred) == 0 or len(blurred) != len(clean):
        raise ValueError(f"tune: need a non-empty grid and equal, non-zero numbers of "
                         f"blurred and clean images, got {len(grid)} grid values, "
                         f"{len(blurred)} blurred and {len(clean)} clean")
    func, keyword = baselines.METHODS[method], _TUNED_KEYWORD[method]
    results = []
    for value in grid:
        scores = []
        for b, c in zip(blurred, clean):
            restored = func(b, psf, **{keyword: value})
            restored = restored[0] if isinstance(restored, tuple) else restored
            scores.append(metrics.psnr(c, restored))
        results.append({"value": value, "psnr": float(np.mean(scores))})
    best = max(results, key=lambda row: row["psnr"])["value"]
    return best, results


def fit_noise_rules(levels=NOISE_LEVELS, *, n=8, size=256, seed=FIT_SEED,
                    psf=kernels.ASSUMED_PSF):
    """Fit each noise-aware rule ``parameter = a * s**b`` on noisy training pairs.

    Parameters
    ----------
    levels : sequence of float, optional
        Shot-noise levels (``NoiseModel(sigma=level)``, Poisson) of the training sets.
    n, size, seed : int, optional
        :func:`training_pairs` of degradation A at each level (the same clean images).
    psf : ndarray, optional
        The PSF the methods are given (degradation A's true kernel, the assumed PSF).

    Returns
    -------
    floor : float
        The median estimated noise of the noise-free pairs (structure and 8-bit
        rounding that the estimator reads as noise): ``baselines.NOISE_FLOOR``.
    rules : dict
        ``{method: (a, b)}`` for ``wiener``, ``constrained_least_squares`` and
        ``richardson_lucy``: the least-squares line through ``(log s, log best)`` over
        the levels, with ``s = sqrt(sigma_hat**2 - floor**2)`` and ``sigma_hat`` the
        median estimated noise of the level's blurred images. A best value at an end
        of its grid (a Richardson-Lucy count of 30 on nearly noise-free images, where
        PSNR still rises) only bounds the optimum, so such levels are left out of that
        method's fit.
    table : list of dict
        Per level: ``sigma``, ``sigma_hat``, ``s`` and the best value of each method.

    Raises
    ------
    ValueError
        When fewer than two levels have a best value inside a method's grid.
    """
    quiet = training_pairs(n, size=size, seed=seed)[0]
    floor = float(np.median([estimate_noise(b) for b in quiet]))
    table = []
    for level in levels:
        blurred, clean = training_pairs(n, size=size, seed=seed, noise=NoiseModel(sigma=level))
        sigma_hat = float(np.median([estimate_noise(b) for b in blurred]))
        row = {"sigma": float(level), "sigma_hat": sigma_hat,
               "s": math.sqrt(max(sigma_hat**2 - floor**2, 0.0))}
        for method, grid in _RULE_GRIDS.items():
            row[method] = tune(method, blurred, clean, psf, grid)[0]
        table.append(row)
    rules = {}
    for method, grid in _RULE_GRIDS.items():
        inside = [row for row in table if row[method] not in (grid[0], grid[-1])]
        if len(inside) < 2:
            raise ValueError(f"fit_noise_rules: {method} needs the best value inside its "
                             f"grid at two levels or more, got {len(inside)}; add noisier "
                             f"levels")
        x = np.log([row["s"] for row in inside])
        slope, intercept = np.polyfit(x, np.log([row[method] for row in inside]), 1)
        rules[method] = (float(math.exp(intercept)), float(slope))
    return floor, rules, table


def validate_rules(levels=(0.0, *NOISE_LEVELS), *, n=8, size=256, seed=VALIDATION_SEED,
                   psf=kernels.ASSUMED_PSF):
    """Mean PSNR of the noisy input and of each method, default against "auto".

    Parameters
    ----------
    levels : sequence of float, optional
        Shot-noise levels (0: noise-free).
    n, size, seed : int, optional
        Validation pairs (:func:`training_pairs` from another seed than the fit).
    psf : ndarray, optional
        The PSF the methods are given.

    Returns
    -------
    list of dict
        Per level: ``sigma``, ``input`` and, per method, ``<method>`` (default
        parameter) and ``<method>_auto`` mean PSNR in dB.
    """
    rows = []
    for level in levels:
        noise = NoiseModel(sigma=level) if level > 0 else None
        blurred, clean = training_pairs(n, size=size, seed=seed, noise=noise)
        row = {"sigma": float(level),
               "input": float(np.mean([metrics.psnr(c, b) for b, c in zip(blurred, clean)]))}
        for method, keyword in (("wiener", "balance"), ("constrained_least_squares", "gamma"),
                                ("richardson_lucy", "iterations")):
            func = baselines.METHODS[method]
            for suffix, options in (("", {}), ("_auto", {keyword: "auto"})):
                row[method + suffix] = float(np.mean(
                    [metrics.psnr(c, func(b, psf, **options)) for b, c in zip(blurred, clean)]))
        rows.append(row)
    return rows


def main(argv=None):
    """Re-fit the noise-aware rules and print the constants and the validation table."""
    parser = argparse.ArgumentParser(prog="python -m semgan_core.tuning",
                                     description=main.__doc__)
    parser.add_argument("--n", type=int, default=8, help="pairs per noise level")
    parser.add_argument("--size", type=int, default=256, help="image side")
    args = parser.parse_args(argv)
    floor, rules, table = fit_noise_rules(n=args.n, size=args.size)
    print("Best value per level on the training pairs:")
    print("| sigma | sigma_hat | s | Wiener balance | CLS gamma | RL iterations |")
    print("|---|---|---|---|---|---|")
    for row in table:
        print(f"| {row['sigma']:g} | {row['sigma_hat']:.4f} | {row['s']:.4f} | "
              f"{row['wiener']:.3g} | "
              f"{row['constrained_least_squares']:.3g} | {row['richardson_lucy']} |")
    print(f"NOISE_FLOOR = {floor:.4g}")
    names = {"wiener": "WIENER_RULE", "constrained_least_squares": "CLS_RULE",
             "richardson_lucy": "RL_RULE"}
    for method, (a, b) in rules.items():
        print(f"{names[method]} = ({a:.4g}, {b:.4g})")
    print("\nValidation (the rules as stored in baselines.py), mean PSNR in dB:")
    print("| sigma | input | Wiener | Wiener auto | CLS | CLS auto | RL | RL auto |")
    print("|---|---|---|---|---|---|---|---|")
    for row in validate_rules(n=args.n, size=args.size):
        values = [row[k] for k in ("input", "wiener", "wiener_auto", "constrained_least_squares",
                                   "constrained_least_squares_auto", "richardson_lucy",
                                   "richardson_lucy_auto")]
        print(f"| {row['sigma']:g} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    return floor, rules, table


if __name__ == "__main__":
    main()
