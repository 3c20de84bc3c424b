"""Tests of semgan_core.models: layer structure, shapes, size check, serialisation, FLOPs."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")
from keras import layers  # noqa: E402

from semgan_core import checks, flops, generators, models  # noqa: E402

SMALL = 0.0625


def _of_type(model, cls):
    return [layer for layer in model.layers if type(layer) is cls]


@pytest.fixture(scope="module")
def gen():
    keras.utils.set_random_seed(0)
    return models.build_generator(SMALL)


def _image(size, seed=0, n=1):
    rng = np.random.default_rng(seed)
    h, w = (size, size) if isinstance(size, int) else size
    return rng.uniform(-1, 1, (n, h, w, 1)).astype(np.float32)


def test_generator_layer_counts_and_strides(gen):
    convs = _of_type(gen, layers.Conv2D)
    deconvs = _of_type(gen, layers.Conv2DTranspose)
    assert len(convs) == 8 and len(deconvs) == 8
    assert len(_of_type(gen, models.MultiBlock)) == 14
    # all but the output layer and, by default, the three bottleneck layers
    assert len(_of_type(gen, layers.GroupNormalization)) == 12
    assert [c.strides for c in convs] == [(2, 2)] * 7 + [(1, 1)]
    assert [d.strides for d in deconvs] == [(1, 1)] + [(2, 2)] * 7
    assert [c.kernel_size for c in convs] == [(4, 4)] * 7 + [(3, 3)]
    assert [d.kernel_size for d in deconvs] == [(3, 3)] + [(4, 4)] * 7
    assert deconvs[-1].filters == 1 and deconvs[-1].activation.__name__ == "tanh"


def test_generator_channels_follow_width():
    g = models.build_generator(0.125)
    convs = _of_type(g, layers.Conv2D)
    assert [c.filters for c in convs] == [8, 16, 32, 64, 64, 64, 64, 64]
    tiny = models.build_generator(0.001)
    assert all(c.filters == 1 for c in _of_type(tiny, layers.Conv2D))


def test_generator_parameter_count_width_one():
    g = models.build_generator(1.0)
    assert 70e6 < g.count_params() < 78e6           # 73.44 M for the adopted reading
    assert [c.filters for c in _of_type(g, layers.Conv2D)] == list(models.ENCODER_CHANNELS)


@pytest.mark.parametrize("size", [256, 384, 512, (256, 384)])
def test_generator_output_shape_equals_input(gen, size):
    x = _image(size)
    y = gen(x).numpy()
    assert y.shape == x.shape
    assert np.all(np.abs(y) < 1.0) and np.all(np.isfinite(y))


def test_check_input_size_rejects_200():
    with pytest.raises(ValueError,
                       match=r"check_input_size: image size 200x200 .*multiples of 128"):
        checks.check_input_size(200, 200)
    with pytest.raises(ValueError, match="0x256"):
        checks.check_input_size(0, 256)
    checks.check_input_size(128, 384)


def test_generator_rejects_wrong_size(gen):
    with pytest.raises(ValueError, match="200x200"):
        gen(_image(200))


def test_width_must_be_positive():
    with pytest.raises(ValueError, match=r"build_generator: width must be finite > 0, got 0"):
        models.build_generator(0)
    with pytest.raises(ValueError, match="build_discriminator: width"):
        models.build_discriminator(-1.0)


def test_discriminator_patch_map():
    d = models.build_discriminator(SMALL)
    convs = _of_type(d, layers.Conv2D)
    assert len(convs) == 5
    assert [c.strides for c in convs] == [(2, 2)] * 3 + [(1, 1)] * 2
    assert all(c.kernel_size == (4, 4) for c in convs)
    assert len(_of_type(d, layers.GroupNormalization)) == 4
    assert d(_image(256)).shape == (1, 32, 32, 1)
    assert d(_image(128)).shape == (1, 16, 16, 1)


def test_multiblock_is_residual():
    block = models.MultiBlock()
    x = _image(16)
    block(x)
    for conv in (block.conv1, block.conv3):
        conv.kernel.assign(np.zeros(conv.kernel.shape, np.float32))
    np.testing.assert_array_equal(block(x).numpy(), x)


def test_bottleneck_norm_at_128_is_degenerate():
    x = _image(128, n=3)
    for norm, constant in ((True, True), (False, False)):
        keras.utils.set_random_seed(1)
        g = models.build_generator(0.125, bottleneck_norm=norm)
        probe = keras.Model(g.input, g.get_layer("enc8_act").output)
        z = probe(x).numpy()
        assert z.shape[1:3] == (1, 1)
        assert bool(np.ptp(z, axis=0).max() == 0.0) is constant
        assert len(_of_type(g, layers.GroupNormalization)) == (15 if norm else 12)


def test_saved_generator_reloads_identically(gen, tmp_path):
    x = _image(256, seed=3)
    path = generators.save_generator(gen, tmp_path / "g.keras", metadata={
        "generator": "unet", "mode": "unpaired", "degradation": None})
    loaded = generators.load_generator(path)
    assert len(_of_type(loaded, models.MultiBlock)) == 14
    np.testing.assert_array_equal(loaded(x).numpy(), gen(x).numpy())
    with pytest.raises(ValueError, match="200x200"):
        loaded(_image(200))


def test_count_flops_matches_hand_count():
    inp = keras.Input((None, None, 2))
    x = layers.Conv2D(3, 4, strides=2, padding="same")(inp)
    out = layers.Conv2DTranspose(5, 4, strides=2, padding="same")(x)
    model = keras.Model(inp, out)
    conv = 2 * 16 * 2 * 3 * 8 * 8                  # output 8x8
    deconv = 2 * 16 * 3 * 5 * 8 * 8                # counted on the 8x8 input
    assert flops.count_flops(model, 16) == conv + deconv
    block_in = keras.Input((None, None, 4))
    block = keras.Model(block_in, models.MultiBlock()(block_in))
    assert flops.count_flops(block, (8, 16)) == 2 * (1 + 9) * 4 * 4 * 8 * 16


def test_model_table_rows():
    rows = flops.model_table(widths=(0.125, 0.0625), size=128)
    assert [r["width"] for r in rows] == [0.125, 0.0625]
    assert rows[0]["generator_params"] > rows[1]["generator_params"] > 0
    assert rows[0]["discriminator_params"] > rows[1]["discriminator_params"] > 0
    assert rows[0]["generator_gflop"] > rows[1]["generator_gflop"] > 0
    with pytest.raises(ValueError, match="200x200"):
        flops.model_table(widths=(0.125,), size=200)


@pytest.mark.parametrize("norm, normed", [("all", 4), ("inner", 2), ("none", 0)])
def test_discriminator_norm_options(norm, normed):
    disc = models.build_discriminator(0.0625, norm=norm)
    norms = [l for l in disc.layers if isinstance(l, layers.GroupNormalization)]
    assert len(norms) == normed
    convs = [l for l in disc.layers if isinstance(l, layers.Conv2D)]
    assert [c.use_bias for c in convs][:4] == [f"d{i}_in" not in [n.name for n in norms]
                                               for i in range(1, 5)]
    assert disc(np.zeros((1, 256, 256, 1), np.float32)).shape == (1, 32, 32, 1)


def test_discriminator_norm_rejects_unknown():
    with pytest.raises(ValueError, match="norm must be one of"):
        models.build_discriminator(0.0625, norm="batch")


# --- input channels and the U-Net with Wiener-filtered inputs (recipes.build_unet) ----

def test_generator_input_channels():
    g = models.build_generator(SMALL, channels=3)
    assert g.input.shape[-1] == 3 and g.output.shape[-1] == 1
    x = np.random.default_rng(0).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32)
    assert g(x).shape == (1, 128, 128, 1)
    first = _of_type(g, layers.Conv2D)[0]
    assert first.kernel.shape[2] == 3
    with pytest.raises(ValueError, match="build_generator: channels must be an integer >= 1"):
        models.build_generator(SMALL, channels=0)


def _psf_file(tmp_path, psf, name="psf.json"):
    import json

    path = tmp_path / name
    path.write_text(json.dumps(np.asarray(psf).tolist()))
    return path


def _unet(path, **changes):
    from semgan_core import config, recipes

    keras.utils.set_random_seed(0)
    cfg = config.get_config("smoke", **{"recipe": "paper", "width": SMALL,
                                        "wiener_psf": str(path), **changes})
    return recipes.build_unet(cfg, "G")


def _move_output_layer(model, seed):
    """Move the zero-initialised output layer, so a model is checked off the identity."""
    rng = np.random.default_rng(seed)
    for w in model.get_layer("G_unet").layers[-1].weights:
        w.assign(rng.normal(0, 0.05, w.shape).astype(np.float32))


def _reloaded(model, path, degradation="A"):
    """Save ``model`` as a generator file at ``path`` and load it back (one pass)."""
    path = generators.save_generator(model, path, metadata={
        "generator": "unet", "mode": "synthesized-pairs", "degradation": degradation,
        "recipe": "paper"})
    return generators.load_generator(path, ensemble=1)


@pytest.fixture(scope="module")
def wiener_unet(tmp_path_factory):
    from semgan_core import kernels

    return _unet(_psf_file(tmp_path_factory.mktemp("psf"), kernels.ASSUMED_PSF),
                 residual=True)


def test_unet_with_wiener_inputs_starts_as_the_identity(wiener_unet):
    x = _image(128, seed=4)
    assert wiener_unet.input.shape[-1] == 1 and wiener_unet.output.shape[-1] == 1
    np.testing.assert_array_equal(wiener_unet(x).numpy(), x)
    unet = wiener_unet.get_layer("G_unet")
    assert unet.input.shape[-1] == 3                     # the image and two filtered copies


def test_wiener_layer_is_fixed_and_holds_the_wiener_kernels(wiener_unet):
    from semgan_core import kernels, recipes

    wiener = wiener_unet.get_layer("wiener")
    assert not wiener.trainable and not wiener.use_bias
    (weights,) = wiener.get_weights()
    assert weights.shape == (recipes.WIENER_SIZE, recipes.WIENER_SIZE, 1,
                             len(recipes.WIENER_BALANCES))
    for i, balance in enumerate(recipes.WIENER_BALANCES):
        np.testing.assert_allclose(weights[..., 0, i],
                                   kernels.wiener_kernel(kernels.ASSUMED_PSF, balance,
                                                         size=recipes.WIENER_SIZE),
                                   atol=1e-7)
    trainable = {id(w) for w in wiener_unet.trainable_weights}
    assert not any(id(w) in trainable for w in wiener.weights)
    assert all(id(w) in trainable for w in wiener_unet.get_layer("G_unet").trainable_weights)


def test_wiener_layer_convolves_like_the_wiener_filter_for_an_asymmetric_psf(tmp_path):
    """A one-sided scan smear: the layer must apply the Wiener kernel by convolution
    (zero padding, as Conv2D 'same'), which undoes the PSF's direction."""
    from scipy import ndimage

    from semgan_core import kernels, recipes

    psf = np.zeros((7, 7), np.float32)
    psf[3, 3:] = 0.25
    model = _unet(_psf_file(tmp_path, psf))
    x = _image(128, seed=5)
    filtered = keras.Model(model.input, model.get_layer("wiener").output)(x).numpy()
    for i, balance in enumerate(recipes.WIENER_BALANCES):
        k = kernels.wiener_kernel(psf, balance, size=recipes.WIENER_SIZE)
        expected = ndimage.convolve(x[0, ..., 0].astype(np.float64), k.astype(np.float64),
                                    mode="constant")
        np.testing.assert_allclose(filtered[0, ..., i], expected, atol=1e-4)


def test_unet_with_wiener_inputs_without_residual_is_not_the_identity(tmp_path):
    from semgan_core import kernels

    model = _unet(_psf_file(tmp_path, kernels.ASSUMED_PSF), residual=False)
    assert [layer.name for layer in model.layers if layer.name == "residual"] == []
    x = _image(128, seed=6)
    y = model(x).numpy()
    assert y.shape == x.shape and np.all(np.abs(y) < 1)
    assert np.abs(y - x).mean() > 0.1


def test_unet_with_wiener_inputs_survives_a_save_load_round_trip(tmp_path):
    from semgan_core import kernels, recipes

    psf_path = _psf_file(tmp_path, kernels.ASSUMED_PSF)
    model = _unet(psf_path, residual=True)
    _move_output_layer(model, seed=1)
    x = _image(128, seed=7)
    y = model(x).numpy()
    assert np.abs(y - x).mean() > 1e-3
    path = generators.save_generator(model, tmp_path / "g.keras", metadata={
        "generator": "unet", "mode": "synthesized-pairs", "degradation": "A",
        "recipe": "paper"})
    psf_path.unlink()                                   # the kernels travel in the file
    loaded = generators.load_generator(path, ensemble=1)  # the file's model, one pass
    np.testing.assert_allclose(loaded(x).numpy(), y, atol=1e-6)
    wiener = loaded.get_layer("wiener")
    assert not wiener.trainable
    np.testing.assert_allclose(wiener.get_weights()[0][..., 0, 0],
                               kernels.wiener_kernel(kernels.ASSUMED_PSF,
                                                     recipes.WIENER_BALANCES[0]),
                               atol=1e-7)
    assert generators.read_metadata(path)["name"] == "unet-restorer"


def test_unet_with_a_missing_wiener_psf_file_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"read_psf: '.*none\.json' is not a file"):
        _unet(tmp_path / "none.json", residual=True)


def test_noise_level_map_is_immerkaers_estimate_per_image():
    from semgan_core import kernels, noise, synth

    clean, _ = synth.micrograph(128, rng=2)
    blurred = kernels.convolve(clean, kernels.gaussian_kernel(7, 1.0))
    batch = np.stack([blurred] + [noise.add_noise(blurred, noise.NoiseModel(sigma=s), rng=3)
                                  for s in (0.01, 0.04)])
    maps = models.NoiseLevelMap(scale=2.0)(batch[..., None] * 2 - 1).numpy()
    assert maps.shape == (3, 128, 128, 1)
    for image, level in zip(batch, maps):
        assert np.ptp(level) == 0                       # one value per image
        assert level[0, 0, 0] == pytest.approx(
            2.0 * noise.estimate_noise(image, edge_fraction=0), rel=1e-4)
    assert maps[0, 0, 0, 0] < maps[1, 0, 0, 0] < maps[2, 0, 0, 0]


def test_unet_with_a_noise_level_map_starts_as_the_identity_and_round_trips(tmp_path):
    from semgan_core import kernels

    model = _unet(_psf_file(tmp_path, kernels.ASSUMED_PSF), residual=True, noise_map=True)
    assert model.get_layer("G_unet").input.shape[-1] == 4   # image, 2 Wiener copies, noise
    assert not model.get_layer("noise_level").weights
    x = _image(128, seed=8)
    np.testing.assert_array_equal(model(x).numpy(), x)
    _move_output_layer(model, seed=2)
    y = model(x).numpy()
    np.testing.assert_allclose(_reloaded(model, tmp_path / "g.keras")(x).numpy(), y, atol=1e-6)
    again = models.NoiseLevelMap.from_config(models.NoiseLevelMap(scale=2.0).get_config())
    assert again.scale == 2.0
    # the map is the U-Net's fourth input channel and follows the input's noise
    noisier = np.clip(x + np.random.default_rng(3).normal(0, 0.05, x.shape), -1, 1)
    features = keras.Model(model.input, model.get_layer("with_noise_level").output)
    a, b = features(x).numpy(), features(noisier.astype(np.float32)).numpy()
    assert a[..., 3].max() < b[..., 3].min()


def test_contrast_gain_scales_the_residual_by_each_images_standard_deviation():
    rng = np.random.default_rng(9)
    image = rng.uniform(-1, 1, (2, 16, 16, 1)).astype(np.float32)
    image[1] = 0.1 * image[1] + 0.3                       # a flat second image
    residual = rng.normal(0, 0.1, image.shape).astype(np.float32)
    layer = models.ContrastGain(reference=0.5, epsilon=1e-3)
    out = layer([image, residual]).numpy()
    for i in range(2):
        gain = np.sqrt(image[i].astype(np.float64).var() + 1e-6) / 0.5
        np.testing.assert_allclose(out[i], residual[i] * gain, rtol=1e-5)
    assert not layer.weights
    again = models.ContrastGain.from_config(layer.get_config())
    assert (again.reference, again.epsilon) == (0.5, 1e-3)
    with pytest.raises(ValueError, match="ContrastGain: reference"):
        models.ContrastGain(reference=0)


def _residual_ratio(model, x, k):
    """std of the model's residual on x's contrast scaled by k, over that on x."""
    mean = x.mean()
    flat = (mean + k * (x - mean)).astype(np.float32)
    return float((model(flat).numpy() - flat).std() / (model(x).numpy() - x).std())


def test_contrast_residual_makes_the_correction_follow_the_inputs_contrast(tmp_path):
    """Instance norm hides the input's contrast from the U-Net: its residual stays the
    same size when the input is made flat. The gain scales it with the contrast."""
    from semgan_core import kernels

    psf = _psf_file(tmp_path, kernels.ASSUMED_PSF)
    x = (0.6 * _image(128, seed=10)).astype(np.float32)
    ratios = {}
    for ref in (0.0, 0.25):
        model = _unet(psf, residual=True, contrast_residual=ref)
        _move_output_layer(model, seed=4)
        assert model(x).shape == x.shape
        ratios[ref] = _residual_ratio(model, x, 0.3)
    assert ratios[0.0] > 0.8                                 # the plain residual: invariant
    assert 0.25 < ratios[0.25] < 0.35                        # scaled with the contrast


def test_unet_with_contrast_residual_starts_as_the_identity_and_round_trips(tmp_path):
    from semgan_core import kernels

    model = _unet(_psf_file(tmp_path, kernels.ASSUMED_PSF), residual=True,
                  contrast_residual=0.25)
    assert model.get_layer("contrast_gain").reference == 0.25
    x = _image(128, seed=11)
    np.testing.assert_array_equal(model(x).numpy(), x)
    _move_output_layer(model, seed=5)
    y = model(x).numpy()
    np.testing.assert_allclose(_reloaded(model, tmp_path / "g.keras", "C")(x).numpy(), y,
                               atol=1e-6)
