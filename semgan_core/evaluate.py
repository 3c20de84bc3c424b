"""Run every method over a test set and build the paper's tables (Table 1/S1, 2/S2).

:func:`evaluate_methods` restores each blurred test image with each method -- the
blurred input itself, the generators given (CycleGAN, supervised oracle, ...), and the
classical baselines of :mod:`semgan_core.baselines` -- and scores it with
:func:`metrics.evaluate` against its clean original. The non-blind baselines (Wiener,
Richardson-Lucy, constrained least squares) run twice (NOTES.md section 6): with the
``assumed`` PSF (``degrade.ASSUMED_PSF``, the 7x7 sigma-1 Gaussian, for every image:
the realistic unknown-kernel case) and with the ``oracle`` PSF (the image's true blur
kernel, ``degrade.kernel_from_info``: an upper bound for them; fog is not in it). Blind
deconvolution starts from the assumed PSF (its ``psf`` column reads ``assumed``). A
``ground-truth`` row scores the clean images with the no-reference metrics (AG, CON, SF;
its SSIM and PSNR are left empty, NaN).

Each table cell is a mean over images with a 95 % percentile-bootstrap confidence
interval: ``n_boot`` resamples of the images (with replacement, seeded, the same
resamples for every method, so intervals of two methods are comparable). AG, CON and SF
are on 0-255 gray levels (:mod:`semgan_core.metrics`).

:func:`run_evaluation` does it for one recipe end to end and writes ``table.csv``,
``per_image.csv`` and ``evaluation.json``.
"""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from semgan_core import baselines, data, degrade, images, metrics, results

#: Method names in table order ("ground-truth" scores the clean images).
METHODS = ("blurred", "wiener", "richardson-lucy", "blind-deconvolution",
           "constrained-least-squares", "ground-truth")
PSF_SETTINGS = ("assumed", "oracle")
METRICS = ("ssim", "psnr", "ag", "con", "sf")
#: Columns of the table: means, then the confidence bounds, then the time.
TABLE_COLUMNS = ("method", "psf", *METRICS,
                 *(f"{m}_{end}" for m in METRICS for end in ("lo", "hi")),
                 "seconds_per_image")
CI_LEVEL = 0.95
N_BOOT = 1000
#: Where shipped generators live: ``<repo>/weights/cyclegan_<recipe>.keras``.
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
_NON_BLIND = {"wiener": baselines.wiener, "richardson-lucy": baselines.richardson_lucy,
              "constrained-least-squares": baselines.constrained_least_squares}


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
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"evaluate_methods: n_boot must be an integer >= 1, got {n_boot!r}")
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


def _generator_tile(shape):
    """The smallest tile (multiple of 128, at most 256) that covers the image."""
    return int(min(256, 128 * np.ceil(max(shape) / 128)))


def _deblur(model, i, image):
    from semgan_core import infer  # TensorFlow only when a generator is evaluated

    return infer.deblur(model, image, tile=_generator_tile(image.shape))


def _blind(i, image):
    return baselines.blind_deconvolution(image, degrade.ASSUMED_PSF)[0]


def _non_blind(func, kernel, i, image):
    return func(image, kernel(i))


def _runs(methods, generators, psf_settings, infos):
    """The (method, psf, restore(i, image) or None) runs, in table order."""
    kernels = {"assumed": lambda i: degrade.ASSUMED_PSF}
    if "oracle" in psf_settings and any(m in _NON_BLIND for m in methods):
        kernels["oracle"] = [degrade.kernel_from_info(info) for info in infos].__getitem__
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
            runs += [(method, psf, functools.partial(_non_blind, _NON_BLIND[method],
                                                     kernels[psf])) for psf in psf_settings]
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


def bootstrap_ci(values, *, n_boot=N_BOOT, rng=0, level=CI_LEVEL):
    """Percentile-bootstrap confidence interval of a mean.

    Parameters
    ----------
    values : array_like, shape (N,)
        One number per image.
    n_boot : int, optional
        Resamples of the N values, drawn with replacement.
    rng : numpy.random.Generator, int or None, optional
        Seed of the resampling.
    level : float, optional
        Coverage, default 0.95 (the 2.5th and 97.5th percentiles).

    Returns
    -------
    lo, hi : float
        NaN if any value is NaN.
    """
    rng = np.random.default_rng(rng)
    values = np.asarray(values, dtype=np.float64)
    return _ci(values, rng.integers(0, len(values), (n_boot, len(values))), level)


def _ci(values, index, level=CI_LEVEL):
    if np.isnan(values).any():
        return np.nan, np.nan
    means = values[index].mean(axis=1)
    tail = 50 * (1 - level)
    lo, hi = np.percentile(means, [tail, 100 - tail])
    return float(lo), float(hi)


def _table(per_image, n_images, n_boot, rng):
    """Means, bootstrap intervals and times of each (method, psf), in run order."""
    index = np.random.default_rng(rng).integers(0, n_images, (n_boot, n_images))
    rows = []
    for (method, psf), group in per_image.groupby(["method", "psf"], sort=False):
        row = {"method": method, "psf": psf}
        for m in METRICS:
            values = group[m].to_numpy(dtype=np.float64)
            row[m] = float(values.mean())
            row[f"{m}_lo"], row[f"{m}_hi"] = _ci(values, index)
        row["seconds_per_image"] = float(group["seconds"].mean())
        rows.append(row)
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def gain_table(per_image, *, reference="blurred", metrics_=("psnr", "ssim"), n_boot=N_BOOT,
               rng=0, level=CI_LEVEL):
    """Each method's mean gain over ``reference`` on the same images, with a paired
    bootstrap interval.

    Two methods scored on the same test images share each image's difficulty; the
    interval of the *difference* of their means resamples images, not methods, and so
    says whether one beats the other on this kind of image, which the overlap of the
    two separate intervals of :func:`evaluate_methods` cannot (they are much wider).

    Parameters
    ----------
    per_image : pandas.DataFrame
        :func:`evaluate_methods`' ``per_image``.
    reference : str, optional
        The method every other one is compared with (default the blurred input).
    metrics_ : sequence of str, optional
        Among :data:`METRICS`.
    n_boot, rng, level : optional
        As :func:`bootstrap_ci`.

    Returns
    -------
    gains : pandas.DataFrame
        One row per (method, psf) other than the reference: for each metric ``m``,
        ``m_gain`` (mean of method minus reference, per image) and ``m_gain_lo``,
        ``m_gain_hi``.
    """
    ref = per_image[per_image["method"] == reference].set_index("image")
    if ref.empty:
        raise ValueError(f"gain_table: no rows of the reference method {reference!r}")
    index = np.random.default_rng(rng).integers(0, len(ref), (n_boot, len(ref)))
    rows = []
    for (method, psf), group in per_image.groupby(["method", "psf"], sort=False):
        if method in (reference, "ground-truth"):
            continue
        group = group.set_index("image").loc[ref.index]
        row = {"method": method, "psf": psf}
        for m in metrics_:
            diff = group[m].to_numpy(np.float64) - ref[m].to_numpy(np.float64)
            row[f"{m}_gain"] = float(diff.mean())
            row[f"{m}_gain_lo"], row[f"{m}_gain_hi"] = _ci(diff, index, level)
        rows.append(row)
    return pd.DataFrame(rows)


def evaluate_methods(blurred, clean, infos, *, generators=None, methods=METHODS,
                     psf_settings=PSF_SETTINGS, names=None, n_boot=N_BOOT, rng=0,
                     progress=True):
    """Restore a test set with every method and score the results.

    Parameters
    ----------
    blurred, clean : ndarray, shape (N, H, W), float32 in [0, 1], or lists of (H, W)
        The blurred test images and their clean originals.
    infos : list of dict or None
        Each image's degradation info (``degrade.degrade``); needed for the ``oracle``
        PSF only.
    generators : dict of str to keras.Model, optional
        Generators by table name (e.g. ``{"cyclegan": G, "supervised-oracle": G2}``),
        run with :func:`infer.deblur` (one tile: the smallest multiple of 128, at most
        256, covering the image).
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
    runs = _runs(methods, generators, psf_settings, infos)
    from tqdm.auto import tqdm

    rows = []
    with tqdm(total=len(runs) * len(blurred), desc="evaluate", unit="image",
              disable=not progress) as bar:
        for method, psf, restore in runs:
            bar.set_postfix_str(method if psf == "-" else f"{method} ({psf} PSF)")
            rows += _score(method, psf, restore, blurred, clean, names, bar)
    per_image = pd.DataFrame(rows, columns=["image", "method", "psf", *METRICS, "seconds"])
    return _table(per_image, len(blurred), n_boot, rng), per_image


def shipped_weights(recipe, kind="cyclegan"):
    """Path of a generator shipped for a recipe: ``weights/<kind>_<recipe>.keras``,
    ``kind`` 'cyclegan' (unpaired, the paper's method) or 'supervised' (the oracle)."""
    return WEIGHTS_DIR / f"{kind}_{recipe}.keras"


def _generators(recipe, weights):
    """The generators to evaluate (``{"cyclegan": G[, "supervised-oracle": G2]}`` or {})
    and a note for the record. With ``weights`` given, that file is the 'cyclegan' row
    alone; without, the shipped CycleGAN and supervised oracle of ``recipe``, where they
    exist."""
    from semgan_core import infer

    if weights is not None:
        path = Path(weights)
        return ({"cyclegan": infer.load_generator(path)},
                {"weights": str(path), "note": f"generator 'cyclegan' loaded from {path}"})
    found = {row: shipped_weights(recipe, kind) for row, kind in
             (("cyclegan", "cyclegan"), ("supervised-oracle", "supervised"))}
    found = {row: path for row, path in found.items() if path.is_file()}
    if not found:
        return {}, {"weights": None, "note": f"no generator evaluated: the shipped weights "
                    f"{shipped_weights(recipe)} do not exist; classical methods only"}
    return ({row: infer.load_generator(path) for row, path in found.items()},
            {"weights": {row: str(path) for row, path in found.items()},
             "note": "shipped generators " + ", ".join(f"'{r}' from {p}"
                                                       for r, p in found.items())})


def _test_set(recipe, data_dir, n, seed, tmp, progress):
    """(blurred, clean, names, infos, description) of the test images."""
    if data_dir is not None:
        manifest = data.read_manifest(data_dir) or {}
        if manifest.get("recipe", recipe) != recipe:
            raise ValueError(f"run_evaluation: {data_dir} holds recipe "
                             f"{manifest['recipe']}, not {recipe}")
        return (*data.load_test_pairs(data_dir, n=n),
                {"source": "folder", "data_dir": str(data_dir), "has_manifest": bool(manifest)})
    # exactly the default dataset's test split (held out by source), first n crops
    data.make_dataset(Path(tmp) / "data", recipe=recipe, seed=seed, progress=progress,
                      test_only=True, max_test=n)
    return (*data.load_test_pairs(Path(tmp) / "data", n=n),
            {"source": "make_dataset", "seed": seed, "test_only": True, "max_test": n,
             "note": "the first n test crops of the default make_dataset(recipe, seed=seed), "
                     "held out by source from its training split"})


def _write_csv(frame, path):
    """Write a DataFrame as CSV atomically (temporary name in the same folder, rename)."""
    return results.atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def run_evaluation(recipe, out_dir, *, data_dir=None, weights=None, n=None, seed=0,
                   progress=True):
    """Evaluate every method on one recipe's test set and write the tables.

    Parameters
    ----------
    recipe : {'A', 'B', 'C'}
    out_dir : path-like
        Folder for ``table.csv``, ``gains.csv`` (:func:`gain_table`: each method's paired
        gain over the blurred input), ``per_image.csv`` and ``evaluation.json`` (created).
    data_dir : path-like, optional
        A dataset folder (:func:`data.make_dataset`) whose test split is used. Default:
        build the test split of ``make_dataset(recipe=recipe, seed=seed)`` in a temporary
        folder (the paper's 2550 crops; with ``n``, only ``n + 1`` crops, ``n`` of them
        for testing).
    weights : path-like, optional
        A generator (:func:`infer.load_generator`), reported as ``cyclegan``. Default:
        :func:`shipped_weights` if that file exists, else the classical methods only
        (said in the JSON ``note`` and on stdout).
    n : int, optional
        Evaluate only the first ``n`` test images.
    seed : int, optional
        Seed of the dataset and of the bootstrap.
    progress : bool, optional
        Show tqdm progress bars.

    Returns
    -------
    record : dict
        The contents of ``evaluation.json``: config, seed, versions, the data and
        generator used, the note, the table as records and the file paths.

    Raises
    ------
    ValueError
        For an unknown recipe, a bad ``n`` or a data folder of another recipe.
    FileNotFoundError
        If ``weights`` or ``data_dir`` does not exist.
    """
    if recipe not in degrade.RECIPES:
        raise ValueError(f"run_evaluation: recipe must be one of {degrade.RECIPES}, got "
                         f"{recipe!r}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"run_evaluation: n must be a positive integer or None, got {n!r}")
    out_dir = Path(out_dir)
    generators, generator_note = _generators(recipe, weights)
    if not generators:
        print(generator_note["note"])
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="semgan-eval-") as tmp:
        blurred, clean, names, infos, test_set = _test_set(recipe, data_dir, n, seed, tmp,
                                                           progress)
    psf_settings = PSF_SETTINGS if all(info is not None for info in infos) else ("assumed",)
    table, per_image = evaluate_methods(blurred, clean, infos, generators=generators,
                                        psf_settings=psf_settings, names=names, rng=seed,
                                        progress=progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    gains = gain_table(per_image, n_boot=N_BOOT, rng=seed)
    files = {"table": _write_csv(table, out_dir / "table.csv"),
             "gains": _write_csv(gains, out_dir / "gains.csv"),
             "per_image": _write_csv(per_image, out_dir / "per_image.csv")}
    payload = {
        "config": {"recipe": recipe, "n": n, "data_dir": data_dir, "weights": weights,
                   "psf_settings": list(psf_settings), "n_boot": N_BOOT, "ci_level": CI_LEVEL},
        "seed": seed, "versions": results.library_versions(), "recipe": recipe,
        "n_images": len(names), "image_shape": list(blurred[0].shape), "test_set": test_set,
        **generator_note,
        "metric_units": "ssim in [0, 1]; psnr in dB (peak 1); ag, con, sf on 0-255 gray levels",
        "wall_time_s": time.perf_counter() - start,
        "table": table.to_dict("records"), "gains_over_blurred": gains.to_dict("records"),
        "files": files,
    }
    results.write_json(out_dir / "evaluation.json", payload)
    return payload
