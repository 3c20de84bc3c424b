"""Tests of semgan_core.harm: the no-harm checks (sharp, light blur, light blur + noise)."""

import math

import numpy as np
import pytest
from scipy import ndimage

from semgan_core import harm, kernels, metrics, synth


@pytest.fixture(scope="module")
def clean():
    return np.stack([synth.micrograph(64, rng=i)[0] for i in range(5)])


def _identity(image):
    return image


def _box_blur(image):
    return ndimage.uniform_filter(image, 5, mode="reflect")


@pytest.fixture(scope="module")
def table(clean):
    return harm.no_harm_table(clean, {"identity": _identity, "box": _box_blur}, n_boot=200)


def _row(table, check, method):
    return table.set_index(["check", "method"]).loc[(check, method)]


def test_table_has_a_row_per_check_and_method(table):
    assert list(table.columns) == list(harm.COLUMNS)
    assert list(zip(table["check"], table["method"])) == [
        (c, m) for c in harm.CHECKS for m in ("identity", "box")]
    assert (table["n"] == 5).all()


def test_identity_gives_inf_and_one_on_sharp(table):
    row = _row(table, "sharp", "identity")
    assert math.isinf(row["psnr"]) and math.isinf(row["psnr_lo"]) and math.isinf(row["psnr_hi"])
    assert row["ssim"] == pytest.approx(1.0) and row["ssim_lo"] == pytest.approx(1.0)
    assert np.isnan(row[["psnr_gain", "ssim_gain"]].astype(float)).all()


@pytest.mark.parametrize("check", harm.CHECKS[1:])
def test_identity_gains_nothing_on_degraded_inputs(table, check):
    row = _row(table, check, "identity")
    assert row["psnr"] == pytest.approx(row["input_psnr"])
    assert np.isfinite(row["psnr"]) and 15 < row["psnr"] < 60
    assert row[["psnr_gain", "psnr_gain_lo", "psnr_gain_hi", "ssim_gain"]].tolist() == [0] * 4


@pytest.mark.parametrize("check", harm.CHECKS)
def test_a_harmful_restorer_is_caught(table, check):
    row = _row(table, check, "box")
    assert row["psnr"] < 30 and row["ssim"] < 0.9
    if check != "sharp":
        assert row["psnr_gain_hi"] < 0 and row["ssim_gain_hi"] < 0
    assert row["psnr_lo"] <= row["psnr"] <= row["psnr_hi"]


def test_inputs_are_the_light_blur_and_seeded_noise(clean):
    inputs = harm.harm_inputs(clean, rng=3)
    assert list(inputs) == list(harm.CHECKS)
    np.testing.assert_array_equal(inputs["sharp"], clean)
    np.testing.assert_allclose(inputs["light blur"][0], kernels.convolve(clean[0], harm.LIGHT_BLUR))
    again = harm.harm_inputs(clean, rng=3)["light blur + noise"]
    np.testing.assert_array_equal(inputs["light blur + noise"], again)
    residual = inputs["light blur + noise"] - inputs["light blur"]
    assert 0.003 < residual.std() < 0.02
    assert metrics.psnr(clean[0], inputs["light blur"][0]) < 60


def test_keras_like_models_run_through_tiled_inference(clean):
    class Model:                      # has predict_on_batch, as a keras.Model does
        def predict_on_batch(self, batch):
            assert batch.shape[1:] == (128, 128, 1)
            return -np.ones_like(batch)       # model range: all black

    table = harm.no_harm_table(clean[:2], {"black": Model()}, n_boot=20)
    assert (table["ssim"] < 0.2).all()


def test_markdown_prints_inf(table):
    text = harm.harm_markdown(table)
    assert "inf [inf, inf]" in text
    assert len(text.splitlines()) == 2 + 3 * 3    # header, rule; per check: input, 2 rows
    assert "**[-" in text                          # the box blur's losses, beyond chance


@pytest.mark.parametrize("clean, restorers, message", [
    (np.zeros((8, 8), np.float32), {"i": _identity}, "stack of shape"),
    (np.zeros((2, 32, 32), np.float32), {}, "non-empty dict"),
    (np.full((2, 32, 32), 2.0, np.float32), {"i": _identity}, "clean"),
    (np.zeros((2, 32, 32), np.float32), {"crop": lambda x: x[:16]}, "changed the image shape"),
])
def test_errors(clean, restorers, message):
    with pytest.raises(ValueError, match=message):
        harm.no_harm_table(clean, restorers, n_boot=10)


def test_n_boot_is_checked(clean):
    with pytest.raises(ValueError, match="n_boot"):
        harm.no_harm_table(clean, {"i": _identity}, n_boot=0)
