"""Tests for semgan_core.tuning: the training pairs, the grid search, the noise-aware fit."""

import numpy as np
import pytest

from semgan_core import baselines, kernels, tuning
from semgan_core.noise import NoiseModel, estimate_noise

PSF = kernels.ASSUMED_PSF


def test_defaults_are_the_tuned_optimum_on_the_training_set():
    blurred, clean = tuning.training_pairs()
    step = 10**0.25
    for method, default in [("wiener", baselines.WIENER_BALANCE),
                            ("constrained_least_squares", baselines.CLS_GAMMA)]:
        grid = [default / step, default, default * step]
        best, results = tuning.tune(method, blurred, clean, PSF, grid)
        assert best == default
        assert [row["value"] for row in results] == grid
        assert all(np.isfinite(row["psnr"]) for row in results)
    assert baselines.WIENER_BALANCE in tuning.TUNING_GRID
    assert baselines.CLS_GAMMA in tuning.TUNING_GRID


def test_training_pairs_are_8_bit_and_noisy_on_request():
    blurred, clean = tuning.training_pairs(2, size=64)
    noisy, clean2 = tuning.training_pairs(2, size=64, noise=NoiseModel(sigma=0.04))
    np.testing.assert_array_equal(clean, clean2)
    assert blurred.dtype == np.float32 and blurred.shape == (2, 64, 64)
    np.testing.assert_allclose(noisy * 255, np.round(noisy * 255), atol=1e-4)
    assert estimate_noise(noisy[0]) > 3 * estimate_noise(blurred[0])


def test_tune_with_a_blind_method_and_iterations():
    blurred, clean = tuning.training_pairs(1, size=64, seed=3)
    best, results = tuning.tune("blind_deconvolution", blurred, clean, PSF, [1, 5])
    assert best == 5 and results[1]["psnr"] > results[0]["psnr"]


def test_fit_noise_rules_recovers_rules_that_grow_with_the_noise():
    floor, rules, table = tuning.fit_noise_rules((0.01, 0.03, 0.08), n=2, size=64)
    assert 0 < floor < 0.01
    assert [row["sigma"] for row in table] == [0.01, 0.03, 0.08]
    assert rules["wiener"][1] > 0 and rules["constrained_least_squares"][1] > 0
    assert rules["richardson_lucy"][1] < 0


def test_tune_validates():
    blurred, clean = tuning.training_pairs(1, size=32)
    with pytest.raises(ValueError, match="tune: method='unsharp' is not allowed"):
        tuning.tune("unsharp", blurred, clean, PSF, [1])
    with pytest.raises(ValueError, match="tune: need a non-empty grid.*2 blurred and 1 clean"):
        tuning.tune("wiener", [blurred[0], blurred[0]], clean, PSF, [1e-3])
