"""Simulated datasets on disk: building them, their manifest, reading their test pairs.

:func:`make_dataset` builds one of the paper's simulated datasets (Methods, "Synthesis
dataset"): random square crops of clean micrographs with random flips and 90-degree
rotations ("data expansion"), degraded by degradation A, B or C of
:mod:`semgan_core.degrade`. Layout of a dataset folder (8-bit PNG; a file name
identifies one clean crop)::

    trainA/     blurred training crops (domain A)
    trainB/     clear training crops (domain B)
    trainA_gt/  the clean originals of trainA (same names); for the paired oracle
                only -- the unpaired models never read it
    testA/      blurred test crops
    testB/      clear test crops (the same crops as testA_gt)
    testA_gt/   the clean originals of testA (same names), for SSIM / PSNR
    valA/       only with ``val_fraction > 0``: blurred validation crops, for choosing a
    valA_gt/    training recipe or a step count without looking at the test split
    manifest.json

The split is by source image (:mod:`semgan_core.crops`): no crop of a test source is in
training, and no crop of a validation source is in training or test. By default both
training domains come from the same clean crops (trainB holds the originals of trainA,
under the same names) and only the input pipeline (:mod:`semgan_core.pipeline`) shuffles
them apart, as in the paper; with ``strict_unpaired`` domain A and domain B are cropped
from disjoint halves of the training sources (each domain still gets
``n_crops - n_test`` crops). With ``test_only`` only the test folders are written -- the
same files as in the full dataset -- which is how an evaluation gets the default
dataset's held-out test crops cheaply.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from semgan_core import checks, crops, degrade, images, results, workers
from semgan_core.crops import IMAGE_SUFFIXES, list_images  # noqa: F401  (public here)

FOLDERS = ("trainA", "trainB", "trainA_gt", "testA", "testB", "testA_gt")
VAL_FOLDERS = ("valA", "valA_gt")   # written only when val_fraction > 0
TEST_FOLDERS = ("testA", "testB", "testA_gt")   # all that ``test_only`` writes
PAIRED_SPLITS = ("train", "val", "test")
FORMAT = "semgan-dataset/2"         # /1 called the degradation "recipe"
_MAX_SIGMA = 0.5            # noise standard deviations are at most this (on [0, 1])
#: Dataset settings of each profile that differ from :func:`make_dataset`'s defaults.
_PROFILE_OPTIONS = {"smoke": {"n_crops": 24, "n_source": 8}, "book": {}, "paper": {}}


def profile_options(profile, **overrides):
    """The dataset settings a profile trains on, as keyword arguments of make_dataset.

    Parameters
    ----------
    profile : {'smoke', 'book', 'paper'}
        ``smoke``: 24 crops of 8 synthetic sources (tests and CI); ``book`` and
        ``paper``: the paper's 2550 crops (:func:`make_dataset`'s defaults).
    **overrides
        Replace some of the returned settings (e.g. ``n_crops=400``).

    Returns
    -------
    options : dict
        ``n_crops``, ``n_source``, ``test_fraction``, ``hybrid`` and ``strict_unpaired``.

    Raises
    ------
    ValueError
        For an unknown profile or an override that is not one of the keys above.

    Examples
    --------
    >>> profile_options("smoke")["n_crops"]
    24
    """
    checks.check_choice("profile_options", "profile", profile, tuple(_PROFILE_OPTIONS))
    options = {"n_crops": 2550, "n_source": None, "test_fraction": 0.1, "hybrid": "random",
               "strict_unpaired": False, **_PROFILE_OPTIONS[profile]}
    unknown = sorted(set(overrides) - set(options))
    if unknown:
        raise ValueError(f"profile_options: unknown option(s) {', '.join(unknown)}; "
                         f"expected some of {', '.join(options)}")
    return {**options, **overrides}


def make_dataset(out, *, degradation="A", source="synthetic", n_source=None, n_crops=2550,
                 test_fraction=0.1, seed=0, strict_unpaired=False, hybrid="random",
                 size=256, progress=True, processes=None, val_fraction=0.0,
                 test_only=False, max_test=None, skip_bad=False, noise=None,
                 clear_noise=None, read_noise=0.0, row_noise=0.0):
    """Build a simulated dataset (degradation A, B or C) in a new folder.

    Parameters
    ----------
    out : path-like
        Dataset folder to create; it must not exist or be empty. The dataset is written
        to a hidden temporary sibling folder renamed into place at the end, so an
        interrupted run leaves no half dataset; the temporary folder of a run that was
        killed is removed by the next run (:func:`semgan_core.workers.partial_folder`).
    degradation : {'A', 'B', 'C'}
        The paper's degradation (:func:`semgan_core.degrade.degrade`).
    source : 'synthetic', 'real' or path-like
        ``'synthetic'``: ``synth.micrograph`` images of ``2 * size`` pixels (kind
        ``'mixed'``). ``'real'``: the shared real clean micrographs
        (:func:`semgan_core.realdata.clean_source_folder`, linked for the build, never
        copied; ``FileNotFoundError`` with the reason when they are not available). A folder: every image file in it, recursively, read with
        ``images.read_image(path, crop_databar=True)``; every image is read once first
        to check it (see ``skip_bad``). Files with other suffixes than
        ``IMAGE_SUFFIXES`` are skipped; a one-line warning (logger
        ``semgan_core.datasets``) says how many, and the manifest lists them.
    n_source : int, optional
        Number of source images, at least 2 (3 with ``strict_unpaired``, one more with a
        validation split); None (the default) means ``max(2, ceil(n_crops / 8))``
        synthetic images, or every image of a folder. A number picks a seeded random
        subset of a folder.
    n_crops : int
        Crops after data expansion (paper: 2550), test crops included.
    test_fraction : float
        Fraction of the crops, and of the source images, held out for testing.
    seed : int
        Seed of everything random; the same seed gives byte-identical images.
    strict_unpaired : bool
        Crop domains A and B of the training split from disjoint source images.
    hybrid : {'random', 'compose'}
        Degradation C: one kernel drawn per image, or all three composed.
    size : int
        Crop side in pixels: a positive multiple of 128 (``checks.SIZE_MULTIPLE``), the
        input sizes the generator accepts.
    progress : bool
        Show a tqdm progress bar.
    processes : int, optional
        Worker processes; default 2 for 256 crops or more, else 1. The result does not
        depend on it. Workers die with this process.
    val_fraction : float, optional
        Fraction of the crops, and of the source images, held out for validation in
        valA/ and valA_gt/ (at least one source and one crop when > 0), taken from the
        sources that would otherwise train. Default 0: no validation split, and the
        dataset is byte-identical to one made before this option existed.
    test_only : bool, optional
        Write only the test split (testA/, testB/, testA_gt/): exactly the files, names
        and bytes that the same call without ``test_only`` writes there. Sources are
        assigned to splits as in the full dataset, so no test crop comes from a source
        that trains a model made from the full dataset with the same options; only the
        sources of the written crops are synthesised. For evaluation on the default
        dataset's test split, e.g. ``make_dataset(out, degradation="B", seed=0,
        test_only=True, max_test=20)``.
    max_test : int, optional
        With ``test_only``: write only the first ``max_test`` test crops by file name
        (those ``load_test_pairs(out, n=max_test)`` loads from the full dataset).
    skip_bad : bool, optional
        With a source folder: leave out the images that cannot be read or are smaller
        than ``size`` (a warning and the manifest's ``"bad_files"`` name them) instead
        of refusing the folder.
    noise : float or (float, float), optional
        SEM noise on the blurred images (:class:`semgan_core.noise.NoiseModel`, added
        after blur and fog): the shot noise's standard deviation at mid-grey (Gaussian
        equivalent, Poisson counts at the dose ``0.5 / noise**2``), in [0, 0.5]; or a
        range ``(low, high)`` from which each image draws its own level uniformly (for
        training over noise levels). None (default): noise-free, as in the paper.
    clear_noise : float, optional
        Shot noise of the clear domain (trainB/, testB/): real clear micrographs are
        noisy too. The ground truth (``*_gt/``) stays noise-free. None (default): none.
    read_noise, row_noise : float, optional
        Standard deviations of white read noise and of scan-line noise (one offset per
        row), in [0, 0.5], added to every image that gets noise: the blurred images,
        and the clear ones when ``clear_noise`` is given.

    Returns
    -------
    manifest : dict
        The contents of ``out/manifest.json``, with a ``"counts"`` dict (images per
        folder, source images per split). Each image's record holds its noise model
        (``degradation["noise"]``, and ``clear_noise`` for a noisy clear copy).

    Raises
    ------
    FileExistsError
        If ``out`` exists and is not an empty folder.
    ValueError, FileNotFoundError
        For invalid options, a missing or empty source folder, or bad source images
        (unreadable, or smaller than ``size``): one message names every bad file.
    """
    if isinstance(source, str) and source == "real":
        from semgan_core import realdata          # the shared real micrographs, linked

        with tempfile.TemporaryDirectory(prefix="semgan-real-sources-") as links:
            return make_dataset(
                out, degradation=degradation,
                source=realdata.clean_source_folder(Path(links) / "sources"),
                n_source=n_source, n_crops=n_crops, test_fraction=test_fraction, seed=seed,
                strict_unpaired=strict_unpaired, hybrid=hybrid, size=size,
                progress=progress, processes=processes, val_fraction=val_fraction,
                test_only=test_only, max_test=max_test, skip_bad=skip_bad, noise=noise,
                clear_noise=clear_noise, read_noise=read_noise, row_noise=row_noise)
    opts = _check_options(degradation, n_crops, test_fraction, seed, hybrid, size,
                          processes, val_fraction)
    _check_flags(test_only, max_test, skip_bad)
    noise_opts = _check_noise(noise, clear_noise, read_noise, row_noise)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"make_dataset: output {str(out)!r} exists and is not an "
                              "empty folder; choose a new folder or delete it")
    val = opts["val_fraction"] > 0
    sources, source_info = crops.describe_sources(source, n_source, n_crops, size, seed,
                                                  strict_unpaired, val, skip_bad=skip_bad)
    plan = crops.plan_crops(sources, n_crops, (test_fraction, opts["val_fraction"]), seed,
                            strict_unpaired)
    folders = FOLDERS + (VAL_FOLDERS if val else ())
    if test_only:   # ids sort like names: the first max_test test crops by file name
        plan = [c for c in plan if c["role"] == "test"][:max_test]
        folders, opts = TEST_FOLDERS, dict(opts, test_only=True, max_test=max_test)
    tmp = workers.partial_folder(out)
    try:
        for name in folders:
            (tmp / name).mkdir()
        work = dict(opts, degradation=degradation, hybrid=hybrid, out=str(tmp), **noise_opts)
        records = crops.make_crops(sources, plan, work, processes, progress)
        manifest = _manifest(dict(opts, **noise_opts), degradation, hybrid, strict_unpaired,
                             source_info, sources, records, folders)
        results.write_json(tmp / "manifest.json", manifest)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _check_options(degradation, n_crops, test_fraction, seed, hybrid, size, processes,
                   val_fraction):
    """Validate make_dataset's scalar options; return the ones the workers need."""
    checks.check_choice("make_dataset", "degradation", degradation, degrade.DEGRADATIONS)
    checks.check_choice("make_dataset", "hybrid", hybrid, degrade.HYBRIDS)
    checks.check_int("make_dataset", "n_crops", n_crops, 2)
    checks.check_int("make_dataset", "seed", seed, 0)
    checks.check_size_multiple("make_dataset", "size", size)
    if processes is not None:
        checks.check_int("make_dataset", "processes", processes, 1)
    if not 0 < test_fraction < 1:
        raise ValueError(f"make_dataset: test_fraction must be in (0, 1), got {test_fraction!r}")
    if not 0 <= val_fraction < 1 - test_fraction:
        raise ValueError(f"make_dataset: val_fraction must be in [0, 1 - test_fraction) = "
                         f"[0, {1 - test_fraction:g}), got {val_fraction!r}")
    if val_fraction > 0 and n_crops < 3:
        raise ValueError(f"make_dataset: a validation split needs n_crops >= 3, got {n_crops}")
    return {"seed": int(seed), "size": int(size), "n_crops": int(n_crops),
            "test_fraction": float(test_fraction), "val_fraction": float(val_fraction)}


def _check_flags(test_only, max_test, skip_bad):
    """Validate ``test_only``, ``max_test`` and ``skip_bad``."""
    for name, value in (("test_only", test_only), ("skip_bad", skip_bad)):
        if not isinstance(value, bool):
            raise ValueError(f"make_dataset: {name} must be True or False, got {value!r}")
    if max_test is not None:
        if not test_only:
            raise ValueError("make_dataset: max_test needs test_only=True")
        checks.check_int("make_dataset", "max_test", max_test, 1)


def _check_noise(noise, clear_noise, read_noise, row_noise):
    """Validate the noise options; return them as the manifest records them."""
    def sigma(name, value):
        if isinstance(value, (str, bytes)):     # float() would accept "0.02"
            raise TypeError(f"make_dataset: {name} must be a number, got {value!r}")
        return checks.check_number("make_dataset", name, value, low=0, high=_MAX_SIGMA)

    if isinstance(noise, (tuple, list)):
        if len(noise) != 2:
            raise ValueError(f"make_dataset: noise must be a number or a (low, high) pair, "
                             f"got {noise!r}")
        noise = [sigma("noise low", noise[0]), sigma("noise high", noise[1])]
        if noise[0] > noise[1]:
            raise ValueError(f"make_dataset: noise range must have low <= high, got {noise!r}")
    elif noise is not None:
        noise = sigma("noise", noise)
    return {"noise": noise,
            "clear_noise": None if clear_noise is None else sigma("clear_noise", clear_noise),
            "read_noise": sigma("read_noise", read_noise),
            "row_noise": sigma("row_noise", row_noise)}


def _manifest(opts, degradation, hybrid, strict, source_info, sources, records, folders):
    """The manifest dict: settings, sources, per-image records, counts, versions."""
    counts = {name: sum(name in r["folders"] for r in records.values()) for name in folders}
    for split in ("train", "test") + (("val",) if opts["val_fraction"] > 0 else ()):
        counts[f"sources_{split}"] = sum(s["split"].startswith(split) for s in sources)
    return {
        "format": FORMAT, "degradation": degradation, "hybrid": hybrid, **opts,
        "strict_unpaired": bool(strict), **source_info,
        "augmentation": "crop box [y0, x0, y1, x1] in the source (info bar removed), "
                        "then left-right flip if flip, then np.rot90(k=rot90)",
        "counts": counts,
        "sources": [{k: v for k, v in s.items() if k != "path"} for s in sources],
        "images": dict(sorted(records.items())),
        "versions": results.library_versions(),
    }


def read_manifest(data_dir):
    """The manifest of a dataset folder as a dict (None if it has no manifest.json).

    A manifest written before the degradation had its own name (key ``"recipe"``)
    comes back with the key ``"degradation"``, as a new one.
    """
    path = Path(data_dir) / "manifest.json"
    if not path.is_file():
        return None
    manifest = json.loads(path.read_text())
    if "degradation" not in manifest and "recipe" in manifest:
        manifest = {("degradation" if k == "recipe" else k): v for k, v in manifest.items()}
    return manifest


def load_test_pairs(data_dir, *, n=None, split="test"):
    """Load the blurred test crops with their clean originals.

    Parameters
    ----------
    data_dir : path-like
        A dataset folder made by :func:`make_dataset`.
    n : int, optional
        Load only the first ``n`` pairs by file name (names are shuffled crop ids, so
        these mix source images). Default: all.
    split : {'test', 'val', 'train'}
        ``'test'`` reads testA/testA_gt, ``'val'`` valA/valA_gt (a dataset made with
        ``val_fraction > 0``; choose training recipes on it, not on the test split),
        ``'train'`` trainA/trainA_gt.

    Returns
    -------
    blurred, clean : ndarray, shape (N, H, W), float32 in [0, 1]
    names : list of str
    infos : list of dict or None
        Each crop's degradation info from the manifest (for
        ``degrade.kernel_from_info``); None when the folder has no manifest.

    Raises
    ------
    ValueError
        For an unknown ``split``, ``n < 1`` or folders that do not hold the same names.
    FileNotFoundError
        If the split's folders are missing (for ``'val'``: the dataset has no
        validation split).
    """
    if n is not None:
        checks.check_int("load_test_pairs", "n", n, 1)
    if split not in PAIRED_SPLITS:
        raise ValueError(f"load_test_pairs: split must be one of {PAIRED_SPLITS}, got {split!r}")
    if split == "val" and not (Path(data_dir) / "valA").is_dir():
        raise FileNotFoundError(f"load_test_pairs: {str(Path(data_dir) / 'valA')!r} not found; "
                                "make the dataset with make_dataset(..., val_fraction=0.1)")
    paths_a, paths_gt = paired_paths(data_dir, f"{split}A", func="load_test_pairs")
    paths_a, paths_gt = paths_a[:n], paths_gt[:n]
    manifest = read_manifest(data_dir) or {"images": {}}
    names = [p.name for p in paths_a]
    # crops may be smaller than images.MIN_SIDE
    both = [*paths_a, *paths_gt]
    both = images.stack([images.read_image(p, min_side=1) for p in both], both,
                        func="load_test_pairs")
    blurred, clean = both[:len(paths_a)], both[len(paths_a):]
    infos = [manifest["images"].get(name, {}).get("degradation") for name in names]
    return blurred, clean, names, infos


def paired_paths(data_dir, folder, *, func):
    """Matching image paths of ``folder`` and ``folder_gt``; errors name ``func``."""
    data_dir = Path(data_dir)
    if not (data_dir / f"{folder}_gt").is_dir():
        raise FileNotFoundError(
            f"{func}: {str(data_dir / (folder + '_gt'))!r} not found; build the dataset with "
            "make_dataset, which writes the clean originals there")
    paths_a = folder_images(data_dir / folder, func=func)
    paths_gt = folder_images(data_dir / f"{folder}_gt", func=func)
    if [p.name for p in paths_a] != [p.name for p in paths_gt]:
        raise ValueError(f"{func}: {folder}/ and {folder}_gt/ in {str(data_dir)!r} do not hold "
                         f"the same file names ({len(paths_a)} and {len(paths_gt)} images)")
    return paths_a, paths_gt


def folder_images(folder, *, func):
    """The images of a dataset sub-folder; an error naming ``func`` if missing or empty."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{func}: folder {str(folder)!r} not found; expected a "
                                "dataset folder made by make_dataset")
    paths = list_images(folder)
    if not paths:
        raise ValueError(f"{func}: folder {str(folder)!r} holds no images")
    return paths
