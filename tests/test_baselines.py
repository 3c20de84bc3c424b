"""Tests for semgan_core.baselines: each method deblurs, borders stay clean, errors."""

import numpy as np
import pytest
from skimage import restoration

from semgan_core import baselines, degrade, metrics, synth

METHODS = ["wiener", "richardson_lucy", "constrained_least_squares", "blind_deconvolution"]
PSF = degrade.gaussian_kernel(7, 1.0)


def _restore(method, image, psf, **options):
    out = baselines.METHODS[method](image, psf, **options)
    return out[0] if method == "blind_deconvolution" else out


@pytest.fixture(scope="module")
def pair():
    clean, _ = synth.micrograph(64, kind="plates", rng=3)
    return degrade.convolve(clean, PSF), clean


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
    true_psf = degrade.gaussian_kernel(15, 1.5)
    clean, _ = synth.micrograph(96, kind="plates", rng=1)
    blurred = degrade.convolve(clean, true_psf)
    psf0 = degrade.gaussian_kernel(15, 3.0)
    restored, psf = baselines.blind_deconvolution(blurred, psf0, iterations=30)
    assert psf.shape == psf0.shape and psf.dtype == np.float32
    assert psf.min() >= 0 and psf.sum() == pytest.approx(1.0, abs=1e-5)
    assert _width(true_psf) < _width(psf) < _width(psf0) - 0.2
    # From a too narrow start nothing pushes it wider: (narrow h, h_rest * clean) already
    # explains the data exactly, so blind RL stays put (documented in the book).
    narrow = degrade.gaussian_kernel(15, 0.6)
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


def test_defaults_are_the_tuned_optimum_on_the_training_set():
    blurred, clean = baselines.training_pairs()
    step = 10**0.25
    for method, default in [("wiener", baselines.WIENER_BALANCE),
                            ("constrained_least_squares", baselines.CLS_GAMMA)]:
        grid = [default / step, default, default * step]
        best, results = baselines.tune(method, blurred, clean, PSF, grid)
        assert best == default
        assert [row["value"] for row in results] == grid
        assert all(np.isfinite(row["psnr"]) for row in results)
    assert baselines.WIENER_BALANCE in baselines.TUNING_GRID
    assert baselines.CLS_GAMMA in baselines.TUNING_GRID


def test_tune_with_a_blind_method_and_iterations(pair):
    blurred, clean = pair
    best, results = baselines.tune("blind_deconvolution", [blurred], [clean], PSF, [1, 5])
    assert best == 5 and results[1]["psnr"] > results[0]["psnr"]


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
    with pytest.raises(ValueError, match="wiener: balance must be a positive finite number"):
        baselines.wiener(blurred, PSF, balance=0.0)
    with pytest.raises(ValueError, match="constrained_least_squares: gamma must be a pos"):
        baselines.constrained_least_squares(blurred, PSF, gamma=float("nan"))
    with pytest.raises(ValueError, match="richardson_lucy: iterations must be a positive int"):
        baselines.richardson_lucy(blurred, PSF, iterations=2.5)
    with pytest.raises(ValueError, match="blind_deconvolution: iterations must be a pos"):
        baselines.blind_deconvolution(blurred, PSF, iterations=0)
    with pytest.raises(ValueError, match="tune: method must be one of"):
        baselines.tune("unsharp", [blurred], [clean], PSF, [1])
    with pytest.raises(ValueError, match="tune: need a non-empty grid.*2 blurred and 1 clean"):
        baselines.tune("wiener", [blurred, blurred], [clean], PSF, [1e-3])
