"""Run every method over a test set and build the paper's tables (Table 1/S1, 2/S2).

:func:`evaluate_methods` restores each blurred test image with each method -- the
blurred input itself, the generators given (by their keys in :mod:`semgan_core.labels`:
``filter-unpaired``, ``filter-paired``, ...), and the classical baselines of
:mod:`semgan_core.baselines` -- and scores it with :func:`metrics.evaluate` against its
clean original. The non-blind baselines (Wiener, Richardson-Lucy, constrained least
squares) run twice, because the paper does not say which PSF it gave them: with the
``assumed`` PSF (``kernels.ASSUMED_PSF``, the 7x7 sigma-1 Gaussian, for every image: the
realistic unknown-kernel case) and with the ``oracle`` PSF (the image's true blur kernel,
``degrade.kernel_from_info``: an upper bound for them; fog is not in it). Blind
deconvolution starts from the assumed PSF (its ``psf`` column reads ``assumed``). A
``ground-truth`` row scores the clean images with the no-reference metrics (AG, CON, SF;
its SSIM and PSNR are left empty, NaN).

Each table cell is a mean over images with a 95 % percentile-bootstrap confidence
interval (:mod:`semgan_core.bootstrap`). AG, CON and SF are on 0-255 gray levels
(:mod:`semgan_core.metrics`).

:func:`test_set` is the one test set of a degradation: the ``evaluate`` command
(:func:`semgan_core.benchmark.run_evaluation`) and the book's benchmark chapter score the
same images through it. It takes a noise level (SEM shot noise, the same clean crops at
every level, the noise seeded per crop) and synthetic or real clean images. On noisy
images the non-blind baselines can run noise-aware (``noise_aware=True``: their
regularisation set from each image's estimated noise, :data:`NOISE_AWARE`); by default
they keep the noise-free settings of the paper's tables.
"""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from semgan_core import (baselines, bootstrap, datasets, degrade, images, kernels, metrics,
                         realdata)
from semgan_core.checks import check_choice, check_int
from semgan_core.noiselevels import check_noise_level

#: Method names in table order ("ground-truth" scores the clean images).
METHODS = ("blurred", "wiener", "richardson-lucy", "blind-deconvolution",
           "constrained-least-squares", "ground-truth")
#: The classical baselines the paper's claims compare against.
CLASSICAL = ("wiener", "richardson-lucy", "blind-deconvolution", "constrained-least-squares")
PSF_SETTINGS = ("assumed", "oracle")
METRICS = ("ssim", "psnr", "ag", "con", "sf")
#: Columns of the table: means, then the confidence bounds, then the time.
TABLE_COLUMNS = ("method", "psf", *METRICS,
                 *(f"{m}_{end}" for m in METRICS for end in ("lo", "hi")),
                 "seconds_per_image")
_NON_BLIND = {"wiener": baselines.wiener, "richardson-lucy": baselines.richardson_lucy,
              "constrained-least-squares": baselines.constrained_least_squares}
#: The non-blind baselines' noise-aware settings: each parameter set from the image's
#: estimated noise (:func:`semgan_core.baselines.auto_parameter`).
NOISE_AWARE = {"wiener": {"balance": "auto"}, "richardson-lucy": {"iterations": "auto"},
               "constrained-least-squares": {"gamma": "auto"}}


def _stack(name, array):
    """Validate a stack of images (a list or an (N, H, W) array) as float32 [0, 1]."""
    if isinstance(array, np.ndarray) and array.ndim == 2:
        raise ValueError(f"evaluate_methods: {name} must be a stack (N, H, W), got one image "
                         f"of shape {array.shape}; wrap it as [image]")
    stack = [images.as_image(a, name=f"evaluate_methods({name}[{i}])")
             for i, a in enumerate(array)]
    if not stack:
        raise ValueError(f"evaluate_methods: {name} holds no images")
    return stack


def _check_inputs(blurred, clean, infos, methods, generators, psf_settings, n_boot):
    blurred, clean = _stack("blurred", blurred), _stack("clean", clean)
    if [b.shape for b in blurred] != [c.shape for c in clean]:
        raise ValueError(f"evaluate_methods: blurred and clean must hold images of the same "
                         f"shapes, got {len(blurred)} and {len(clean)} images")
    unknown = [m for m in methods if m not in METHODS]
    bad_psf = [p for p in psf_settings if p not in PSF_SETTINGS]
    if unknown or bad_psf or not psf_settings:
        raise ValueError(f"evaluate_methods: methods must be among {METHODS} and psf_settings "
                         f"a non-empty subset of {PSF_SETTINGS}; got unknown methods {unknown}, "
                         f"psf_settings {tuple(psf_settings)}")
    clash = sorted(set(generators) & set(METHODS))
    if clash:
        raise ValueError(f"evaluate_methods: generator names {clash} clash with method names")
    check_int("evaluate_methods", "n_boot", n_boot, low=1)
    infos = [None] * len(blurred) if infos is None else list(infos)
    if len(infos) != len(blurred):
        raise ValueError(f"evaluate_methods: infos must have one entry per image, got "
                         f"{len(infos)} for {len(blurred)} images")
    if "oracle" in psf_settings and any(m in _NON_BLIND for m in methods):
        missing = [i for i, info in enumerate(infos) if info is None]
        if missing:
            raise ValueError(f"evaluate_methods: the 'oracle' PSF needs every image's "
                             f"degradation info; infos{missing[:5]} are None (use "
                             "psf_settings=('assumed',))")
    return blurred, clean, infos


def _deblur(model, i, image):
    from semgan_core import infer  # TensorFlow only when a generator is evaluated

    return infer.deblur(model, image, tile=infer.covering_tile(image.shape))


def _blind(i, image):
    return baselines.blind_deconvolution(image, kernels.ASSUMED_PSF)[0]


def _non_blind(func, kernel, i, image, **params):
    return func(image, kernel(i), **params)


def _runs(methods, generators, psf_settings, infos, noise_aware=False):
    """The (method, psf, restore(i, image) or None) runs, in table order."""
    psfs = {"assumed": lambda i: kernels.ASSUMED_PSF}
    if "oracle" in psf_settings and any(m in _NON_BLIND for m in methods):
        psfs["oracle"] = [degrade.kernel_from_info(info) for info in infos].__getitem__
    from_generators = [(name, "-", functools.partial(_deblur, model))
                       for name, model in generators.items()]
    runs = [] if "blurred" in methods else list(from_generators)
    for method in methods:
        if method == "blurred":
            runs += [(method, "-", None), *from_generators]
        elif method == "ground-truth":
            runs.append((method, "-", None))
        elif method == "blind-deconvolution":
            runs.append((method, "assumed", _blind))
        else:
            params = NOISE_AWARE[method] if noise_aware else {}
            runs += [(method, psf, functools.partial(_non_blind, _NON_BLIND[method],
                                                     psfs[psf], **params))
                     for psf in psf_settings]
    return runs


def _score(method, psf, restore, blurred, clean, names, bar):
    """Per-image rows (metrics and seconds) of one run."""
    rows = []
    if method not in METHODS:  # a generator: one untimed call traces its graph
        restore(0, blurred[0])
    for i, (b, c) in enumerate(zip(blurred, clean)):
        restored, seconds = b, 0.0
        if restore is not None:
            start = time.perf_counter()
            restored = restore(i, b)
            seconds = time.perf_counter() - start
        values = (metrics.evaluate(None, c) if method == "ground-truth"
                  else metrics.evaluate(c, restored))
        rows.append({"image": names[i], "method": method, "psf": psf,
                     **{m: values.get(m, np.nan) for m in METRICS}, "seconds": seconds})
        bar.update(1)
    return rows


def evaluate_methods(blurred, clean, infos, *, generators=None, methods=METHODS,
                     psf_settings=PSF_SETTINGS, names=None, n_boot=bootstrap.N_BOOT, rng=0,
                     noise_aware=False, progress=True):
    """Restore a test set with every method and score the results.

    Parameters
    ----------
    blurred, clean : ndarray, shape (N, H, W), float32 in [0, 1], or lists of (H, W)
        The blurred test images and their clean originals.
    infos : list of dict or None
        Each image's degradation info (``degrade.degrade``); needed for the ``oracle``
        PSF only.
    generators : dict of str to keras.Model, optional
        Generators by table name (e.g. ``{"filter-unpaired": G, "filter-paired": G2}``,
        :mod:`semgan_core.labels`), run with :func:`infer.deblur` (one tile: the smallest
        multiple of 128, at most 256, covering the image).
    methods : sequence of str, optional
        Among :data:`METHODS`; default all.
    psf_settings : sequence of {'assumed', 'oracle'}, optional
        PSFs given to the non-blind baselines.
    names : list of str, optional
        Image names for ``per_image`` (default ``"00000"``, ``"00001"``, ...).
    n_boot : int, optional
        Bootstrap resamples for the confidence intervals.
    rng : numpy.random.Generator, int or None, optional
        Seed of the bootstrap.
    noise_aware : bool, optional
        False (default): the non-blind baselines with their noise-free defaults (the
        paper's tables). True: with :data:`NOISE_AWARE` settings (Wiener's balance, CLS's
        gamma and Richardson-Lucy's iterations ``"auto"``, set from each image's
        estimated noise); blind deconvolution keeps its 10 iterations either way.
    progress : bool, optional
        Show a tqdm progress bar.

    Returns
    -------
    table : pandas.DataFrame
        One row per (method, psf), columns :data:`TABLE_COLUMNS` (``psf`` is ``-`` for
        methods without a PSF).
    per_image : pandas.DataFrame
        One row per (image, method, psf): image, method, psf, the metrics, seconds.

    Raises
    ------
    ValueError
        For invalid images, unknown methods or PSF settings, generator names that clash
        with method names, or the ``oracle`` PSF without degradation infos.

    Notes
    -----
    ``seconds_per_image`` is the wall time of the restoration alone (0 for blurred and
    ground-truth), after one untimed warm-up call per generator (graph tracing).
    """
    generators = dict(generators or {})
    methods, psf_settings = tuple(dict.fromkeys(methods)), tuple(dict.fromkeys(psf_settings))
    blurred, clean, infos = _check_inputs(blurred, clean, infos, methods, generators,
                                          psf_settings, n_boot)
    names = [f"{i:05d}" for i in range(len(blurred))] if names is None else list(names)
    if len(names) != len(blurred):
        raise ValueError(f"evaluate_methods: got {len(names)} names for {len(blurred)} images")
    runs = _runs(methods, generators, psf_settings, infos, bool(noise_aware))
    from tqdm.auto import tqdm

    rows = []
    with tqdm(total=len(runs) * len(blurred), desc="evaluate", unit="image",
              disable=not progress) as bar:
        for method, psf, restore in runs:
            bar.set_postfix_str(method if psf == "-" else f"{method} ({psf} PSF)")
            rows += _score(method, psf, restore, blurred, clean, names, bar)
    per_image = pd.DataFrame(rows, columns=["image", "method", "psf", *METRICS, "seconds"])
    return bootstrap.summary_table(per_image, METRICS, n_boot=n_boot, rng=rng), per_image


def restorations(image, *, info=None, generators=None, methods=METHODS[:-1],
                 psf_settings=("assumed",), noise_aware=False):
    """One image restored by each method exactly as :func:`evaluate_methods` restores it
    (the panels of a figure then show what the tables score).

    Parameters
    ----------
    image : ndarray, shape (H, W), float32 in [0, 1]
        A blurred image.
    info : dict, optional
        Its degradation info (``degrade.degrade``); needed for the ``oracle`` PSF only.
    generators : dict of str to keras.Model, optional
        Generators by table name.
    methods : sequence of str, optional
        Among :data:`METHODS` but ``ground-truth``; default all of those.
    psf_settings : sequence of {'assumed', 'oracle'}, optional
        PSFs given to the non-blind baselines.
    noise_aware : bool, optional
        As in :func:`evaluate_methods`.

    Returns
    -------
    restored : dict of (str, str) to ndarray
        ``(method, psf)`` to the restored image, in table order (``"blurred"`` is the
        input itself).

    Raises
    ------
    ValueError
        For an invalid image, unknown methods or PSF settings (``ground-truth`` among
        them), or the ``oracle`` PSF without ``info``.
    """
    image = images.as_image(image, name="restorations(image)")
    methods, psf_settings = tuple(dict.fromkeys(methods)), tuple(dict.fromkeys(psf_settings))
    unknown = [m for m in methods if m not in METHODS[:-1]]
    bad_psf = [p for p in psf_settings if p not in PSF_SETTINGS]
    if unknown or bad_psf or not psf_settings:
        raise ValueError(f"restorations: methods must be among {METHODS[:-1]} and "
                         f"psf_settings a non-empty subset of {PSF_SETTINGS}; got unknown "
                         f"methods {unknown}, psf_settings {psf_settings}")
    if "oracle" in psf_settings and info is None:
        raise ValueError("restorations: the 'oracle' PSF needs the image's degradation info")
    runs = _runs(methods, dict(generators or {}), psf_settings, [info], bool(noise_aware))
    return {(method, psf): image if restore is None else restore(0, image)
            for method, psf, restore in runs}


def test_set(degradation, *, n=None, seed=0, source="synthetic", noise=0.0, progress=False):
    """The test images of a degradation: the first ``n`` test crops of its default dataset.

    The dataset is ``datasets.make_dataset(degradation=degradation, seed=seed,
    source=source, noise=noise)`` with every other option at its default (2550 crops of
    256x256, 10 % of them and of the source images held out for testing); only its test
    split is built, in a temporary folder. A model trained on the same default dataset
    has never seen a source image of these crops. Both the ``evaluate`` command and the
    book's benchmark chapter score this set.

    Parameters
    ----------
    degradation : {'A', 'B', 'C'}
    n : int, optional
        Keep the first ``n`` test crops by file name (default: all of them, 255 for the
        synthetic source).
    seed : int, optional
        Seed of the dataset (sources, crops, degradations and noise).
    source : 'synthetic', 'real' or path-like, optional
        The clean images: the procedural micrographs; ``'real'``, the shared real clean
        micrographs (:func:`semgan_core.realdata.clean_source_folder`, linked into the
        temporary folder); or a folder of micrographs (:func:`datasets.make_dataset`).
    noise : float, optional
        SEM shot noise on the blurred images: its standard deviation at mid-grey on the
        [0, 1] scale (Gaussian equivalent; Poisson counts,
        ``noise.NoiseModel(sigma=noise)``), >= 0. 0 (default): noise-free, the paper's
        degradation. Every level gives the same clean crops and the same blur (and fog);
        each crop's noise is drawn from a seed fixed by ``seed`` and the crop, the same
        for every level, so levels differ only in the noise's strength.
    progress : bool, optional
        Show a progress bar while the crops are made.

    Returns
    -------
    blurred, clean : ndarray, shape (N, 256, 256), float32 in [0, 1]
        Read back from the 8-bit PNG files, as a trained network reads them (the noise
        is added before the 8-bit rounding, as a detector's would be).
    names : list of str
    infos : list of dict
        Each crop's degradation (``degrade.kernel_from_info`` rebuilds its PSF; ``noise``
        holds the noise model, None when noise-free).

    Raises
    ------
    ValueError
        For an unknown degradation, a bad ``n``, ``seed`` or ``noise`` (negative, NaN,
        above 0.5).
    FileNotFoundError
        For ``source='real'`` when the real micrographs are not available
        (:func:`semgan_core.realdata.missing_reason` says where they are looked for).
    """
    check_choice("test_set", "degradation", degradation, degrade.DEGRADATIONS)
    if n is not None:
        check_int("test_set", "n", n, low=1)
    check_int("test_set", "seed", seed, low=0)
    noise = check_noise_level("test_set", noise)
    with tempfile.TemporaryDirectory(prefix="semgan-test-set-") as tmp:
        if isinstance(source, str) and source == "real":
            source = realdata.clean_source_folder(Path(tmp) / "sources")
        datasets.make_dataset(Path(tmp) / "data", degradation=degradation, source=source,
                              seed=seed, progress=progress, test_only=True, max_test=n,
                              noise=noise or None)
        return datasets.load_test_pairs(Path(tmp) / "data", n=n)

