"""The ``evaluate`` command end to end: one degradation's test set, the generators
shipped for it, every method scored, the tables written to a folder.

The shipped generators live in ``weights/`` as ``filter_unpaired_<degradation>.keras``
(the filter generator trained without pairs by the CPU recipe) and
``filter_paired_<degradation>.keras`` (the same generator trained on the pairs, an upper
bound; :mod:`semgan_core.generators` loads them); their table keys are
``filter-unpaired`` and ``filter-paired`` (:mod:`semgan_core.labels`).
:func:`run_evaluation` scores them with :func:`semgan_core.evaluate.evaluate_methods` on
:func:`semgan_core.evaluate.test_set`.
"""

from __future__ import annotations

import time
from pathlib import Path

from semgan_core import bootstrap, datasets, degrade, generators, results
from semgan_core.checks import check_choice, check_int
from semgan_core.evaluate import PSF_SETTINGS, evaluate_methods, test_set

#: The generators shipped for each degradation, by table key (:mod:`semgan_core.labels`);
#: :func:`semgan_core.generators.shipped_path` finds their files.
SHIPPED_METHODS = ("filter-unpaired", "filter-paired")


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


def _generators(degradation, weights):
    """The generators to evaluate (``{key: model}``, possibly empty) and a note for the
    record. With ``weights`` given, that file alone, under the model key its metadata
    names (:func:`generators.model_name`); without, the shipped generators of
    ``degradation``, where they exist."""
    if weights is not None:
        path = Path(weights)
        key = generators.read_metadata(path)["name"]
        return ({key: generators.load_generator(path)},
                {"weights": str(path), "note": f"generator {key!r} loaded from {path}"})
    found = shipped_generators(degradation)
    if not found:
        expected = generators.shipped_path(f"{SHIPPED_METHODS[0]}-{degradation}")
        return {}, {"weights": None, "note": f"no generator evaluated: the shipped weights "
                    f"{expected} do not exist; classical methods only"}
    return ({row: generators.load_generator(path) for row, path in found.items()},
            {"weights": {row: str(path) for row, path in found.items()},
             "note": "shipped generators " + ", ".join(f"'{r}' from {p}"
                                                       for r, p in found.items())})


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


def run_evaluation(degradation, out_dir, *, data_dir=None, weights=None, n=None, seed=0,
                   progress=True):
    """Evaluate every method on one degradation's test set and write the tables.

    Parameters
    ----------
    degradation : {'A', 'B', 'C'}
    out_dir : path-like
        Folder for ``table.csv``, ``gains.csv`` (:func:`bootstrap.gain_table`: each
        method's paired gain over the blurred input), ``per_image.csv`` and
        ``evaluation.json`` (created).
    data_dir : path-like, optional
        A dataset folder (:func:`datasets.make_dataset`) whose test split is used. Default:
        :func:`test_set` ``(degradation, n=n, seed=seed)``.
    weights : path-like, optional
        A generator file (:func:`generators.save_generator`), reported under the model
        key its metadata names (e.g. ``filter-unpaired``). Default: the shipped
        generators (:func:`shipped_generators`) if there are any, else the classical
        methods only (said in the JSON ``note`` and on stdout).
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
        For an unknown degradation, a bad ``n`` or a data folder of another degradation.
    FileNotFoundError
        If ``weights`` or ``data_dir`` does not exist.
    """
    check_choice("run_evaluation", "degradation", degradation, degrade.DEGRADATIONS)
    if n is not None:
        check_int("run_evaluation", "n", n, low=1)
    out_dir = Path(out_dir)
    generators, generator_note = _generators(degradation, weights)
    if not generators:
        print(generator_note["note"])
    start = time.perf_counter()
    if data_dir is not None:
        blurred, clean, names, infos, described = _folder_test_set(degradation, data_dir, n)
    else:
        blurred, clean, names, infos = test_set(degradation, n=n, seed=seed,
                                                progress=progress)
        described = {"source": "test_set", "seed": seed, "n": n,
                     "note": "evaluate.test_set: the first n test crops of the default "
                             "make_dataset(degradation, seed=seed), held out by source from "
                             "its training split"}
    psf_settings = PSF_SETTINGS if all(info is not None for info in infos) else ("assumed",)
    table, per_image = evaluate_methods(blurred, clean, infos, generators=generators,
                                        psf_settings=psf_settings, names=names, rng=seed,
                                        progress=progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    gains = bootstrap.gain_table(per_image, n_boot=bootstrap.N_BOOT, rng=seed)
    files = {"table": _write_csv(table, out_dir / "table.csv"),
             "gains": _write_csv(gains, out_dir / "gains.csv"),
             "per_image": _write_csv(per_image, out_dir / "per_image.csv")}
    payload = {
        "config": {"degradation": degradation, "n": n, "data_dir": data_dir,
                   "weights": weights, "psf_settings": list(psf_settings),
                   "n_boot": bootstrap.N_BOOT, "ci_level": bootstrap.CI_LEVEL},
        "seed": seed, "versions": results.library_versions(), "degradation": degradation,
        "n_images": len(names), "image_shape": list(blurred[0].shape), "test_set": described,
        **generator_note,
        "metric_units": "ssim in [0, 1]; psnr in dB (peak 1); ag, con, sf on 0-255 gray levels",
        "wall_time_s": time.perf_counter() - start,
        "table": table.to_dict("records"), "gains_over_blurred": gains.to_dict("records"),
        "files": files,
    }
    results.write_json(out_dir / "evaluation.json", payload)
    return payload
