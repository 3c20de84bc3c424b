"""Tests of semgan_core.realframes: frame selection, stand-ins, restorers, summary, verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from semgan_core import realdata, realframes, realscore


def test_pick_evenly():
    assert realframes.pick_evenly(range(10), 3) == [0, 4, 9]  # 4.5 rounds to even
    assert realframes.pick_evenly("ab", 5) == ["a", "b"]


def test_select_frames_errors():
    with pytest.raises(ValueError, match="select_frames: unknown subset 'gold'"):
        realframes.select_frames({"gold": 1})
    with pytest.raises(ValueError, match="select_frames: the count of 'ncm' must be an integer"):
        realframes.select_frames({"ncm": 0})


def test_select_frames_reads_whole_frames():
    if realdata.real_data_dir() is None:
        pytest.skip(realdata.missing_reason())
    frames = realframes.select_frames({"sio2": 2, "charging": 1})
    assert [s for s, _ in frames.values()] == ["sio2", "sio2", "charging"]
    assert frames["chafer_example_data"][1].shape == (400, 2000)


def test_select_frames_is_empty_without_real_data(monkeypatch):
    monkeypatch.setattr(realdata, "real_data_dir", lambda: None)
    assert realframes.select_frames({"ncm": 3}) == {}


def test_synthetic_frames_are_seeded_and_noisy():
    a = realframes.synthetic_frames(2, shape=(64, 96), rng=0)
    b = realframes.synthetic_frames(2, shape=(64, 96), rng=0)
    assert list(a) == ["synthetic_0", "synthetic_1"]
    np.testing.assert_array_equal(a["synthetic_1"][1], b["synthetic_1"][1])
    assert a["synthetic_0"][1].shape == (64, 96) and a["synthetic_0"][0] == "synthetic"
    assert realscore.noise_level(a["synthetic_0"][1]) > 0.004


def test_restorers_are_the_classical_methods_then_the_models():
    methods = realframes.restorers(["filter-unpaired-A"])
    assert list(methods) == [*realframes.CLASSICAL, *realframes.NOISE_AWARE, "filter-unpaired-A"]
    assert list(realframes.restorers(noise_aware=False)) == list(realframes.CLASSICAL)
    image = realframes.synthetic_frames(1, shape=(64, 96), rng=1)["synthetic_0"][1]
    for restore in methods.values():
        assert restore(image).shape == image.shape


def _table():
    rows = []
    for frame, (ag_in, ag_out, noise_out) in {"a": (1.0, 2.0, 3.0), "b": (2.0, 3.0, 6.0)}.items():
        rows.append({"frame": frame, "source": "s", "method": "input", "ag": ag_in,
                     "con": 1.0, "sf": 1.0, "edge": 10.0, "edge_matched": 10.0,
                     "noise": 1.0, "reblur": 0.02,
                     "seconds": 0.0})
        rows.append({"frame": frame, "source": "s", "method": "m", "ag": ag_out,
                     "con": 2, "sf": 2 if frame == "a" else 0.5,
                     "edge": 12.0 if frame == "a" else 8.0,
                     "edge_matched": 12.0 if frame == "a" else 8.0, "noise": noise_out,
                     "reblur": 0.01, "seconds": 1.0})
    return pd.DataFrame(rows)


def test_source_table_means_per_source_and_method():
    out = realframes.source_table(_table())
    assert list(out.index) == [("s", "input"), ("s", "m")]
    assert out.loc[("s", "m"), "frames"] == 2 and out.loc[("s", "m"), "ag"] == 2.5


def test_verdict_lines_count_frames_and_compare_with_noise():
    (line,) = realframes.verdict_lines(_table(), ["m"])
    assert line.startswith("**m**: partly confirmed: AG, CON and SF all rise on 1 of 2")
    assert "AG x1.75" in line and "noise x4.50" in line and "do not show" in line
    table = _table()
    table.loc[table["method"] == "m", "noise"] = 1.2         # noise x1.2 against AG x1.75
    assert "clearly less than AG" in realframes.verdict_lines(table, ["m"])[0]
    assert "Edge sharpness (on the lightly smoothed image) x1.00" in line
    assert "rises while the estimated noise does not on 0 of 2 frames" in line
    table.loc[table["method"] == "m", "noise"] = 1.0
    assert "does not on 1 of 2 frames" in realframes.verdict_lines(table, ["m"])[0]
    # the count follows the edges at the input's noise level, not the edges as they are
    table.loc[table["method"] == "m", "edge_matched"] = 11.0
    line = realframes.verdict_lines(table, ["m"])[0]
    assert "x1.00, and x1.10 at the input's noise level" in line
    assert "does not on 2 of 2 frames" in line


def test_noise_aware_wiener_amplifies_less_noise():
    image = realframes.synthetic_frames(1, shape=(96, 128), sigma=0.02, rng=2)["synthetic_0"][1]
    methods = realframes.restorers()
    plain, aware = methods["wiener"](image), methods["wiener-auto"](image)
    assert realscore.noise_level(aware) < 0.5 * realscore.noise_level(plain)


def _frame_factors_script():
    """``scripts/frame_factors.py`` as a module."""
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "frame_factors.py"
    spec = importlib.util.spec_from_file_location("frame_factors", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_frame_factors_script_refuses_bad_arguments_in_one_line(capsys):
    script = _frame_factors_script()
    assert script.main([]) == 2
    assert capsys.readouterr().err.strip() == (
        "frame_factors: error: name at least one model (--model) or file (--weights)")
    assert script.main(["--model", "Q"]) == 2
    assert "unknown model 'Q'" in capsys.readouterr().err
    assert script.main(["--model", "A", "--counts", "ncm"]) == 2
    assert "expected SUBSET=N, got 'ncm'" in capsys.readouterr().err
    assert script.main(["--weights", "weights/unet_restorer_A.keras"]) == 2
    assert "--weights: expected LABEL=PATH, got 'weights/unet_restorer_A.keras'" in (
        capsys.readouterr().err)


def test_frame_factors_script_scores_the_charging_slice(tmp_path, capsys):
    import json

    if realdata.real_data_dir() is None:
        pytest.skip(realdata.missing_reason())
    out = tmp_path / "factors.json"
    assert _frame_factors_script().main(["--model", "filter-unpaired-A", "--counts",
                                         "charging=1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "filter-unpaired-A" in printed and "noise_median" in printed
    saved = json.loads(out.read_text())
    (row,) = saved["factors"]
    assert row["frame"] == "chafer_example_data" and row["source"] == "charging"
    scores = {r["method"]: r for r in saved["scores"]}
    assert row["noise_factor"] == pytest.approx(scores["filter-unpaired-A"]["noise"]
                                                / scores["input"]["noise"])
    assert row["edge_matched_factor"] == pytest.approx(
        scores["filter-unpaired-A"]["edge_matched"] / scores["input"]["edge"])
    assert row["passes"] == (row["noise_factor"] <= 1 and row["edge_matched_factor"] > 1)
    # the filter amplifies the slice's noise: it fails, and the line says by how much
    assert not row["passes"]
    assert ("filter-unpaired-A fails on chafer_example_data (charging): noise x"
            in printed and "at the input's noise level)" in printed)
