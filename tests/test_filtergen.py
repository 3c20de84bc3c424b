"""Tests of semgan_core.filtergen: the constrained generator (learned filter + tone field)."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from semgan_core import (config, cpu_recipe, filtergen, gan, generators, kernels,  # noqa: E402
                         models)


def _batch(n=2, h=256, w=128, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, h, w, 1)).astype(np.float32)


def test_generator_is_identity_at_initialisation():
    model = filtergen.build_filter_generator(15)
    x = _batch()
    np.testing.assert_allclose(model(x).numpy(), x, atol=1e-5)


def test_fft_filter_matches_direct_convolution_with_reflected_borders():
    layer = filtergen.LearnedFilter(9)
    x = _batch(seed=1)
    layer.build(x.shape)
    rng = np.random.default_rng(2)
    layer.weights_k.assign(rng.normal(0, 0.02, (9, 9, 1, 1)).astype(np.float32))
    padded = tf.pad(x, [[0, 0], [4, 4], [4, 4], [0, 0]], "REFLECT")
    w = 0.5 * (layer.weights_k + layer.weights_k[::-1, ::-1])
    w = w - tf.reduce_mean(w)
    direct = x + tf.nn.conv2d(padded, w * layer.gain, 1, "VALID")
    assert abs(float(layer.kernel().sum()) - 1.0) < 1e-5
    np.testing.assert_allclose(layer(x).numpy(), direct.numpy(), atol=1e-5)


def test_filter_can_express_a_gaussian_blur():
    """F must be able to blur: delta + k = the 7x7 sigma-1 Gaussian reproduces kernels'."""
    layer = filtergen.LearnedFilter(7)
    x01 = np.random.default_rng(3).uniform(0, 1, (1, 128, 128, 1)).astype(np.float32)
    layer.build(x01.shape)
    k = kernels.gaussian_kernel(7, 1.0).copy()
    k[3, 3] -= 1.0
    layer.weights_k.assign((k / layer.gain)[:, :, None, None].astype(np.float32))
    np.testing.assert_allclose(layer.kernel(), kernels.gaussian_kernel(7, 1.0), atol=1e-6)
    ours = layer(x01).numpy()[0, 8:-8, 8:-8, 0]
    ref = kernels.convolve(x01[0, :, :, 0], kernels.gaussian_kernel(7, 1.0))[8:-8, 8:-8]
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_tone_field_applies_gain_and_offset():
    tone = filtergen.ToneField()
    tone.build(None)
    out_layer = tone.net[-1]
    bias = out_layer.weights[1]
    bias.assign(np.array([np.log(2.0), 0.25], np.float32) / filtergen.TONE_GAIN)
    x = _batch(h=128, w=128)
    np.testing.assert_allclose(tone([x, x]).numpy(), 2 * x + 0.25, atol=1e-5)


def test_filter_size_must_be_odd():
    with pytest.raises(ValueError, match="odd"):
        filtergen.LearnedFilter(4)
    with pytest.raises(ValueError, match="filter_size=8 must be odd"):
        config.get_config("smoke", recipe="filter", filter_size=8)


def test_generator_rejects_sizes_like_the_unet():
    model = filtergen.build_filter_generator(5)
    with pytest.raises(ValueError, match="multiples of 128"):
        model(np.zeros((1, 200, 200, 1), np.float32))


def test_save_and_load_round_trip(tmp_path):
    model = filtergen.build_filter_generator(9, name="G")
    model.get_layer("filter").weights_k.assign(
        np.random.default_rng(4).normal(0, 0.01, (9, 9, 1, 1)).astype(np.float32))
    path = tmp_path / "g.keras"
    generators.save_generator(model, path, metadata={"generator": "filter",
                                                     "mode": "unpaired", "degradation": None})
    loaded = generators.load_generator(path)
    x = _batch(n=1)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-6)


def test_config_builds_filter_generators_and_two_channel_discriminators():
    cfg = config.get_config("smoke", recipe="filter", lambda_adv=1.0, disc_input="both",
                            filter_size=11)
    nets = gan.build_models(cfg, "cyclegan", cpu_recipe.build_generator)
    assert nets["G"].get_layer("filter").size == 11
    x = _batch(n=1, h=128, w=128)
    view = gan.disc_view(tf.constant(x), "both")
    assert view.shape == (1, 128, 128, 2)
    np.testing.assert_allclose(view[..., :1].numpy(), x)
    np.testing.assert_allclose(view[..., 1:].numpy(), gan.highpass(tf.constant(x)).numpy())
    assert nets["D_A"](view).shape == (1, 16, 16, 1)
    assert models.build_discriminator(0.125).input_shape[-1] == 1


def test_mixed_precision_forward_is_finite():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = filtergen.build_filter_generator(9)
    finally:
        keras.config.set_dtype_policy(previous)
    out = model(_batch(n=1, h=128, w=128))
    assert out.dtype == tf.float16 and np.isfinite(out.numpy()).all()


def test_tensorflow_checkpoint_restores_every_weight(tmp_path):
    """The trainer's checkpoints (tf.train.Checkpoint) must hold the tone network too."""
    model = filtergen.build_filter_generator(9, name="G")
    rng = np.random.default_rng(5)
    for v in model.trainable_variables:
        v.assign(rng.normal(0, 0.05, v.shape).astype(np.float32))
    path = tf.train.Checkpoint(G=model).write(str(tmp_path / "ckpt"))
    fresh = filtergen.build_filter_generator(9, name="G")
    tf.train.Checkpoint(G=fresh).read(path).assert_consumed()
    x = _batch(n=1, h=128, w=128)
    np.testing.assert_allclose(fresh(x).numpy(), model(x).numpy(), atol=1e-6)


def test_frequency_response_of_identity_and_of_a_known_kernel():
    model = filtergen.build_filter_generator(5, tone="none")
    freqs, response = filtergen.frequency_response(model, n=64)
    assert freqs.shape == (33,) and response.shape == (64, 33)
    np.testing.assert_allclose(response, 1.0, atol=1e-6)          # starts as the identity
    layer = model.get_layer("filter")
    w = np.zeros((5, 5, 1, 1), np.float32)
    w[2, 1] = w[2, 3] = 0.05                                      # a horizontal [.5 0 .5] part
    layer.weights_k.assign(w)
    kernel = layer.kernel()
    _, response = filtergen.frequency_response(layer, n=64)
    # the definition: sum over taps k[u, v] exp(-2 pi i (fy u + fx v)), u, v in -2..2
    fy = np.fft.fftfreq(64)[:, None]
    fx = np.fft.rfftfreq(64)[None, :]
    expected = sum(kernel[u + 2, v + 2] * np.exp(-2j * np.pi * (fy * u + fx * v))
                   for u in range(-2, 3) for v in range(-2, 3))
    np.testing.assert_allclose(response, expected.real, atol=1e-5)
    assert np.abs(expected.imag).max() < 1e-5             # point-symmetric: zero phase
    assert response[0, 0] == pytest.approx(1.0, abs=1e-6)        # zero-sum k: the mean is kept
    with pytest.raises(ValueError, match="smaller than the kernel"):
        filtergen.frequency_response(layer, n=3)
    with pytest.raises(ValueError, match="odd side"):
        filtergen.kernel_response(np.ones((4, 4)))
