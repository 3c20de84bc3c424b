"""Training recipes: the ones the trainer knows, by the config's ``recipe`` key.

Each recipe is a :class:`semgan_core.plugin.Recipe`: a generator factory and the extra
loss terms added to eq. 16 (the interface is described in :mod:`semgan_core.plugin`).

The paper's recipe (``"paper"``) is the multi-scale U-Net (:mod:`semgan_core.models`),
optionally residual, with no extra terms: eq. 16 alone. The CPU recipe (``"filter"``)
lives in :mod:`semgan_core.cpu_recipe`. :func:`get_recipe` returns either by the config's
``recipe`` key; the settings each recipe brings and the options it reads are listed in
:data:`semgan_core.config.RECIPES` and :data:`semgan_core.config.RECIPE_OPTIONS`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

import keras

from semgan_core import blurfit, config, cpu_recipe, kernels, models
from semgan_core.plugin import Recipe

#: Balances K of the Wiener-filtered copies a U-Net with ``cfg.wiener_psf`` sees (a
#: sharp, noisy one and a smoother one), and their kernels' side.
WIENER_BALANCES = (0.003, 0.03)
WIENER_SIZE = 15


def build_unet(cfg: config.Config, name: str) -> keras.Model:
    """The paper's U-Net (:func:`semgan_core.models.build_generator`); with
    ``cfg.residual``, ``x + U-Net(x)`` with the U-Net's output layer zero-initialised,
    so that G starts as the identity.

    With ``cfg.wiener_psf`` (a PSF file, :func:`semgan_core.blurfit.read_psf`) the U-Net
    sees the image and its Wiener-filtered copies for that PSF, one per balance of
    :data:`WIENER_BALANCES` (a fixed, untrained 15x15 convolution,
    :func:`semgan_core.kernels.wiener_kernel`), as in deep Wiener deconvolution: the
    linear inverse is given, the network learns where to trust it and how to remove
    the noise it amplifies. The residual stays over the image itself, so a sharp input
    can pass unchanged. (Both generators of an unpaired run get the same inputs.)

    With ``cfg.noise_map`` the U-Net also sees the input's estimated noise level as a
    constant map (:class:`semgan_core.models.NoiseLevelMap`, Immerkaer's estimator
    computed in the graph, per image or tile).

    With ``cfg.contrast_residual`` (> 0) the residual is scaled by the input's standard
    deviation over that reference (:class:`semgan_core.models.ContrastGain`): ``x +
    std(x) / ref * U-Net(x)``, so the correction follows the input's contrast, which the
    U-Net's instance norms hide from it.

    The residual output is not clipped to [-1, 1] (``images.from_model_range`` clips).
    """
    extra = (len(WIENER_BALANCES) if cfg.wiener_psf else 0) + int(cfg.noise_map)
    unet = models.build_generator(cfg.width, bottleneck_norm=cfg.bottleneck_norm,
                                  name=f"{name}_unet" if cfg.residual or extra else name,
                                  channels=1 + extra)
    if cfg.residual:
        for weight in unet.layers[-1].weights:      # the 1-channel tanh output layer
            weight.assign(tf.zeros_like(weight))
    if not (cfg.residual or extra):
        return unet
    image = keras.Input(shape=(None, None, 1), name="image")
    features = image
    if cfg.wiener_psf:
        psf = blurfit.read_psf(cfg.wiener_psf)
        wiener = keras.layers.Conv2D(len(WIENER_BALANCES), WIENER_SIZE, padding="same",
                                     use_bias=False,
                                     trainable=False, name="wiener")
        wiener.build((None, None, None, 1))
        # Conv2D correlates: flip the kernels so that the layer convolves
        wiener.set_weights([np.stack([kernels.wiener_kernel(psf, k, size=WIENER_SIZE)[::-1, ::-1]
                                      for k in WIENER_BALANCES], -1)[:, :, None, :]])
        features = keras.layers.Concatenate(name="with_wiener")([image, wiener(image)])
    if cfg.noise_map:
        features = keras.layers.Concatenate(name="with_noise_level")(
            [features, models.NoiseLevelMap(name="noise_level")(image)])
    out = unet(features)
    if cfg.contrast_residual:
        out = models.ContrastGain(cfg.contrast_residual, name="contrast_gain")([image, out])
    if cfg.residual:
        out = keras.layers.Add(name="residual")([image, out])
    return keras.Model(image, out, name=name)


PAPER = Recipe("paper", build_unet, lambda cfg: [])

#: The training recipes by name (the config's ``recipe`` key; their settings are in
#: :data:`semgan_core.config.RECIPES`).
REGISTRY = {"paper": PAPER, "filter": cpu_recipe.FILTER}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name`` (``"paper"`` or ``"filter"``)."""
    if name not in REGISTRY:
        raise ValueError(f"get_recipe: unknown recipe {name!r}; expected one of "
                         f"{', '.join(map(repr, REGISTRY))}")
    return REGISTRY[name]
