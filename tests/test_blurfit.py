"""Tests of the blur and noise estimates from unpaired images (semgan_core.blurfit)."""

import numpy as np
import pytest

from semgan_core import blurfit, kernels, noise, synth

TRUE_PSF = kernels.gaussian_kernel(7, 1.0)


def _clear(n, size=128, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([synth.micrograph(size, rng=rng)[0] for _ in range(n)])


def test_noise_levels_find_the_shot_noise_at_mid_grey():
    clean = np.tile(np.linspace(0.2, 0.8, 128, dtype=np.float32), (128, 1))
    stack = np.stack([noise.add_noise(clean, noise.NoiseModel(sigma=s), rng=i)
                      for i, s in enumerate((0.01, 0.02, 0.04))])
    np.testing.assert_allclose(blurfit.noise_levels(stack), [0.01, 0.02, 0.04], rtol=0.1)


def test_noise_levels_refuse_a_single_image():
    with pytest.raises(ValueError, match=r"noise_levels: expected a stack of shape \(N, H, W\)"):
        blurfit.noise_levels(np.zeros((8, 8), np.float32))


def test_estimate_psf_recovers_a_gaussian_blur_from_unrelated_images():
    clear = _clear(24, seed=3)
    blurred = np.stack([kernels.convolve(x, TRUE_PSF) for x in _clear(24, seed=4)])
    psf = blurfit.estimate_psf(blurred, clear, size=15)
    assert psf.shape == (15, 15) and psf.dtype == np.float32
    assert psf.sum() == pytest.approx(1.0, abs=1e-5) and psf.min() >= 0
    np.testing.assert_allclose(psf, psf[::-1, ::-1], atol=1e-6)
    truth = np.zeros((15, 15), np.float32)
    truth[4:11, 4:11] = TRUE_PSF
    assert np.abs(psf - truth).sum() < 0.25          # the identity kernel: 1.68
    # a PSF from two clear sets is (nearly) the identity
    same = blurfit.estimate_psf(_clear(24, seed=4), clear, size=15)
    assert same[7, 7] > 0.8


def test_estimate_psf_takes_the_noise_power_off():
    clear = _clear(24, seed=3)
    rng = np.random.default_rng(5)
    blurred = np.stack([noise.add_noise(kernels.convolve(x, TRUE_PSF),
                                        noise.NoiseModel(sigma=0.04), rng=rng)
                        for x in _clear(24, seed=4)])
    truth = np.zeros((15, 15), np.float32)
    truth[4:11, 4:11] = TRUE_PSF
    plain = blurfit.estimate_psf(blurred, clear)
    sigmas = [noise.estimate_noise(x) for x in blurred]
    corrected = blurfit.estimate_psf(blurred, clear, blurred_noise=sigmas)
    assert np.abs(corrected - truth).sum() < np.abs(plain - truth).sum()


@pytest.mark.parametrize("size, match", [(4, "size must be odd"), (301, "size must be odd"),
                                         (1, "size must be an integer >= 3")])
def test_estimate_psf_refuses_bad_sizes(size, match):
    stack = _clear(2, size=32)
    with pytest.raises(ValueError, match=f"estimate_psf: {match}"):
        blurfit.estimate_psf(stack, stack, size=size)


def test_estimate_psf_refuses_stacks_of_other_sizes():
    with pytest.raises(ValueError, match="estimate_psf: blurred crops are"):
        blurfit.estimate_psf(_clear(2, size=32), _clear(2, size=64))
