"""Project-level checks: the README's commands, CI, requirements, the book's table of contents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
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


BOOK_SOURCES = sorted([*(ROOT / "book").glob("*.md"), *(ROOT / "notebooks").glob("*.ipynb"),
                       ROOT / "README.md"])


def _text(path):
    if path.suffix == ".ipynb":  # the cells only, not the JSON around them
        import nbformat

        return "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    return path.read_text()


@pytest.mark.parametrize("path", BOOK_SOURCES, ids=lambda p: p.name)
def test_book_carries_its_own_specification(path):
    """No chapter points at a file outside the repository for what it relies on."""
    text = _text(path)
    for outside in ("NOTES.md", "paper.txt", "shared/paper"):
        assert outside not in text, f"{path.name} refers to {outside}, outside the repository"


@pytest.mark.parametrize("path", BOOK_SOURCES, ids=lambda p: p.name)
def test_book_has_no_words_about_how_it_was_made(path):
    found = re.findall(r"\bsessions?\b \d|\(session\b|\bround \d+\b|issue tracker|\btracker\b",
                       _text(path), flags=re.IGNORECASE)
    assert not found, f"{path.name}: {found}"


def test_book_loads_nothing_from_a_cdn():
    """MathJax and the widget manager come from the site's _static folder."""
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert "://" not in sphinx["mathjax_path"]
    assert sphinx["nb_ipywidgets_js"] and not any("://" in url
                                                  for url in sphinx["nb_ipywidgets_js"])
    spec = json.loads((ROOT / "book" / "web_assets.json").read_text())["packages"]
    names = {package["name"] for package in spec}
    assert {"mathjax", "requirejs", "@jupyter-widgets/html-manager"} <= names
    assert all(package["integrity"].startswith("sha512-") for package in spec)


def test_ci_installs_chromium_for_the_browser_check():
    ci = (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "apt-get install" in ci and "chromium" in ci
    assert "tests/test_browser.py" in makefile
