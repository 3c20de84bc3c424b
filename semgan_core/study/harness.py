"""The study harness: train named variants of the one trainer and follow G on held-out pairs.

At CPU scale the paper's recipe stays far below its own input for thousands of steps,
and a residual generator stays at the identity. The harness compares recipes that might
fix it, fairly: every variant (:data:`semgan_core.study.variants.VARIANTS`) is a set of
config overrides of the same trainer, trained on the same data, with the same seeds and
the same step budget, and scored every ``eval_every`` steps by the PSNR and SSIM of G on
the same *validation* pairs (``valA``/``valA_gt`` of a dataset made with
``datasets.make_dataset(..., val_fraction=...)``; :mod:`semgan_core.study.scoring`).
The test split is never read, so a recipe chosen here is still tested on unseen data.

Each run trains with ``checkpoint_every = eval_every`` and keeps every checkpoint; G is
scored from each afterwards. A study resumes: :func:`run_variants` writes
``out_dir/convergence.json`` atomically after every run and skips the (variant, seed)
runs already in it; a run interrupted during training continues from its newest
checkpoint (``train(..., resume=True)``). Variants not requested but present in the
file are kept, so a study can grow. :func:`read_study` reads a study back (also one
recorded under the variants' earlier names) and :func:`summary_table` sums it up.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from semgan_core import checkpoint, config, datasets, results
from semgan_core.checks import check_int
from semgan_core.study import scoring
from semgan_core.study.variants import FORMER_NAMES

FILE_NAME = "convergence.json"
FORMAT = "semgan-convergence/2"
#: The format of studies recorded under the variants' earlier names.
FORMER_FORMAT = "semgan-convergence/1"
#: Keys the harness sets itself; variants and common overrides may not.
HARNESS_KEYS = ("profile", "seed", "steps", "epochs", "checkpoint_every", "keep_checkpoints")


def _run_one(cfg, data_dir, run_dir, pairs, *, prune, progress) -> dict:
    """Train one (variant, seed) run (resuming its checkpoints) and score its curve."""
    from semgan_core import train

    report = train.train(cfg, data_dir=data_dir, run_dir=run_dir, resume=True,
                         progress=progress)
    if report["status"] == "interrupted":    # Ctrl-C / SIGTERM: stop the study, keep state
        raise KeyboardInterrupt(f"run_variants: {run_dir} stopped by "
                                f"{report['interrupted']} at a checkpoint; run the same "
                                "study again to resume it")
    entry = scoring.curve(cfg, run_dir, *pairs)
    entry.update(wall_time_s=float(report["total_wall_time_s"]),
                 seconds_per_step=float(report["seconds_per_step"]),
                 steps_done=int(report["steps"]), status=report["status"],
                 final_losses=report["final_losses"], run_dir=str(run_dir),
                 config=cfg.to_dict())
    if prune and report["status"] == "finished":
        shutil.rmtree(Path(run_dir) / checkpoint.CHECKPOINT_DIR, ignore_errors=True)
    return entry


def _configs(variants, profile, steps, eval_every, seeds, common, image_size, max_seconds):
    """{(name, seed): Config} for every run, validated before anything trains."""
    if not isinstance(variants, dict) or not variants:
        raise ValueError(f"run_variants: variants must be a non-empty dict name -> overrides "
                         f"(e.g. {{'paper': {{'recipe': 'paper'}}}}), got {variants!r}")
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
    manifest = datasets.read_manifest(data_dir) or {}
    dataset = {k: manifest.get(k) for k in ("degradation", "seed", "size", "n_crops",
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
                 progress=True, processes=1) -> dict:
    """Train each variant for each seed under one step budget; score G every ``eval_every``.

    Parameters
    ----------
    data_dir : path-like
        A dataset from ``datasets.make_dataset(..., val_fraction > 0)``: trained on its
        train split, scored on its first ``n_eval`` validation pairs (never the test split).
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
    processes : int, optional
        Runs trained at once, each in its own worker process
        (:func:`semgan_core.workers.run_tasks`): the book profile trains on one thread
        per run, so 2 keeps both cores of a 2-core machine busy (the curves' seconds then
        come from runs that share it). ``convergence.json`` is then written once all of
        them are scored: run again after a stop, the study resumes its unfinished runs
        from their checkpoints but trains its finished ones again. 1 (default): one after
        the other, the file written after each run.

    Returns
    -------
    study : dict
        The contents of ``convergence.json``: ``settings``, ``reference`` (the
        :data:`scoring.REFERENCES` lines, ``{"psnr", "ssim"}`` each), ``variants`` ->
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
    for name, value in (("steps", steps), ("eval_every", eval_every), ("n_eval", n_eval)):
        check_int("run_variants", name, value, low=1)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("run_variants: seeds must name at least one seed, got none")
    for seed in seeds:
        check_int("run_variants", "seeds", seed, low=0)
    processes = check_int("run_variants", "processes", processes, low=1)
    data_dir, out_dir, common = Path(data_dir), Path(out_dir), dict(overrides or {})
    blurred, clean, names, infos = datasets.load_test_pairs(data_dir, n=n_eval, split="val")
    configs = _configs(variants, profile, steps, eval_every, seeds, common,
                       blurred.shape[-1], max_seconds)
    settings = _settings(data_dir, profile, steps, eval_every, n_eval, common, max_seconds,
                         names)
    path = out_dir / FILE_NAME
    study = _load_previous(path, settings, variants)
    study.update(reference=scoring.reference_lines(blurred, clean, infos),
                 versions=results.library_versions(), data_dir=str(data_dir))
    pending = []
    for (name, seed), cfg in configs.items():
        entry = study["variants"].setdefault(name, {"overrides": dict(variants[name]),
                                                    "runs": {}})
        if str(seed) in entry["runs"]:
            _say(progress, f"study: {name} seed {seed}: done, skipped")
            continue
        pending.append((name, seed, cfg))
    if processes > 1 and len(pending) > 1:
        from semgan_core import workers

        tasks = [(cfg, data_dir, out_dir / "runs" / name / f"seed{seed}", (blurred, clean),
                  prune, progress) for name, seed, cfg in pending]
        _say(progress, f"study: training {len(tasks)} runs of {steps} steps, "
                       f"{min(processes, len(tasks))} at once")
        done = workers.run_tasks(_run_task, tasks, processes=min(processes, len(tasks)))
        for (name, seed, _), entry in zip(pending, done):
            study["variants"][name]["runs"][str(seed)] = entry
    else:
        for name, seed, cfg in pending:
            _say(progress, f"study: {name} seed {seed}: training {steps} steps")
            study["variants"][name]["runs"][str(seed)] = _run_one(
                cfg, data_dir, out_dir / "runs" / name / f"seed{seed}", (blurred, clean),
                prune=prune, progress=progress)
            results.write_json(path, study)
    results.write_json(path, study)
    return read_study(path)


def _run_task(task) -> dict:
    """Worker of :func:`run_variants`: :func:`_run_one` on one picklable task."""
    cfg, data_dir, run_dir, pairs, prune, progress = task
    return _run_one(cfg, data_dir, run_dir, pairs, prune=prune, progress=progress)


def _say(enabled, line):
    if enabled:
        print(line, flush=True)


def read_study(path) -> dict:
    """A study read back from its ``convergence.json`` (or the folder holding it).

    A study recorded under the variants' earlier names (format
    ``semgan-convergence/1``) reads back under the present ones
    (:data:`semgan_core.study.variants.FORMER_NAMES`) and the present format, so a copy
    written from it reads back the same; its curves are unchanged.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file holds no study of a known format.
    """
    path = Path(path)
    path = path / FILE_NAME if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"read_study: no study at {path}")
    study = json.loads(path.read_text())
    if study.get("format") not in (FORMAT, FORMER_FORMAT):
        raise ValueError(f"read_study: {path} holds format {study.get('format')!r}, not "
                         f"{FORMAT!r}")
    if study["format"] == FORMER_FORMAT:
        study["variants"] = {FORMER_NAMES.get(name, name): entry
                             for name, entry in study["variants"].items()}
        study["format"] = FORMAT
    return study


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
