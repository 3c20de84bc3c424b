"""Training recipes: how a method plugs into the one CycleGAN trainer.

A :class:`Recipe` gives the trainer two things, and the training step knows nothing else
about it:

* ``build_generator(cfg, name)``: the generator G (and F) as a Keras model, model range
  [-1, 1] in and out;
* ``extra_terms(cfg)``: a list of :class:`LossTerm`, each added to eq. 16 with its weight
  (``name``, ``weight``, ``loss(batch)`` on the step's :class:`Translations`, and an
  optional ``state``, a ``tf.Module`` the checkpoints carry).

The paper's recipe (``"paper"``) is the multi-scale U-Net (:mod:`semgan_core.models`),
optionally residual, with no extra terms: eq. 16 alone. The CPU recipe (``"filter"``)
lives in :mod:`semgan_core.cpu_recipe`. :func:`get_recipe` returns either by the config's
``recipe`` key; the settings each recipe brings and the options it reads are listed in
:data:`semgan_core.config.RECIPES` and :data:`semgan_core.config.RECIPE_OPTIONS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import tensorflow as tf

import keras

from semgan_core import config, models


class Translations(NamedTuple):
    """The images of one CycleGAN step (model range, (N, H, W, 1)).

    ``real_a`` blurred and ``real_b`` clear inputs; ``fake_b`` = G(a), ``fake_a`` = F(b);
    ``cycled_a`` = F(G(a)), ``cycled_b`` = G(F(b)); ``same_a`` = F(a), ``same_b`` = G(b).
    """

    real_a: tf.Tensor
    real_b: tf.Tensor
    fake_a: tf.Tensor
    fake_b: tf.Tensor
    cycled_a: tf.Tensor
    cycled_b: tf.Tensor
    same_a: tf.Tensor
    same_b: tf.Tensor


@dataclass(frozen=True)
class LossTerm:
    """One term a recipe adds to the generators' loss: ``weight * loss(batch)``.

    Attributes
    ----------
    name : str
        Column name in ``losses.csv`` and TensorBoard.
    weight : float
        Its weight in the generators' total (a term with weight 0 is not listed).
    loss : callable
        ``loss(batch: Translations) -> scalar float32 tensor``.
    state : tf.Module, optional
        Variables the term keeps between steps; saved in every checkpoint.
    """

    name: str
    weight: float
    loss: Callable[[Translations], tf.Tensor]
    state: tf.Module | None = None


@dataclass(frozen=True)
class Recipe:
    """A training recipe: a generator factory and the extra loss terms."""

    name: str
    build_generator: Callable[[config.Config, str], keras.Model]
    extra_terms: Callable[[config.Config], list[LossTerm]]


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


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name`` (``"paper"`` or ``"filter"``)."""
    from semgan_core import cpu_recipe

    registry = {"paper": PAPER, "filter": cpu_recipe.FILTER}
    if name not in registry:
        raise ValueError(f"get_recipe: unknown recipe {name!r}; expected one of "
                         f"{', '.join(map(repr, registry))}")
    return registry[name]
