"""Profiles, overrides, coercion and validation of ``config.get_config``."""

import dataclasses

import pytest

from semgan_core import checks, config

def test_paper_profile_has_the_papers_settings():
    cfg = config.get_config("paper")
    assert cfg.recipe == "paper"
    assert (cfg.width, cfg.image_size, cfg.epochs, cfg.steps, cfg.batch_size) == (
        1.0, 256, 50, 0, 1)
    assert (cfg.learning_rate, cfg.beta_1) == (1e-4, 0.5)
    assert (cfg.lambda_adv, cfg.lambda_cycle, cfg.lambda_identity, cfg.gamma_edge) == (
        1.0, 10.0, 5.0, 10.0)
    assert (cfg.edge_operator, cfg.edge_reference) == ("sobel", "paper")
    assert (cfg.pool_size, cfg.lr_decay, cfg.mixed_precision) == (0, False, False)
    assert cfg.bottleneck_norm is True          # the paper's literal reading


def test_the_class_defaults_are_the_papers_method():
    """Config() differs from the paper profile only where the module docstring says."""
    paper, default = config.get_config("paper").to_dict(), config.Config().to_dict()
    differ = {k for k in paper if paper[k] != default[k]}
    assert differ == {"bottleneck_norm", "checkpoint_every", "sample_every", "log_every"}


@pytest.mark.parametrize("profile", config.PROFILES)
def test_every_profile_is_valid(profile):
    cfg = config.get_config(profile)
    assert cfg.profile == profile
    assert cfg.image_size % checks.SIZE_MULTIPLE == 0 and cfg.width > 0
    assert cfg.steps > 0 or cfg.epochs > 0


def test_profiles_choose_a_recipe_and_the_recipe_brings_its_settings():
    for profile in ("smoke", "book"):
        cfg = config.get_config(profile)
        assert cfg.recipe == "filter"
        assert {k: getattr(cfg, k) for k in config.RECIPES["filter"]} == config.RECIPES["filter"]
    # the paper's recipe on a CPU profile: the paper's losses at the profile's scale
    paper = config.get_config("smoke", recipe="paper")
    assert (paper.lambda_adv, paper.lambda_identity, paper.edge_reference,
            paper.lambda_spectral, paper.lambda_histogram) == (1.0, 5.0, "paper", 0.0, 0.0)
    assert paper.width == config.get_config("smoke").width
    # a profile's setting the chosen recipe does not read does not apply
    assert config.get_config("paper", recipe="filter").bottleneck_norm is False


def test_sections_hold_every_key_once():
    keys = [k for section in config.SECTIONS.values() for k in section]
    assert sorted(keys) == sorted(config.config_keys()) and len(keys) == len(set(keys))
    cfg = config.get_config("smoke")
    assert cfg.section("paper_losses")["lambda_cycle"] == 10.0
    assert set(cfg.section("matching")) == {"lambda_spectral", "spectral_target",
                                            "spectral_cap", "lambda_histogram"}
    with pytest.raises(ValueError, match="Config.section: name='data' is not allowed"):
        cfg.section("data")


def test_smoke_is_tiny_and_book_is_the_cpu_budget():
    smoke, book = config.get_config("smoke"), config.get_config("book")
    assert smoke.width <= 0.125 and smoke.steps <= 10
    assert smoke.checkpoint_every <= smoke.steps
    assert (book.width, book.image_size, book.intra_op_threads) == (0.25, 256, 1)
    assert 5000 <= book.steps <= 20000


@pytest.mark.parametrize("key, value, message", [
    ("recipe", "resnet", "recipe='resnet' is not allowed"),
    ("tone", "full", "tone='full' is not allowed"),
    ("disc_input", "edges", "disc_input='edges' is not allowed"),
    ("r1_gamma", -1, r"r1_gamma=-1.0 must be a finite number in \[0, 1000000.0\]"),
    ("lambda_spectral", -0.5, r"lambda_spectral=-0.5 must be a finite number in \[0, "),
    ("filter_gain", 0, r"filter_gain=0.0 must be a finite number in \(0, 10000.0\)"),
])
def test_recipe_keys_are_validated(key, value, message):
    with pytest.raises(ValueError, match=message):
        config.get_config("smoke", **{key: value})


@pytest.mark.parametrize("overrides, message", [
    (dict(residual=True), r"residual=True would be ignored \(recipe='filter' does not use"),
    (dict(bottleneck_norm=True), r"bottleneck_norm=True would be ignored \(recipe='filter'"),
    (dict(recipe="paper", filter_size=9), r"filter_size=9 would be ignored \(recipe='paper'"),
    (dict(recipe="paper", tone="none"), r"tone='none' would be ignored \(recipe='paper'"),
    (dict(recipe="paper", lambda_spectral=1.0), r"lambda_spectral=1.0 would be ignored"),
    (dict(wiener_psf="pairs/manifest.json"), r"wiener_psf='pairs/manifest.json' would be "
                                             r"ignored \(recipe='filter' does not use it\)"),
    (dict(lambda_spectral=0, spectral_cap=8), r"spectral_cap=8.0 would be ignored "
                                              r"\(lambda_spectral=0\)"),
    (dict(spectral_target="pair", spectral_cap=8), r"spectral_cap=8.0 would be ignored "
                                                   r"\(spectral_target='pair' has no cap\)"),
    (dict(disc_input="highpass"), r"disc_input='highpass' would be ignored "
                                  r"\(lambda_adv=0 trains no discriminator\)"),
    (dict(warmup_steps=10), r"warmup_steps=10 would be ignored \(lambda_adv=0"),
    (dict(recipe="paper", lambda_adv=0, pool_size=50), r"pool_size=50 would be ignored"),
])
def test_an_option_the_run_ignores_is_refused(overrides, message):
    with pytest.raises(ValueError, match=message):
        config.get_config("smoke", **overrides)


def test_options_at_their_neutral_values_are_accepted():
    assert config.get_config("smoke", residual=False, disc_input="image").recipe == "filter"
    assert config.get_config("smoke", recipe="paper", residual=True).residual is True
    assert config.get_config("smoke", lambda_adv=1, disc_input="highpass").disc_input == \
        "highpass"
    # the filter recipe's own spectral setting stays valid when the term is switched off
    assert config.get_config("smoke", lambda_spectral=0).spectral_target == "mean"


@pytest.mark.parametrize("key, value", [
    ("learning_rate", float("nan")), ("learning_rate", float("inf")), ("learning_rate", 1e6),
    ("learning_rate", "nan"), ("lambda_cycle", float("inf")), ("width", float("nan")),
    ("beta_1", float("nan")), ("spectral_cap", float("inf")), ("batch_size", 10 ** 7),
])
def test_non_finite_and_absurd_numbers_are_refused(key, value):
    with pytest.raises(ValueError, match=f"get_config: {key}=.* must be"):
        config.get_config("smoke", **{key: value})


def test_unknown_keys_are_refused_and_named():
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'lamda_cycle', 'wdith'"):
        config.get_config("smoke", wdith=0.5, lamda_cycle=3)


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        config.get_config("fast")


@pytest.mark.parametrize("key, text, value", [
    ("width", "0.5", 0.5), ("steps", "12", 12), ("steps", "1e3", 1000),
    ("lr_decay", "true", True), ("mixed_precision", "0", False),
    ("lambda_adv", "2", 2.0), ("recipe", "paper", "paper"),
    ("deterministic", "on", True),
])
def test_strings_from_the_command_line_are_coerced(key, text, value):
    cfg = config.get_config("smoke", **{key: text})
    assert getattr(cfg, key) == value and type(getattr(cfg, key)) is type(value)


@pytest.mark.parametrize("key, value, message", [
    ("steps", "1.5", "steps='1.5' is not a valid int"),
    ("lr_decay", "maybe", "lr_decay='maybe' is not a valid bool"),
    ("width", "wide", "width='wide' is not a valid float"),
    ("disc_input", "edges", r"disc_input='edges' is not allowed; expected one of"),
    ("recipe", "A", r"recipe='A' is not allowed"),
    ("image_size", 200, r"image_size must be a positive multiple of 128 .*, got 200"),
    ("warmup_steps", -1, "warmup_steps=-1 must be an integer >= 0"),
    ("lr_d_multiplier", 0, r"lr_d_multiplier=0.0 must be a finite number in \(0, 1000.0\)"),
    ("lambda_adv", -1, r"lambda_adv=-1.0 must be a finite number in \[0, 10000.0\]"),
    ("pool_size", -5, r"pool_size=-5 must be an integer in \[0, 10000\]"),
    ("checkpoint_every", 0, "checkpoint_every=0 must be an integer >= 1"),
    ("keep_checkpoints", 0, "keep_checkpoints=0 must be an integer >= 1"),
    ("batch_size", 0, r"batch_size=0 must be an integer in \[1, 65536\]"),
    ("width", 0, r"width=0.0 must be a finite number in \(0, 16\)"),
    ("beta_1", 1.0, r"beta_1=1.0 must be in \[0, 1\)"),
])
def test_invalid_values_are_refused_with_the_key(key, value, message):
    with pytest.raises(ValueError, match=message):
        config.get_config("smoke", **{key: value})


def test_steps_or_epochs_are_required():
    with pytest.raises(ValueError, match="set steps > 0, or steps=0 and epochs > 0"):
        config.get_config("book", steps=0)
    assert config.get_config("book", steps=0, epochs=2).epochs == 2


def test_config_is_frozen_and_replace_validates():
    cfg = config.get_config("smoke")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.steps = 3
    assert cfg.replace(steps=12).steps == 12 and cfg.replace(steps=12).profile == "smoke"
    with pytest.raises(ValueError, match="unknown key"):
        cfg.replace(stpes=12)


def test_to_dict_round_trips_and_names_every_key():
    cfg = config.get_config("book", recipe="paper", residual=True, warmup_steps=100)
    values = cfg.to_dict()
    assert set(values) == set(config.config_keys())
    assert config.get_config(values.pop("profile"), **values) == cfg


def test_parse_overrides():
    assert config.parse_overrides(["steps=5", " width = 0.5 "]) == {"steps": "5",
                                                                  "width": "0.5"}
    assert config.parse_overrides(None) == {}
    with pytest.raises(ValueError, match="--set expects key=value, got 'steps'"):
        config.parse_overrides(["steps"])


def test_wiener_psf_is_a_paper_network_option():
    assert config.Config().wiener_psf == ""
    assert "wiener_psf" in config.SECTIONS["networks"]
    assert "wiener_psf" in config.RECIPE_OPTIONS["paper"]
    cfg = config.get_config("smoke", recipe="paper", residual=True, wiener_psf="psf.json")
    assert cfg.wiener_psf == "psf.json" and cfg.section("networks")["wiener_psf"] == "psf.json"
    # the paper profile's recipe reads it; the filter recipe on the same profile refuses it
    assert config.get_config("paper", wiener_psf="psf.json").wiener_psf == "psf.json"
    with pytest.raises(ValueError, match=r"get_config: wiener_psf='psf.json' would be "
                                         r"ignored \(recipe='filter'"):
        config.get_config("paper", recipe="filter", wiener_psf="psf.json")
    assert config.get_config("smoke", wiener_psf="").recipe == "filter"   # neutral value


def test_contrast_residual_is_a_paper_option_that_needs_the_residual():
    assert config.Config().contrast_residual == 0.0
    assert "contrast_residual" in config.SECTIONS["networks"]
    assert "contrast_residual" in config.RECIPE_OPTIONS["paper"]
    cfg = config.get_config("smoke", recipe="paper", residual=True, contrast_residual="0.25")
    assert cfg.contrast_residual == 0.25
    with pytest.raises(ValueError, match=r"get_config: contrast_residual=0.25 scales the "
                                         r"residual of residual=True"):
        config.get_config("smoke", recipe="paper", contrast_residual=0.25)
    with pytest.raises(ValueError, match=r"contrast_residual=0.25 would be ignored"):
        config.get_config("smoke", recipe="filter", contrast_residual=0.25)
    with pytest.raises(ValueError, match=r"contrast_residual=-1.0 must be"):
        config.get_config("smoke", recipe="paper", residual=True, contrast_residual=-1)


def test_noise_map_and_paired_ssim_are_options_with_neutral_defaults():
    assert config.Config().noise_map is False and config.Config().paired_ssim == 1.0
    assert "noise_map" in config.SECTIONS["networks"]
    assert "noise_map" in config.RECIPE_OPTIONS["paper"]
    assert config.SECTIONS["paired"] == ("paired_ssim", "paired_l1", "paired_psnr",
                                         "paired_mse_floor")
    assert (config.Config().paired_l1, config.Config().paired_psnr) == (1.0, 0.0)
    with pytest.raises(ValueError, match="paired_mse_floor"):
        config.get_config("smoke", paired_mse_floor=0)
    assert config.get_config("smoke", recipe="paper", noise_map=True).noise_map is True
    with pytest.raises(ValueError, match=r"get_config: noise_map=True would be ignored"):
        config.get_config("paper", recipe="filter", noise_map=True)
    assert config.get_config("smoke", paired_ssim=0).paired_ssim == 0
    with pytest.raises(ValueError, match="paired_ssim"):
        config.get_config("smoke", paired_ssim=-1)


def test_paired_loss_text_names_the_weighted_terms():
    assert config.paired_loss_text({}) == "1 L1 + 1 (1 - SSIM)"
    assert config.paired_loss_text({"paired_l1": 0.0, "paired_psnr": 1.0,
                                    "paired_mse_floor": 1e-4}) == (
        "1 (1 - SSIM) + 1 log10(MSE + 0.0001)")
    assert config.paired_loss_text({"paired_ssim": 0.5}) == "1 L1 + 0.5 (1 - SSIM)"
