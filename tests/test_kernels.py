"""Tests for semgan_core.kernels: the paper's kernels (eqs. 17, 19, 20) and convolve."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage, signal

from semgan_core import kernels, metrics, synth

ALL_KERNELS = {
    "gaussian": kernels.gaussian_kernel(7, 1.0),
    "motion0": kernels.motion_kernel(10, 0),
    "motion30": kernels.motion_kernel(10, 30),
    "disk": kernels.disk_kernel(5),
    "disk_aa": kernels.disk_kernel(5, antialias=True),
    "composed": kernels.kernel_from_specs([kernels.GAUSSIAN, kernels.MOTION, kernels.DISK]),
}


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
    k = kernels.gaussian_kernel(7, 1.0)
    assert k.shape == (7, 7)
    assert k[3, 3] / k[3, 4] == pytest.approx(math.exp(0.5), rel=1e-5)
    assert k[3, 3] / k[4, 4] == pytest.approx(math.exp(1.0), rel=1e-5)
    assert k[3, 3] / k[3, 6] == pytest.approx(math.exp(4.5), rel=1e-4)
    np.testing.assert_array_equal(k, k.T)
    wide = kernels.gaussian_kernel(5, 2.0)
    assert wide[2, 2] / wide[2, 3] == pytest.approx(math.exp(1 / 8), rel=1e-5)


def test_motion_kernel_at_zero_degrees_is_a_horizontal_line_of_length_10():
    k = kernels.motion_kernel(10, 0)
    assert k.shape == (11, 11)
    assert not np.delete(k, 5, axis=0).any()
    np.testing.assert_allclose(k[5], [0.05] + [0.1] * 9 + [0.05], atol=1e-7)
    odd = kernels.motion_kernel(9, 0)
    np.testing.assert_allclose(odd[odd > 0], np.full(9, 1 / 9), atol=1e-7)


def test_motion_kernel_angles():
    np.testing.assert_allclose(kernels.motion_kernel(10, 90), kernels.motion_kernel(10, 0).T,
                               atol=1e-7)
    np.testing.assert_allclose(kernels.motion_kernel(10, 180), kernels.motion_kernel(10, 0),
                               atol=1e-7)
    diag = kernels.motion_kernel(10, 45)
    assert diag[4, 6] > 0.1 and diag[6, 4] > 0.1      # up-right as displayed
    assert diag[4, 4] == 0 and diag[6, 6] == 0


@pytest.mark.parametrize("angle", [0, 17, 30, 45, 60, 120])
def test_motion_kernel_spreads_like_a_segment_of_length_d(angle):
    k = kernels.motion_kernel(10, angle).astype(np.float64)
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
    k = kernels.disk_kernel(5)
    assert k.shape == (11, 11)
    x = np.arange(-5, 6)
    inside = x[:, None] ** 2 + x[None, :] ** 2 <= 25
    np.testing.assert_array_equal(k > 0, inside)
    np.testing.assert_allclose(k[inside], 1 / inside.sum(), rtol=1e-6)
    smooth = kernels.disk_kernel(5, antialias=True)
    assert smooth.max() == pytest.approx(1 / (math.pi * 25), rel=0.02)
    edge = smooth[(smooth > 0) & (smooth < smooth.max() * 0.99)]
    assert edge.size > 0                               # fractional edge pixels


def test_assumed_psf_is_the_paper_gaussian_and_read_only():
    np.testing.assert_array_equal(kernels.ASSUMED_PSF, kernels.gaussian_kernel(7, 1.0))
    with pytest.raises(ValueError):
        kernels.ASSUMED_PSF[0, 0] = 1.0


@pytest.mark.parametrize("call, match", [
    (lambda: kernels.gaussian_kernel(6), "gaussian_kernel: size must be an odd"),
    (lambda: kernels.gaussian_kernel(0), "gaussian_kernel: size"),
    (lambda: kernels.gaussian_kernel(7.0), "gaussian_kernel: size"),
    (lambda: kernels.gaussian_kernel(True), "gaussian_kernel: size"),
    (lambda: kernels.gaussian_kernel(7, 0), "gaussian_kernel: sigma must be finite > 0"),
    (lambda: kernels.gaussian_kernel(7, float("nan")), "gaussian_kernel: sigma"),
    (lambda: kernels.motion_kernel(0), "motion_kernel: length must be finite > 0"),
    (lambda: kernels.motion_kernel(float("inf")), "motion_kernel: length"),
    (lambda: kernels.motion_kernel(10, float("nan")), "motion_kernel: angle must be finite"),
    (lambda: kernels.disk_kernel(-1), "disk_kernel: radius must be finite > 0"),
])
def test_kernel_parameters_are_validated(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_kernel_parameter_of_the_wrong_type():
    with pytest.raises(TypeError, match="gaussian_kernel: sigma must be a number"):
        kernels.gaussian_kernel(7, "wide")


# --- convolution ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ALL_KERNELS)
def test_convolve_keeps_a_constant_image_constant(name):
    image = np.full((32, 40), 0.37, np.float32)
    out = kernels.convolve(image, ALL_KERNELS[name])
    assert out.dtype == np.float32 and out.shape == image.shape
    np.testing.assert_allclose(out, 0.37, atol=1e-6)


@pytest.mark.parametrize("name", ["motion0", "gaussian", "composed"])  # direct, FFT, FFT
def test_convolve_of_a_delta_gives_the_kernel(name):
    k = ALL_KERNELS[name]
    image = np.zeros((48, 48), np.float32)
    image[24, 24] = 1.0
    out = kernels.convolve(image, k)
    h, w = k.shape[0] // 2, k.shape[1] // 2
    np.testing.assert_allclose(out[24 - h:25 + h, 24 - w:25 + w], k, atol=1e-6)
    assert float(out.sum()) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("name", ["gaussian", "disk", "composed"])
@pytest.mark.parametrize("shape", [(40, 36), (9, 12)])      # kernel larger than the image
def test_convolve_fft_path_matches_scipy_reflect(name, shape):
    image = np.random.default_rng(0).random(shape).astype(np.float32)
    k = ALL_KERNELS[name]
    expected = ndimage.convolve(image.astype(np.float64), k.astype(np.float64), mode="reflect")
    np.testing.assert_allclose(kernels.convolve(image, k), expected, atol=2e-6)


def test_convolve_output_stays_in_range():
    image = (np.random.default_rng(1).random((32, 32)) > 0.5).astype(np.float32)
    out = kernels.convolve(image, ALL_KERNELS["disk"])
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
        kernels.convolve(np.zeros((8, 8), np.float32), kernel)


def test_convolve_rejects_bad_images():
    with pytest.raises(ValueError, match="convolve"):
        kernels.convolve(np.zeros((2, 8, 8), np.float32), kernels.ASSUMED_PSF)
    with pytest.raises(ValueError, match="convolve"):
        kernels.convolve(np.full((8, 8), 1.5, np.float32), kernels.ASSUMED_PSF)


def test_kernel_from_specs_composes_and_validates():
    single = kernels.kernel_from_specs([kernels.GAUSSIAN])
    np.testing.assert_array_equal(single, kernels.ASSUMED_PSF)
    composed = ALL_KERNELS["composed"]
    assert composed.shape == (27, 27) and abs(float(composed.sum()) - 1) < 1e-6
    with pytest.raises(ValueError, match="kernel_from_specs: expected a non-empty list"):
        kernels.kernel_from_specs([])
    with pytest.raises(ValueError, match="kernel_from_specs: expected a kernel spec"):
        kernels.kernel_from_specs([{"type": "box", "size": 3}])


# --- the Wiener filter's spatial kernel ----------------------------------------------

def test_wiener_kernel_is_a_sharpening_kernel_that_keeps_the_mean():
    k = kernels.wiener_kernel(kernels.ASSUMED_PSF, 0.01)
    assert k.shape == (15, 15) and k.dtype == np.float32
    assert float(k.sum()) == pytest.approx(1.0, abs=1e-5)
    assert k[7, 7] > 1 and k.min() < 0                   # centre above 1, negative taps
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-6)
    assert kernels.wiener_kernel(kernels.ASSUMED_PSF, 0.01, size=9).shape == (9, 9)


def test_wiener_kernel_sharpens_more_at_a_smaller_balance():
    centres = [kernels.wiener_kernel(kernels.ASSUMED_PSF, b)[7, 7]
               for b in (0.001, 0.01, 0.1)]
    assert centres[0] > centres[1] > centres[2]


def _micrograph():
    from semgan_core import synth

    return synth.micrograph(128, rng=0)[0].astype(np.float64)


def test_wiener_kernel_brings_a_blurred_image_back_towards_the_original():
    image = _micrograph()
    blurred = kernels.convolve(image.astype(np.float32), kernels.ASSUMED_PSF)
    k = kernels.wiener_kernel(kernels.ASSUMED_PSF, 0.01).astype(np.float64)
    restored = np.clip(ndimage.convolve(blurred.astype(np.float64), k, mode="reflect"), 0, 1)
    before, after = np.abs(blurred - image).mean(), np.abs(restored - image).mean()
    assert after < 0.7 * before                 # measured: 0.060 -> 0.035


def test_wiener_kernel_of_an_off_centre_psf_is_a_convolution_kernel():
    """A one-pixel shift (|H| = 1) is undone exactly: the kernel is applied by
    convolution, as kernels.convolve applies the PSF."""
    shift = np.zeros((3, 3), np.float32)
    shift[1, 2] = 1.0
    k = kernels.wiener_kernel(shift, 1e-3, size=5)
    expected = np.zeros((5, 5), np.float32)
    expected[2, 1] = 1.0
    np.testing.assert_allclose(k, expected, atol=1e-5)
    image = _micrograph()
    moved = kernels.convolve(image.astype(np.float32), shift)
    back = ndimage.convolve(moved.astype(np.float64), k.astype(np.float64), mode="reflect")
    np.testing.assert_allclose(back[2:-2, 2:-2], image[2:-2, 2:-2], atol=1e-4)


@pytest.mark.parametrize("call, match", [
    (lambda: kernels.wiener_kernel(kernels.ASSUMED_PSF, 0.01, size=14),
     "wiener_kernel: size must be odd, got 14"),
    (lambda: kernels.wiener_kernel(kernels.ASSUMED_PSF, 0.01, size=0),
     "wiener_kernel: size must be an integer >= 1"),
    (lambda: kernels.wiener_kernel(kernels.ASSUMED_PSF, 0), "wiener_kernel: balance must be "
                                                            "finite > 0, got 0"),
    (lambda: kernels.wiener_kernel(kernels.ASSUMED_PSF, -0.1), "wiener_kernel: balance"),
    (lambda: kernels.wiener_kernel(kernels.ASSUMED_PSF, float("nan")),
     "wiener_kernel: balance"),
    (lambda: kernels.wiener_kernel(np.ones((4, 4)) / 16, 0.01),
     "wiener_kernel: kernel must be a finite 2-D array with odd sides"),
    (lambda: kernels.wiener_kernel(-np.ones((3, 3)), 0.01),
     "wiener_kernel: kernel must be non-negative"),
])
def test_wiener_kernel_refuses_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_psf_power_scales_a_gaussian_blur_and_composes():
    psf = kernels.gaussian_kernel(7, 1.0)
    assert np.array_equal(kernels.psf_power(psf, 0), np.ones((1, 1), np.float32))
    np.testing.assert_allclose(kernels.psf_power(psf, 1), psf, atol=1e-6)
    # for a Gaussian, strength s blurs as the Gaussian of sigma * sqrt(s) (measured:
    # 57 and 82 dB apart; a sampled Gaussian narrower than sigma 0.7 is itself aliased:
    # 44 dB at s = 0.36, against 27 dB between the sharp image and either blur)
    image, _ = synth.micrograph(128, rng=0)
    for s, floor in ((0.5, 50), (1.44, 50), (0.36, 40), (4.0, 50)):
        k = kernels.psf_power(psf, s)
        assert k.min() >= 0 and abs(float(k.sum()) - 1) < 1e-5 and k.shape[0] % 2 == 1
        gauss = kernels.convolve(image, kernels.gaussian_kernel(15, np.sqrt(s)))
        assert metrics.psnr(gauss, kernels.convolve(image, k)) > floor, s
        assert metrics.psnr(image, gauss) < 35
    half = kernels.psf_power(psf, 0.5)
    whole = signal.convolve(half, half)
    r = (whole.shape[0] - 7) // 2
    assert np.abs(whole[r:r + 7, r:r + 7] - psf).max() < 0.005


def test_psf_power_refuses_a_negative_strength_and_a_bad_kernel():
    with pytest.raises(ValueError, match="psf_power: strength must be"):
        kernels.psf_power(kernels.gaussian_kernel(7, 1.0), -0.5)
    with pytest.raises(ValueError, match="psf_power: kernel must be"):
        kernels.psf_power(np.ones((4, 4)) / 16, 0.5)
