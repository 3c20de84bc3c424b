"""Tests for semgan_core.metrics: known values, scikit-image agreement, properties."""

import math

import numpy as np
import pytest
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from semgan_core import metrics, realdata

SK_SSIM = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
               data_range=1, K1=0.01, K2=0.02)


def _gray(values):
    """An image given in 0-255 gray levels, as the float32 [0, 1] the metrics take."""
    return (np.asarray(values, dtype=np.float64) / 255.0).astype(np.float32)


def _structured(shape, rng):
    """Smooth shapes with sharp edges: a ramp, a bright disk and a dark bar."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    image = 0.2 + 0.3 * xx / shape[1]
    image[(yy - shape[0] / 2) ** 2 + (xx - shape[1] / 3) ** 2 < (min(shape) / 4) ** 2] = 0.9
    image[:, int(0.7 * shape[1]) : int(0.8 * shape[1])] = 0.05
    return np.clip(image + 0.01 * rng.standard_normal(shape), 0, 1).astype(np.float32)


# --- hand-computed values ------------------------------------------------------------

def test_no_reference_metrics_on_a_2x3_ramp():
    # f = [[0, 1, 2], [3, 5, 7]] (gray levels); m = 2 rows, n = 3 columns.
    # vertical differences f(x+1,y) - f(x,y): 3, 4, 5
    # horizontal differences f(x,y+1) - f(x,y): row 0: 1, 1; row 1: 2, 2
    # AG over the (m-1)(n-1) = 2 pixels (0,0), (0,1):
    #   sqrt((3^2 + 1^2)/2) = sqrt(5), sqrt((4^2 + 1^2)/2) = sqrt(8.5)
    #   AG = (sqrt(5) + sqrt(8.5)) / 2 = 2.575772...
    # CON: 4 horizontal + 3 vertical pairs, squares 1+1+4+4 + 9+16+25 = 60 -> 60/7
    # SF: RF^2 = 10/(m n) = 10/6, CF^2 = 50/6 -> SF = sqrt(60/6) = sqrt(10)
    image = _gray([[0, 1, 2], [3, 5, 7]])
    assert metrics.average_gradient(image) == pytest.approx(
        (math.sqrt(5) + math.sqrt(8.5)) / 2, rel=1e-5)
    assert metrics.contrast(image) == pytest.approx(60 / 7, rel=1e-5)
    assert metrics.spatial_frequency(image) == pytest.approx(math.sqrt(10), rel=1e-5)


def test_no_reference_metrics_on_a_3x3_dot():
    # f = 255 at the centre of a 3x3 zero image.
    # AG pixels (0,0),(0,1),(1,0),(1,1): 0, 255/sqrt2, 255/sqrt2, sqrt((255^2+255^2)/2) = 255
    #   AG = 255 (sqrt2 + 1) / 4 = 153.90...
    # CON: 12 adjacent pairs, 4 of them differ by 255 -> 4 * 255^2 / 12 = 21675
    # SF: RF^2 = CF^2 = 2 * 255^2 / 9 -> SF = sqrt(4 * 255^2 / 9) = 170
    image = np.zeros((3, 3), np.float32)
    image[1, 1] = 1.0
    assert metrics.average_gradient(image) == pytest.approx(255 * (math.sqrt(2) + 1) / 4)
    assert metrics.contrast(image) == pytest.approx(21675.0)
    assert metrics.spatial_frequency(image) == pytest.approx(170.0)


def test_constant_image_scores_zero():
    image = np.full((8, 9), 0.4, np.float32)
    assert metrics.evaluate(None, image) == {"ag": 0.0, "con": 0.0, "sf": 0.0}


def test_sf_and_con_share_the_squared_differences():
    rng = np.random.default_rng(0)
    m, n = 17, 23
    image = rng.random((m, n), dtype=np.float32)
    sf, con = metrics.spatial_frequency(image), metrics.contrast(image)
    assert sf**2 * m * n == pytest.approx(con * (2 * m * n - m - n), rel=1e-6)


def test_no_reference_metrics_are_transpose_invariant():
    image = np.random.default_rng(1).random((12, 20), dtype=np.float32)
    assert metrics.evaluate(None, image) == pytest.approx(metrics.evaluate(None, image.T))


# --- full-reference metrics against scikit-image -------------------------------------

@pytest.mark.parametrize("shape", [(11, 11), (16, 40), (64, 64), (100, 73), (140, 12)])
@pytest.mark.parametrize("kind", ["random", "structured", "blurred"])
def test_ssim_and_psnr_equal_scikit_image(shape, kind):
    rng = np.random.default_rng(sum(shape))
    if kind == "random":
        x, y = rng.random(shape, dtype=np.float32), rng.random(shape, dtype=np.float32)
    else:
        x = _structured(shape, rng)
        y = ndimage.gaussian_filter(x, 1.0) if kind == "blurred" else np.clip(
            x + 0.1 * rng.standard_normal(shape), 0, 1).astype(np.float32)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    assert metrics.ssim(x, y) == pytest.approx(structural_similarity(x64, y64, **SK_SSIM),
                                               abs=1e-10)
    expected = peak_signal_noise_ratio(x64, y64, data_range=1)
    assert metrics.psnr(x, y) == pytest.approx(expected, abs=1e-5)


def test_ssim_is_symmetric_and_one_for_identical_images():
    rng = np.random.default_rng(2)
    x, y = _structured((48, 48), rng), rng.random((48, 48), dtype=np.float32)
    assert metrics.ssim(x, x) == 1.0
    assert metrics.ssim(x, y) == pytest.approx(metrics.ssim(y, x), abs=1e-7)
    assert -1.0 <= metrics.ssim(x, y) < 1.0


def test_psnr_known_value_and_identical_images():
    zeros = np.zeros((4, 4), np.float32)
    tenth = np.full((4, 4), 0.1, np.float32)
    assert metrics.psnr(zeros, tenth) == pytest.approx(20.0, abs=1e-5)
    assert metrics.psnr(zeros, zeros) == math.inf


def test_evaluate_keys_and_values():
    rng = np.random.default_rng(3)
    clean = _structured((40, 50), rng)
    blurred = ndimage.gaussian_filter(clean, 1.0)
    values = metrics.evaluate(clean, blurred)
    assert list(values) == ["ssim", "psnr", "ag", "con", "sf"]
    assert values["ssim"] == metrics.ssim(clean, blurred)
    assert values["psnr"] == metrics.psnr(clean, blurred)
    assert values["ag"] == metrics.average_gradient(blurred)
    assert values["con"] == metrics.contrast(blurred)
    assert values["sf"] == metrics.spatial_frequency(blurred)
    assert all(isinstance(v, float) for v in values.values())
    as_uint8 = (blurred * 255).round().astype(np.uint8)          # images.as_image scales it
    assert metrics.evaluate(None, as_uint8) == pytest.approx(
        metrics.evaluate(None, as_uint8.astype(np.float32) / 255))
    assert list(metrics.evaluate(None, blurred)) == ["ag", "con", "sf"]


# --- properties ----------------------------------------------------------------------

def test_blur_lowers_and_noise_raises_the_no_reference_metrics():
    rng = np.random.default_rng(4)
    image = _structured((64, 64), rng)
    blurred = ndimage.gaussian_filter(image, 1.5)
    noisy = np.clip(image + 0.05 * rng.standard_normal(image.shape), 0, 1).astype(np.float32)
    base = metrics.evaluate(None, image)
    for key in ("ag", "con", "sf"):
        assert metrics.evaluate(None, blurred)[key] < base[key]
        assert metrics.evaluate(None, noisy)[key] > base[key]
    assert metrics.psnr(image, blurred) < math.inf
    assert metrics.ssim(image, blurred) < 1.0


# --- real micrographs against a loop implementation of eqs. 1-5 ----------------------

def _loop_metrics(f):
    """Eqs. 1-5 written out with loops, on gray levels f[x, y] (x rows, y columns)."""
    m, n = f.shape
    ag = sum(math.sqrt(((f[x + 1, y] - f[x, y]) ** 2 + (f[x, y + 1] - f[x, y]) ** 2) / 2)
             for x in range(m - 1) for y in range(n - 1)) / ((m - 1) * (n - 1))
    deltas = [f[x, y + 1] - f[x, y] for x in range(m) for y in range(n - 1)]
    deltas += [f[x + 1, y] - f[x, y] for x in range(m - 1) for y in range(n)]
    values, counts = np.unique(np.round(deltas, 3), return_counts=True)
    con = float(np.sum(values**2 * counts / len(deltas)))       # sum delta^2 P(delta)
    rf2 = sum((f[x, y] - f[x, y - 1]) ** 2 for x in range(m) for y in range(1, n)) / (m * n)
    cf2 = sum((f[x, y] - f[x - 1, y]) ** 2 for x in range(1, m) for y in range(n)) / (m * n)
    return {"ag": ag, "con": con, "sf": math.sqrt(rf2 + cf2)}


def test_real_micrograph_matches_loop_implementation():
    if realdata.real_data_dir() is None or not realdata.list_real_images("sio2"):
        pytest.skip(realdata.missing_reason())
    from semgan_core import images

    image = images.read_image(realdata.list_real_images("sio2")[0], crop_databar=True)
    top, left = image.shape[0] // 2 - 32, image.shape[1] // 2 - 32
    crop = image[top : top + 64, left : left + 64]
    expected = _loop_metrics(crop.astype(np.float64) * 255.0)
    assert metrics.evaluate(None, crop) == pytest.approx(expected, rel=1e-5)
    assert expected["ag"] > 0
    blurred = ndimage.gaussian_filter(image, 1.0)
    assert metrics.evaluate(None, blurred)["sf"] < metrics.evaluate(None, image)["sf"]


# --- errors --------------------------------------------------------------------------

def test_errors_name_the_function_and_the_problem():
    good = np.zeros((16, 16), np.float32)
    with pytest.raises(ValueError, match=r"ssim: x and y must have the same shape.*\(16, 17"):
        metrics.ssim(good, np.zeros((16, 17), np.float32))
    with pytest.raises(ValueError, match=r"ssim: images must be at least 11x11.*\(10, 16\)"):
        metrics.ssim(good[:10], good[:10])
    with pytest.raises(ValueError, match="psnr: x and y must have the same shape"):
        metrics.psnr(good, good.T[:5])
    with pytest.raises(ValueError, match=r"average_gradient: image must be at least 2x2.*\(1, 16"):
        metrics.average_gradient(good[:1])
    with pytest.raises(ValueError, match="evaluate: reference and image must have the same"):
        metrics.evaluate(good, good[:8])
    with pytest.raises(ValueError, match=r"evaluate: images must be at least 11x11"):
        metrics.evaluate(good[:8], good[:8])
    with pytest.raises(ValueError, match=r"evaluate\(image\).*NaN"):
        metrics.evaluate(None, np.full((4, 4), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"contrast\(image\).*shape \(4, 4, 3\)"):
        metrics.contrast(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"spatial_frequency\(image\).*NaN"):
        metrics.spatial_frequency(np.full((4, 4), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"psnr\(y\).*\[0, 1\]"):
        metrics.psnr(good, good + 2.0)
