"""Datasets on disk: crops, augmentation, the split by source image, tf.data pipelines.

:func:`make_dataset` builds one of the paper's simulated datasets (Methods, "Synthesis
dataset"): random square crops of clean micrographs with random flips and 90-degree
rotations ("data expansion"), degraded by recipe A, B or C of :mod:`semgan_core.degrade`.
Layout of a dataset folder (8-bit PNG; a file name identifies one clean crop)::

    trainA/     blurred training crops (domain A)
    trainB/     clear training crops (domain B)
    trainA_gt/  the clean originals of trainA (same names); for the supervised oracle
                only -- the CycleGAN never reads it
    testA/      blurred test crops
    testB/      clear test crops (the same crops as testA_gt)
    testA_gt/   the clean originals of testA (same names), for SSIM / PSNR
    valA/       only with ``val_fraction > 0``: blurred validation crops, for choosing a
    valA_gt/    recipe or a step count without looking at the test split (clean originals)
    manifest.json

The split is by source image: no crop of a test source is in training, and no crop of a
validation source is in training or test. By default both
training domains come from the same clean crops (trainB holds the originals of trainA,
under the same names) and only the pipeline shuffles them apart, as in the paper; with
``strict_unpaired`` domain A and domain B are cropped from disjoint halves of the
training sources (each domain still gets ``n_crops - n_test`` crops). With ``test_only``
only the test folders are written -- the same files as in the full dataset -- which is
how an evaluation gets the default dataset's held-out test crops cheaply.
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from semgan_core import degrade, images, results, synth

FOLDERS = ("trainA", "trainB", "trainA_gt", "testA", "testB", "testA_gt")
VAL_FOLDERS = ("valA", "valA_gt")   # written only when val_fraction > 0
PAIRED_SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")
TEST_FOLDERS = ("testA", "testB", "testA_gt")   # all that ``test_only`` writes
SIZE_MULTIPLE = 128         # crop sides: multiples of this (models.check_input_size)
CROPS_PER_SOURCE = 8        # default synthetic sources: one per 8 crops
SYNTH_KIND = "mixed"
# role of a crop -> (folder of its blurred image or None, folders of its clean image)
_ROLE_FOLDERS = {"test": ("testA", "testA_gt", "testB"), "val": ("valA", "valA_gt"),
                 "train": ("trainA", "trainA_gt", "trainB"),
                 "A": ("trainA", "trainA_gt"), "B": (None, "trainB")}
_CHUNK = 32                 # crops per worker task
_PARALLEL_FROM = 256        # crops from which make_dataset uses 2 processes by default
_STREAM_SOURCE, _STREAM_PLAN, _STREAM_CROP, _STREAM_BATCH = 0, 1, 2, 10
_log = logging.getLogger(__name__)


def list_images(folder, *, recursive=False):
    """List the image files of a folder, sorted by path.

    Parameters
    ----------
    folder : path-like
        Folder to list.
    recursive : bool, optional
        Also list sub-folders (default False).

    Returns
    -------
    paths : list of pathlib.Path
        Files whose suffix is one of ``IMAGE_SUFFIXES`` (any case); hidden files are
        left out.

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        If ``folder`` does not exist or is not a folder.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"list_images: folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"list_images: {str(folder)!r} is not a folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in found if p.suffix.lower() in IMAGE_SUFFIXES
                  and not p.name.startswith(".") and p.is_file())


def make_dataset(out, *, recipe="A", source="synthetic", n_source=None, n_crops=2550,
                 test_fraction=0.1, seed=0, strict_unpaired=False, hybrid="random",
                 size=256, progress=True, processes=None, val_fraction=0.0,
                 test_only=False, max_test=None):
    """Build a simulated dataset (recipe A, B or C) in a new folder.

    Parameters
    ----------
    out : path-like
        Dataset folder to create; it must not exist or be empty. The dataset is written
        to a temporary sibling folder renamed into place at the end, so an interrupted
        run leaves no half dataset.
    recipe : {'A', 'B', 'C'}
        Degradation recipe (:func:`semgan_core.degrade.degrade`).
    source : 'synthetic' or path-like
        ``'synthetic'``: ``synth.micrograph`` images of ``2 * size`` pixels (kind
        ``'mixed'``). A folder: every image file in it, recursively, read with
        ``images.read_image(path, crop_databar=True)``. Files with other suffixes
        than ``IMAGE_SUFFIXES`` are skipped; a one-line warning (logger
        ``semgan_core.data``) says how many, and the manifest lists them.
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
        Recipe C: one kernel drawn per image, or all three composed.
    size : int
        Crop side in pixels: a positive multiple of 128 (``SIZE_MULTIPLE``), the input
        sizes the generator accepts (``models.check_input_size``).
    progress : bool
        Show a tqdm progress bar.
    processes : int, optional
        Worker processes; default 2 for 256 crops or more, else 1. The result does not
        depend on it.
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
        dataset's test split, e.g. ``make_dataset(out, recipe="B", seed=0,
        test_only=True, max_test=20)``.
    max_test : int, optional
        With ``test_only``: write only the first ``max_test`` test crops by file name
        (those ``load_test_pairs(out, n=max_test)`` loads from the full dataset).

    Returns
    -------
    manifest : dict
        The contents of ``out/manifest.json``, with a ``"counts"`` dict (images per
        folder, source images per split).

    Raises
    ------
    FileExistsError
        If ``out`` exists and is not an empty folder.
    ValueError, FileNotFoundError
        For invalid options, a missing or empty source folder, an unreadable image or a
        source smaller than ``size`` (both name the file).
    """
    opts = _check_options(recipe, n_crops, test_fraction, seed, hybrid, size, processes,
                          val_fraction)
    _check_test_only(test_only, max_test)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"make_dataset: output {str(out)!r} exists and is not an "
                              "empty folder; choose a new folder or delete it")
    val = opts["val_fraction"] > 0
    sources, source_info = _sources(source, n_source, n_crops, size, seed, strict_unpaired, val)
    crops = _plan(sources, n_crops, (test_fraction, opts["val_fraction"]), seed,
                  strict_unpaired)
    folders = FOLDERS + (VAL_FOLDERS if val else ())
    if test_only:   # ids sort like names: the first max_test test crops by file name
        crops = [c for c in crops if c["role"] == "test"][:max_test]
        folders, opts = TEST_FOLDERS, dict(opts, test_only=True, max_test=max_test)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.partial"
    try:
        tmp.mkdir()
        for name in folders:
            (tmp / name).mkdir()
        records = _run(sources, crops, dict(opts, recipe=recipe, hybrid=hybrid, out=str(tmp)),
                       processes, progress)
        manifest = _manifest(opts, recipe, hybrid, strict_unpaired, source_info, sources,
                             records, folders)
        results.write_json(tmp / "manifest.json", manifest)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _check_options(recipe, n_crops, test_fraction, seed, hybrid, size, processes,
                   val_fraction):
    """Validate make_dataset's scalar options; return the ones the workers need."""
    if recipe not in ("A", "B", "C"):
        raise ValueError(f"make_dataset: recipe must be 'A', 'B' or 'C', got {recipe!r}")
    if hybrid not in ("random", "compose"):
        raise ValueError(f"make_dataset: hybrid must be 'random' or 'compose', got {hybrid!r}")
    for name, value, low in (("n_crops", n_crops, 2), ("seed", seed, 0)):
        _check_int("make_dataset", name, value, low)
    if not _is_int(size) or size < 1 or size % SIZE_MULTIPLE:
        raise ValueError(f"make_dataset: size must be a positive multiple of {SIZE_MULTIPLE} "
                         f"(128, 256, 384, ...: the generator's input sizes), got {size!r}")
    if processes is not None:
        _check_int("make_dataset", "processes", processes, 1)
    if not 0 < test_fraction < 1:
        raise ValueError(f"make_dataset: test_fraction must be in (0, 1), got {test_fraction!r}")
    if not 0 <= val_fraction < 1 - test_fraction:
        raise ValueError(f"make_dataset: val_fraction must be in [0, 1 - test_fraction) = "
                         f"[0, {1 - test_fraction:g}), got {val_fraction!r}")
    if val_fraction > 0 and n_crops < 3:
        raise ValueError(f"make_dataset: a validation split needs n_crops >= 3, got {n_crops}")
    return {"seed": int(seed), "size": int(size), "n_crops": int(n_crops),
            "test_fraction": float(test_fraction), "val_fraction": float(val_fraction)}


def _check_test_only(test_only, max_test):
    """Validate ``test_only`` and ``max_test``."""
    if not isinstance(test_only, bool):
        raise ValueError(f"make_dataset: test_only must be True or False, got {test_only!r}")
    if max_test is not None:
        if not test_only:
            raise ValueError("make_dataset: max_test needs test_only=True")
        _check_int("make_dataset", "max_test", max_test, 1)


def _is_int(value):
    """True for a Python or NumPy integer that is not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_int(func, name, value, low):
    """ValueError naming ``func`` unless ``value`` is an integer >= ``low``."""
    if not _is_int(value) or value < low:
        raise ValueError(f"{func}: {name} must be an integer >= {low}, got {value!r}")


def _sources(source, n_source, n_crops, size, seed, strict, val=False):
    """Describe the source images (dicts with index, name, shape); validate real ones.

    Returns the descriptions and the manifest entries about the source ("source", and
    "skipped_files" when a folder held files that are not images).
    """
    minimum = (3 if strict else 2) + int(val)
    if n_source is not None and (not _is_int(n_source) or n_source < minimum):
        raise ValueError(f"make_dataset: n_source must be an integer >= {minimum} (source "
                         "images: at least one per split"
                         + (", two for training with strict_unpaired" if strict else "")
                         + f"); leave it out (None) for the default; got {n_source!r}")
    if isinstance(source, str) and source == "synthetic":
        n = max(minimum, math.ceil(n_crops / CROPS_PER_SOURCE)) if n_source is None else n_source
        return [{"index": i, "name": f"synthetic_{i:05d}", "kind": SYNTH_KIND,
                 "entropy": [seed, _STREAM_SOURCE, i], "shape": [2 * size, 2 * size]}
                for i in range(n)], {"source": "synthetic"}
    paths, skipped = _folder_images(source, max(minimum, n_source or 0))
    root = Path(source)
    if n_source is not None:
        keep = np.random.default_rng([seed, _STREAM_SOURCE]).choice(len(paths), n_source,
                                                                    replace=False)
        paths = [paths[i] for i in sorted(keep)]
    described = []
    for i, path in enumerate(paths):
        shape = list(images.read_image(path, crop_databar=True, min_side=1).shape)
        if min(shape) < size:
            raise ValueError(f"make_dataset: source {str(path)!r} is {shape[0]}x{shape[1]} "
                             f"pixels without its info bar, smaller than the crop size {size}")
        described.append({"index": i, "name": path.relative_to(root).as_posix(),
                          "path": str(path), "shape": shape})
    return described, {"source": str(root), **({"skipped_files": skipped} if skipped else {})}


def _folder_images(source, needed):
    """Image files of a source folder (recursive) and the names of the other files.

    Logs one warning line when files are skipped; ValueError when fewer than ``needed``
    images are left.
    """
    root = Path(source)
    if not root.is_dir():
        raise FileNotFoundError(f"make_dataset: source must be 'synthetic' or a folder of clean "
                                f"micrographs; {str(root)!r} does not exist or is not a folder")
    paths = list_images(root, recursive=True)
    kept = set(paths)
    skipped = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                     if p.is_file() and not p.name.startswith(".") and p not in kept)
    kinds = "/".join(IMAGE_SUFFIXES)
    other = f"{_plural(len(skipped), 'other file')}, e.g. {skipped[0]}" if skipped else ""
    if len(paths) < needed:
        raise ValueError(f"make_dataset: source folder {str(root)!r} holds "
                         f"{_plural(len(paths), 'image file')} ({kinds})"
                         + (f"; skipped {other}" if other else "") + f"; need at least {needed}")
    if skipped:
        _log.warning("make_dataset: source folder %r: skipped %s (not %s)", str(root), other,
                     kinds)
    return paths, skipped


def _plural(n, noun):
    """'1 file', '2 files'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _plan(sources, n_crops, fractions, seed, strict):
    """Assign sources to splits and crops to sources; return crop dicts sorted by id.

    ``fractions`` is (test_fraction, val_fraction); with val_fraction 0 the random draws
    are exactly those of a dataset without a validation split.
    """
    rng = np.random.default_rng([seed, _STREAM_PLAN])
    order = [int(i) for i in rng.permutation(len(sources))]
    n_val_src = n_val = 0
    reserve_src, reserve = (2 if strict else 1), 1
    if fractions[1] > 0:
        n_val_src = min(max(1, round(fractions[1] * len(sources))),
                        len(sources) - reserve_src - 1)
        n_val = min(max(1, round(fractions[1] * n_crops)), n_crops - 2)
    n_test_src = min(max(1, round(fractions[0] * len(sources))),
                     len(sources) - reserve_src - n_val_src)
    n_test = min(max(1, round(fractions[0] * n_crops)), n_crops - reserve - n_val)
    train = order[n_test_src + n_val_src:]
    n_train = n_crops - n_test - n_val
    groups = [("test", order[:n_test_src], n_test)]
    if n_val:
        groups.append(("val", order[n_test_src:n_test_src + n_val_src], n_val))
    if strict:
        half = len(train) // 2
        groups += [("A", train[half:], n_train), ("B", train[:half], n_train)]
    else:
        groups.append(("train", train, n_train))
    plan = []
    for role, members, n in groups:
        counts = np.full(len(members), n // len(members))
        counts[rng.permutation(len(members))[:n % len(members)]] += 1
        for index, count in zip(members, counts):
            sources[index]["split"] = {"A": "trainA", "B": "trainB"}.get(role, role)
            plan += [(role, index)] * int(count)
    ids = rng.permutation(len(plan))
    width = max(5, len(str(len(plan) - 1)))
    return sorted(({"id": int(k), "name": f"{k:0{width}d}.png", "role": role, "source": s}
                   for k, (role, s) in zip(ids, plan)), key=lambda c: c["id"])


def _run(sources, crops, opts, processes, progress):
    """Make every crop (in worker processes when worth it); return records by name."""
    by_source = {}
    for crop in crops:
        by_source.setdefault(crop["source"], []).append(crop)
    tasks = [(sources[s], chunk[i:i + _CHUNK], opts) for s, chunk in sorted(by_source.items())
             for i in range(0, len(chunk), _CHUNK)]
    if processes is None:
        processes = 2 if len(crops) >= _PARALLEL_FROM else 1
    processes = min(processes, os.cpu_count() or 1, len(tasks))
    from tqdm.auto import tqdm

    records = {}
    with tqdm(total=len(crops), disable=not progress, desc="make_dataset", unit="crop") as bar:
        if processes == 1:
            for task in tasks:
                records.update(_run_task(task))
                bar.update(len(task[1]))
            return records
        with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_run_task, task): len(task[1]) for task in tasks}
            try:
                for future in as_completed(futures):
                    records.update(future.result())
                    bar.update(futures[future])
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return records


def _run_task(task):
    """Worker: load (or synthesise) one source and make the given crops of it."""
    source, crops, opts = task
    if "path" in source:
        image = images.read_image(source["path"], crop_databar=True, min_side=opts["size"])
    else:
        image, _ = synth.micrograph(tuple(source["shape"]), kind=source["kind"],
                                    rng=np.random.default_rng(source["entropy"]))
    return {crop["name"]: _make_crop(image, crop, opts) for crop in crops}


def _make_crop(image, crop, opts):
    """Crop, flip, rotate and degrade one crop; write its files; return its record."""
    rng = np.random.default_rng([opts["seed"], _STREAM_CROP, crop["id"]])
    size, (h, w) = opts["size"], image.shape
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    flip, rot = bool(rng.integers(2)), int(rng.integers(4))
    clean = image[y:y + size, x:x + size]
    clean = np.ascontiguousarray(np.rot90(clean[:, ::-1] if flip else clean, rot))
    blurred_folder, *clean_folders = _ROLE_FOLDERS[crop["role"]]
    out = Path(opts["out"])
    # write the clean crop once, copy it, and degrade the 8-bit image that is on disk
    first = images.write_image(out / clean_folders[0] / crop["name"], clean)
    for name in clean_folders[1:]:
        shutil.copyfile(first, out / name / crop["name"])
    info = None
    if blurred_folder is not None:
        blurred, info = degrade.degrade(_read(first), opts["recipe"], rng=rng,
                                        hybrid=opts["hybrid"])
        images.write_image(out / blurred_folder / crop["name"], blurred)
    folders = [f for f in (blurred_folder, *clean_folders) if f is not None]
    split = crop["role"] if crop["role"] in ("test", "val") else "train"
    return {"split": split, "folders": folders,
            "source": crop["source"], "box": [y, x, y + size, x + size], "flip": flip,
            "rot90": rot, "degradation": info}


def _manifest(opts, recipe, hybrid, strict, source_info, sources, records, folders):
    """The manifest dict: settings, sources, per-image records, counts, versions."""
    counts = {name: sum(name in r["folders"] for r in records.values()) for name in folders}
    for split in ("train", "test") + (("val",) if opts["val_fraction"] > 0 else ()):
        counts[f"sources_{split}"] = sum(s["split"].startswith(split) for s in sources)
    return {
        "format": "semgan-dataset/1", "recipe": recipe, "hybrid": hybrid, **opts,
        "strict_unpaired": bool(strict), **source_info,
        "augmentation": "crop box [y0, x0, y1, x1] in the source (info bar removed), "
                        "then left-right flip if flip, then np.rot90(k=rot90)",
        "counts": counts,
        "sources": [{k: v for k, v in s.items() if k != "path"} for s in sources],
        "images": dict(sorted(records.items())),
        "versions": results.library_versions(),
    }


def _read(path):
    """Read a dataset image (crops may be smaller than ``images.MIN_SIDE``)."""
    return images.read_image(path, min_side=1)


def read_manifest(data_dir):
    """The manifest of a dataset folder as a dict (None if it has no manifest.json)."""
    path = Path(data_dir) / "manifest.json"
    return json.loads(path.read_text()) if path.is_file() else None


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
        ``val_fraction > 0``; choose recipes on it, not on the test split), ``'train'``
        trainA/trainA_gt.

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
        _check_int("load_test_pairs", "n", n, 1)
    if split not in PAIRED_SPLITS:
        raise ValueError(f"load_test_pairs: split must be one of {PAIRED_SPLITS}, got {split!r}")
    if split == "val" and not (Path(data_dir) / "valA").is_dir():
        raise FileNotFoundError(f"load_test_pairs: {str(Path(data_dir) / 'valA')!r} not found; "
                                "make the dataset with make_dataset(..., val_fraction=0.1)")
    paths_a, paths_gt = _paired_paths(data_dir, f"{split}A", "load_test_pairs")
    paths_a, paths_gt = paths_a[:n], paths_gt[:n]
    manifest = read_manifest(data_dir) or {"images": {}}
    names = [p.name for p in paths_a]
    blurred = np.stack([_read(p) for p in paths_a])
    clean = np.stack([_read(p) for p in paths_gt])
    infos = [manifest["images"].get(name, {}).get("degradation") for name in names]
    return blurred, clean, names, infos


def _paired_paths(data_dir, folder, func):
    """Matching image paths of ``folder`` and ``folder_gt``; errors name what is wrong."""
    data_dir = Path(data_dir)
    if not (data_dir / f"{folder}_gt").is_dir():
        raise FileNotFoundError(
            f"{func}: {str(data_dir / (folder + '_gt'))!r} not found; build the dataset with "
            "make_dataset, which writes the clean originals there")
    paths_a = _nonempty(data_dir / folder, func)
    paths_gt = _nonempty(data_dir / f"{folder}_gt", func)
    if [p.name for p in paths_a] != [p.name for p in paths_gt]:
        raise ValueError(f"{func}: {folder}/ and {folder}_gt/ in {str(data_dir)!r} do not hold "
                         f"the same file names ({len(paths_a)} and {len(paths_gt)} images)")
    return paths_a, paths_gt


def _nonempty(folder, func):
    """The images of a dataset sub-folder; an error naming it if missing or empty."""
    if not folder.is_dir():
        raise FileNotFoundError(f"{func}: folder {str(folder)!r} not found; expected a "
                                "dataset folder made by make_dataset")
    paths = list_images(folder)
    if not paths:
        raise ValueError(f"{func}: folder {str(folder)!r} holds no images")
    return paths


def epoch_permutation(n, *, seed, epoch, stream=0):
    """The order in which a pipeline visits ``n`` images in one epoch (int64, shape (n,))."""
    return np.random.default_rng([seed, _STREAM_BATCH + stream, epoch]).permutation(n)


def _index_stream(n, *, seed, stream, start):
    """Endless indices: epoch 0's permutation, then epoch 1's, ..., from position ``start``."""
    epoch, position = divmod(start, n)
    while True:
        yield from epoch_permutation(n, seed=seed, epoch=epoch, stream=stream)[position:]
        epoch, position = epoch + 1, 0


def unpaired_dataset(data_dir, *, batch_size=1, seed=0, start_step=0, split="train"):
    """Endless unpaired batches (a, b) from domain A (blurred) and domain B (clear).

    Parameters
    ----------
    data_dir : path-like
        A dataset folder made by :func:`make_dataset`.
    batch_size : int
    seed : int
        Seed of the order; each domain follows its own permutation per epoch, derived
        from (seed, domain, epoch) by :func:`epoch_permutation`.
    start_step : int
        Start at batch ``start_step`` of the stream, without decoding the skipped images:
        the result equals ``unpaired_dataset(...).skip(start_step)``.
    split : {'train', 'test'}
        Read trainA/trainB or testA/testB.

    Returns
    -------
    dataset : tf.data.Dataset
        Yields ``(a, b)``, each float32 of shape (batch_size, H, W, 1) in [-1, 1]
        (``images.to_model_range``). Never ends (use ``.take``).
    """
    if split not in ("train", "test"):
        raise ValueError(f"unpaired_dataset: split must be 'train' or 'test', got {split!r}")
    paths_a = _nonempty(Path(data_dir) / f"{split}A", "unpaired_dataset")
    paths_b = _nonempty(Path(data_dir) / f"{split}B", "unpaired_dataset")
    return _pipeline(data_dir, paths_a, paths_b, batch_size, seed, start_step, paired=False)


def paired_dataset(data_dir, *, batch_size=1, seed=0, start_step=0):
    """Endless paired batches (blurred, clean) from trainA/ and trainA_gt/.

    For the supervised oracle only. Same parameters and properties as
    :func:`unpaired_dataset`, except that one permutation per epoch orders the pairs.
    """
    paths_a, paths_gt = _paired_paths(data_dir, "trainA", "paired_dataset")
    return _pipeline(data_dir, paths_a, paths_gt, batch_size, seed, start_step, paired=True)


def _pipeline(data_dir, paths_a, paths_b, batch_size, seed, start_step, *, paired):
    """tf.data: index stream -> read + decode PNG -> [-1, 1] -> batch -> prefetch."""
    import tensorflow as tf

    func = "paired_dataset" if paired else "unpaired_dataset"
    for name, value, low in (("batch_size", batch_size, 1), ("seed", seed, 0),
                             ("start_step", start_step, 0)):
        _check_int(func, name, value, low)
    for path in paths_a + paths_b:
        if path.suffix.lower() != ".png":
            raise ValueError(f"{func}: expected PNG images, got {str(path)!r}")
    shape = _read(paths_a[0]).shape
    start = int(start_step) * int(batch_size)

    def indices():
        stream_a = _index_stream(len(paths_a), seed=seed, stream=0, start=start)
        stream_b = stream_a if paired else _index_stream(len(paths_b), seed=seed, stream=1,
                                                         start=start)
        for i in stream_a:
            yield (i, i) if paired else (i, next(stream_b))

    table_a = tf.constant([str(p) for p in paths_a])
    table_b = tf.constant([str(p) for p in paths_b])

    def load(table, index):
        image = tf.io.decode_png(tf.io.read_file(tf.gather(table, index)), channels=1)
        image = images.to_model_range(tf.image.convert_image_dtype(image, tf.float32))
        return tf.ensure_shape(image, (*shape, 1))

    spec = tf.TensorSpec((), tf.int64)
    dataset = tf.data.Dataset.from_generator(indices, output_signature=(spec, spec))
    dataset = dataset.map(lambda i, j: (load(table_a, i), load(table_b, j)),
                          num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
