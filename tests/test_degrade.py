"""Tests for semgan_core.degrade: kernels (eqs. 17, 19, 20), fog (eq. 18), recipes A/B/C."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import ndimage

from semgan_core import degrade, synth

ALL_KERNELS = {
    "gaussian": degrade.gaussian_kernel(7, 1.0),
    "motion0": degrade.motion_kernel(10, 0),
    "motion30": degrade.motion_kernel(10, 30),
    "disk": degrade.disk_kernel(5),
    "disk_aa": degrade.disk_kernel(5, antialias=True),
    "composed": degrade.kernel_from_info(
        {"kernels": [degrade.GAUSSIAN, degrade.MOTION, degrade.DISK]}),
}


def _psnr(clean, other):
    return 10 * math.log10(1.0 / float(np.mean((clean - other) ** 2)))


@pytest.fixture(scope="module")
def clean():
    return synth.micrograph(64, kind="particles", rng=0)[0]


# --- kernels -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_KERNELS)
def test_kernels_are_float32_nonnegative_sum_to_one_and_point_symmetric(name):
    k = ALL_KERNELS[name]
    assert k.dtype == np.float32 and k.ndim == 2
    assert k.shape[0] % 2 == 1 and k.shape[1] % 2 == 1
    assert k.min() >= 0
    assert abs(float(k.sum()) - 1.0) < 1e-6
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-7)


def test_gaussian_kernel_follows_eq17():
    k = degrade.gaussian_kernel(7, 1.0)
    assert k.shape == (7, 7)
    assert k[3, 3] / k[3, 4] == pytest.approx(math.exp(0.5), rel=1e-5)
    assert k[3, 3] / k[4, 4] == pytest.approx(math.exp(1.0), rel=1e-5)
    assert k[3, 3] / k[3, 6] == pytest.approx(math.exp(4.5), rel=1e-4)
    np.testing.assert_array_equal(k, k.T)
    wide = degrade.gaussian_kernel(5, 2.0)
    assert wide[2, 2] / wide[2, 3] == pytest.approx(math.exp(1 / 8), rel=1e-5)


def test_motion_kernel_at_zero_degrees_is_a_horizontal_line_of_length_10():
    k = degrade.motion_kernel(10, 0)
    assert k.shape == (11, 11)
    assert not np.delete(k, 5, axis=0).any()
    np.testing.assert_allclose(k[5], [0.05] + [0.1] * 9 + [0.05], atol=1e-7)
    odd = degrade.motion_kernel(9, 0)
    np.testing.assert_allclose(odd[odd > 0], np.full(9, 1 / 9), atol=1e-7)


def test_motion_kernel_angles():
    np.testing.assert_allclose(degrade.motion_kernel(10, 90), degrade.motion_kernel(10, 0).T,
                               atol=1e-7)
    np.testing.assert_allclose(degrade.motion_kernel(10, 180), degrade.motion_kernel(10, 0),
                               atol=1e-7)
    diag = degrade.motion_kernel(10, 45)
    assert diag[4, 6] > 0.1 and diag[6, 4] > 0.1      # up-right as displayed
    assert diag[4, 4] == 0 and diag[6, 6] == 0


@pytest.mark.parametrize("angle", [0, 17, 30, 45, 60, 120])
def test_motion_kernel_spreads_like_a_segment_of_length_d(angle):
    k = degrade.motion_kernel(10, angle).astype(np.float64)
    n = k.shape[0] // 2
    x = np.arange(-n, n + 1)[None, :]
    y = -np.arange(-n, n + 1)[:, None]
    t = np.radians(angle)
    along = x * math.cos(t) + y * math.sin(t)
    across = -x * math.sin(t) + y * math.cos(t)
    assert float((k * along).sum()) == pytest.approx(0.0, abs=1e-6)
    assert float((k * along**2).sum()) == pytest.approx(100 / 12, abs=0.5)
    assert float((k * across**2).sum()) < 0.25


def test_disk_kernel_follows_eq20():
    k = degrade.disk_kernel(5)
    assert k.shape == (11, 11)
    x = np.arange(-5, 6)
    inside = x[:, None] ** 2 + x[None, :] ** 2 <= 25
    np.testing.assert_array_equal(k > 0, inside)
    np.testing.assert_allclose(k[inside], 1 / inside.sum(), rtol=1e-6)
    smooth = degrade.disk_kernel(5, antialias=True)
    assert smooth.max() == pytest.approx(1 / (math.pi * 25), rel=0.02)
    edge = smooth[(smooth > 0) & (smooth < smooth.max() * 0.99)]
    assert edge.size > 0                               # fractional edge pixels


def test_assumed_psf_is_the_paper_gaussian_and_read_only():
    np.testing.assert_array_equal(degrade.ASSUMED_PSF, degrade.gaussian_kernel(7, 1.0))
    with pytest.raises(ValueError):
        degrade.ASSUMED_PSF[0, 0] = 1.0


@pytest.mark.parametrize("call, match", [
    (lambda: degrade.gaussian_kernel(6), "gaussian_kernel: size must be an odd"),
    (lambda: degrade.gaussian_kernel(0), "gaussian_kernel: size"),
    (lambda: degrade.gaussian_kernel(7.0), "gaussian_kernel: size"),
    (lambda: degrade.gaussian_kernel(True), "gaussian_kernel: size"),
    (lambda: degrade.gaussian_kernel(7, 0), "gaussian_kernel: sigma must be finite and > 0"),
    (lambda: degrade.gaussian_kernel(7, float("nan")), "gaussian_kernel: sigma"),
    (lambda: degrade.motion_kernel(0), "motion_kernel: length must be finite and > 0"),
    (lambda: degrade.motion_kernel(float("inf")), "motion_kernel: length"),
    (lambda: degrade.motion_kernel(10, float("nan")), "motion_kernel: angle must be finite"),
    (lambda: degrade.disk_kernel(-1), "disk_kernel: radius must be finite and > 0"),
])
def test_kernel_parameters_are_validated(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_kernel_parameter_of_the_wrong_type():
    with pytest.raises(TypeError, match="gaussian_kernel: sigma must be a number"):
        degrade.gaussian_kernel(7, "wide")


# --- convolution ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_KERNELS)
def test_convolve_keeps_a_constant_image_constant(name):
    image = np.full((32, 40), 0.37, np.float32)
    out = degrade.convolve(image, ALL_KERNELS[name])
    assert out.dtype == np.float32 and out.shape == image.shape
    np.testing.assert_allclose(out, 0.37, atol=1e-6)


@pytest.mark.parametrize("name", ["motion0", "gaussian", "composed"])  # direct, FFT, FFT
def test_convolve_of_a_delta_gives_the_kernel(name):
    k = ALL_KERNELS[name]
    image = np.zeros((48, 48), np.float32)
    image[24, 24] = 1.0
    out = degrade.convolve(image, k)
    h, w = k.shape[0] // 2, k.shape[1] // 2
    np.testing.assert_allclose(out[24 - h:25 + h, 24 - w:25 + w], k, atol=1e-6)
    assert float(out.sum()) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("name", ["gaussian", "disk", "composed"])
@pytest.mark.parametrize("shape", [(40, 36), (9, 12)])      # kernel larger than the image
def test_convolve_fft_path_matches_scipy_reflect(name, shape):
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    k = ALL_KERNELS[name]
    expected = ndimage.convolve(image.astype(np.float64), k.astype(np.float64), mode="reflect")
    np.testing.assert_allclose(degrade.convolve(image, k), expected, atol=2e-6)


def test_convolve_output_stays_in_range():
    image = (np.random.default_rng(1).random((32, 32)) > 0.5).astype(np.float32)
    out = degrade.convolve(image, ALL_KERNELS["disk"])
    assert out.min() >= 0 and out.max() <= 1


@pytest.mark.parametrize("kernel, match", [
    (np.ones((2, 2)) / 4, "convolve: kernel must be a finite 2-D array with odd sides"),
    (np.ones(3) / 3, "convolve: kernel must be a finite 2-D array"),
    (np.full((3, 3), np.nan), "convolve: kernel must be a finite"),
    (np.ones((3, 3)), "convolve: kernel must be non-negative and sum to 1"),
    (np.array([[0.5, -0.5, 1.0]]), "convolve: kernel must be non-negative"),
])
def test_convolve_rejects_bad_kernels(kernel, match):
    with pytest.raises(ValueError, match=match):
        degrade.convolve(np.zeros((8, 8), np.float32), kernel)


def test_convolve_rejects_bad_images():
    with pytest.raises(ValueError, match="convolve"):
        degrade.convolve(np.zeros((2, 8, 8), np.float32), degrade.ASSUMED_PSF)
    with pytest.raises(ValueError, match="convolve"):
        degrade.convolve(np.full((8, 8), 1.5, np.float32), degrade.ASSUMED_PSF)


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
    (dict(shape=(8, 8), scale=0), "depth_map: scale must be finite and > 0"),
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
    (dict(beta=-1.0, depth=0.5), "fog: beta must be finite and >= 0"),
])
def test_fog_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        degrade.fog(np.zeros((8, 8), np.float32), **kwargs)


# --- recipes -------------------------------------------------------------------------

RECIPES = [("A", "random"), ("B", "random"), ("C", "random"), ("C", "compose")]


@pytest.mark.parametrize("recipe, hybrid", RECIPES)
def test_degrade_is_deterministic_lowers_psnr_and_records_json(clean, recipe, hybrid):
    out, info = degrade.degrade(clean, recipe, rng=7, hybrid=hybrid)
    again, info2 = degrade.degrade(clean, recipe, rng=np.random.default_rng(7), hybrid=hybrid)
    np.testing.assert_array_equal(out, again)
    assert info == info2
    assert out.dtype == np.float32 and out.shape == clean.shape
    assert out.min() >= 0 and out.max() <= 1
    assert _psnr(clean, out) < 35
    assert json.loads(json.dumps(info)) == info
    assert info["recipe"] == recipe
    assert info["hybrid"] == (hybrid if recipe == "C" else None)
    assert (info["fog"] is None) == (recipe == "A")


def test_recipe_a_is_reproduced_exactly_by_kernel_from_info(clean):
    out, info = degrade.degrade(clean, "A", rng=0)
    assert info["kernels"] == [{"type": "gaussian", "size": 7, "sigma": 1.0}]
    psf = degrade.kernel_from_info(json.loads(json.dumps(info)))
    np.testing.assert_array_equal(psf, degrade.ASSUMED_PSF)
    np.testing.assert_array_equal(degrade.convolve(clean, psf), out)


@pytest.mark.parametrize("recipe, hybrid", RECIPES[1:])
def test_fogged_recipes_are_reproduced_from_info(clean, recipe, hybrid):
    out, info = degrade.degrade(clean, recipe, rng=11, hybrid=hybrid)
    info = json.loads(json.dumps(info))
    fog = info["fog"]
    assert degrade.BETA_RANGE[0] <= fog["beta"] <= degrade.BETA_RANGE[1]
    assert fog["airlight"] == degrade.AIRLIGHT and fog["mode"] == "adopted"
    blurred = degrade.convolve(clean, degrade.kernel_from_info(info))
    depth = degrade.depth_from_info(info, clean.shape)
    assert depth.max() == pytest.approx(degrade.FOG_DEPTH)
    rebuilt = degrade.fog(blurred, beta=fog["beta"], depth=depth, airlight=fog["airlight"])
    np.testing.assert_array_equal(rebuilt, out)


def test_recipe_c_random_draws_each_kernel_and_compose_uses_all_three(clean):
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
    (dict(recipe="D"), r"degrade: recipe must be one of \('A', 'B', 'C'\), got 'D'"),
    (dict(recipe="C", hybrid="mix"), "degrade: hybrid must be one of"),
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


# --- preview (the book's widget callback) --------------------------------------------

def test_preview_draws_four_panels_and_switches_kernels_off(clean):
    from matplotlib.figure import Figure

    fig = degrade.preview(clean)
    assert isinstance(fig, Figure) and len(fig.axes) == 4
    assert fig.axes[1].get_title() == "PSF 27x27"
    bare = degrade.preview(clean, sigma=0, length=0, radius=0, beta=0)
    np.testing.assert_array_equal(bare.axes[3].images[0].get_array(), clean)
    assert degrade.preview(clean, length=0, radius=0).axes[1].get_title() == "PSF 7x7"
