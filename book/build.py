"""Stage and execute the book: ``python book/build.py --profile book --stage _build/book-src``.

The book is built from a *staged copy* of the repository's book sources so that the
committed notebooks stay free of outputs:

1. ``_config.yml``, ``_toc.yml``, ``book/*.md`` (and figures), the book's CSS
   (``book/_assets``) and Sphinx extension (``book/_ext``) are copied into the stage folder;
2. every ``notebooks/*.ipynb`` is executed by papermill with ``profile=<profile>`` into
   ``<stage>/notebooks/`` (each in its own scratch working folder under
   ``<stage>/work/``; numbers they report go to ``<stage>/results/*.json``);
3. ``jupyter-book build <stage> --path-output <out>`` renders the executed copies
   (Jupyter Book does not execute anything itself: ``execute_notebooks: "off"``).

An executed copy is written under a temporary name and renamed only when the whole
notebook ran, so a failure never leaves a half-executed chapter that looks complete.
Executed copies are tidied for readers (:func:`tidy`): the parameters cells are hidden
and stderr streams (TensorFlow's start-up log, progress bars) are dropped.

The book serves its JavaScript itself, so it reads with the network cut: MathJax 3,
require.js and the Jupyter widget manager are fetched once by ``--fetch-web-assets``
(``make`` runs it; ``npm pack`` of the versions in ``book/web_assets.json``, checked
against their integrity hashes) into ``.venv/web/`` and copied into ``<stage>/_assets/``,
which ``_config.yml`` serves as the site's ``_static`` files.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("smoke", "book", "paper")
WEB_ASSETS = ROOT / "book" / "web_assets.json"
WEB_DIR = ROOT / ".venv" / "web"
# Tags that hide a cell from the rendered chapter (Jupyter Book's remove-cell); the
# parameters cell and the cell papermill injects after it are plumbing, not content,
# and so is the cell that records a chapter's numbers for the tests.
HIDDEN_CELL_TAGS = ("parameters", "injected-parameters")
RECORDING_CALL = "results.record("
# The kernel that executes the chapters: no TensorFlow log lines, no progress bars.
KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "TQDM_DISABLE": "1",
              # a headless MPLBACKEND (Agg, set for tests and make) would stop figures
              # from being embedded in the notebook
              "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


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
    shutil.copytree(ROOT / "book" / "_ext", dest / "_ext", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    assets = dest / "_assets"
    shutil.copytree(ROOT / "book" / "_assets", assets, dirs_exist_ok=True)
    if (WEB_DIR / "assets").is_dir():
        shutil.copytree(WEB_DIR / "assets", assets, dirs_exist_ok=True)
    else:
        print(f"warning: {WEB_DIR / 'assets'} is missing, so the book will have no MathJax "
              "and no widgets offline; run `python book/build.py --fetch-web-assets`",
              file=sys.stderr)
    return dest


def _sri(path: Path) -> str:
    """The ``sha512-...`` integrity string npm records for a tarball."""
    digest = hashlib.sha512(Path(path).read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def fetch_web_assets(dest: Path = WEB_DIR) -> Path:
    """Fetch the book's JavaScript (``book/web_assets.json``) into ``dest/assets``.

    Each package is downloaded with ``npm pack NAME@VERSION`` (npm's cache makes a second
    fetch offline), checked against its recorded integrity hash and unpacked: only the
    files the book serves. Does nothing when ``dest`` already holds the same versions.
    Raises ``RuntimeError`` naming the package when npm fails or a hash differs.
    """
    spec = json.loads(WEB_ASSETS.read_text())["packages"]
    dest = Path(dest)
    stamp = dest / "installed.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == spec:
        return dest / "assets"
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("fetch_web_assets: npm is needed once to fetch MathJax and the "
                           "widget manager (Debian: apt-get install npm)")
    shutil.rmtree(dest / "assets", ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        for package in spec:
            name = f"{package['name']}@{package['version']}"
            done = subprocess.run([npm, "pack", name, "--prefer-offline", "--json",
                                   "--pack-destination", tmp],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"fetch_web_assets: npm pack {name} failed: "
                                   f"{done.stderr.strip()[-500:]}")
            tarball = Path(tmp) / json.loads(done.stdout)[0]["filename"]
            if _sri(tarball) != package["integrity"]:
                raise RuntimeError(f"fetch_web_assets: {name} does not match the integrity "
                                   f"hash in {WEB_ASSETS.name}")
            with tarfile.open(tarball) as archive:
                for member in archive.getmembers():
                    if not member.isfile():
                        continue
                    for prefix, target in package["copy"].items():
                        if not member.name.startswith(prefix):
                            continue
                        rest = member.name[len(prefix):]
                        if any(fnmatch.fnmatch(rest, pattern) for pattern in package["skip"]):
                            continue
                        out = dest / "assets" / (target + rest if prefix.endswith("/") else target)
                        out.parent.mkdir(parents=True, exist_ok=True)
                        out.write_bytes(archive.extractfile(member).read())
    stamp.write_text(json.dumps(spec))
    return dest / "assets"


def tidy(notebook: Path) -> None:
    """Hide plumbing in an executed notebook and drop noise from its outputs, in place.

    The parameters cell, papermill's injected-parameters cell and the cell that records
    the chapter's results get the tag ``remove-cell``; stderr streams (TensorFlow's log lines, progress bars, warnings) are
    removed (errors are ``error`` outputs and stay); papermill's record of the input and
    output paths keeps the file names only, so no path of the building machine remains.
    """
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.setdefault("tags", [])
        hidden = any(tag in tags for tag in HIDDEN_CELL_TAGS) or RECORDING_CALL in cell.source
        if hidden and "remove-cell" not in tags:
            tags.append("remove-cell")
        cell.outputs = [o for o in cell.get("outputs", [])
                        if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    record = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if record.get(key):
            record[key] = Path(record[key]).name
    nbformat.write(nb, notebook)


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
    # The kernel inherits this process's environment (KERNEL_ENV for the run).
    saved = {key: os.environ.get(key) for key in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        pm.execute_notebook(str(notebook), str(tmp), parameters=params, cwd=str(work),
                            kernel_name="python3", execution_timeout=timeout,
                            progress_bar=False)
    except BaseException:
        if tmp.exists():
            os.replace(tmp, out.with_name(f"{notebook.stem}.failed.ipynb"))
        raise
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    tidy(tmp)
    os.replace(tmp, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=PROFILES, default="book")
    parser.add_argument("--stage", default=None, help="stage folder (default _build/<profile>-src)")
    parser.add_argument("--stage-only", action="store_true", help="copy sources, execute nothing")
    parser.add_argument("--only", nargs="*", default=None, help="notebook stems to execute")
    parser.add_argument("--fetch-web-assets", action="store_true",
                        help="fetch MathJax, require.js and the widget manager (npm), then exit")
    args = parser.parse_args(argv)
    if args.fetch_web_assets:
        print(f"web assets in {fetch_web_assets()}")
        return 0
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
