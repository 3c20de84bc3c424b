"""Settings of a training run: sections, training recipes, profiles and ``get_config``.

Hyperparameters are plain values in one frozen dataclass, overridable by keyword (flat
keys, also from the command line with ``--set key=value``), saved into every checkpoint
and result file (nanoGPT style). The fields are grouped in :data:`SECTIONS`: the
networks, the paper's losses (eq. 16), the options of the filter recipe, the study
options, the paired mode's loss, the optimisation and the engineering settings.

The class defaults are the paper's method (Methods, "Experimental settings"): the
U-Net and PatchGAN at width 1.0, 256x256 crops, 50 epochs, batch 1, Adam lr 1e-4 (beta1
0.5), lambda1 10, lambda2 5, gamma 10, with one exception, ``bottleneck_norm=False``
(instance norm at the 2x2 bottleneck, measured in :mod:`semgan_core.models`; the
``paper`` profile puts it back). ``Config()`` is therefore the ``paper`` profile less
its bottleneck norm and its logging intervals.

Training recipes (key ``recipe``; :data:`RECIPES` holds each one's settings, and
:mod:`semgan_core.recipes` its generator and loss terms):

* ``"paper"``: the paper's U-Net CycleGAN, eq. 16 with the adversarial term.
* ``"filter"``: the CPU recipe: a generator that can only deconvolve and correct contrast
  smoothly (:mod:`semgan_core.filtergen`), trained without the adversarial term on eq. 16's
  other terms plus unpaired spectrum and histogram matching (:mod:`semgan_core.matching`).
  At CPU scale the paper's recipe ends below its own blurred input after thousands of
  steps (the book's reproduction notes show the curves); this one does not.

Profiles choose a recipe and a scale:

* ``smoke``: CI. The filter recipe, width 0.125, 6 steps; minutes for the whole book.
* ``book``: the default. The filter recipe at 256x256, width 0.25, 10 000 steps: about
  10 minutes alone on 2 cores (0.06 s/step).
* ``paper``: the paper's recipe and settings, with instance norm at the bottleneck (the
  literal reading). Meant for a GPU.

:func:`get_config` layers the class defaults, the recipe's settings, the profile's and
the overrides, then checks every value (type, finiteness, range) and the fields
together: an option that the chosen recipe (or a switched-off term) ignores is refused
when it is set away from its neutral value, never dropped silently.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

from semgan_core import checks

PROFILES = ("smoke", "book", "paper")


@dataclass(frozen=True)
class Config:
    """All settings of one run. Use :func:`get_config` rather than building it directly."""

    profile: str = "paper"
    seed: int = 0
    recipe: str = "paper"           # training recipe: "paper" or "filter" (RECIPES)
    # --- networks ------------------------------------------------------------------
    image_size: int = 256           # training crop side (multiple of 128)
    width: float = 1.0              # channel multiplier (paper: 1.0)
    bottleneck_norm: bool = False   # U-Net: instance norm at the H/128 bottleneck
    residual: bool = False          # U-Net: G(x) = x + U-Net(x), output layer zero-initialised
    wiener_psf: str = ""            # U-Net: JSON/.npy PSF; Wiener-filtered copies as inputs
    noise_map: bool = False         # U-Net: the input's estimated noise level as an input
    contrast_residual: float = 0.0  # U-Net: residual times the input's std / this (0: off)
    filter_size: int = 15           # filter recipe: side of the learned filter (odd)
    filter_gain: float = 10.0       # filter recipe: its learning-rate multiplier
    tone: str = "mean"              # filter recipe: tone field "mean", "mean+spread", "none"
    disc_norm: str = "all"          # D's instance norms: all (paper), inner (2-3), none
    disc_input: str = "image"       # D sees the image, "highpass" x - g*x, or "both"
    # --- the paper's losses (eq. 16) -------------------------------------------------
    lambda_adv: float = 1.0         # weight of the adversarial terms (0: no discriminators)
    lambda_cycle: float = 10.0      # lambda1
    lambda_identity: float = 5.0    # lambda2
    gamma_edge: float = 10.0        # gamma
    edge_operator: str = "sobel"    # or "kirsch" (Table S4)
    edge_reference: str = "paper"   # eq. 13 literal, or "input"
    # --- filter recipe: unpaired statistics matching (matching.py) ---------------------
    lambda_spectral: float = 0.0    # amplitude-spectrum matching (0: off)
    spectral_target: str = "pair"   # "pair": one unrelated image; "mean": the domains' means
    spectral_cap: float = 4.0       # largest gain (and 1/smallest) of spectral_target="mean"
    lambda_histogram: float = 0.0   # grey-level histogram matching (0: off)
    # --- study options (neutral defaults) ----------------------------------------------
    warmup_steps: int = 0           # steps without the adversarial term, D idle
    lr_d_multiplier: float = 1.0    # discriminator lr = learning_rate * k (two time-scale)
    r1_gamma: float = 0.0           # R1 gradient penalty on D's real inputs (0: off)
    pool_size: int = 0              # image history pool (0: off; CycleGAN uses 50)
    # --- paired mode (train --paired) --------------------------------------------------
    paired_ssim: float = 1.0        # weight of 1 - SSIM in the paired loss
    paired_l1: float = 1.0          # weight of L1 in the paired loss
    paired_psnr: float = 0.0        # weight of the per-crop log10(MSE + floor) (-PSNR / 10)
    paired_mse_floor: float = 1e-5  # that term's floor: errors below it weigh alike
    # --- optimisation --------------------------------------------------------------
    steps: int = 0                  # training steps (0: use epochs)
    epochs: int = 50                # epochs over trainA (paper: 50); used when steps == 0
    batch_size: int = 1
    learning_rate: float = 1e-4
    beta_1: float = 0.5
    lr_decay: bool = False          # linear decay to zero over the second half
    init_generator: str = ""        # warm start: G's weights from this generator .keras file
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

    def section(self, name: str) -> dict[str, Any]:
        """The values of one section of :data:`SECTIONS`, e.g. ``cfg.section("networks")``."""
        checks.check_choice("Config.section", "name", name, SECTIONS)
        return {key: getattr(self, key) for key in SECTIONS[name]}

    def replace(self, **overrides: Any) -> "Config":
        """A copy with ``overrides`` applied (validated like :func:`get_config`)."""
        values = {**self.to_dict(), **overrides}
        return get_config(values.pop("profile"), **values)


#: The fields of :class:`Config` by concern, in field order.
SECTIONS: dict[str, tuple[str, ...]] = {
    "run": ("profile", "seed", "recipe"),
    "networks": ("image_size", "width", "bottleneck_norm", "residual", "wiener_psf",
                 "noise_map", "contrast_residual", "filter_size", "filter_gain", "tone",
                 "disc_norm", "disc_input"),
    "paper_losses": ("lambda_adv", "lambda_cycle", "lambda_identity", "gamma_edge",
                     "edge_operator", "edge_reference"),
    "matching": ("lambda_spectral", "spectral_target", "spectral_cap", "lambda_histogram"),
    "study": ("warmup_steps", "lr_d_multiplier", "r1_gamma", "pool_size"),
    "paired": ("paired_ssim", "paired_l1", "paired_psnr", "paired_mse_floor"),
    "optimisation": ("steps", "epochs", "batch_size", "learning_rate", "beta_1", "lr_decay",
                     "init_generator"),
    "engineering": ("mixed_precision", "jit_compile", "deterministic", "intra_op_threads",
                    "inter_op_threads", "checkpoint_every", "keep_checkpoints",
                    "sample_every", "log_every"),
}

#: Each training recipe's settings, applied on top of the class defaults (the paper's).
#: The filter recipe: the edge loss against the input with a light identity term, the
#: spectrum against the two domains' running mean spectra and the histogram, no
#: adversarial term (it did not help in the study and costs most of a step).
RECIPES: dict[str, dict[str, Any]] = {
    "paper": {},
    "filter": dict(edge_reference="input", lambda_identity=0.5, lambda_spectral=1.0,
                   spectral_target="mean", lambda_histogram=10.0, lambda_adv=0.0),
}

#: Options only one recipe's generator or loss terms read: another recipe refuses them.
RECIPE_OPTIONS: dict[str, tuple[str, ...]] = {
    "paper": ("bottleneck_norm", "residual", "wiener_psf", "noise_map", "contrast_residual"),
    "filter": ("filter_size", "filter_gain", "tone", "lambda_spectral", "spectral_target",
               "spectral_cap", "lambda_histogram"),
}

#: Options read only while the adversarial term is on (``lambda_adv > 0``).
ADVERSARIAL_OPTIONS = ("disc_norm", "disc_input", "warmup_steps", "lr_d_multiplier",
                       "r1_gamma", "pool_size")

_PROFILE_SETTINGS: dict[str, dict[str, Any]] = {
    "smoke": dict(recipe="filter", width=0.125, steps=6, epochs=0, checkpoint_every=3,
                  sample_every=3, log_every=1),
    # 0.06 s/step measured on 2 idle cores with one thread per op
    "book": dict(recipe="filter", width=0.25, steps=10000, epochs=0, intra_op_threads=1),
    "paper": dict(bottleneck_norm=True, checkpoint_every=1000, sample_every=1000,
                  log_every=50),
}

_CHOICES = {
    "profile": PROFILES,
    "recipe": tuple(RECIPES),
    "edge_operator": ("sobel", "kirsch"),
    "edge_reference": ("paper", "input"),
    "disc_input": ("image", "highpass", "both"),
    "tone": ("mean", "mean+spread", "none"),
    "disc_norm": ("all", "inner", "none"),
    "spectral_target": ("pair", "mean"),
}

# key: (low, high, strict): the allowed range of each number (None: unbounded). The
# upper bounds are sanity limits: a value beyond them is a typo, not a setting.
_RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "seed": (0, None, False), "image_size": (checks.SIZE_MULTIPLE, 8192, False),
    "width": (0, 16, True), "contrast_residual": (0, 10, False),
    "filter_size": (1, 255, False), "filter_gain": (0, 1e4, True),
    "lambda_adv": (0, 1e4, False), "lambda_cycle": (0, 1e4, False),
    "lambda_identity": (0, 1e4, False), "gamma_edge": (0, 1e4, False),
    "lambda_spectral": (0, 1e4, False), "spectral_cap": (1, 1e6, True),
    "lambda_histogram": (0, 1e4, False), "warmup_steps": (0, None, False),
    "lr_d_multiplier": (0, 1e3, True), "r1_gamma": (0, 1e6, False),
    "pool_size": (0, 10000, False), "steps": (0, None, False), "epochs": (0, None, False),
    "batch_size": (1, 65536, False), "learning_rate": (0, 1.0, True),
    "beta_1": (0, 1, False), "intra_op_threads": (0, 4096, False),
    "inter_op_threads": (0, 4096, False), "checkpoint_every": (1, None, False),
    "keep_checkpoints": (1, None, False), "sample_every": (0, None, False),
    "log_every": (1, None, False), "paired_ssim": (0, 1e4, False),
    "paired_l1": (0, 1e4, False), "paired_psnr": (0, 1e4, False),
    "paired_mse_floor": (0, 1.0, True),
}


def paired_loss_text(settings) -> str:
    """The paired loss of a run's settings, as text for tables.

    Parameters
    ----------
    settings : dict
        A run's configuration (``Config`` fields as saved in a run or a model file); a
        missing key has its :class:`Config` default.

    Returns
    -------
    str
        The weighted terms, e.g. ``'1 (1 - SSIM) + 1 log10(MSE + 0.0001)'``.

    Examples
    --------
    >>> paired_loss_text({})
    '1 L1 + 1 (1 - SSIM)'
    """
    default = Config()
    get = lambda key: settings.get(key, getattr(default, key))   # noqa: E731
    terms = [(get("paired_l1"), "L1"), (get("paired_ssim"), "(1 - SSIM)"),
             (get("paired_psnr"), f"log10(MSE + {get('paired_mse_floor'):g})")]
    return " + ".join(f"{weight:g} {name}" for weight, name in terms if weight)


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
        (so ``"0.5"`` from a command line is accepted for a float). ``recipe`` brings
        that recipe's settings (:data:`RECIPES`) under the other overrides.

    Returns
    -------
    config : Config

    Raises
    ------
    ValueError
        For an unknown profile, unknown keys (all named in the message), a value of the
        wrong type, outside its allowed choices or range, not finite, or set away from
        its neutral value while the chosen recipe (or a switched-off term) ignores it.

    Examples
    --------
    >>> get_config("smoke", steps=12).steps
    12
    >>> get_config("smoke", recipe="paper").lambda_adv
    1.0
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
    settings = _PROFILE_SETTINGS[profile]
    recipe = _coerce("recipe", overrides.get("recipe", settings.get("recipe", "paper")), str)
    checks.check_choice("get_config", "recipe", recipe, _CHOICES["recipe"])
    ignored = {k for name, keys in RECIPE_OPTIONS.items() if name != recipe for k in keys}
    # a profile's setting of an option the chosen recipe does not read does not apply
    settings = {k: v for k, v in settings.items() if k not in ignored}
    values = {**RECIPES[recipe], **settings, **overrides, "profile": profile,
              "recipe": recipe}
    coerced = {k: _coerce(k, v, type(getattr(Config, k))) for k, v in values.items()}
    for key, choices in _CHOICES.items():
        if key in coerced and coerced[key] not in choices:
            raise ValueError(
                f"get_config: {key}={coerced[key]!r} is not allowed; expected one of {choices}"
            )
    cfg = Config(**coerced)
    _check_ranges(cfg)
    _check_together(cfg)
    return cfg


def _check_ranges(cfg: Config) -> None:
    """Finiteness and ranges of the numbers; the multiple-of-128 crop side."""
    for key, (low, high, strict) in _RANGES.items():
        value = getattr(cfg, key)
        try:
            if isinstance(value, int):
                checks.check_int("get_config", key, value, low=low, high=high)
            else:
                checks.check_number("get_config", key, value, low=low, high=high,
                                    strict=strict)
        except ValueError:
            raise ValueError(f"get_config: {key}={value!r} must be "
                             f"{_describe(value, low, high, strict)}") from None
    checks.check_size_multiple("get_config", "image_size", cfg.image_size)
    if cfg.beta_1 >= 1:
        raise ValueError(f"get_config: beta_1={cfg.beta_1!r} must be in [0, 1)")
    if cfg.filter_size % 2 == 0:
        raise ValueError(f"get_config: filter_size={cfg.filter_size} must be odd")
    if cfg.steps == 0 and cfg.epochs == 0:
        raise ValueError("get_config: set steps > 0, or steps=0 and epochs > 0")


def _describe(value, low, high, strict) -> str:
    kind = "a finite number" if isinstance(value, float) else "an integer"
    if low is not None and high is not None:
        return f"{kind} in ({low}, {high})" if strict else f"{kind} in [{low}, {high}]"
    return f"{kind} {'>' if strict else '>='} {low}"


def _check_together(cfg: Config) -> None:
    """Refuse an option that the chosen recipe, or a switched-off term, ignores when it
    is set away from its neutral value (the class default or the recipe's setting)."""
    ignored = [(k, f"recipe={cfg.recipe!r} does not use it")
               for name, keys in RECIPE_OPTIONS.items() if name != cfg.recipe for k in keys]
    if cfg.lambda_adv == 0:
        ignored += [(k, "lambda_adv=0 trains no discriminator") for k in ADVERSARIAL_OPTIONS]
    if cfg.lambda_spectral == 0:
        ignored += [(k, "lambda_spectral=0") for k in ("spectral_target", "spectral_cap")]
    elif cfg.spectral_target == "pair":
        ignored.append(("spectral_cap", "spectral_target='pair' has no cap"))
    neutral = {**Config().to_dict(), **RECIPES[cfg.recipe]}
    for key, why in ignored:
        value = getattr(cfg, key)
        if value not in (getattr(Config, key), neutral[key]):
            raise ValueError(f"get_config: {key}={value!r} would be ignored ({why}); "
                             f"leave it at {getattr(Config, key)!r}")
    if cfg.contrast_residual and not cfg.residual:
        raise ValueError(f"get_config: contrast_residual={cfg.contrast_residual!r} scales the "
                         f"residual of residual=True; set residual=True or leave it at 0.0")


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
    except (TypeError, ValueError, OverflowError):
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
