"""Tests for semgan_core.degrade: fog (eq. 18), the degradations A/B/C, the noise stage."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from semgan_core import degrade, kernels, synth
from semgan_core.noise import NoiseModel


def _psnr(clean, other):
    return 10 * math.log10(1.0 / float(np.mean((clean - other) ** 2)))


@pytest.fixture(scope="module")
def clean():
    return synth.micrograph(64, kind="particles", rng=0)[0]


# --- depth and fog -------------------------------------------------------------------

def test_depth_map_is_a_smooth_deterministic_field_in_unit_range():
    d = degrade.depth_map((64, 80), rng=3)
    assert d.shape == (64, 80) and d.dtype == np.float32
    assert d.min() == 0.0 and d.max() == pytest.approx(1.0)
    np.testing.assert_array_equal(d, degrade.depth_map((64, 80), rng=3))
    assert not np.array_equal(d, degrade.depth_map((64, 80), rng=4))
    assert float(np.abs(np.diff(d, axis=0)).max()) < 0.1     # smooth at the pixel scale
    assert float(np.abs(np.diff(d, axis=1)).max()) < 0.1


@pytest.mark.parametrize("kwargs, match", [
    (dict(shape=(0, 5)), "depth_map: shape must be"),
    (dict(shape=64), "depth_map: shape must be"),
    (dict(shape=(True, 64)), "depth_map: shape must be"),
    (dict(shape=(8, 8), scale=0), "depth_map: scale must be finite > 0"),
])
def test_depth_map_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        degrade.depth_map(**kwargs)


def test_fog_literal_follows_eq18_and_saturates():
    f = np.full((4, 4), 0.5, np.float32)
    out = degrade.fog(f, beta=2.0, depth=1.0, airlight=3.0, mode="literal")
    assert float(out[0, 0]) == pytest.approx(0.5 * math.exp(-2) + 3 * (1 - math.exp(-2)),
                                             rel=1e-6)                  # 2.66166
    defaults = degrade.fog(f, beta=2.0, mode="literal")                 # d = 1, A = 3
    np.testing.assert_array_equal(out, defaults)
    ramp = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    assert degrade.fog(ramp, beta=1.5, mode="literal").min() >= 2.3


def test_fog_adopted_follows_eq18_on_hand_values():
    f = np.full((4, 4), 0.2, np.float32)
    out = degrade.fog(f, beta=2.0, depth=0.5, airlight=0.8)
    assert float(out[0, 0]) == pytest.approx(0.8 - 0.6 * math.exp(-1.0), rel=1e-6)
    np.testing.assert_array_equal(degrade.fog(f, beta=2.0, depth=0.0), f)
    np.testing.assert_array_equal(degrade.fog(f, beta=0.0, depth=0.5), f)


def test_fog_adopted_with_a_depth_map_stays_in_range_and_never_clips():
    rng = np.random.default_rng(2)
    f = rng.random((32, 32)).astype(np.float32)
    depth = degrade.FOG_DEPTH * degrade.depth_map((32, 32), rng=5)
    out = degrade.fog(f, beta=degrade.BETA_RANGE[1], depth=depth, airlight=degrade.AIRLIGHT)
    t = np.exp(-degrade.BETA_RANGE[1] * depth.astype(np.float64))
    np.testing.assert_allclose(out, f * t + degrade.AIRLIGHT * (1 - t), atol=1e-6)
    assert out.min() >= 0 and out.max() <= 1
    assert t.min() > 0.28                                 # densest fog keeps > 28 % contrast


@pytest.mark.parametrize("kwargs, match", [
    (dict(beta=2.0, depth=0.5, mode="paper"), "fog: mode must be 'adopted' or 'literal'"),
    (dict(beta=2.0), "fog: mode='adopted' needs a depth"),
    (dict(beta=2.0, depth=-0.1), "fog: depth must be a finite scalar"),
    (dict(beta=2.0, depth=np.zeros((3, 3))), r"fog: depth must be a finite scalar or \(8, 8\)"),
    (dict(beta=2.0, depth=0.5, airlight=3.0), "fog: airlight must be in"),
    (dict(beta=-1.0, depth=0.5), "fog: beta must be finite >= 0"),
])
def test_fog_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        degrade.fog(np.zeros((8, 8), np.float32), **kwargs)


# --- degradations ---------------------------------------------------------------------

CASES = [("A", "random"), ("B", "random"), ("C", "random"), ("C", "compose")]


@pytest.mark.parametrize("degradation, hybrid", CASES)
def test_degrade_is_deterministic_lowers_psnr_and_records_json(clean, degradation, hybrid):
    out, info = degrade.degrade(clean, degradation, rng=7, hybrid=hybrid)
    again, info2 = degrade.degrade(clean, degradation, rng=np.random.default_rng(7),
                                   hybrid=hybrid)
    np.testing.assert_array_equal(out, again)
    assert info == info2
    assert out.dtype == np.float32 and out.shape == clean.shape
    assert out.min() >= 0 and out.max() <= 1
    assert _psnr(clean, out) < 35
    assert json.loads(json.dumps(info)) == info
    assert info["degradation"] == degradation
    assert info["hybrid"] == (hybrid if degradation == "C" else None)
    assert (info["fog"] is None) == (degradation == "A")
    assert info["noise"] is None


def test_degradation_a_is_reproduced_exactly_by_kernel_from_info(clean):
    out, info = degrade.degrade(clean, "A", rng=0)
    assert info["kernels"] == [{"type": "gaussian", "size": 7, "sigma": 1.0}]
    psf = degrade.kernel_from_info(json.loads(json.dumps(info)))
    np.testing.assert_array_equal(psf, kernels.ASSUMED_PSF)
    np.testing.assert_array_equal(kernels.convolve(clean, psf), out)


@pytest.mark.parametrize("degradation, hybrid", CASES[1:])
def test_fogged_degradations_are_reproduced_from_info(clean, degradation, hybrid):
    out, info = degrade.degrade(clean, degradation, rng=11, hybrid=hybrid)
    info = json.loads(json.dumps(info))
    fog = info["fog"]
    assert degrade.BETA_RANGE[0] <= fog["beta"] <= degrade.BETA_RANGE[1]
    assert fog["airlight"] == degrade.AIRLIGHT and fog["mode"] == "adopted"
    blurred = kernels.convolve(clean, degrade.kernel_from_info(info))
    depth = degrade.depth_from_info(info, clean.shape)
    assert depth.max() == pytest.approx(degrade.FOG_DEPTH)
    rebuilt = degrade.fog(blurred, beta=fog["beta"], depth=depth, airlight=fog["airlight"])
    np.testing.assert_array_equal(rebuilt, out)


def test_degradation_c_random_draws_each_kernel_and_compose_uses_all_three(clean):
    drawn = {degrade.degrade(clean, "C", rng=seed)[1]["kernels"][0]["type"]
             for seed in range(30)}
    assert drawn == {"gaussian", "motion", "disk"}
    _, info = degrade.degrade(clean, "C", rng=0, hybrid="compose")
    assert [k["type"] for k in info["kernels"]] == ["gaussian", "motion", "disk"]
    assert info["kernels"][1] == {"type": "motion", "length": 10.0, "angle": 0.0}
    assert info["kernels"][2]["radius"] == 5.0
    assert degrade.kernel_from_info(info).shape == (27, 27)


def test_depth_from_info_without_fog_is_none(clean):
    assert degrade.depth_from_info(degrade.degrade(clean, "A")[1], clean.shape) is None


@pytest.mark.parametrize("kwargs, match", [
    (dict(degradation="D"), r"degrade: degradation='D' is not allowed; expected one of 'A', "),
    (dict(degradation="C", hybrid="mix"), "degrade: hybrid='mix' is not allowed"),
])
def test_degrade_validates_options(clean, kwargs, match):
    with pytest.raises(ValueError, match=match):
        degrade.degrade(clean, **kwargs)


def test_degrade_validates_the_image():
    with pytest.raises(ValueError, match="degrade"):
        degrade.degrade(np.full((16, 16), np.nan, np.float32))


@pytest.mark.parametrize("info, match", [
    ({}, "kernel_from_info: expected a dict with a non-empty 'kernels' list"),
    ([1], "kernel_from_info: expected a dict"),
    ({"kernels": [{"type": "box", "size": 3}]}, "kernel_from_info: expected a kernel spec"),
    ({"kernels": [{"type": "motion", "length": 10}]}, "kernel_from_info: expected a kernel"),
])
def test_kernel_from_info_validates(info, match):
    with pytest.raises(ValueError, match=match):
        degrade.kernel_from_info(info)


def test_degrade_validates_the_noise_model(clean):
    with pytest.raises(TypeError, match="degrade: noise must be None or a NoiseModel, got float"):
        degrade.degrade(clean, "A", noise=0.02)


# --- the noise stage -----------------------------------------------------------------

@pytest.mark.parametrize("degradation, hybrid", CASES)
def test_noise_is_added_last_and_leaves_blur_and_fog_draws_alone(clean, degradation, hybrid):
    quiet_rng, noisy_rng = np.random.default_rng(5), np.random.default_rng(5)
    quiet, info = degrade.degrade(clean, degradation, rng=quiet_rng, hybrid=hybrid)
    model = NoiseModel(sigma=0.02, read_sigma=0.005, row_sigma=0.002)
    noisy, noisy_info = degrade.degrade(clean, degradation, rng=noisy_rng, hybrid=hybrid,
                                        noise=model)
    assert quiet_rng.random() == noisy_rng.random()         # the caller's stream unchanged
    assert {**noisy_info, "noise": None} == info             # same kernel, beta, depth seed
    assert noisy_info["noise"] == json.loads(json.dumps(model.to_dict()))
    assert NoiseModel.from_dict(noisy_info["noise"]) == model
    assert noisy.dtype == np.float32 and 0 <= noisy.min() and noisy.max() <= 1
    residual = (noisy - quiet).astype(np.float64)
    assert abs(residual.mean()) < 0.003
    assert 0.005 < residual.std() < 0.04


def test_noisy_degradation_is_reproducible_by_seed(clean):
    model = NoiseModel(sigma=0.04)
    first = degrade.degrade(clean, "B", rng=3, noise=model)[0]
    np.testing.assert_array_equal(first, degrade.degrade(clean, "B", rng=3, noise=model)[0])
    assert not np.array_equal(first, degrade.degrade(clean, "B", rng=4, noise=model)[0])


def test_zero_noise_model_is_the_noise_free_degradation(clean):
    quiet = degrade.degrade(clean, "C", rng=9)[0]
    np.testing.assert_array_equal(degrade.degrade(clean, "C", rng=9, noise=NoiseModel())[0],
                                  quiet)
