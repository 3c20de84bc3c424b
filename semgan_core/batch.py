"""Restoring many files at once: what ``python -m semgan_core deblur`` does.

:func:`plan` expands the inputs (files, and the image files of folders), names each
output ``OUT/<input name>`` (a JPEG or BMP becomes ``.png``) and checks the whole run
*before* anything is written: an output that would replace any input of the run (same
resolved path, or a hard link to it), or two inputs with the same output, refuse the run
with one line. Outputs that exist already are kept and listed unless ``overwrite``.
:func:`run` then restores the planned files with :func:`semgan_core.infer.deblur_file`,
one line per failure, under a progress bar on stderr.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from semgan_core import crops

#: Output extensions kept from the input; other inputs are written as PNG.
KEPT_SUFFIXES = (".tif", ".tiff", ".png")


@dataclass
class Plan:
    """The files of one run.

    Attributes
    ----------
    jobs : list of (pathlib.Path, pathlib.Path)
        (input, output) pairs to restore, in order.
    skipped : list of pathlib.Path
        Outputs that exist and are kept (not ``overwrite``).
    errors : list of str
        One line per input that does not exist or folder without images.
    """

    jobs: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    errors: list = field(default_factory=list)


def output_path(path, out) -> Path:
    """Where the restoration of ``path`` goes in folder ``out``."""
    path = Path(path)
    suffix = path.suffix if path.suffix.lower() in KEPT_SUFFIXES else ".png"
    return Path(out) / (path.stem + suffix)


def _expand(inputs):
    """(path, error or None) for every input file, folders expanded, in order."""
    for name in inputs:
        path = Path(name)
        if not path.is_dir():
            yield path, None if path.is_file() else f"{path}: no such file or folder"
            continue
        found = crops.list_images(path)  # hidden temporary files left out
        if not found:
            yield path, f"{path}: folder holds no image files"
        yield from ((p, None) for p in found)


def _identity(path):
    """(device, inode) of an existing file, to find hard links; None if missing."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def plan(inputs, out, *, overwrite=False) -> Plan:
    """Plan a run: outputs named and checked against every input before any write.

    Parameters
    ----------
    inputs : list of str or os.PathLike
        Image files and folders (their image files, not sub-folders).
    out : str or os.PathLike
        Output folder (may not exist yet).
    overwrite : bool, optional
        Replace existing outputs (never an input) instead of keeping them.

    Returns
    -------
    plan : Plan

    Raises
    ------
    ValueError
        ``out`` is a file; an output would replace an input of the run; two inputs
        would be written to one output. Nothing is written in any case.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"deblur: --out {out} exists and is not a folder")
    result, found = Plan(), []
    for path, error in _expand(inputs):
        if error is None:
            found.append(path)
        else:
            result.errors.append(error)
    by_path = {p.resolve(): p for p in found}
    by_inode = {_identity(p): p for p in found}
    targets = {}
    for path in found:
        target = output_path(path, out)
        victim = by_path.get(target.resolve()) or by_inode.get(_identity(target))
        if victim is not None:
            raise ValueError(f"deblur: the output {target} of {path} would replace the "
                             f"input {victim}; choose another --out (nothing was written)")
        if target.resolve() in targets:
            raise ValueError(f"deblur: {targets[target.resolve()]} and {path} would both be "
                             f"written to {target}; restore them into separate folders "
                             "(nothing was written)")
        targets[target.resolve()] = path
        if target.exists() and not overwrite:
            result.skipped.append(target)
        else:
            result.jobs.append((path, target))
    return result


def _line(error: str) -> str:
    """A failure as one ``semgan: error:`` line."""
    return "semgan: error: " + " ".join(str(error).split())


def run(model, the_plan: Plan, *, progress=True, **options):
    """Restore the planned files; print one line per file written or failed.

    Parameters
    ----------
    model : keras.Model or callable
        The generator (:func:`semgan_core.generators.load_generator`).
    the_plan : Plan
    progress : bool, optional
        A tqdm progress bar over the files, on stderr.
    **options
        Passed to :func:`semgan_core.infer.deblur_file` (``crop_databar``,
        ``bit_depth``, ``bits``, ``tile``, ``overlap``), already checked.

    Returns
    -------
    written, failed : int, int
    """
    from tqdm.auto import tqdm

    from semgan_core import infer

    for error in the_plan.errors:
        print(_line(error), file=sys.stderr)
    written, failed = 0, len(the_plan.errors)
    with tqdm(the_plan.jobs, desc="deblur", unit="file", file=sys.stderr,
              disable=not progress or not the_plan.jobs) as bar:
        for path, target in bar:
            try:
                infer.deblur_file(model, path, target, **options)
            except (ValueError, TypeError, OSError) as exc:
                message = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
                bar.write(_line(message), file=sys.stderr)
                failed += 1
            else:
                bar.write(f"{path} -> {target}", file=sys.stdout)
                written += 1
    return written, failed
