"""Tests for semgan_core.baselines: each method deblurs, borders stay clean, "auto", errors."""

import numpy as np
import pytest
from skimage import restoration

from semgan_core import baselines, kernels, metrics, synth
from semgan_core.noise import NoiseModel, add_noise, estimate_noise

METHODS = ["wiener", "richardson_lucy", "constrained_least_squares", "blind_deconvolution"]
PSF = kernels.gaussian_kernel(7, 1.0)


def _restore(method, image, psf, **options):
    out = baselines.METHODS[method](image, psf, **options)
    return out[0] if method == "blind_deconvolution" else out


@pytest.fixture(scope="module")
def pair():
    clean, _ = synth.micrograph(64, kind="plates", rng=3)
    return kernels.convolve(clean, PSF), clean


def _width(psf):
    """RMS radius per axis: sqrt(sum h (x^2 + y^2) / 2), = sigma for a wide Gaussian."""
    p, q = psf.shape
    y, x = np.mgrid[:p, :q]
    return float(np.sqrt((psf * ((x - q // 2) ** 2 + (y - p // 2) ** 2)).sum() / 2))


@pytest.mark.parametrize("method", METHODS)
def test_each_method_improves_psnr_with_the_true_kernel(method, pair):
    blurred, clean = pair
    restored = _restore(method, blurred, PSF)
    assert metrics.psnr(clean, restored) > metrics.psnr(clean, blurred) + 1.0


@pytest.mark.parametrize("method", METHODS)
def test_borders_do_not_ring(method, pair):
    blurred, clean = pair
    restored = _restore(method, blurred, PSF)
    band = np.ones(clean.shape, bool)
    band[6:-6, 6:-6] = False

    def band_psnr(image):
        return 10 * np.log10(1 / np.mean((clean[band] - image[band].astype(np.float64)) ** 2))

    assert band_psnr(restored) > band_psnr(blurred) + 1.0


@pytest.mark.parametrize("method", METHODS)
def test_output_is_float32_in_range_and_psf_is_normalised_inside(method, pair):
    blurred, _ = pair
    restored = _restore(method, blurred, PSF)
    assert restored.dtype == np.float32 and restored.shape == blurred.shape
    assert 0.0 <= restored.min() and restored.max() <= 1.0
    as_uint8 = np.round(blurred * 255).astype(np.uint8)
    np.testing.assert_allclose(_restore(method, as_uint8, 5.0 * PSF),
                               _restore(method, as_uint8.astype(np.float32) / 255, PSF),
                               atol=1e-5)


def test_wiener_and_cls_equal_scikit_image_on_the_padded_image(pair):
    blurred, _ = pair
    padded, crop = baselines._pad(blurred.astype(np.float64), PSF)
    expected = restoration.wiener(padded, PSF, 1e-3, reg=np.ones((1, 1)), clip=False)
    np.testing.assert_allclose(baselines.wiener(blurred, PSF, balance=1e-3),
                               np.clip(expected[crop], 0, 1), atol=2e-5)
    expected = restoration.wiener(padded, PSF, 1e-4, clip=False)   # Laplacian regulariser
    np.testing.assert_allclose(baselines.constrained_least_squares(blurred, PSF, gamma=1e-4),
                               np.clip(expected[crop], 0, 1), atol=2e-5)


def test_richardson_lucy_equals_scikit_image_away_from_the_padding(pair):
    blurred, _ = pair
    padded, crop = baselines._pad(blurred.astype(np.float64), PSF)
    expected = restoration.richardson_lucy(padded, PSF, num_iter=30, clip=False)
    expected = np.clip(expected[crop], 0, 1)
    restored = baselines.richardson_lucy(blurred, PSF)
    # scikit-image's zero boundary and the FFT's periodic one differ in the margin; after
    # 30 steps that reaches the image's outermost pixels at the 1e-4 level only.
    np.testing.assert_allclose(restored, expected, atol=3e-4)
    np.testing.assert_allclose(restored[4:-4, 4:-4], expected[4:-4, 4:-4], atol=2e-5)


def test_blind_deconvolution_moves_a_too_wide_psf_toward_the_truth():
    true_psf = kernels.gaussian_kernel(15, 1.5)
    clean, _ = synth.micrograph(96, kind="plates", rng=1)
    blurred = kernels.convolve(clean, true_psf)
    psf0 = kernels.gaussian_kernel(15, 3.0)
    restored, psf = baselines.blind_deconvolution(blurred, psf0, iterations=30)
    assert psf.shape == psf0.shape and psf.dtype == np.float32
    assert psf.min() >= 0 and psf.sum() == pytest.approx(1.0, abs=1e-5)
    assert _width(true_psf) < _width(psf) < _width(psf0) - 0.2
    # From a too narrow start nothing pushes it wider: (narrow h, h_rest * clean) already
    # explains the data exactly, so blind RL stays put (documented in the book).
    narrow = kernels.gaussian_kernel(15, 0.6)
    _, psf = baselines.blind_deconvolution(blurred, narrow, iterations=10)
    assert _width(psf) == pytest.approx(_width(narrow), abs=0.05)


def test_blind_step_with_a_fixed_psf_is_richardson_lucy(pair):
    blurred, _ = pair
    padded, _ = baselines._pad(blurred, PSF)
    estimate = np.full(padded.shape, 0.5, np.float32)
    for _ in range(3):
        estimate, psf = baselines._blind_step(padded, estimate, PSF.astype(np.float64))
    expected = restoration.richardson_lucy(padded.astype(np.float64), PSF, num_iter=3,
                                           clip=False)
    np.testing.assert_allclose(estimate[20:-20, 20:-20], expected[20:-20, 20:-20],
                               atol=2e-5)


# --- errors --------------------------------------------------------------------------

@pytest.mark.parametrize("psf, match", [
    (np.ones(7), r"wiener: psf must be a non-empty 2-D numeric array, got shape \(7,\)"),
    (np.ones((3, 3, 3)), r"wiener: psf must be a non-empty 2-D .*\(3, 3, 3\)"),
    (-PSF, "wiener: psf must be finite and non-negative with a positive sum"),
    (np.zeros((3, 3)), r"wiener: psf must be .*positive sum, got min 0, sum 0"),
    (np.full((3, 3), np.nan), "wiener: psf must be finite"),
    (np.ones((65, 3)), r"wiener: psf of shape \(65, 3\) is larger than the image"),
])
def test_bad_psf_is_rejected(pair, psf, match):
    with pytest.raises(ValueError, match=match):
        baselines.wiener(pair[0], psf)


def test_bad_images_and_parameters_are_rejected(pair):
    blurred, clean = pair
    with pytest.raises(ValueError, match=r"richardson_lucy\(image\).*shape \(2, 64, 64\)"):
        baselines.richardson_lucy(np.stack([blurred, blurred]), PSF)
    with pytest.raises(ValueError, match=r"constrained_least_squares\(image\).*NaN"):
        baselines.constrained_least_squares(np.full((8, 8), np.nan, np.float32), PSF)
    with pytest.raises(ValueError, match="blind_deconvolution: psf0 must be finite"):
        baselines.blind_deconvolution(blurred, -PSF)
    with pytest.raises(ValueError, match="wiener: balance must be finite > 0, got 0.0"):
        baselines.wiener(blurred, PSF, balance=0.0)
    with pytest.raises(ValueError, match="wiener: balance must be a positive number or 'auto'"):
        baselines.wiener(blurred, PSF, balance="automatic")
    with pytest.raises(ValueError, match="constrained_least_squares: gamma must be finite > 0"):
        baselines.constrained_least_squares(blurred, PSF, gamma=float("nan"))
    with pytest.raises(ValueError, match="richardson_lucy: iterations must be an integer >= 1"):
        baselines.richardson_lucy(blurred, PSF, iterations=2.5)
    with pytest.raises(ValueError, match="blind_deconvolution: iterations must be an integer"):
        baselines.blind_deconvolution(blurred, PSF, iterations=0)
    with pytest.raises(ValueError, match="auto_parameter: method='blind_deconvolution' is not"):
        baselines.auto_parameter("blind_deconvolution", 0.01)
    with pytest.raises(ValueError, match="auto_parameter: sigma must be finite >= 0"):
        baselines.auto_parameter("wiener", -0.01)


# --- noise-aware parameters ----------------------------------------------------------

def test_auto_parameters_are_the_defaults_without_noise_and_grow_with_it():
    floor = baselines.NOISE_FLOOR
    for sigma in (0.0, floor / 2, floor):
        assert baselines.auto_parameter("wiener", sigma) == baselines.WIENER_BALANCE
        assert baselines.auto_parameter("constrained_least_squares", sigma) == \
            baselines.CLS_GAMMA
        assert baselines.auto_parameter("richardson_lucy", sigma) == baselines.RL_ITERATIONS
    sigmas = [0.005, 0.01, 0.02, 0.04, 0.08]
    balances = [baselines.auto_parameter("wiener", s) for s in sigmas]
    gammas = [baselines.auto_parameter("constrained_least_squares", s) for s in sigmas]
    counts = [baselines.auto_parameter("richardson_lucy", s) for s in sigmas]
    assert balances == sorted(balances) and balances[-1] > 100 * baselines.WIENER_BALANCE
    assert gammas == sorted(gammas) and gammas[-1] > 100 * baselines.CLS_GAMMA
    assert counts == sorted(counts, reverse=True) and counts[-1] < 10
    assert all(isinstance(c, int) for c in counts)


@pytest.fixture(scope="module")
def noisy_pair():
    clean = synth.micrograph(128, rng=7)[0]
    blurred = kernels.convolve(clean, PSF)
    return add_noise(blurred, NoiseModel(sigma=0.02), rng=7), clean


def test_auto_wiener_beats_the_default_balance_and_the_noisy_input(noisy_pair):
    noisy, clean = noisy_pair
    auto = metrics.psnr(clean, baselines.wiener(noisy, PSF, balance="auto"))
    assert auto > metrics.psnr(clean, baselines.wiener(noisy, PSF)) + 5.0
    assert auto > metrics.psnr(clean, noisy) + 1.0


@pytest.mark.parametrize("method, keyword", [("constrained_least_squares", "gamma"),
                                             ("richardson_lucy", "iterations")])
def test_auto_cls_and_rl_use_the_rule_at_the_estimated_noise(noisy_pair, method, keyword):
    noisy, clean = noisy_pair
    value = baselines.auto_parameter(method, estimate_noise(noisy))
    np.testing.assert_array_equal(_restore(method, noisy, PSF, **{keyword: "auto"}),
                                  _restore(method, noisy, PSF, **{keyword: value}))
    assert metrics.psnr(clean, _restore(method, noisy, PSF, **{keyword: "auto"})) > \
        metrics.psnr(clean, noisy)
