"""The interface through which a training recipe plugs into the one CycleGAN trainer.

A :class:`Recipe` gives the trainer two things, and the training step knows nothing else
about it:

* ``build_generator(cfg, name)``: the generator G (and F) as a Keras model, model range
  [-1, 1] in and out;
* ``extra_terms(cfg)``: a list of :class:`LossTerm`, each added to eq. 16 with its weight
  (``name``, ``weight``, ``loss(batch)`` on the step's :class:`Translations`, and an
  optional ``state``, a ``tf.Module`` the checkpoints carry).

The recipes themselves and the registry that names them are in
:mod:`semgan_core.recipes`; a recipe module imports only this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import tensorflow as tf

import keras

from semgan_core import config


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
