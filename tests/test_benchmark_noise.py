"""Tests of the evaluation over SEM noise levels: evaluate.test_set(noise=, source=),
the noise-aware classical methods, semgan_core.noiselevels, run_evaluation(noise=) and
the ``evaluate --noise`` command."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from semgan_core import (baselines, benchmark, cli, evaluate, generators, kernels, metrics,
                         noiselevels, realdata)


@pytest.fixture(autouse=True)
def no_shipped_weights(tmp_path, monkeypatch):
    """Keep the tests independent of weights/ (and fast): classical methods only."""
    monkeypatch.setattr(generators, "WEIGHTS_DIR", tmp_path / "no-weights")


@pytest.fixture(scope="module")
def levels_set():
    """The first two test crops of degradation A, noise-free and at 0.02."""
    return {level: evaluate.test_set("A", n=2, seed=0, noise=level) for level in (0.0, 0.02)}


def test_noisy_test_set_has_the_same_clean_crops_and_seeded_noise(levels_set):
    (b0, c0, n0, i0), (b2, c2, n2, i2) = levels_set[0.0], levels_set[0.02]
    assert n0 == n2 and np.array_equal(c0, c2)          # the same clean crops
    assert i0[0]["noise"] is None and i2[0]["noise"]["sigma"] == 0.02
    assert [i["kernels"] for i in i0] == [i["kernels"] for i in i2]  # the same blur
    assert not np.array_equal(b0, b2)
    # the noise is what the level says (within the estimator's 10 %; shot noise at the
    # crops' mean grey, not at mid-grey) and the same every time
    for image, noisy in zip(b0, b2):
        expected = 0.02 * math.sqrt(float(image.mean()) / 0.5)
        assert np.std(noisy - image) == pytest.approx(expected, rel=0.1)
    again = evaluate.test_set("A", n=1, seed=0, noise=0.02)
    np.testing.assert_array_equal(again[0][0], b2[0])


def test_level_zero_is_the_noise_free_test_set(levels_set):
    b0 = levels_set[0.0][0]
    np.testing.assert_array_equal(evaluate.test_set("A", n=1, seed=0)[0][0], b0[0])


@pytest.mark.parametrize("noise,match", [
    (-0.01, r"test_set: noise must be finite in \[0, 0.5\], got -0.01"),
    (float("nan"), r"test_set: noise must be finite in \[0, 0.5\], got nan"),
    (0.6, r"test_set: noise must be finite in \[0, 0.5\], got 0.6"),
])
def test_test_set_rejects_bad_noise(noise, match):
    with pytest.raises(ValueError, match=match):
        evaluate.test_set("A", n=1, noise=noise)


def test_real_test_set_needs_the_real_micrographs(monkeypatch):
    monkeypatch.setattr(realdata, "real_data_dir", lambda: None)
    with pytest.raises(FileNotFoundError, match="clean_source_folder: no real micrographs"):
        evaluate.test_set("A", n=1, source="real")


@pytest.mark.skipif(realdata.real_data_dir() is None, reason=realdata.missing_reason())
def test_real_test_set_is_cropped_from_the_real_micrographs():
    blurred, clean, names, infos = evaluate.test_set("A", n=1, source="real", noise=0.01)
    assert blurred.shape == clean.shape == (1, 256, 256)
    assert infos[0]["noise"]["sigma"] == 0.01
    synthetic = evaluate.test_set("A", n=1)[1]
    assert not np.array_equal(clean, synthetic)


def test_noise_aware_methods_set_their_parameter_from_the_image(levels_set):
    blurred, clean, _, infos = levels_set[0.02]
    kwargs = dict(methods=("blurred", "wiener", "richardson-lucy",
                           "constrained-least-squares"),
                  psf_settings=("assumed",), n_boot=20, progress=False)
    plain, _ = evaluate.evaluate_methods(blurred, clean, infos, **kwargs)
    aware, per_image = evaluate.evaluate_methods(blurred, clean, infos, noise_aware=True,
                                                 **kwargs)
    auto = baselines.wiener(blurred[1], kernels.ASSUMED_PSF, balance="auto")
    row = per_image[(per_image["image"] == "00001") & (per_image["method"] == "wiener")]
    assert row["psnr"].item() == pytest.approx(metrics.psnr(clean[1], auto))
    by_plain, by_aware = plain.set_index("method"), aware.set_index("method")
    for method in ("wiener", "constrained-least-squares"):
        # at sigma 0.02 the noise-free defaults amplify the noise; "auto" does better
        assert by_aware.loc[method, "psnr"] > by_plain.loc[method, "psnr"] + 1, method
    # fewer Richardson-Lucy iterations: a different result (about as good here)
    assert by_aware.loc["richardson-lucy", "psnr"] != by_plain.loc["richardson-lucy", "psnr"]
    assert by_aware.loc["blurred", "psnr"] == by_plain.loc["blurred", "psnr"]
    restored = evaluate.restorations(blurred[1], methods=("wiener",), noise_aware=True)
    np.testing.assert_array_equal(restored[("wiener", "assumed")], auto)


def test_check_levels_and_folders():
    assert noiselevels.check_levels("f", [0, 0.01, 0.04]) == (0.0, 0.01, 0.04)
    assert noiselevels.check_levels("f", 0.02) == (0.02,)
    assert [noiselevels.level_folder(x) for x in (0, 0.01, 0.02)] == [
        "noise-0", "noise-0.01", "noise-0.02"]
    with pytest.raises(ValueError, match=r"f: noise levels must differ, got \[0.01, 0.01\]"):
        noiselevels.check_levels("f", [0.01, 0.01])
    with pytest.raises(ValueError, match="f: noise needs at least one level, got none"):
        noiselevels.check_levels("f", [])
    with pytest.raises(TypeError, match="f: noise must be a number, got 'x'"):
        noiselevels.check_levels("f", ["x"])


def _table(level, psnr):
    rows = [("blurred", "-", psnr), ("wiener", "assumed", psnr + 2), ("ground-truth", "-", np.nan)]
    return pd.DataFrame([{"method": m, "psf": p, "psnr": v, "psnr_lo": v - 0.5,
                          "psnr_hi": v + 0.5, "ssim": v / 40, "ssim_lo": v / 40 - 0.01,
                          "ssim_hi": v / 40 + 0.01, "seconds_per_image": 0.1}
                         for m, p, v in rows])


def _gains(level):
    return pd.DataFrame([{"method": "wiener", "psf": "assumed", "psnr_gain": 2.0,
                          "psnr_gain_lo": 1.5, "psnr_gain_hi": 2.5, "ssim_gain": 0.05,
                          "ssim_gain_lo": 0.04, "ssim_gain_hi": 0.06}])


def test_levels_frame_and_text():
    frame = noiselevels.levels_frame({0.0: _table(0, 30), 0.02: _table(0.02, 25)},
                                     {0.0: _gains(0), 0.02: _gains(0.02)})
    assert list(frame.columns) == list(noiselevels.LEVEL_COLUMNS)
    assert list(zip(frame["level"], frame["method"])) == [
        (0.0, "blurred"), (0.0, "wiener"), (0.02, "blurred"), (0.02, "wiener")]
    assert frame.loc[1, "psnr_gain"] == 2.0 and frame.loc[0, "psnr_gain_hi"] == 0.0
    text = noiselevels.levels_text(frame)
    assert text.count("noise 0.02 (") == 1 and "Wiener (assumed PSF)" in text
    assert "27.00 [ 26.50,  27.50]" in text and "+2.00 [ +1.50,  +2.50]" in text
    with pytest.raises(ValueError, match=r"levels_frame: tables and gains must have the "
                                         r"same levels, got \[0.0\] and \[0.02\]"):
        noiselevels.levels_frame({0.0: _table(0, 30)}, {0.02: _gains(0.02)})


def test_run_evaluation_at_noise_levels(tmp_path, levels_set, capsys):
    out = tmp_path / "eval"
    record = benchmark.run_evaluation("A", out, n=2, noise=[0, 0.02], progress=False)
    assert record["levels"] == [0.0, 0.02] and record["config"]["noise"] == [0.0, 0.02]
    assert "noise_aware" not in record["config"]  # it differs by level: in each level's
    assert record["level_folders"] == {"0": "noise-0", "0.02": "noise-0.02"}
    levels = pd.read_csv(out / "levels.csv")
    assert list(levels.columns) == list(noiselevels.LEVEL_COLUMNS)
    assert sorted(set(levels["level"])) == [0.0, 0.02]
    assert (out / "noise_curves.png").stat().st_size > 0
    for level, folder in ((0.0, "noise-0"), (0.02, "noise-0.02")):
        table = pd.read_csv(out / folder / "table.csv")
        gains = pd.read_csv(out / folder / "gains.csv")
        saved = json.loads((out / folder / "evaluation.json").read_text())
        assert saved["config"]["noise"] == level and saved["n_images"] == 2
        assert saved["config"]["noise_aware"] == (level > 0)
        assert "blurred" not in set(gains["method"])
        rows = levels[levels["level"] == level].reset_index(drop=True)
        np.testing.assert_allclose(rows["psnr"], table.loc[table["method"] != "ground-truth",
                                                           "psnr"])
    # level 0 gives exactly the numbers of a run without noise levels
    plain = benchmark.run_evaluation("A", tmp_path / "plain", n=2, progress=False)
    zero = pd.read_csv(out / "noise-0" / "per_image.csv").drop(columns="seconds")
    pd.testing.assert_frame_equal(
        zero, pd.read_csv(tmp_path / "plain" / "per_image.csv").drop(columns="seconds"))
    assert "noise" not in plain["config"]  # the noise-free record as it always was
    # and the noisy level scores the test set of that level
    blurred, clean = levels_set[0.02][:2]
    per_image = pd.read_csv(out / "noise-0.02" / "per_image.csv")
    scored = per_image[per_image["method"] == "blurred"]["psnr"].to_numpy()
    np.testing.assert_allclose(scored, [metrics.psnr(c, b) for c, b in zip(clean, blurred)])


@pytest.mark.parametrize("kwargs,match", [
    (dict(noise=[-0.01]), r"run_evaluation: noise must be finite in \[0, 0.5\], got -0.01"),
    (dict(noise=[0.01, float("nan")]),
     r"run_evaluation: noise must be finite in \[0, 0.5\], got nan"),
    (dict(noise=[0.02, 0.02]), "run_evaluation: noise levels must differ"),
    (dict(source="sim"), "run_evaluation: source='sim' is not allowed"),
    (dict(noise=[0.01], data_dir="x"), "run_evaluation: data_dir is evaluated as it is"),
    (dict(source="real", data_dir="x"), "run_evaluation: data_dir is evaluated as it is"),
])
def test_run_evaluation_rejects_bad_levels_and_sources(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        benchmark.run_evaluation("A", tmp_path / "x", progress=False, **kwargs)
    assert not (tmp_path / "x").exists()


def test_run_evaluation_skips_the_real_set_without_real_data(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(realdata, "real_data_dir", lambda: None)
    record = benchmark.run_evaluation("A", tmp_path / "x", source="real", noise=[0.01],
                                      progress=False)
    out = capsys.readouterr().out.strip()
    assert record == {"skipped": out} and "\n" not in out
    assert out == f"skipped the real test set: {realdata.missing_reason()}"
    assert not (tmp_path / "x").exists()
    assert cli.main(["evaluate", "--degradation", "A", "--out", str(tmp_path / "y"),
                     "--source", "real"]) == 0
    assert "skipped the real test set" in capsys.readouterr().out


@pytest.mark.parametrize("value", ["-0.01", "nan"])
def test_cli_refuses_bad_noise_levels(tmp_path, capsys, value):
    status = cli.main(["evaluate", "--degradation", "A", "--out", str(tmp_path / "e"),
                       "--noise", "0", value, "--quiet"])
    assert status == 2
    assert capsys.readouterr().err == ("semgan: error: run_evaluation: noise must be finite "
                                       f"in [0, 0.5], got {float(value)!r}\n")
    assert not (tmp_path / "e").exists()


def test_cli_prints_a_table_per_level(tmp_path, capsys):
    status = cli.main(["evaluate", "--degradation", "A", "--out", str(tmp_path / "e"),
                       "--noise", "0.01", "--n", "1", "--quiet"])
    out = capsys.readouterr().out
    assert status == 0
    assert out.count("noise 0.01 (shot noise at mid-grey") == 1
    assert "Wiener (assumed PSF)" in out and "wrote noise-0.01/" in out
    assert (tmp_path / "e" / "noise-0.01" / "table.csv").is_file()
    assert not (tmp_path / "e" / "noise_curves.png").exists()  # one level: no figure


def test_given_models_are_evaluated_beside_the_shipped_ones(tmp_path, monkeypatch):
    from semgan_core import filtergen

    monkeypatch.setattr(generators, "WEIGHTS_DIR", tmp_path / "weights")
    meta = {"generator": "filter", "mode": "unpaired", "degradation": "A"}
    shipped = generators.save_generator(filtergen.build_filter_generator(5),
                                        tmp_path / "weights" / "filter_unpaired_A.keras",
                                        metadata=meta)
    other = generators.save_generator(filtergen.build_filter_generator(5),
                                      tmp_path / "mine.keras", metadata=meta)
    record = benchmark.run_evaluation("A", tmp_path / "e", models=["filter-unpaired-A"],
                                      weights=[other], n=1, progress=False)
    # the named model is the shipped file (not repeated); the other file of the same kind
    # gets its stem after the key
    assert record["weights"] == {"filter-unpaired": str(shipped),
                                 "filter-unpaired (mine)": str(other)}
    assert record["note"] == (f"shipped generators 'filter-unpaired' from {shipped}; given "
                              f"generators 'filter-unpaired (mine)' from {other}")
    methods = [row["method"] for row in record["table"]]
    assert methods[:3] == ["blurred", "filter-unpaired", "filter-unpaired (mine)"]
    with pytest.raises(ValueError, match="shipped_path: unknown model 'D'"):
        benchmark.run_evaluation("A", tmp_path / "x", models=["D"], progress=False)
