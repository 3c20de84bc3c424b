"""The networks of a CycleGAN run as the trainer uses them, and what a discriminator sees.

* :func:`build_models`: G and F from the recipe's generator factory
  (:mod:`semgan_core.recipes`) and, when the adversarial term is on, the PatchGAN
  discriminators D_A, D_B (:func:`semgan_core.models.build_discriminator`); in mixed
  precision under Keras' ``mixed_float16`` (:func:`dtype_policy`).
* :func:`run_batches`: one network on several batches in one pass.
* :func:`highpass`: what D sees with ``disc_input='highpass'``: x - g * x, g the paper's
  7x7 sigma-1 Gaussian (``kernels.ASSUMED_PSF``), i.e. the detail that blur removes;
  :func:`disc_view`: the image, that, or both as two channels (``'both'``).
* :func:`r1_penalty`: the optional R1 gradient penalty of the discriminators
  (``r1_gamma``).
"""

from __future__ import annotations

import contextlib

import tensorflow as tf

import keras

from semgan_core import config, kernels, models

HIGHPASS_KERNEL = kernels.ASSUMED_PSF     # disc_input="highpass": x - g * x


def as_float32(x: tf.Tensor) -> tf.Tensor:
    """Model output as float32 (mixed precision computes in float16)."""
    return tf.cast(x, tf.float32)


def run_batches(model: keras.Model, *batches: tf.Tensor, view=None) -> list[tf.Tensor]:
    """``model`` on several equal-sized batches in one pass; one float32 output each.

    One pass on the concatenation is cheaper than one per batch (larger matrix products)
    and gives the same values: instance norm is per image.
    """
    x = tf.concat(batches, 0) if len(batches) > 1 else batches[0]
    out = as_float32(model(x if view is None else view(x), training=True))
    return tf.split(out, len(batches)) if len(batches) > 1 else [out]


def highpass(batch: tf.Tensor) -> tf.Tensor:
    """``x - g * x`` per image, g = :data:`HIGHPASS_KERNEL`, reflected borders.

    Parameters
    ----------
    batch : tensor, (N, H, W, 1)

    Returns
    -------
    detail : float32 tensor, same shape; 0 on a flat image
    """
    batch = as_float32(batch)
    radius = HIGHPASS_KERNEL.shape[0] // 2
    padded = tf.pad(batch, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "REFLECT")
    kernel = tf.constant(HIGHPASS_KERNEL[:, :, None, None])
    return batch - tf.nn.depthwise_conv2d(padded, kernel, [1, 1, 1, 1], "VALID")


def disc_view(batch: tf.Tensor, mode: str) -> tf.Tensor:
    """What a discriminator sees: ``mode`` 'image' (the batch), 'highpass'
    (:func:`highpass`) or 'both' (the two as channels: contrast and detail)."""
    if mode == "image":
        return batch
    if mode == "highpass":
        return highpass(batch)
    return tf.concat([as_float32(batch), highpass(batch)], -1)


def r1_penalty(disc: keras.Model, view: tf.Tensor) -> tf.Tensor:
    """R1 gradient penalty (Mescheder et al. 2018): mean over the batch of the squared
    norm of the gradient of D's summed patch map with respect to its (real) input view.

    Keeps the discriminator smooth around the real data, so that a discriminator that
    separates the domains still gives the generator an informative gradient.
    """
    view = as_float32(view)
    with tf.GradientTape() as tape:
        tape.watch(view)
        score = tf.reduce_sum(as_float32(disc(view, training=True)))
    grad = tape.gradient(score, view)
    return tf.reduce_mean(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]))


@contextlib.contextmanager
def dtype_policy(name: str):
    """Context manager: Keras' global dtype policy set to ``name`` inside, then restored."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def build_models(cfg: config.Config, mode: str, build_generator) -> dict[str, keras.Model]:
    """The networks of a run, built in this order (the seed fixes their weights).

    Parameters
    ----------
    cfg : Config
    mode : {'cyclegan', 'paired'}
    build_generator : callable
        ``build_generator(cfg, name) -> keras.Model``, the recipe's generator factory.

    Returns
    -------
    models : dict
        ``{"G"}`` (mode 'paired'), ``{"G", "F"}`` (no adversarial term,
        ``cfg.lambda_adv == 0``), or ``{"G", "F", "D_A", "D_B"}``.
    """
    if mode == "paired":
        return {"G": build_generator(cfg, "G")}
    nets = {"G": build_generator(cfg, "G"), "F": build_generator(cfg, "F")}
    if cfg.lambda_adv > 0:
        channels = 2 if cfg.disc_input == "both" else 1
        nets.update({k: models.build_discriminator(cfg.width, norm=cfg.disc_norm, name=k,
                                                   channels=channels)
                     for k in ("D_A", "D_B")})
    return nets
