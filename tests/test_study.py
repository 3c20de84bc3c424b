"""Tests of semgan_core.study (and its command line, benchmarks/convergence.py).

One tiny study (smoke profile, 128 px, two variants, 2 steps, scored every step) is
trained once per module; the other tests read it, resume it (nothing retrains) or check
errors that are raised before anything trains. Nearly all of the study's time is tracing
the training step (once per run), so grappler's graph optimisations, which only make the
traced step faster, are switched off for this module.
"""

import importlib.util
import json
import math
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib
import numpy as np
import pytest

from semgan_core import checkpoint, config, datasets, generators, plotting, results
from semgan_core.study import harness, scoring
from semgan_core.study.variants import FORMER_NAMES, VARIANTS

TINY = {name: VARIANTS[name] for name in ("paper", "filter")}
STUDY = dict(profile="smoke", steps=2, eval_every=1, n_eval=2, progress=False)


@pytest.fixture(scope="module", autouse=True)
def _no_grappler():
    """Skip grappler while this module traces (saves ~10 s CPU per run); restore after."""
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer",
                                                                 False)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    yield
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": before})


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """8 crops of 128 px from 4 synthetic sources: 5 train, 2 validation, 1 test."""
    out = tmp_path_factory.mktemp("conv") / "A"
    datasets.make_dataset(out, degradation="A", n_crops=8, n_source=4, size=128,
                          val_fraction=0.25, progress=False, processes=1)
    return out


@pytest.fixture(scope="module")
def study(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("conv") / "study"
    return out, harness.run_variants(dataset, TINY, out_dir=out, **STUDY)


def _runs(result):
    return [(name, seed, run) for name, entry in result["variants"].items()
            for seed, run in entry["runs"].items()]


def test_curves_are_well_formed(study):
    out, result = study
    assert result == json.loads((out / harness.FILE_NAME).read_text())
    assert set(result["variants"]) == set(TINY) and len(_runs(result)) == 2
    for name, seed, run in _runs(result):
        assert seed == "0" and run["steps"] == [0, 1, 2] and run["status"] == "finished"
        assert len(run["psnr"]) == len(run["ssim"]) == len(run["seconds"]) == 3
        assert all(math.isfinite(v) and 0 < v < 100 for v in run["psnr"])
        assert all(-1 <= v <= 1 for v in run["ssim"])
        assert run["seconds"][0] == 0 < run["seconds"][1] <= run["seconds"][2]
        assert run["config"]["recipe"] == name   # "paper" and "filter"
        assert (run["config"]["steps"], run["config"]["image_size"]) == (2, 128)
        # pruned: scored checkpoints are gone, the run's other files stay
        assert not checkpoint.list_checkpoints(run["run_dir"])
        assert (Path(run["run_dir"]) / "generator_G.keras").is_file()
    settings = result["settings"]
    assert settings["split"] == "val" and len(settings["eval_names"]) == 2
    assert set(result["reference"]) == set(scoring.REFERENCES)
    ref = result["reference"]
    assert all(math.isfinite(v[k]) for v in ref.values() for k in ("psnr", "ssim"))
    assert ref["wiener-true-psf"]["psnr"] > ref["blurred"]["psnr"]


def test_curve_scores_the_trained_generator(study, dataset):
    _, result = study
    blurred, clean, _, _ = datasets.load_test_pairs(dataset, n=2, split="val")
    for name, _, run in _runs(result):
        model = generators.load_generator(Path(run["run_dir"]) / "generator_G.keras")
        final = scoring.score_generator(model, blurred, clean)
        assert final["psnr"] == pytest.approx(run["psnr"][-1], abs=1e-4)
        assert final["ssim"] == pytest.approx(run["ssim"][-1], abs=1e-6)
    # the filter recipe's generator starts exactly at its input
    recipe = result["variants"]["filter"]["runs"]["0"]
    assert recipe["psnr"][0] == pytest.approx(result["reference"]["blurred"]["psnr"],
                                                abs=1e-3)


def test_runs_in_two_processes_match_the_runs_in_one(study, dataset, tmp_path):
    _, result = study
    two = harness.run_variants(dataset, TINY, out_dir=tmp_path, processes=2, **STUDY)
    assert two == json.loads((tmp_path / harness.FILE_NAME).read_text())
    assert set(two["variants"]) == set(TINY)
    for name, seed, run in _runs(two):
        one = result["variants"][name]["runs"][seed]
        assert run["steps"] == one["steps"] and run["status"] == "finished"
        # the same seeded runs, trained in worker processes
        np.testing.assert_allclose(run["psnr"], one["psnr"], rtol=0, atol=1e-3)
        assert Path(run["run_dir"]).parent.parent == tmp_path / "runs"
    with pytest.raises(ValueError, match="run_variants: processes must be"):
        harness.run_variants(dataset, TINY, out_dir=tmp_path / "x", processes=0, **STUDY)


def test_resume_skips_done_runs(study, dataset, monkeypatch):
    out, result = study
    from semgan_core import train

    def refuse(*args, **kwargs):
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(train, "train", refuse)
    again = harness.run_variants(dataset, TINY, out_dir=out, **STUDY)
    assert again["variants"] == result["variants"]


def test_interrupted_run_stops_the_study(dataset, tmp_path, monkeypatch):
    from semgan_core import train

    monkeypatch.setattr(train, "train", lambda *a, **k: {"status": "interrupted",
                                                          "interrupted": "SIGINT"})
    with pytest.raises(KeyboardInterrupt, match="resume"):
        harness.run_variants(dataset, {"paper": VARIANTS["paper"]}, out_dir=tmp_path, **STUDY)
    assert not (tmp_path / harness.FILE_NAME).exists()


def test_study_settings_must_match_to_resume(study, dataset):
    out, _ = study
    with pytest.raises(ValueError, match="other settings.*steps"):
        harness.run_variants(dataset, TINY, out_dir=out, **dict(STUDY, steps=4))
    with pytest.raises(ValueError, match="rename the variant"):
        harness.run_variants(dataset, {"paper": {"recipe": "paper", "pool_size": 2}},
                             out_dir=out, **STUDY)


def test_plot_and_summary(study, tmp_path):
    _, result = study
    fig = plotting.convergence_curves(result, path=tmp_path / "curves.png")
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 2
    assert (tmp_path / "curves.png").stat().st_size > 0
    labels = {line.get_label() for line in fig.axes[1].get_lines()}
    assert labels == set(TINY) | set(scoring.REFERENCES)
    matplotlib.pyplot.close("all")
    rows = harness.summary_table(result)
    assert [(r["variant"], r["seed"], r["steps"]) for r in rows] == [("paper", 0, 2),
                                                                     ("filter", 0, 2)]
    assert all(r["best_psnr"] == max(result["variants"][r["variant"]]["runs"]["0"]["psnr"])
               for r in rows)


def test_command_line_reuses_the_study(study, dataset, capsys):
    out, _ = study
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "convergence.py"
    spec = importlib.util.spec_from_file_location("bench_convergence", path)
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    argv = ["--data", str(dataset), "--variants", "paper", "filter", "--profile", "smoke",
            "--steps", "2", "--eval-every", "1", "--n-eval", "2", "--out", str(out)]
    assert cli.main(argv) == 0
    shown = capsys.readouterr().out
    assert "done, skipped" in shown and "filter" in shown and "[blurred]" in shown
    assert (out / "convergence.png").is_file()
    assert cli.main(["--list"]) == 0 and "highpass-d" in capsys.readouterr().out
    assert cli.main(argv[:-1] + [str(out / "other"), "--steps", "0"]) == 2
    assert "run_variants: steps must be an integer >= 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize("profile", config.PROFILES)
def test_variants_are_valid_configs(name, profile):
    overrides = VARIANTS[name]
    cfg = config.get_config(profile, **overrides)
    assert all(getattr(cfg, k) == v for k, v in overrides.items())
    assert overrides["recipe"] in config.RECIPES
    assert not set(overrides) & set(harness.HARNESS_KEYS)


def test_a_variant_means_its_recipe_on_every_profile():
    # "filter" is the filter training recipe unchanged: the book profile's own config
    assert config.get_config("book", **VARIANTS["filter"]) == config.get_config("book")
    assert (config.get_config("book", **VARIANTS["paper"])
            == config.get_config("book", recipe="paper"))
    paper = config.get_config("smoke", **VARIANTS["filter-generator"])
    assert (paper.recipe, paper.lambda_adv, paper.lambda_identity, paper.lambda_spectral,
            paper.edge_reference) == ("filter", 1.0, 5.0, 0.0, "paper")


def test_former_names_lead_to_variants():
    assert set(FORMER_NAMES.values()) <= set(VARIANTS)
    assert FORMER_NAMES["recipe"] == "filter" and FORMER_NAMES["filter"] == "filter-generator"


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parent.parent / "book" /
                                         "study").glob("*.json")), ids=lambda p: p.stem)
def test_committed_studies_read_back_under_present_names(path, tmp_path):
    study = harness.read_study(path)
    assert set(study["variants"]) <= set(VARIANTS)
    raw = json.loads(path.read_text())
    former = {FORMER_NAMES.get(k, k): v for k, v in raw["variants"].items()}
    assert study["variants"] == former            # the curves themselves unchanged
    assert harness.summary_table(study)
    copy = results.write_json(tmp_path / path.name, study)   # a copy reads back the same
    assert harness.read_study(copy) == study


def test_read_study_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="read_study: no study at"):
        harness.read_study(tmp_path)
    (tmp_path / harness.FILE_NAME).write_text('{"format": "other/9", "variants": {}}')
    with pytest.raises(ValueError, match="read_study: .* holds format 'other/9'"):
        harness.read_study(tmp_path)


def test_errors_before_training(dataset, tmp_path):
    run = dict(STUDY, out_dir=tmp_path)
    with pytest.raises(ValueError, match="run_variants: eval_every must be an integer >= 1, "
                                         "got 0"):
        harness.run_variants(dataset, TINY, **dict(run, eval_every=0))
    with pytest.raises(ValueError, match="run_variants: seeds must name at least one seed"):
        harness.run_variants(dataset, TINY, **dict(run, seeds=()))
    with pytest.raises(ValueError, match="harness sets"):
        harness.run_variants(dataset, {"long": {"steps": 9}}, **run)
    with pytest.raises(ValueError, match="unknown key"):
        harness.run_variants(dataset, {"typo": {"residul": True}}, **run)
    with pytest.raises(ValueError, match="non-empty dict"):
        harness.run_variants(dataset, {}, **run)
    with pytest.raises(ValueError, match="must be a dict"):
        harness.run_variants(dataset, {"paper": ["residual"]}, **run)
    with pytest.raises(ValueError, match="variant names must be non-empty strings"):
        harness.run_variants(dataset, {"a/b": {}}, **run)
    if "max_seconds" not in config.config_keys():
        with pytest.raises(ValueError, match="max_seconds needs"):
            harness.run_variants(dataset, TINY, **dict(run, max_seconds=60))
    no_val = tmp_path / "noval"
    datasets.make_dataset(no_val, n_crops=4, n_source=2, size=128, progress=False)
    with pytest.raises(FileNotFoundError, match="val_fraction"):
        harness.run_variants(no_val, TINY, **run)
    with pytest.raises(ValueError, match="needs its degradation info"):
        scoring.reference_lines(np.zeros((1, 16, 16), np.float32),
                                np.zeros((1, 16, 16), np.float32), [None])
    assert not (tmp_path / harness.FILE_NAME).exists()
