"""Which crops a dataset holds: its source images, their split, and the crop plan.

:func:`describe_sources` lists the clean source micrographs (procedural ones from
:mod:`semgan_core.synth`, or every image file of a folder, each one checked) and
:func:`plan_crops` assigns the sources to the test, validation and training splits --
the split is by source image, so no crop of a test source is in training -- and each
crop to a source. :mod:`semgan_core.datasets` then cuts and writes the crops.

Every random draw comes from a NumPy generator seeded with ``[seed, stream, ...]``; the
stream numbers below and the order of the draws are part of the dataset format (the same
options must give byte-identical datasets), so they never change.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from semgan_core import checks, images

#: Image files a source folder may hold (any case); dataset folders hold PNG only.
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp")
CROPS_PER_SOURCE = 8        # default synthetic sources: one per 8 crops
SYNTH_KIND = "mixed"
STREAM_SOURCE, STREAM_PLAN = 0, 1   # seed streams of the source subset and the plan
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
    needed = max(minimum, n_source or 0)
    paths, skipped = _folder_images(source, needed)
    root = Path(source)
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
