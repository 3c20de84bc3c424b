"""Tests for semgan_core.synth: procedural SEM-like micrographs."""

import doctest

import numpy as np
import pytest
from scipy import ndimage

from semgan_core import synth

BASE_KINDS = ("particles", "rods", "plates", "porous")


def _mean_gradient(image):
    gy, gx = np.gradient(image)
    return float(np.hypot(gx, gy).mean())


def test_kinds_lists_the_four_materials_and_mixed():
    assert synth.KINDS == BASE_KINDS + ("mixed",)


@pytest.mark.parametrize("kind", synth.KINDS)
def test_image_and_mask_follow_the_contract(kind):
    image, mask = synth.micrograph(64, kind=kind, rng=1)
    assert image.shape == mask.shape == (64, 64)
    assert image.dtype == np.float32 and mask.dtype == np.int32
    assert np.isfinite(image).all()
    assert 0.0 <= image.min() and image.max() <= 1.0


@pytest.mark.parametrize("size", [(48, 80), (80, 48), [40, 32]])
def test_non_square_sizes(size):
    image, mask = synth.micrograph(size, kind="mixed", rng=2)
    assert image.shape == mask.shape == tuple(size)


def test_numpy_integer_size_is_accepted():
    image, _ = synth.micrograph(np.int64(32), kind="rods", rng=0)
    assert image.shape == (32, 32)


@pytest.mark.parametrize("kind", synth.KINDS)
def test_same_seed_same_arrays_other_seed_other_arrays(kind):
    a, mask_a = synth.micrograph(64, kind=kind, rng=7)
    b, mask_b = synth.micrograph(64, kind=kind, rng=7)
    c, _ = synth.micrograph(64, kind=kind, rng=8)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(mask_a, mask_b)
    assert not np.array_equal(a, c)


def test_generator_and_int_seed_agree_and_generator_advances():
    by_int, _ = synth.micrograph(48, kind="particles", rng=3)
    rng = np.random.default_rng(3)
    first, _ = synth.micrograph(48, kind="particles", rng=rng)
    second, _ = synth.micrograph(48, kind="particles", rng=rng)
    np.testing.assert_array_equal(by_int, first)
    assert not np.array_equal(first, second)


def test_no_seed_still_works():
    image, mask = synth.micrograph(32)
    assert image.shape == mask.shape == (32, 32)


@pytest.mark.parametrize("kind", synth.KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mask_labels_are_consecutive_and_objects_present(kind, seed):
    _, mask = synth.micrograph(96, kind=kind, rng=seed)
    labels = np.unique(mask)
    assert mask.min() >= 0 and mask.max() >= 1
    assert set(labels[labels > 0]) == set(range(1, mask.max() + 1))


@pytest.mark.parametrize("kind", synth.KINDS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_objects_are_brighter_than_substrate_and_pores(kind, seed):
    image, mask = synth.micrograph(96, kind=kind, rng=seed)
    if mask.min() > 0:
        pytest.skip("this draw has no substrate or pore pixel")
    assert image[mask > 0].mean() > image[mask == 0].mean() + 0.05


@pytest.mark.parametrize("kind", synth.KINDS)
def test_contrast_is_stretched_without_heavy_clipping(kind):
    image, _ = synth.micrograph(128, kind=kind, rng=4)
    low, high = np.percentile(image, (1, 99))
    assert high - low > 0.3
    assert (image == 0).mean() < 0.02 and (image == 1).mean() < 0.02


@pytest.mark.parametrize("kind", synth.KINDS)
def test_images_have_sharp_detail_that_blur_removes(kind):
    image, _ = synth.micrograph(96, kind=kind, rng=5)
    blurred = ndimage.gaussian_filter(image, 1.0, truncate=3.0)  # the paper's 7x7 kernel
    assert _mean_gradient(image) > 0.01
    assert _mean_gradient(image) > 1.2 * _mean_gradient(blurred)


def test_noise_changes_the_image_and_stays_in_range():
    clean, mask = synth.micrograph(64, kind="plates", rng=6)
    noisy, noisy_mask = synth.micrograph(64, kind="plates", rng=6, noise=20)
    assert noisy.dtype == np.float32
    assert 0.0 <= noisy.min() and noisy.max() <= 1.0
    assert np.abs(noisy - clean).mean() > 0.01
    np.testing.assert_array_equal(mask, noisy_mask)


def test_more_electrons_means_less_noise():
    clean, _ = synth.micrograph(64, kind="rods", rng=6)
    errors = [np.abs(synth.micrograph(64, kind="rods", rng=6, noise=n)[0] - clean).mean()
              for n in (10, 1000)]
    assert errors[1] < errors[0] / 3


def test_noise_off_by_default():
    default, _ = synth.micrograph(48, kind="porous", rng=9)
    explicit, _ = synth.micrograph(48, kind="porous", rng=9, noise=None)
    np.testing.assert_array_equal(default, explicit)


def test_unknown_kind_names_the_kinds():
    with pytest.raises(ValueError, match=r"kind must be one of .*particles.*mixed"):
        synth.micrograph(32, kind="spheres")


@pytest.mark.parametrize("size", [8, 15, (64, 8), 64.0, "64", (64,), (64, 64, 1), True,
                                  (64.0, 64)])
def test_bad_size_is_refused(size):
    with pytest.raises(ValueError, match=r"micrograph: size must be .*>= 16"):
        synth.micrograph(size)


@pytest.mark.parametrize("noise", [0, -5, float("nan"), float("inf"), "10", True])
def test_bad_noise_is_refused(noise):
    with pytest.raises(ValueError, match=r"micrograph: noise must be None or a positive"):
        synth.micrograph(32, noise=noise)


def test_docstring_examples_run():
    result = doctest.testmod(synth)
    assert result.attempted > 0 and result.failed == 0
