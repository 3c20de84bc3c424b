"""The trainer's study options: R1 penalty, two-channel D input, no D without the GAN term."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from semgan_core import config, gan, trainer  # noqa: E402


def test_r1_penalty_of_a_linear_discriminator():
    """D = one 1x1 convolution with weight w: the gradient of its summed map is w at every
    pixel, so the penalty is H * W * w^2 per image."""
    disc = keras.Sequential([keras.Input((None, None, 1)),
                             keras.layers.Conv2D(1, 1, use_bias=True)])
    disc.layers[-1].kernel.assign(np.full((1, 1, 1, 1), 0.5, np.float32))
    x = tf.random.uniform((3, 8, 16, 1))
    assert float(gan.r1_penalty(disc, x)) == pytest.approx(8 * 16 * 0.25, rel=1e-6)


@pytest.mark.parametrize("overrides, columns", [
    (dict(lambda_adv=1.0, r1_gamma=1.0, disc_input="both"),
     ["gen_total", "gan_g", "gan_f", "cycle", "identity", "edge", "disc_a", "disc_b",
      "spectral", "histogram"]),
    (dict(lambda_adv=0.0), ["gen_total", "cycle", "identity", "edge", "spectral",
                            "histogram"]),
    (dict(recipe="paper", width=0.0625, lambda_adv=0.0),
     ["gen_total", "cycle", "identity", "edge"]),
])
def test_cyclegan_step_with_options(overrides, columns):
    cfg = config.get_config("smoke", image_size=128, **overrides)
    run = trainer.Trainer(cfg)
    assert run.loss_names == columns
    assert ("D_B" in run.models) is (cfg.lambda_adv > 0)
    a = tf.random.uniform((1, 128, 128, 1), -1, 1)
    b = tf.random.uniform((1, 128, 128, 1), -1, 1)
    before = ([v.numpy().copy() for v in run.models["D_B"].trainable_variables]
              if "D_B" in run.models else [])
    out = {k: float(v) for k, v in run.train_step(a, b).items()}
    assert list(out) == columns and np.isfinite(list(out.values())).all()
    after = run.models["D_B"].trainable_variables if "D_B" in run.models else []
    moved = [not np.array_equal(x, y.numpy()) for x, y in zip(before, after)]
    assert any(moved) is (cfg.lambda_adv > 0)


def test_the_running_spectra_refuse_crops_of_another_size():
    run = trainer.Trainer(config.get_config("smoke", image_size=128))
    with pytest.raises(ValueError, match="image_size=128"):
        run.train_step(tf.zeros((1, 256, 256, 1)), tf.zeros((1, 256, 256, 1)))


def test_recipes_by_name_and_an_unknown_one():
    from semgan_core import cpu_recipe, recipes

    assert recipes.get_recipe("paper") is recipes.PAPER
    assert recipes.get_recipe("filter") is cpu_recipe.FILTER
    assert set(recipes.REGISTRY) == set(config.RECIPES)  # every configured recipe builds
    with pytest.raises(ValueError, match=r"get_recipe: unknown recipe 'unet'; expected one "
                                         r"of 'paper', 'filter'"):
        recipes.get_recipe("unet")
