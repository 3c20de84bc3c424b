"""The crops of a dataset: its source images, their split, and making each crop.

:func:`describe_sources` lists the clean source micrographs (procedural ones from
:mod:`semgan_core.synth`, or every image file of a folder, each one checked);
:func:`plan_crops` assigns the sources to the test, validation and training splits --
the split is by source image, so no crop of a test source is in training -- and each
crop to a source; :func:`make_crops` cuts each crop (random box, flip and 90-degree
rotation), degrades it (:func:`semgan_core.degrade.degrade`, with SEM noise when asked)
and writes its files, in worker processes for large datasets.
:func:`semgan_core.datasets.make_dataset` is the entry point that calls them.

Every random draw comes from a NumPy generator seeded with ``[seed, stream, ...]``; the
stream numbers below and the order of the draws are part of the dataset format (the same
options must give byte-identical datasets), so they never change.
"""

from __future__ import annotations

import collections
import logging
import math
import os
import shutil
from pathlib import Path

import numpy as np

from semgan_core import checks, degrade, images, synth, workers
from semgan_core.noise import NoiseModel, add_noise

#: Image files a source folder may hold (any case); dataset folders hold PNG only.
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")
CROPS_PER_SOURCE = 8        # default synthetic sources: one per 8 crops
SYNTH_KIND = "mixed"
STREAM_SOURCE, STREAM_PLAN = 0, 1   # seed streams of the source subset and the plan
# role of a crop -> (folder of its blurred image or None, folders of its clean image)
_ROLE_FOLDERS = {"test": ("testA", "testA_gt", "testB"), "val": ("valA", "valA_gt"),
                 "train": ("trainA", "trainA_gt", "trainB"),
                 "A": ("trainA", "trainA_gt"), "B": (None, "trainB")}
_CHUNK = 32                 # crops per worker task
_PARALLEL_FROM = 256        # crops from which make_dataset uses 2 processes by default
_SOURCE_CACHE_BYTES = 256 * 2**20  # procedural sources kept per process (most recent)
_SOURCE_CACHE = collections.OrderedDict()
_STREAM_CROP = 2            # seed stream of a crop's box, flips and degradation
_STREAM_NOISE = 3           # seed stream of a crop's noise level and its clear-domain noise
_CLEAR_FOLDERS = ("trainB", "testB")    # the clear domain: these copies get clear_noise
_log = logging.getLogger("semgan_core.datasets")


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


def describe_sources(source, n_source, n_crops, size, seed, strict, val=False, *,
                     skip_bad=False):
    """Describe the source images (dicts with index, name, shape); check real ones.

    Returns the descriptions and the manifest entries about the source (``"source"``,
    ``"skipped_files"`` when a folder held files that are not images, ``"bad_files"``
    when ``skip_bad`` left unreadable or too small images out).
    """
    minimum = (3 if strict else 2) + int(val)
    if n_source is not None and (not checks.is_int(n_source) or n_source < minimum):
        raise ValueError(f"make_dataset: n_source must be an integer >= {minimum} (source "
                         "images: at least one per split"
                         + (", two for training with strict_unpaired" if strict else "")
                         + f"); leave it out (None) for the default; got {n_source!r}")
    if isinstance(source, str) and source == "synthetic":
        n = max(minimum, math.ceil(n_crops / CROPS_PER_SOURCE)) if n_source is None else n_source
        return [{"index": i, "name": f"synthetic_{i:05d}", "kind": SYNTH_KIND,
                 "entropy": [seed, STREAM_SOURCE, i], "shape": [2 * size, 2 * size]}
                for i in range(n)], {"source": "synthetic"}
    return _folder_sources(Path(source), n_source, max(minimum, n_source or 0), size, seed,
                           skip_bad)


def _folder_sources(root, n_source, needed, size, seed, skip_bad):
    """describe_sources for a folder: check every image, then pick ``n_source``."""
    paths, skipped = _folder_images(root, needed)
    shapes, bad = _check_sources(root, paths, size)
    if bad and not skip_bad:
        raise ValueError(f"make_dataset: source folder {str(root)!r}: "
                         f"{_plural(len(bad), 'bad file')} of {len(paths)}: "
                         + "; ".join(f"{name} ({why})" for name, why in bad)
                         + f"; remove {'it' if len(bad) == 1 else 'them'} or pass "
                         "skip_bad=True (--skip-bad) to use the other images")
    if bad:
        _log.warning("make_dataset: source folder %r: left out %s: %s", str(root),
                     _plural(len(bad), "bad file"), ", ".join(name for name, _ in bad))
        paths = [p for p in paths if p in shapes]
        if len(paths) < needed:
            raise ValueError(f"make_dataset: source folder {str(root)!r} holds "
                             f"{_plural(len(paths), 'good image file')} after leaving out "
                             f"{_plural(len(bad), 'bad file')}; need at least {needed}")
    if n_source is not None:
        keep = np.random.default_rng([seed, STREAM_SOURCE]).choice(len(paths), n_source,
                                                                   replace=False)
        paths = [paths[i] for i in sorted(keep)]
    described = [{"index": i, "name": path.relative_to(root).as_posix(), "path": str(path),
                  "shape": shapes[path]} for i, path in enumerate(paths)]
    info = {"source": str(root), **({"skipped_files": skipped} if skipped else {}),
            **({"bad_files": [name for name, _ in bad]} if bad else {})}
    return described, info


def _check_sources(root, paths, size):
    """Read every source image; return {path: shape} of the good ones and the bad ones.

    A bad one is ``(name relative to root, reason)``: unreadable, or smaller than
    ``size`` once its info bar is removed.
    """
    shapes, bad = {}, []
    for path in paths:
        name = path.relative_to(root).as_posix()
        try:
            shape = list(images.read_image(path, crop_databar=True, min_side=1).shape)
        except (ValueError, OSError) as exc:
            reason = str(exc).replace(f"read_image: {path}", "").lstrip(": ")
            bad.append((name, reason or type(exc).__name__))
            continue
        if min(shape) < size:
            bad.append((name, f"{shape[0]}x{shape[1]} pixels without its info bar, "
                              f"smaller than the crop size {size}"))
            continue
        shapes[path] = shape
    return shapes, bad


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


def plan_crops(sources, n_crops, fractions, seed, strict):
    """Assign sources to splits and crops to sources; return crop dicts sorted by id.

    ``fractions`` is (test_fraction, val_fraction); with val_fraction 0 the random draws
    are exactly those of a dataset without a validation split. Each crop dict has
    ``id``, ``name`` (its file name), ``role`` ('test', 'val', 'train', or 'A' / 'B'
    with ``strict`` unpaired domains) and ``source`` (an index); each source dict gets
    its ``split``.
    """
    rng = np.random.default_rng([seed, STREAM_PLAN])
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


def make_crops(sources, plan, opts, processes, progress):
    """Make and write every crop of ``plan`` (in worker processes when worth it).

    ``opts`` holds ``out`` (the dataset folder, its sub-folders made), ``seed``, ``size``,
    ``degradation``, ``hybrid`` and the noise options of ``make_dataset``; ``processes``
    None chooses 2 from 256 crops on, else 1. Returns the per-image records by file name.
    """
    by_source = {}
    for crop in plan:
        by_source.setdefault(crop["source"], []).append(crop)
    tasks = [(sources[s], chunk[i:i + _CHUNK], opts) for s, chunk in sorted(by_source.items())
             for i in range(0, len(chunk), _CHUNK)]
    if processes is None:
        processes = 2 if len(plan) >= _PARALLEL_FROM else 1
    processes = min(processes, os.cpu_count() or 1, len(tasks))
    records = {}
    for done in workers.run_tasks(_run_task, tasks, processes=processes,
                                  sizes=[len(t[1]) for t in tasks], progress=progress,
                                  desc="make_dataset", unit="crop"):
        records.update(done)
    return records


def _run_task(task):
    """Worker: load (or synthesise) one source and make the given crops of it."""
    source, chunk, opts = task
    if "path" in source:
        image = images.read_image(source["path"], crop_databar=True, min_side=opts["size"])
    else:
        image = _synthesised(tuple(source["shape"]), source["kind"], tuple(source["entropy"]))
    return {crop["name"]: _make_crop(image, crop, opts) for crop in chunk}


def _synthesised(shape, kind, entropy):
    """A procedural source image, made once per process (read-only) while the most
    recent ones fit in :data:`_SOURCE_CACHE_BYTES`: the test sets of several noise
    levels or degradations with one seed share their sources."""
    key = (shape, kind, entropy)
    image = _SOURCE_CACHE.get(key)
    if image is not None:
        _SOURCE_CACHE.move_to_end(key)
        return image
    image, _ = synth.micrograph(shape, kind=kind, rng=np.random.default_rng(entropy))
    image.flags.writeable = False
    _SOURCE_CACHE[key] = image
    while len(_SOURCE_CACHE) > 1 and sum(
            a.nbytes for a in _SOURCE_CACHE.values()) > _SOURCE_CACHE_BYTES:
        _SOURCE_CACHE.popitem(last=False)
    return image


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
    noise, clear_noise, noise_rng = _noise_models(crop, opts)
    record = {"split": crop["role"] if crop["role"] in ("test", "val") else "train",
              "folders": [f for f in (blurred_folder, *clean_folders) if f is not None],
              "source": crop["source"], "box": [y, x, y + size, x + size], "flip": flip,
              "rot90": rot, "degradation": None}
    on_disk = _read(first) if blurred_folder or clear_noise is not None else None
    if blurred_folder is not None:
        extra = {} if noise is None else {"noise": noise}
        blurred, record["degradation"] = degrade.degrade(on_disk, opts["degradation"],
                                                         rng=rng, hybrid=opts["hybrid"],
                                                         **extra)
        images.write_image(out / blurred_folder / crop["name"], blurred)
    if clear_noise is not None:     # replace the clear domain's copies by noisy ones
        noisy = add_noise(on_disk, clear_noise, rng=noise_rng)
        for name in set(clean_folders) & set(_CLEAR_FOLDERS):
            images.write_image(out / name / crop["name"], noisy)
        record["clear_noise"] = clear_noise.to_dict()
    return record


def _noise_models(crop, opts):
    """The noise models of a crop's blurred and clear images (None: none) and the rng."""
    rng = np.random.default_rng([opts["seed"], _STREAM_NOISE, crop["id"]])
    detector = {"read_sigma": opts["read_noise"], "row_sigma": opts["row_noise"]}
    level = opts["noise"]
    if isinstance(level, list):
        level = float(rng.uniform(*level)) if level[0] < level[1] else level[0]
    blurred = None
    if level is not None or detector["read_sigma"] or detector["row_sigma"]:
        blurred = NoiseModel(sigma=level or 0.0, **detector)
    clear = None if opts["clear_noise"] is None else NoiseModel(sigma=opts["clear_noise"],
                                                                **detector)
    return blurred, clear, rng


def _read(path):
    """Read a dataset image (crops may be smaller than ``images.MIN_SIDE``)."""
    return images.read_image(path, min_side=1)
