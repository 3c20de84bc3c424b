"""Where the shared real SEM micrographs live.

The real micrographs are made by other people (see ``SOURCES.md`` in their folder) and
are never copied into this repository. They are looked up, in order, at the folder named
by the environment variable ``SEMGAN_REAL_DATA`` and at ``../shared/data/sem-real``
beside the repository. Everything that uses them must still work (or skip with a stated
reason) when neither exists.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "SEMGAN_REAL_DATA"

#: Sub-folders of the shared collection and what they hold.
SUBSETS = {
    "ncm": "ncm-cathode-arim",
    "sio2": "nanoballs-sio2",
    "charging": "okapi-em-charging",
    "amsteel": "msa-amsteel",
}

_SUFFIXES = {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp"}


def real_data_dir() -> Path | None:
    """Return the folder of shared real micrographs, or None when there is none.

    Returns
    -------
    path : pathlib.Path or None
        ``$SEMGAN_REAL_DATA`` if set (it must then exist), else
        ``<repo>/../shared/data/sem-real`` if it exists, else None.

    Raises
    ------
    FileNotFoundError
        If ``SEMGAN_REAL_DATA`` is set to a folder that does not exist.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"{ENV_VAR} points to {str(path)!r}, which is not a folder"
            )
        return path
    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sem-real"
    return default if default.is_dir() else None


def missing_reason() -> str:
    """A one-line reason to print (or give to ``pytest.skip``) when there is no real data."""
    return (
        "no real micrographs: set SEMGAN_REAL_DATA to a folder of SEM images or place "
        "the shared collection at ../shared/data/sem-real"
    )


def list_real_images(subset: str | None = None) -> list[Path]:
    """List the real micrographs, sorted by path.

    Parameters
    ----------
    subset : {'ncm', 'sio2', 'charging', 'amsteel'} or None
        Restrict to one source folder; None lists all of them. Companion files
        (processed outputs, label masks) are left out.

    Returns
    -------
    paths : list of pathlib.Path
        Empty when no real data is available.
    """
    if subset is not None and subset not in SUBSETS:
        raise ValueError(
            f"list_real_images: unknown subset {subset!r}; expected one of {sorted(SUBSETS)}"
        )
    root = real_data_dir()
    if root is None:
        return []
    folders = [root / SUBSETS[subset]] if subset else [root]
    paths = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.suffix.lower() in _SUFFIXES and not path.stem.endswith(
                ("_label", "_chaferfiltered")
            ):
                paths.append(path)
    return sorted(paths)


#: The sub-folders whose micrographs serve as *clean* sources for simulated datasets:
#: the NCM cathode and SiO2 nanoball images (the charging example is itself degraded, and
#: the steel image is a single field).
CLEAN_SUBSETS = ("ncm", "sio2")


def clean_source_folder(dest, subsets=CLEAN_SUBSETS) -> Path:
    """A folder of links to the real micrographs of ``subsets``, for ``make_dataset(source=)``.

    The images are linked, never copied (they are other people's work and stay in their
    folder). Link names keep the sub-folder path (``ncm-cathode-arim__523__x.jpg``).

    Parameters
    ----------
    dest : path-like
        Folder to create (or reuse); it must not hold other files.
    subsets : sequence of str
        Keys of :data:`SUBSETS`.

    Returns
    -------
    dest : pathlib.Path

    Raises
    ------
    FileNotFoundError
        When no real data is available (:func:`missing_reason`).
    """
    root = real_data_dir()
    if root is None:
        raise FileNotFoundError(f"clean_source_folder: {missing_reason()}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for subset in subsets:
        for path in list_real_images(subset):
            link = dest / "__".join(path.relative_to(root).parts)
            if not link.exists():
                link.symlink_to(path.resolve())
    return dest
