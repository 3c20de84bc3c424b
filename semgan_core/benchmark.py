"""The ``evaluate`` command end to end: one degradation's test set, the generators
shipped for it, every method scored, the tables written to a folder.

The shipped generators live in ``weights/`` as ``filter_unpaired_<degradation>.keras``
(the filter generator trained without pairs by the CPU recipe) and
``filter_paired_<degradation>.keras`` (the same generator trained on the pairs, an upper
bound; :mod:`semgan_core.generators` loads them); their table keys are
``filter-unpaired`` and ``filter-paired`` (:mod:`semgan_core.labels`).
:func:`run_evaluation` scores them, and any generator file or shipped model given besides,
with :func:`semgan_core.evaluate.evaluate_methods` on :func:`semgan_core.evaluate.test_set`
made from synthetic or real clean images, noise-free or at several SEM noise levels
(:mod:`semgan_core.noiselevels`: one folder of tables per level, ``levels.csv`` and the
figure of PSNR and SSIM against the level).
"""

from __future__ import annotations

import time
from pathlib import Path

from semgan_core import (bootstrap, datasets, degrade, generators, noiselevels, realdata,
                         results)
from semgan_core.checks import check_choice, check_int
from semgan_core.evaluate import PSF_SETTINGS, evaluate_methods, test_set

#: The generators shipped for each degradation, by table key (:mod:`semgan_core.labels`);
#: :func:`semgan_core.generators.shipped_path` finds their files.
SHIPPED_METHODS = ("unet-restorer", "filter-unpaired", "filter-paired")
#: Clean images a built test set can be made from (:func:`evaluate.test_set`).
SOURCES = ("synthetic", "real")


def shipped_generators(degradation):
    """The shipped generator files of a degradation that exist, by table key.

    Parameters
    ----------
    degradation : {'A', 'B', 'C'}

    Returns
    -------
    found : dict of str to pathlib.Path
        ``{"filter-unpaired": path, "filter-paired": path}`` or the part of it that
        is shipped (empty when none is).
    """
    check_choice("shipped_generators", "degradation", degradation, degrade.DEGRADATIONS)
    paths = {method: generators.shipped_path(f"{method}-{degradation}")
             for method in SHIPPED_METHODS}
    return {method: path for method, path in paths.items() if path.is_file()}


#: Generators already loaded in this process, by file (path, size, modification time):
#: the evaluations of one session (several sources or noise levels) load and compile
#: each generator once. :func:`loaded_generator` keeps the most recent ones.
_LOADED: dict = {}
_LOADED_MAX = 12


def loaded_generator(path):
    """:func:`generators.load_generator` ``(path)``, loaded once per process.

    A model scored again (another source, another noise level) is the object loaded the
    first time, with its inference already compiled for the shapes it has seen; a file
    replaced on disk (other size or modification time) is loaded anew. The models are
    for inference: do not train or modify the object returned.

    Parameters
    ----------
    path : path-like
        A generator file (:func:`generators.save_generator`).

    Returns
    -------
    keras.Model
        The model, with the default ensemble of its kind
        (:func:`generators.default_ensemble`).

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`generators.load_generator`.
    """
    path = Path(path).resolve()
    stat = path.stat() if path.is_file() else None
    if stat is None:
        return generators.load_generator(path)  # its one-line error
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _LOADED:
        while len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = generators.load_generator(path)
    return _LOADED[key]


def _given(weights, models):
    """The generator files given (paths by ``--weights``, shipped names by ``--model``),
    each with its table key from its metadata, in the order given."""
    paths = [Path(w) for w in _as_list(weights)]
    paths += [generators.shipped_path(name) for name in _as_list(models)]
    return [(generators.read_metadata(path)["name"], path) for path in paths]


def _as_list(value):
    return [] if value is None else [value] if isinstance(value, (str, Path)) else list(value)


def _generators(degradation, weights=None, models=None):
    """The generators to evaluate (``{key: model}``, possibly empty) and a note for the
    record: the shipped generators of ``degradation`` that exist, then each file given
    (``weights``) and each shipped model named (``models``) under the key its metadata
    names; a file already among them is not repeated, and a key already taken gets the
    file's stem after it."""
    found = shipped_generators(degradation)
    shipped = dict(found)
    for key, path in _given(weights, models):
        if path.resolve() in {p.resolve() for p in found.values()}:
            continue
        found[key if key not in found else f"{key} ({path.stem})"] = path
    if not found:
        expected = generators.shipped_path(f"{SHIPPED_METHODS[0]}-{degradation}")
        return {}, {"weights": None, "note": f"no generator evaluated: the shipped weights "
                    f"{expected} do not exist; classical methods only"}
    parts = {"shipped generators ": [r for r in found if r in shipped],
             "given generators ": [r for r in found if r not in shipped]}
    note = "; ".join(head + ", ".join(f"'{r}' from {found[r]}" for r in rows)
                     for head, rows in parts.items() if rows)
    return ({row: loaded_generator(path) for row, path in found.items()},
            {"weights": {row: str(path) for row, path in found.items()}, "note": note})


def _folder_test_set(degradation, data_dir, n):
    """(blurred, clean, names, infos, description) of a dataset folder's test split."""
    manifest = datasets.read_manifest(data_dir) or {}
    held = manifest.get("degradation", degradation)
    if held != degradation:
        raise ValueError(f"run_evaluation: {data_dir} holds degradation {held}, not "
                         f"{degradation}")
    return (*datasets.load_test_pairs(data_dir, n=n),
            {"source": "folder", "data_dir": str(data_dir), "has_manifest": bool(manifest)})


def _write_csv(frame, path):
    """Write a DataFrame as CSV atomically (temporary name in the same folder, rename)."""
    return results.atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def run_evaluation(degradation, out_dir, *, data_dir=None, weights=None, models=None, n=None,
                   seed=0, noise=None, source="synthetic", progress=True):
    """Evaluate every method on one degradation's test set and write the tables.

    Parameters
    ----------
    degradation : {'A', 'B', 'C'}
    out_dir : path-like
        Folder for ``table.csv``, ``gains.csv`` (:func:`bootstrap.gain_table`: each
        method's paired gain over the blurred input), ``per_image.csv`` and
        ``evaluation.json`` (created). With ``noise``, those files of each level go to
        its sub-folder (:func:`noiselevels.level_folder`, e.g. ``noise-0.02/``) and
        ``out_dir`` gets ``levels.csv`` (:func:`noiselevels.levels_frame`),
        ``evaluation.json`` and, for several levels, ``noise_curves.png``
        (:func:`plotting.noise_curves`).
    data_dir : path-like, optional
        A dataset folder (:func:`datasets.make_dataset`) whose test split is used, as it
        is. Default: :func:`test_set` ``(degradation, n=n, seed=seed, source=source,
        noise=level)``.
    weights : path-like or sequence of them, optional
        Generator files (:func:`generators.save_generator`), each reported under the
        model key its metadata names (e.g. ``unet-cyclegan``; a key already taken gets
        the file's stem after it).
    models : str or sequence of str, optional
        Shipped models by name (:func:`generators.shipped_path`: ``'A'``, or
        ``'filter-unpaired-B'``, ...), evaluated as ``weights`` are.
    n : int, optional
        Evaluate only the first ``n`` test images.
    seed : int, optional
        Seed of the dataset (and its noise) and of the bootstrap.
    noise : float or sequence of float, optional
        Noise levels: the shot noise's standard deviation at mid-grey on [0, 1]
        (:class:`noise.NoiseModel` ``(sigma=level)``), each >= 0. Every level scores the
        same clean crops, its noise drawn from a seed fixed per crop. On a noisy level
        the non-blind baselines run noise-aware (``evaluate_methods(noise_aware=True)``);
        level 0 runs them with the noise-free defaults and gives the numbers of a run
        without ``noise``. None (default): one noise-free evaluation written to
        ``out_dir`` itself.
    source : {'synthetic', 'real'}, optional
        The clean images of the test set: the procedural micrographs, or the shared real
        clean micrographs (:func:`semgan_core.realdata.clean_source_folder`). When those
        are not available, nothing is evaluated: one line saying why is printed and
        returned as ``{"skipped": reason}``.
    progress : bool, optional
        Show tqdm progress bars.

    Returns
    -------
    record : dict
        The contents of ``evaluation.json``. Without ``noise``: config, seed, versions,
        the data and generators used, the note, the table as records and the file paths.
        With ``noise``: the same for the run as a whole, ``levels``, each level's
        ``level_records`` and ``levels_table`` (the long table as records).

    Raises
    ------
    ValueError
        For an unknown degradation or source, a bad ``n``, a bad noise level (negative,
        NaN, above 0.5, repeated), ``noise`` or ``source='real'`` with ``data_dir``, or
        a data folder of another degradation.
    FileNotFoundError
        If a ``weights`` file or ``data_dir`` does not exist.
    """
    check_choice("run_evaluation", "degradation", degradation, degrade.DEGRADATIONS)
    if n is not None:
        check_int("run_evaluation", "n", n, low=1)
    check_choice("run_evaluation", "source", source, SOURCES)
    levels = None if noise is None else noiselevels.check_levels("run_evaluation", noise)
    if data_dir is not None and (levels is not None or source != "synthetic"):
        raise ValueError("run_evaluation: data_dir is evaluated as it is; noise levels and "
                         "source='real' build the test set and cannot be combined with it")
    if source == "real" and realdata.real_data_dir() is None:
        reason = f"skipped the real test set: {realdata.missing_reason()}"
        print(reason)
        return {"skipped": reason}
    out_dir = Path(out_dir)
    gens, generator_note = _generators(degradation, weights, models)
    if not gens:
        print(generator_note["note"])
    run = dict(degradation=degradation, generators=gens, generator_note=generator_note,
               given={"weights": weights, "models": models}, data_dir=data_dir, n=n,
               seed=seed, source=source, progress=progress)
    if levels is None:
        return _evaluate_level(out_dir, None, **run)[0]
    return _evaluate_levels(out_dir, levels, run)


def _evaluate_levels(out_dir, levels, run):
    """Each level into its folder, then levels.csv, the figure and the summary record."""
    start = time.perf_counter()
    records, tables, gains = {}, {}, {}
    for level in levels:
        records[level], tables[level], gains[level] = _evaluate_level(
            out_dir / noiselevels.level_folder(level), level, **run)
    frame = noiselevels.levels_frame(tables, gains)
    files = {"levels": _write_csv(frame, out_dir / "levels.csv")}
    if len(levels) > 1:
        from semgan_core import plotting

        title = (f"degradation {run['degradation']}, {records[levels[0]]['n_images']} "
                 f"{run['source']} test crops")
        fig = plotting.noise_curves(frame, title=title)
        files["noise_curves"] = str(out_dir / "noise_curves.png")
        fig.savefig(files["noise_curves"], dpi=150)
        import matplotlib.pyplot as plt

        plt.close(fig)
    first = records[levels[0]]
    payload = {
        "config": {**{k: v for k, v in first["config"].items() if k != "noise_aware"},
                   "noise": list(levels)},
        "seed": run["seed"], "versions": first["versions"],
        "degradation": run["degradation"], "levels": list(levels),
        "n_images": first["n_images"], "image_shape": first["image_shape"],
        "test_set": {k: v for k, v in first["test_set"].items() if k != "noise"},
        "weights": first["weights"], "note": first["note"],
        "noise_aware": "on noisy levels the non-blind baselines set their parameter from "
                       "each image's estimated noise (evaluate.NOISE_AWARE); level 0 uses "
                       "the noise-free defaults",
        "metric_units": first["metric_units"],
        "wall_time_s": time.perf_counter() - start,
        "level_folders": {f"{x:g}": noiselevels.level_folder(x) for x in levels},
        "levels_table": frame.to_dict("records"), "files": files,
    }
    results.write_json(out_dir / "evaluation.json", payload)
    return payload


def _evaluate_level(out_dir, level, *, degradation, generators, generator_note, given,
                    data_dir, n, seed, source, progress):
    """One evaluation written to ``out_dir``; (record, table, gains). ``level`` None: the
    noise-free evaluation exactly as without noise levels (record included)."""
    start = time.perf_counter()
    if data_dir is not None:
        blurred, clean, names, infos, described = _folder_test_set(degradation, data_dir, n)
    else:
        blurred, clean, names, infos = test_set(degradation, n=n, seed=seed, source=source,
                                                noise=level or 0.0, progress=progress)
        described = {"source": "test_set", "seed": seed, "n": n,
                     "note": "evaluate.test_set: the first n test crops of the default "
                             "make_dataset(degradation, seed=seed), held out by source from "
                             "its training split"}
        if source != "synthetic" or level is not None:
            described.update(clean_images=source, noise=level or 0.0)
    psf_settings = PSF_SETTINGS if all(info is not None for info in infos) else ("assumed",)
    noise_aware = bool(level)
    table, per_image = evaluate_methods(blurred, clean, infos, generators=generators,
                                        psf_settings=psf_settings, names=names, rng=seed,
                                        noise_aware=noise_aware, progress=progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    gains = bootstrap.gain_table(per_image, n_boot=bootstrap.N_BOOT, rng=seed)
    files = {"table": _write_csv(table, out_dir / "table.csv"),
             "gains": _write_csv(gains, out_dir / "gains.csv"),
             "per_image": _write_csv(per_image, out_dir / "per_image.csv")}
    config = {"degradation": degradation, "n": n, "data_dir": data_dir,
              "weights": given["weights"], "psf_settings": list(psf_settings),
              "n_boot": bootstrap.N_BOOT, "ci_level": bootstrap.CI_LEVEL}
    if given["models"] is not None:
        config["models"] = given["models"]
    if source != "synthetic" or level is not None:
        config.update(source=source, noise=level or 0.0, noise_aware=noise_aware)
    payload = {
        "config": config,
        "seed": seed, "versions": results.library_versions(), "degradation": degradation,
        "n_images": len(names), "image_shape": list(blurred[0].shape), "test_set": described,
        **generator_note,
        "metric_units": "ssim in [0, 1]; psnr in dB (peak 1); ag, con, sf on 0-255 gray levels",
        "wall_time_s": time.perf_counter() - start,
        "table": table.to_dict("records"), "gains_over_blurred": gains.to_dict("records"),
        "files": files,
    }
    results.write_json(out_dir / "evaluation.json", payload)
    return payload, table, gains
