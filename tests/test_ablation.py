"""Tests of semgan_core.ablation: the resumable sweep, its table, edge maps and verdicts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from semgan_core import ablation, ablation_report, datasets, train

SMALL = {"image_size": 128, "checkpoint_every": 1, "sample_every": 0, "log_every": 1}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("ablation") / "data"
    datasets.make_dataset(out, degradation="A", n_crops=16, n_source=6, size=128, seed=0,
                          val_fraction=0.2, test_fraction=0.2, progress=False, processes=1)
    return out


def test_settings_spell_out_every_edge_option():
    assert set(ablation.GAMMAS) <= set(ablation.SETTINGS)
    for overrides in ablation.SETTINGS.values():
        assert set(overrides) == {"gamma_edge", "edge_operator", "edge_reference"}
    assert ablation.SETTINGS["gamma-0"]["gamma_edge"] == 0.0
    assert ablation.SETTINGS["literal"]["edge_reference"] == "paper"
    assert ablation.SETTINGS["kirsch"]["edge_operator"] == "kirsch"


def test_sweep_trains_scores_and_resumes(data_dir, tmp_path, monkeypatch):
    settings = {k: ablation.SETTINGS[k] for k in ("gamma-0", "kirsch")}
    calls = []
    real_train = train.train

    def counting_train(cfg, **kwargs):
        calls.append((cfg.gamma_edge, cfg.edge_operator, cfg.seed))
        if len(calls) == 2:        # the sweep is interrupted during its second run
            raise KeyboardInterrupt("stopped")
        return real_train(cfg, **kwargs)

    monkeypatch.setattr(train, "train", counting_train)
    options = dict(profile="smoke", seeds=(0,), steps=1, out_dir=tmp_path, common=SMALL,
                   n_eval=2)
    with pytest.raises(KeyboardInterrupt):
        ablation.run_sweep(data_dir, settings, **options)
    record = json.loads((tmp_path / "gamma-0" / "seed0" / ablation.RUN_FILE).read_text())
    assert record["setting"] == "gamma-0" and record["config"]["gamma_edge"] == 0.0
    runs = ablation.run_sweep(data_dir, settings, **options)  # continues where it stopped
    assert calls == [(0.0, "sobel", 0), (10.0, "kirsch", 0), (10.0, "kirsch", 0)]
    assert list(runs["setting"]) == ["gamma-0", "kirsch"]
    assert list(runs["resumed"]) == [True, False]
    assert np.isfinite(runs[["psnr", "ssim", "edge_error", "seconds_per_step"]].to_numpy()).all()
    again = ablation.run_sweep(data_dir, settings, **options)
    assert len(calls) == 3 and again["resumed"].all()
    pd.testing.assert_frame_equal(again.drop(columns="resumed"), runs.drop(columns="resumed"))
    assert ablation.run_generator(runs, "kirsch", 0).output_shape[-1] == 1
    test = ablation.score_on_test(runs, "kirsch", data_dir)
    assert list(test["seed"]) == [0, -1] and np.isfinite(test["psnr"]).all()


def test_sweep_in_two_processes_gives_the_runs_of_one(data_dir, tmp_path):
    settings = {k: ablation.SETTINGS[k] for k in ("gamma-0", "kirsch")}
    options = dict(profile="smoke", seeds=(0,), steps=2, common=SMALL, n_eval=2)
    two = ablation.run_sweep(data_dir, settings, out_dir=tmp_path / "two", processes=2,
                             **options)
    one = ablation.run_sweep(data_dir, settings, out_dir=tmp_path / "one", **options)
    assert list(two["setting"]) == ["gamma-0", "kirsch"] and not two["resumed"].any()
    for column in ("psnr", "ssim", "edge_error"):  # the same seeded runs, other processes
        np.testing.assert_allclose(two[column], one[column], rtol=0, atol=1e-3)
    for name in settings:
        record = json.loads((tmp_path / "two" / name / "seed0" / ablation.RUN_FILE).read_text())
        assert record["setting"] == name and record["steps"] == 2
    again = ablation.run_sweep(data_dir, settings, out_dir=tmp_path / "two", processes=2,
                               **options)
    assert again["resumed"].all()
    with pytest.raises(ValueError, match="run_sweep: processes must be"):
        ablation.run_sweep(data_dir, settings, out_dir=tmp_path / "x", processes=0, **options)


def test_sweep_refuses_a_run_folder_with_another_config(data_dir, tmp_path):
    options = dict(profile="smoke", seeds=(0,), steps=1, out_dir=tmp_path, n_eval=2)
    ablation.run_sweep(data_dir, {"x": ablation.SETTINGS["gamma-0"]}, common=SMALL, **options)
    with pytest.raises(ValueError, match="run_sweep: .*holds a run with another configuration"):
        ablation.run_sweep(data_dir, {"x": ablation.SETTINGS["kirsch"]}, common=SMALL,
                           **options)


def test_sweep_argument_errors(data_dir, tmp_path):
    options = dict(profile="smoke", steps=1, out_dir=tmp_path)
    with pytest.raises(ValueError, match="run_sweep: settings must be a non-empty dict"):
        ablation.run_sweep(data_dir, {}, seeds=(0,), **options)
    with pytest.raises(ValueError, match="run_sweep: setting names must be non-empty"):
        ablation.run_sweep(data_dir, {"a/b": {}}, seeds=(0,), **options)
    with pytest.raises(ValueError, match=r"run_sweep: 'x' sets \['seed'\], which the sweep"):
        ablation.run_sweep(data_dir, {"x": {"seed": 3}}, seeds=(0,), **options)
    with pytest.raises(ValueError, match="run_sweep: seeds must name at least one seed"):
        ablation.run_sweep(data_dir, {"x": {}}, seeds=(), **options)


def test_edge_difference_marks_invented_and_missing_edges():
    clean = np.zeros((1, 32, 32), np.float32)
    clean[:, :, 16:] = 1.0
    flat = np.full_like(clean, 0.5)
    diff = ablation.edge_difference(flat, clean)
    assert diff.shape == clean.shape and diff[0, 10, 15] < -3     # the step is missing
    ringing = clean.copy()
    ringing[:, :, 8] = 0.5
    assert ablation.edge_difference(ringing, clean)[0, 10, 9] > 1  # an edge that is not there
    assert ablation.edge_error(clean, clean) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="edge_difference: restored and clean must have one"):
        ablation.edge_difference(clean, clean[:, :16])


def test_t_interval_matches_the_t_distribution():
    lo, hi = ablation_report.t_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / np.sqrt(3)           # t(0.975, 2) * sd / sqrt(n)
    assert (lo, hi) == pytest.approx((2 - half, 2 + half))
    with pytest.raises(ValueError, match="t_interval: need at least 2 values, got 1"):
        ablation_report.t_interval([1.0])


def _runs(values):
    """Runs of settings -> (psnr per seed, ssim per seed, edge error per seed, s/step)."""
    rows = []
    for name, (psnr, ssim, edge, sps) in values.items():
        for seed, (p, s, e) in enumerate(zip(psnr, ssim, edge)):
            rows.append({"setting": name, "seed": seed, "psnr": p, "ssim": s,
                         "edge_error": e, "seconds_per_step": sps})
    return pd.DataFrame(rows)


def test_summary_and_verdicts():
    runs = _runs({"gamma-0": ([20, 20.1, 19.9], [0.8, 0.81, 0.79], [2, 2.1, 1.9], 0.05),
                  "gamma-5": ([21, 21.1, 20.9], [0.9, 0.91, 0.89], [1, 1.1, 0.9], 0.06),
                  "gamma-10": ([22, 22.1, 21.9], [0.85, 0.86, 0.84], [1, 1.1, 0.9], 0.06),
                  "kirsch": ([22, 22.2, 21.8], [0.85, 0.86, 0.84], [1, 1.1, 0.9], 0.08)})
    summary = ablation_report.summary_table(runs)
    assert list(summary.index) == ["gamma-0", "gamma-5", "gamma-10", "kirsch"]
    assert summary.loc["gamma-10", "psnr"] == pytest.approx(22.0)
    assert summary.loc["gamma-10", "psnr_lo"] < 22 < summary.loc["gamma-10", "psnr_hi"]
    claim4, claim5, claim6 = ablation_report.verdict_lines(runs, operator_times={
        "sobel": 0.001, "kirsch": 0.002})
    assert "partly confirmed" in claim4 and "PSNR peaks at gamma-10" in claim4
    assert "SSIM at gamma-5" in claim4 and "gamma-10 minus the SSIM peak: -0.0500" in claim4
    assert claim4.endswith("gamma-10 is below the peak.")
    assert "Claim 5" in claim5 and ": confirmed" in claim5
    assert ": confirmed" in claim6 and "Sobel 1.00 ms, Kirsch 2.00 ms" in claim6
    assert "gamma-10 and kirsch beat(s) it" in claim6


def test_paired_difference_removes_the_seed_spread():
    # every seed of b is 0.1 above a's: the unpaired intervals overlap, the paired one not
    runs = _runs({"a": ([20.0, 21.0, 22.0], [0.8] * 3, [1.0] * 3, 0.1),
                  "b": ([20.1, 21.1, 22.1], [0.8] * 3, [1.0] * 3, 0.1)})
    mean, lo, hi, n = ablation_report.paired_difference(runs, "b", "a", "psnr")
    assert n == 3 and mean == pytest.approx(0.1) and lo == pytest.approx(0.1)
    table = ablation_report.paired_table(runs, reference="a")
    assert list(table.index) == ["b"] and table.loc["b", "psnr"] == pytest.approx(0.1)
    assert ablation_report.paired_difference(runs, "a", "missing", "psnr")[3] == 0


def test_verdicts_without_the_settings():
    runs = _runs({"kirsch": ([1, 2], [0.1, 0.2], [1, 2], 0.1)})
    assert all("not judged" in line for line in ablation_report.verdict_lines(runs))


def test_score_on_test_refuses_an_unknown_setting(data_dir):
    runs = pd.DataFrame({"setting": ["a"], "seed": [0], "run_dir": ["x"]})
    with pytest.raises(ValueError, match="score_on_test: no runs of setting 'b'"):
        ablation.score_on_test(runs, "b", data_dir)


def test_operator_seconds_is_positive():
    assert ablation.operator_seconds("sobel", size=32, repeats=2) > 0


def test_table_markdown_bolds_the_best_and_names_the_options():
    runs = _runs({"gamma-0": ([20, 20.2], [0.8, 0.82], [2, 2.2], 0.05),
                  "kirsch": ([22, 22.2], [0.7, 0.72], [1, 1.2], 0.08)})
    text = ablation_report.table_markdown(ablation_report.summary_table(runs))
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].startswith("| setting | gamma | operator")
    assert lines[2].startswith("| gamma-0 | 0.0 | sobel | input | 2 | 20.10 [")
    assert "**0.8100 [" in lines[2] and "**22.10 [" in lines[3] and "**1.1000 [" in lines[3]


def test_gamma_figure_draws_the_gamma_settings():
    runs = _runs({g: ([20 + i, 20.5 + i], [0.8, 0.81], [1, 1.1], 0.05)
                  for i, g in enumerate(ablation.GAMMAS)})
    fig = ablation_report.gamma_figure(ablation_report.summary_table(runs),
                                       reference={"psnr": 19.0, "ssim": 0.7})
    x = fig.axes[0].lines[0].get_xdata()
    assert list(x) == [0.0, 2.5, 5.0, 10.0, 20.0]


def test_run_generator_refuses_an_unknown_run():
    runs = pd.DataFrame({"setting": ["a"], "seed": [0], "run_dir": ["x"]})
    with pytest.raises(ValueError, match="run_generator: no run of setting 'a' with seed 1"):
        ablation.run_generator(runs, "a", 1)


def test_one_seed_has_no_interval():
    summary = ablation_report.summary_table(_runs({"gamma-10": ([21.0], [0.9], [1.0], 0.1)}))
    row = summary.loc["gamma-10"]
    assert row["seeds"] == 1 and row["psnr_lo"] == row["psnr_hi"] == 21.0
    assert "| 1 | **21.00** | **0.9000** | **1.0000** |" in ablation_report.table_markdown(summary)


def test_claim6_says_when_no_operator_beats_the_edge_loss_off():
    runs = _runs({"gamma-0": ([22, 22.1, 21.9], [0.85] * 3, [1, 1.1, 0.9], 0.05),
                  "gamma-10": ([22, 22.1, 21.9], [0.85] * 3, [1, 1.1, 0.9], 0.09),
                  "kirsch": ([22, 22.2, 21.8], [0.85] * 3, [1, 1.1, 0.9], 0.08)})
    claim6 = ablation_report.verdict_lines(runs)[2]
    # without operator times, 'cheaper' is read from the step times: Kirsch's is lower here
    assert ": partly confirmed" in claim6 and "neither operator beats it" in claim6


def test_artefact_rows_pair_each_image_with_its_edge_difference():
    rng = np.random.default_rng(0)
    clean = rng.random((3, 32, 32)).astype(np.float32)
    blurred = np.clip(clean + 0.1, 0, 1).astype(np.float32)
    rows = ablation_report.artefact_rows({"gamma-0": clean, "gamma-10": blurred},
                                         blurred, clean, n=2)
    assert len(rows) == 4                                  # two crops, two rows each
    images, edges = rows[0], rows[1]
    assert list(images) == ["blurred input", "G(a), gamma-0", "G(a), gamma-10",
                            "clean original"]
    assert len(edges) == len(images)                       # no empty panel
    same, options = edges["edges: gamma-0 - clean"]
    assert np.all(same == 0) and options["vmin"] == -options["vmax"]
    own = edges["edges of the original"][0]
    np.testing.assert_allclose(own, ablation.edge_difference(clean[0], 0 * clean[0]))
