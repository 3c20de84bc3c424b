"""Tests of the fog fit from unpaired images (semgan_core.fogfit), on small stacks."""

import numpy as np
import pytest

from semgan_core import degrade, fogfit, kernels, synth

PSF = kernels.gaussian_kernel(7, 1.0)
#: A coarse grid around the truths below (the default grid takes ~10x longer).
GRID = dict(airlights=(0.5, 0.6, 0.7, 0.8, 0.9, 1.0), taus=(0.0, 0.5, 1.0, 1.5, 2.0),
            spreads=(0.0, 0.25, 0.5))
N = 96                      # images per domain (at 48 the fits wander more)


def _blurred(n, seed, size=128):
    rng = np.random.default_rng(seed)
    return np.stack([kernels.convolve(synth.micrograph(size, rng=rng)[0], PSF)
                     for _ in range(n)])


@pytest.fixture(scope="module")
def domains():
    """Blurred images of two unrelated sets of fields: the blurred domain's and the
    clear domain's (blurred by the known PSF, as estimate_fog expects)."""
    return _blurred(N, seed=1), _blurred(N, seed=2)


def _fogged(stack, *, airlight, beta, depth_max, seed):
    """Eq. 18 as the datasets apply it: beta ~ U(beta), depth = depth_max * depth_map."""
    rng = np.random.default_rng(seed)
    return np.stack([degrade.fog(x, beta=rng.uniform(*beta), airlight=airlight,
                                 depth=depth_max * degrade.depth_map(x.shape, rng=rng))
                     for x in stack])


@pytest.mark.parametrize("airlight, beta, depth_max, tau", [
    (degrade.AIRLIGHT, degrade.BETA_RANGE, degrade.FOG_DEPTH, (0.75, 1.25)),   # B and C
    (0.6, (0.5, 0.5), 1.0, (0.5, 0.5)),
])
def test_estimate_fog_recovers_a_known_fog(domains, airlight, beta, depth_max, tau):
    target, clear = domains
    foggy = _fogged(target, airlight=airlight, beta=beta, depth_max=depth_max, seed=3)
    fit = fogfit.estimate_fog(foggy, clear, seed=0, **GRID)
    assert set(fit) == {"airlight", "tau", "distance", "distance_no_fog"}
    # within one grid step: on 96 images a lower airlight with a deeper fog sometimes
    # fits as well (measured over 8 seeds: 14 of 16 fits exact, 2 one step off)
    assert fit["airlight"] == pytest.approx(airlight, abs=0.1 + 1e-9)
    low, high = fit["tau"]
    assert 0 <= low <= high and high - low <= 1.0
    assert (low + high) / 2 == pytest.approx(sum(tau) / 2, abs=0.5 + 1e-9)
    assert fit["distance"] < fit["distance_no_fog"] / 5


def test_estimate_fog_finds_no_fog_in_fog_free_images(domains):
    target, clear = domains
    fit = fogfit.estimate_fog(target, clear, seed=0, **GRID)
    assert fit["tau"] == [0.0, 0.0]
    assert fit["distance"] == fit["distance_no_fog"]
    assert fit["airlight"] == GRID["airlights"][0]    # without fog it does not matter


def test_estimate_fog_is_seeded(domains):
    target, clear = (x[:12] for x in domains)
    foggy = _fogged(target, airlight=0.8, beta=(2, 2), depth_max=0.5, seed=4)
    small = dict(airlights=(0.7, 0.8), taus=(0.5, 1.0), spreads=(0.0,))
    assert fogfit.estimate_fog(foggy, clear, seed=5, **small) == \
        fogfit.estimate_fog(foggy, clear, seed=5, **small)


@pytest.mark.parametrize("blurred, clear, grid, match", [
    (np.zeros((8, 8)), np.zeros((2, 8, 8)), {}, r"expected a stack of shape \(N, H, W\), "
                                                r"got shape \(8, 8\)"),
    (np.zeros((2, 8, 8)), np.zeros((8, 8)), {}, r"estimate_fog: expected a stack of shape"),
    (np.zeros((2, 8, 8)), np.zeros((0, 8, 8)), {}, "estimate_fog: the stack holds no images"),
    (np.full((2, 8, 8), 2.0), np.zeros((2, 8, 8)), {}, r"\[0, 1\]"),
    (np.zeros((2, 8, 8)), np.zeros((2, 8, 8)), {"taus": ()},
     "estimate_fog: the airlight, tau and spread grids must not be empty"),
])
def test_estimate_fog_refuses_bad_input(blurred, clear, grid, match):
    with pytest.raises(ValueError, match=match):
        fogfit.estimate_fog(blurred, clear, **grid)


def test_fog_statistics_see_the_fog():
    stack = _blurred(4, seed=6)
    foggy = _fogged(stack, airlight=0.8, beta=(2, 2), depth_max=0.5, seed=7)
    clear_stats, foggy_stats = fogfit.fog_statistics(stack), fogfit.fog_statistics(foggy)
    assert clear_stats.shape == (4, 3) and clear_stats.dtype == np.float64
    floor, mean, std = clear_stats.T
    assert np.all(floor <= mean) and np.all(std > 0)
    assert np.all(foggy_stats[:, 0] > floor)            # the dark floor lifts towards A
    assert np.all(foggy_stats[:, 2] < std)               # the contrast flattens
    flat = fogfit.fog_statistics(np.full((1, 32, 32), 0.3, np.float32))
    np.testing.assert_allclose(flat, [[0.3, 0.3, 0.0]], atol=1e-9)
    with pytest.raises(ValueError, match=r"fog_statistics: expected a stack"):
        fogfit.fog_statistics(stack[0])


def test_apply_fog_follows_eq18_with_a_seeded_depth_field():
    image = _blurred(1, seed=8)[0]
    assert np.array_equal(fogfit.apply_fog(image, airlight=0.8, tau=0.0, rng=0), image)
    foggy = fogfit.apply_fog(image, airlight=0.8, tau=1.0, rng=0)
    assert foggy.dtype == np.float32 and foggy.shape == image.shape
    depth = degrade.depth_map(image.shape, rng=0)
    t = np.exp(-depth)
    np.testing.assert_allclose(foggy, image * t + 0.8 * (1 - t), atol=1e-5)
    assert np.array_equal(foggy, fogfit.apply_fog(image, airlight=0.8, tau=1.0, rng=0))
    with pytest.raises(ValueError, match="apply_fog: image"):
        fogfit.apply_fog(np.full((8, 8), 1.5, np.float32), airlight=0.8, tau=1.0)
