"""Shared test settings: quiet TensorFlow, a headless matplotlib, seeded tests."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest


@pytest.fixture(scope="module")
def generator():
    """A tiny U-Net generator (width 1/16), seeded: the same weights in every module."""
    import keras

    from semgan_core import models

    keras.utils.set_random_seed(0)
    return models.build_generator(0.0625)


@pytest.fixture(scope="module")
def generator_file(generator, tmp_path_factory):
    """``generator`` saved as a semgan generator file (metadata: U-Net, unpaired, B)."""
    from semgan_core import generators

    path = tmp_path_factory.mktemp("weights") / "G.keras"
    return generators.save_generator(generator, path, metadata={
        "generator": "unet", "mode": "unpaired", "degradation": "B", "recipe": "paper"})
