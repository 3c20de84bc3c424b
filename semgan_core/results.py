"""Result files: JSON that always records the config, the seed and the library versions.

Notebooks and commands call :func:`record` for every number they report, so that tests
can check the numbers a notebook computed (finite, in range) and a reader can trace each
table back to the settings that made it.
"""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from pathlib import Path
from typing import Any


def library_versions() -> dict[str, str]:
    """Versions of Python and of the libraries that shape the numbers."""
    import importlib.metadata as md

    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("semgan_core", "numpy", "scipy", "scikit-image", "tensorflow", "keras",
                 "tifffile"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            if name == "semgan_core":
                from semgan_core import __version__

                versions[name] = __version__
    return versions


def jsonable(value: Any) -> Any:
    """Convert NumPy scalars/arrays, paths and dataclasses to plain JSON values."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    return value


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Write a file atomically: ``write(tmp)`` under a hidden temporary name, then rename.

    Parameters
    ----------
    path : path-like
        The file to write; missing parent folders are made.
    write : callable
        ``write(tmp_path)`` writes the whole file to ``tmp_path`` (same folder).

    Returns
    -------
    path : pathlib.Path

    Notes
    -----
    A failure (or an interrupt) inside ``write`` removes the temporary file and leaves
    any existing ``path`` untouched; the rename itself is atomic on one file system.
    """
    import secrets

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(path: str | os.PathLike, payload: dict) -> Path:
    """Write ``payload`` as JSON atomically (temporary file in the same folder, then rename)."""
    text = json.dumps(jsonable(payload), indent=2, sort_keys=False) + "\n"
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


def record(results_dir: str | os.PathLike, name: str, values: dict, *,
           config: Any = None, seed: int | None = None) -> Path:
    """Record the numbers a notebook or command reports in ``results_dir/name.json``.

    Parameters
    ----------
    results_dir : path-like
        Folder for result files (created if missing).
    name : str
        File stem, usually the notebook's name (``"01_degradation"``).
    values : dict
        The reported numbers (nested dicts and lists allowed).
    config : Config or dict, optional
        The configuration that produced them.
    seed : int, optional
        The seed that produced them.

    Returns
    -------
    path : pathlib.Path
        The JSON file written.
    """
    payload = {
        "name": name,
        "values": values,
        "config": config,
        "seed": seed,
        "versions": library_versions(),
        "argv": sys.argv,
    }
    return write_json(Path(results_dir) / f"{name}.json", payload)
