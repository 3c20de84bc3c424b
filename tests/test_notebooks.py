"""Every book notebook: structure checks, and an execution on the ``smoke`` profile.

The executed copies land in the stage folder named by ``SEMGAN_BOOK_STAGE`` (``make
test`` sets it and then builds the book from those copies, so a broken chapter fails CI);
without it, in a temporary folder. Each notebook records the numbers it reports with
``semgan_core.results.record``; the test checks that they exist and are finite.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _builder():
    spec = importlib.util.spec_from_file_location("book_build", ROOT / "book" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _numbers(value):
    """Yield every number in a nested JSON value (strings 'nan'/'inf' count as numbers)."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, bool):
        return
    elif isinstance(value, (int, float)):
        yield float(value)
    elif isinstance(value, str) and value.lower() in ("nan", "inf", "-inf"):
        yield float(value)


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3, [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_structure(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    assert "parameters" in code[0].metadata.get("tags", []), (
        f"{path.name}: the first code cell must be tagged 'parameters'")
    assert "profile" in code[0].source and "results_dir" in code[0].source
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.lstrip().startswith("#")
    for cell in code:
        assert not cell.get("outputs"), f"{path.name} is committed with outputs"
        assert cell.get("execution_count") is None, f"{path.name} has execution counts"
        for line in cell.source.splitlines():
            assert not line.lstrip().startswith(("def ", "class ")), (
                f"{path.name}: definitions belong in semgan_core, not in notebooks")


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_smoke(path, tmp_path):
    stage_dir = Path(os.environ.get("SEMGAN_BOOK_STAGE") or tmp_path / "stage")
    build = _builder()
    build.stage(stage_dir)
    build.execute(path, stage_dir, profile="smoke", timeout=900)
    executed = nbformat.read(stage_dir / "notebooks" / path.name, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    figures = [o for c in executed.cells if c.cell_type == "code"
               for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert figures, f"{path.name} embedded no figures (is MPLBACKEND leaking into the kernel?)"
    result_file = stage_dir / "results" / f"{path.stem}.json"
    assert result_file.exists(), f"{path.name} recorded no results ({result_file})"
    payload = json.loads(result_file.read_text())
    assert payload["values"], f"{path.name} recorded an empty result"
    numbers = list(_numbers(payload["values"]))
    assert numbers, f"{path.name} recorded no numbers"
    bad = [x for x in numbers if not math.isfinite(x)]
    assert not bad, f"{path.name} recorded non-finite numbers: {bad[:5]}"
    assert payload["versions"]["python"]


def test_tidy_hides_plumbing_and_drops_noise(tmp_path):
    """Executed copies: parameters and recording cells hidden, stderr (TF logs, progress
    bars) dropped."""
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    nb = new_notebook(cells=[
        new_code_cell("profile = 'book'", metadata={"tags": ["parameters"]}),
        new_code_cell("profile = 'smoke'", metadata={"tags": ["injected-parameters"]}),
        new_code_cell("recorded = results.record(results_dir, 'x', {})"),
        new_code_cell("train()", outputs=[
            new_output("stream", name="stderr", text="100%|####| 6/6 [00:01<00:00]\n"),
            new_output("stream", name="stdout", text="done\n"),
            new_output("error", ename="ValueError", evalue="bad", traceback=[])]),
    ], metadata={"papermill": {"input_path": "/abs/notebooks/x.ipynb",
                               "output_path": "/abs/stage/x.ipynb"}})
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    _builder().tidy(path)
    tidied = nbformat.read(path, as_version=4)
    assert "remove-cell" in tidied.cells[0].metadata["tags"]
    assert "remove-cell" in tidied.cells[1].metadata["tags"]
    assert "remove-cell" in tidied.cells[2].metadata["tags"]  # the results-recording cell
    assert "remove-cell" not in tidied.cells[3].metadata.get("tags", [])
    kinds = [(o.output_type, o.get("name")) for o in tidied.cells[3].outputs]
    assert kinds == [("stream", "stdout"), ("error", None)]
    assert tidied.metadata["papermill"]["input_path"] == "x.ipynb"


def test_kernel_environment_silences_tensorflow_and_progress_bars():
    env = _builder().KERNEL_ENV
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3" and env["TQDM_DISABLE"] == "1"
