"""Tests of semgan_core.losses on hand-computed cases."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
from scipy import ndimage  # noqa: E402
from skimage.metrics import structural_similarity  # noqa: E402

from semgan_core import losses  # noqa: E402
from semgan_core.images import to_model_range  # noqa: E402


def _nhwc(image):
    """(H, W) [0, 1] -> (1, H, W, 1) float32 in [0, 1]."""
    return np.asarray(image, np.float32)[None, ..., None]


def _pair(seed=0, size=64):
    rng = np.random.default_rng(seed)
    clean = ndimage.gaussian_filter(rng.uniform(0, 1, (size, size)), 1.0)
    clean = (clean - clean.min()) / np.ptp(clean)
    noisy = np.clip(clean + rng.normal(0, 0.1, clean.shape), 0, 1)
    return clean.astype(np.float32), noisy.astype(np.float32)


def _step(size=8, vertical=True):
    img = np.zeros((size, size), np.float32)
    if vertical:
        img[:, size // 2:] = 1.0      # edge between columns size/2 - 1 and size/2
    else:
        img[size // 2:, :] = 1.0
    return img


def test_lsgan_losses_for_constant_outputs():
    fake, real = tf.fill((2, 4, 4, 1), 0.3), tf.fill((2, 4, 4, 1), 0.8)
    assert float(losses.lsgan_generator_loss(fake)) == pytest.approx(0.49, abs=1e-6)
    assert float(losses.lsgan_generator_loss(tf.ones((1, 4, 4, 1)))) == 0.0
    assert float(losses.lsgan_discriminator_loss(real, fake)) == pytest.approx(
        0.5 * (0.2 ** 2 + 0.3 ** 2), abs=1e-6)
    perfect = losses.lsgan_discriminator_loss(tf.ones((1, 4, 4, 1)), tf.zeros((1, 4, 4, 1)))
    assert float(perfect) == 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ssim_tf_matches_skimage(seed):
    clean, noisy = _pair(seed)
    expected = structural_similarity(clean, noisy, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=1.0,
                                     K1=0.01, K2=0.02)
    got = float(losses.ssim_tf(to_model_range(_nhwc(clean)), to_model_range(_nhwc(noisy))))
    assert got == pytest.approx(expected, abs=1e-4)


def test_ssim_tf_errors():
    with pytest.raises(ValueError, match="ssim_tf: images must be at least 11x11"):
        losses.ssim_tf(tf.zeros((1, 8, 8, 1)), tf.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match="ssim_tf: x must be an NHWC tensor of rank 4"):
        losses.ssim_tf(tf.zeros((16, 16)), tf.zeros((16, 16)))


def test_cycle_loss_zero_for_identical_and_positive_otherwise():
    clean, noisy = (to_model_range(_nhwc(x)) for x in _pair())
    assert float(losses.cycle_loss(clean, clean, noisy, noisy)) == pytest.approx(0.0, abs=1e-5)
    one_side = float(losses.cycle_loss(clean, noisy, noisy, noisy))
    assert one_side == pytest.approx(1.0 - float(losses.ssim_tf(noisy, clean)), abs=1e-6)
    assert one_side > 0.1


def test_identity_loss_is_mse_on_unit_range():
    black, grey = -tf.ones((1, 16, 16, 1)), tf.zeros((1, 16, 16, 1))   # 0 and 0.5 in [0, 1]
    assert float(losses.identity_loss(black, grey, grey, grey)) == pytest.approx(0.25)
    assert float(losses.identity_loss(black, grey, black, grey)) == pytest.approx(0.5)


@pytest.mark.parametrize("vertical", [True, False])
def test_sobel_step_edge_is_four(vertical):
    edges = losses.edge_map(_nhwc(_step(vertical=vertical))).numpy()[0, ..., 0]
    if not vertical:
        edges = edges.T
    flat = np.sqrt(losses.EDGE_EPS)
    np.testing.assert_allclose(edges[:, 3:5], 4.0, rtol=1e-6)
    np.testing.assert_allclose(edges[:, [0, 1, 2, 5, 6, 7]], flat, rtol=1e-4)


def test_kirsch_step_edge_by_hand():
    # dark side: the east kernel sees 5 + 5 + 5 = 15; bright side: 15 - 3 - 3 = 9.
    edges = losses.edge_map(_nhwc(_step()), "kirsch").numpy()[0, ..., 0]
    np.testing.assert_allclose(edges, np.tile([0, 0, 0, 15, 9, 0, 0, 0], (8, 1)))
    assert losses.KIRSCH.shape == (3, 3, 8)
    np.testing.assert_array_equal(losses.KIRSCH.sum(axis=(0, 1)), 0)


def test_edge_map_errors():
    with pytest.raises(ValueError,
                       match=r"edge_map: operator must be one of \('sobel', 'kirsch'\)"):
        losses.edge_map(_nhwc(_step()), "canny")
    with pytest.raises(ValueError, match="edge_map: images must be an NHWC tensor"):
        losses.edge_map(_step(), "sobel")


@pytest.mark.parametrize("operator", ["sobel", "kirsch"])
def test_gradients_finite_on_flat_image(operator):
    flat = tf.Variable(tf.zeros((1, 16, 16, 1)))          # 0.5 in [0, 1]
    ref = to_model_range(_nhwc(_pair(size=16)[0]))
    with tf.GradientTape() as tape:
        maps = tf.reduce_sum(losses.edge_map((flat + 1.0) / 2.0, operator))
        loss = maps + losses.edge_loss(ref, flat, flat, ref, flat, ref, operator=operator,
                                       reference="input")
    grad = tape.gradient(loss, flat).numpy()
    assert np.all(np.isfinite(grad))   # without EDGE_EPS, d sqrt(0) gives NaN for Sobel


def test_edge_loss_zero_when_equal_and_reference_variants():
    clean, noisy = (to_model_range(_nhwc(x)) for x in _pair())
    for operator in ("sobel", "kirsch"):
        assert float(losses.edge_loss(clean, clean, clean, noisy, noisy, noisy,
                                      operator=operator)) == 0.0
    # cycle output equals the identity output (F(a)) but not the input a:
    paper = losses.edge_loss(clean, noisy, noisy, clean, clean, clean, reference="paper")
    inputs = losses.edge_loss(clean, noisy, noisy, clean, clean, clean, reference="input")
    assert float(paper) == 0.0 and float(inputs) > 0.1
    with pytest.raises(ValueError,
                       match=r"edge_loss: reference must be one of \('paper', 'input'\)"):
        losses.edge_loss(clean, clean, clean, clean, clean, clean, reference="gt")


def test_total_generator_loss_is_weighted_sum():
    clean, noisy = (to_model_range(_nhwc(x)) for x in _pair())
    d = tf.fill((1, 8, 8, 1), 0.5)
    grey = tf.zeros_like(clean)
    args = dict(real_a=noisy, real_b=clean, cycled_a=clean, cycled_b=noisy, same_a=grey,
                same_b=grey, d_fake_b=d, d_fake_a=tf.zeros((1, 8, 8, 1)))
    total, terms = losses.total_generator_loss(**args)
    assert set(terms) == {"gan_g", "gan_f", "cycle", "identity", "edge", "total"}
    assert float(terms["gan_g"]) == pytest.approx(0.25) and float(terms["gan_f"]) == 1.0
    expected = (10 * terms["cycle"] + 5 * terms["identity"] + 10 * terms["edge"]
                + 1.0 * (terms["gan_g"] + terms["gan_f"]))
    assert float(total) == float(expected)               # eq. 16, in this order
    assert float(terms["total"]) == float(total)
    assert all(float(terms[k]) > 0 for k in ("cycle", "identity", "edge"))
    gan_only, _ = losses.total_generator_loss(**args, lambda_cycle=0, lambda_identity=0,
                                              gamma_edge=0, edge_operator="kirsch")
    assert float(gan_only) == pytest.approx(1.25)
    weighted, _ = losses.total_generator_loss(**args, lambda_adv=2.0)
    assert float(weighted) == pytest.approx(float(total) + 1.25, rel=1e-6)


def test_total_generator_loss_without_discriminators_has_no_gan_terms():
    clean, noisy = (to_model_range(_nhwc(x)) for x in _pair())
    images = dict(real_a=noisy, real_b=clean, cycled_a=clean, cycled_b=noisy, same_a=clean,
                  same_b=noisy)
    total, terms = losses.total_generator_loss(**images)
    assert set(terms) == {"cycle", "identity", "edge", "total"}
    assert float(total) == float(10 * terms["cycle"] + 5 * terms["identity"]
                                 + 10 * terms["edge"])
    with pytest.raises(ValueError, match="give both d_fake_b and d_fake_a, or neither"):
        losses.total_generator_loss(**images, d_fake_b=tf.zeros((1, 8, 8, 1)))
