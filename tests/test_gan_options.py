"""The trainer's study options: R1 penalty, two-channel D input, D skipped without GAN."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import keras  # noqa: E402

from semgan_core import config, gan, train  # noqa: E402


def test_r1_penalty_of_a_linear_discriminator():
    """D = one 1x1 convolution with weight w: the gradient of its summed map is w at every
    pixel, so the penalty is H * W * w^2 per image."""
    disc = keras.Sequential([keras.Input((None, None, 1)),
                             keras.layers.Conv2D(1, 1, use_bias=True)])
    disc.layers[-1].kernel.assign(np.full((1, 1, 1, 1), 0.5, np.float32))
    x = tf.random.uniform((3, 8, 16, 1))
    assert float(gan.r1_penalty(disc, x)) == pytest.approx(8 * 16 * 0.25, rel=1e-6)


@pytest.mark.parametrize("overrides, trains_d", [
    (dict(lambda_adv=1.0, r1_gamma=1.0, disc_input="both"), True),
    (dict(lambda_adv=0.0), False),
])
def test_cyclegan_step_with_options(overrides, trains_d):
    cfg = config.get_config("smoke", image_size=128, **overrides)
    trainer = train.Trainer(cfg)
    a = tf.random.uniform((1, 128, 128, 1), -1, 1)
    b = tf.random.uniform((1, 128, 128, 1), -1, 1)
    before = [v.numpy().copy() for v in trainer.models["D_B"].trainable_variables]
    out = {k: float(v) for k, v in trainer.train_step(a, b).items()}
    assert np.isfinite([out[k] for k in ("gen_total", "cycle", "spectral", "histogram")]).all()
    after = trainer.models["D_B"].trainable_variables
    moved = any(not np.array_equal(x, y.numpy()) for x, y in zip(before, after))
    assert moved is trains_d
    assert bool(np.isfinite(out["disc_b"])) is trains_d
    # the CPU recipe's running spectra are made for cfg.image_size: other crops are refused
    with pytest.raises(ValueError, match="image_size=128"):
        trainer.train_step(tf.zeros((1, 256, 256, 1)), tf.zeros((1, 256, 256, 1)))
