"""Convergence study: train named variants of the one trainer and follow G on held-out pairs.

NOTES.md section 8: at CPU scale the paper-faithful generator stays far below its own
input for thousands of steps, and a residual generator stays at the identity. This
module compares recipes that might fix it, fairly: every variant is a set of config
overrides of the same trainer (:func:`semgan_core.config.get_config`), trained on the same
data, with the same seeds and the same step budget, and scored every ``eval_every`` steps
by the PSNR and SSIM (:mod:`semgan_core.metrics`) of G on the same *validation* pairs
(``valA``/``valA_gt`` of a dataset made with ``data.make_dataset(..., val_fraction=...)``).
The test split is never read, so a recipe chosen here is still tested on unseen data.

How the curves are made: each run trains with ``checkpoint_every = eval_every`` and keeps
every checkpoint; afterwards G alone is restored from each checkpoint and scored (step 0
is G as initialised, built with the run's seed exactly as the trainer builds it). The
wall time at each point is the trainer's own clock (``state.json`` of the checkpoint),
so curves can also be read against seconds. Reference lines: the blurred input, and the
Wiener filter (:func:`semgan_core.baselines.wiener`) with each image's true PSF
(``degrade.kernel_from_info``) and with the assumed PSF (``degrade.ASSUMED_PSF``).

A study resumes: :func:`run_variants` writes ``out_dir/convergence.json`` atomically after
every run and skips the (variant, seed) runs already in it; a run interrupted during
training continues from its newest checkpoint (``train(..., resume=True)``). Variants not
requested but present in the file are kept, so a study can grow.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np

from semgan_core import baselines, checkpoint, config, data, degrade, images, metrics, results

FILE_NAME = "convergence.json"
FORMAT = "semgan-convergence/1"
REFERENCES = ("blurred", "wiener-true-psf", "wiener-assumed-psf")
#: Keys the harness sets itself; variants and common overrides may not.
HARNESS_KEYS = ("profile", "seed", "steps", "epochs", "checkpoint_every", "keep_checkpoints")
_WARMUP = 100           # identity warm-up steps of the "warmup" variants

#: The discriminator and loss settings the diagnostic probe found necessary (a D that sees
#: the blur, the edge loss against the input, a light identity term).
_FIXED_D = {"disc_norm": "inner", "disc_input": "highpass", "edge_reference": "input",
            "lambda_identity": 0.5}
_MATCH = {"lambda_spectral": 1.0, "lambda_histogram": 10.0}
_FILTER = {"generator": "filter"}
#: The first CPU recipe (session 2), whose spectral term matched one unrelated image.
_RECIPE_1 = {**config.CPU_RECIPE, "spectral_target": "pair"}

#: Named recipes, each its changes to the paper's recipe (``config.PAPER_RECIPE``, applied
#: first, so a variant means the same on every profile); "recipe" is the CPU recipe of
#: the book profile (``config.CPU_RECIPE``).
_CHANGES: dict[str, dict] = {
    "paper": {},
    "residual": {"residual": True},
    "warmup": {"warmup_steps": _WARMUP},
    "adv-weight": {"lambda_adv": 5.0},
    "ttur": {"lr_d_multiplier": 4.0},
    "pool": {"pool_size": 50},
    "highpass-d": {"disc_input": "highpass"},
    "edge-input": {"edge_reference": "input"},
    # the book profiles drop the degenerate bottleneck norm; this puts it back (paper)
    "bottleneck-norm": {"bottleneck_norm": True},
    # a discriminator that can see a sigma-1 blur (diagnostic probe, see models.py)
    "inner-d": {"disc_norm": "inner"},
    "fixed-d": dict(_FIXED_D),
    "residual+fixed-d": {"residual": True, **_FIXED_D},
    "residual+fixed-d+matching": {"residual": True, **_FIXED_D, **_MATCH},
    # a generator that can only deconvolve and correct contrast smoothly (filtergen.py)
    "filter": dict(_FILTER),
    "filter+fixed-d": {**_FILTER, **_FIXED_D},
    # the first CPU recipe (session 2): the spectral term against one unrelated image
    "recipe-1": dict(_RECIPE_1),
    "recipe-1+gan": {**_RECIPE_1, "lambda_adv": 1.0},
    "recipe-1-no-tone": {**_RECIPE_1, "tone": "none"},
    "recipe-1-no-histogram": {**_RECIPE_1, "lambda_histogram": 0.0},
    "recipe-1-low-cycle": {**_RECIPE_1, "lambda_cycle": 1.0, "gamma_edge": 1.0},
    # the CPU recipe (the spectral term against the domains' mean spectra) and changes
    "recipe": dict(config.CPU_RECIPE),
    "recipe+gan": {**config.CPU_RECIPE, "lambda_adv": 1.0},
    "recipe-no-tone": {**config.CPU_RECIPE, "tone": "none"},
    "recipe-no-histogram": {**config.CPU_RECIPE, "lambda_histogram": 0.0},
    "recipe-cap8": {**config.CPU_RECIPE, "spectral_cap": 8.0},
    "recipe-x10": {**config.CPU_RECIPE, "lambda_spectral": 10.0},
    "recipe-x10-no-tone": {**config.CPU_RECIPE, "lambda_spectral": 10.0, "tone": "none"},
}
VARIANTS: dict[str, dict] = {name: {**config.PAPER_RECIPE, **changes}
                             for name, changes in _CHANGES.items()}


# ---- scoring ---------------------------------------------------------------------------
def _mean_scores(restored, clean) -> dict[str, float]:
    """Mean PSNR and SSIM of restored images against their clean originals."""
    return {"psnr": float(np.mean([metrics.psnr(c, r) for c, r in zip(clean, restored)])),
            "ssim": float(np.mean([metrics.ssim(c, r) for c, r in zip(clean, restored)]))}


def reference_lines(blurred, clean, infos) -> dict[str, dict[str, float]]:
    """Mean PSNR / SSIM of the blurred input and of Wiener (true and assumed PSF).

    Parameters
    ----------
    blurred, clean : ndarray, shape (N, H, W), float32 in [0, 1]
    infos : list of dict
        Degradation infos (``data.load_test_pairs``), for ``degrade.kernel_from_info``.

    Returns
    -------
    lines : dict
        ``{name: {"psnr": float, "ssim": float}}`` for each name in :data:`REFERENCES`.
    """
    if any(info is None for info in infos):
        raise ValueError("reference_lines: every image needs its degradation info (the "
                         "dataset's manifest.json); got None")
    true = [baselines.wiener(b, degrade.kernel_from_info(i)) for b, i in zip(blurred, infos)]
    assumed = [baselines.wiener(b, degrade.ASSUMED_PSF) for b in blurred]
    return {"blurred": _mean_scores(blurred, clean),
            "wiener-true-psf": _mean_scores(true, clean),
            "wiener-assumed-psf": _mean_scores(assumed, clean)}


def score_generator(model, blurred, clean, *, batch_size=4) -> dict[str, float]:
    """Mean PSNR and SSIM of ``model`` (a generator, model range) on (blurred, clean) pairs.

    ``blurred`` and ``clean`` are (N, H, W) float32 in [0, 1], H and W multiples of 128.
    """
    restored = []
    for start in range(0, len(blurred), batch_size):
        x = images.to_model_range(np.asarray(blurred[start:start + batch_size]))[..., None]
        y = np.asarray(model(x, training=False), np.float32)[..., 0]
        restored.extend(images.from_model_range(y))
    return _mean_scores(restored, clean)


def _curve(cfg, run_dir, blurred, clean) -> dict[str, list]:
    """Score G at step 0 (as initialised) and at every checkpoint of ``run_dir``."""
    import keras
    import tensorflow as tf

    from semgan_core import train

    keras.backend.clear_session()
    G = train.Trainer(cfg).models["G"]       # the trainer's own construction and seed
    curve = {"steps": [0], "seconds": [0.0], **{k: [v] for k, v in
                                                score_generator(G, blurred, clean).items()}}
    for step, folder in checkpoint.list_checkpoints(run_dir):
        tf.train.Checkpoint(G=G).read(str(folder / "ckpt")).expect_partial()
        scores = score_generator(G, blurred, clean)
        curve["steps"].append(step)
        curve["seconds"].append(float(checkpoint.read_state(folder)["wall_time_s"]))
        for key, value in scores.items():
            curve[key].append(value)
    return curve


# ---- one run -----------------------------------------------------------------------------
def _run_one(cfg, data_dir, run_dir, pairs, *, prune, progress) -> dict:
    """Train one (variant, seed) run (resuming its checkpoints) and score its curve."""
    from semgan_core import train

    report = train.train(cfg, data_dir=data_dir, run_dir=run_dir, resume=True,
                         progress=progress)
    if report["status"] == "interrupted":    # Ctrl-C / SIGTERM: stop the study, keep state
        raise KeyboardInterrupt(f"convergence: {run_dir} stopped by {report['interrupted']} "
                                "at a checkpoint; run the same study again to resume it")
    entry = _curve(cfg, run_dir, *pairs)
    entry.update(wall_time_s=float(report["total_wall_time_s"]),
                 seconds_per_step=float(report["seconds_per_step"]),
                 steps_done=int(report["steps"]), status=report["status"],
                 final_losses=report["final_losses"], run_dir=str(run_dir),
                 config=cfg.to_dict())
    if prune and report["status"] == "finished":
        shutil.rmtree(Path(run_dir) / checkpoint.CHECKPOINT_DIR, ignore_errors=True)
    return entry


# ---- the study ---------------------------------------------------------------------------
def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"run_variants: {name} must be an integer >= {low}, got {value!r}")


def _configs(variants, profile, steps, eval_every, seeds, common, image_size, max_seconds):
    """{(name, seed): Config} for every run, validated before anything trains."""
    if not isinstance(variants, dict) or not variants:
        raise ValueError(f"run_variants: variants must be a non-empty dict name -> overrides "
                         f"(e.g. {{'paper': {{}}}}), got {variants!r}")
    extra = {} if max_seconds is None else {"max_seconds": max_seconds}
    if extra and "max_seconds" not in config.config_keys():
        raise ValueError("run_variants: max_seconds needs a trainer that stops on a time "
                         "budget (a 'max_seconds' config key), and this one has none; "
                         "compare at an equal step budget (the curves record seconds)")
    out = {}
    for name, overrides in variants.items():
        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise ValueError(f"run_variants: variant names must be non-empty strings without "
                             f"'/', got {name!r}")
        if not isinstance(overrides, dict):
            raise ValueError(f"run_variants: the overrides of {name!r} must be a dict of "
                             f"config keys, got {type(overrides).__name__}")
        clash = sorted(set(overrides) & set(HARNESS_KEYS) | set(common) & set(HARNESS_KEYS))
        if clash:
            raise ValueError(f"run_variants: {name!r} sets {clash}, which the harness sets "
                             f"itself ({', '.join(HARNESS_KEYS)}); use steps= and seeds=")
        for seed in seeds:
            out[name, int(seed)] = config.get_config(
                profile, **{"image_size": image_size, **common, **overrides, **extra},
                seed=int(seed), steps=steps, checkpoint_every=eval_every,
                keep_checkpoints=steps // eval_every + 8)  # + signal stops
    return out


def _settings(data_dir, profile, steps, eval_every, n_eval, common, max_seconds, names):
    manifest = data.read_manifest(data_dir) or {}
    dataset = {k: manifest.get(k) for k in ("recipe", "seed", "size", "n_crops",
                                            "test_fraction", "val_fraction", "source")}
    return {"profile": profile, "steps": steps, "eval_every": eval_every, "n_eval": n_eval,
            "split": "val", "overrides": dict(common), "max_seconds": max_seconds,
            "dataset": dataset, "eval_names": list(names)}


def _as_json(value):
    """``value`` as it reads back from a JSON file (for comparisons with one)."""
    return json.loads(json.dumps(value, default=str))


def _load_previous(path, settings, variants) -> dict:
    """The study already in ``path`` (checked to match), or a new empty one."""
    if not path.is_file():
        return {"format": FORMAT, "settings": settings, "variants": {}}
    old = json.loads(path.read_text())
    differ = [k for k in settings
              if old.get("settings", {}).get(k) != _as_json(settings[k])]
    if old.get("format") != FORMAT or differ:
        raise ValueError(f"run_variants: {path} holds a study with other settings "
                         f"({', '.join(differ) or 'format'}); use another out_dir")
    for name, overrides in variants.items():
        done = old["variants"].get(name)
        if done is not None and done["overrides"] != _as_json(dict(overrides)):
            raise ValueError(f"run_variants: {path} has variant {name!r} with overrides "
                             f"{done['overrides']}, now {dict(overrides)}; rename the variant")
    return old


def run_variants(data_dir, variants, *, profile="book", steps, eval_every, seeds=(0,),
                 out_dir, n_eval=16, overrides=None, max_seconds=None, prune=True,
                 progress=True) -> dict:
    """Train each variant for each seed under one step budget; score G every ``eval_every``.

    Parameters
    ----------
    data_dir : path-like
        A dataset from ``data.make_dataset(..., val_fraction > 0)``: trained on its train
        split, scored on its first ``n_eval`` validation pairs (never the test split).
    variants : dict
        ``{name: overrides}``, e.g. ``{k: VARIANTS[k] for k in ("paper", "residual")}``.
    profile : {'smoke', 'book', 'paper'}
    steps, eval_every : int
        Step budget of every run, and the scoring interval (also the final step).
    seeds : sequence of int
        One run per variant per seed (TensorFlow initialisation and data order).
    out_dir : path-like
        Receives ``convergence.json`` and ``runs/<variant>/seed<k>/`` run folders.
    n_eval : int
        Validation pairs scored.
    overrides : dict, optional
        Config overrides common to every variant (a variant's own win). ``image_size``
        defaults to the dataset's crop size.
    max_seconds : float, optional
        Equal wall-clock budget; only with a trainer that supports it (ValueError
        otherwise: compare on the step budget, the curves record seconds).
    prune : bool
        Delete a finished run's checkpoints once scored (they are large; the run's
        ``generator_G.keras``, ``losses.csv``, samples and report stay).
    progress : bool
        Print a line per run and show the trainer's progress bar.

    Returns
    -------
    study : dict
        The contents of ``convergence.json``: ``settings``, ``reference`` (the
        :data:`REFERENCES` lines, ``{"psnr", "ssim"}`` each), ``variants`` ->
        name -> ``{"overrides", "runs": {seed (str): run}}``; a run holds equal-length
        lists ``steps``, ``psnr``, ``ssim``, ``seconds`` (trainer wall time), plus
        ``wall_time_s``, ``seconds_per_step``, ``status``, ``config`` and ``run_dir``.

    Raises
    ------
    ValueError
        For invalid arguments or variant overrides (checked before anything trains), a
        variant that sets a harness key, or an ``out_dir`` holding a study with other
        settings or another variant under the same name.
    FileNotFoundError
        If the dataset has no validation split.
    """
    for name, value, low in (("steps", steps, 1), ("eval_every", eval_every, 1),
                             ("n_eval", n_eval, 1)):
        _check_int(name, value, low)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("run_variants: seeds must name at least one seed, got none")
    for seed in seeds:
        _check_int("seeds", seed, 0)
    data_dir, out_dir, common = Path(data_dir), Path(out_dir), dict(overrides or {})
    blurred, clean, names, infos = data.load_test_pairs(data_dir, n=n_eval, split="val")
    configs = _configs(variants, profile, steps, eval_every, seeds, common,
                       blurred.shape[-1], max_seconds)
    settings = _settings(data_dir, profile, steps, eval_every, n_eval, common, max_seconds,
                         names)
    path = out_dir / FILE_NAME
    study = _load_previous(path, settings, variants)
    study.update(reference=reference_lines(blurred, clean, infos),
                 versions=results.library_versions(), data_dir=str(data_dir))
    for (name, seed), cfg in configs.items():
        entry = study["variants"].setdefault(name, {"overrides": dict(variants[name]),
                                                    "runs": {}})
        if str(seed) in entry["runs"]:
            _say(progress, f"convergence: {name} seed {seed}: done, skipped")
            continue
        _say(progress, f"convergence: {name} seed {seed}: training {steps} steps")
        entry["runs"][str(seed)] = _run_one(cfg, data_dir, out_dir / "runs" / name /
                                            f"seed{seed}", (blurred, clean), prune=prune,
                                            progress=progress)
        results.write_json(path, study)
    results.write_json(path, study)
    return json.loads(path.read_text())


def _say(enabled, line):
    if enabled:
        print(line, flush=True)


# ---- reading a study ---------------------------------------------------------------------
def summary_table(study) -> list[dict]:
    """One row per (variant, seed): final and best PSNR, final SSIM, seconds."""
    rows = []
    for name, entry in study["variants"].items():
        for seed, run in sorted(entry["runs"].items(), key=lambda kv: int(kv[0])):
            best = int(np.argmax(run["psnr"]))
            rows.append({"variant": name, "seed": int(seed), "steps": run["steps"][-1],
                         "psnr": run["psnr"][-1], "ssim": run["ssim"][-1],
                         "best_psnr": run["psnr"][best], "best_step": run["steps"][best],
                         "seconds": run["wall_time_s"]})
    return rows


def _band(runs, key, x):
    """x (step, or mean seconds), and mean, min, max over seeds of ``key`` on the steps
    all runs share."""
    steps = sorted(set.intersection(*(set(r["steps"]) for r in runs)))
    where = [[r["steps"].index(s) for s in steps] for r in runs]
    values = np.array([[r[key][i] for i in ix] for r, ix in zip(runs, where)], float)
    xs = (np.asarray(steps, float) if x == "steps" else
          np.array([[r["seconds"][i] for i in ix] for r, ix in zip(runs, where)]).mean(0))
    return xs, values.mean(0), values.min(0), values.max(0)


def plot_curves(study, path=None, *, x="steps", variants=None):
    """PSNR and SSIM against training step, one line per variant, reference lines.

    Parameters
    ----------
    study : dict
        From :func:`run_variants` (or ``convergence.json`` read back).
    path : path-like, optional
        Also save the figure there (PNG, 150 dpi).
    x : {'steps', 'seconds'}
        Horizontal axis: training step or trainer wall time.
    variants : sequence of str, optional
        Variants to draw (default: all).

    Returns
    -------
    figure : matplotlib.figure.Figure
        Two panels (PSNR in dB, SSIM); each variant's mean over seeds, with a band from
        the minimum to the maximum when there are several seeds; dashed horizontal
        lines for the blurred input and Wiener (true and assumed PSF).
    """
    import matplotlib.pyplot as plt

    if x not in ("steps", "seconds"):
        raise ValueError(f"plot_curves: x must be 'steps' or 'seconds', got {x!r}")
    names = list(variants or study["variants"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    for name in names:
        runs = list(study["variants"][name]["runs"].values())
        if not runs:
            continue
        for ax, key in zip(axes, ("psnr", "ssim")):
            steps, mean, low, high = _band(runs, key, x)
            line, = ax.plot(steps, mean, marker=".", label=name)
            if len(runs) > 1:
                ax.fill_between(steps, low, high, color=line.get_color(), alpha=0.2)
    styles = dict(zip(REFERENCES, ("--", ":", "-.")))
    for ax, key, unit in zip(axes, ("psnr", "ssim"), ("PSNR (dB)", "SSIM")):
        for ref, values in study.get("reference", {}).items():
            if math.isfinite(values[key]):
                ax.axhline(values[key], color="0.3", ls=styles.get(ref, "--"), lw=1,
                           label=ref)
        ax.set(xlabel="training step" if x == "steps" else "training time (s)",
               ylabel=unit, title=f"{unit} on validation pairs")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=8, loc="best")
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=150)
    return fig
