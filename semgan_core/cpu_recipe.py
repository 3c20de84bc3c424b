"""The CPU recipe (``recipe="filter"``): a filter generator and statistics matching.

At CPU scale the paper's U-Net CycleGAN ends below its own blurred input after thousands
of steps (the book's reproduction notes show the curves). This recipe trains a generator
that can only deconvolve and correct contrast smoothly
(:func:`semgan_core.filtergen.build_filter_generator`) on eq. 16 without the adversarial
term, plus two unpaired statistics-matching terms (:mod:`semgan_core.matching`):

* ``spectral`` (``lambda_spectral``): with ``spectral_target="mean"``, each
  translation's spectral gain against the ratio of the two domains' running mean
  amplitude spectra (:class:`~semgan_core.matching.SpectrumStats`, kept in the
  checkpoints), capped at ``spectral_cap``; with ``"pair"``, each translation's
  amplitude spectrum against one unrelated image of its target domain.
* ``histogram`` (``lambda_histogram``): each translation's sorted grey levels against
  those of an unrelated image of its target domain.

A term whose weight is 0 is not built, so it is neither computed nor logged.
"""

from __future__ import annotations

from semgan_core import config, filtergen, matching
from semgan_core.plugin import LossTerm, Recipe, Translations


def build_generator(cfg: config.Config, name: str):
    """:func:`semgan_core.filtergen.build_filter_generator` with the config's filter
    size, gain and tone field."""
    return filtergen.build_filter_generator(cfg.filter_size, gain=cfg.filter_gain,
                                            tone=cfg.tone, name=name)


def _spectral_mean(cfg: config.Config) -> LossTerm:
    """Spectral gains of G(a) and F(b) against the domains' running mean spectra."""
    stats = matching.SpectrumStats(cfg.image_size)

    def loss(t: Translations):
        spec_a, spec_b = stats.update(t.real_a, t.real_b)
        return sum(matching.equalization_loss(
            fake, spectrum, stats.log_gain(cfg.spectral_cap, towards=towards),
            stats.weight(towards))
            for fake, spectrum, towards in ((t.fake_b, spec_a, "b"), (t.fake_a, spec_b, "a")))

    return LossTerm("spectral", cfg.lambda_spectral, loss, state=stats)


def _spectral_pair(cfg: config.Config) -> LossTerm:
    """Amplitude spectra of G(a) and F(b) against one unrelated image of each domain."""
    def loss(t: Translations):
        return matching.spectral_loss(t.fake_b, t.real_b) + matching.spectral_loss(
            t.fake_a, t.real_a)

    return LossTerm("spectral", cfg.lambda_spectral, loss)


def _histogram(cfg: config.Config) -> LossTerm:
    """Grey-level histograms of G(a) and F(b) against unrelated images of each domain."""
    def loss(t: Translations):
        return matching.histogram_loss(t.fake_b, t.real_b) + matching.histogram_loss(
            t.fake_a, t.real_a)

    return LossTerm("histogram", cfg.lambda_histogram, loss)


def extra_terms(cfg: config.Config) -> list[LossTerm]:
    """The matching terms with a positive weight, spectral first (call it inside the
    distribution strategy's scope: the running spectra are variables)."""
    terms = []
    if cfg.lambda_spectral > 0:
        spectral = _spectral_mean if cfg.spectral_target == "mean" else _spectral_pair
        terms.append(spectral(cfg))
    if cfg.lambda_histogram > 0:
        terms.append(_histogram(cfg))
    return terms


FILTER = Recipe("filter", build_generator, extra_terms)
