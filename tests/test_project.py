"""Project-level checks: the README's commands, CI, requirements, the book's table of contents."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in ci
    assert "make test" in readme and "make book" in readme


def test_requirements_pin_tensorflow_and_jupyter_book_1():
    req = (ROOT / "requirements.txt").read_text()
    assert "tensorflow==2.21" in req
    assert "jupyter-book>=1,<2" in req


def _toc_files(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root"):
                yield value
            else:
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def test_toc_lists_every_notebook_and_every_file_exists():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = list(_toc_files(toc))
    for entry in files:
        candidates = [ROOT / f"{entry}{ext}" for ext in ("", ".md", ".ipynb")]
        assert any(p.is_file() for p in candidates), f"_toc.yml names missing {entry}"
    notebooks = {f"notebooks/{p.stem}" for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert notebooks <= set(files), f"notebooks missing from _toc.yml: {notebooks - set(files)}"


def test_book_does_not_execute_notebooks_itself():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"


def test_no_real_data_copied_into_the_repository():
    suffixes = {".tif", ".tiff", ".jpg", ".jpeg", ".bmp"}
    found = [p for p in ROOT.rglob("*") if p.suffix.lower() in suffixes
             and not any(part in (".venv", "_build", ".git") for part in p.parts)]
    assert not found, f"image files in the repository: {found[:5]}"
