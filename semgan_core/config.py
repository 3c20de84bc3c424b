"""Profiles (smoke, book, paper) and ``get_config``.

Hyperparameters are plain values in one dataclass, overridable by keyword, saved into
every checkpoint and result file (nanoGPT style). Tiny CPU runs are overrides of the
same trainer, not separate code.

* ``smoke``: CI. A tiny discriminator and a handful of steps; minutes for the whole book.
* ``book``: the default. The CPU recipe (:data:`CPU_RECIPE`) at 256x256: the paper's
  recipe, trained at CPU scale, ends below its own blurred input (NOTES.md section 8;
  the book's reproduction notes show the curves), so this profile trains a generator that
  can only deconvolve and correct contrast smoothly (:mod:`semgan_core.filtergen`) with
  unpaired spectrum and histogram matching (:mod:`semgan_core.matching`) and without the
  adversarial term, which did not help in the study and costs most of a step. 10 000
  steps: about 10 minutes alone on 2 cores (0.06 s/step), 17 with a second run beside it.
* ``paper``: the paper's settings (Methods, "Experimental settings"): the U-Net and
  PatchGAN networks at width 1.0, 256x256, 50 epochs, batch 1, Adam lr 1e-4 (beta1 0.5),
  lambda1 10, lambda2 5, gamma 10; the class defaults (:data:`PAPER_RECIPE`). Meant for
  a GPU.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

PROFILES = ("smoke", "book", "paper")


@dataclass(frozen=True)
class Config:
    """All settings of one run. Use :func:`get_config` rather than building it directly."""

    profile: str = "book"
    seed: int = 0
    # --- data --------------------------------------------------------------------
    recipe: str = "A"               # degradation recipe: A, B or C
    image_size: int = 256           # training crop side (multiple of 128)
    n_crops: int = 2550             # crops after "data expansion" (paper: 2550)
    n_source: int = 0               # clean source images to crop from (0: library default)
    test_fraction: float = 0.1      # split by source image
    hybrid: str = "random"          # recipe C: one kernel drawn per image, or "compose"
    strict_unpaired: bool = False   # draw domains A and B from disjoint source images
    # --- networks ------------------------------------------------------------------
    width: float = 0.25             # channel multiplier (paper: 1.0)
    bottleneck_norm: bool = False   # instance norm at the H/128 bottleneck (models.py: measured)
    generator: str = "unet"         # "unet" (paper) or "filter" (filtergen.py: learned
                                    # deconvolution filter + smooth tone field)
    filter_size: int = 15           # side of the learned filter (generator="filter")
    filter_gain: float = 10.0       # its learning-rate multiplier (filtergen.LearnedFilter)
    tone: str = "mean"              # its tone field: "mean", "mean+spread" or "none"
    # --- optimisation --------------------------------------------------------------
    steps: int = 3600               # training steps (0: use epochs)
    epochs: int = 0                 # epochs over trainA (paper: 50); used when steps == 0
    batch_size: int = 1
    learning_rate: float = 1e-4
    beta_1: float = 0.5
    lambda_cycle: float = 10.0      # lambda1, eq. 16
    lambda_identity: float = 5.0    # lambda2, eq. 16
    gamma_edge: float = 10.0        # gamma, eq. 16
    edge_operator: str = "sobel"    # or "kirsch" (Table S4)
    edge_reference: str = "paper"   # eq. 13 literal, or "input"
    pool_size: int = 0              # image history pool (0: off; CycleGAN uses 50)
    lr_decay: bool = False          # linear decay to zero over the second half
    # --- convergence study (neutral defaults: the paper's recipe is unchanged) ------
    residual: bool = False          # G(x) = x + U-Net(x), last layer zero-initialised
    warmup_steps: int = 0           # steps of identity/cycle-only training before GAN
    lambda_adv: float = 1.0         # weight of the adversarial terms in eq. 16
    lr_d_multiplier: float = 1.0    # discriminator lr = learning_rate * k (two time-scale)
    disc_input: str = "image"       # or "highpass": D sees x - GaussianBlur(x); "both": 2 channels
    disc_norm: str = "all"          # D's instance norms: all (paper), inner (2-3), none
    r1_gamma: float = 0.0           # R1 gradient penalty on D's real inputs (0: off, paper)
    lambda_spectral: float = 0.0    # unpaired amplitude-spectrum matching (matching.py; 0: off)
    spectral_target: str = "pair"   # "pair": one unrelated image; "mean": the domains' means
    spectral_cap: float = 4.0       # largest gain (and 1/smallest) of spectral_target="mean"
    lambda_histogram: float = 0.0   # unpaired grey-level histogram matching (0: off)
    # --- engineering -----------------------------------------------------------------
    mixed_precision: bool = False   # float16 compute, float32 variables and losses
    jit_compile: bool = False       # XLA (slower on CPU, measured)
    deterministic: bool = False     # tf.config.experimental.enable_op_determinism()
    intra_op_threads: int = 0       # threads inside one op (0: TensorFlow's default)
    inter_op_threads: int = 0       # ops run at once (0: TensorFlow's default)
    checkpoint_every: int = 250
    keep_checkpoints: int = 3
    sample_every: int = 250         # sample grid every N steps (0: only at the end)
    log_every: int = 10

    def to_dict(self) -> dict[str, Any]:
        """The config as a plain dict (for JSON, checkpoints and result files)."""
        return dataclasses.asdict(self)

    def replace(self, **overrides: Any) -> "Config":
        """A copy with ``overrides`` applied (validated like :func:`get_config`)."""
        values = {**self.to_dict(), **overrides}
        return get_config(values.pop("profile"), **values)


#: The paper's generator, discriminator and loss settings (the defaults of :class:`Config`),
#: spelled out so that a study can put them back on top of a profile that changes them.
PAPER_RECIPE: dict[str, Any] = dict(
    generator="unet", residual=False, disc_norm="all", disc_input="image",
    edge_reference="paper", lambda_identity=5.0, lambda_adv=1.0, lambda_spectral=0.0,
    spectral_target="pair", lambda_histogram=0.0, r1_gamma=0.0, warmup_steps=0, pool_size=0,
    lr_d_multiplier=1.0)

#: The CPU recipe of the smoke and book profiles (issue #6; the book's reproduction notes
#: show the curves): a generator that can only deconvolve and correct contrast smoothly
#: (filtergen.py), a discriminator that sees the blur (instance norm on its inner layers
#: only, high-pass input), the edge loss against the input with a light identity term, and
#: unpaired spectrum and histogram matching (matching.py), the spectrum against the two
#: domains' running mean spectra (``spectral_target="mean"``).
CPU_RECIPE: dict[str, Any] = dict(
    generator="filter", disc_norm="inner", disc_input="highpass", edge_reference="input",
    lambda_identity=0.5, lambda_spectral=1.0, spectral_target="mean", lambda_histogram=10.0,
    lambda_adv=0.0)

_PROFILE_SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": dict(CPU_RECIPE, width=0.125, image_size=256, steps=6, n_crops=24, n_source=8,
                  checkpoint_every=3, sample_every=3, log_every=1),
    # 0.30 s/step measured on 2 idle cores with one thread per op (0.35 s with
    # TensorFlow's thread defaults): 3600 steps ~ 18 minutes
    "book": dict(CPU_RECIPE, width=0.25, image_size=256, steps=10000, intra_op_threads=1),
    "paper": dict(width=1.0, image_size=256, bottleneck_norm=True, steps=0, epochs=50,
                  n_crops=2550, checkpoint_every=1000, sample_every=1000, log_every=50),
}

_CHOICES = {
    "profile": PROFILES,
    "recipe": ("A", "B", "C"),
    "hybrid": ("random", "compose"),
    "edge_operator": ("sobel", "kirsch"),
    "edge_reference": ("paper", "input"),
    "disc_input": ("image", "highpass", "both"),
    "generator": ("unet", "filter"),
    "tone": ("mean", "mean+spread", "none"),
    "disc_norm": ("all", "inner", "none"),
    "spectral_target": ("pair", "mean"),
}

# (key, smallest allowed value, whether the bound itself is allowed)
_LOWER_BOUNDS = (
    ("width", 0, False), ("batch_size", 1, True), ("learning_rate", 0, False),
    ("pool_size", 0, True), ("warmup_steps", 0, True), ("lambda_adv", 0, True),
    ("lr_d_multiplier", 0, False), ("lambda_cycle", 0, True), ("lambda_identity", 0, True),
    ("gamma_edge", 0, True), ("spectral_cap", 1, False), ("checkpoint_every", 1, True),
    ("keep_checkpoints", 1, True),
    ("sample_every", 0, True), ("log_every", 1, True), ("n_crops", 1, True),
    ("intra_op_threads", 0, True), ("inter_op_threads", 0, True), ("filter_size", 1, True),
    ("filter_gain", 0, False), ("r1_gamma", 0, True),
    ("lambda_spectral", 0, True), ("lambda_histogram", 0, True),
)


def config_keys() -> list[str]:
    """Names of every setting a config accepts."""
    return [f.name for f in fields(Config)]


def get_config(profile: str = "book", **overrides: Any) -> Config:
    """Return the configuration of ``profile`` with ``overrides`` applied.

    Parameters
    ----------
    profile : {'smoke', 'book', 'paper'}
        Base profile.
    **overrides
        Any field of :class:`Config`. Values are coerced to the field's type
        (so ``"0.5"`` from a command line is accepted for a float).

    Returns
    -------
    config : Config

    Raises
    ------
    ValueError
        For an unknown profile, unknown keys (all named in the message), a value
        of the wrong type or one outside its allowed choices.

    Examples
    --------
    >>> get_config("smoke", steps=12).steps
    12
    """
    if profile not in PROFILES:
        raise ValueError(f"get_config: unknown profile {profile!r}; expected one of {PROFILES}")
    known = {f.name: f for f in fields(Config)}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ValueError(
            f"get_config: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"valid keys are: {', '.join(sorted(known))}"
        )
    values = {**_PROFILE_SETTINGS[profile], **overrides, "profile": profile}
    coerced = {k: _coerce(k, v, type(getattr(Config, k))) for k, v in values.items()}
    for key, choices in _CHOICES.items():
        if key in coerced and coerced[key] not in choices:
            raise ValueError(
                f"get_config: {key}={coerced[key]!r} is not allowed; expected one of {choices}"
            )
    cfg = Config(**coerced)
    if cfg.image_size % 128 or cfg.image_size <= 0:
        raise ValueError(
            f"get_config: image_size={cfg.image_size} must be a positive multiple of 128"
        )
    if cfg.steps < 0 or cfg.epochs < 0 or (cfg.steps == 0 and cfg.epochs == 0):
        raise ValueError("get_config: set steps > 0, or steps=0 and epochs > 0")
    for key, low, inclusive in _LOWER_BOUNDS:
        value = getattr(cfg, key)
        if value < low or (value == low and not inclusive):
            bound = f">= {low}" if inclusive else f"> {low}"
            raise ValueError(f"get_config: {key}={value!r} must be {bound}")
    if cfg.filter_size % 2 == 0:
        raise ValueError(f"get_config: filter_size={cfg.filter_size} must be odd")
    if not 0 <= cfg.beta_1 < 1:
        raise ValueError(f"get_config: beta_1={cfg.beta_1!r} must be in [0, 1)")
    return cfg


def _coerce(key: str, value: Any, kind: type) -> Any:
    """Coerce ``value`` to ``kind``; accept strings from the command line."""
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    try:
        if kind is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low in ("1", "true", "yes", "on"):
                    return True
                if low in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            if isinstance(value, (int, float)) and value in (0, 1):
                return bool(value)
            raise ValueError(value)
        if kind is int:
            as_float = float(value)
            if as_float != int(as_float):
                raise ValueError(value)
            return int(as_float)
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"get_config: {key}={value!r} is not a valid {kind.__name__}"
        ) from None


def parse_overrides(pairs: list[str] | None) -> dict[str, str]:
    """Parse ``["key=value", ...]`` from ``--set`` into a dict (values stay strings).

    Raises
    ------
    ValueError
        For an item without ``=``.
    """
    out: dict[str, str] = {}
    for item in pairs or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def set_seed(seed: int) -> None:
    """Seed Python, NumPy's legacy global state and TensorFlow (``keras.utils.set_random_seed``).

    Library functions never use global NumPy state (they take ``rng``); this is for
    TensorFlow initialisers and third-party code.
    """
    import keras

    keras.utils.set_random_seed(int(seed))
