"""Geometric self-ensemble: the mean over flips and transposes, and its defaults."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from semgan_core import cli, ensemble, generators, images  # noqa: E402


def _skewed_model():
    """A 3x3 convolution with no symmetry at all, then a nonlinearity."""
    image = keras.Input((None, None, 1))
    conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False)
    out = keras.layers.Activation("tanh")(conv(image))
    model = keras.Model(image, out)
    conv.set_weights([np.arange(9, dtype=np.float32).reshape(3, 3, 1, 1) / 20 - 0.1])
    return model


def _by_hand(model, batch, n):
    """The ensemble computed with NumPy: orient, run, orient back, average."""
    outs = []
    for rows, cols, transpose in ensemble.ORIENTATIONS[:n]:
        x = batch[:, ::-1] if rows else batch
        x = x[:, :, ::-1] if cols else x
        x = np.swapaxes(x, 1, 2) if transpose else x
        y = np.asarray(model(np.ascontiguousarray(x)), np.float32)
        y = np.swapaxes(y, 1, 2) if transpose else y
        y = y[:, :, ::-1] if cols else y
        outs.append(y[:, ::-1] if rows else y)
    return np.mean(outs, 0)


@pytest.mark.parametrize("n", [2, 4, 8])
def test_ensemble_is_the_mean_over_orientations(n):
    model = _skewed_model()
    batch = np.random.default_rng(0).uniform(-1, 1, (2, 16, 24, 1)).astype(np.float32)
    wrapped = ensemble.self_ensemble(model, n)
    got = np.asarray(wrapped(batch), np.float32)
    assert got.shape == batch.shape
    np.testing.assert_allclose(got, _by_hand(model, batch, n), atol=1e-6)
    # the skewed model is not equivariant: the ensemble changes its output
    assert np.abs(got - np.asarray(model(batch))).max() > 1e-3
    assert wrapped.count_params() == model.count_params() and wrapped.name.endswith(f"_x{n}")


def test_ensemble_leaves_an_equivariant_model_unchanged():
    image = keras.Input((None, None, 1))
    model = keras.Model(image, keras.layers.Activation("tanh")(image))
    batch = np.random.default_rng(1).uniform(-1, 1, (1, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(ensemble.self_ensemble(model, 8)(batch), np.tanh(batch),
                               atol=1e-6)


def test_ensemble_of_one_is_the_model_itself():
    model = _skewed_model()
    assert ensemble.self_ensemble(model, 1) is model


@pytest.mark.parametrize("n", [0, 3, 16, True, "8"])
def test_ensemble_size_is_checked(n):
    with pytest.raises(ValueError, match=r"self_ensemble: ensemble=.* is not allowed; "
                                         r"expected one of 1, 2, 4, 8 orientations"):
        ensemble.self_ensemble(_skewed_model(), n)


def test_restorers_load_with_eight_orientations_and_filters_with_one():
    restorer = generators.load_shipped("A")
    assert restorer.name.endswith("_x8")
    assert generators.default_ensemble(generators.read_metadata(
        generators.shipped_path("A"))) == 8
    assert generators.default_ensemble({"name": "filter-unpaired"}) == 1
    plain = generators.load_shipped("A", ensemble=1)
    assert not plain.name.endswith("_x8") and plain.count_params() == restorer.count_params()
    assert not generators.load_shipped("filter-unpaired-A").name.endswith("_x8")
    assert generators.load_shipped("filter-unpaired-A", ensemble=2).name.endswith("_x2")
    batch = images.to_model_range(
        np.random.default_rng(2).uniform(0.2, 0.8, (1, 128, 128)).astype(np.float32))[..., None]
    np.testing.assert_allclose(restorer(batch), _by_hand(plain, batch, 8), atol=1e-5)
    with pytest.raises(ValueError, match="load_generator: ensemble=3 is not allowed"):
        generators.load_shipped("A", ensemble=3)


def test_deblur_ensemble_option(tmp_path, capsys):
    rng = np.random.default_rng(3)
    images.write_image(tmp_path / "in" / "a.png", rng.uniform(0.2, 0.8, (128, 140)).astype(
        np.float32))
    base = ["deblur", str(tmp_path / "in"), "--model", "A", "--tile", "128", "--quiet"]
    assert cli.main(base + ["--out", str(tmp_path / "x1"), "--ensemble", "1"]) == 0
    assert cli.main(base + ["--out", str(tmp_path / "x8")]) == 0
    one, eight = (images.read_image(tmp_path / d / "a.png") for d in ("x1", "x8"))
    assert one.shape == eight.shape == (128, 140) and np.abs(one - eight).max() > 0
    with pytest.raises(SystemExit):
        cli.main(base + ["--out", str(tmp_path / "x3"), "--ensemble", "3"])
    assert "invalid choice: 3" in capsys.readouterr().err
