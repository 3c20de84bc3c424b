"""Tests of semgan_core.matching: unpaired spectrum and histogram matching losses."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from semgan_core import images, kernels, matching, synth  # noqa: E402


def _model(x01):
    return tf.constant(images.to_model_range(np.asarray(x01, np.float32))[..., None])


@pytest.fixture(scope="module")
def clean():
    return np.stack([synth.micrograph(128, kind="particles", rng=i)[0] for i in range(2)])


def test_spectral_loss_is_zero_for_identical_images_only(clean):
    x, y = _model(clean[:1]), _model(clean[1:])
    assert float(matching.spectral_loss(x, x)) == pytest.approx(0.0, abs=1e-6)
    assert float(matching.spectral_loss(x, y)) > 0.05
    assert float(matching.spectral_loss(x, 2 * y)) > float(matching.spectral_loss(x, y))


def test_spectral_loss_ignores_brightness_and_sees_blur(clean):
    x = clean[:1]
    shifted = np.clip(x * 0.9 + 0.05, 0, 1)          # no structure change except contrast
    blurred = kernels.convolve(x[0], kernels.gaussian_kernel(7, 1.5))[None]
    ref = _model(clean[1:])
    brightness = float(matching.spectral_loss(_model(x * 0.8), _model(x * 0.8 + 0.1)))
    assert brightness == pytest.approx(0.0, abs=1e-4)       # the mean is removed
    assert float(matching.spectral_loss(_model(blurred), ref)) > 2 * float(
        matching.spectral_loss(_model(x), ref))
    assert float(matching.spectral_loss(_model(shifted), _model(x))) < 0.1


def test_amplitude_spectrum_shape():
    spec = matching.amplitude_spectrum(tf.zeros((3, 128, 256, 1)))
    assert spec.shape == (3, 128 // matching.SPECTRUM_POOL, 129 // matching.SPECTRUM_POOL)
    assert np.isfinite(spec.numpy()).all()


def test_histogram_loss_permutation_and_shift():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 0.8, (1, 64, 64)).astype(np.float32)
    permuted = rng.permutation(x.ravel()).reshape(x.shape)
    assert float(matching.histogram_loss(_model(x), _model(permuted))) == pytest.approx(0, abs=1e-10)
    shift = float(matching.histogram_loss(_model(x), _model(x + 0.1)))
    assert shift == pytest.approx(0.01, rel=1e-3)


def test_gradient_of_spectral_loss_sharpens_a_blurred_image(clean):
    """One gradient step on a blurred image towards a clear one's spectrum raises its
    high-frequency energy."""
    blurred = kernels.convolve(clean[0], kernels.gaussian_kernel(7, 1.0))
    x = tf.Variable(_model(blurred[None]))
    ref = _model(clean[1:])
    with tf.GradientTape() as tape:
        loss = matching.spectral_loss(x, ref)
    grad = tape.gradient(loss, x)
    x.assign_sub(0.05 * grad / tf.reduce_max(tf.abs(grad)))
    hp = lambda im: np.abs(np.diff(im[0, :, :, 0], axis=1)).mean()  # noqa: E731
    assert hp(x.numpy()) > hp(_model(blurred[None]).numpy())
    assert float(matching.spectral_loss(x, ref)) < float(loss)


def test_spectrum_stats_running_means_and_gain(clean):
    stats = matching.SpectrumStats(128)
    assert tuple(stats.mean_a.shape) == matching.spectrum_shape(128) == (32, 16)
    sharp = _model(clean)
    blurred = _model(np.stack([kernels.convolve(c, kernels.gaussian_kernel(7, 1.5))
                               for c in clean]))
    for _ in range(3):
        spec_a, spec_b = stats.update(blurred, sharp)
    np.testing.assert_allclose(spec_b.numpy(), matching.amplitude_spectrum(sharp).numpy())
    assert spec_a.shape == (2, 32, 16)
    assert float(stats.count) == 3.0
    # the running mean of the same batch is that batch's mean spectrum
    np.testing.assert_allclose(stats.mean_b.numpy(),
                               matching.amplitude_spectrum(sharp).numpy().mean(0), rtol=1e-5)
    gain = stats.log_gain(4.0).numpy()
    assert gain.max() == pytest.approx(np.log(4.0), rel=1e-5)   # capped
    assert gain[0, 1] < 0.2 and gain[16, 8] > 1.0     # a blur's inverse grows with frequency
    np.testing.assert_allclose(stats.log_gain(4.0, towards="a").numpy(), -gain)
    weight = stats.weight("b").numpy()
    assert weight.mean() == pytest.approx(1.0, rel=1e-5) and weight[0, 1] > weight[16, 8]
    # a checkpoint carries the statistics
    restored = matching.SpectrumStats(128)
    path = tf.train.Checkpoint(s=stats).write(str(pytest.importorskip("pathlib").Path(
        __import__("tempfile").mkdtemp()) / "ckpt"))
    tf.train.Checkpoint(s=restored).read(path).assert_consumed()
    np.testing.assert_array_equal(restored.mean_a.numpy(), stats.mean_a.numpy())


def test_equalization_loss_is_zero_at_the_target_gain(clean):
    sharp = _model(clean[:1])      # one image: its spectra are the means
    blurred = _model(kernels.convolve(clean[0], kernels.gaussian_kernel(7, 1.5))[None])
    stats = matching.SpectrumStats(128)
    stats.update(blurred, sharp)
    weight = stats.weight("b")
    zero = tf.zeros(matching.spectrum_shape(128))
    source = matching.amplitude_spectrum(blurred)
    assert float(matching.equalization_loss(blurred, source, zero, weight)) == pytest.approx(0.0)
    gain = stats.log_gain(1e6)       # uncapped: exactly the ratio of these images' spectra
    assert float(matching.equalization_loss(sharp, source, gain, weight)) < 1e-3
    assert float(matching.equalization_loss(blurred, source, gain, weight)) > 0.01
