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

import tensorflow as tf

import keras

from semgan_core import config, cpu_recipe, models
from semgan_core.plugin import Recipe


def build_unet(cfg: config.Config, name: str) -> keras.Model:
    """The paper's U-Net (:func:`semgan_core.models.build_generator`); with
    ``cfg.residual``, ``x + U-Net(x)`` with the U-Net's output layer zero-initialised,
    so that G starts as the identity.

    The residual output is not clipped to [-1, 1] (``images.from_model_range`` clips).
    """
    unet = models.build_generator(cfg.width, bottleneck_norm=cfg.bottleneck_norm,
                                  name=f"{name}_unet" if cfg.residual else name)
    if not cfg.residual:
        return unet
    for weight in unet.layers[-1].weights:          # the 1-channel tanh output layer
        weight.assign(tf.zeros_like(weight))
    image = keras.Input(shape=(None, None, 1), name="image")
    return keras.Model(image, keras.layers.Add(name="residual")([image, unet(image)]),
                       name=name)


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
