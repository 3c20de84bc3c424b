"""Tests of semgan_core.evaluate and semgan_core.benchmark: the methods table, the one test
set, the shipped generators, the files written, the command line."""

import json

import numpy as np
import pandas as pd
import pytest

from semgan_core import benchmark, cli, datasets, degrade, evaluate, generators, synth

EXPECTED_ROWS = [
    ("blurred", "-"), ("filter-unpaired", "-"), ("wiener", "assumed"), ("wiener", "oracle"),
    ("richardson-lucy", "assumed"), ("richardson-lucy", "oracle"),
    ("blind-deconvolution", "assumed"), ("constrained-least-squares", "assumed"),
    ("constrained-least-squares", "oracle"), ("ground-truth", "-"),
]


@pytest.fixture(scope="module")
def smoke_set():
    """Four 64x64 micrographs degraded with degradation C, all three kernels composed."""
    clean, blurred, infos = [], [], []
    for i in range(4):
        image, _ = synth.micrograph(64, rng=i)
        degraded, info = degrade.degrade(image, "C", rng=100 + i, hybrid="compose")
        clean.append(image)
        blurred.append(degraded)
        infos.append(info)
    return np.stack(blurred), np.stack(clean), infos


@pytest.fixture(autouse=True)
def no_shipped_weights(tmp_path, monkeypatch):
    """Keep the tests independent of weights/ (and fast) even once weights are shipped."""
    monkeypatch.setattr(generators, "WEIGHTS_DIR", tmp_path / "no-weights")


def check_table(table, rows):
    assert list(table.columns) == list(evaluate.TABLE_COLUMNS)
    assert list(zip(table["method"], table["psf"])) == rows
    for row in table.itertuples():
        for m in evaluate.METRICS:
            mean, lo, hi = getattr(row, m), getattr(row, f"{m}_lo"), getattr(row, f"{m}_hi")
            if row.method == "ground-truth" and m in ("ssim", "psnr"):
                assert np.isnan([mean, lo, hi]).all()  # no reference for itself
                continue
            assert np.isfinite([mean, lo, hi]).all(), (row.method, m)
            assert lo <= mean <= hi, (row.method, m)
        assert row.seconds_per_image >= 0


def test_table_is_well_formed(smoke_set, generator):
    blurred, clean, infos = smoke_set
    table, per_image = evaluate.evaluate_methods(blurred, clean, infos,
                                                 generators={"filter-unpaired": generator},
                                                 n_boot=200, progress=False)
    check_table(table, EXPECTED_ROWS)
    assert len(per_image) == 4 * len(EXPECTED_ROWS)
    assert set(per_image["image"]) == {"00000", "00001", "00002", "00003"}
    means = per_image.groupby(["method", "psf"], sort=False)["psnr"].mean()
    np.testing.assert_allclose(table["psnr"], means.to_numpy())
    by_row = table.set_index(["method", "psf"])
    assert (by_row.loc[("ground-truth", "-"), "ag"] > by_row.loc[("blurred", "-"), "ag"])
    for method in ("wiener", "richardson-lucy", "constrained-least-squares"):  # PSFs used
        assert by_row.loc[(method, "oracle"), "sf"] != by_row.loc[(method, "assumed"), "sf"]


def test_same_seed_same_intervals(smoke_set):
    blurred, clean, infos = smoke_set
    kwargs = dict(methods=("blurred", "wiener"), psf_settings=("assumed",), n_boot=100,
                  progress=False)
    first, _ = evaluate.evaluate_methods(blurred, clean, infos, rng=3, **kwargs)
    second, _ = evaluate.evaluate_methods(blurred, clean, infos, rng=3, **kwargs)
    cols = [c for c in first.columns if c != "seconds_per_image"]
    pd.testing.assert_frame_equal(first[cols], second[cols])
    assert list(zip(first["method"], first["psf"])) == [("blurred", "-"), ("wiener", "assumed")]


@pytest.mark.parametrize("kwargs,match", [
    (dict(methods=("wiener", "magic")), r"unknown methods \['magic'\]"),
    (dict(psf_settings=("exact",)), "psf_settings"),
    (dict(n_boot=0), "n_boot must be an integer >= 1"),
    (dict(generators={"wiener": None}), r"generator names \['wiener'\] clash"),
])
def test_evaluate_methods_rejects_bad_options(smoke_set, kwargs, match):
    blurred, clean, infos = smoke_set
    with pytest.raises(ValueError, match=match):
        evaluate.evaluate_methods(blurred, clean, infos, progress=False, **kwargs)


def test_evaluate_methods_rejects_bad_inputs(smoke_set):
    blurred, clean, infos = smoke_set
    with pytest.raises(ValueError, match="oracle' PSF needs every image's degradation info"):
        evaluate.evaluate_methods(blurred, clean, None, progress=False)
    with pytest.raises(ValueError, match="same shapes"):
        evaluate.evaluate_methods(blurred, clean[:3], infos, progress=False)
    with pytest.raises(ValueError, match="must be a stack"):
        evaluate.evaluate_methods(blurred[0], clean[0], infos, progress=False)
    with pytest.raises(ValueError, match="one entry per image"):
        evaluate.evaluate_methods(blurred, clean, infos[:2], progress=False)


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("data") / "B"
    datasets.make_dataset(out, degradation="B", n_crops=10, test_fraction=0.4, size=128,
                      progress=False)
    return out


def test_run_evaluation_writes_tables_and_record(tiny_dataset, generator, tmp_path):
    weights = generators.save_generator(generator, tmp_path / "G.keras", metadata={
        "generator": "unet", "mode": "unpaired", "degradation": "B"})
    record = benchmark.run_evaluation("B", tmp_path / "out", data_dir=tiny_dataset,
                                     weights=weights, n=3, seed=1, progress=False)
    table = pd.read_csv(tmp_path / "out" / "table.csv", keep_default_na=False,
                        na_values=[""])
    given = [("unet-cyclegan", "-") if row[0] == "filter-unpaired" else row
             for row in EXPECTED_ROWS]  # named by the file's metadata
    check_table(table, given)
    per_image = pd.read_csv(tmp_path / "out" / "per_image.csv")
    assert len(per_image) == 3 * len(EXPECTED_ROWS)
    saved = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert saved["seed"] == 1 and saved["n_images"] == 3
    assert saved["weights"] == {"unet-cyclegan": str(weights)}  # besides no shipped ones
    assert saved["note"] == f"given generators 'unet-cyclegan' from {weights}"
    assert {"numpy", "tensorflow"} <= set(saved["versions"]) and saved["config"]["n"] == 3
    assert record["table"][1]["method"] == "unet-cyclegan"
    gains = pd.read_csv(tmp_path / "out" / "gains.csv")
    assert "blurred" not in set(gains["method"]) and "unet-cyclegan" in set(gains["method"])
    assert len(saved["gains_over_blurred"]) == len(gains)
    assert not list((tmp_path / "out").glob(".*"))  # no temporary files left
    with pytest.raises(ValueError, match="run_evaluation: .* holds degradation B, not A"):
        benchmark.run_evaluation("A", tmp_path / "x", data_dir=tiny_dataset, progress=False)
    with pytest.raises(ValueError, match="run_evaluation: degradation='D' is not allowed"):
        benchmark.run_evaluation("D", tmp_path / "x", progress=False)
    with pytest.raises(ValueError, match="run_evaluation: n must be an integer >= 1, got 0"):
        benchmark.run_evaluation("A", tmp_path / "x", n=0, progress=False)


def test_cli_evaluate_without_weights(tmp_path, capsys):
    status = cli.main(["evaluate", "--degradation", "A", "--out", str(tmp_path / "eval"),
                       "--n", "2", "--quiet"])
    out = capsys.readouterr().out
    assert status == 0
    assert "classical methods only" in out and "wrote table.csv" in out
    saved = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert saved["weights"] is None and "classical methods only" in saved["note"]
    assert saved["n_images"] == 2 and saved["image_shape"] == [256, 256]
    table = pd.read_csv(tmp_path / "eval" / "table.csv", keep_default_na=False,
                        na_values=[""])
    check_table(table, [r for r in EXPECTED_ROWS if r[0] != "filter-unpaired"])
    assert saved["test_set"]["source"] == "test_set" and saved["test_set"]["seed"] == 0


def test_test_set_is_the_default_datasets_test_split(tmp_path):
    blurred, clean, names, infos = evaluate.test_set("B", n=2, seed=3)
    assert blurred.shape == clean.shape == (2, 256, 256) and blurred.dtype == np.float32
    assert all(info["degradation"] == "B" and info["fog"] for info in infos)
    full = tmp_path / "full"   # the same crops as the full dataset's first test crops
    datasets.make_dataset(full, degradation="B", seed=3, n_crops=2550, progress=False,
                      test_only=True, max_test=2)
    again = datasets.load_test_pairs(full, n=2)
    assert names == again[2]
    np.testing.assert_array_equal(blurred, again[0])
    assert evaluate.test_set("B", n=1, seed=3)[2] == names[:1]


@pytest.mark.parametrize("kwargs,match", [
    (dict(degradation="D"), "test_set: degradation='D' is not allowed"),
    (dict(degradation="A", n=0), "test_set: n must be an integer >= 1, got 0"),
    (dict(degradation="A", seed=-1), "test_set: seed must be an integer >= 0, got -1"),
])
def test_test_set_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        evaluate.test_set(**kwargs)


def test_shipped_generators_are_found_by_table_key(tmp_path, monkeypatch):
    monkeypatch.setattr(generators, "WEIGHTS_DIR", tmp_path)
    assert benchmark.shipped_generators("A") == {}
    (tmp_path / "filter_paired_A.keras").write_bytes(b"")
    assert benchmark.shipped_generators("A") == {"filter-paired":
                                                 tmp_path / "filter_paired_A.keras"}
    assert benchmark.shipped_generators("B") == {}
    with pytest.raises(ValueError, match="shipped_generators: degradation='D' is not allowed"):
        benchmark.shipped_generators("D")


def test_restorations_are_what_the_table_scores(smoke_set, generator):
    from semgan_core import metrics

    blurred, clean, infos = smoke_set
    restored = evaluate.restorations(blurred[1], info=infos[1],
                                     generators={"filter-unpaired": generator},
                                     psf_settings=("assumed", "oracle"))
    assert list(restored) == [r for r in EXPECTED_ROWS if r[0] != "ground-truth"]
    assert restored[("blurred", "-")] is not None
    _, per_image = evaluate.evaluate_methods(blurred, clean, infos, n_boot=10, progress=False,
                                             generators={"filter-unpaired": generator})
    scored = per_image[per_image["image"] == "00001"].set_index(["method", "psf"])
    for key, image in restored.items():
        assert metrics.psnr(clean[1], image) == pytest.approx(scored.loc[key, "psnr"])
    only = evaluate.restorations(blurred[0], methods=("wiener",))
    assert list(only) == [("wiener", "assumed")]


@pytest.mark.parametrize("kwargs,match", [
    (dict(methods=("ground-truth",)), r"restorations: methods must be among .* unknown "
                                      r"methods \['ground-truth'\]"),
    (dict(psf_settings=("oracle",)), "restorations: the 'oracle' PSF needs the image's "
                                     "degradation info"),
    (dict(psf_settings=()), "psf_settings a non-empty subset"),
])
def test_restorations_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        evaluate.restorations(np.zeros((32, 32), np.float32), **kwargs)


def test_loaded_generator_loads_a_file_once_and_again_when_it_changes(generator, tmp_path):
    import os

    path = generators.save_generator(generator, tmp_path / "G.keras", metadata={
        "generator": "unet", "mode": "unpaired", "degradation": "B"})
    first = benchmark.loaded_generator(path)
    assert benchmark.loaded_generator(tmp_path / "." / "G.keras") is first  # same file
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # file replaced
    again = benchmark.loaded_generator(path)
    assert again is not first
    x = np.random.default_rng(0).uniform(-1, 1, (1, 128, 128, 1)).astype(np.float32)
    np.testing.assert_allclose(again.predict_on_batch(x), first.predict_on_batch(x), atol=1e-6)
    with pytest.raises(FileNotFoundError, match="load_generator: no such file"):
        benchmark.loaded_generator(tmp_path / "none.keras")
