"""The catalogue of study variants: named changes to a training recipe.

Each variant is a dict of config overrides (:func:`semgan_core.config.get_config`) that
names its training recipe (``"paper"``: the paper's U-Net CycleGAN; ``"filter"``: the CPU
recipe) and what it changes, so it means the same on every profile (a profile sets the
scale: width, steps, threads). :func:`semgan_core.study.harness.run_variants` trains them
side by side.

Changes to the paper's recipe (the U-Net CycleGAN trained with eq. 16):

* ``residual``: G(x) = x + U-Net(x), its output layer zero-initialised (G starts at the
  identity); ``warmup``: the first 100 steps without the adversarial term;
  ``adv-weight``: adversarial terms weighted 5; ``ttur``: the discriminators' learning
  rate 4 times the generators'; ``pool``: a 50-image history pool for the
  discriminators; ``bottleneck-norm``: instance norm at the 1x1 / 2x2 bottleneck;
* discriminators that can see a blur: ``highpass-d`` (D sees x minus its Gaussian blur),
  ``inner-d`` (instance norm on D's inner layers only); ``edge-input``: the edge loss
  against the input; ``fixed-d``: all of these with a light identity term (0.5);
  ``residual+fixed-d``.

The filter generator (a learned zero-phase deconvolution filter and a smooth tone field,
:mod:`semgan_core.filtergen`):

* ``filter-generator``: trained with the paper's losses; ``filter-generator+fixed-d``:
  with the fixed discriminator's settings;
* ``filter-pair-spectrum``: the CPU recipe with the spectral term against one unrelated
  image of the other domain rather than the domains' mean spectra; ``...+gan``: with the
  adversarial term (weight 1, the fixed discriminator); ``...-no-tone``: without the tone
  field; ``...-no-histogram``: without the histogram term; ``...-low-cycle``: cycle and
  edge weights 1;
* ``filter``: the CPU recipe itself (the ``filter`` training recipe: spectrum against the
  domains' running mean spectra, histogram, no adversarial term); ``filter+gan``,
  ``filter-no-tone``, ``filter-no-histogram`` as above; ``filter-cap8``: spectral gains
  capped at 8 instead of 4; ``filter-x10``: the spectral term weighted 10;
  ``filter-x10-no-tone``.

Settings that a variant's recipe does not read are not part of it (the config refuses
them): without the adversarial term no discriminator is trained, so a filter variant
without it names no discriminator settings.

Studies recorded under earlier variant names read back under these ones
(:data:`FORMER_NAMES`, applied by :func:`semgan_core.study.harness.read_study`).
"""

from __future__ import annotations

_WARMUP = 100           # steps without the adversarial term in "warmup"

#: The discriminator and loss settings a diagnostic probe found necessary for a
#: discriminator that can tell a sigma-1 blur: instance norm on its inner layers, a
#: high-pass input, the edge loss against the input, a light identity term.
_FIXED_D = {"disc_norm": "inner", "disc_input": "highpass", "edge_reference": "input",
            "lambda_identity": 0.5}
#: The filter recipe with the adversarial term (the fixed discriminator's D settings).
_GAN = {"lambda_adv": 1.0, "disc_norm": "inner", "disc_input": "highpass"}
#: The filter generator with the paper's losses (the filter recipe's terms undone).
_PAPER_LOSSES = {"edge_reference": "paper", "lambda_identity": 5.0, "lambda_spectral": 0.0,
                 "spectral_target": "pair", "lambda_histogram": 0.0, "lambda_adv": 1.0}
#: The spectral term against one unrelated image of the other domain.
_PAIR = {"spectral_target": "pair"}

_PAPER: dict[str, dict] = {
    "paper": {},
    "residual": {"residual": True},
    "warmup": {"warmup_steps": _WARMUP},
    "adv-weight": {"lambda_adv": 5.0},
    "ttur": {"lr_d_multiplier": 4.0},
    "pool": {"pool_size": 50},
    "highpass-d": {"disc_input": "highpass"},
    "edge-input": {"edge_reference": "input"},
    "bottleneck-norm": {"bottleneck_norm": True},
    "inner-d": {"disc_norm": "inner"},
    "fixed-d": dict(_FIXED_D),
    "residual+fixed-d": {"residual": True, **_FIXED_D},
}
_FILTER: dict[str, dict] = {
    "filter-generator": dict(_PAPER_LOSSES),
    "filter-generator+fixed-d": {**_PAPER_LOSSES, **_FIXED_D},
    "filter-pair-spectrum": dict(_PAIR),
    "filter-pair-spectrum+gan": {**_PAIR, **_GAN},
    "filter-pair-spectrum-no-tone": {**_PAIR, "tone": "none"},
    "filter-pair-spectrum-no-histogram": {**_PAIR, "lambda_histogram": 0.0},
    "filter-pair-spectrum-low-cycle": {**_PAIR, "lambda_cycle": 1.0, "gamma_edge": 1.0},
    "filter": {},
    "filter+gan": dict(_GAN),
    "filter-no-tone": {"tone": "none"},
    "filter-no-histogram": {"lambda_histogram": 0.0},
    "filter-cap8": {"spectral_cap": 8.0},
    "filter-x10": {"lambda_spectral": 10.0},
    "filter-x10-no-tone": {"lambda_spectral": 10.0, "tone": "none"},
}
#: Variant name -> config overrides (its training recipe first).
VARIANTS: dict[str, dict] = {
    **{name: {"recipe": "paper", **changes} for name, changes in _PAPER.items()},
    **{name: {"recipe": "filter", **changes} for name, changes in _FILTER.items()},
}

#: Earlier names of variants, as studies recorded before the training recipes had
#: names hold them.
FORMER_NAMES = {
    "filter": "filter-generator", "filter+fixed-d": "filter-generator+fixed-d",
    "recipe-1": "filter-pair-spectrum", "recipe-1+gan": "filter-pair-spectrum+gan",
    "recipe-1-no-tone": "filter-pair-spectrum-no-tone",
    "recipe-1-no-histogram": "filter-pair-spectrum-no-histogram",
    "recipe-1-low-cycle": "filter-pair-spectrum-low-cycle",
    "recipe": "filter", "recipe+gan": "filter+gan", "recipe-no-tone": "filter-no-tone",
    "recipe-no-histogram": "filter-no-histogram", "recipe-cap8": "filter-cap8",
    "recipe-x10": "filter-x10", "recipe-x10-no-tone": "filter-x10-no-tone",
}
