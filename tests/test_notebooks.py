"""Every book notebook: structure checks, and an execution on the ``smoke`` profile.

The executed copies land in the stage folder named by ``SEMGAN_BOOK_STAGE`` (``make
test`` sets it and then builds the book from those copies, so a broken chapter fails CI);
without it, in a temporary folder. Each notebook records the numbers it reports with
``semgan_core.results.record``; the test checks that they exist, are finite and lie in
the range their name implies (:func:`implausible`: a PSNR in dB, an SSIM, a count, a time,
the paper's no-reference metrics), and a few values that are known exactly.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
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


#: (pattern on the last key of a recorded value, low, high): the range a value of that
#: name can take in any chapter on any profile. PSNR in dB of an 8-bit-like image against
#: its original (identical images are recorded as a large finite number by no chapter);
#: SSIM in [-1, 1]; AG, CON, SF on 0-255 grey levels are non-negative; counts and times
#: non-negative; estimated noise on [0, 1] images below 0.5.
RANGES = (
    (r"^psnr(_mean|_lo|_hi)?$", 3.0, 100.0),
    (r"^ssim(_mean|_lo|_hi)?$", -1.0, 1.0),
    (r"^(ag|con|sf)(_mean|_lo|_hi)?$", 0.0, 1e6),
    (r"(^|_)(std)$", 0.0, 1e6),
    (r"^(n|n_images|n_frames|steps|checkpoints|sample_grids|gpus)$", 0.0, 1e7),
    (r"(seconds|_ms|_s)$|^seconds", 0.0, 1e5),
    (r"^(noise|added_noise)$", 0.0, 0.5),
    (r"^corr_", -1.0, 1.0),
    (r"(_params|params_width_1)$", 1.0, 1e9),
    (r"gflop$", 0.0, 1e4),
)


#: Subtrees of differences (paired gains, one setting minus another): their PSNR and
#: SSIM are differences, not values, and have no range of their own.
DIFFERENCES = re.compile(r"paired|gain|diff|_vs_|delta", re.IGNORECASE)


def _leaves(value, key=""):
    """Yield ``(last key, number)`` for every number in a nested JSON value, outside
    subtrees of differences (:data:`DIFFERENCES`)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not DIFFERENCES.search(str(k)):
                yield from _leaves(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v, key)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield key, float(value)


def implausible(values):
    """``[(key, value, (low, high))]`` for every recorded number outside its name's range,
    and the count of numbers that had a range to check."""
    bad, checked = [], 0
    for key, x in _leaves(values):
        for pattern, low, high in RANGES:
            if re.search(pattern, key.lower()):
                checked += 1
                if not low <= x <= high:
                    bad.append((key, x, (low, high)))
                break
    return bad, checked


#: Values every run of a chapter must record exactly (they do not depend on training).
KNOWN = {
    # the paper's generator at width 1: 8 + 8 layers and 14 Multi blocks (Fig. 1b)
    "02_model_and_losses": {"generator_params_width_1": 73439233},
}


def test_implausible_catches_values_out_of_range():
    assert implausible({"psnr": 25.0, "ssim": 0.9, "n": 4})[0] == []
    bad, checked = implausible({"a": {"psnr": -3.0, "ssim": 1.2}, "rows": [{"sf": -1.0}],
                                "seconds_per_step": -0.1, "noise": 0.9})
    assert {k for k, _, _ in bad} == {"psnr", "ssim", "sf", "seconds_per_step", "noise"}
    assert checked == 5
    assert implausible({"paired_vs_gamma_10": [{"psnr": -0.2, "ssim": 0.001}]}) == ([], 0)


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
    wrong, checked = implausible(payload["values"])
    assert checked, f"{path.name} recorded no number whose plausible range is known"
    assert not wrong, f"{path.name} recorded implausible values: {wrong[:5]}"
    for key, expected in KNOWN.get(path.stem, {}).items():
        assert payload["values"][key] == expected, (key, payload["values"][key])
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
