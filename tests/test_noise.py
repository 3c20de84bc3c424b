"""Tests for semgan_core.noise: the SEM noise model and the noise estimator."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from semgan_core import degrade, synth
from semgan_core.noise import (MID_GREY, NoiseModel, add_noise, estimate_noise,
                               estimate_noise_model)

FLAT = np.full((256, 256), MID_GREY, np.float32)


@pytest.mark.parametrize("poisson", [True, False])
@pytest.mark.parametrize("sigma", [0.01, 0.02, 0.04])
def test_std_at_mid_grey_is_sigma(sigma, poisson):
    noisy = add_noise(FLAT, NoiseModel(sigma=sigma, poisson=poisson), rng=0)
    assert noisy.dtype == np.float32 and noisy.shape == FLAT.shape
    assert float(noisy.std()) == pytest.approx(sigma, rel=0.03)
    assert float(noisy.mean()) == pytest.approx(MID_GREY, abs=3 * sigma / 256)


def test_shot_noise_grows_with_the_signal_as_poisson():
    model = NoiseModel(sigma=0.04)
    for level in (0.125, 0.5, 0.8):
        flat = np.full((256, 256), level, np.float32)
        std = float(add_noise(flat, model, rng=1).std())
        assert std == pytest.approx(math.sqrt(level / model.dose), rel=0.03)
        assert std == pytest.approx(model.std_at(level), rel=0.03)


def test_read_and_row_noise_add_their_variances():
    model = NoiseModel(sigma=0.02, read_sigma=0.01, row_sigma=0.015)
    noisy = add_noise(FLAT, model, rng=2).astype(np.float64)
    assert float(noisy.std()) == pytest.approx(model.std_at(MID_GREY), rel=0.08)
    row_means = noisy.mean(axis=1)                   # scan-line noise: rows move together
    assert float(row_means.std()) == pytest.approx(0.015, rel=0.2)
    alone = add_noise(FLAT, NoiseModel(read_sigma=0.01), rng=2).astype(np.float64)
    assert float(alone.mean(axis=1).std()) < 0.002


@pytest.mark.parametrize("length", [1.0, 1.5])
def test_row_correlated_noise_keeps_its_level_and_is_shared_along_rows_only(length):
    model = NoiseModel(sigma=0.02, read_sigma=0.005, row_correlation=length)
    noisy = add_noise(FLAT, model, rng=3).astype(np.float64) - MID_GREY
    assert float(noisy.std()) == pytest.approx(model.std_at(MID_GREY), rel=0.05)

    def neighbours(a, b):
        return float((a * b).mean() / noisy.var())
    # a Gaussian of c px along the row: exp(-1 / (4 c**2)) between horizontal neighbours
    assert neighbours(noisy[:, 1:], noisy[:, :-1]) == pytest.approx(
        math.exp(-1 / (4 * length**2)), abs=0.03)
    assert abs(neighbours(noisy[1:], noisy[:-1])) < 0.03        # rows are independent
    # Immerkaer's mask, whose rows sum to zero, sees little of it
    assert estimate_noise(noisy.astype(np.float32) + MID_GREY) < 0.5 * model.std_at()


def test_row_correlated_shot_noise_grows_with_the_signal():
    model = NoiseModel(sigma=0.04, row_correlation=1.0)
    for level in (0.125, 0.8):
        flat = np.full((256, 256), level, np.float32)
        assert float(add_noise(flat, model, rng=4).std()) == pytest.approx(
            model.std_at(level), rel=0.05)
    record = model.to_dict()
    assert record["row_correlation"] == 1.0 and NoiseModel.from_dict(record) == model
    assert "row_correlation" not in NoiseModel(sigma=0.04).to_dict()     # records as before
    np.testing.assert_array_equal(add_noise(FLAT, NoiseModel(row_correlation=2.0), rng=0),
                                  FLAT)


def test_same_seed_same_noise_and_zero_noise_is_the_identity():
    ramp = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    model = NoiseModel(sigma=0.02, row_sigma=0.01)
    np.testing.assert_array_equal(add_noise(ramp, model, rng=7), add_noise(ramp, model, rng=7))
    assert not np.array_equal(add_noise(ramp, model, rng=7), add_noise(ramp, model, rng=8))
    np.testing.assert_array_equal(add_noise(ramp, NoiseModel(), rng=7), ramp)
    out = add_noise(ramp, NoiseModel(sigma=0.3, poisson=False), rng=0)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_dose_and_records():
    model = NoiseModel(sigma=0.02)
    assert model.dose == pytest.approx(1250.0)
    assert NoiseModel.from_dose(1250.0).sigma == pytest.approx(0.02, rel=1e-12)
    assert NoiseModel().dose == math.inf and NoiseModel().to_dict()["dose"] is None
    record = json.loads(json.dumps(NoiseModel(0.01, 0.002, 0.003, False).to_dict()))
    assert NoiseModel.from_dict(record) == NoiseModel(0.01, 0.002, 0.003, False)
    assert NoiseModel.from_dict(None) is None
    with pytest.raises(Exception):
        model.sigma = 0.1                               # frozen


@pytest.mark.parametrize("call, error, match", [
    (lambda: NoiseModel(sigma=-0.1), ValueError, "NoiseModel: sigma must be finite >= 0"),
    (lambda: NoiseModel(read_sigma=float("nan")), ValueError, "NoiseModel: read_sigma"),
    (lambda: NoiseModel(row_sigma="x"), TypeError, "NoiseModel: row_sigma must be a number"),
    (lambda: NoiseModel(row_correlation=-1), ValueError,
     "NoiseModel: row_correlation must be finite >= 0"),
    (lambda: NoiseModel(poisson=1), TypeError, "NoiseModel: poisson must be a bool, got 1"),
    (lambda: NoiseModel.from_dose(0), ValueError, "NoiseModel.from_dose: dose must be finite"),
    (lambda: NoiseModel.from_dict({"sigma": 0.1, "gain": 2}), ValueError,
     "NoiseModel.from_dict: expected a dict with keys in"),
    (lambda: add_noise(FLAT, 0.02), TypeError, "add_noise: model must be a NoiseModel"),
    (lambda: add_noise(FLAT[None], NoiseModel()), ValueError, "add_noise: image"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- noise estimation ----------------------------------------------------------------

def _white(image, sigma, seed):
    return add_noise(image, NoiseModel(read_sigma=sigma), rng=seed)


@pytest.fixture(scope="module")
def blurred_micrographs():
    return [degrade.degrade(synth.micrograph(256, rng=2000 + i)[0], "A", rng=i)[0]
            for i in range(4)]


@pytest.mark.parametrize("sigma", [0.01, 0.02, 0.04])
def test_estimate_noise_on_blurred_micrographs_is_within_10_percent(blurred_micrographs,
                                                                     sigma):
    estimates = [estimate_noise(_white(b, sigma, i))
                 for i, b in enumerate(blurred_micrographs)]
    assert np.mean(estimates) == pytest.approx(sigma, rel=0.10)
    assert all(e == pytest.approx(sigma, rel=0.15) for e in estimates)


@pytest.mark.parametrize("method", ["immerkaer", "wavelet"])
@pytest.mark.parametrize("sigma", [0.005, 0.04])
def test_estimate_noise_on_a_flat_image_is_the_noise_std(method, sigma):
    noisy = _white(np.full((256, 256), 0.5, np.float32), sigma, 1)
    assert estimate_noise(noisy, method=method) == pytest.approx(sigma, rel=0.05)
    assert estimate_noise(np.full((16, 16), 0.3, np.float32), method=method) == 0.0


def test_estimate_noise_cancels_smooth_structure_and_excludes_edges():
    y, x = np.mgrid[:64, :64] / 64.0
    quadratic = (0.2 + 0.3 * x + 0.2 * y**2 + 0.1 * x * y).astype(np.float32)
    assert estimate_noise(quadratic, edge_fraction=0) < 1e-6
    sharp = synth.micrograph(128, kind="particles", rng=0)[0]
    assert estimate_noise(sharp) < 0.8 * estimate_noise(sharp, edge_fraction=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(method="pca"), "estimate_noise: method='pca' is not allowed"),
    (dict(edge_fraction=1.0), r"estimate_noise: edge_fraction must be in \[0, 1\), got 1.0"),
    (dict(edge_fraction=-0.1), "estimate_noise: edge_fraction must be finite >= 0"),
])
def test_estimate_noise_validates_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        estimate_noise(np.zeros((8, 8), np.float32), **kwargs)


def test_estimate_noise_validates_the_image():
    with pytest.raises(ValueError, match=r"estimate_noise: image must be at least 3x3"):
        estimate_noise(np.zeros((2, 8), np.float32))
    with pytest.raises(ValueError, match=r"estimate_noise\(image\)"):
        estimate_noise(np.full((8, 8), np.nan, np.float32))


@pytest.mark.parametrize("truth", [NoiseModel(sigma=0.02), NoiseModel(sigma=0.04),
                                   NoiseModel(sigma=0.04, read_sigma=0.02),
                                   NoiseModel(read_sigma=0.02)])
def test_estimate_noise_model_splits_shot_and_read_noise(truth):
    models = []
    for i in range(3):
        clean = synth.micrograph(256, rng=2000 + i)[0]
        noisy = degrade.degrade(clean, "A", rng=i, noise=truth)[0]
        models.append(estimate_noise_model(np.round(noisy * 255) / 255))
    sigma = np.mean([m.sigma for m in models])
    read = np.mean([m.read_sigma for m in models])
    if truth.sigma:
        assert sigma == pytest.approx(truth.sigma, rel=0.15)
    else:
        assert sigma < 0.01
    if truth.read_sigma:
        assert read == pytest.approx(truth.read_sigma, rel=0.25)
    else:
        assert read < 0.005
    assert all(m.poisson for m in models)


def test_estimate_noise_model_of_flat_or_clipped_images():
    flat = add_noise(np.full((64, 64), 0.5, np.float32), NoiseModel(read_sigma=0.02), rng=0)
    model = estimate_noise_model(flat)                    # one grey level: read noise only
    assert model.sigma == 0 and model.read_sigma == pytest.approx(0.02, rel=0.1)
    assert estimate_noise_model(np.zeros((16, 16), np.float32)) == NoiseModel()
    with pytest.raises(ValueError, match="estimate_noise_model: bins must be an integer >= 2"):
        estimate_noise_model(flat, bins=1)
    with pytest.raises(ValueError, match="estimate_noise_model: edge_fraction must be in"):
        estimate_noise_model(flat, edge_fraction=1)
