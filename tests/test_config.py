"""Profiles, overrides, coercion and validation of ``config.get_config``."""

import dataclasses

import pytest

from semgan_core import config

def test_paper_profile_has_the_papers_settings():
    cfg = config.get_config("paper")
    assert (cfg.width, cfg.image_size, cfg.epochs, cfg.steps, cfg.batch_size) == (
        1.0, 256, 50, 0, 1)
    assert (cfg.learning_rate, cfg.beta_1) == (1e-4, 0.5)
    assert (cfg.lambda_cycle, cfg.lambda_identity, cfg.gamma_edge) == (10.0, 5.0, 10.0)
    assert (cfg.n_crops, cfg.edge_operator, cfg.edge_reference) == (2550, "sobel", "paper")
    assert (cfg.pool_size, cfg.lr_decay, cfg.mixed_precision) == (0, False, False)
    assert cfg.bottleneck_norm is True          # the paper's literal reading


@pytest.mark.parametrize("profile", config.PROFILES)
def test_every_profile_is_valid(profile):
    cfg = config.get_config(profile)
    assert cfg.profile == profile
    assert cfg.image_size % 128 == 0 and cfg.width > 0
    assert cfg.steps > 0 or cfg.epochs > 0


def test_paper_profile_is_the_paper_recipe_and_cpu_profiles_the_cpu_recipe():
    paper = config.get_config("paper")
    assert {k: getattr(paper, k) for k in config.PAPER_RECIPE} == config.PAPER_RECIPE
    assert config.Config().to_dict() | config.PAPER_RECIPE == config.Config().to_dict()
    for profile in ("smoke", "book"):
        cfg = config.get_config(profile)
        assert {k: getattr(cfg, k) for k in config.CPU_RECIPE} == config.CPU_RECIPE
    # the paper recipe on top of a CPU profile restores every changed key
    back = config.get_config("book", **config.PAPER_RECIPE)
    assert {k: getattr(back, k) for k in config.CPU_RECIPE} == {
        k: getattr(paper, k) for k in config.CPU_RECIPE}


def test_smoke_is_tiny_and_book_is_the_cpu_budget():
    smoke, book = config.get_config("smoke"), config.get_config("book")
    assert smoke.width <= 0.125 and smoke.steps <= 10 and smoke.n_crops <= 32
    assert smoke.checkpoint_every <= smoke.steps
    assert (book.width, book.image_size, book.intra_op_threads) == (0.25, 256, 1)
    assert 5000 <= book.steps <= 20000


@pytest.mark.parametrize("key, value, message", [
    ("generator", "resnet", "generator='resnet' is not allowed"),
    ("tone", "full", "tone='full' is not allowed"),
    ("disc_input", "edges", "disc_input='edges' is not allowed"),
    ("r1_gamma", -1, "r1_gamma=-1.0 must be >= 0"),
    ("lambda_spectral", -0.5, "lambda_spectral=-0.5 must be >= 0"),
    ("filter_gain", 0, "filter_gain=0.0 must be > 0"),
])
def test_recipe_keys_are_validated(key, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config.get_config("smoke", **{key: value})


def test_unknown_keys_are_refused_and_named():
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'lamda_cycle', 'wdith'"):
        config.get_config("smoke", wdith=0.5, lamda_cycle=3)


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        config.get_config("fast")


@pytest.mark.parametrize("key, text, value", [
    ("width", "0.5", 0.5), ("steps", "12", 12), ("steps", "1e3", 1000),
    ("lr_decay", "true", True), ("residual", "yes", True), ("mixed_precision", "0", False),
    ("warmup_steps", "20", 20), ("lambda_adv", "2", 2.0), ("lr_d_multiplier", "4", 4.0),
    ("disc_input", "highpass", "highpass"), ("pool_size", "50", 50),
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
    ("recipe", "D", r"recipe='D' is not allowed"),
    ("image_size", 200, "image_size=200 must be a positive multiple of 128"),
    ("warmup_steps", -1, "warmup_steps=-1 must be >= 0"),
    ("lr_d_multiplier", 0, "lr_d_multiplier=0.0 must be > 0"),
    ("lambda_adv", -1, "lambda_adv=-1.0 must be >= 0"),
    ("pool_size", -5, "pool_size=-5 must be >= 0"),
    ("checkpoint_every", 0, "checkpoint_every=0 must be >= 1"),
    ("keep_checkpoints", 0, "keep_checkpoints=0 must be >= 1"),
    ("batch_size", 0, "batch_size=0 must be >= 1"),
    ("width", 0, "width=0.0 must be > 0"),
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
    cfg = config.get_config("book", residual=True, warmup_steps=100)
    values = cfg.to_dict()
    assert set(values) == set(config.config_keys())
    assert config.get_config(values.pop("profile"), **values) == cfg


def test_parse_overrides():
    assert config.parse_overrides(["steps=5", " width = 0.5 "]) == {"steps": "5",
                                                                  "width": "0.5"}
    assert config.parse_overrides(None) == {}
    with pytest.raises(ValueError, match="--set expects key=value, got 'steps'"):
        config.parse_overrides(["steps"])
