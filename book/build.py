"""Stage and execute the book: ``python book/build.py --profile book --stage _build/book-src``.

The book is built from a *staged copy* of the repository's book sources so that the
committed notebooks stay free of outputs:

1. ``_config.yml``, ``_toc.yml`` and ``book/*.md`` are copied into the stage folder;
2. every ``notebooks/*.ipynb`` is executed by papermill with ``profile=<profile>`` into
   ``<stage>/notebooks/`` (each in its own scratch working folder under
   ``<stage>/work/``; numbers they report go to ``<stage>/results/*.json``);
3. ``jupyter-book build <stage> --path-output <out>`` renders the executed copies
   (Jupyter Book does not execute anything itself: ``execute_notebooks: "off"``).

An executed copy is written under a temporary name and renamed only when the whole
notebook ran, so a failure never leaves a half-executed chapter that looks complete.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("smoke", "book", "paper")


def notebooks() -> list[Path]:
    """The book's notebooks, in chapter order (by file name)."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def stage(dest: Path) -> Path:
    """Copy the book's configuration and Markdown chapters into ``dest``."""
    dest = Path(dest).resolve()
    (dest / "book").mkdir(parents=True, exist_ok=True)
    (dest / "notebooks").mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(ROOT / name, dest / name)
    for path in (ROOT / "book").iterdir():
        if path.suffix in (".md", ".png", ".svg", ".bib") and path.is_file():
            shutil.copy2(path, dest / "book" / path.name)
    return dest


def execute(notebook: Path, dest: Path, *, profile: str, timeout: int = 3600) -> Path:
    """Execute one notebook with papermill into ``dest/notebooks/<name>``.

    Returns the executed copy. Raises ``papermill.PapermillExecutionError`` (with the
    failing cell) if the notebook fails; the failed copy is kept as ``<name>.failed.ipynb``.
    """
    import papermill as pm

    dest = Path(dest).resolve()
    out = dest / "notebooks" / notebook.name
    tmp = out.with_name(f".{notebook.stem}.running.ipynb")
    work = dest / "work" / notebook.stem
    work.mkdir(parents=True, exist_ok=True)
    # relative to the kernel's working folder (work/<stem>), so the rendered parameters
    # cell shows no machine-specific path
    params = {"profile": profile, "results_dir": "../../results"}
    # The kernel inherits this process's environment: a headless MPLBACKEND (Agg, set
    # for tests and make) would stop figures from being embedded in the notebook.
    saved_backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        pm.execute_notebook(str(notebook), str(tmp), parameters=params, cwd=str(work),
                            kernel_name="python3", execution_timeout=timeout,
                            progress_bar=False)
    except BaseException:
        if tmp.exists():
            os.replace(tmp, out.with_name(f"{notebook.stem}.failed.ipynb"))
        raise
    finally:
        if saved_backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved_backend
    os.replace(tmp, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=PROFILES, default="book")
    parser.add_argument("--stage", default=None, help="stage folder (default _build/<profile>-src)")
    parser.add_argument("--stage-only", action="store_true", help="copy sources, execute nothing")
    parser.add_argument("--only", nargs="*", default=None, help="notebook stems to execute")
    args = parser.parse_args(argv)
    dest = stage(Path(args.stage or ROOT / "_build" / f"{args.profile}-src"))
    if args.stage_only:
        print(f"staged book sources in {dest}")
        return 0
    for nb in notebooks():
        if args.only and nb.stem not in args.only:
            continue
        start = time.perf_counter()
        print(f"executing {nb.name} (profile={args.profile}) ...", flush=True)
        execute(nb, dest, profile=args.profile)
        print(f"  done in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
